//! `logging/setLevel` and `notifications/message`.

use crate::jsonrpc::Message;
use crate::model::LogLevel;
use crate::session::Session;
use serde_json::{Value, json};

/// Until the client picks a level, send `info` and above.
pub(crate) const DEFAULT_LEVEL: LogLevel = LogLevel::Info;

pub(crate) fn enabled(session: &Session, level: LogLevel) -> bool {
    level >= session.log_level().unwrap_or(DEFAULT_LEVEL)
}

pub(crate) fn message(level: LogLevel, logger: Option<&str>, data: Value) -> Message {
    let mut params = json!({ "level": level, "data": data });
    if let Some(logger) = logger {
        params["logger"] = json!(logger);
    }
    Message::notification("notifications/message", params)
}
