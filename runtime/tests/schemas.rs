//! Tool schemas are compiled on first use unless `check_schemas` asks for it
//! up front; an invalid schema is reported, never a panic.

use mcpgen_runtime::jsonrpc::Message;
use mcpgen_runtime::prelude::*;
use mcpgen_runtime::session::Outbound;

const BAD: &str = r#"{"name":"bad","description":"d","inputSchema":{"type":"object","properties":{"a":{"type":"bogus"}}}}"#;

fn builder() -> mcpgen_runtime::ServerBuilder {
    Server::builder(r#"{"name":"s","version":"1"}"#).tool(BAD, |_ctx, _a: Value| async move {
        Ok(CallToolResult::text("ran"))
    })
}

#[test]
fn check_schemas_reports_invalid_schemas_at_build() {
    let err = builder()
        .check_schemas(true)
        .build()
        .err()
        .expect("build fails");
    let text = err.to_string();
    assert!(
        text.contains("tool bad") && text.contains("inputSchema"),
        "{text}"
    );
}

#[tokio::test]
async fn a_lazily_compiled_invalid_schema_fails_the_call_not_the_server() {
    let server = builder().build().expect("lazy build succeeds");
    let session = server.create_session();
    let (out, _rx) = Outbound::channel();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    server
        .handle(&session, Message::from_value(init).unwrap(), out.clone())
        .await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bad","arguments":{}}});
    let r = server
        .handle(&session, Message::from_value(call).unwrap(), out.clone())
        .await
        .unwrap();
    let e = r.outcome.unwrap_err();
    assert_eq!(e.code, -32603);
    assert!(
        e.message.contains("not a valid JSON Schema"),
        "{}",
        e.message
    );
    let ping = json!({"jsonrpc":"2.0","id":2,"method":"ping"});
    let r = server
        .handle(&session, Message::from_value(ping).unwrap(), out)
        .await
        .unwrap();
    assert_eq!(r.outcome.unwrap(), json!({}));
}

#[test]
fn names_declared_twice_fail_the_build_each_named() {
    const TOOL: &str = r#"{"name":"t","inputSchema":{"type":"object"}}"#;
    let handler = |_ctx, _a: Value| async move { Ok(CallToolResult::text("ran")) };
    let err = Server::builder(r#"{"name":"s","version":"1"}"#)
        .tool(TOOL, handler)
        .tool(BAD, handler)
        .tool(TOOL, handler)
        .resource_text(r#"{"uri":"r:1","name":"r"}"#, "a")
        .resource_text(r#"{"uri":"r:1","name":"r2"}"#, "b")
        .build()
        .err()
        .expect("build fails")
        .to_string();
    assert!(err.contains("tool t: declared twice"), "{err}");
    assert!(err.contains("resource r:1: declared twice"), "{err}");
    assert!(!err.contains("tool bad"), "{err}");
}
