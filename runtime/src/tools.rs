//! `tools/list` and `tools/call`: arguments are checked against the input
//! schema before the handler runs; structured output against the output schema.

use crate::context::RequestContext;
use crate::error::{McpError, ToolError};
use crate::model::CallToolResult;
use crate::pagination;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

pub(crate) type ToolFn = Arc<
    dyn Fn(RequestContext, Value) -> BoxFuture<'static, Result<CallToolResult, ToolError>>
        + Send
        + Sync,
>;

pub(crate) struct Tool {
    pub descriptor: Value,
    pub input: LazySchema,
    pub output: Option<LazySchema>,
    pub handler: ToolFn,
    pub enabled: AtomicBool,
    /// Whether the tool-call hook wraps it (not the compact surface's
    /// `call_tool`: the hook sees the tool that one calls).
    pub hooked: bool,
}

/// Valid tool names per 2025-11-25: 1-128 of A-Z a-z 0-9 _ - .
pub(crate) fn is_valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

pub(crate) fn compile(schema: &Value, what: &str) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| format!("{what} is not a valid JSON Schema: {e}"))
}

/// A schema compiled on first use. Compiling every schema of a large API at
/// start-up (Kubernetes: 1,067 tools) would delay the first answer by
/// seconds; the generator has already checked them, and `ServerBuilder::
/// check_schemas` compiles them all up front for those who want it.
pub(crate) struct LazySchema {
    what: &'static str,
    schema: Value,
    compiled: OnceLock<Result<jsonschema::Validator, String>>,
}

