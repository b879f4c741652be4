use super::*;
use crate::model::CallToolResult;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

fn message(v: Value) -> Message {
    match Message::from_value(v) {
        Ok(m) => m,
        Err(e) => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn a_handler_its_transport_drops_runs_to_its_end() {
    let started = Arc::new(Notify::new());
    let finished = Arc::new(AtomicBool::new(false));
    let (s, f) = (started.clone(), finished.clone());
    let server = Server::builder(r#"{"name":"t","version":"1"}"#)
        .tool(
            r#"{"name":"slow","inputSchema":{"type":"object"}}"#,
            move |_ctx, _: Value| {
                let (s, f) = (s.clone(), f.clone());
                async move {
                    s.notify_one();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    f.store(true, Ordering::SeqCst);
                    Ok(CallToolResult::text("done"))
                }
            },
        )
        .build()
        .unwrap();
    let session = server.create_session();
    let (out, _rx) = Outbound::channel();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"}}});
    let r = server.handle(&session, message(init), out.clone()).await;
    assert!(r.is_some_and(|r| r.outcome.is_ok()));
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "slow", "arguments": {}}});
    tokio::select! {
        _ = server.handle(&session, message(call), out) => panic!("answered too early"),
        _ = started.notified() => {}
    }
    assert_eq!(session.requests_in_flight(), 0, "the id is free again");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !finished.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(finished.load(Ordering::SeqCst), "the handler ran on");
}

/// What a handler that ignores its cancellation leaves behind when it
/// is dropped: when, and whether `ctx.is_cancelled()` said so.
#[derive(Default)]
struct Stubborn {
    started: Notify,
    dropped: std::sync::Mutex<Option<(tokio::time::Instant, bool)>>,
}

struct OnDrop(RequestContext, Arc<Stubborn>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let seen = (tokio::time::Instant::now(), self.0.is_cancelled());
        *self.1.dropped.lock().unwrap() = Some(seen);
    }
}

/// A server with `stubborn` (ignores its cancellation for a minute) and
/// `watcher` (polls `ctx.is_cancelled()`, then says so on `seen`).
fn cancel_server(stubborn: Arc<Stubborn>, seen: Arc<Notify>) -> Server {
    Server::builder(r#"{"name":"t","version":"1"}"#)
        .tool(
            r#"{"name":"stubborn","inputSchema":{"type":"object"}}"#,
            move |ctx, _: Value| {
                let st = stubborn.clone();
                async move {
                    let _guard = OnDrop(ctx, st.clone());
                    st.started.notify_one();
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(CallToolResult::text("done"))
                }
            },
        )
        .tool(
            r#"{"name":"watcher","inputSchema":{"type":"object"}}"#,
            move |ctx, _: Value| {
                let seen = seen.clone();
                async move {
                    assert!(!ctx.is_cancelled());
                    while !ctx.is_cancelled() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    seen.notify_one();
                    Ok(CallToolResult::text("done"))
                }
            },
        )
        .build()
        .unwrap()
}

async fn initialized(server: &Server) -> Arc<Session> {
    let session = server.create_session();
    let (out, _rx) = Outbound::channel();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"}}});
    let r = server.handle(&session, message(init), out).await;
    assert!(r.is_some_and(|r| r.outcome.is_ok()));
    session
}

fn call(id: i64, tool: &str) -> Message {
    message(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {}}}))
}

/// Dropped after the grace, not at once and not never, having seen
/// its cancellation.
async fn dropped_after_the_grace(stubborn: &Stubborn, cancelled_at: tokio::time::Instant) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        stubborn.dropped.lock().unwrap().is_none(),
        "dropped at once"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let dropped = loop {
        if let Some(d) = *stubborn.dropped.lock().unwrap() {
            break d;
        }
        assert!(tokio::time::Instant::now() < deadline, "never dropped");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(dropped.1, "the handler saw ctx.is_cancelled()");
    let after = dropped.0 - cancelled_at;
    assert!(
        after >= CANCEL_GRACE - Duration::from_millis(50),
        "{after:?}"
    );
}

