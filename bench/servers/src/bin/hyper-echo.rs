//! The floor: a bare hyper HTTP/1.1 server, no MCP at all.
//!
//! - `POST` (any path): parses the JSON-RPC request and answers with the same
//!   result a `tools/call` of `test_simple_text` gets from an MCP server, so
//!   the load generator checks it like any other answer. No sessions, no
//!   dispatch: the least work a JSON-RPC-over-HTTP server can do.
//! - `GET` (any path): a small fixed JSON document. This is the fast upstream
//!   API of the proxy-overhead benchmark.

use bench_servers::{SIMPLE_TEXT, bind_arg, json_response, serve_http1};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode, body::Incoming};
use serde_json::{Value, json};
use std::convert::Infallible;

/// What the upstream `GET` returns; the proxy benchmark looks for the marker.
const UPSTREAM_BODY: &str = r#"{"args":{},"origin":"127.0.0.1","bench":"upstream-ok"}"#;

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET {
        return Ok(json_response(
            StatusCode::OK,
            Bytes::from_static(UPSTREAM_BODY.as_bytes()),
        ));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(json_response(StatusCode::BAD_REQUEST, Bytes::new())),
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return Ok(json_response(StatusCode::BAD_REQUEST, Bytes::new()));
    };
    let answer = json!({
        "jsonrpc": "2.0",
        "id": request.get("id").cloned().unwrap_or(Value::Null),
        "result": {"content": [{"type": "text", "text": SIMPLE_TEXT}]},
    });
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    Ok(json_response(StatusCode::OK, Bytes::from(bytes)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    serve_http1(bind_arg()?, handle).await
}
