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
//! caller the handler sees; `write_note` needs `notes:write`.

use mcpgen_runtime::auth::AuthInfo;
use mcpgen_runtime::prelude::*;
use std::process::ExitCode;

const AUTH: &str = r#"{"scopes": ["mcp"], "toolScopes": {"write_note": ["notes:write"]}}"#;

fn main() -> ExitCode {
    mcpgen_runtime::cli::run(|| {
        Server::builder(r#"{"name":"auth-example","version":"0.1.0"}"#)
            .auth(AUTH)
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
                r#"{"name":"write_note","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}"#,
                |_ctx: RequestContext, args: Value| async move {
                    Ok(CallToolResult::structured(json!({ "stored": args["text"] })))
                },
            )
            .build()
    })
}
