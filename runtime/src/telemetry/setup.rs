//! Switching telemetry on: providers, exporters, the tracing layer, and
//! their flush at exit.

use super::args::TelemetryArgs;
use super::metrics::{Instruments, observe_sessions};
use super::{STATE, TARGET, Telemetry};
use crate::server::Server;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::time::Duration;

const SCOPE: &str = "mcpgen-runtime";

/// The providers of a process whose telemetry is on, from before the server
/// is built until exit.
pub(crate) struct Setup {
    tracer: Option<SdkTracerProvider>,
    meter: SdkMeterProvider,
    prometheus: Option<prometheus::Registry>,
}

impl Setup {
    /// None when the flags switch nothing on.
    pub(crate) fn new(args: &TelemetryArgs) -> Result<Option<Setup>, String> {
        if !args.wants_metrics() {
            return Ok(None);
        }
        let resource = Resource::builder()
            .with_service_name(service_name())
            .build();
        let tracer = match args.otlp() {
            Some(base) => Some(tracer_provider(base, resource.clone())?),
            None => None,
        };
        let prometheus =
            (args.metrics || args.metrics_addr.is_some()).then(prometheus::Registry::new);
        let meter = meter_provider(args.otlp(), prometheus.as_ref(), resource)?;
        Ok(Some(Setup {
            tracer,
            meter,
            prometheus,
        }))
    }

    /// Logs to stderr as `cli::init_logging` writes them, plus the
    /// runtime's spans to OpenTelemetry when traces are exported.
    pub(crate) fn init_logging(&self, level: tracing::Level) {
        use tracing_subscriber::filter::{FilterExt, LevelFilter, filter_fn};
        use tracing_subscriber::prelude::*;
        let logs = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_filter(LevelFilter::from_level(level).and(filter_fn(|m| m.target() != TARGET)));
        let spans = self.tracer.as_ref().map(|p| {
            tracing_opentelemetry::layer()
                .with_tracer(p.tracer(SCOPE))
                // Semantic-convention attributes only: no busy/idle times,
                // source locations, threads or targets on every span.
                .with_tracked_inactivity(false)
                .with_location(false)
                .with_threads(false)
                .with_target(false)
                .with_filter(filter_fn(|m| m.target() == TARGET))
        });
        let _ = tracing_subscriber::registry()
            .with(logs)
            .with(spans)
            .try_init();
    }

    /// Switch the instrumentation points on for `server`.
    pub(crate) fn install(&self, server: &Server) {
        let meter = self.meter.meter(SCOPE);
        observe_sessions(&meter, server);
        let _ = STATE.set(Telemetry {
            spans: self.tracer.is_some(),
            instruments: Instruments::new(&meter),
            prometheus: self.prometheus.clone(),
        });
    }

    /// Export what is still buffered (called outside the async runtime:
    /// the OTLP client blocks).
    pub(crate) fn shutdown(self) {
        if let Some(t) = self.tracer
            && let Err(e) = t.shutdown()
        {
            eprintln!("warning: OTLP trace export at exit: {e}");
        }
        if let Err(e) = self.meter.shutdown() {
            eprintln!("warning: metrics export at exit: {e}");
        }
    }
}

/// `OTEL_SERVICE_NAME`, else the binary's name (a generated server's
/// binary is named after the server).
fn service_name() -> String {
    std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.file_stem()?.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "mcpgen-server".into())
}

/// `{base}/v1/{signal}`, as the OTLP exporter specification builds it from
/// `OTEL_EXPORTER_OTLP_ENDPOINT`.
fn signal_url(base: &str, signal: &str) -> String {
    format!("{}/v1/{signal}", base.trim_end_matches('/'))
}

fn tracer_provider(base: &str, resource: Resource) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(signal_url(base, "traces"))
        .build()
        .map_err(|e| format!("OTLP trace exporter for {base}: {e}"))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

fn meter_provider(
    otlp: Option<&str>,
    prometheus: Option<&prometheus::Registry>,
    resource: Resource,
) -> Result<SdkMeterProvider, String> {
    let mut b = SdkMeterProvider::builder().with_resource(resource);
    if let Some(registry) = prometheus {
        let reader = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .scope_info_enabled(false)
            .build()
            .map_err(|e| format!("Prometheus exporter: {e}"))?;
        b = b.with_reader(reader);
    }
    if let Some(base) = otlp {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(signal_url(base, "metrics"))
            .build()
            .map_err(|e| format!("OTLP metric exporter for {base}: {e}"))?;
        b = b.with_reader(
            PeriodicReader::builder(exporter)
                .with_interval(export_interval())
                .build(),
        );
    }
    Ok(b.build())
}

/// `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds), else 60 s.
fn export_interval() -> Duration {
    std::env::var("OTEL_METRIC_EXPORT_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(Duration::from_secs(60), Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_urls_append_the_path() {
        assert_eq!(
            signal_url("http://127.0.0.1:4318/", "traces"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            signal_url("https://c.example/otlp", "metrics"),
            "https://c.example/otlp/v1/metrics"
        );
    }
}
