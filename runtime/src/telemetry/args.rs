//! The telemetry flags of generated binaries (`crate::cli`).

use std::net::SocketAddr;

/// Telemetry (docs/telemetry.md): everything off unless a flag or variable
/// here switches it on.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct TelemetryArgs {
    /// OTLP/HTTP (protobuf) collector to export traces and metrics to, e.g.
    /// http://127.0.0.1:4318; `/v1/traces` and `/v1/metrics` are appended.
    #[arg(long, value_name = "URL", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub(crate) otlp_endpoint: Option<String>,
    /// Serve Prometheus metrics at GET /metrics beside the MCP endpoint
    /// (--transport http).
    #[arg(long, env = "MCP_METRICS", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub(crate) metrics: bool,
    /// Serve Prometheus metrics at GET /metrics on a listener of their own
    /// (any transport).
    #[arg(long, value_name = "ADDR", env = "MCP_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<SocketAddr>,
}

impl TelemetryArgs {
    /// The OTLP endpoint, when one is given (an empty variable is none).
    pub(crate) fn otlp(&self) -> Option<&str> {
        self.otlp_endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
    }

    /// Whether metrics are recorded at all.
    pub(crate) fn wants_metrics(&self) -> bool {
        self.metrics || self.metrics_addr.is_some() || self.otlp().is_some()
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Args;
    use clap::Parser;

    #[test]
    fn telemetry_is_off_by_default_and_switched_on_by_flags() {
        let a = Args::try_parse_from(["bin"]).unwrap();
        assert!(!a.telemetry.wants_metrics() && a.telemetry.otlp().is_none());
        let a = Args::try_parse_from(["bin", "--metrics"]).unwrap();
        assert!(a.telemetry.metrics && a.telemetry.wants_metrics());
        let a = Args::try_parse_from([
            "bin",
            "--otlp-endpoint",
            "http://127.0.0.1:4318",
            "--metrics-addr",
            "127.0.0.1:9464",
        ])
        .unwrap();
        assert_eq!(a.telemetry.otlp(), Some("http://127.0.0.1:4318"));
        assert_eq!(
            a.telemetry.metrics_addr,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        assert!(Args::try_parse_from(["bin", "--metrics-addr", "nowhere"]).is_err());
    }
}
