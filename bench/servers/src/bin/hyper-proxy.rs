//! The proxy floor: a bare hyper HTTP/1.1 server in front of an upstream,
//! no MCP at all.
//!
//! Every `POST` (any path) is read as a JSON-RPC request; the server then
//! `GET`s `{upstream}/get` with hyper-util's pooled client and answers with
//! a `tools/call`-shaped result whose text is the upstream's body. That is
//! the least work a JSON-RPC-to-REST proxy can do: one parse, one upstream
//! round trip, one serialisation. The suite measures its added latency
//! beside the generated server's, so the share of the overhead that any
//! proxy pays on the host (one more loopback round trip) is measured, not
//! guessed.
//!
//! `hyper-proxy --bind ADDR --upstream http://HOST:PORT`

use bench_servers::{json_response, serve_http1};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response, StatusCode, Uri, body::Incoming};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;

type Upstream = Client<HttpConnector, Empty<Bytes>>;

async fn handle(
    req: Request<Incoming>,
    client: Upstream,
    get: Uri,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(json_response(StatusCode::BAD_REQUEST, Bytes::new())),
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return Ok(json_response(StatusCode::BAD_REQUEST, Bytes::new()));
    };
    let upstream = async {
        let resp = client.get(get).await.map_err(|e| e.to_string())?;
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        String::from_utf8(bytes.to_bytes().to_vec()).map_err(|e| e.to_string())
    };
    let (text, is_error) = match upstream.await {
        Ok(text) => (text, false),
        Err(e) => (e, true),
    };
    let answer = json!({
        "jsonrpc": "2.0",
        "id": request.get("id").cloned().unwrap_or(Value::Null),
        "result": {"content": [{"type": "text", "text": text}], "isError": is_error},
    });
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    Ok(json_response(StatusCode::OK, Bytes::from(bytes)))
}

/// `--bind ADDR` and `--upstream URL`, in either order, or a usage error.
fn args() -> Result<(SocketAddr, Uri), String> {
    let usage = || "usage: --bind 127.0.0.1:PORT --upstream http://HOST:PORT".to_string();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut bind, mut upstream) = (None, None);
    for pair in args.chunks(2) {
        match pair {
            [flag, addr] if flag == "--bind" => bind = Some(addr),
            [flag, url] if flag == "--upstream" => upstream = Some(url),
            _ => return Err(usage()),
        }
    }
    let (Some(addr), Some(url)) = (bind, upstream) else {
        return Err(usage());
    };
    let addr = addr.parse().map_err(|e| format!("--bind {addr}: {e}"))?;
    let get = format!("{}/get", url.trim_end_matches('/'));
    let get = get.parse().map_err(|e| format!("--upstream {url}: {e}"))?;
    Ok((addr, get))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, get) = args()?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Upstream = Client::builder(TokioExecutor::new()).build(connector);
    serve_http1(addr, move |req| handle(req, client.clone(), get.clone())).await
}
