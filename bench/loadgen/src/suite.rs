//! The benchmark suite: which servers, which figures, and the rounds.
//!
//! Every figure is taken on a fresh server process, in rounds that
//! alternate the servers (round r starts with server r mod n), and reported
//! as the median over rounds; ratios are medians of per-round ratios, so
//! two servers are only ever compared within one round of the same run.
//! Servers, and the proxy benchmark's upstream, run on `server_core`; this
//! process (the load generator) runs on `client_core`.

use crate::Error;
use crate::load::{self, Outcome, Target, Workload};
use crate::mcp::{self, Expect};
use crate::process::{Launch, Server};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The text the benchmarked `test_simple_text` tool returns in every server.
pub const SIMPLE_TEXT: &str = "This is a simple text response for testing.";
/// What the upstream's `GET` answer contains (bench/servers, hyper-echo).
pub const UPSTREAM_MARKER: &str = "upstream-ok";
/// The revision the session benchmarks negotiate.
pub const REVISION_2025: &str = "2025-11-25";
pub use crate::mcp::REVISION_2026;

/// How a contender is spoken to.
#[derive(Debug, Clone)]
pub enum Protocol {
    /// Streamable HTTP with sessions, negotiating this revision.
    Session(String),
    /// Streamable HTTP without sessions (2026-07-28): every request carries
    /// this revision and the client's capabilities in `_meta` and mirrors
    /// its method and name in headers.
    Stateless(String),
    /// No MCP at all: the JSON-RPC body POSTed as is (bare hyper).
    Bare,
}

/// One server of the per-call comparison.
#[derive(Debug, Clone)]
pub struct Contender {
    pub name: String,
    pub launch: Launch,
    pub protocol: Protocol,
}

impl Contender {
    fn workload(&self) -> Workload {
        let tool = "test_simple_text".to_string();
        let expect = Expect::Text(SIMPLE_TEXT.to_string());
        match &self.protocol {
            Protocol::Session(version) | Protocol::Stateless(version) => Workload::Mcp {
                version: version.clone(),
                tool,
                arguments: json!({}),
                expect,
            },
            Protocol::Bare => Workload::Bare { tool, expect },
        }
    }

    pub fn has_sessions(&self) -> bool {
        matches!(self.protocol, Protocol::Session(_))
    }
}

/// Sizes of one suite run.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub rounds: usize,
    pub warmup_calls: u64,
    pub calls: u64,
    pub max_time: Duration,
    pub workers: usize,
    pub sessions: usize,
    pub idle_sessions: usize,
    pub proxy_calls: u64,
}

/// Everything a run needs; see `main.rs` for where each piece comes from.
pub struct Suite {
    pub sizes: Sizes,
    pub server_core: Option<usize>,
    pub client_core: Option<usize>,
    pub logs: PathBuf,
    pub contenders: Vec<Contender>,
}

