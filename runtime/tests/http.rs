//! Streamable HTTP from the outside: session rules, origin rules, framing
//! errors, limits, JSON-vs-SSE answers, server→client requests, cancellation,
//! resumption and concurrency.

mod common;

use common::*;
use mcpgen_runtime::transport::http::HttpConfig;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn raw_post(url: &str) -> reqwest::RequestBuilder {
    client()
        .post(url)
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
}

#[tokio::test]
async fn initialize_issues_a_session_and_negotiates() {
    let t = start(HttpConfig::default()).await;
    let r = raw_post(&t.url)
        .body(init_body(1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("application/json"));
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    assert!(sid.len() >= 32 && sid.chars().all(|c| c.is_ascii_graphic()));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(body["result"]["serverInfo"]["name"], "test-server");
    assert_eq!(body["result"]["instructions"], "test instructions");
    assert_eq!(body["result"]["capabilities"]["tools"]["listChanged"], true);

    let mut old = init_body(2);
    old["params"]["protocolVersion"] = json!("2025-03-26");
    let body: Value = raw_post(&t.url)
        .body(old.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-03-26");
    let mut future = init_body(3);
    future["params"]["protocolVersion"] = json!("2099-01-01");
    let body: Value = raw_post(&t.url)
        .body(future.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn missing_session_id_is_400_and_never_creates_a_session() {
    let t = start(HttpConfig::default()).await;
    let r = raw_post(&t.url)
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], 1);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Session-Id")
    );
    // The Python SDK 2.x probe gets the same clean refusal.
    let r = raw_post(&t.url)
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(t.server.sessions().len(), 0);
}

#[tokio::test]
async fn unknown_and_deleted_sessions_are_404() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let ping = json!({"jsonrpc":"2.0","id":5,"method":"ping"});
    let r = raw_post(&t.url)
        .header("mcp-session-id", "not-a-session")
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(s.result(1, "ping", json!({})).await["result"], json!({}));

    let del = s.delete().await;
    assert_eq!(del.status(), 200);
    assert_eq!(s.post(ping.clone()).await.status(), 404);
    let del = s.delete().await;
    assert_eq!(del.status(), 404);
    let del = client().delete(&t.url).send().await.unwrap();
    assert_eq!(del.status(), 400);
    assert_eq!(
        t.server.sessions().len(),
        0,
        "deleted session is gone from the store"
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_are_freed() {
    let t = start({
        // `HttpConfig` is non-exhaustive: start from the default.
        let mut config = HttpConfig::default();
        config.session_idle_timeout = Duration::from_millis(150);
        config
    })
    .await;
    let s = Session::open(&t.url).await;
    let weak = std::sync::Arc::downgrade(&t.server.sessions().get(&s.id).unwrap());
    assert_eq!(t.server.sessions().len(), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !t.server.sessions().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(t.server.sessions().len(), 0);
    assert_eq!(
        s.post(json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
            .await
            .status(),
        404
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        weak.upgrade().is_none(),
        "the session's memory was released"
    );
}

#[tokio::test]
async fn at_the_session_limit_the_longest_idle_session_makes_room_and_busy_ones_stay() {
    let t = start({
        // `HttpConfig` is non-exhaustive: start from the default.
        let mut config = HttpConfig::default();
        config.max_sessions = 2;
        config
    })
    .await;
    let a = Session::open(&t.url).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let b = Session::open(&t.url).await;
    // A third client gets in; `a`, idle longest, is ended for it.
    let c = Session::open(&t.url).await;
    assert_eq!(t.server.sessions().len(), 2);
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    assert_eq!(a.post(ping.clone()).await.status(), 404);
    assert_eq!(b.result(2, "ping", json!({})).await["result"], json!({}));

    // With every session busy, nobody is ended and the newcomer gets 503.
    for s in [&b, &c] {
        let body = json!({"jsonrpc":"2.0","id":9,"method":"tools/call",
            "params":{"name":"wait_for_cancel","arguments":{}}});
        let req = s
            .http
            .post(&s.url)
            .header("accept", ACCEPT_BOTH)
            .header("mcp-session-id", &s.id)
            .header("mcp-protocol-version", "2025-11-25")
            .json(&body);
        tokio::spawn(req.send());
    }
    wait_until("calls never started", || {
        t.server
            .sessions()
            .all()
            .iter()
            .all(|s| s.requests_in_flight() > 0)
    })
    .await;
    let r = raw_post(&t.url)
        .body(init_body(7).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(r.headers().get("mcp-session-id").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], 7);
    assert_eq!(body["error"]["code"], -32000);
    assert_eq!(t.server.sessions().len(), 2, "no session was created");
    assert!(t.server.sessions().get(&b.id).is_some() && t.server.sessions().get(&c.id).is_some());
}

#[tokio::test]
async fn protocol_version_header_is_validated() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();
    let with = |v: &str| {
        raw_post(&t.url)
            .header("mcp-session-id", &s.id)
            .header("mcp-protocol-version", v)
            .body(ping.clone())
            .send()
    };
    assert_eq!(with("2030-01-01").await.unwrap().status(), 400);
    // Any supported version is tolerated inside a session.
    for v in ["2025-11-25", "2025-06-18", "2025-03-26"] {
        assert_eq!(with(v).await.unwrap().status(), 200, "{v}");
    }
}

#[tokio::test]
async fn foreign_origin_or_host_is_403() {
    let t = start({
        // `HttpConfig` is non-exhaustive: start from the default.
        let mut config = HttpConfig::default();
        config.allowed_origins = vec!["https://app.example.com".into()];
        config
    })
    .await;
    let init = init_body(1).to_string();
    let local = format!("http://localhost:{}", t.addr.port());
    for (header, value, status) in [
        ("origin", "http://evil.example.com", 403),
        ("host", "evil.example.com", 403),
        ("origin", local.as_str(), 200),
        ("origin", "https://app.example.com", 200),
    ] {
        let r = raw_post(&t.url)
            .header(header, value)
            .body(init.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{header}: {value}");
    }
    let r = client()
        .get(&t.url)
        .header("origin", "http://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "GET is guarded too");
    assert_eq!(
        t.server.sessions().len(),
        2,
        "rejected requests created nothing"
    );
}

#[tokio::test]
async fn malformed_bodies_get_jsonrpc_errors() {
    let t = start(HttpConfig::default()).await;
    let r = raw_post(&t.url).body("{oops").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
    for bad in [
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"id":1,"method":"ping"}"#,
        "42",
    ] {
        let r = raw_post(&t.url).body(bad).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], -32600, "{bad}");
    }
    let r = client()
        .post(&t.url)
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = client()
        .post(&t.url)
        .header("accept", "text/html")
        .header("content-type", "application/json")
        .body(init_body(1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    let r = client().put(&t.url).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let t = start({
        // `HttpConfig` is non-exhaustive: start from the default.
        let mut config = HttpConfig::default();
        config.max_body_bytes = 1024;
        config
    })
    .await;
    let s = Session::open(&t.url).await;
    let big = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x".repeat(4096)}}});
    assert_eq!(s.post(big).await.status(), 413);
    // Chunked bodies (no Content-Length) are limited too.
    let chunks = futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let r = raw_post(&t.url)
        .header("mcp-session-id", &s.id)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        s.result(2, "ping", json!({})).await["result"],
        json!({}),
        "the session survives"
    );
}

#[tokio::test]
async fn notifications_and_responses_get_202() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let r = s
        .post(json!({"jsonrpc":"2.0","method":"notifications/roots/list_changed"}))
        .await;
    assert_eq!(r.status(), 202);
    assert!(r.text().await.unwrap().is_empty());
    let r = s.post(json!({"jsonrpc":"2.0","id":99,"result":{}})).await;
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn quiet_requests_get_json_and_chatty_ones_get_sse() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let r = s.post(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})).await;
    assert!(content_type(&r).starts_with("application/json"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["content"][0]["text"], "hi");

    let r = s
        .post(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"progress","arguments":{},"_meta":{"progressToken":"tok"}}}))
        .await;
    assert!(content_type(&r).starts_with("text/event-stream"));
    let text = r.text().await.unwrap();
    let events = parse_sse(&text);
    assert_eq!(events[0].1, "", "a priming event comes first");
    assert!(text.contains("retry: "), "with a retry hint");
    let msgs: Vec<Value> = events
        .iter()
        .filter(|e| !e.1.is_empty())
        .map(|e| serde_json::from_str(&e.1).unwrap())
        .collect();
    let progress: Vec<f64> = msgs
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| {
            assert_eq!(m["params"]["progressToken"], "tok");
            m["params"]["progress"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(progress, [1.0, 2.0, 3.0]);
    assert_eq!(
        msgs.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        3
    );
    let last = msgs.last().unwrap();
    assert_eq!(last["id"], 2, "the response comes last");
    assert_eq!(last["result"]["content"][0]["text"], "done");
    let ids: Vec<&String> = events.iter().filter_map(|e| e.0.as_ref()).collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len(), "event ids are unique");
}

