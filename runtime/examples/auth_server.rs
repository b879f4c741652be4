//! A small MCP server behind the OAuth 2.1 resource server, for the auth
//! interop tests (tests/interop/ts/auth.test.mjs) — what a generated crate
//! with `auth:` and `scopes:` in its spec builds:
//!
//! ```sh
//! cargo run -p mcpgen-runtime --features auth --example auth_server -- \
//!     --transport http --auth-issuer http://127.0.0.1:4000
//! ```
//!
//! `whoami` needs no scope beyond the server's and answers with the
//! caller the handler sees; `write_note` needs `notes:write`. Two upstream
//! tools show what an API receives (httpbin's `/headers` echo):
//! `confirm` asks the client a question (on MCP 2026-07-28: a multi
//! round-trip request whose `requestState` is bound to the caller).
//! `api_headers` calls the API's own origin ($AUTH_EXAMPLE_API),
//! `other_host_headers` an operation on another origin
//! ($AUTH_EXAMPLE_OTHER_API), which never gets the caller's credentials.

use mcpgen_runtime::auth::AuthInfo;
use mcpgen_runtime::prelude::*;
use std::process::ExitCode;

const AUTH: &str = r#"{"scopes": ["mcp"], "toolScopes": {"write_note": ["notes:write"]}}"#;

/// GET /headers, on `base` when given (an operation's own server).
fn headers_op(base: Option<&str>) -> String {
    json!({"method": "GET", "path": "/headers", "parameters": [], "security": [],
           "successSchemaWrapped": false, "accept": "application/json", "baseUrl": base})
    .to_string()
}

fn main() -> ExitCode {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "http://127.0.0.1:9".into());
    let (api, other) = (var("AUTH_EXAMPLE_API"), var("AUTH_EXAMPLE_OTHER_API"));
    let upstream = json!({"baseUrl": api, "envPrefix": "AUTH_EXAMPLE", "securitySchemes": {}});
    let no_args = r#"{"type":"object","properties":{}}"#;
    mcpgen_runtime::cli::run(|| {
        Server::builder(r#"{"name":"auth-example","version":"0.1.0"}"#)
            .auth(AUTH)
            .upstream(&upstream.to_string())
            .upstream_tool(
                &format!(r#"{{"name":"api_headers","inputSchema":{no_args}}}"#),
                &headers_op(None),
            )
            .upstream_tool(
                &format!(r#"{{"name":"other_host_headers","inputSchema":{no_args}}}"#),
                &headers_op(Some(&other)),
            )
            .tool(
                r#"{"name":"whoami","inputSchema":{"type":"object"}}"#,
                |ctx: RequestContext, _: Value| async move {
                    let who = ctx.extensions().get::<AuthInfo>().map(|i| {
                        json!({"subject": i.subject, "clientId": i.client_id, "scopes": i.scopes})
                    });
                    Ok(CallToolResult::structured(json!({ "caller": who })))
                },
            )
            .tool(
                r#"{"name":"confirm","inputSchema":{"type":"object"}}"#,
                |ctx: RequestContext, _: Value| async move {
                    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
                    let answer = ctx
                        .elicit(json!({"message": "Sure?", "requestedSchema": schema}))
                        .await?;
                    Ok(CallToolResult::structured(json!({ "answer": answer["content"] })))
                },
            )
            .tool(
                r#"{"name":"write_note","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}"#,
                |_ctx: RequestContext, args: Value| async move {
                    Ok(CallToolResult::structured(json!({ "stored": args["text"] })))
                },
            )
            .build()
    })
}
