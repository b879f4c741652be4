//! Errors a handler can return, and errors of building a server.

use crate::jsonrpc::{self, ErrorObject};
use serde_json::Value;

/// A protocol-level error: becomes a JSON-RPC error response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} ({})", .0.message, .0.code)]
pub struct McpError(pub ErrorObject);

impl McpError {
    /// An error with a JSON-RPC `code` (see [`crate::jsonrpc`]) and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        McpError(ErrorObject::new(code, message))
    }
    /// Attach `data` for the client.
    pub fn with_data(mut self, data: Value) -> Self {
        self.0.data = Some(data);
        self
    }
    /// `-32602`: the parameters are wrong.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(jsonrpc::INVALID_PARAMS, message)
    }
    /// `-32601`: no such method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            jsonrpc::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )
    }
    /// `-32603`: the server failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(jsonrpc::INTERNAL_ERROR, message)
    }
    /// `-32002`: no resource has this URI.
    pub fn resource_not_found(uri: &str) -> Self {
        Self::new(
            jsonrpc::RESOURCE_NOT_FOUND,
            format!("Resource not found: {uri}"),
        )
        .with_data(serde_json::json!({ "uri": uri }))
    }
    /// The JSON-RPC error code.
    pub fn code(&self) -> i64 {
        self.0.code
    }
}

/// A tool execution error: reported to the model as a result with
/// `isError: true`, as 2025-11-25 asks, not as a protocol error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    /// What the model reads.
    pub message: String,
}

impl ToolError {
    /// A tool error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
        }
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError { message }
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::new(message)
    }
}

impl From<McpError> for ToolError {
    fn from(e: McpError) -> Self {
        ToolError::new(e.0.message)
    }
}

impl From<serde_json::Error> for ToolError {
    fn from(e: serde_json::Error) -> Self {
        ToolError::new(e.to_string())
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError::new(e.to_string())
    }
}

/// Why a server description could not be turned into a server.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A descriptor argument is not valid JSON.
    #[error("{what}: invalid descriptor JSON: {source}")]
    Descriptor {
        /// What the descriptor describes (`tool`, `resource`…).
        what: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A descriptor is valid JSON but not a valid descriptor.
    #[error("{what}: {message}")]
    Invalid {
        /// What it describes.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// Several problems: their number and one line per problem.
    #[error("{0} problems building the server:\n{1}")]
    Many(usize, String),
}
