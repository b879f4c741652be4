//! A `subscriptions/listen` whose client does not read: its queue stays
//! bounded (at most `listen::MAX_QUEUED` notifications wait to be taken)
//! and the changes it could not take yet are coalesced, one per list and
//! URI, and delivered once the client reads again — none is lost.

use mcpgen_runtime::jsonrpc::{Request, RequestId};
use mcpgen_runtime::modern::listen::MAX_QUEUED;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::session::{Inbox, Outbound, Outgoing};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn server() -> Server {
    Server::builder(r#"{"name":"listen-slow","version":"1"}"#)
        .tool(
            r#"{"name":"noop","inputSchema":{"type":"object"}}"#,
            |_ctx, _: Value| async move { Ok(CallToolResult::text("ok")) },
        )
        .resource_text(r#"{"uri":"test://a","name":"a"}"#, "a")
        .build()
        .expect("a valid server")
}

/// What is in `inbox` now, without waiting: the notifications' methods.
fn take_all(inbox: &mut Inbox) -> Vec<String> {
    let mut methods = Vec::new();
    while let Ok(o) = inbox.try_recv() {
        let Outgoing::Message(m) = o else { continue };
        let v: Value = serde_json::from_str(&m.to_json()).unwrap();
        let method = v["method"].as_str().unwrap_or_default().to_owned();
        let uri = v["params"]["uri"].as_str().unwrap_or_default();
        methods.push(format!("{method} {uri}").trim_end().to_owned());
    }
    methods
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_never_reads_holds_a_bounded_queue_and_loses_no_change() {
    let s = server();
    let req = Request {
        id: RequestId::Number(1),
        method: "subscriptions/listen".into(),
        params: Some(json!({
            "notifications": {"toolsListChanged": true, "resourcesListChanged": true,
                              "resourceSubscriptions": ["test://a"]},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}},
        })),
        modern_meta: None,
    };
    let (out, mut inbox) = Outbound::channel();
    let watch = out.clone();
    let cancel = CancellationToken::new();
    let (server, token) = (s.clone(), cancel.clone());
    tokio::spawn(async move {
        server
            .handle_stateless(req, out, token, None, http::Extensions::new())
            .await
    });
    while s.listener_count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // 60 000 changes while the client reads nothing.
    for i in 0..20_000 {
        s.notify_list_changed("tools");
        s.notify_list_changed("resources");
        s.notify_resource_updated("test://a");
        if i % 500 == 0 {
            tokio::task::yield_now().await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = watch.queued();
    assert!(
        queued <= MAX_QUEUED + 1,
        "{queued} queued (ack + at most {MAX_QUEUED})"
    );
    let mut all = take_all(&mut inbox);
    assert_eq!(all[0], "notifications/subscriptions/acknowledged");

    // The client reads again: what waited comes, once per kind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    all.extend(take_all(&mut inbox));
    assert!(
        all.len() <= 1 + MAX_QUEUED + 3,
        "{} notifications for 60 000 changes: not coalesced",
        all.len()
    );
    let mut last = all[all.len() - 3..].to_vec();
    last.sort();
    assert_eq!(
        last,
        [
            "notifications/resources/list_changed",
            "notifications/resources/updated test://a",
            "notifications/tools/list_changed",
        ],
        "the latest of each change arrives last, once: {all:?}"
    );
    // And the listener is still there for the next change.
    s.notify_list_changed("tools");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(take_all(&mut inbox), ["notifications/tools/list_changed"]);
    cancel.cancel();
}
