//! The tasks extension of MCP 2026-07-28 (`io.modelcontextprotocol/tasks`):
//! task creation, polling, input, cancellation, expiry and bad input, on
//! the server itself (the HTTP side is the conformance suite's).

use mcpgen_runtime::jsonrpc::{Request, RequestId};
use mcpgen_runtime::modern::tasks::{EXTENSION, MemoryTaskStore};
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::session::{Inbox, Outbound, Outgoing};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Deserialize)]
struct Secs {
    ms: u64,
}

#[derive(Deserialize)]
struct NoArgs {}

fn tool(name: &str, task: Option<&str>) -> String {
    let execution = task
        .map(|t| format!(r#","execution":{{"taskSupport":"{t}"}}"#))
        .unwrap_or_default();
    format!(r#"{{"name":"{name}","inputSchema":{{"type":"object"}}{execution}}}"#)
}

fn server(cancelled: Arc<AtomicBool>) -> Server {
    Server::builder(r#"{"name":"tasks-test","version":"1"}"#)
        .tool(&tool("nap", Some("optional")), |ctx, a: Secs| async move {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(a.ms)) => Ok(CallToolResult::text(format!("slept {}", a.ms))),
                _ = ctx.cancelled() => Err(ToolError::new("cancelled")),
            }
        })
        .tool(&tool("must_task", Some("required")), |_ctx, _: NoArgs| async move {
            Ok(CallToolResult::text("done"))
        })
        .tool(&tool("plain", None), |_ctx, _: NoArgs| async move {
            Ok(CallToolResult::text("plain"))
        })
        .tool(&tool("tool_error", Some("optional")), |_ctx, _: NoArgs| async move {
            Err::<CallToolResult, _>(ToolError::new("no luck"))
        })
        .tool(&tool("dies", Some("optional")), |_ctx, _: NoArgs| async move {
            panic!("on purpose")
        })
        .tool(&tool("wait", Some("optional")), move |ctx, _: NoArgs| {
            let cancelled = cancelled.clone();
            async move {
                ctx.cancelled().await;
                cancelled.store(true, Ordering::SeqCst);
                Err::<CallToolResult, _>(ToolError::new("cancelled"))
            }
        })
        .tool(&tool("two_questions", Some("optional")), |ctx, _: NoArgs| async move {
            let ask = json!({"message": "?", "requestedSchema": {"type": "object",
                "properties": {"name": {"type": "string"}}, "required": ["name"]}});
            let (a, b) = tokio::join!(ctx.elicit_as("a", ask.clone()), ctx.elicit_as("b", ask));
            let (a, b) = (a?, b?);
            Ok(CallToolResult::text(format!(
                "{} {}",
                a["content"]["name"].as_str().unwrap_or("?"),
                b["content"]["name"].as_str().unwrap_or("?")
            )))
        })
        .tool(
            r#"{"name":"greet_later","inputSchema":{"type":"object"},
                "execution":{"taskSupport":"optional"},
                "_meta":{"dev.mcpgen/inputBeforeTask":true}}"#,
            |ctx, _: NoArgs| async move {
                let ask = json!({"message": "Name?", "requestedSchema": {"type": "object",
                    "properties": {"name": {"type": "string"}}, "required": ["name"]}});
                let name = ctx.elicit_as("user_name", ask).await?;
                ctx.continue_as_task()?;
                Ok(CallToolResult::text(format!(
                    "Hello, {}",
                    name["content"]["name"].as_str().unwrap_or("?")
                )))
            },
        )
        .build()
        .expect("a valid server")
}

/// The modern `_meta`, declaring the tasks extension or not.
fn meta(tasks: bool) -> Value {
    let mut caps = json!({"elicitation": {}});
    if tasks {
        caps["extensions"] = json!({ EXTENSION: {} });
    }
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    })
}

/// The response of one modern request: `Ok(result)` or `Err(error)`.
async fn ask(s: &Server, method: &str, mut params: Value, tasks: bool) -> Result<Value, Value> {
    params["_meta"] = meta(tasks);
    let req = Request {
        id: RequestId::Number(1),
        method: method.into(),
        params: Some(params),
        modern_meta: None,
    };
    let (out, _inbox) = Outbound::channel();
    let r = s
        .handle_stateless(
            req,
            out,
            CancellationToken::new(),
            None,
            http::Extensions::new(),
        )
        .await
        .expect("a response");
    let v: Value = serde_json::from_str(&r.to_json()).expect("JSON");
    match v.get("error") {
        Some(e) => Err(e.clone()),
        None => Ok(v["result"].clone()),
    }
}

