//! The HTTP/1 connections of `direct`: hyper's client connections in a
//! small pool of our own. hyper-util's pooled client did the same with a
//! checkout future, a waiter list and a task spawned per request to put
//! the connection back; here a connection goes back when its response body
//! has been read to the end. Behaviour kept from that client: connections
//! idle for 90 s are not reused, a request refused by a pooled connection
//! that closed meanwhile is sent again on another one (it was not sent),
//! and requests go out in origin form with a Host header. HTTPS
//! connections are tokio-rustls streams with the settings' one rustls
//! config (SNI from the host, ALPN `http/1.1`), as reqwest makes them.
//! At most `MAX_IDLE_PER_ORIGIN` connections wait per origin; one more put
//! back closes the one idle longest.
//!
//! A connection is driven by the call using it, not by a task of its own:
//! its `Connection` future travels with its `SendRequest` (`Link`) and is
//! polled by the request, then by the response body, until the body ends.
//! A task per connection cost two extra wake-ups per call (to write, then
//! to read) on a worker the call already runs on. Idle, nobody polls it:
//! checkout polls it once first, which reads a close that came meanwhile
//! (so the resend-on-stale rule still applies), and a connection dropped
//! from the pool is handed to a task only to close cleanly.

use http::header::{self, HeaderValue};
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, Uri};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::TrySendError;
use hyper::client::conn::http1::{Builder, Connection, SendRequest};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use reqwest::Body;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tower_service::Service;

/// How long an unused connection stays reusable (reqwest's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Idle connections kept per origin: enough for a burst of concurrent
/// calls to find theirs again, few enough that sockets cannot pile up.
pub(super) const MAX_IDLE_PER_ORIGIN: usize = 32;

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
    /// Plain TCP (`enforce_http` off: it also connects for `https`).
    connector: HttpConnector,
    /// Bounds TCP connect and TLS handshake together, as reqwest does.
    connect_timeout: Duration,
    tls: Arc<ClientConfig>,
    builder: Builder,
    idle: Mutex<Vec<Idle>>,
}

/// Where a connection goes: scheme and authority.
#[derive(Clone)]
struct Key {
    https: bool,
    authority: Authority,
}

impl PartialEq for Key {
    /// `Authority`'s own comparison ignores case byte by byte; the same
    /// text, the usual case (one base URL), is found without it.
    fn eq(&self, other: &Key) -> bool {
        self.https == other.https
            && (self.authority.as_str() == other.authority.as_str()
                || self.authority == other.authority)
    }
}

