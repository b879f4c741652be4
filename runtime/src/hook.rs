//! The tool-call hook: one async function around every tool call, in the
//! manner of axum's `middleware::from_fn` (`ServerBuilder::tool_call_hook`).
//!
//! It runs after the arguments were checked against the tool's input
//! schema (an invalid call never reaches it) and before the output check
//! (what it returns is checked like a handler's result). It sees every
//! `tools/call` exactly once: a handler tool, an upstream (OpenAPI) tool,
//! a surface meta-tool, and for the compact surface's `call_tool` the real
//! tool that one calls (not `call_tool` itself).

use crate::context::RequestContext;
use crate::error::{BuildError, ToolError};
use crate::extension::Extension;
use crate::model::CallToolResult;
use crate::tools::{Tool, invalid_arguments};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use std::any::Any;
use std::future::Future;
use std::sync::Arc;

type HookFn =
    dyn Fn(ToolCall, Next) -> BoxFuture<'static, Result<CallToolResult, ToolError>> + Send + Sync;

/// One tool call as the hook sees it: the tool's name, its arguments
/// (already valid against the input schema) and the request's context.
pub struct ToolCall {
    tool: Arc<Tool>,
    arguments: Value,
    changed: bool,
    ctx: RequestContext,
}

impl ToolCall {
    /// The name of the tool called (for the compact surface's `call_tool`,
    /// the tool it calls).
    pub fn name(&self) -> &str {
        self.tool.name()
    }
    /// The arguments, valid against the tool's input schema.
    pub fn arguments(&self) -> &Value {
        &self.arguments
    }
    /// The arguments, to change: they are checked against the input schema
    /// again by [`Next::run`] (an invalid change gets the `isError` result
    /// of any invalid call, and the handler does not run).
    pub fn arguments_mut(&mut self) -> &mut Value {
        self.changed = true;
        &mut self.arguments
    }
    /// The request's context, which the handler gets.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }
    /// The request's context, to change: values put in
    /// [`RequestContext::extensions_mut`] are there for the handler (and for
    /// everything the handler passes the context to).
    pub fn context_mut(&mut self) -> &mut RequestContext {
        &mut self.ctx
    }
}

/// The rest of the call: [`Next::run`] runs the tool's handler. A hook
/// that returns without running it refuses the call.
pub struct Next {
    tool: Arc<Tool>,
}

impl Next {
    /// Run the tool with `call`'s arguments and context. Arguments changed
    /// through [`ToolCall::arguments_mut`] are checked again first.
    pub async fn run(self, call: ToolCall) -> Result<CallToolResult, ToolError> {
        if call.changed
            && let Some(text) =
                invalid_arguments(&self.tool, &call.arguments).map_err(ToolError::from)?
        {
            return Ok(CallToolResult::error(text));
        }
        (self.tool.handler)(call.ctx, call.arguments).await
    }
}

/// The hook a server was built with (kept as a plug-in: `extension.rs`).
#[derive(Default)]
pub(crate) struct HookBuilder {
    hook: Option<Arc<HookFn>>,
    twice: bool,
}

pub(crate) struct Hook(Arc<HookFn>);

impl Extension for HookBuilder {
    fn finish(
        self: Box<Self>,
        _info: &Value,
    ) -> Result<Arc<dyn Any + Send + Sync>, Vec<BuildError>> {
        if self.twice {
            return Err(vec![BuildError::Invalid {
                what: "tool_call_hook".into(),
                message: "declared twice (one hook wraps every call; compose inside it)".into(),
            }]);
        }
        Ok(match self.hook {
            Some(h) => Arc::new(Hook(h)),
            None => Arc::new(()),
        })
    }
}

impl crate::builder::ServerBuilder {
    /// Wrap every tool call in `hook`: it gets the call ([`ToolCall`]: name,
    /// arguments, context) and the rest of it ([`Next`]), and can set
    /// per-request values in the context, refuse (return without
    /// `next.run`), change the result, audit. One hook per server.
    ///
    /// ```
    /// # use mcpgen_runtime::prelude::*;
    /// #[derive(Clone)]
    /// struct Tenant(String);
    ///
    /// let server = Server::builder(r#"{"name":"demo","version":"1"}"#)
    ///     .tool(r#"{"name":"whoami","inputSchema":{"type":"object"}}"#,
    ///         |ctx: RequestContext, _: Value| async move {
    ///             let tenant = ctx.extensions().get::<Tenant>().map(|t| t.0.clone());
    ///             Ok(CallToolResult::text(tenant.unwrap_or_default()))
    ///         })
    ///     .tool_call_hook(|mut call: ToolCall, next: Next| async move {
    ///         let tenant = call.context().http_headers()
    ///             .and_then(|h| h.get("x-tenant")?.to_str().ok().map(str::to_owned));
    ///         let Some(tenant) = tenant else {
    ///             return Err(ToolError::new("no tenant"));   // refused
    ///         };
    ///         call.context_mut().extensions_mut().insert(Tenant(tenant));
    ///         next.run(call).await
    ///     })
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn tool_call_hook<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(ToolCall, Next) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        let b = self.extension::<HookBuilder>();
        b.twice |= b.hook.is_some();
        b.hook = Some(Arc::new(move |call, next| hook(call, next).boxed()));
        self
    }
}

/// Run `tool` with `args` (valid), through the server's hook if it has one:
/// the handler's or the hook's boxed future, made at once (no future of
/// this call's own that would hold the arguments once more).
pub(crate) fn call(
    tool: &Arc<Tool>,
    ctx: RequestContext,
    args: Value,
) -> BoxFuture<'static, Result<CallToolResult, ToolError>> {
    let hook = match ctx.server.extension::<Hook>() {
        Some(Hook(h)) if tool.hooked => h.clone(),
        _ => return (tool.handler)(ctx, args),
    };
    let call = ToolCall {
        tool: tool.clone(),
        arguments: args,
        changed: false,
        ctx,
    };
    hook(call, Next { tool: tool.clone() })
}