impl LazySchema {
    pub(crate) fn new(what: &'static str, schema: Value) -> Self {
        LazySchema {
            what,
            schema,
            compiled: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> Result<&jsonschema::Validator, McpError> {
        self.compiled
            .get_or_init(|| compile(&self.schema, self.what))
            .as_ref()
            .map_err(|e| McpError::internal(e.clone()))
    }

    /// Compile now; the error names what is wrong.
    pub(crate) fn check(&self) -> Result<(), String> {
        self.get().map(|_| ()).map_err(|e| e.0.message)
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    order: Vec<Arc<Tool>>,
    by_name: HashMap<String, Arc<Tool>>,
    pages: RwLock<Arc<Vec<Value>>>,
    page_size: usize,
}

impl Registry {
    pub(crate) fn new(tools: Vec<Tool>, page_size: usize) -> Self {
        let order: Vec<Arc<Tool>> = tools.into_iter().map(Arc::new).collect();
        let by_name = order
            .iter()
            .filter_map(|t| Some((t.descriptor.get("name")?.as_str()?.to_owned(), t.clone())))
            .collect();
        let r = Registry {
            order,
            by_name,
            pages: RwLock::default(),
            page_size,
        };
        r.rebuild_pages();
        r
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn rebuild_pages(&self) {
        let items: Vec<Value> = self
            .order
            .iter()
            .filter(|t| t.enabled.load(Ordering::Relaxed))
            .map(|t| t.descriptor.clone())
            .collect();
        let pages = Arc::new(pagination::paginate(&items, "tools", self.page_size));
        *self.pages.write().unwrap_or_else(|e| e.into_inner()) = pages;
    }

    pub(crate) fn list(&self, params: Option<&Value>) -> Result<Value, McpError> {
        let pages = self.pages.read().unwrap_or_else(|e| e.into_inner()).clone();
        pagination::select(&pages, params)
    }

    /// Returns whether anything changed.
    pub(crate) fn set_enabled(&self, name: &str, enabled: bool) -> bool {
        let Some(tool) = self.by_name.get(name) else {
            return false;
        };
        if tool.enabled.swap(enabled, Ordering::Relaxed) == enabled {
            return false;
        }
        self.rebuild_pages();
        true
    }

    fn get(&self, name: &str) -> Option<&Arc<Tool>> {
        self.by_name
            .get(name)
            .filter(|t| t.enabled.load(Ordering::Relaxed))
    }

    pub(crate) async fn call(
        &self,
        ctx: RequestContext,
        params: Option<Value>,
    ) -> Result<Value, McpError> {
        let mut params = params.unwrap_or(Value::Null);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| McpError::invalid_params("tools/call needs a string `name`"))?
            .to_owned();
        let name = name.as_str();
        let tool = self
            .get(name)
            .ok_or_else(|| McpError::invalid_params(format!("Unknown tool: {name}")))?;
        // Moved out, not copied: the arguments can be the bulk of a message.
        let args = match params.as_object_mut().and_then(|p| p.remove("arguments")) {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(a) => a,
        };
        drop(params);
        Self::run(tool, ctx, name, args).await
    }

    /// `tools/call` of the tool `name` whether it is listed or not (the
    /// `call_tool` meta-tool of the compact surface): the same checks,
    /// errors and result as a direct call.
    #[cfg(feature = "surface")]
    pub(crate) async fn call_by_name(
        &self,
        ctx: RequestContext,
        name: &str,
        args: Value,
    ) -> Result<Value, McpError> {
        let tool = self
            .by_name
            .get(name)
            .ok_or_else(|| McpError::invalid_params(format!("Unknown tool: {name}")))?;
        let args = match args {
            Value::Null => Value::Object(Default::default()),
            a => a,
        };
        Self::run(tool, ctx, name, args).await
    }

    /// A tool's descriptor, listed or not.
    #[cfg(feature = "surface")]
    pub(crate) fn descriptor(&self, name: &str) -> Option<&Value> {
        self.by_name.get(name).map(|t| &t.descriptor)
    }

    /// Whether `name` is a tool that `tools/list` shows.
    #[cfg(feature = "surface")]
    pub(crate) fn is_enabled(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// [`Registry::set_enabled`] for many tools, the pages rebuilt once;
    /// returns whether anything changed.
    #[cfg(feature = "surface")]
    pub(crate) fn set_enabled_many<'a>(
        &self,
        changes: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> bool {
        let mut changed = false;
        for (name, enabled) in changes {
            if let Some(tool) = self.by_name.get(name) {
                changed |= tool.enabled.swap(enabled, Ordering::Relaxed) != enabled;
            }
        }
        if changed {
            self.rebuild_pages();
        }
        changed
    }

    async fn run(
        tool: &Arc<Tool>,
        ctx: RequestContext,
        name: &str,
        args: Value,
    ) -> Result<Value, McpError> {
        if let Some(text) = invalid_arguments(tool, name, &args)? {
            return Ok(to_value(CallToolResult::error(text)));
        }
        // The tool-call hook, if the server has one, around the handler.
        let result = match crate::hook::call(tool, ctx, name, args).await {
            Ok(r) => r,
            Err(e) => CallToolResult::error(e.message),
        };
        if let Some(output) = &tool.output
            && !result.is_error
        {
            let Some(structured) = &result.structured_content else {
                return Err(McpError::internal(format!(
                    "tool {name} declares an outputSchema but returned no structuredContent"
                )));
            };
            if let Some(e) = output.get()?.iter_errors(structured).next() {
                return Err(McpError::internal(format!(
                    "tool {name} returned structuredContent that does not match its outputSchema: {e}"
                )));
            }
        }
        Ok(to_value(result))
    }
}

/// What is wrong with `args` for `tool`, as the model reads it; None when
/// they are valid.
pub(crate) fn invalid_arguments(
    tool: &Tool,
    name: &str,
    args: &Value,
) -> Result<Option<String>, McpError> {
    let problems: Vec<String> = tool
        .input
        .get()?
        .iter_errors(args)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    Ok((!problems.is_empty())
        .then(|| format!("Invalid arguments for tool {name}: {}", problems.join("; "))))
}

/// The result as JSON, its structured content moved rather than copied
/// (it can be as large as an upstream response).
fn to_value(mut r: CallToolResult) -> Value {
    let structured = r.structured_content.take();
    let mut v = serde_json::to_value(r).unwrap_or_else(|e| {
        serde_json::json!({
            "content": [{ "type": "text", "text": format!("unserializable result: {e}") }],
            "isError": true
        })
    });
    if let (Some(s), Some(map)) = (structured, v.as_object_mut()) {
        // Where serde would have put it: right after `content`.
        let at = usize::from(map.contains_key("content"));
        map.shift_insert(at, "structuredContent".into(), s);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_name_rules() {
        for ok in ["a", "get_user", "admin.tools-list", "A9", &"x".repeat(128)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "é", "a,b", &"x".repeat(129)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
