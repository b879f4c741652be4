#![doc = include_str!("../README.md")]

#[cfg(feature = "auth")]
pub mod auth;
mod builder;
mod cancel;
pub mod cli;
mod completion;
mod context;
mod error;
mod extension;
pub mod hook;
pub mod jsonrpc;
mod lifecycle;
mod logging;
pub mod model;
mod outbound;
// MCP 2026-07-28: the stateless request path (era detection, `_meta`,
// result envelope, error codes).
#[doc(hidden)]
pub mod modern;
mod pagination;
mod prompts;
pub mod ratelimit;
mod resources;
mod server;
#[cfg(feature = "surface")]
mod surface;
// Public only for the benchmark example (`switch_on`); not a stable API.
#[cfg(feature = "telemetry")]
#[doc(hidden)]
pub mod telemetry;
// The transport-level API (`Server::handle`, sessions, session stores): used
// by the transports and the runtime's own tests, not a stable interface yet.
#[doc(hidden)]
pub mod session;
// What the instances of one deployment share (sessions, SSE event logs,
// the bus between them): docs/deployment.md.
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod tools;
pub mod transport;
#[cfg(feature = "upstream")]
pub mod upstream;

pub use builder::ServerBuilder;
pub use context::RequestContext;
pub use error::{BuildError, McpError, ToolError};
pub use server::Server;
#[cfg(feature = "surface")]
pub use surface::{SurfaceError, ToolSurface};

/// Everything a handler module needs: `use mcpgen_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::builder::ServerBuilder;
    pub use crate::context::RequestContext;
    pub use crate::error::{BuildError, McpError, ToolError};
    pub use crate::hook::{Next, ToolCall};
    pub use crate::model::{
        CallToolResult, Content, GetPromptResult, LogLevel, PromptMessage, ReadResourceResult,
        ResourceContents, Role,
    };
    pub use crate::server::Server;
    pub use serde_json::{Value, json};
}

/// Paths only generated code uses: `bind` / `bind_template` (the glue of
/// `server()`), and the derive macros of its argument
/// structs need the crates themselves (`#[serde(crate = "…")]`), and a
/// generated crate depends on this crate alone. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::builder::{bind, bind_template};
    /// The global allocator generated `main.rs` installs (feature `mimalloc`).
    #[cfg(feature = "mimalloc")]
    pub use mimalloc::MiMalloc as Allocator;
    pub use schemars;
    pub use serde;
}