async fn create(s: &Server, name: &str, args: Value) -> String {
    let r = ask(
        s,
        "tools/call",
        json!({"name": name, "arguments": args}),
        true,
    )
    .await
    .expect("a CreateTaskResult");
    assert_eq!(r["resultType"], "task", "{r}");
    r["taskId"].as_str().expect("a taskId").to_owned()
}

async fn get(s: &Server, id: &str) -> Value {
    ask(s, "tasks/get", json!({"taskId": id}), true)
        .await
        .expect("tasks/get")
}

/// tasks/get until the status is `want` (or 5 s pass).
async fn until(s: &Server, id: &str, want: &str) -> Value {
    let start = Instant::now();
    loop {
        let t = get(s, id).await;
        if t["status"] == want || start.elapsed() > Duration::from_secs(5) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_task_tool_answers_with_a_flat_task_then_inlines_its_result() {
    let s = server(Arc::default());
    let r = ask(
        &s,
        "tools/call",
        json!({"name": "nap", "arguments": {"ms": 200}}),
        true,
    )
    .await
    .unwrap();
    assert_eq!(r["resultType"], "task");
    assert_eq!(r["status"], "working");
    assert!(r.get("task").is_none() && r.get("result").is_none(), "{r}");
    assert!(r["ttlMs"].as_u64().is_some_and(|t| t > 0));
    assert!(r["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    let id = r["taskId"].as_str().unwrap();
    // Durable at once, and working while it sleeps.
    let t = get(&s, id).await;
    assert_eq!(
        (t["status"].as_str(), t["resultType"].as_str()),
        (Some("working"), Some("complete"))
    );
    assert!(t.get("result").is_none());
    let t = until(&s, id, "completed").await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["content"][0]["text"], "slept 200");
    assert!(t.get("error").is_none());
}

#[tokio::test]
async fn without_the_extension_optional_tools_run_inline_and_required_ones_are_refused() {
    let s = server(Arc::default());
    let r = ask(
        &s,
        "tools/call",
        json!({"name": "nap", "arguments": {"ms": 1}}),
        false,
    )
    .await
    .unwrap();
    assert_eq!(r["resultType"], "complete");
    assert!(r.get("taskId").is_none());
    assert_eq!(r["content"][0]["text"], "slept 1");
    let e = ask(&s, "tools/call", json!({"name": "must_task"}), false)
        .await
        .unwrap_err();
    assert_eq!(e["code"], -32021);
    assert_eq!(
        e["data"]["requiredCapabilities"]["extensions"][EXTENSION],
        json!({})
    );
    for m in ["tasks/get", "tasks/cancel", "tasks/update"] {
        let e = ask(&s, m, json!({"taskId": "x", "inputResponses": {}}), false)
            .await
            .unwrap_err();
        assert_eq!(e["code"], -32021, "{m}");
    }
    // A tool without task support stays inline, legacy `task` hint or not.
    let r = ask(
        &s,
        "tools/call",
        json!({"name": "plain", "task": {"ttl": 1000}}),
        true,
    )
    .await
    .unwrap();
    assert_eq!(r["content"][0]["text"], "plain");
}

#[tokio::test]
async fn cancel_stops_the_work_and_is_idempotent() {
    let cancelled = Arc::new(AtomicBool::new(false));
    let s = server(cancelled.clone());
    let id = create(&s, "wait", json!({})).await;
    for _ in 0..2 {
        let ack = ask(&s, "tasks/cancel", json!({"taskId": id}), true)
            .await
            .unwrap();
        assert_eq!(ack["resultType"], "complete");
        assert!(
            ack.get("taskId").is_none() && ack.get("status").is_none(),
            "{ack}"
        );
        assert_eq!(get(&s, &id).await["status"], "cancelled");
    }
    let start = Instant::now();
    while !cancelled.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        cancelled.load(Ordering::SeqCst),
        "the handler saw the cancellation"
    );
    // Its late outcome does not undo the cancellation.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(get(&s, &id).await["status"], "cancelled");
    // A finished task: acknowledged, left as it was.
    let id = create(&s, "nap", json!({"ms": 0})).await;
    assert_eq!(until(&s, &id, "completed").await["status"], "completed");
    ask(&s, "tasks/cancel", json!({"taskId": id}), true)
        .await
        .unwrap();
    assert_eq!(get(&s, &id).await["status"], "completed");
}

#[tokio::test]
async fn tool_errors_complete_and_panics_fail() {
    let s = server(Arc::default());
    let id = create(&s, "tool_error", json!({})).await;
    let t = until(&s, &id, "completed").await;
    assert_eq!(t["result"]["isError"], true, "{t}");
    let id = create(&s, "dies", json!({})).await;
    let t = until(&s, &id, "failed").await;
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["error"]["code"], -32603);
    assert!(t["error"]["message"].is_string() && t.get("result").is_none());
}

#[tokio::test]
async fn input_is_asked_on_tasks_get_and_answered_in_parts() {
    let s = server(Arc::default());
    let id = create(&s, "two_questions", json!({})).await;
    let t = until(&s, &id, "input_required").await;
    let keys: Vec<_> = t["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["a", "b"], "{t}");
    assert_eq!(t["inputRequests"]["a"]["method"], "elicitation/create");
    assert!(t.get("requestState").is_none());
    let answer = |n: &str| json!({"action": "accept", "content": {"name": n}});
    let ack = ask(
        &s,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"a": answer("x"), "zz": {}}}),
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        ack,
        json!({"resultType": "complete", "_meta": ack["_meta"]})
    );
    let t = get(&s, &id).await;
    assert_eq!(t["status"], "input_required");
    assert_eq!(t["inputRequests"].as_object().unwrap().len(), 1);
    assert!(t["inputRequests"].get("b").is_some());
    ask(
        &s,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"b": answer("y")}}),
        true,
    )
    .await
    .unwrap();
    let t = until(&s, &id, "completed").await;
    assert_eq!(t["result"]["content"][0]["text"], "x y", "{t}");
}

