//! `initialize` and version negotiation.

use crate::error::McpError;
use crate::session::{ClientInfo, Session};
use serde_json::{Map, Value};

pub(crate) const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";
/// Newest first.
pub(crate) const SUPPORTED_PROTOCOL_VERSIONS: &[&str] =
    &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

pub(crate) fn is_supported(version: &str) -> bool {
    SUPPORTED_PROTOCOL_VERSIONS.contains(&version)
}

/// The client's version if we speak it, else our latest (the client then
/// decides whether to go on).
pub(crate) fn negotiate(requested: &str) -> &'static str {
    SUPPORTED_PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == requested)
        .copied()
        .unwrap_or(LATEST_PROTOCOL_VERSION)
}

pub(crate) fn initialize(
    session: &Session,
    params: Option<&Value>,
    info: &Value,
    capabilities: &Value,
    instructions: Option<&str>,
) -> Result<Value, McpError> {
    let params = params.ok_or_else(|| McpError::invalid_params("initialize needs params"))?;
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params("initialize needs a string `protocolVersion`"))?;
    let version = negotiate(requested);
    session.set_client(ClientInfo {
        protocol_version: version.to_owned(),
        capabilities: params
            .get("capabilities")
            .cloned()
            .unwrap_or(Value::Object(Map::new())),
        info: params.get("clientInfo").cloned().unwrap_or(Value::Null),
    });
    let mut result = Map::new();
    result.insert("protocolVersion".into(), Value::String(version.to_owned()));
    result.insert("capabilities".into(), capabilities.clone());
    result.insert("serverInfo".into(), info.clone());
    if let Some(i) = instructions {
        result.insert("instructions".into(), Value::String(i.to_owned()));
    }
    Ok(Value::Object(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_down_or_offers_latest() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2024-11-05"), "2024-11-05");
        assert_eq!(negotiate("1999-01-01"), LATEST_PROTOCOL_VERSION);
    }
}
