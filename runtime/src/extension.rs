//! How parts outside the protocol core plug into a server. The `upstream`
//! feature is one: the core knows nothing of it, only this trait.
//!
//! A plug-in keeps its declarations in an [`Extension`] on the
//! `ServerBuilder` (one per type, made on first use); `build()` finishes each
//! one, collecting its errors with the others, and the `Server` keeps what
//! it returns, to be found again by type (`Server::extension`).

use crate::error::BuildError;
use serde_json::Value;
use std::any::Any;
use std::sync::Arc;

/// State a plug-in collects while the server is described.
pub(crate) trait Extension: Any + Send {
    /// Check what was declared, given the server's `Implementation` object,
    /// and return the state the built server keeps.
    fn finish(self: Box<Self>, info: &Value)
    -> Result<Arc<dyn Any + Send + Sync>, Vec<BuildError>>;
}
