//! stdio when the client closes our stdout: the session ends like at end
//! of input and the process exits 0, even though stdin stays open.
//!
//! The server runs in a child process (this test binary, re-run with an
//! environment variable), so that its stdout is a real pipe.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "MCPGEN_STDIO_PIPE_CHILD";

/// In the child: serve stdio and exit with what `cli::run` would.
fn child_main() -> ! {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = common::server(Arc::default());
    let result = rt.block_on(mcpgen_runtime::transport::stdio::serve(server));
    if let Err(e) = &result {
        eprintln!("child: serve failed: {e}");
    }
    // Not back into the test harness: its report would hit the closed pipe.
    std::process::exit(if result.is_ok() { 0 } else { 1 })
}

#[test]
fn a_closed_stdout_ends_the_session_and_exits_0() {
    if std::env::var_os(CHILD).is_some() {
        child_main();
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_closed_stdout_ends_the_session_and_exits_0",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The server answers a first request, so it is up...
    let init = common::init_body(1).to_string();
    writeln!(stdin, "{init}").unwrap();
    let mut line = String::new();
    while !line.contains("\"protocolVersion\"") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "child output ended"
        );
    }
    // ...then the client stops reading, but keeps stdin open and writes on.
    drop(stdout);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
        let _ = writeln!(stdin, "{ping}");
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server kept running after its stdout was closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    drop(stdin);
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_and_the_session_goes_on() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let server = common::server(Arc::default());
    let (mut client_in, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, client_out) = tokio::io::duplex(1 << 16);
    tokio::spawn(mcpgen_runtime::transport::stdio::serve_io_limited(
        server, server_in, server_out, 1024,
    ));
    let mut lines = tokio::io::BufReader::new(client_out).lines();
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    let init = common::init_body(2).to_string();
    for line in [big.as_str(), init.as_str()] {
        client_in.write_all(line.as_bytes()).await.unwrap();
        client_in.write_all(b"\n").await.unwrap();
    }
    let mut next = async || {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
        let line = line.expect("an answer in time").unwrap().expect("a line");
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    let refused = next().await;
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1024")
    );
    let answered = next().await;
    assert_eq!(answered["id"], 2, "{answered}");
    assert!(answered["result"]["protocolVersion"].is_string());
}