#[tokio::test]
async fn is_cancelled_sees_a_cancelled_notification_and_the_session_closing() {
    let seen = Arc::new(Notify::new());
    let server = cancel_server(Arc::default(), seen.clone());
    let session = initialized(&server).await;
    let wait = |server: Server, session: Arc<Session>, id| {
        tokio::spawn(async move {
            let (out, _rx) = Outbound::channel();
            server.handle(&session, call(id, "watcher"), out).await
        })
    };
    let a = wait(server.clone(), session.clone(), 2);
    while session.requests_in_flight() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let b = wait(server.clone(), session.clone(), 3);
    while session.requests_in_flight() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2}});
    let (out, _rx) = Outbound::channel();
    assert!(
        server
            .handle(&session, message(cancel), out)
            .await
            .is_none()
    );
    let within = Duration::from_secs(5);
    tokio::time::timeout(within, seen.notified()).await.unwrap();
    assert!(
        a.await.unwrap().is_none(),
        "a cancelled request gets no answer"
    );
    assert!(!b.is_finished(), "only request 2 was cancelled");
    session.close();
    tokio::time::timeout(within, seen.notified()).await.unwrap();
    assert!(b.await.unwrap().is_none());
}

#[tokio::test]
async fn a_cancelled_handler_that_ignores_it_is_dropped_after_the_grace() {
    let stubborn = Arc::new(Stubborn::default());
    let server = cancel_server(stubborn.clone(), Arc::default());
    let session = initialized(&server).await;
    let running = {
        let (server, session) = (server.clone(), session.clone());
        tokio::spawn(async move {
            let (out, _rx) = Outbound::channel();
            server.handle(&session, call(2, "stubborn"), out).await
        })
    };
    stubborn.started.notified().await;
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2}});
    let (out, _rx) = Outbound::channel();
    server.handle(&session, message(cancel), out).await;
    let cancelled_at = tokio::time::Instant::now();
    assert!(running.await.unwrap().is_none(), "no answer");
    dropped_after_the_grace(&stubborn, cancelled_at).await;
}

/// The stateless HTTP path's order: its drop guard cancels, then the
/// answer's future (with the handler in it) is dropped.
#[tokio::test]
async fn a_stateless_handler_dropped_after_its_cancel_gets_the_grace() {
    let stubborn = Arc::new(Stubborn::default());
    let server = cancel_server(stubborn.clone(), Arc::default());
    let req = Request {
        id: RequestId::Number(1),
        method: "tools/call".into(),
        params: Some(json!({"name": "stubborn", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}})),
        modern_meta: None,
    };
    let cancel = Cancel::new();
    let (out, _rx) = Outbound::channel();
    let answer = server.serve_stateless(req, out, cancel.clone(), None, Default::default());
    let mut answer = Box::pin(answer);
    tokio::select! {
        _ = answer.as_mut() => panic!("answered"),
        _ = stubborn.started.notified() => {}
    }
    drop(cancel.drop_guard());
    let cancelled_at = tokio::time::Instant::now();
    drop(answer);
    dropped_after_the_grace(&stubborn, cancelled_at).await;
}

/// The answers given before any handler, pinned through both entry
/// points: `handle` (a [`Message`]) and `handle_request` (the HTTP
/// transport's direct call), which must agree.
#[tokio::test]
async fn requests_before_a_handler_are_answered_alike_on_both_paths() {
    let server = Server::builder(r#"{"name":"t","version":"1"}"#)
        .build()
        .unwrap();
    let err = |r: Option<Response>| match r.map(|r| r.outcome) {
        Some(Err(e)) => (e.code, e.message),
        other => panic!("not an error: {other:?}"),
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"}}});
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
    for direct in [false, true] {
        let session = server.create_session();
        let send = |v: Value| {
            let (server, session) = (server.clone(), session.clone());
            async move {
                let (out, _rx) = Outbound::channel();
                let Message::Request(req) = message(v) else {
                    panic!("not a request")
                };
                if direct {
                    server
                        .handle_request(session.clone(), req, out, None, http::Extensions::new())
                        .await
                } else {
                    server.handle(&session, Message::Request(req), out).await
                }
            }
        };
        let not_yet = "the session is not initialized: send initialize first";
        let want = (crate::jsonrpc::INVALID_REQUEST, not_yet.to_owned());
        assert_eq!(err(send(list.clone()).await), want);
        let pong = send(ping.clone()).await.map(|r| r.outcome.ok());
        assert_eq!(pong.flatten().map(Payload::into_value), Some(json!({})));
        assert!(send(init.clone()).await.is_some_and(|r| r.outcome.is_ok()));
        let again = "the session is already initialized";
        let want = (crate::jsonrpc::INVALID_REQUEST, again.to_owned());
        assert_eq!(err(send(init.clone()).await), want);
        assert!(send(list.clone()).await.is_some_and(|r| r.outcome.is_ok()));
        let busy = session.begin_request(&RequestId::Number(2));
        assert!(busy.is_some());
        let in_flight = "a request with id 2 is already in flight".to_owned();
        let want = (crate::jsonrpc::INVALID_REQUEST, in_flight);
        assert_eq!(err(send(list.clone()).await), want);
    }
}