#[tokio::test]
async fn log_level_filters_notifications() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    assert_eq!(
        s.result(1, "logging/setLevel", json!({"level":"error"}))
            .await["result"],
        json!({})
    );
    let msgs = s
        .call(2, "tools/call", json!({"name":"progress","arguments":{}}))
        .await;
    assert!(
        msgs.iter().all(|m| m["method"] != "notifications/message"),
        "info logs are below error"
    );
    let bad = s
        .result(3, "logging/setLevel", json!({"level":"loud"}))
        .await;
    assert_eq!(bad["error"]["code"], -32602);
}

#[tokio::test]
async fn calls_in_one_session_run_concurrently() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let call = |id: i64| {
        s.result(
            id,
            "tools/call",
            json!({"name":"rendezvous","arguments":{}}),
        )
    };
    let (a, b) = tokio::join!(call(1), call(2));
    assert_eq!(a["result"]["content"][0]["text"], "met");
    assert_eq!(b["result"]["content"][0]["text"], "met");
}

#[tokio::test]
async fn a_panicking_handler_yields_an_error_and_the_session_lives_on() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let r = s
        .result(1, "tools/call", json!({"name":"panics","arguments":{}}))
        .await;
    assert_eq!(r["result"]["isError"], true);
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("panicked")
    );
    let r = s
        .result(
            2,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"still here"}}),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "still here");
}

