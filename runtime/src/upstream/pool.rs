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

use http::header::{self, HeaderValue};
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, Uri};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{Builder, SendRequest};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use reqwest::Body;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
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
pub(super) struct Key {
    https: bool,
    authority: Authority,
}

impl Key {
    /// The key of an absolute `http` or `https` URI.
    pub(super) fn of(uri: &Uri) -> Option<Key> {
        Some(Key {
            https: uri.scheme() == Some(&http::uri::Scheme::HTTPS),
            authority: uri.authority()?.clone(),
        })
    }

    /// The Host header of requests to this key: hyper-util's, the port
    /// only when not the scheme's default.
    pub(super) fn host(&self) -> HeaderValue {
        let default = if self.https { 443 } else { 80 };
        let host = self.authority.host();
        let value = match self.authority.port_u16() {
            Some(p) if p != default => HeaderValue::from_str(&format!("{host}:{p}")),
            _ => HeaderValue::from_str(host),
        };
        // An Authority is valid header text.
        value.unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The URI the connector is given: scheme, host and port.
    fn uri(&self) -> Result<Uri, SendError> {
        let scheme = match self.https {
            true => http::uri::Scheme::HTTPS,
            false => http::uri::Scheme::HTTP,
        };
        Uri::builder()
            .scheme(scheme)
            .authority(self.authority.clone())
            .path_and_query(PathAndQuery::from_static("/"))
            .build()
            .map_err(|e| SendError::Connect(e.into()))
    }
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

/// A new connection's stream (each kind gets its own connection task).
enum Io {
    Plain(TokioIo<tokio::net::TcpStream>),
    Tls(Box<TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>>),
}

struct Idle {
    key: Key,
    sender: SendRequest<Body>,
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
    fn checkout(&self, key: &Key) -> Option<SendRequest<Body>> {
        let mut idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        idle.retain(|i| !i.sender.is_closed() && now.duration_since(i.since) < IDLE_TIMEOUT);
        let at = idle.iter().rposition(|i| i.key == *key)?;
        Some(idle.swap_remove(at).sender)
    }

    fn put_back(&self, key: Key, sender: SendRequest<Body>) {
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
            sender,
            since: Instant::now(),
        });
        drop(list);
        // Dropping its sender ends the connection's task, which closes it.
        drop(evicted);
    }

    /// How many connections wait in the pool.
    #[cfg(test)]
    pub(super) fn idle(&self) -> usize {
        let idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.len()
    }

    /// A new connection to `key`, within the connect timeout (reqwest's
    /// error when it passes: a connect error, "operation timed out").
    async fn connect(&self, uri: Uri, key: &Key) -> Result<SendRequest<Body>, SendError> {
        let io = tokio::time::timeout(self.0.connect_timeout, self.open(uri, key));
        match io.await {
            Ok(Ok(io)) => self.handshake(io).await,
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SendError::Connect("operation timed out".into())),
        }
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

    async fn handshake(&self, io: Io) -> Result<SendRequest<Body>, SendError> {
        match io {
            Io::Plain(io) => self.run(io).await,
            Io::Tls(io) => self.run(io).await,
        }
    }

    /// The HTTP/1 handshake on `io`, its connection driven by a task.
    async fn run<T>(&self, io: T) -> Result<SendRequest<Body>, SendError>
    where
        T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
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

    /// The key of `req` (an absolute `http` or `https` URI), made ready
    /// for `send_to`: its URI in origin form, its Host header set.
    pub(super) fn origin_form(req: &mut Request<Body>) -> Result<Key, SendError> {
        let Some(key) = Key::of(req.uri()) else {
            return Err(SendError::Connect("the URL has no host".into()));
        };
        req.headers_mut()
            .entry(header::HOST)
            .or_insert_with(|| key.host());
        *req.uri_mut() = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"))
            .into();
        Ok(key)
    }

    /// Send `req` to `key` on a pooled or new connection: its URI is in
    /// origin form and it has its Host header. Not an async fn: that would
    /// keep the request twice in its future (as the argument, and as the
    /// local it is moved to), where the async block captures it once.
    #[allow(clippy::manual_async_fn)]
    pub(super) fn send_to(
        &self,
        key: Key,
        mut req: Request<Body>,
    ) -> impl Future<Output = Result<Response<Returning>, SendError>> + '_ {
        async move {
            loop {
                let (mut sender, reused) = self.ready(&key).await?;
                match sender.try_send_request(req).await {
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

    /// A connection to `key` ready for a request, and whether it was
    /// pooled: a pooled one closed meanwhile is passed over. A future of
    /// its own: `send_to`'s request then lives across one await, not
    /// across two (which kept it apart from every other slot).
    async fn ready(&self, key: &Key) -> Result<(SendRequest<Body>, bool), SendError> {
        loop {
            let (mut sender, reused) = match self.checkout(key) {
                Some(s) => (s, true),
                // Boxed: connecting (TCP, TLS) is rare and its future
                // large; inline, every call's future would carry and copy it.
                None => (Box::pin(self.connect(key.uri()?, key)).await?, false),
            };
            match sender.ready().await {
                Ok(()) => return Ok((sender, reused)),
                Err(_) if reused => continue,
                Err(e) => return Err(SendError::Send(e)),
            }
        }
    }
}

/// A response body that puts its connection back in the pool once read to
/// the end (a connection with unread body left is closed instead).
pub(super) struct Returning {
    inner: Incoming,
    ended: bool,
    back: Option<(Pool, Key, SendRequest<Body>)>,
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
