//! The 2024-11-05 HTTP+SSE transport (`--legacy-sse`) from outside: a
//! client that opens `GET /sse`, reads the `endpoint` event and POSTs its
//! messages there, reading every answer from the stream.

mod common;

use common::{TestServer, init_body, start, wait_until};
use mcpgen_runtime::transport::http::{HttpConfig, LegacySse};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config() -> HttpConfig {
    let mut c = HttpConfig::default();
    c.legacy_sse = Some(LegacySse::default());
    c
}

fn base(url: &str) -> String {
    url.trim_end_matches("/mcp").to_owned()
}

/// A legacy client: the open stream and the URL it posts to.
struct Legacy {
    http: reqwest::Client,
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
    /// Comment lines seen so far (keep-alives).
    comments: Vec<String>,
    post_url: String,
    session: String,
}

impl Legacy {
    async fn open(base: &str) -> Legacy {
        let http = common::client();
        let r = http
            .get(format!("{base}/sse"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(common::content_type(&r), "text/event-stream");
        let mut c = Legacy {
            http,
            stream: futures::StreamExt::boxed(r.bytes_stream()),
            buf: String::new(),
            comments: vec![],
            post_url: String::new(),
            session: String::new(),
        };
        let (event, data) = c.next().await.expect("the endpoint event");
        assert_eq!(event, "endpoint");
        let session = data
            .strip_prefix("/messages?sessionId=")
            .unwrap_or_else(|| panic!("endpoint {data}"));
        c.session = session.to_owned();
        c.post_url = format!("{base}{data}");
        c
    }

    /// The next event (name, data); None when the stream ends.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut data) = ("message".to_owned(), None);
                for line in block.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        self.comments.push(c.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(v.to_owned());
                    }
                }
                match data {
                    Some(d) => return Some((event, d)),
                    None => continue,
                }
            }
            let chunk = tokio::time::timeout(
                Duration::from_secs(10),
                futures::StreamExt::next(&mut self.stream),
            )
            .await
            .expect("an event in time")?;
            self.buf
                .push_str(std::str::from_utf8(&chunk.ok()?).unwrap());
        }
    }

    /// The next `message` event, as JSON.
    async fn message(&mut self) -> Value {
        let (event, data) = self.next().await.expect("a message");
        assert_eq!(event, "message");
        serde_json::from_str(&data).unwrap()
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        self.http
            .post(&self.post_url)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn send(&self, body: Value) {
        let r = self.post(body).await;
        assert_eq!(r.status(), 202);
    }

    /// initialize (at 2024-11-05) and initialized.
    async fn initialize(&mut self) -> Value {
        let mut init = init_body(0);
        init["params"]["protocolVersion"] = json!("2024-11-05");
        self.send(init).await;
        let resp = self.message().await;
        self.send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await;
        resp
    }

    /// Call `method`, collecting what arrives until its response.
    async fn call(&mut self, id: i64, method: &str, params: Value) -> (Vec<Value>, Value) {
        self.send(json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
            .await;
        let mut before = vec![];
        loop {
            let m = self.message().await;
            if m["id"] == json!(id) && m.get("method").is_none() {
                return (before, m);
            }
            before.push(m);
        }
    }
}

#[tokio::test]
async fn without_the_flag_the_legacy_paths_are_404() {
    let t = start(HttpConfig::default()).await;
    let http = common::client();
    let get = http
        .get(format!("{}/sse", base(&t.url)))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 404);
    let post = http
        .post(format!("{}/messages?sessionId=abc", base(&t.url)))
        .json(&init_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
}

#[tokio::test]
async fn a_session_negotiates_lists_and_calls_over_the_stream() {
    let t = start(config()).await;
    let mut c = Legacy::open(&base(&t.url)).await;
    let init = c.initialize().await;
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(init["result"]["serverInfo"]["name"], "test-server");

    let (_, tools) = c.call(1, "tools/list", json!({})).await;
    assert!(tools["result"]["tools"].as_array().unwrap().len() >= 4);
    let (_, echo) = c
        .call(
            2,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"hi"}}),
        )
        .await;
    assert_eq!(echo["result"]["content"][0]["text"], "hi");
    let (_, read) = c
        .call(3, "resources/read", json!({"uri":"test://text"}))
        .await;
    assert_eq!(read["result"]["contents"][0]["text"], "hello");
    let (_, prompt) = c
        .call(
            4,
            "prompts/get",
            json!({"name":"greet","arguments":{"name":"Ada"}}),
        )
        .await;
    assert_eq!(
        prompt["result"]["messages"][0]["content"]["text"],
        "Hello Ada!"
    );
}

