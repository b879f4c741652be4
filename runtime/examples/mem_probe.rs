//! Peak memory (RSS high-water mark, Linux `VmHWM`) of a server process
//! for one large message: an HTTP request at the body limit, a stdio line
//! at and far over the limit, and a large upstream JSON response. Run by
//! `scripts/mem-probe.sh`, which can also build it against an older
//! revision for a before/after comparison. Prints figures; asserts nothing.
//!
//! Each case runs in a fresh child process (this binary, `child MODE`);
//! the parent reads the child's `/proc/PID/status` before and after.
//! Only APIs that exist since the first release are used, so the same
//! file builds against older revisions.

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::transport::http::{self, HttpConfig};
use mcpgen_runtime::upstream::UpstreamOverrides;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("child") => child(&args[2..]),
        _ => parent(),
    }
}

fn server(upstream: Option<&str>) -> Server {
    let tool =
        r#"{"name":"take","description":"accepts anything","inputSchema":{"type":"object"}}"#;
    let mut b = Server::builder(r#"{"name":"mem-probe","version":"0"}"#).tool(
        tool,
        |_ctx, a: Value| async move {
            Ok(CallToolResult::text(format!(
                "{} keys",
                a.as_object().map_or(0, |o| o.len())
            )))
        },
    );
    if let Some(url) = upstream {
        let config = json!({"baseUrl": url, "timeoutMs": 60000, "maxResponseBytes": 64 * MIB,
            "retries": {"max": 0, "initialBackoffMs": 1}});
        let fetch = r#"{"name":"fetch","description":"d","inputSchema":{"type":"object"}}"#;
        b = b
            .upstream(&config.to_string())
            .upstream_tool(fetch, r#"{"method":"GET","path":"/big"}"#);
    }
    let server = b.build().expect("server builds");
    if let Some(url) = upstream {
        // Not a struct literal: `UpstreamOverrides` is non-exhaustive now.
        let mut o = UpstreamOverrides::default();
        o.base_url = Some(url.to_owned());
        server.configure_upstream(&o).expect("upstream configured");
    }
    server
}

/// `child http PORT` | `child stdio` | `child upstream URL`
fn child(args: &[String]) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        match args[0].as_str() {
            "http" => {
                let addr = format!("127.0.0.1:{}", args[1]).parse().expect("port");
                let _ = http::serve(server(None), addr, HttpConfig::default()).await;
            }
            "upstream" => {
                let _ = mcpgen_runtime::transport::stdio::serve(server(Some(&args[1]))).await;
            }
            _ => {
                let _ = mcpgen_runtime::transport::stdio::serve(server(None)).await;
            }
        }
    });
}