#[tokio::test]
async fn cancellation_stops_the_handler() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let r = s.post(json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"wait_for_cancel","arguments":{}}})).await;
    let mut sse = SseReader::new(r);
    let first = sse.next_message().await.unwrap();
    assert_eq!(
        first["method"], "notifications/message",
        "the handler is running"
    );
    let r = s.post(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"test"}})).await;
    assert_eq!(r.status(), 202);
    assert!(
        sse.next_message().await.is_none(),
        "no response for a cancelled request"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !t.probes.cancelled.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        t.probes.cancelled.load(Ordering::SeqCst),
        "the handler saw the cancellation"
    );
}

#[tokio::test]
async fn server_to_client_requests_are_answered_on_a_later_post() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let r = s.post(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sample","arguments":{}}})).await;
    let mut sse = SseReader::new(r);
    let req = sse.next_message().await.unwrap();
    assert_eq!(req["method"], "sampling/createMessage");
    assert_eq!(req["params"]["maxTokens"], 10);
    let answer = json!({"jsonrpc":"2.0","id":req["id"],"result":{"role":"assistant","content":{"type":"text","text":"forty-two"},"model":"m"}});
    assert_eq!(s.post(answer).await.status(), 202);
    let resp = sse.next_message().await.unwrap();
    assert_eq!(resp["id"], 1);
    assert_eq!(
        resp["result"]["content"][0]["text"],
        "model said: forty-two"
    );
}

