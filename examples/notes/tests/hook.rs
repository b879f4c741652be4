//! The `wrap_tool_call` override of `src/handlers.rs`: a read-only server
//! refuses the calls that would change notes, before their handler runs.

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::testing::{TestClient, block_on};
use notes::handlers::ServerHandlers;

async fn connect(handlers: ServerHandlers) -> TestClient {
    TestClient::connect(notes::server(handlers).unwrap())
        .await
        .unwrap()
}

fn text(r: &Value) -> &str {
    r["content"][0]["text"].as_str().unwrap_or_default()
}

#[test]
fn a_read_only_server_refuses_writes_in_its_tool_call_hook() {
    block_on(async {
        let c = connect(ServerHandlers::read_only()).await;
        let r = c
            .call_tool("create_note", json!({"title": "t", "body": "b"}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true, "{r}");
        assert_eq!(
            text(&r),
            "`create_note` is refused: this notes server is read-only"
        );
        // Refused before the handler: nothing was stored.
        let r = c.call_tool("count_notes", json!({})).await.unwrap();
        assert_eq!(r["structuredContent"]["count"], 0, "{r}");
        // Reads and dry runs pass through the hook to their handler (which
        // finds no note to tag).
        let r = c
            .call_tool(
                "notes.tag",
                json!({"ids": [1], "add": ["x"], "dryRun": true}),
            )
            .await
            .unwrap();
        assert_eq!(text(&r), "no note #1", "{r}");
        let r = c
            .call_tool("notes.tag", json!({"ids": [1], "add": ["x"]}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true, "{r}");
    });
}

#[test]
fn the_default_server_lets_writes_through() {
    block_on(async {
        let c = connect(ServerHandlers::default()).await;
        let r = c
            .call_tool("create_note", json!({"title": "t", "body": "b"}))
            .await
            .unwrap();
        assert_ne!(r["isError"], true, "{r}");
        let r = c.call_tool("count_notes", json!({})).await.unwrap();
        assert_eq!(r["structuredContent"]["count"], 1, "{r}");
    });
}
