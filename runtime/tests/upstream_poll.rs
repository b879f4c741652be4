//! Long-running OpenAPI operations (`poll` in the operation descriptor):
//! a `202 Accepted` with a status URL is polled until the operation ends,
//! against a scripted upstream — as a task of the MCP 2026-07-28 tasks
//! extension, and inline (with progress) on a 2025-11-25 session.

mod upstream_support;

use mcpgen_runtime::jsonrpc::{Message, Request, RequestId};
use mcpgen_runtime::modern::tasks::EXTENSION;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::session::{Outbound, Outgoing};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use upstream_support::*;

const KEY: &str = "poll-test-api-key-0123";

/// A server with one task tool `job` (POST /jobs), polled as `poll` says,
/// with an API key the status polls must carry too.
fn server(upstream: &Upstream, poll: Value) -> Server {
    let tool = json!({"name": "job", "inputSchema": {"type": "object"},
        "execution": {"taskSupport": "optional"}});
    let op = json!({"method": "POST", "path": "/jobs", "security": [["key"]], "poll": poll});
    let s = Server::builder(INFO)
        .upstream(&upstream_json(json!({"securitySchemes": {"key":
            {"type": "apiKey", "in": "header", "name": "X-Key", "env": "POLL_KEY"}}})))
        .upstream_tool(&tool.to_string(), &op.to_string())
        .check_schemas(true)
        .build()
        .expect("server builds");
    configure(&s, &upstream.url, &[("POLL_KEY", KEY)]);
    s
}

/// One modern request (the tasks extension declared): result or error.
async fn ask(s: &Server, method: &str, mut params: Value) -> Result<Value, Value> {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {EXTENSION: {}}},
    });
    let req = Request {
        id: RequestId::Number(1),
        method: method.into(),
        params: Some(params),
        modern_meta: None,
    };
    let (out, _inbox) = Outbound::channel();
    let r = s
        .handle_stateless(req, out, CancellationToken::new(), None, Default::default())
        .await
        .expect("a response");
    let v: Value = serde_json::from_str(&r.to_json()).expect("JSON");
    match v.get("error") {
        Some(e) => Err(e.clone()),
        None => Ok(v["result"].clone()),
    }
}

/// Start the task; its id.
async fn start(s: &Server) -> String {
    let r = ask(s, "tools/call", json!({"name": "job", "arguments": {}}))
        .await
        .expect("a CreateTaskResult");
    assert_eq!(
        (r["resultType"].as_str(), r["status"].as_str()),
        (Some("task"), Some("working")),
        "{r}"
    );
    r["taskId"].as_str().expect("taskId").to_owned()
}

/// tasks/get until the task leaves `working` (or 10 s pass).
async fn settled(s: &Server, id: &str) -> Value {
    let t0 = Instant::now();
    loop {
        let t = ask(s, "tasks/get", json!({"taskId": id}))
            .await
            .expect("tasks/get");
        if t["status"] != "working" || t0.elapsed() > Duration::from_secs(10) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn fast() -> Value {
    json!({"intervalMs": 20, "maxIntervalMs": 50})
}

#[tokio::test]
async fn a_202_task_stays_working_until_the_status_url_leads_to_the_result() {
    let up = Upstream::start(|r, n| match (r.method.as_str(), r.path()) {
        ("POST", "/jobs") => {
            Reply::json(202, json!({"id": 7})).header("Operation-Location", "/jobs/7/status")
        }
        ("GET", "/jobs/7/status") if n < 3 => Reply::json(200, json!({"status": "Running"})),
        ("GET", "/jobs/7/status") => Reply::status(303).header("Location", "/jobs/7/result"),
        ("GET", "/jobs/7/result") => Reply::json(200, json!({"id": 7, "answer": 42})),
        _ => Reply::status(404),
    })
    .await;
    let s = server(&up, fast());
    let id = start(&s).await;
    let t = settled(&s, &id).await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["structuredContent"]["answer"], 42, "{t}");
    assert!(t["result"].get("isError").is_none(), "{t}");
    let all = up.all();
    let paths: Vec<&str> = all.iter().map(|c| c.path()).collect();
    assert_eq!(
        paths,
        [
            "/jobs",
            "/jobs/7/status",
            "/jobs/7/status",
            "/jobs/7/status",
            "/jobs/7/result"
        ]
    );
    // Every poll carried the operation's credentials, as GETs.
    assert!(
        all.iter().all(|c| c.header("x-key") == Some(KEY)),
        "{all:#?}"
    );
    assert!(all[1..].iter().all(|c| c.method == "GET"));
}

#[tokio::test]
async fn a_failed_status_completes_the_task_with_a_tool_error() {
    // The status URL is in the 202's body this time.
    let up = Upstream::start(|r, n| match (r.method.as_str(), r.path()) {
        ("POST", "/jobs") => Reply::json(202, json!({"links": {"status": "/ops/9"}})),
        ("GET", "/ops/9") if n < 2 => Reply::json(200, json!({"status": "inProgress"})),
        ("GET", "/ops/9") => Reply::json(
            200,
            json!({"status": "Failed", "error": {"message": "disk full"}}),
        ),
        _ => Reply::status(404),
    })
    .await;
    let mut poll = fast();
    poll["urlField"] = json!("/links/status");
    let s = server(&up, poll);
    let t = settled(&s, &start(&s).await).await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["isError"], true, "{t}");
    assert!(dump(&t["result"]).contains("disk full"), "{t}");
    assert_eq!(up.count(), 3);
}