/// Per-call figures of one server in one round.
#[derive(Debug, Clone, Default)]
pub struct PerCall {
    pub rps: f64,
    pub cpu_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub calls: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Suite {
    /// Start `launch` on `core`, logging to logs/`name`.log. The free port
    /// is picked before the server binds it, so on a shared machine another
    /// process may take it first: a server that exits at once is started
    /// again on a new port, three times at most.
    pub fn start(&self, name: &str, launch: &Launch, core: Option<usize>) -> Result<Server, Error> {
        let log = self.logs.join(format!("{name}.log"));
        let mut last = None;
        for _ in 0..3 {
            let mut server = Server::start(launch, core, &log)?;
            match server.wait_port(Duration::from_secs(60)) {
                Ok(()) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        let e = last.map(|e| e.to_string()).unwrap_or_default();
        Err(Error::new(format!("{name}: {e} (log: {})", log.display())))
    }

    /// Round `round`'s order of the contenders: rotated by one each round.
    pub fn order(&self, round: usize) -> Vec<&Contender> {
        let n = self.contenders.len();
        (0..n).map(|i| &self.contenders[(i + round) % n]).collect()
    }

    /// Closed-loop `tools/call` on a fresh server: warm-up, then the measured
    /// run with the server's CPU time read before and after.
    pub async fn per_call(&self, c: &Contender) -> Result<PerCall, Error> {
        let mut server = self.start(&c.name, &c.launch, self.server_core)?;
        let target = Target {
            addr: server.addr,
            path: "/mcp".into(),
        };
        let workload = c.workload();
        let s = &self.sizes;
        let workers = load::prepare(&target, &workload, s.workers, s.sessions).await?;
        let (workers, warm) =
            load::run(workers, &target, &workload, s.warmup_calls, s.max_time).await;
        let cpu0 = server.cpu()?;
        let (workers, out) = load::run(workers, &target, &workload, s.calls, s.max_time).await;
        let cpu = server.cpu()?.saturating_sub(cpu0);
        drop(workers);
        server.alive()?;
        Ok(per_call_figures(&out, &warm, cpu))
    }

    /// RSS growth per idle session: `idle_sessions` handshakes on a fresh
    /// server (16 connections at a time), connections closed, then
    /// (RSS after − RSS before) / sessions. Returns KiB per session.
    pub async fn idle_rss(&self, c: &Contender) -> Result<f64, Error> {
        let Protocol::Session(version) = &c.protocol else {
            return Err(Error::new(format!("{} has no sessions", c.name)));
        };
        let server = self.start(&c.name, &c.launch, self.server_core)?;
        // One session and a list first, so one-time allocations are in "before".
        let mut conn = crate::http::Conn::connect(server.addr).await?;
        let session = mcp::handshake(&mut conn, "/mcp", version).await?;
        mcp::list_tools(&mut conn, "/mcp", &session).await?;
        drop(conn);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = server.rss_kib()?;
        let n = self.sizes.idle_sessions;
        let lanes = 16.min(n.max(1));
        let mut tasks = Vec::new();
        for lane in 0..lanes {
            let (addr, version) = (server.addr, version.clone());
            let count = n / lanes + usize::from(lane < n % lanes);
            tasks.push(tokio::spawn(async move {
                let mut conn = crate::http::Conn::connect(addr).await?;
                for _ in 0..count {
                    mcp::handshake(&mut conn, "/mcp", &version).await?;
                }
                Ok::<(), Error>(())
            }));
        }
        for t in tasks {
            t.await
                .map_err(|e| Error::new(format!("session task: {e}")))??;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = server.rss_kib()?;
        Ok(after.saturating_sub(before) as f64 / n.max(1) as f64)
    }

    /// Time from spawning `launch` to the first answered `tools/list`;
    /// returns it and the number of tools listed.
    pub async fn startup(&self, name: &str, launch: &Launch) -> Result<(Duration, usize), Error> {
        let t0 = Instant::now();
        let log = self.logs.join(format!("{name}.log"));
        let mut server = Server::start(launch, self.server_core, &log)?;
        let limit = Duration::from_secs(120);
        while t0.elapsed() < limit {
            server.alive()?;
            if let Ok(tools) = list_once(server.addr).await {
                return Ok((t0.elapsed(), tools));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Err(Error::new(format!(
            "{name}: no tools/list answer within {limit:?}"
        )))
    }
}

async fn list_once(addr: std::net::SocketAddr) -> Result<usize, Error> {
    let mut conn = crate::http::Conn::connect(addr).await?;
    let session = mcp::handshake(&mut conn, "/mcp", REVISION_2025).await?;
    mcp::list_tools(&mut conn, "/mcp", &session).await
}

fn per_call_figures(out: &Outcome, warm: &Outcome, cpu: Duration) -> PerCall {
    let secs = out.elapsed.as_secs_f64();
    let calls = out.calls.max(1) as f64;
    PerCall {
        rps: if secs > 0.0 {
            out.calls as f64 / secs
        } else {
            0.0
        },
        cpu_us: cpu.as_secs_f64() * 1e6 / calls,
        p50_us: out.quantile_us(0.50),
        p99_us: out.quantile_us(0.99),
        calls: out.calls,
        errors: out.errors + warm.errors,
        first_error: warm.first_error.clone().or_else(|| out.first_error.clone()),
    }
}

/// The median of `values` (NaN for none); NaNs are skipped.
pub fn median(values: &[f64]) -> f64 {
    median_sorted(&sorted(values))
}

/// The lower hinge, median and upper hinge of `values` (Tukey's: the
/// medians of the lower and upper halves, each with the median when the
/// count is odd), so the middle half of the rounds lies between the
/// first and the last. NaNs are skipped; all three are NaN for none.
pub fn hinges(values: &[f64]) -> [f64; 3] {
    let v = sorted(values);
    let n = v.len();
    [
        median_sorted(&v[..n.div_ceil(2)]),
        median_sorted(&v),
        median_sorted(&v[n / 2..]),
    ]
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn median_sorted(v: &[f64]) -> f64 {
    let mid = v.len() / 2;
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[mid],
        _ => (v[mid - 1] + v[mid]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::{hinges, median};

    #[test]
    fn median_skips_nan_and_averages_the_middle_pair() {
        assert_eq!(median(&[3.0, f64::NAN, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[f64::NAN]).is_nan());
    }

    #[test]
    fn hinges_are_the_medians_of_the_halves() {
        // Odd count: each half keeps the median.
        let nine = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0];
        assert_eq!(hinges(&nine), [3.0, 5.0, 7.0]);
        // Even count: the halves split between the middle pair.
        assert_eq!(hinges(&[4.0, 1.0, 3.0, 2.0]), [1.5, 2.5, 3.5]);
        assert_eq!(hinges(&[2.0]), [2.0, 2.0, 2.0]);
        assert!(hinges(&[]).iter().all(|x| x.is_nan()));
    }
}
