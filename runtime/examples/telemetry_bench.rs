//! Cost of telemetry per `tools/call`, printed (never asserted):
//!
//! ```sh
//! cargo run --release -p mcpgen-runtime --features telemetry,testing --example telemetry_bench
//! ```
//!
//! Telemetry is switched on once per process, so each mode runs in a child
//! process of this one: `off` (the feature compiled, nothing switched on),
//! `metrics` (as `--metrics`: instruments recorded, Prometheus reader) and
//! `traces` (as `--otlp-endpoint`: also a span per request and per tool
//! call, batched to an OTLP receiver that accepts and discards, on
//! 127.0.0.1). Each figure is the median of 5 rounds of in-process calls
//! through the test client; the ratios are against `off` in the same run.

use mcpgen_runtime::prelude::*;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Instant;

const ROUNDS: usize = 5;
const CALLS: usize = 20_000;

fn server() -> Server {
    Server::builder(r#"{"name":"bench","version":"0"}"#)
        .tool(
            r#"{"name":"echo","inputSchema":{"type":"object"}}"#,
            |_ctx, _a: Value| async move { Ok(CallToolResult::text("hi")) },
        )
        .build()
        .expect("the bench server builds")
}

/// Nanoseconds per in-process `tools/call`, median of ROUNDS.
fn measure(s: Server) -> f64 {
    mcpgen_runtime::testing::block_on(async {
        let c = mcpgen_runtime::testing::TestClient::connect(s)
            .await
            .expect("connects");
        let mut rounds = vec![];
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for _ in 0..CALLS {
                let _ = c.call_tool("echo", json!({})).await;
            }
            rounds.push(t.elapsed().as_nanos() as f64 / CALLS as f64);
        }
        rounds.sort_by(|a, b| a.total_cmp(b));
        rounds[ROUNDS / 2]
    })
}

/// An OTLP/HTTP sink: answers every request 200 with an empty body.
fn sink() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = vec![0; 1 << 16];
                // One request per connection read roughly; the exporter's
                // requests are small and this only needs to answer.
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                    );
                }
            });
        }
    });
    format!("http://{addr}")
}

fn child(mode: &str) -> f64 {
    let s = server();
    let guard = match mode {
        "off" => None,
        "metrics" => Some(mcpgen_runtime::telemetry::switch_on(&s, None).expect("on")),
        _ => Some(mcpgen_runtime::telemetry::switch_on(&s, Some(&sink())).expect("on")),
    };
    let ns = measure(s);
    if let Some(g) = guard {
        let text = g.prometheus_text().expect("metrics");
        assert!(text.contains("mcpgen_tool_calls_total"), "{text}");
        g.shutdown();
    }
    ns
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(mode) = args.get(1) {
        println!("{}", child(mode));
        return;
    }
    let exe = std::env::current_exe().expect("its own path");
    let run = |mode: &str| -> f64 {
        let out = Command::new(&exe).arg(mode).output().expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a figure")
    };
    let off = run("off");
    println!("| telemetry | ns per in-process tools/call | vs off |");
    println!("| --- | --- | --- |");
    println!("| off | {off:.0} | 1.00 |");
    for mode in ["metrics", "traces"] {
        let ns = run(mode);
        println!("| {mode} | {ns:.0} | {:.2} |", ns / off);
    }
}
