//! The closed loop: N workers, each with its own keep-alive connection,
//! spread over M MCP sessions; each worker sends its next request as soon as
//! the previous answer arrived and was checked. A run stops after a number of
//! calls or a time limit, whichever comes first.

use crate::Error;
use crate::http::Conn;
use crate::mcp::{self, Expect, Session};
use bytes::Bytes;
use hyper::Method;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What each call of a run is.
#[derive(Debug, Clone)]
pub enum Workload {
    /// `tools/call` of `tool` over MCP sessions negotiated at `version`;
    /// at 2026-07-28 and later, stateless requests (no handshake).
    Mcp {
        version: String,
        tool: String,
        arguments: Value,
        expect: Expect,
    },
    /// The same `tools/call` body POSTed without any handshake (the bare
    /// hyper floor, which has no sessions).
    Bare { tool: String, expect: Expect },
    /// `GET` whose body must contain `marker` (the upstream, called directly).
    Get { marker: String },
}

/// Where the calls go.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub path: String,
}

/// One worker: a connection, the session it uses, and its latencies.
pub struct Worker {
    conn: Conn,
    session: Option<Session>,
    next_id: u64,
    latencies_ns: Vec<u64>,
}

/// What a run measured. Latencies are sorted, in nanoseconds.
#[derive(Debug, Default)]
pub struct Outcome {
    pub calls: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub latencies_ns: Vec<u64>,
}

impl Outcome {
    /// The `q` quantile (0..=1) of the latencies, in microseconds.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return f64::NAN;
        }
        let last = self.latencies_ns.len() - 1;
        let i = ((last as f64) * q).round() as usize;
        self.latencies_ns[i.min(last)] as f64 / 1000.0
    }
}

/// Open `workers` connections and, for MCP workloads, `sessions` sessions
/// (worker i uses session i mod `sessions`).
pub async fn prepare(
    target: &Target,
    workload: &Workload,
    workers: usize,
    sessions: usize,
) -> Result<Vec<Worker>, Error> {
    let mut out = Vec::with_capacity(workers);
    for i in 0..workers.max(1) {
        out.push(Worker {
            conn: Conn::connect(target.addr).await?,
            session: None,
            // Workers share sessions, and request ids in flight must be
            // unique within a session: each worker has its own id range.
            next_id: ((i as u64) << 32) + 1,
            latencies_ns: Vec::new(),
        });
    }
    if let Workload::Mcp { version, .. } = workload {
        if mcp::is_stateless(version) {
            let session = Session::stateless(version);
            for w in &mut out {
                w.session = Some(session.clone());
            }
            return Ok(out);
        }
        let mut made = Vec::new();
        for w in out.iter_mut().take(sessions.max(1)) {
            made.push(mcp::handshake(&mut w.conn, &target.path, version).await?);
        }
        let count = made.len();
        for (i, w) in out.iter_mut().enumerate() {
            w.session = Some(made[i % count].clone());
        }
    }
    Ok(out)
}

/// Run the closed loop for at most `calls` calls and at most `max_time`.
pub async fn run(
    workers: Vec<Worker>,
    target: &Target,
    workload: &Workload,
    calls: u64,
    max_time: Duration,
) -> (Vec<Worker>, Outcome) {
    let budget = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + max_time;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(workers.len());
    for mut w in workers {
        let (budget, target, workload) = (budget.clone(), target.clone(), workload.clone());
        w.latencies_ns.clear();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while budget.fetch_add(1, Ordering::Relaxed) < calls && Instant::now() < deadline {
                match one_call(&mut w, &target, &workload).await {
                    Ok(()) => tally.ok += 1,
                    Err(Failure::Wrong(e)) => tally.error(e),
                    // The connection is gone: this worker cannot go on.
                    Err(Failure::Transport(e)) => {
                        tally.error(e);
                        break;
                    }
                }
            }
            (w, tally)
        }));
    }
    let mut back = Vec::with_capacity(tasks.len());
    let mut outcome = Outcome::default();
    for task in tasks {
        match task.await {
            Ok((w, tally)) => {
                outcome.calls += tally.ok + tally.errors;
                outcome.errors += tally.errors;
                outcome.first_error = outcome.first_error.take().or(tally.first_error);
                outcome.latencies_ns.extend_from_slice(&w.latencies_ns);
                back.push(w);
            }
            Err(e) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| format!("worker panicked: {e}"));
            }
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.latencies_ns.sort_unstable();
    (back, outcome)
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, e: Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| e.to_string());
    }
}

enum Failure {
    /// The request could not be sent or its answer not read.
    Transport(Error),
    /// An answer arrived but was wrong.
    Wrong(Error),
}

async fn one_call(w: &mut Worker, target: &Target, workload: &Workload) -> Result<(), Failure> {
    let id = w.next_id;
    w.next_id += 1;
    let t0 = Instant::now();
    let (reply, expect) = match workload {
        Workload::Mcp {
            tool,
            arguments,
            expect,
            ..
        } => {
            let session = w.session.as_ref();
            let headers = session.map(|s| s.call_headers(tool)).unwrap_or_default();
            let body = mcp::call_body(id, tool, arguments, session);
            let reply = w
                .conn
                .send(Method::POST, &target.path, &headers, Some(body))
                .await;
            (reply, Some(expect))
        }
        Workload::Bare { tool, expect } => {
            let body = mcp::call_body(id, tool, &Value::Object(Default::default()), None);
            let reply = w
                .conn
                .send(Method::POST, &target.path, &[], Some(body))
                .await;
            (reply, Some(expect))
        }
        Workload::Get { .. } => (
            w.conn.send(Method::GET, &target.path, &[], None).await,
            None,
        ),
    };
    let reply = reply.map_err(Failure::Transport)?;
    w.latencies_ns.push(t0.elapsed().as_nanos() as u64);
    match (workload, expect) {
        (Workload::Get { marker }, _) => check_get(&reply.body, reply.status, marker),
        (_, Some(expect)) => {
            let stateless = w.session.as_ref().is_some_and(|s| s.stateless);
            mcp::check_call(&reply, id, expect, stateless)
        }
        (_, None) => Ok(()),
    }
    .map_err(Failure::Wrong)
}

fn check_get(body: &Bytes, status: u16, marker: &str) -> Result<(), Error> {
    let text = String::from_utf8_lossy(body);
    if status == 200 && text.contains(marker) {
        Ok(())
    } else {
        Err(Error::new(format!("GET answered HTTP {status}: {text}")))
    }
}
