//! Rate limits end to end: 429 + Retry-After over HTTP at the per-client,
//! server and global levels, tool errors for tool limits, and Redis-backed
//! counters shared by two server instances (a real `redis-server`, started
//! here on a free port; `scripts/setup.sh` installs it).

mod common;

use common::redis::{Redis, free_port};
use common::*;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::ratelimit::{
    FailMode, RateLimitSettings, RateLimitStore, RedisStore, store_from_str,
};
use mcpgen_runtime::transport::http::HttpConfig;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upper bound on any wait here: reaching it means something hung.
const HANG: Duration = Duration::from_secs(10);

async fn init(url: &str) -> reqwest::Response {
    client()
        .post(url)
        .header("accept", ACCEPT_BOTH)
        .json(&init_body(1))
        .send()
        .await
        .unwrap()
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn settings(f: impl FnOnce(&mut RateLimitSettings)) -> RateLimitSettings {
    let mut s = RateLimitSettings::default();
    f(&mut s);
    s
}

#[tokio::test]
async fn a_client_over_its_limit_gets_429_with_retry_after() {
    let t = start(HttpConfig::default()).await;
    t.server.configure_rate_limits(settings(|s| {
        s.per_client = Some("2/1h".parse().unwrap());
    }));
    assert_eq!(init(&t.url).await.status(), 200);
    assert_eq!(init(&t.url).await.status(), 200);
    let r = init(&t.url).await;
    assert_eq!(r.status(), 429);
    // One request per 30 min comes back.
    assert_eq!(retry_after(&r), 1800);
    let body: serde_json::Value = r.json().await.unwrap();
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("per-client limit of 2/1h"), "{msg}");
}

#[tokio::test]
async fn the_server_and_global_limits_answer_429_too() {
    for (level, f) in [
        (
            "server",
            (|s: &mut RateLimitSettings| s.server = Some("1/1m".parse().unwrap()))
                as fn(&mut RateLimitSettings),
        ),
        ("global", |s: &mut RateLimitSettings| {
            s.global = Some("1/1m".parse().unwrap())
        }),
    ] {
        let t = start(HttpConfig::default()).await;
        t.server.configure_rate_limits(settings(f));
        assert_eq!(init(&t.url).await.status(), 200);
        let r = init(&t.url).await;
        assert_eq!(r.status(), 429, "{level}");
        assert_eq!(retry_after(&r), 60, "{level}");
        let body: serde_json::Value = r.json().await.unwrap();
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("the {level} limit of 1/1m")), "{msg}");
    }
}

#[tokio::test]
async fn without_limits_nothing_is_refused() {
    let t = start(HttpConfig::default()).await;
    for _ in 0..20 {
        assert_eq!(init(&t.url).await.status(), 200);
    }
}