#[tokio::test]
async fn records_expire_after_their_ttl() {
    let s = server(Arc::default());
    assert!(s.set_task_store(Arc::new(MemoryTaskStore::new()), Duration::from_millis(300)));
    let id = create(&s, "nap", json!({"ms": 0})).await;
    let t = until(&s, &id, "completed").await;
    assert_eq!(t["ttlMs"], 300);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let e = ask(&s, "tasks/get", json!({"taskId": id}), true)
        .await
        .unwrap_err();
    assert_eq!(e["code"], -32602);
}

#[tokio::test]
async fn bad_task_requests_get_clear_errors() {
    let s = server(Arc::default());
    for m in ["tasks/get", "tasks/cancel", "tasks/update"] {
        let e = ask(&s, m, json!({"taskId": "nope", "inputResponses": {}}), true)
            .await
            .unwrap_err();
        assert_eq!(e["code"], -32602, "{m}: {e}");
        let e = ask(&s, m, json!({"taskId": 7}), true).await.unwrap_err();
        assert_eq!(e["code"], -32602, "{m}: {e}");
    }
    // Removed in the v2 extension.
    for m in ["tasks/list", "tasks/result"] {
        let e = ask(&s, m, json!({"taskId": "x"}), true).await.unwrap_err();
        assert_eq!(e["code"], -32601, "{m}");
    }
    // An update to a task not waiting for input, or of the wrong shape.
    let id = create(&s, "two_questions", json!({})).await;
    until(&s, &id, "input_required").await;
    let e = ask(
        &s,
        "tasks/update",
        json!({"taskId": id, "inputResponses": []}),
        true,
    )
    .await
    .unwrap_err();
    assert_eq!(e["code"], -32602);
    let id = create(&s, "nap", json!({"ms": 5000})).await;
    let e = ask(
        &s,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {}}),
        true,
    )
    .await
    .unwrap_err();
    assert_eq!(e["code"], -32602);
}

/// The two MRTR rounds of `greet_later`: the first asks for `user_name`,
/// the second (with the answer and the state) is returned.
async fn greet_later(s: &Server, tasks: bool) -> Value {
    let call = json!({"name": "greet_later", "arguments": {}});
    let r1 = ask(s, "tools/call", call.clone(), tasks).await.unwrap();
    assert_eq!(r1["resultType"], "input_required", "{r1}");
    assert!(r1.get("taskId").is_none(), "no task before the input: {r1}");
    assert!(r1["inputRequests"].get("user_name").is_some(), "{r1}");
    let mut again = call;
    again["inputResponses"] =
        json!({"user_name": {"action": "accept", "content": {"name": "Alice"}}});
    again["requestState"] = r1["requestState"].clone();
    ask(s, "tools/call", again, tasks).await.unwrap()
}

