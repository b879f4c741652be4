//! A minimal keep-alive HTTP/1.1 client: one TCP connection per worker, one
//! request at a time, every request bounded by a timeout so a stuck server
//! fails the run instead of hanging it.

use crate::Error;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, header};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;

/// No single request of the suite may take longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// One answer, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub session_id: Option<String>,
    pub content_type: String,
    pub body: Bytes,
}

/// A client connection to `addr`.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn, Error> {
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| Error::new(format!("connect {addr}: timed out")))??;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection task ends when the server or this client hangs up.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// Send one request; `headers` are added to Host and, with a body,
    /// the JSON content type and the Accept header MCP requires.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Reply, Error> {
        tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.send_inner(method, path, headers, body),
        )
        .await
        .map_err(|_| Error::new(format!("{path}: no answer within {REQUEST_TIMEOUT:?}")))?
    }

    async fn send_inner(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Reply, Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host);
        if body.is_some() {
            builder = builder
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| Error::new(format!("building a request: {e}")))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let header_text = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let session_id = header_text("mcp-session-id");
        let content_type = header_text("content-type").unwrap_or_default();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            session_id,
            content_type,
            body,
        })
    }
}
