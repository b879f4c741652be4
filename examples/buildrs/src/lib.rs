//! An MCP server whose code mcpgen generates at build time (see `build.rs`):
//! the generated argument structs, `Handlers` trait and `server()` live in
//! [`mcp`]; this file implements the handlers.

/// The code generated from `specs/greeter.yaml`.
pub mod mcp {
    include!(concat!(env!("OUT_DIR"), "/mcpgen.rs"));
}

use mcpgen_runtime::prelude::*;

/// The server's behaviour.
#[derive(Debug, Default)]
pub struct Greeter;

fn greeting(name: &str, excited: bool) -> String {
    format!("Hello, {name}{}", if excited { "!" } else { "." })
}

impl mcp::Handlers for Greeter {
    async fn greet(
        &self,
        _ctx: RequestContext,
        args: mcp::GreetArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::structured(
            json!({ "greeting": greeting(&args.name, args.excited) }),
        ))
    }

    async fn read_greeting(
        &self,
        _ctx: RequestContext,
        uri: String,
        params: mcp::GreetingParams,
    ) -> Result<ReadResourceResult, McpError> {
        Ok(ReadResourceResult::text(
            uri,
            Some("text/plain"),
            greeting(&params.name, false),
        ))
    }
}

/// The server, ready for a transport.
pub fn server() -> Result<Server, BuildError> {
    mcp::server(Greeter)
}
