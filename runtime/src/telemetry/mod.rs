//! Telemetry (feature `telemetry`, docs/telemetry.md): a span per request,
//! per tool call and per upstream call, bridged from `tracing` to
//! OpenTelemetry and exported over OTLP/HTTP; metrics recorded with the
//! OpenTelemetry SDK, served as Prometheus text and exported over OTLP.
//!
//! Nothing here runs unless a binary switched it on (`cli::run`): the hot
//! path asks [`get`], one atomic load, and finds nothing.

mod args;
mod context;
mod metrics;
mod observe;
mod setup;

pub(crate) use args::TelemetryArgs;
pub(crate) use metrics::{router as metrics_router, serve as serve_metrics};
#[cfg(feature = "upstream")]
pub(crate) use observe::upstream;
pub(crate) use observe::{request, tool};
pub(crate) use setup::Setup;

use std::sync::OnceLock;

/// The target of the runtime's telemetry spans: only these go to
/// OpenTelemetry, and the log output leaves them out.
const TARGET: &str = "mcpgen_runtime::telemetry";

static STATE: OnceLock<Telemetry> = OnceLock::new();

/// What the instrumentation points use, once switched on.
pub(crate) struct Telemetry {
    /// Spans are made (an OTLP endpoint is configured).
    spans: bool,
    instruments: metrics::Instruments,
    /// Where `/metrics` reads from, when it is served.
    prometheus: Option<prometheus::Registry>,
}

/// The telemetry of this process, if it was switched on.
pub(crate) fn get() -> Option<&'static Telemetry> {
    STATE.get()
}
