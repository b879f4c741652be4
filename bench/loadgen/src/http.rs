//! A minimal keep-alive HTTP/1.1 client: one TCP connection per worker, one
//! request at a time, every request bounded by a timeout so a stuck server
//! fails the run instead of hanging it.

use crate::Error;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri, header};
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

/// A request line and headers parsed once ([`Conn::prepare`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    uri: Uri,
    headers: HeaderMap,
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

    /// The request line and headers of one kind of POST, parsed once: a
    /// run sends the same ones thousands of times, and building them per
    /// call (a custom header name allocates) cost the generator CPU the
    /// server's measurement should not depend on.
    pub fn prepare(&self, path: &str, headers: &[(&str, &str)]) -> Result<Prepared, Error> {
        let uri: Uri = path
            .parse()
            .map_err(|e| Error::new(format!("path {path:?}: {e}")))?;
        let mut map = HeaderMap::with_capacity(3 + headers.len());
        let value = |v: &str| {
            HeaderValue::from_str(v).map_err(|e| Error::new(format!("header value {v:?}: {e}")))
        };
        map.insert(header::HOST, value(&self.host)?);
        map.insert(header::CONTENT_TYPE, value("application/json")?);
        map.insert(
            header::ACCEPT,
            value("application/json, text/event-stream")?,
        );
        for (name, v) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Error::new(format!("header name {name:?}: {e}")))?;
            map.append(name, value(v)?);
        }
        Ok(Prepared { uri, headers: map })
    }

    /// POST `body` with the `prepared` request line and headers.
    pub async fn post(&mut self, prepared: &Prepared, body: Bytes) -> Result<Reply, Error> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = prepared.uri.clone();
        *request.headers_mut() = prepared.headers.clone();
        tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request))
            .await
            .map_err(|_| {
                let path = prepared.uri.path();
                Error::new(format!("{path}: no answer within {REQUEST_TIMEOUT:?}"))
            })?
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
        self.exchange(request).await
    }

    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<Reply, Error> {
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