#[tokio::test]
async fn cancelling_the_task_stops_the_polling() {
    let up = Upstream::start(|r, _| match r.method.as_str() {
        "POST" => Reply::status(202).header("Location", "/jobs/1"),
        _ => Reply::json(200, json!({"status": "running"})),
    })
    .await;
    let s = server(&up, fast());
    let id = start(&s).await;
    let t0 = Instant::now();
    while up.count() < 3 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(up.count() >= 3, "polling started");
    ask(&s, "tasks/cancel", json!({"taskId": id}))
        .await
        .expect("cancel ack");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = up.count();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(up.count(), after, "no poll after the cancellation");
    let t = ask(&s, "tasks/get", json!({"taskId": id})).await.unwrap();
    assert_eq!(t["status"], "cancelled", "{t}");
    // Nothing was invented to cancel the job upstream.
    assert!(up.all()[1..].iter().all(|c| c.method == "GET"));
}

#[tokio::test]
async fn retry_after_sets_the_wait_between_polls() {
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = times.clone();
    let up = Upstream::start(move |r, n| {
        seen.lock().unwrap().push(Instant::now());
        match (r.method.as_str(), n) {
            ("POST", _) => Reply::status(202)
                .header("Location", "/jobs/1")
                .header("Retry-After", "1"),
            (_, 1) => Reply::json(200, json!({"status": "running"})).header("Retry-After", "1"),
            _ => Reply::json(200, json!({"status": "succeeded", "value": 3})),
        }
    })
    .await;
    // Without Retry-After the polls would be 20 ms apart.
    let s = server(&up, json!({"intervalMs": 20, "maxIntervalMs": 5000}));
    let t = settled(&s, &start(&s).await).await;
    assert_eq!(t["result"]["structuredContent"]["value"], 3, "{t}");
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 3);
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= Duration::from_millis(950), "polled after {gap:?}");
    }
}

#[tokio::test]
async fn a_status_url_on_another_origin_is_not_followed() {
    let elsewhere = Upstream::start(|_, _| Reply::json(200, json!({"status": "done"}))).await;
    let at = format!("{}/steal", elsewhere.url);
    let up = Upstream::start(move |_, _| Reply::status(202).header("Location", &at)).await;
    let s = server(&up, fast());
    let t = settled(&s, &start(&s).await).await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["isError"], true, "{t}");
    let text = dump(&t["result"]);
    assert!(
        text.contains("another origin") && text.contains(&elsewhere.url),
        "{text}"
    );
    assert_eq!(
        elsewhere.count(),
        0,
        "the other origin got nothing (and no key)"
    );
    assert_eq!(up.count(), 1);
}

#[tokio::test]
async fn polling_ends_at_its_time_limit() {
    let up = Upstream::start(|r, _| match r.method.as_str() {
        "POST" => Reply::status(202).header("Location", "/jobs/1"),
        _ => Reply::status(202),
    })
    .await;
    let mut poll = fast();
    poll["maxDurationMs"] = json!(300);
    let s = server(&up, poll);
    let t0 = Instant::now();
    let t = settled(&s, &start(&s).await).await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(t["result"]["isError"], true, "{t}");
    let text = dump(&t["result"]);
    assert!(text.contains("had not finished after"), "{text}");
    assert!(up.count() >= 3, "it polled meanwhile: {}", up.count());
}

#[tokio::test]
async fn without_tasks_the_call_polls_to_the_end_and_reports_progress() {
    let up = Upstream::start(|r, n| match (r.method.as_str(), r.path(), n) {
        ("POST", _, _) => Reply::status(202).header("Azure-AsyncOperation", "/ops/1"),
        (_, "/things/1", _) => Reply::json(200, json!({"thing": 1})),
        (_, _, 1 | 2) => Reply::json(200, json!({"status": "Running"})),
        _ => Reply::json(
            200,
            json!({"status": "Succeeded", "resourceLocation": "/things/1"}),
        ),
    })
    .await;
    let s = server(&up, fast());
    let session = s.create_session();
    let (out, _) = Outbound::channel();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    s.handle(&session, Message::from_value(init).unwrap(), out.clone())
        .await;
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    s.handle(&session, Message::from_value(done).unwrap(), out)
        .await;
    let (out, mut inbox) = Outbound::channel();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "job", "arguments": {}, "_meta": {"progressToken": "p"}}});
    let r = s
        .handle(&session, Message::from_value(call).unwrap(), out)
        .await
        .expect("a response");
    let r = Message::Response(r).to_value();
    let result = &r["result"];
    assert!(result.get("isError").is_none(), "{r}");
    // The result is the resource the succeeded status points at.
    assert_eq!(result["structuredContent"]["thing"], 1, "{r}");
    let paths: Vec<String> = up.all().iter().map(|c| c.path().to_owned()).collect();
    assert_eq!(paths, ["/jobs", "/ops/1", "/ops/1", "/ops/1", "/things/1"]);
    let mut progress = vec![];
    while let Ok(Outgoing::Message(m)) = inbox.try_recv() {
        let v = m.to_value();
        if v["method"] == "notifications/progress" {
            assert_eq!(v["params"]["progressToken"], "p");
            progress.push(v["params"]["message"].as_str().unwrap_or("").to_owned());
        }
    }
    assert_eq!(progress, ["job: Running (poll 1)", "job: Running (poll 2)"]);
}
