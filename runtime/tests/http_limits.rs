//! The HTTP transport under abuse, over raw TCP: slow heads, slow bodies,
//! idle connections, the connection cap, oversized bodies (413 readable by
//! clients that write everything first), and Host/Origin tricks.

mod common;

use common::*;
use mcpgen_runtime::transport::http::HttpConfig;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound on any wait here: reaching it means the server hung.
const HANG: Duration = Duration::from_secs(10);

async fn connect(t: &TestServer) -> TcpStream {
    TcpStream::connect(t.addr).await.unwrap()
}

/// True when the server closed the connection (EOF or reset) before HANG.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(HANG, read_all).await.is_ok()
}

/// One response: status and body (Content-Length framed; the servers
/// answer plain JSON here).
async fn response(s: &mut TcpStream) -> (u16, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let read = async {
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if got.len() >= end + 4 + len {
                    let status = head[9..12].parse().unwrap();
                    let body = String::from_utf8_lossy(&got[end + 4..end + 4 + len]).into();
                    got.drain(..end + 4 + len);
                    return (status, body);
                }
            }
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before a full response: {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(HANG, read).await.expect("a response")
}

fn post(target: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "POST {target} HTTP/1.1\r\nhost: localhost\r\naccept: application/json, text/event-stream\r\n\
         content-type: application/json\r\n{extra_headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// `base` with some fields changed (`HttpConfig` is non-exhaustive, so no
/// struct literal outside the runtime).
fn with(mut base: HttpConfig, change: impl FnOnce(&mut HttpConfig)) -> HttpConfig {
    change(&mut base);
    base
}

/// Short timeouts, for tests to override one by one.
fn quick() -> HttpConfig {
    with(HttpConfig::default(), |c| {
        c.header_read_timeout = Duration::from_millis(300);
        c.body_read_timeout = Duration::from_millis(300);
        c.idle_timeout = Duration::from_millis(300);
    })
}

#[tokio::test]
async fn slow_or_missing_request_heads_are_dropped() {
    let t = start(with(quick(), |c| {
        c.idle_timeout = Duration::from_secs(60);
    }))
    .await;
    // Headers that never finish.
    let mut s = connect(&t).await;
    s.write_all(b"POST /mcp HTTP/1.1\r\nhost: localhost\r\nx-a: 1\r\n")
        .await
        .unwrap();
    assert!(closed_by_server(&mut s).await, "slow head held open");
    // A connection that never sends anything.
    let mut s = connect(&t).await;
    assert!(
        closed_by_server(&mut s).await,
        "silent connection held open"
    );
    // On a kept-alive connection the head timer starts at the first byte.
    let mut s = connect(&t).await;
    s.write_all(post("/mcp", "", &init_body(1).to_string()).as_bytes())
        .await
        .unwrap();
    assert_eq!(response(&mut s).await.0, 200);
    s.write_all(b"POST /mcp HTTP/1.1\r\n").await.unwrap();
    assert!(closed_by_server(&mut s).await, "slow second head held open");
}

#[tokio::test]
async fn a_head_after_a_long_idle_wait_gets_the_short_head_timeout() {
    // The idle timer (60 s) is armed when the head's first byte comes: the
    // head's own (300 ms) must replace it, not wait behind it.
    let t = start(with(quick(), |c| {
        c.idle_timeout = Duration::from_secs(60);
    }))
    .await;
    let mut s = connect(&t).await;
    s.write_all(post("/mcp", "", &init_body(1).to_string()).as_bytes())
        .await
        .unwrap();
    assert_eq!(response(&mut s).await.0, 200);
    // Past the accept-time head timer, so only the idle one is armed.
    tokio::time::sleep(Duration::from_millis(450)).await;
    s.write_all(b"POST /mcp HTTP/1.1\r\n").await.unwrap();
    assert!(
        closed_by_server(&mut s).await,
        "slow head after idle held open"
    );
}

#[tokio::test]
async fn a_connection_in_use_outlives_its_first_deadlines() {
    // Requests every 150 ms for 1.2 s, with head and idle timeouts of
    // 300 ms: each phase moves the deadline on, and the timer set at
    // accept must not end the connection when it fires.
    let t = start(quick()).await;
    let mut s = connect(&t).await;
    for i in 0..8 {
        s.write_all(post("/mcp", "", &init_body(i).to_string()).as_bytes())
            .await
            .unwrap();
        assert_eq!(response(&mut s).await.0, 200, "request {i}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(closed_by_server(&mut s).await, "idle at last, closed");
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_gets_408_and_is_dropped() {
    let t = start(quick()).await;
    let mut s = connect(&t).await;
    let head = post("/mcp", "", "");
    let head = head.replace("content-length: 0", "content-length: 100");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(br#"{"jsonrpc":"#).await.unwrap();
    let (status, body) = response(&mut s).await;
    assert_eq!(status, 408, "{body}");
    assert!(closed_by_server(&mut s).await);
}

#[tokio::test]
async fn idle_connections_are_closed_but_busy_ones_are_not() {
    let t = start(with(quick(), |c| {
        c.header_read_timeout = Duration::from_secs(60);
        c.idle_timeout = Duration::from_millis(100);
    }))
    .await;
    let session = Session::open(&t.url).await;
    let mut s = connect(&t).await;
    // A call that takes longer than the idle timeout keeps its connection.
    let nap = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nap","arguments":{}}});
    let headers = format!("mcp-session-id: {}\r\n", session.id);
    s.write_all(post("/mcp", &headers, &nap.to_string()).as_bytes())
        .await
        .unwrap();
    let (status, body) = response(&mut s).await;
    assert_eq!(status, 200);
    assert!(body.contains("rested"), "{body}");
    // Then, with nothing to do, it is closed.
    assert!(closed_by_server(&mut s).await, "idle connection held open");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once_and_lets_answers_finish() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = common::server(std::sync::Arc::default());
    let served = tokio::spawn(mcpgen_runtime::transport::http::serve_listener(
        listener,
        server,
        HttpConfig::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let session = Session::open(&format!("http://{addr}/mcp")).await;
    // A kept-alive connection, idle when the shutdown comes.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(post("/mcp", "", &init_body(1).to_string()).as_bytes())
        .await
        .unwrap();
    assert_eq!(response(&mut idle).await.0, 200);
    // And one whose answer (a 200 ms nap) is under way.
    let mut busy = TcpStream::connect(addr).await.unwrap();
    let nap = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nap","arguments":{}}});
    let headers = format!("mcp-session-id: {}\r\n", session.id);
    busy.write_all(post("/mcp", &headers, &nap.to_string()).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(()).unwrap();
    // Told at once, not dropped after the 5 s grace (nor at the idle timeout).
    let closed = tokio::time::timeout(Duration::from_secs(2), closed_by_server(&mut idle)).await;
    assert!(
        matches!(closed, Ok(true)),
        "the idle connection was not closed on shutdown"
    );
    let (status, body) = response(&mut busy).await;
    assert_eq!(status, 200);
    assert!(body.contains("rested"), "{body}");
    assert!(closed_by_server(&mut busy).await, "closed after its answer");
    let ended = tokio::time::timeout(HANG, served).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "serve_listener did not return"
    );
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let t = start(with(HttpConfig::default(), |c| {
        c.max_connections = 2;
    }))
    .await;
    let mut held = vec![connect(&t).await, connect(&t).await];
    for s in &mut held {
        s.write_all(post("/mcp", "", &init_body(1).to_string()).as_bytes())
            .await
            .unwrap();
        assert_eq!(response(s).await.0, 200);
    }
    let mut third = connect(&t).await;
    third
        .write_all(post("/mcp", "", &init_body(3).to_string()).as_bytes())
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.peek(&mut byte)).await;
    assert!(
        early.is_err(),
        "a third connection was served at a cap of 2"
    );
    drop(held.pop());
    assert_eq!(response(&mut third).await.0, 200);
}

#[tokio::test]
async fn duplicate_host_is_400_and_duplicate_origin_or_foreign_target_is_403() {
    let t = start(HttpConfig::default()).await;
    let init = init_body(1).to_string();
    let cases = [
        (post("/mcp", "host: evil.example.com\r\n", &init), 400),
        (
            post(
                "/mcp",
                "origin: http://localhost\r\norigin: http://evil.example.com\r\n",
                &init,
            ),
            403,
        ),
        (post("http://evil.example.com/mcp", "", &init), 403),
        (post("http://localhost/mcp", "", &init), 200),
        (
            post("http://localhost/mcp", "", &init)
                .replace("host: localhost", "host: evil.example.com"),
            200,
        ),
    ];
    for (request, expected) in cases {
        let mut s = connect(&t).await;
        s.write_all(request.as_bytes()).await.unwrap();
        let (status, body) = response(&mut s).await;
        assert_eq!(status, expected, "{request}\n{body}");
    }
    assert_eq!(
        t.server.sessions().len(),
        2,
        "refused requests created nothing"
    );
}

#[tokio::test]
async fn an_oversized_body_written_in_full_before_reading_still_gets_413() {
    let t = start(with(HttpConfig::default(), |c| {
        c.max_body_bytes = 1024;
    }))
    .await;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    // Declared length, then chunked: the whole body goes out before any read.
    let chunked = {
        let mut r =
            post("/mcp", "transfer-encoding: chunked\r\n", "").replace("content-length: 0\r\n", "");
        for part in big.as_bytes().chunks(64 * 1024) {
            r.push_str(&format!(
                "{:x}\r\n{}\r\n",
                part.len(),
                std::str::from_utf8(part).unwrap()
            ));
        }
        r.push_str("0\r\n\r\n");
        r
    };
    for request in [post("/mcp", "", &big), chunked] {
        let mut s = connect(&t).await;
        tokio::time::timeout(HANG, s.write_all(request.as_bytes()))
            .await
            .expect("the server reads the body it refuses")
            .expect("no broken pipe");
        let (status, body) = response(&mut s).await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains("1024"), "{body}");
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body_is_sent() {
    let t = start(with(HttpConfig::default(), |c| {
        c.max_body_bytes = 1024;
    }))
    .await;
    for extra in ["", "expect: 100-continue\r\n"] {
        let mut s = connect(&t).await;
        let head =
            post("/mcp", extra, "").replace("content-length: 0", "content-length: 1073741824");
        s.write_all(head.as_bytes()).await.unwrap();
        let (status, _) = response(&mut s).await;
        assert_eq!(status, 413, "{extra}");
        assert!(closed_by_server(&mut s).await);
    }
}

#[tokio::test]
async fn a_message_of_too_many_json_values_is_refused_before_parsing() {
    let t = start(with(HttpConfig::default(), |c| {
        c.max_body_bytes = 64 * 1024;
    }))
    .await;
    // 64 KiB allow 4096 values (the floor): 30,000 zeros fit the bytes, not the budget.
    let zeros = vec!["0"; 30_000].join(",");
    let body =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"a":[{zeros}]}}}}"#);
    assert!(body.len() < 64 * 1024);
    let mut s = connect(&t).await;
    s.write_all(post("/mcp", "", &body).as_bytes())
        .await
        .unwrap();
    let (status, answer) = response(&mut s).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("-32600") && answer.contains("4096 JSON values"),
        "{answer}"
    );
    assert_eq!(t.server.sessions().len(), 0);
}
