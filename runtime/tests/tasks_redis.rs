//! Task records of the tasks extension in the shared Redis store
//! (docs/deployment.md): two instances, each with its own `RedisState`,
//! share a real `redis-server` started here; a task made through one is
//! read, cancelled and expires through the other, over MCP 2026-07-28 HTTP.

mod common;

use common::redis::Redis;
use common::{ACCEPT_BOTH, SseReader, client, read_messages};
use mcpgen_runtime::modern::tasks::EXTENSION;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::state::{RedisState, StateStore};
use mcpgen_runtime::transport::http::{self, HttpConfig};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Upper bound on any wait here: reaching it means something hung.
const HANG: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Nap {
    ms: u64,
}

#[derive(Deserialize)]
struct NoArgs {}

/// A server with `nap` (sleeps, then answers) and `wait` (runs until
/// cancelled, then sets `cancelled`), both run as tasks.
fn server(cancelled: Arc<AtomicBool>) -> Server {
    let s = Server::builder(r#"{"name":"tasks-redis","version":"1"}"#)
        .tool(
            r#"{"name":"nap","inputSchema":{"type":"object"},"execution":{"taskSupport":"optional"}}"#,
            |_ctx, a: Nap| async move {
                tokio::time::sleep(Duration::from_millis(a.ms)).await;
                Ok(CallToolResult::text(format!("slept {}", a.ms)))
            },
        )
        .tool(
            r#"{"name":"wait","inputSchema":{"type":"object"},"execution":{"taskSupport":"optional"}}"#,
            move |ctx, _: NoArgs| {
                let cancelled = cancelled.clone();
                async move {
                    ctx.cancelled().await;
                    cancelled.store(true, Ordering::SeqCst);
                    Err::<CallToolResult, _>(ToolError::new("cancelled"))
                }
            },
        )
        .build()
        .expect("a valid server");
    s.set_protocol_2026(true);
    s
}

struct Instance {
    url: String,
    cancelled: Arc<AtomicBool>,
}

/// An instance with its own connection to `redis`; `ttl` sets the TTL of
/// the tasks it creates (default otherwise).
async fn instance(redis: &Redis, ttl: Option<Duration>) -> Instance {
    let store: Arc<dyn StateStore> = Arc::new(RedisState::new(&redis.url(), "test").unwrap());
    let cancelled = Arc::new(AtomicBool::new(false));
    let server = server(cancelled.clone());
    if let Some(ttl) = ttl {
        let tasks = store.clone().task_store().expect("Redis holds tasks");
        assert!(server.set_task_store(tasks, ttl));
    }
    let mut config = HttpConfig::default();
    config.state_store = Some(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        http::serve_listener(listener, server, config, std::future::pending()).await
    });
    Instance { url, cancelled }
}

/// One modern request declaring the tasks extension, ready to send.
fn request(url: &str, method: &str, mut params: Value) -> reqwest::RequestBuilder {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {"extensions": { EXTENSION: {} }},
    });
    let mut b = client()
        .post(url)
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    // The name header: the tool's, or the task's id for tasks/*.
    let name = params.get("name").or_else(|| params.get("taskId"));
    if let Some(name) = name.and_then(Value::as_str) {
        b = b.header("mcp-name", name);
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    b.json(&body)
}

/// One modern request declaring the tasks extension: the JSON-RPC response.
async fn ask(url: &str, method: &str, params: Value) -> Value {
    let r = request(url, method, params).send().await.unwrap();
    let msgs = read_messages(r).await;
    msgs.into_iter()
        .find(|m| m.get("id").is_some())
        .expect("a response")
}

async fn create(url: &str, name: &str, args: Value) -> String {
    let r = ask(url, "tools/call", json!({"name": name, "arguments": args})).await;
    assert_eq!(r["result"]["resultType"], "task", "{r}");
    r["result"]["taskId"].as_str().expect("a taskId").to_owned()
}

