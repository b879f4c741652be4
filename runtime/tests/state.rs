//! Sessions shared through Redis (docs/deployment.md): two instances of the
//! test server, in process, sharing a real `redis-server` started here on
//! a free port. Whatever instance a request reaches, the session is the
//! same one.

mod common;

use common::redis::{Redis, free_port};
use common::*;
use mcpgen_runtime::state::{RedisState, StateStore};
use mcpgen_runtime::transport::http::HttpConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upper bound on any wait here: reaching it means something hung.
const HANG: Duration = Duration::from_secs(10);

fn store(redis: &Redis) -> Arc<dyn StateStore> {
    Arc::new(RedisState::new(&redis.url(), "test").unwrap())
}

fn config(store: &Arc<dyn StateStore>, max_sessions: usize) -> HttpConfig {
    let mut c = HttpConfig::default();
    c.state_store = Some(store.clone());
    c.max_sessions = max_sessions;
    c
}

/// Two instances sharing `store`.
async fn pair(store: &Arc<dyn StateStore>, max_sessions: usize) -> (TestServer, TestServer) {
    (
        start(config(store, max_sessions)).await,
        start(config(store, max_sessions)).await,
    )
}

/// The same client session, talking to another instance.
fn on(s: &Session, url: &str) -> Session {
    Session {
        http: s.http.clone(),
        url: url.to_owned(),
        id: s.id.clone(),
    }
}

#[tokio::test]
async fn a_session_started_on_one_instance_goes_on_on_another_and_ends_everywhere() {
    let redis = Redis::start().await;
    let store = store(&redis);
    let (a, b) = pair(&store, 100).await;
    let s = Session::open(&a.url).await;
    let sb = on(&s, &b.url);
    let r = sb
        .result(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"hi"}}),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "hi");
    // What B changed, A sees: the log level is in the record.
    let r = sb
        .result(2, "logging/setLevel", json!({"level":"error"}))
        .await;
    assert!(r.get("result").is_some(), "{r}");
    let msgs = s
        .call(3, "tools/call", json!({"name":"progress","arguments":{}}))
        .await;
    assert!(
        !msgs.iter().any(|m| m["method"] == "notifications/message"),
        "info logs pass an `error` level set on the other instance: {msgs:?}"
    );
    assert_eq!(store.count().await.unwrap(), 1);
    // DELETE on B: 404 on both.
    assert_eq!(sb.delete().await.status(), 200);
    for (who, t) in [("a", &a), ("b", &b)] {
        let r = on(&s, &t.url)
            .post(json!({"jsonrpc":"2.0","id":4,"method":"ping"}))
            .await;
        assert_eq!(r.status(), 404, "{who}");
    }
    assert_eq!(store.count().await.unwrap(), 0, "nothing left counted");
}

#[tokio::test]
async fn the_session_limit_counts_every_instance() {
    let redis = Redis::start().await;
    let store = store(&redis);
    let (a, b) = pair(&store, 2).await;
    let first = Session::open(&a.url).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let _second = Session::open(&b.url).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The third, on A, makes room by ending the one idle longest.
    let _third = Session::open(&a.url).await;
    assert_eq!(store.count().await.unwrap(), 2);
    for t in [&a, &b] {
        let r = on(&first, &t.url)
            .post(json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
            .await;
        assert_eq!(r.status(), 404, "the evicted session is gone everywhere");
    }
}

#[tokio::test]
async fn a_sampling_request_of_one_instance_is_answered_through_another() {
    let redis = Redis::start().await;
    let store = store(&redis);
    let (a, b) = pair(&store, 100).await;
    let s = Session::open(&a.url).await;
    let call = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"sample","arguments":{}}});
    let r = s.post(call).await;
    assert_eq!(r.status(), 200);
    let mut events = Events {
        r,
        buf: String::new(),
    };
    let asked = events
        .next(|m| m["method"] == "sampling/createMessage")
        .await;
    let answer = json!({"jsonrpc":"2.0","id":asked["id"],"result":{
        "role":"assistant","content":{"type":"text","text":"from b"},"model":"m"}});
    assert_eq!(on(&s, &b.url).post(answer).await.status(), 202);
    let done = events.next(|m| m["id"] == json!(7)).await;
    assert_eq!(done["result"]["content"][0]["text"], "model said: from b");
}

#[tokio::test]
async fn a_stream_of_one_instance_resumes_on_another() {
    let redis = Redis::start().await;
    let store = store(&redis);
    let (a, b) = pair(&store, 100).await;
    let s = Session::open(&a.url).await;
    // `reconnect` closes its stream after the priming event, then answers.
    let r = s
        .post(json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"reconnect","arguments":{}}}))
        .await;
    let text = r.text().await.unwrap();
    let last = parse_sse(&text)
        .into_iter()
        .filter_map(|(id, _)| id)
        .next_back()
        .expect("an event id");
    let get = |last: &str| {
        s.http
            .get(&b.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &s.id)
            .header("last-event-id", last.to_owned())
            .send()
    };
    let resumed = tokio::time::timeout(HANG, get(&last))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let msgs = tokio::time::timeout(HANG, read_messages(resumed))
        .await
        .unwrap();
    let answer = msgs
        .iter()
        .find(|m| m["id"] == json!(9))
        .expect("the answer");
    assert_eq!(answer["result"]["content"][0]["text"], "after reconnect");
    // Another session's event ids replay nothing of it.
    let other = Session::open(&b.url).await;
    let r = other
        .http
        .get(&b.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &other.id)
        .header("last-event-id", last)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "replay across sessions");
}