/// A connection's stream: one type, so one `Connection` type for both.
enum Io {
    Plain(TokioIo<tokio::net::TcpStream>),
    Tls(Box<TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>>),
}

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_read(cx, buf),
            Io::Tls(io) => Pin::new(&mut **io).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_write(cx, buf),
            Io::Tls(io) => Pin::new(&mut **io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Io::Tls(io) => Pin::new(&mut **io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(io) => io.is_write_vectored(),
            Io::Tls(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_flush(cx),
            Io::Tls(io) => Pin::new(&mut **io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_shutdown(cx),
            Io::Tls(io) => Pin::new(&mut **io).poll_shutdown(cx),
        }
    }
}

/// A connection: the request side and the future that does its I/O,
/// `None` once that future ended. Boxed: it is large and moves with the
/// link between pool, request and body.
struct Link {
    sender: SendRequest<Body>,
    conn: Option<Box<Connection<Io, Body>>>,
    /// Its Host header, made once per connection rather than per request.
    host: HeaderValue,
}

struct Idle {
    key: Key,
    link: Link,
    since: Instant,
}

impl Pool {
    pub(super) fn new(
        connector: HttpConnector,
        connect_timeout: Duration,
        tls: Arc<ClientConfig>,
    ) -> Pool {
        Pool(Arc::new(Inner {
            connector,
            connect_timeout,
            tls,
            builder: Builder::new(),
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// An idle connection to `key`, the most recently used, dropping the
    /// closed and expired ones on the way.
    fn checkout(&self, key: &Key) -> Option<Link> {
        let mut idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut dropped = Vec::new();
        idle.retain_mut(|i| {
            let keep = !i.link.sender.is_closed() && now.duration_since(i.since) < IDLE_TIMEOUT;
            if !keep {
                dropped.push(i.link.conn.take());
            }
            keep
        });
        let found = idle.iter().rposition(|i| i.key == *key);
        let link = found.map(|at| idle.swap_remove(at).link);
        drop(idle);
        dropped.into_iter().for_each(retire);
        link
    }

    fn put_back(&self, key: Key, link: Link) {
        let mut list = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // The list is oldest first: the first of this origin idled longest.
        let evicted = match list.iter().filter(|i| i.key == key).count() {
            n if n >= MAX_IDLE_PER_ORIGIN => list
                .iter()
                .position(|i| i.key == key)
                .map(|at| list.remove(at)),
            _ => None,
        };
        list.push(Idle {
            key,
            link,
            since: Instant::now(),
        });
        drop(list);
        if let Some(i) = evicted {
            retire(i.link.conn);
        }
    }

    /// How many connections wait in the pool.
    #[cfg(test)]
    pub(super) fn idle(&self) -> usize {
        let idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.len()
    }

    /// A new connection to `key`, within the connect timeout (reqwest's
    /// error when it passes: a connect error, "operation timed out").
    async fn connect(&self, uri: Uri, key: &Key) -> Result<Link, SendError> {
        let io = tokio::time::timeout(self.0.connect_timeout, self.open(uri, key));
        let io = match io.await {
            Ok(io) => io?,
            Err(_) => return Err(SendError::Connect("operation timed out".into())),
        };
        let (sender, conn) = self
            .0
            .builder
            .handshake(io)
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        Ok(Link {
            sender,
            conn: Some(Box::new(conn)),
            host: host(key),
        })
    }

    /// The TCP connection to `key`, in TLS for `https`.
    async fn open(&self, uri: Uri, key: &Key) -> Result<Io, SendError> {
        let tcp = self
            .0
            .connector
            .clone()
            .call(uri)
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        if !key.https {
            return Ok(Io::Plain(tcp));
        }
        // An IPv6 host is bracketed in a URL, not in SNI.
        let host = key.authority.host().trim_start_matches('[');
        let name = ServerName::try_from(host.trim_end_matches(']').to_owned())
            .map_err(|e| SendError::Connect(e.into()))?;
        let tls = tokio_rustls::TlsConnector::from(self.0.tls.clone())
            .connect(name, tcp.into_inner())
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        Ok(Io::Tls(Box::new(TokioIo::new(tls))))
    }

    /// Send `req` (an absolute `http` or `https` URI) on a pooled or new
    /// connection.
    pub(super) async fn send(
        &self,
        mut req: Request<Body>,
    ) -> Result<Response<Returning>, SendError> {
        let uri = req.uri().clone();
        let Some(authority) = uri.authority().cloned() else {
            return Err(SendError::Connect("the URL has no host".into()));
        };
        let key = Key {
            https: uri.scheme() == Some(&http::uri::Scheme::HTTPS),
            authority,
        };
        *req.uri_mut() = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"))
            .into();
        loop {
            let (mut link, reused) = match self.checkout(&key) {
                Some(l) => (l, true),
                // Boxed: connecting (TCP, TLS) is rare and its future
                // large; inline, every call's future would carry and copy it.
                None => (Box::pin(self.connect(uri.clone(), &key)).await?, false),
            };
            req.headers_mut()
                .entry(header::HOST)
                .or_insert_with(|| link.host.clone());
            // The connection first: it reads a close that came while idle,
            // and asks for the next request.
            let ready = std::future::poll_fn(|cx| {
                link.drive(cx);
                link.sender.poll_ready(cx)
            });
            let outcome = match ready.await {
                Ok(()) => link.exchange(req).await,
                Err(_) if reused => continue,
                Err(e) => return Err(SendError::Send(e)),
            };
            match outcome {
                Ok(res) => {
                    let back = Some((self.clone(), key));
                    return Ok(res.map(|inner| Returning {
                        inner,
                        ended: false,
                        link: Some(link),
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

impl Link {
    /// Polls the connection, if it has not ended: its I/O moves the
    /// request out and the response and body in. Whether it still runs.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        match Pin::new(&mut **conn).poll(cx) {
            Poll::Pending => true,
            Poll::Ready(r) => {
                if let Err(e) = r {
                    // Its error reaches the request it failed, if any.
                    tracing::debug!(target: "mcpgen_runtime::upstream", "connection ended: {e}");
                }
                // Dropped: pending requests and bodies learn that it ended.
                self.conn = None;
                false
            }
        }
    }

    /// `req` sent and its response head read, driving the connection.
    async fn exchange(
        &mut self,
        req: Request<Body>,
    ) -> Result<Response<Incoming>, TrySendError<Request<Body>>> {
        let mut answer = std::pin::pin!(self.sender.try_send_request(req));
        std::future::poll_fn(|cx| match self.drive(cx) {
            // Only the connection, polled here, answers: it wakes the task
            // (a waker left with the answer would wake it once more).
            true => answer
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop())),
            false => answer.as_mut().poll(cx),
        })
        .await
    }
}

/// A connection the pool no longer keeps, closed by a task of its own
/// (as its own task did before: a clean shutdown, TLS close_notify) when
/// there is a runtime to run it, else just dropped.
fn retire(conn: Option<Box<Connection<Io, Body>>>) {
    let (Some(conn), Ok(rt)) = (conn, tokio::runtime::Handle::try_current()) else {
        return;
    };
    rt.spawn(async move {
        let _ = conn.await;
    });
}

/// The Host header of `key`: hyper-util's, the port only when not the
/// scheme's default.
fn host(key: &Key) -> HeaderValue {
    let default = if key.https { 443 } else { 80 };
    let host = key.authority.host();
    let value = match key.authority.port_u16() {
        Some(p) if p != default => HeaderValue::from_str(&format!("{host}:{p}")),
        _ => HeaderValue::from_str(host),
    };
    // An Authority is valid header text.
    value.unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A response body that puts its connection back in the pool once read to
/// the end (a connection with unread body left is closed instead). It
/// drives the connection while it is read.
pub(super) struct Returning {
    inner: Incoming,
    ended: bool,
    link: Option<Link>,
    back: Option<(Pool, Key)>,
}

impl HttpBody for Returning {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let noop = &mut Context::from_waker(Waker::noop());
        // What the connection has read already (usually the whole body,
        // with the head) needs no poll of it.
        let frame = match Pin::new(&mut this.inner).poll_frame(noop) {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                let running = this.link.as_mut().is_some_and(|l| l.drive(cx));
                // As in `exchange`: the running connection wakes the task.
                let cx = if running { noop } else { cx };
                std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx))
            }
        };
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
        let Some(link) = self.link.take() else {
            return;
        };
        match self.back.take() {
            Some((pool, key)) if self.ended || self.inner.is_end_stream() => {
                pool.put_back(key, link)
            }
            // Unread body left: the connection cannot be reused.
            _ => retire(link.conn),
        }
    }
}
