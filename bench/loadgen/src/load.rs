//! The closed loop: N workers, each with its own keep-alive connection,
//! spread over M MCP sessions; each worker sends its next request as soon as
//! the previous answer arrived and was checked. A run stops after a number of
//! calls or a time limit, whichever comes first.

use crate::Error;
use crate::http::{Conn, Prepared};
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
    /// The request line, headers and body of this worker's calls, made
    /// once (MCP workloads; see [`Worker::prepare_calls`]).
    calls: Option<(Prepared, mcp::CallTemplate)>,
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
            calls: None,
            // Workers share sessions, and request ids in flight must be
            // unique within a session: each worker has its own id range.
            next_id: ((i as u64) << 32) + 1,
            latencies_ns: Vec::new(),
        });
    }
    if let Workload::Bare { .. } = workload {
        for w in &mut out {
            w.prepare_calls(target, workload)?;
        }
    }
    if let Workload::Mcp { version, .. } = workload {
        if mcp::is_stateless(version) {
            let session = Session::stateless(version);
            for w in &mut out {
                w.session = Some(session.clone());
                w.prepare_calls(target, workload)?;
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
            w.prepare_calls(target, workload)?;
        }
    }
    Ok(out)
}

impl Worker {
    /// The request of an MCP workload's calls, made once per worker: only
    /// the id changes from call to call.
    fn prepare_calls(&mut self, target: &Target, workload: &Workload) -> Result<(), Error> {
        let empty = Value::Object(Default::default());
        let (tool, arguments) = match workload {
            Workload::Mcp {
                tool, arguments, ..
            } => (tool, arguments),
            Workload::Bare { tool, .. } => (tool, &empty),
            Workload::Get { .. } => return Ok(()),
        };
        let session = self.session.as_ref();
        let headers = session.map(|s| s.call_headers(tool)).unwrap_or_default();
        let prepared = self.conn.prepare(&target.path, &headers)?;
        self.calls = Some((prepared, mcp::CallTemplate::new(tool, arguments, session)));
        Ok(())
    }
}

/// Run the closed loop for at most `calls` calls and at most `max_time`.
pub async fn run(
    workers: Vec<Worker>,
    target: &Target,
    workload: &Workload,
    calls: u64,
    max_time: Duration,
) -> (Vec<Worker>, Outcome) {
    run_paced(workers, target, workload, calls, max_time, None).await
}

/// [`run`], with the calls of all workers together started at no more than
/// `rate` per second when given: every server compared at a rate they all
/// sustain does the same work per second, and gets the same chances to
/// batch (a closed loop's rate follows each server's speed, and a server
/// that idles more pays more per call to go to sleep and wake up).
pub async fn run_paced(
    workers: Vec<Worker>,
    target: &Target,
    workload: &Workload,
    calls: u64,
    max_time: Duration,
    rate: Option<f64>,
) -> (Vec<Worker>, Outcome) {
    let pacer = rate.map(|r| Pacer::start(r, workers.len()));
    let permits = pacer.as_ref().map(|p| p.permits.clone());
    let budget = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + max_time;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(workers.len());
    for mut w in workers {
        let (budget, target, workload) = (budget.clone(), target.clone(), workload.clone());
        let permits = permits.clone();
        w.latencies_ns.clear();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while budget.fetch_add(1, Ordering::Relaxed) < calls && Instant::now() < deadline {
                if let Some(permits) = &permits {
                    match permits.acquire().await {
                        Ok(p) => p.forget(),
                        // The pacer stopped: the run is over.
                        Err(_) => break,
                    }
                }
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
    // After the workers: one waiting for its permit gets it while the
    // pacer runs, so none is left waiting.
    drop(pacer);
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
    let reply = match (workload, &w.calls) {
        (Workload::Get { .. }, _) => w.conn.send(Method::GET, &target.path, &[], None).await,
        (_, Some((prepared, template))) => w.conn.post(prepared, template.body(id)).await,
        // `prepare` prepares the calls of every worker of a call workload.
        (_, None) => Err(Error::new("a worker without its prepared call")),
    };
    let reply = reply.map_err(Failure::Transport)?;
    w.latencies_ns.push(t0.elapsed().as_nanos() as u64);
    match workload {
        Workload::Get { marker } => check_get(&reply.body, reply.status, marker),
        Workload::Mcp { expect, .. } | Workload::Bare { expect, .. } => {
            let stateless = w.session.as_ref().is_some_and(|s| s.stateless);
            mcp::check_call_fast(&reply, id, expect, stateless)
        }
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

/// Starts calls at a steady rate: a thread of its own adds permits as time
/// passes (tokio's timers tick in milliseconds, which would make a burst
/// of calls each millisecond). Permits never pile up past one per worker:
/// calls a slow server could not take in time are skipped, not sent later
/// in a burst.
struct Pacer {
    permits: Arc<tokio::sync::Semaphore>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Pacer {
    fn start(rate: f64, workers: usize) -> Pacer {
        let permits = Arc::new(tokio::sync::Semaphore::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, halt) = (permits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut issued = 0u64;
            while !halt.load(Ordering::Relaxed) {
                let due = (t0.elapsed().as_secs_f64() * rate) as u64;
                let add = release(due, &mut issued, p.available_permits(), workers);
                if add > 0 {
                    p.add_permits(add);
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        });
        Pacer {
            permits,
            stop,
            thread: Some(thread),
        }
    }
}

/// The permits to add when `due` calls should have started by now and
/// `issued` were accounted for, with `available` not taken yet: what is
/// due, but never more than one waiting per worker.
fn release(due: u64, issued: &mut u64, available: usize, workers: usize) -> usize {
    if due <= *issued {
        return 0;
    }
    let room = workers.saturating_sub(available) as u64;
    let add = (due - *issued).min(room);
    *issued = due;
    add as usize
}

/// Stops the thread (also when the run's future is dropped).
impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.permits.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::release;

    #[test]
    fn the_pacer_releases_what_is_due_and_no_burst() {
        let mut issued = 0;
        assert_eq!(release(0, &mut issued, 0, 32), 0);
        assert_eq!(release(5, &mut issued, 0, 32), 5);
        assert_eq!(issued, 5);
        // Nothing new is due: nothing added.
        assert_eq!(release(5, &mut issued, 3, 32), 0);
        // 100 due, 30 of 32 permits still waiting: 2 more, the rest skipped.
        assert_eq!(release(105, &mut issued, 30, 32), 2);
        assert_eq!(issued, 105);
        // The skipped calls are not made up for later.
        assert_eq!(release(106, &mut issued, 0, 32), 1);
    }
}
