//! Upstream proxy overhead: a generated OpenAPI server (examples/httpbin,
//! tool `get_get` = `GET /get`) in front of a fast local upstream
//! (bench/servers hyper-echo), against calling the upstream directly. One
//! worker, one session: this measures added latency, not throughput.
//!
//! Beside it, the proxy floor: bench/servers hyper-proxy, a bare hyper
//! server that answers each JSON-RPC POST by `GET`ting the same upstream
//! with hyper-util's pooled client. What it adds is what one more loopback
//! round trip and the least proxy work cost on this host, measured in the
//! same round; the generated server's overhead is reported against it.
//! The two proxies take turns going first, round by round.
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
    /// Through the generated server.
    pub proxied: Through,
    /// Through the bare hyper proxy (the floor).
    pub floor: Through,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// Calls through one proxy, microseconds.
#[derive(Debug, Clone, Default)]
pub struct Through {
    pub p50: f64,
    pub p99: f64,
    /// The proxy's CPU per call.
    pub cpu_us: f64,
}

/// The servers of a round: the generated proxy, the bare floor and the
/// upstream they both call.
pub struct Launches {
    pub generated: Launch,
    pub floor: Launch,
    pub upstream: Launch,
}

/// One round: a fresh upstream; direct calls, then each proxy, fresh, in
/// the round's order.
pub async fn round(suite: &Suite, launches: &Launches, round: usize) -> Result<ProxyRound, Error> {
    let up = suite.start("upstream", &launches.upstream, suite.server_core)?;
    let up_url = format!("http://{}", up.addr);
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
    let (workers, w) = load::run(workers, &direct_target, &direct_load, warm, limit).await;
    let (_, direct) = load::run(workers, &direct_target, &direct_load, calls, limit).await;

    let generated = Workload::Mcp {
        version: REVISION_2025.into(),
        tool: "get_get".into(),
        arguments: json!({}),
        expect: Expect::Contains(UPSTREAM_MARKER.into()),
    };
    let floor = Workload::Bare {
        tool: "get_get".into(),
        expect: Expect::Contains(UPSTREAM_MARKER.into()),
    };
    let mut r = ProxyRound {
        direct_p50: direct.quantile_us(0.5),
        direct_p99: direct.quantile_us(0.99),
        ..ProxyRound::default()
    };
    let mut outcomes = vec![w, direct];
    // Even rounds start with the generated server, odd ones with the floor.
    let generated_first = round.is_multiple_of(2);
    for is_generated in [generated_first, !generated_first] {
        let (name, launch, workload, into) = match is_generated {
            true => ("proxy", &launches.generated, &generated, &mut r.proxied),
            false => ("proxy-floor", &launches.floor, &floor, &mut r.floor),
        };
        let (through, runs) = measure(suite, name, launch, &up_url, workload, warm).await?;
        *into = through;
        outcomes.extend(runs);
    }
    for o in &outcomes {
        r.errors += o.errors;
        r.first_error = r.first_error.take().or_else(|| o.first_error.clone());
    }
    Ok(r)
}

/// Start the proxy `launch` in front of `upstream`, warm it up, then time
/// `suite.sizes.proxy_calls` calls and its CPU over them.
async fn measure(
    suite: &Suite,
    name: &str,
    launch: &Launch,
    upstream: &str,
    workload: &Workload,
    warm: u64,
) -> Result<(Through, [Outcome; 2]), Error> {
    let mut launch = launch.clone();
    for a in &mut launch.args {
        *a = a.replace("{upstream}", upstream);
    }
    let mut server = suite.start(name, &launch, suite.server_core)?;
    let target = Target {
        addr: server.addr,
        path: "/mcp".into(),
    };
    let limit = suite.sizes.max_time;
    let workers = load::prepare(&target, workload, 1, 1).await?;
    let (workers, w) = load::run(workers, &target, workload, warm, limit).await;
    let cpu0 = server.cpu()?;
    let (_, timed) = load::run(workers, &target, workload, suite.sizes.proxy_calls, limit).await;
    let cpu = server.cpu()?.saturating_sub(cpu0);
    server.alive()?;
    let through = Through {
        p50: timed.quantile_us(0.5),
        p99: timed.quantile_us(0.99),
        cpu_us: per_call(cpu, &timed),
    };
    Ok((through, [w, timed]))
}

fn per_call(cpu: Duration, o: &Outcome) -> f64 {
    cpu.as_secs_f64() * 1e6 / o.calls.max(1) as f64
}