#[tokio::test]
async fn progress_logs_and_sampling_travel_down_the_stream() {
    let t = start(config()).await;
    let mut c = Legacy::open(&base(&t.url)).await;
    c.initialize().await;
    let (_, _) = c.call(1, "logging/setLevel", json!({"level":"info"})).await;
    let (before, done) = c
        .call(
            2,
            "tools/call",
            json!({"name":"progress","arguments":{},"_meta":{"progressToken":"p"}}),
        )
        .await;
    assert_eq!(done["result"]["content"][0]["text"], "done");
    let methods: Vec<&str> = before.iter().filter_map(|m| m["method"].as_str()).collect();
    assert_eq!(
        methods
            .iter()
            .filter(|m| **m == "notifications/progress")
            .count(),
        3
    );
    assert_eq!(
        methods
            .iter()
            .filter(|m| **m == "notifications/message")
            .count(),
        3
    );

    // A server→client request: answered by a POST of the response.
    c.send(json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"sample","arguments":{}}}))
        .await;
    let ask = c.message().await;
    assert_eq!(ask["method"], "sampling/createMessage");
    c.send(json!({"jsonrpc":"2.0","id":ask["id"],"result":{
        "role":"assistant","content":{"type":"text","text":"forty-two"},"model":"m"}}))
        .await;
    let answer = c.message().await;
    assert_eq!(answer["id"], 3);
    assert_eq!(
        answer["result"]["content"][0]["text"],
        "model said: forty-two"
    );
}

/// A session whose call (`id`) of `wait_for_cancel` is in flight.
async fn waiting_for_cancel(id: i64) -> (TestServer, Legacy) {
    let t = start(config()).await;
    let mut c = Legacy::open(&base(&t.url)).await;
    c.initialize().await;
    c.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"wait_for_cancel","arguments":{}}}))
        .await;
    wait_until("request never started", || {
        t.server
            .sessions()
            .all()
            .iter()
            .any(|s| s.requests_in_flight() > 0)
    })
    .await;
    (t, c)
}

#[tokio::test]
async fn closing_the_stream_ends_the_session_and_cancels_its_requests() {
    let (t, c) = waiting_for_cancel(1).await;
    let (http, post_url) = (c.http.clone(), c.post_url.clone());
    drop(c);
    wait_until("not cancelled", || {
        t.probes.cancelled.load(Ordering::SeqCst)
    })
    .await;
    assert_eq!(t.server.sessions().len(), 0, "the session is gone");
    let r = http
        .post(&post_url)
        .json(&json!({"jsonrpc":"2.0","id":2,"method":"ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn cancelled_notifications_cancel_the_request() {
    let (t, mut c) = waiting_for_cancel(7).await;
    c.send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}))
        .await;
    wait_until("not cancelled", || {
        t.probes.cancelled.load(Ordering::SeqCst)
    })
    .await;
    // The session lives on.
    let (_, pong) = c.call(8, "ping", json!({})).await;
    assert_eq!(pong["result"], json!({}));
}

