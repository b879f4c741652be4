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

/// Switch telemetry on in this process as `--metrics` would, and
/// `--otlp-endpoint URL` when `otlp` is given: for benchmarks
/// (`examples/telemetry_bench.rs`). Not a stable API.
#[doc(hidden)]
pub fn switch_on(server: &crate::Server, otlp: Option<&str>) -> Result<Guard, String> {
    let args = TelemetryArgs {
        otlp_endpoint: otlp.map(str::to_owned),
        metrics: true,
        metrics_addr: None,
    };
    let setup = Setup::new(&args)?.ok_or("nothing switched on")?;
    setup.init_logging(tracing::Level::WARN);
    setup.install(server);
    Ok(Guard(setup))
}

/// What [`switch_on`] started; [`Guard::shutdown`] flushes it (outside an
/// async runtime).
#[doc(hidden)]
pub struct Guard(Setup);

impl Guard {
    /// Export what is buffered and stop.
    pub fn shutdown(self) {
        self.0.shutdown();
    }

    /// The Prometheus text of the metrics recorded so far.
    pub fn prometheus_text(&self) -> Result<String, String> {
        match get().and_then(|t| t.prometheus.as_ref()) {
            Some(r) => metrics::render(r),
            None => Err("metrics are off".into()),
        }
    }
}

/// The telemetry of this process, if it was switched on.
pub(crate) fn get() -> Option<&'static Telemetry> {
    STATE.get()
}
