//! `prompts/list` and `prompts/get`. A prompt is either a list of message
//! templates rendered with the caller's arguments, or a handler.

use crate::context::RequestContext;
use crate::error::McpError;
use crate::model::GetPromptResult;
use crate::pagination;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type PromptFn = Arc<
    dyn Fn(
            RequestContext,
            Map<String, Value>,
        ) -> BoxFuture<'static, Result<GetPromptResult, McpError>>
        + Send
        + Sync,
>;

pub(crate) enum Body {
    /// PromptMessage objects whose strings may hold `{{argument}}`.
    Messages(Vec<Value>),
    Handler(PromptFn),
}

pub(crate) struct Prompt {
    pub name: String,
    pub descriptor: Value,
    pub body: Body,
}

pub(crate) struct Registry {
    by_name: HashMap<String, Prompt>,
    pages: Vec<Value>,
}

impl Registry {
    pub(crate) fn new(prompts: Vec<Prompt>, page_size: usize) -> Self {
        let listed: Vec<Value> = prompts.iter().map(|p| p.descriptor.clone()).collect();
        Registry {
            pages: pagination::paginate(&listed, "prompts", page_size),
            by_name: prompts.into_iter().map(|p| (p.name.clone(), p)).collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub(crate) fn list(&self, params: Option<&Value>) -> Result<Value, McpError> {
        pagination::select(&self.pages, params)
    }

    pub(crate) async fn get(
        &self,
        ctx: RequestContext,
        params: Option<&Value>,
    ) -> Result<Value, McpError> {
        let name = params
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| McpError::invalid_params("prompts/get needs a string `name`"))?;
        let prompt = self
            .by_name
            .get(name)
            .ok_or_else(|| McpError::invalid_params(format!("Unknown prompt: {name}")))?;
        let args = match params.and_then(|p| p.get("arguments")) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(McpError::invalid_params(
                    "prompt arguments must be an object",
                ));
            }
        };
        if let Some((k, _)) = args.iter().find(|(_, v)| !v.is_string()) {
            return Err(McpError::invalid_params(format!(
                "prompt argument `{k}` must be a string"
            )));
        }
        for declared in prompt
            .descriptor
            .get("arguments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let required = declared
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let arg = declared
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if required && !args.contains_key(arg) {
                return Err(McpError::invalid_params(format!(
                    "missing required argument `{arg}` for prompt {name}"
                )));
            }
        }
        match &prompt.body {
            Body::Messages(messages) => {
                let rendered: Vec<Value> = messages.iter().map(|m| render(m, &args)).collect();
                let mut result = Map::new();
                if let Some(d) = prompt.descriptor.get("description") {
                    result.insert("description".into(), d.clone());
                }
                result.insert("messages".into(), Value::Array(rendered));
                Ok(Value::Object(result))
            }
            Body::Handler(h) => {
                let r = h(ctx, args).await?;
                serde_json::to_value(r).map_err(|e| McpError::internal(e.to_string()))
            }
        }
    }
}

/// Substitute `{{name}}` in every string except base64 payloads. Arguments
/// are plain text: nothing in them is interpreted.
fn render(v: &Value, args: &Map<String, Value>) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(s, args)),
        Value::Array(a) => Value::Array(a.iter().map(|x| render(x, args)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let keep = matches!(k.as_str(), "data" | "blob" | "mimeType" | "type" | "role");
                    (k.clone(), if keep { x.clone() } else { render(x, args) })
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn substitute(s: &str, args: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match args.get(key).and_then(Value::as_str) {
                    Some(v) => out.push_str(v),
                    None if args.contains_key(key) => {}
                    // Optional argument not given: renders as empty.
                    None => {}
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_arguments_as_plain_text() {
        let args = json!({"name": "{{age}}", "age": "3"})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            substitute("Hi {{ name }}, {{missing}}!", &args),
            "Hi {{age}}, !"
        );
        let msg = json!({"role": "user", "content": {"type": "image", "data": "{{name}}", "mimeType": "image/png"}});
        assert_eq!(
            render(&msg, &args),
            msg,
            "base64 payloads are never rendered"
        );
        assert_eq!(substitute("unclosed {{name", &args), "unclosed {{name");
    }
}