/// Peak and current RSS of a process, in KiB.
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A tools/call of `take` whose arguments hold `[0,0,…]` (the costliest
/// shape per byte: every two bytes are a JSON value) `size` bytes long.
fn call_of_size(size: usize) -> String {
    let head = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"take","arguments":{"a":["#;
    let tail = "0]}}}";
    let n = (size.saturating_sub(head.len() + tail.len())) / 2;
    format!("{head}{}{tail}", "0,".repeat(n))
}

/// The costliest message the value budget still accepts: `values` small
/// values (array items, or members with distinct keys), padded with one
/// string to `size` bytes.
fn call_with_values(size: usize, values: usize, members: bool) -> String {
    let items: Vec<String> = (0..values)
        .map(|i| {
            if members {
                format!("\"{i:x}\":0")
            } else {
                "0".into()
            }
        })
        .collect();
    let (open, close) = if members { ("{", "}") } else { ("[", "]") };
    let head = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"take","arguments":{{"a":{open}{}{close},"pad":""#,
        items.join(",")
    );
    let tail = "\"}}}";
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

fn spawn(args: &[&str]) -> Child {
    let exe = std::env::current_exe().expect("own path");
    Command::new(exe)
        .arg("child")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts")
}

fn report(case: &str, bytes: usize, before: (u64, u64), after: (u64, u64), outcome: &str) {
    let grew = after.0.saturating_sub(before.0) * 1024;
    println!(
        "{case:<44} {:>6.1} MiB  peak RSS {:>7.1} MiB (+{:>6.1} MiB, {:>5.1}x the message)  {outcome}",
        bytes as f64 / MIB as f64,
        after.0 as f64 / 1024.0,
        grew as f64 / MIB as f64,
        grew as f64 / bytes as f64,
    );
}

/// Initialize over stdio, then send `line` and wait for the answer to id 2.
/// `size` is the message the figures are relative to.
fn stdio_case(case: &str, mut child: Child, line: &str, size: usize) {
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"0"}}}"#;
    writeln!(stdin, "{init}").expect("write");
    let mut answer = String::new();
    stdout.read_line(&mut answer).expect("initialize answered");
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .expect("write");
    std::thread::sleep(Duration::from_millis(200));
    let before = rss(child.id());
    writeln!(stdin, "{line}").expect("write");
    answer.clear();
    stdout.read_line(&mut answer).expect("answered");
    let after = rss(child.id());
    let outcome = if answer.contains("\"error\"") {
        "refused"
    } else {
        "answered"
    };
    report(case, size, before, after, outcome);
    drop(stdin);
    let _ = child.wait();
}

fn http_case(case: &str, body: String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = spawn(&["http", &port.to_string()]);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::new();
        let post = |body: String, session: Option<String>| {
            let mut r = client
                .post(&url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .body(body);
            if let Some(s) = session {
                r = r.header("mcp-session-id", s).header("mcp-protocol-version", "2025-11-25");
            }
            r.send()
        };
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"0"}}}"#;
        let mut session = None;
        for _ in 0..100 {
            if let Ok(r) = post(init.to_owned(), None).await {
                session = r.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let session = session.expect("the child serves HTTP");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = rss(child.id());
        let size = body.len();
        let status = post(body, Some(session)).await.map(|r| r.status().as_u16()).unwrap_or(0);
        let after = rss(child.id());
        report(case, size, before, after, &format!("HTTP {status}"));
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// A one-shot upstream answering GET /big with `body`.
fn upstream_case(case: &str, body: String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let len = body.len();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fetch","arguments":{}}}"#;
    stdio_case(case, spawn(&["upstream", &url]), call, len);
}

/// `[0,0,…]` of `values` items padded (in a trailing string item) to `size`.
fn json_array(size: usize, values: usize) -> String {
    let items = "0,".repeat(values.saturating_sub(1));
    let pad = size.saturating_sub(items.len() + 4);
    format!("[{items}\"{}\"]", "x".repeat(pad))
}

fn parent() {
    println!("one message per fresh server process; peak RSS is the process high-water mark");
    let limit = 4 * MIB;
    // One value per 32 bytes of the limit is accepted (before: no budget).
    let budget = limit / 32 - 16;
    http_case(
        "HTTP: [0,0,…] filling the 4 MiB limit",
        call_of_size(limit - 1024),
    );
    let most = call_with_values(limit - 1024, budget, false);
    http_case("HTTP: 4 MiB, most values accepted (array)", most);
    let most = call_with_values(limit - 1024, budget, true);
    http_case("HTTP: 4 MiB, most values accepted (members)", most);
    let at_limit = call_of_size(limit - 1024);
    let stdio = spawn(&["stdio"]);
    stdio_case(
        "stdio: [0,0,…] line filling 4 MiB",
        stdio,
        &at_limit,
        at_limit.len(),
    );
    let most = call_with_values(limit - 1024, budget, true);
    let stdio = spawn(&["stdio"]);
    stdio_case(
        "stdio: 4 MiB, most values accepted (members)",
        stdio,
        &most,
        most.len(),
    );
    let big = call_of_size(15 * MIB);
    stdio_case("stdio: line of 15 MiB", spawn(&["stdio"]), &big, big.len());
    upstream_case("upstream: [0,0,…] of 14 MiB", json_array(14 * MIB, 7 * MIB));
    upstream_case(
        "upstream: 14 MiB, 512 Ki values",
        json_array(14 * MIB, MIB / 2 - 16),
    );
}