#[tokio::test]
async fn a_tool_gathers_input_inline_then_continues_as_a_task_that_has_it() {
    let s = server(Arc::default());
    let r2 = greet_later(&s, true).await;
    assert_eq!(r2["resultType"], "task", "{r2}");
    assert!(
        r2.get("requestState").is_none() && r2.get("inputRequests").is_none(),
        "the MRTR phase does not leak into the task: {r2}"
    );
    let id = r2["taskId"].as_str().expect("a taskId");
    let t = until(&s, id, "completed").await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["content"][0]["text"], "Hello, Alice");
}

#[tokio::test]
async fn without_the_extension_an_input_first_tool_finishes_inline() {
    let s = server(Arc::default());
    let r2 = greet_later(&s, false).await;
    assert_eq!(r2["resultType"], "complete", "{r2}");
    assert_eq!(r2["content"][0]["text"], "Hello, Alice");
}

/// Open `subscriptions/listen` for `notifications` in process: the inbox
/// its notifications arrive in (the acknowledgment first) and its token.
fn listen(s: &Server, notifications: Value, tasks: bool) -> (Inbox, CancellationToken) {
    let req = Request {
        id: RequestId::Number(9),
        method: "subscriptions/listen".into(),
        params: Some(json!({"notifications": notifications, "_meta": meta(tasks)})),
        modern_meta: None,
    };
    let (out, inbox) = Outbound::channel();
    let cancel = CancellationToken::new();
    let (s, token) = (s.clone(), cancel.clone());
    tokio::spawn(async move {
        s.handle_stateless(req, out, token, None, http::Extensions::new())
            .await
    });
    (inbox, cancel)
}

/// The next message in `inbox` (waiting at most 5 s) as JSON.
async fn next(inbox: &mut Inbox) -> Value {
    let o = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
        .await
        .expect("a message in time")
        .expect("the stream is open");
    match o {
        Outgoing::Message(m) => serde_json::from_str(&m.to_json()).unwrap(),
        other => panic!("not a message: {other:?}"),
    }
}

#[tokio::test]
async fn a_listener_hears_the_status_of_the_tasks_it_names_up_to_the_result() {
    let s = server(Arc::default());
    let id = create(&s, "nap", json!({"ms": 1000})).await;
    let (mut inbox, cancel) = listen(&s, json!({"taskIds": [id, "unknown"]}), true);
    let ack = next(&mut inbox).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["notifications"], json!({"taskIds": [id]}));
    let now = next(&mut inbox).await;
    assert_eq!(now["method"], "notifications/tasks");
    assert_eq!(now["params"]["status"], "working", "{now}");
    let done = next(&mut inbox).await;
    assert_eq!(done["method"], "notifications/tasks");
    assert_eq!(done["params"]["taskId"], id.as_str());
    assert_eq!(done["params"]["status"], "completed", "{done}");
    assert_eq!(done["params"]["result"]["content"][0]["text"], "slept 1000");
    assert_eq!(
        done["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    // A cancel is a status change too.
    let wait = create(&s, "wait", json!({})).await;
    cancel.cancel();
    let (mut inbox, cancel) = listen(&s, json!({"taskIds": [wait]}), true);
    assert_eq!(
        next(&mut inbox).await["params"]["notifications"]["taskIds"][0],
        wait.as_str()
    );
    assert_eq!(next(&mut inbox).await["params"]["status"], "working");
    ask(&s, "tasks/cancel", json!({"taskId": wait}), true)
        .await
        .unwrap();
    assert_eq!(next(&mut inbox).await["params"]["status"], "cancelled");
    cancel.cancel();
}

#[tokio::test]
async fn listening_to_tasks_without_the_extension_is_refused() {
    let s = server(Arc::default());
    let params = json!({"notifications": {"taskIds": ["x"]}});
    let e = ask(&s, "subscriptions/listen", params, false)
        .await
        .unwrap_err();
    assert_eq!(e["code"], -32021, "{e}");
    assert_eq!(
        e["data"]["requiredCapabilities"]["extensions"][EXTENSION],
        json!({})
    );
}