/// A server whose `echo` tool may be called once an hour, declared as the
/// generated code declares it.
fn limited_server() -> Server {
    Server::builder(r#"{"name":"limited","version":"1.0.0"}"#)
        .tool(
            r#"{"name":"echo","inputSchema":{"type":"object"}}"#,
            |_ctx, _a: Value| async move { Ok(CallToolResult::text("hi")) },
        )
        .tool(
            r#"{"name":"free","inputSchema":{"type":"object"}}"#,
            |_ctx, _a: Value| async move { Ok(CallToolResult::text("hi")) },
        )
        .rate_limits(r#"{"tools":{"echo":"1/1h"}}"#)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_tool_over_its_limit_returns_a_tool_error_naming_it() {
    let c = mcpgen_runtime::testing::TestClient::connect(limited_server())
        .await
        .unwrap();
    let ok = c.call_tool("echo", json!({})).await.unwrap();
    assert_eq!(ok["content"][0]["text"], "hi");
    let refused = c.call_tool("echo", json!({})).await.unwrap();
    assert_eq!(refused["isError"], json!(true));
    let text = refused["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "rate limit exceeded: the tool limit of 1/1h; retry after 3600 s"
    );
    // Other tools are not limited.
    for _ in 0..3 {
        let r = c.call_tool("free", json!({})).await.unwrap();
        assert_eq!(r["content"][0]["text"], "hi");
    }
}

#[tokio::test]
async fn declared_limits_are_checked_when_built() {
    let e = Server::builder(r#"{"name":"x","version":"1"}"#)
        .rate_limits(r#"{"server":"ten a minute"}"#)
        .build()
        .err()
        .unwrap();
    assert!(e.to_string().contains("rate limits"), "{e}");
}

// --- Redis ------------------------------------------------------------------

#[tokio::test]
async fn two_instances_share_redis_counters() {
    let redis = Redis::start().await;
    let (a, b) = (
        start(HttpConfig::default()).await,
        start(HttpConfig::default()).await,
    );
    for t in [&a, &b] {
        t.server.configure_rate_limits(settings(|s| {
            s.store = Some(store_from_str(&redis.url()).unwrap());
            s.server = Some("3/1h".parse().unwrap());
        }));
    }
    assert_eq!(init(&a.url).await.status(), 200);
    assert_eq!(init(&b.url).await.status(), 200);
    assert_eq!(init(&a.url).await.status(), 200);
    // The fourth request of the pair, on either instance, is over.
    let r = init(&b.url).await;
    assert_eq!(r.status(), 429);
    assert_eq!(retry_after(&r), 1200);
    assert_eq!(init(&a.url).await.status(), 429);
    // An instance with in-memory counters counts for itself only.
    let c = start(HttpConfig::default()).await;
    c.server.configure_rate_limits(settings(|s| {
        s.server = Some("3/1h".parse().unwrap());
    }));
    assert_eq!(init(&c.url).await.status(), 200);
}

#[tokio::test]
async fn redis_counts_each_level_under_its_own_key() {
    let redis = Redis::start().await;
    let store: Arc<dyn RateLimitStore> = Arc::new(RedisStore::new(&redis.url()).unwrap());
    let t = start(HttpConfig::default()).await;
    t.server.configure_rate_limits(settings(|s| {
        s.store = Some(store.clone());
        s.per_client = Some("2/1h".parse().unwrap());
        s.global = Some("3/1h".parse().unwrap());
        s.tools = vec![("echo".into(), "1/1h".parse().unwrap())];
    }));
    let session = Session::open(&t.url).await; // request 1 (initialize), 2 (initialized)
    let r = session
        .post(json!({"jsonrpc":"2.0","id":2,"method":"ping"}))
        .await;
    assert_eq!(r.status(), 429);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("per-client limit of 2/1h")
    );
    // Tool limits, through the same store.
    let c = mcpgen_runtime::testing::TestClient::connect(t.server.clone())
        .await
        .unwrap();
    assert_eq!(
        c.call_tool("echo", json!({"text":"a"})).await.unwrap()["content"][0]["text"],
        "a"
    );
    let refused = c.call_tool("echo", json!({"text":"a"})).await.unwrap();
    assert!(
        refused["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("the tool limit of 1/1h; retry after")
    );
}

#[tokio::test]
async fn redis_down_follows_the_fail_mode_within_bounded_time() {
    let mut redis = Redis::start().await;
    let url = redis.url();
    for (fail, status) in [(FailMode::Open, 200), (FailMode::Closed, 429)] {
        let t = start(HttpConfig::default()).await;
        t.server.configure_rate_limits(settings(|s| {
            s.store = Some(store_from_str(&url).unwrap());
            s.fail = fail;
            s.server = Some("1000/1h".parse().unwrap());
        }));
        // Up: counted and allowed.
        if redis.child.try_wait().unwrap().is_none() {
            assert_eq!(init(&t.url).await.status(), 200);
        }
        redis.stop();
        let began = Instant::now();
        let r = tokio::time::timeout(HANG, init(&t.url))
            .await
            .expect("no hang while Redis is down");
        assert_eq!(r.status(), status, "{fail:?}");
        assert!(began.elapsed() < HANG);
        if fail == FailMode::Closed {
            assert_eq!(retry_after(&r), 1);
            let body: serde_json::Value = r.json().await.unwrap();
            let msg = body["error"]["message"].as_str().unwrap();
            assert!(msg.contains("rate limit not checked"), "{msg}");
        }
    }
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error() {
    let store = RedisStore::new(&format!("redis://127.0.0.1:{}", free_port())).unwrap();
    let began = Instant::now();
    let e = store
        .acquire("k", "1/1s".parse().unwrap())
        .await
        .unwrap_err();
    assert!(began.elapsed() < HANG);
    let text = e.to_string();
    assert!(
        text.starts_with("rate-limit store redis://127.0.0.1:") && text.contains("unavailable"),
        "{text}"
    );
}
