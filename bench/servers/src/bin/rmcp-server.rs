//! The rmcp 3.x comparison server: `test_simple_text` written the way rmcp's
//! own examples write tools (`#[tool_router]`), served statefully (one
//! session per `initialize`, rmcp's default `LocalSessionManager`) over
//! Streamable HTTP at `/mcp` with axum, as rmcp's examples do.

use axum::serve::ListenerExt;
use bench_servers::{SIMPLE_TEXT, bind_arg, terminated};
use rmcp::{
    ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::{ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use std::future::IntoFuture;

#[derive(Debug, Clone)]
struct Bench {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Bench {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Returns a simple text response.")]
    fn test_simple_text(&self) -> String {
        SIMPLE_TEXT.to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bench {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = bind_arg()?;
    // No SSE keep-alive pings: idle sessions should cost only memory.
    let config = StreamableHttpServerConfig::default().with_sse_keep_alive(None);
    let service: StreamableHttpService<Bench, LocalSessionManager> =
        StreamableHttpService::new(|| Ok(Bench::new()), Default::default(), config);
    let router = axum::Router::new().nest_service("/mcp", service);
    // TCP_NODELAY as the other servers have it: rmcp answers over SSE in
    // several small writes, and Nagle + delayed ACK would add 40 ms to each.
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::select! {
        r = axum::serve(listener, router).into_future() => r?,
        () = terminated() => {}
    }
    Ok(())
}