/// tasks/get on `url` until the status is `want` (or HANG passes).
async fn until(url: &str, id: &str, want: &str) -> Value {
    let start = Instant::now();
    loop {
        let r = ask(url, "tasks/get", json!({"taskId": id})).await;
        if r["result"]["status"] == want || start.elapsed() > HANG {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_task_created_on_one_instance_is_read_with_its_result_on_another() {
    let redis = Redis::start().await;
    let (a, b) = (instance(&redis, None).await, instance(&redis, None).await);
    let id = create(&a.url, "nap", json!({"ms": 200})).await;
    // Right after creation B knows it: the record is in Redis.
    let r = ask(&b.url, "tasks/get", json!({"taskId": id})).await;
    assert_eq!(r["result"]["taskId"], id.as_str(), "{r}");
    assert_eq!(r["result"]["status"], "working", "{r}");
    let r = until(&b.url, &id, "completed").await;
    assert_eq!(r["result"]["status"], "completed", "{r}");
    assert_eq!(
        r["result"]["result"]["content"][0]["text"], "slept 200",
        "{r}"
    );
}

#[tokio::test]
async fn a_cancel_sent_to_one_instance_stops_the_handler_running_on_another() {
    let redis = Redis::start().await;
    let (a, b) = (instance(&redis, None).await, instance(&redis, None).await);
    // B listens to the bus from its first request on.
    let r = ask(&b.url, "tasks/get", json!({"taskId": "none"})).await;
    assert!(r.get("error").is_some(), "{r}");
    let id = create(&a.url, "wait", json!({})).await;
    let r = ask(&b.url, "tasks/cancel", json!({"taskId": id})).await;
    assert!(r.get("result").is_some(), "an ack: {r}");
    let start = Instant::now();
    while !a.cancelled.load(Ordering::SeqCst) {
        assert!(start.elapsed() < HANG, "A's handler was never cancelled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!b.cancelled.load(Ordering::SeqCst), "B ran nothing");
    let r = ask(&a.url, "tasks/get", json!({"taskId": id})).await;
    assert_eq!(r["result"]["status"], "cancelled", "{r}");
}

#[tokio::test]
async fn a_task_record_expires_in_redis_with_its_ttl() {
    let redis = Redis::start().await;
    let a = instance(&redis, Some(Duration::from_millis(400))).await;
    let b = instance(&redis, None).await;
    let id = create(&a.url, "nap", json!({"ms": 0})).await;
    let r = until(&b.url, &id, "completed").await;
    assert_eq!(r["result"]["ttlMs"], 400, "{r}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    for url in [&a.url, &b.url] {
        let r = ask(url, "tasks/get", json!({"taskId": id})).await;
        assert_eq!(r["error"]["code"], -32602, "gone everywhere: {r}");
    }
}

#[tokio::test]
async fn tasks_get_fails_with_a_clear_error_while_redis_is_away() {
    let mut redis = Redis::start().await;
    let a = instance(&redis, None).await;
    let id = create(&a.url, "nap", json!({"ms": 0})).await;
    redis.stop();
    let r = ask(&a.url, "tasks/get", json!({"taskId": id})).await;
    assert_eq!(r["error"]["code"], -32002, "{r}");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("unavailable"), "{message}");
    assert_eq!(r["error"]["data"]["store"], redis.url(), "{r}");
}

#[tokio::test]
async fn a_task_record_keeps_its_owner_in_redis() {
    use mcpgen_runtime::modern::tasks::{TaskRecord, TaskStatus};
    let redis = Redis::start().await;
    let store: Arc<dyn StateStore> = Arc::new(RedisState::new(&redis.url(), "test").unwrap());
    let tasks = store.task_store().expect("Redis holds tasks");
    let mut record = TaskRecord::new(json!({"name": "nap"}), Duration::from_secs(60));
    record.owner = Some("alice".into());
    tasks.create(record.clone()).await.unwrap();
    let stored = tasks.get(&record.id).await.unwrap().expect("stored");
    assert_eq!(stored.owner.as_deref(), Some("alice"));
    record.status = TaskStatus::Completed;
    assert!(tasks.advance(record.clone()).await.unwrap());
    let stored = tasks.get(&record.id).await.unwrap().expect("stored");
    assert_eq!(
        (stored.status, stored.owner),
        (TaskStatus::Completed, Some("alice".into()))
    );
}

#[tokio::test]
async fn a_task_finishing_on_one_instance_is_announced_to_a_listener_on_another() {
    let redis = Redis::start().await;
    let (a, b) = (instance(&redis, None).await, instance(&redis, None).await);
    let id = create(&a.url, "nap", json!({"ms": 1500})).await;
    let params = json!({"notifications": {"taskIds": [id, "not-a-task"]}});
    let r = request(&b.url, "subscriptions/listen", params)
        .send()
        .await
        .unwrap();
    let mut sse = SseReader::new(r);
    let ack = sse.next_message().await.expect("an acknowledgment");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["notifications"], json!({"taskIds": [id]}));
    // The state now, then the change made on the other instance.
    let now = sse.next_message().await.expect("the current status");
    assert_eq!(now["method"], "notifications/tasks");
    assert_eq!(
        (
            now["params"]["taskId"].as_str(),
            now["params"]["status"].as_str()
        ),
        (Some(id.as_str()), Some("working")),
        "{now}"
    );
    let done = tokio::time::timeout(HANG, sse.next_message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done["method"], "notifications/tasks");
    assert_eq!(done["params"]["status"], "completed", "{done}");
    assert_eq!(done["params"]["result"]["content"][0]["text"], "slept 1500");
    assert_eq!(
        done["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        1
    );
}
