//! Upstream proxy overhead: a generated OpenAPI server (examples/httpbin,
//! tool `get_get` = `GET /get`) in front of a fast local upstream
//! (bench/servers hyper-echo), against calling the upstream directly. One
//! worker, one session: this measures added latency, not throughput.
//!
//! The upstream runs on the server's CPU, not the load generator's: then a
//! direct call crosses between the CPUs twice (request, answer) and so does
//! a proxied one (client → server, server → client; the server's call to
//! the upstream stays on its CPU). With the upstream beside the load
//! generator, a direct call crossed none and a proxied one four, and each
//! crossing is a wake-up on the other CPU (≈ 45 µs on the shared VM), which
//! the difference then counted as the server's.

use crate::Error;
use crate::load::{self, Outcome, Target, Workload};
use crate::mcp::Expect;
use crate::process::Launch;
use crate::suite::{REVISION_2025, Suite, UPSTREAM_MARKER};
use serde_json::json;
use std::time::Duration;

/// One round's figures, microseconds.
#[derive(Debug, Clone, Default)]
pub struct ProxyRound {
    pub direct_p50: f64,
    pub direct_p99: f64,
    pub proxied_p50: f64,
    pub proxied_p99: f64,
    /// The proxy server's CPU per tool call.
    pub cpu_us: f64,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// One round: fresh upstream and proxy; direct calls, then proxied calls.
pub async fn round(suite: &Suite, proxy: &Launch, upstream: &Launch) -> Result<ProxyRound, Error> {
    let up = suite.start("upstream", upstream, suite.server_core)?;
    let up_url = format!("http://{}", up.addr);
    let mut launch = proxy.clone();
    for a in &mut launch.args {
        *a = a.replace("{upstream}", &up_url);
    }
    let mut server = suite.start("proxy", &launch, suite.server_core)?;
    let calls = suite.sizes.proxy_calls;
    let warm = (calls / 10).max(20);
    let limit = suite.sizes.max_time;

    let direct_target = Target {
        addr: up.addr,
        path: "/get".into(),
    };
    let direct_load = Workload::Get {
        marker: UPSTREAM_MARKER.into(),
    };
    let workers = load::prepare(&direct_target, &direct_load, 1, 1).await?;
    let (workers, w1) = load::run(workers, &direct_target, &direct_load, warm, limit).await;
    let (_, direct) = load::run(workers, &direct_target, &direct_load, calls, limit).await;

    let target = Target {
        addr: server.addr,
        path: "/mcp".into(),
    };
    let workload = Workload::Mcp {
        version: REVISION_2025.into(),
        tool: "get_get".into(),
        arguments: json!({}),
        expect: Expect::Contains(UPSTREAM_MARKER.into()),
    };
    let workers = load::prepare(&target, &workload, 1, 1).await?;
    let (workers, w2) = load::run(workers, &target, &workload, warm, limit).await;
    let cpu0 = server.cpu()?;
    let (_, proxied) = load::run(workers, &target, &workload, calls, limit).await;
    let cpu = server.cpu()?.saturating_sub(cpu0);
    server.alive()?;
    Ok(figures(&[&w1, &direct, &w2], &direct, &proxied, cpu))
}

fn figures(all: &[&Outcome], direct: &Outcome, proxied: &Outcome, cpu: Duration) -> ProxyRound {
    let mut r = ProxyRound {
        direct_p50: direct.quantile_us(0.5),
        direct_p99: direct.quantile_us(0.99),
        proxied_p50: proxied.quantile_us(0.5),
        proxied_p99: proxied.quantile_us(0.99),
        cpu_us: cpu.as_secs_f64() * 1e6 / proxied.calls.max(1) as f64,
        errors: proxied.errors,
        first_error: proxied.first_error.clone(),
    };
    for o in all {
        r.errors += o.errors;
        r.first_error = r.first_error.take().or_else(|| o.first_error.clone());
    }
    r
}