#[tokio::test]
async fn bad_posts_are_refused_with_a_status() {
    let mut cfg = config();
    cfg.max_body_bytes = 1024;
    let t = start(cfg).await;
    let c = Legacy::open(&base(&t.url)).await;
    let messages = format!("{}/messages", base(&t.url));
    let http = common::client();
    let unknown = http
        .post(format!("{messages}?sessionId=0123456789abcdef"))
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let missing = http
        .post(&messages)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let garbage = http
        .post(&c.post_url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    let text = http
        .post(&c.post_url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    let big = c
        .post(json!({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"x".repeat(4096)}}))
        .await;
    assert_eq!(big.status(), 413);
    let get = http.get(&c.post_url).send().await.unwrap();
    assert_eq!(get.status(), 405);
    // A legacy session is not a Streamable HTTP one.
    let mcp = http
        .post(&t.url)
        .header("accept", common::ACCEPT_BOTH)
        .header("mcp-session-id", &c.session)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 404);
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused_on_both_paths() {
    let t = start(config()).await;
    let http = common::client();
    let b = base(&t.url);
    let r = http
        .get(format!("{b}/sse"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let c = Legacy::open(&b).await;
    let r = http
        .post(&c.post_url)
        .header("origin", "http://evil.example")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_stream_carries_keep_alive_comments() {
    let mut cfg = config();
    cfg.keep_alive = Duration::from_millis(50);
    let t = start(cfg).await;
    let mut c = Legacy::open(&base(&t.url)).await;
    c.initialize().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, pong) = c.call(1, "ping", json!({})).await;
    assert_eq!(pong["result"], json!({}));
    assert!(
        c.comments.iter().any(|k| k == "keep-alive"),
        "{:?}",
        c.comments
    );
}

#[tokio::test]
async fn a_new_stream_takes_the_place_of_an_idle_one_at_the_session_limit() {
    let mut cfg = config();
    cfg.max_sessions = 1;
    let t = start(cfg).await;
    let mut first = Legacy::open(&base(&t.url)).await;
    let second = Legacy::open(&base(&t.url)).await;
    assert_ne!(first.session, second.session);
    assert!(first.next().await.is_none(), "the evicted stream ends");
    assert_eq!(
        first
            .post(json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
            .await
            .status(),
        404
    );
    assert_eq!(t.server.sessions().len(), 1);
}

/// A client that never reads its stream: once the socket's buffers and the
/// queue are full, the session is ended rather than buffered without bound.
#[tokio::test]
async fn a_reader_that_falls_behind_loses_its_session() {
    let mut cfg = config();
    let mut legacy = LegacySse::default();
    legacy.queue = 4;
    cfg.legacy_sse = Some(legacy);
    cfg.max_body_bytes = 2 * 1024 * 1024;
    let t = start(cfg).await;
    let mut sock = tokio::net::TcpStream::connect(t.addr).await.unwrap();
    sock.write_all(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    // Read just the head and the endpoint event, then never again.
    let mut head = vec![0u8; 4096];
    let mut seen = String::new();
    while !seen.contains("sessionId=") || !seen[seen.find("sessionId=").unwrap()..].contains('\n') {
        let n = sock.read(&mut head).await.unwrap();
        assert!(n > 0, "stream ended early");
        seen.push_str(&String::from_utf8_lossy(&head[..n]));
    }
    let at = seen.find("sessionId=").unwrap() + "sessionId=".len();
    let session: String = seen[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    let post_url = format!("{}/messages?sessionId={session}", base(&t.url));
    let http = common::client();
    let post = |body: Value| http.post(&post_url).json(&body).send();
    let mut init = init_body(0);
    init["params"]["protocolVersion"] = json!("2024-11-05");
    assert_eq!(post(init).await.unwrap().status(), 202);
    let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(post(initialized).await.unwrap().status(), 202);
    let text = "x".repeat(1024 * 1024);
    let mut ended = false;
    for i in 0..200 {
        let call = json!({"jsonrpc":"2.0","id":i + 1,"method":"tools/call","params":{"name":"echo","arguments":{"text":text}}});
        let r = post(call).await.unwrap();
        if r.status() == 404 {
            ended = true;
            break;
        }
        assert_eq!(r.status(), 202);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(ended, "200 MiB queued for a client that does not read");
    drop(sock);
}

/// With a shared store a legacy session stays on its instance (another
/// answers 404: the deployment needs affinity), yet what any instance
/// publishes reaches its stream through the bus.
#[tokio::test]
async fn with_a_shared_store_updates_from_another_instance_reach_the_stream() {
    let redis = common::redis::Redis::start().await;
    let store: std::sync::Arc<dyn mcpgen_runtime::state::StateStore> = std::sync::Arc::new(
        mcpgen_runtime::state::RedisState::new(&redis.url(), "legacy").unwrap(),
    );
    let shared = || {
        let mut c = config();
        c.state_store = Some(store.clone());
        c
    };
    let (a, b) = (start(shared()).await, start(shared()).await);
    let mut c = Legacy::open(&base(&a.url)).await;
    c.initialize().await;
    let (_, sub) = c
        .call(1, "resources/subscribe", json!({"uri":"test://text"}))
        .await;
    assert_eq!(sub["result"], json!({}));

    let elsewhere = format!("{}/messages?sessionId={}", base(&b.url), c.session);
    let r = c
        .http
        .post(&elsewhere)
        .json(&json!({"jsonrpc":"2.0","id":2,"method":"ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the session lives on instance a only");

    let other = common::Session::open(&b.url).await;
    let touched = other
        .result(
            1,
            "tools/call",
            json!({"name":"touch","arguments":{"uri":"test://text"}}),
        )
        .await;
    assert_eq!(touched["result"]["content"][0]["text"], "touched");
    let update = c.message().await;
    assert_eq!(update["method"], "notifications/resources/updated");
    assert_eq!(update["params"]["uri"], "test://text");
}