#[tokio::test]
async fn redis_away_is_503_and_the_service_comes_back_by_itself() {
    let mut redis = Redis::start().await;
    let port = redis.port;
    let store = store(&redis);
    let (a, _b) = pair(&store, 100).await;
    let s = Session::open(&a.url).await;
    redis.stop();
    let began = Instant::now();
    let r = tokio::time::timeout(
        HANG,
        s.post(json!({"jsonrpc":"2.0","id":1,"method":"ping"})),
    )
    .await
    .expect("no hang while Redis is down");
    assert!(began.elapsed() < HANG);
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32002);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("state store redis://127.0.0.1:"), "{msg}");
    // A new Redis on the same port (empty: the session is gone, 404) and
    // a new session works, without restarting the instance.
    let _again = Redis::start_on(port).await;
    let deadline = Instant::now() + HANG;
    loop {
        let r = s
            .post(json!({"jsonrpc":"2.0","id":2,"method":"ping"}))
            .await;
        if r.status() == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {}", r.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fresh = Session::open(&a.url).await;
    let r = fresh.result(3, "ping", json!({})).await;
    assert!(r.get("result").is_some(), "{r}");
}

#[tokio::test]
async fn an_unreachable_store_fails_within_bounded_time() {
    let store = RedisState::new(&format!("redis://127.0.0.1:{}", free_port()), "x").unwrap();
    let began = Instant::now();
    let e = store.load("s", Duration::from_secs(60)).await.unwrap_err();
    assert!(began.elapsed() < HANG);
    assert!(e.to_string().contains("unavailable"), "{e}");
}

/// A streaming SSE response, read event by event.
struct Events {
    r: reqwest::Response,
    buf: String,
}

impl Events {
    /// The next event whose message matches `want`.
    async fn next(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + HANG;
        loop {
            // Complete events only: the last block may still be arriving.
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                for (_, data) in parse_sse(&block) {
                    if let Ok(m) = serde_json::from_str::<Value>(&data)
                        && want(&m)
                    {
                        return m;
                    }
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.r.chunk())
                .await
                .expect("no hang")
                .unwrap()
                .expect("the stream ended first");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

/// An instance whose tools are grouped into toolsets (`toolsets` surface:
/// none switched on at start), sharing `store`.
async fn toolsets_instance(store: &Arc<dyn StateStore>) -> String {
    use mcpgen_runtime::prelude::*;
    let tool = |name: &str| {
        format!(r#"{{"name":"{name}","description":"{name}","inputSchema":{{"type":"object"}}}}"#)
    };
    let server = Server::builder(r#"{"name":"toolsets","version":"1.0.0"}"#)
        .tool(&tool("get_pet"), |_ctx, _: NoArgs| async move {
            Ok(CallToolResult::text("pet"))
        })
        .tool(&tool("get_order"), |_ctx, _: NoArgs| async move {
            Ok(CallToolResult::text("order"))
        })
        .tool_surface(
            r#"{"surface":"toolsets","toolsets":[{"name":"pets","tools":["get_pet"]},{"name":"store","tools":["get_order"]}]}"#,
        )
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let served = config(store, 100);
    tokio::spawn(async move {
        mcpgen_runtime::transport::http::serve_listener(
            listener,
            server,
            served,
            std::future::pending(),
        )
        .await
    });
    url
}

async fn tool_names(s: &Session, id: i64) -> Vec<String> {
    let r = s.result(id, "tools/list", json!({})).await;
    let tools = r["result"]["tools"].as_array().cloned().unwrap_or_default();
    tools
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

/// `tools/list` on `s` until it names `tool` (the bus and the catch-up
/// are asynchronous); false after [`HANG`].
async fn lists_eventually(s: &Session, tool: &str) -> bool {
    let until = Instant::now() + HANG;
    for id in 100.. {
        if tool_names(s, id).await.iter().any(|n| n == tool) {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_toolset_enabled_on_one_instance_is_listed_by_every_instance_and_later_ones() {
    let redis = Redis::start().await;
    let store = store(&redis);
    let (a, b) = (
        toolsets_instance(&store).await,
        toolsets_instance(&store).await,
    );
    let sa = Session::open(&a).await;
    let sb = Session::open(&b).await;
    assert!(!tool_names(&sb, 1).await.contains(&"get_pet".to_owned()));
    let r = sa
        .result(
            2,
            "tools/call",
            json!({"name":"enable_toolset","arguments":{"name":"pets"}}),
        )
        .await;
    assert_eq!(r["result"]["structuredContent"]["enabled"], "pets", "{r}");
    assert!(r["result"].get("isError").is_none(), "{r}");
    assert!(tool_names(&sa, 3).await.contains(&"get_pet".to_owned()));
    assert!(
        lists_eventually(&sb, "get_pet").await,
        "B lists the toolset A enabled"
    );
    // An instance started afterwards reads the toolsets kept in Redis.
    let c = toolsets_instance(&store).await;
    let sc = Session::open(&c).await;
    assert!(
        lists_eventually(&sc, "get_pet").await,
        "a later instance lists the toolset enabled before it started"
    );
    // Only the toolset enabled: the other one stays off everywhere.
    for s in [&sa, &sb, &sc] {
        assert!(!tool_names(s, 4).await.contains(&"get_order".to_owned()));
    }
}
