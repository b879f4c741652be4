//! The HTTP/1 connections of `direct`: hyper's client connections in a
//! small pool of our own. hyper-util's pooled client did the same with a
//! checkout future, a waiter list and a task spawned per request to put
//! the connection back; here a connection goes back when its response body
//! has been read to the end. Behaviour kept from that client: connections
//! idle for 90 s are not reused, a request refused by a pooled connection
//! that closed meanwhile is sent again on another one (it was not sent),
//! and requests go out in origin form with a Host header.

use http::header::{self, HeaderValue};
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, Uri};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{Builder, SendRequest};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Body;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower_service::Service;

/// How long an unused connection stays reusable (reqwest's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub(super) enum SendError {
    /// No connection: refused, DNS, connect timeout. Displayed as
    /// hyper-util's client error was, so `describe` skips it.
    #[error("client error (Connect)")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The exchange failed.
    #[error("client error (SendRequest)")]
    Send(#[source] hyper::Error),
}

/// The connections, shared by every call (a cheap `Arc` clone).
#[derive(Clone)]
pub(super) struct Pool(Arc<Inner>);

struct Inner {
    connector: HttpConnector,
    builder: Builder,
    idle: Mutex<Vec<Idle>>,
}

struct Idle {
    key: Authority,
    sender: SendRequest<Body>,
    since: Instant,
}

impl Pool {
    pub(super) fn new(connector: HttpConnector) -> Pool {
        Pool(Arc::new(Inner {
            connector,
            builder: Builder::new(),
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// An idle connection to `key`, the most recently used, dropping the
    /// closed and expired ones on the way.
    fn checkout(&self, key: &Authority) -> Option<SendRequest<Body>> {
        let mut idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        idle.retain(|i| !i.sender.is_closed() && now.duration_since(i.since) < IDLE_TIMEOUT);
        let at = idle.iter().rposition(|i| i.key == *key)?;
        Some(idle.swap_remove(at).sender)
    }

    fn put_back(&self, key: Authority, sender: SendRequest<Body>) {
        let idle = Idle {
            key,
            sender,
            since: Instant::now(),
        };
        let mut list = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        list.push(idle);
    }

    async fn connect(&self, uri: Uri) -> Result<SendRequest<Body>, SendError> {
        let io = self
            .0
            .connector
            .clone()
            .call(uri)
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        let (sender, conn) = self
            .0
            .builder
            .handshake(io)
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        tokio::spawn(async move {
            // Its error reaches the request it failed, if any.
            if let Err(e) = conn.await {
                tracing::debug!(target: "mcpgen_runtime::upstream", "connection ended: {e}");
            }
        });
        Ok(sender)
    }

    /// Send `req` (an absolute `http` URI) on a pooled or new connection.
    pub(super) async fn send(
        &self,
        mut req: Request<Body>,
    ) -> Result<Response<Returning>, SendError> {
        let uri = req.uri().clone();
        let Some(key) = uri.authority().cloned() else {
            return Err(SendError::Connect("the URL has no host".into()));
        };
        req.headers_mut()
            .entry(header::HOST)
            .or_insert_with(|| host(&key));
        *req.uri_mut() = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"))
            .into();
        loop {
            let (mut sender, reused) = match self.checkout(&key) {
                Some(s) => (s, true),
                None => (self.connect(uri.clone()).await?, false),
            };
            let outcome = match sender.ready().await {
                Ok(()) => sender.try_send_request(req).await,
                Err(_) if reused => continue,
                Err(e) => return Err(SendError::Send(e)),
            };
            match outcome {
                Ok(res) => {
                    let back = Some((self.clone(), key, sender));
                    return Ok(res.map(|inner| Returning {
                        inner,
                        ended: false,
                        back,
                    }));
                }
                Err(mut e) => match e.take_message() {
                    // Never written: safe to send on another connection.
                    Some(r) if reused => req = r,
                    _ => return Err(SendError::Send(e.into_error())),
                },
            }
        }
    }
}

/// The Host header of `key`: hyper-util's, the port only when not 80.
fn host(key: &Authority) -> HeaderValue {
    let value = match key.port_u16() {
        Some(p) if p != 80 => HeaderValue::from_str(&format!("{}:{p}", key.host())),
        _ => HeaderValue::from_str(key.host()),
    };
    // An Authority is valid header text.
    value.unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A response body that puts its connection back in the pool once read to
/// the end (a connection with unread body left is closed instead).
pub(super) struct Returning {
    inner: Incoming,
    ended: bool,
    back: Option<(Pool, Authority, SendRequest<Body>)>,
}

impl HttpBody for Returning {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if frame.is_none() {
            self.ended = true;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if let Some((pool, key, sender)) = self.back.take()
            && (self.ended || self.inner.is_end_stream())
        {
            pool.put_back(key, sender);
        }
    }
}