#[tokio::test]
async fn unanswered_sampling_with_nobody_listening_does_not_pin_a_session_slot() {
    let t = start({
        // `HttpConfig` is non-exhaustive: start from the default.
        let mut config = HttpConfig::default();
        config.max_sessions = 2;
        config.keep_alive = Duration::from_millis(50);
        config
    })
    .await;
    let sample = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sample","arguments":{}}});
    // `listening` keeps its stream open; `gone` reads the sampling request
    // and hangs up without answering.
    let listening = Session::open(&t.url).await;
    let mut live = SseReader::new(listening.post(sample.clone()).await);
    assert_eq!(
        live.next_message().await.unwrap()["method"],
        "sampling/createMessage"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let gone = Session::open(&t.url).await;
    {
        let mut sse = SseReader::new(gone.post(sample.clone()).await);
        assert_eq!(
            sse.next_message().await.unwrap()["method"],
            "sampling/createMessage"
        );
    }
    let gone_session = t.server.sessions().get(&gone.id).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while gone_session.is_busy() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hung-up session stays busy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        gone_session.requests_in_flight(),
        1,
        "its handler still waits"
    );
    // A newcomer gets the slot of the unreachable session, though it is the
    // younger one; the session whose client listens is kept.
    let newcomer = raw_post(&t.url)
        .body(init_body(5).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(newcomer.status(), 200);
    let ping = json!({"jsonrpc":"2.0","id":2,"method":"ping"});
    assert_eq!(gone.post(ping.clone()).await.status(), 404);
    assert!(
        gone_session.is_closed(),
        "its handler was cancelled with it"
    );
    assert_eq!(listening.post(ping).await.status(), 200);
}

#[tokio::test]
async fn a_stream_closed_by_the_server_resumes_with_last_event_id() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let r = s.post(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"reconnect","arguments":{}}})).await;
    assert!(content_type(&r).starts_with("text/event-stream"));
    let text = r.text().await.unwrap(); // ends when the server closes it
    let events = parse_sse(&text);
    assert!(
        events.iter().all(|e| e.1.is_empty()),
        "no result on the closed stream: {text}"
    );
    let last_id = events
        .last()
        .and_then(|e| e.0.clone())
        .expect("priming event id");
    let r = client()
        .get(&t.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &s.id)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let msgs = read_messages(r).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["id"], 1);
    assert_eq!(msgs[0]["result"]["content"][0]["text"], "after reconnect");
    let r = client()
        .get(&t.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &s.id)
        .header("last-event-id", "999_0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "unknown event id");
}

#[tokio::test]
async fn the_get_stream_carries_subscribed_resource_updates() {
    let t = start(HttpConfig::default()).await;
    let s = Session::open(&t.url).await;
    let get = || {
        client()
            .get(&t.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &s.id)
            .send()
    };
    let r = get().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        get().await.unwrap().status(),
        409,
        "one standalone stream per session"
    );
    let mut sse = SseReader::new(r);
    assert_eq!(
        s.result(1, "resources/subscribe", json!({"uri":"test://text"}))
            .await["result"],
        json!({})
    );
    let missing = s
        .result(2, "resources/subscribe", json!({"uri":"test://nope"}))
        .await;
    assert_eq!(missing["error"]["code"], -32002);
    s.result(
        3,
        "tools/call",
        json!({"name":"touch","arguments":{"uri":"test://blob"}}),
    )
    .await;
    s.result(
        4,
        "tools/call",
        json!({"name":"touch","arguments":{"uri":"test://text"}}),
    )
    .await;
    let n = sse.next_message().await.unwrap();
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(
        n["params"]["uri"], "test://text",
        "only the subscribed resource"
    );
    s.result(5, "resources/unsubscribe", json!({"uri":"test://text"}))
        .await;
    s.result(
        6,
        "tools/call",
        json!({"name":"touch","arguments":{"uri":"test://text"}}),
    )
    .await;
    t.server.set_tool_enabled("echo", false);
    let n = sse.next_message().await.unwrap();
    assert_eq!(
        n["method"], "notifications/tools/list_changed",
        "no update after unsubscribe"
    );
}
