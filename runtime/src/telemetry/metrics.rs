//! The instruments, and their Prometheus text exposition.
//!
//! Names follow the OpenTelemetry MCP semantic conventions where they
//! exist (`mcp.server.operation.duration`, `http.client.request.duration`)
//! and are `mcpgen.*` otherwise. The Prometheus exporter writes them with
//! dots as underscores, units and `_total` as suffixes.

use crate::server::Server;
#[cfg(feature = "upstream")]
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

/// Bucket bounds in seconds, those the semantic conventions advise for
/// `mcp.server.operation.duration`.
const SECONDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

pub(crate) struct Instruments {
    /// Every request, by method and error type.
    pub(crate) operation_duration: Histogram<f64>,
    /// Tool calls by tool and outcome (ok, tool_error, error).
    pub(crate) tool_calls: Counter<u64>,
    /// Failed requests and tool calls, by method and error type.
    pub(crate) errors: Counter<u64>,
    /// Upstream responses by operation and status class (2xx…5xx, or
    /// `error` when none came).
    #[cfg(feature = "upstream")]
    pub(crate) upstream_responses: Counter<u64>,
    #[cfg(feature = "upstream")]
    pub(crate) upstream_duration: Histogram<f64>,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter) -> Self {
        let seconds = |name: &'static str, what: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(what)
                .with_boundaries(SECONDS.to_vec())
                .build()
        };
        Instruments {
            operation_duration: seconds(
                "mcp.server.operation.duration",
                "MCP request duration as observed on the server",
            ),
            tool_calls: meter
                .u64_counter("mcpgen.tool.calls")
                .with_description("Tool calls, by tool and outcome")
                .build(),
            errors: meter
                .u64_counter("mcpgen.errors")
                .with_description(
                    "Requests answered with a JSON-RPC error, and tool calls that failed",
                )
                .build(),
            #[cfg(feature = "upstream")]
            upstream_responses: meter
                .u64_counter("mcpgen.upstream.responses")
                .with_description("Upstream API responses, by operation and status class")
                .build(),
            #[cfg(feature = "upstream")]
            upstream_duration: seconds(
                "http.client.request.duration",
                "Duration of upstream API requests",
            ),
        }
    }
}

/// The number of open sessions, read when metrics are collected (nothing
/// to count on the hot path).
pub(crate) fn observe_sessions(meter: &Meter, server: &Server) {
    let server = server.clone();
    let _gauge = meter
        .u64_observable_gauge("mcpgen.sessions.active")
        .with_description("Open MCP sessions")
        .with_callback(move |o| o.observe(server.sessions().len() as u64, &[]))
        .build();
}

#[cfg(feature = "upstream")]
/// `2xx`…`5xx` for a status, `error` for none.
pub(crate) fn status_class(status: Option<u16>) -> KeyValue {
    let class = match status {
        Some(s @ 100..=599) => ["1xx", "2xx", "3xx", "4xx", "5xx"][usize::from(s / 100 - 1)],
        _ => "error",
    };
    KeyValue::new("http.response.status_class", class)
}

/// The Prometheus text exposition (format 0.0.4) of a registry.
pub(crate) fn render(registry: &prometheus::Registry) -> Result<String, String> {
    use prometheus::Encoder;
    let mut out = vec![];
    prometheus::TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// `GET /metrics`.
pub(crate) async fn endpoint() -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let Some(registry) = super::get().and_then(|t| t.prometheus.as_ref()) else {
        return (StatusCode::NOT_FOUND, "metrics are off\n").into_response();
    };
    match render(registry) {
        Ok(text) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// The metrics endpoint as a router of its own.
pub(crate) fn router() -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(endpoint))
}

/// Serve `GET /metrics` on `addr` (`--metrics-addr`) until the process ends.
pub(crate) async fn serve(addr: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "Prometheus metrics at http://{}/metrics",
        listener.local_addr()?
    );
    axum::serve(listener, router()).await
}

#[cfg(test)]
#[cfg(feature = "upstream")]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        let c = |s| status_class(s).value.to_string();
        assert_eq!(c(Some(200)), "2xx");
        assert_eq!(c(Some(404)), "4xx");
        assert_eq!(c(Some(503)), "5xx");
        assert_eq!(c(Some(99)), "error");
        assert_eq!(c(None), "error");
    }
}
