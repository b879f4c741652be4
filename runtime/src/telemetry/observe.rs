//! The instrumentation points: a request, a tool call, an upstream call.
//! Each starts with [`super::get`]; when telemetry is off it returns at
//! once and nothing is allocated.

use super::{TARGET, Telemetry, context, get};
use crate::context::RequestContext;
use crate::error::McpError;
use crate::jsonrpc::{Payload, Request};
use opentelemetry::KeyValue;
use std::time::Instant;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The methods that label metrics as themselves; any other is `_OTHER`,
/// so a client cannot grow the label set without bound.
const METHODS: &[&str] = &[
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];

/// A request under observation.
pub(crate) struct Observed {
    t: &'static Telemetry,
    span: Span,
    started: Instant,
    method: &'static str,
}

/// Start observing a request; None when telemetry is off.
pub(crate) fn request(ctx: &RequestContext, req: &Request) -> Option<Observed> {
    let t = get()?;
    let method = METHODS
        .iter()
        .find(|m| **m == req.method)
        .copied()
        .unwrap_or("_OTHER");
    let span = if t.spans {
        request_span(ctx, req)
    } else {
        Span::none()
    };
    Some(Observed {
        t,
        span,
        started: Instant::now(),
        method,
    })
}

/// The server span of a request, named as the MCP semantic conventions
/// say (`{mcp.method.name} {target}`), child of the trace the client sent.
fn request_span(ctx: &RequestContext, req: &Request) -> Span {
    let tool = (req.method == "tools/call")
        .then(|| req.params.as_ref()?.get("name")?.as_str())
        .flatten();
    let name = match tool {
        Some(t) => format!("{} {t}", req.method),
        None => req.method.clone(),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "mcp.request",
        otel.name = name.as_str(),
        otel.kind = "server",
        mcp.method.name = req.method.as_str(),
        jsonrpc.request.id = %req.id,
        mcp.session.id = Empty,
        mcp.protocol.version = Empty,
        gen_ai.tool.name = tool,
        gen_ai.operation.name = tool.map(|_| "execute_tool"),
        error.type = Empty,
        rpc.response.status_code = Empty,
        otel.status_code = Empty,
    );
    if !ctx.session_id().is_empty() {
        span.record("mcp.session.id", ctx.session_id());
    }
    if let Some(v) = ctx.session.protocol_version() {
        span.record("mcp.protocol.version", v.as_str());
    }
    if let Some(parent) = context::extract(ctx.meta(), ctx.http_headers()) {
        let _ = span.set_parent(parent);
    }
    span
}

impl Observed {
    /// The span to run the request in.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    /// The request ended: with a result, an error, or cancelled (None).
    pub(crate) fn finish(self, outcome: Option<&Result<Payload, McpError>>) {
        let (error, code) = match outcome {
            Some(Ok(_)) => (None, None),
            Some(Err(e)) => (Some(e.code().to_string()), Some(e.code())),
            None => (Some("cancelled".to_owned()), None),
        };
        let mut attrs = vec![KeyValue::new("mcp.method.name", self.method)];
        if let Some(e) = error {
            self.span.record("error.type", e.as_str());
            self.span.record("otel.status_code", "error");
            if let Some(code) = code {
                self.span
                    .record("rpc.response.status_code", code.to_string().as_str());
            }
            attrs.push(KeyValue::new("error.type", e));
            self.t.instruments.errors.add(1, &attrs);
        }
        let secs = self.started.elapsed().as_secs_f64();
        self.t.instruments.operation_duration.record(secs, &attrs);
    }
}

/// A tool call under observation (after the tool was found).
pub(crate) struct ToolObserved {
    t: &'static Telemetry,
    span: Span,
    tool: String,
}

/// Start observing a call of `tool`; None when telemetry is off.
pub(crate) fn tool(tool: &str) -> Option<ToolObserved> {
    let t = get()?;
    let span = if t.spans {
        tracing::info_span!(
            target: TARGET,
            "mcp.tool",
            otel.name = format!("execute_tool {tool}").as_str(),
            otel.kind = "internal",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = tool,
            error.type = Empty,
            otel.status_code = Empty,
        )
    } else {
        Span::none()
    };
    Some(ToolObserved {
        t,
        span,
        tool: tool.to_owned(),
    })
}

impl ToolObserved {
    /// The span to run the call in.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    /// The call ended; `Ok(true)` is a tool error (`isError`).
    pub(crate) fn finish(self, outcome: Result<bool, &McpError>) {
        let label = match outcome {
            Ok(false) => "ok",
            Ok(true) => "tool_error",
            Err(_) => "error",
        };
        let tool = KeyValue::new("gen_ai.tool.name", self.tool);
        let m = &self.t.instruments;
        m.tool_calls
            .add(1, &[tool.clone(), KeyValue::new("outcome", label)]);
        match outcome {
            Ok(false) => return,
            Ok(true) => {
                // A JSON-RPC error is counted with its request; a tool
                // error is an answer there, so it is counted here.
                let attrs = [
                    KeyValue::new("mcp.method.name", "tools/call"),
                    KeyValue::new("error.type", "tool_error"),
                    tool,
                ];
                m.errors.add(1, &attrs);
                self.span.record("error.type", "tool_error");
            }
            Err(e) => {
                self.span
                    .record("error.type", e.code().to_string().as_str());
            }
        }
        self.span.record("otel.status_code", "error");
    }
}

/// Send one upstream request under a client span that its `traceparent`
/// header names, and count its response. `status` reads the status of a
/// response.
#[cfg(feature = "upstream")]
pub(crate) async fn upstream<'r, T, E, F>(
    operation: &str,
    request: &'r mut reqwest::Request,
    send: impl FnOnce(&'r mut reqwest::Request) -> F,
    status: impl Fn(&T) -> u16,
) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    use tracing::Instrument;
    let Some(t) = get() else {
        return send(request).await;
    };
    let span = if t.spans {
        let span = upstream_span(operation, request);
        context::inject(&span.context(), request.headers_mut());
        span
    } else {
        Span::none()
    };
    let started = Instant::now();
    let outcome = send(request).instrument(span.clone()).await;
    let code = outcome.as_ref().ok().map(status);
    match code {
        Some(c) => {
            // As i64: the bridge records unsigned integers as text.
            span.record("http.response.status_code", i64::from(c));
            if c >= 400 {
                span.record("error.type", c.to_string().as_str());
                span.record("otel.status_code", "error");
            }
        }
        None => {
            span.record("error.type", "request_failed");
            span.record("otel.status_code", "error");
        }
    }
    let attrs = [
        KeyValue::new("mcpgen.operation", operation.to_owned()),
        super::metrics::status_class(code),
    ];
    let m = &t.instruments;
    m.upstream_responses.add(1, &attrs);
    m.upstream_duration
        .record(started.elapsed().as_secs_f64(), &attrs);
    outcome
}

/// A client span per attempt, as the HTTP semantic conventions have it;
/// the URL without its query, which may carry credentials.
#[cfg(feature = "upstream")]
fn upstream_span(operation: &str, request: &reqwest::Request) -> Span {
    let url = request.url();
    let shown = format!("{}{}", url.origin().ascii_serialization(), url.path());
    tracing::info_span!(
        target: TARGET,
        "mcp.upstream",
        otel.name = request.method().as_str(),
        otel.kind = "client",
        http.request.method = request.method().as_str(),
        url.full = shown.as_str(),
        server.address = url.host_str(),
        server.port = url.port_or_known_default().map(i64::from),
        mcpgen.operation = operation,
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    )
}
