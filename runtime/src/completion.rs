//! `completion/complete` for prompt arguments and template variables.

use crate::error::McpError;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The protocol caps one answer at 100 values.
const MAX_VALUES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Ref {
    Prompt(String),
    Resource(String),
}

impl Ref {
    pub(crate) fn from_value(v: &Value) -> Result<Ref, String> {
        match v.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => v
                .get("name")
                .and_then(Value::as_str)
                .map(|n| Ref::Prompt(n.to_owned()))
                .ok_or_else(|| "ref/prompt needs a `name`".into()),
            Some("ref/resource") => v
                .get("uri")
                .and_then(Value::as_str)
                .map(|u| Ref::Resource(u.to_owned()))
                .ok_or_else(|| "ref/resource needs a `uri`".into()),
            _ => Err("ref.type must be ref/prompt or ref/resource".into()),
        }
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    values: HashMap<(Ref, String), Vec<String>>,
}

impl Registry {
    pub(crate) fn new(values: HashMap<(Ref, String), Vec<String>>) -> Self {
        Registry { values }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub(crate) fn complete(
        &self,
        params: Option<&Value>,
        known: impl Fn(&Ref) -> bool,
    ) -> Result<Value, McpError> {
        let params =
            params.ok_or_else(|| McpError::invalid_params("completion/complete needs params"))?;
        let r = Ref::from_value(params.get("ref").unwrap_or(&Value::Null))
            .map_err(McpError::invalid_params)?;
        if !known(&r) {
            return Err(McpError::invalid_params(format!(
                "unknown completion reference {r:?}"
            )));
        }
        let arg = params
            .get("argument")
            .ok_or_else(|| McpError::invalid_params("missing `argument`"))?;
        let name = arg
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| McpError::invalid_params("argument.name must be a string"))?;
        let typed = arg
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        let matching: Vec<&String> = self
            .values
            .get(&(r, name.to_owned()))
            .into_iter()
            .flatten()
            .filter(|v| v.to_lowercase().starts_with(&typed))
            .collect();
        let total = matching.len();
        let values: Vec<&String> = matching.into_iter().take(MAX_VALUES).collect();
        Ok(
            json!({ "completion": { "values": values, "total": total, "hasMore": total > MAX_VALUES } }),
        )
    }
}
