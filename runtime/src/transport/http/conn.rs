//! The connection loop of the standalone server: HTTP/1.1 over hyper with
//! the limits that keep slow or idle clients from holding sockets forever
//! (slowloris), which `axum::serve` does not offer.
//!
//! - at most `max_connections` at once; beyond that, accepting waits (the
//!   kernel's backlog holds newcomers) until a connection ends;
//! - a request head must arrive within `header_read_timeout` — from accept
//!   on a new connection, from its first byte on a kept-alive one (from the
//!   first wait for more, which follows that byte at once);
//! - a kept-alive connection with no request for `idle_timeout` is closed
//!   (counted from the first wait for one after the last answer);
//! - the body-read timeout is the POST handler's (it reads the body).
//!
//! hyper's own `header_read_timeout` runs from the moment the connection
//! waits for a head, so on a kept-alive connection it would also be the idle
//! timeout; the two are kept apart here by watching the bytes: the
//! connection wrapper [`TimedIo`] knows when a request starts (its first
//! byte) and the service wrapper when its response ends. No timer runs while
//! a request is being answered, however long (an SSE stream, a slow tool).

use axum::body::{Body, Bytes};
use axum::response::Response;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, futures::Notified};
use tokio::time::{Instant, Sleep};

/// The per-connection limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub header_read: Duration,
    pub idle: Duration,
    pub max_connections: usize,
}

/// How long connections still answering get after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serve `app` (a request's answer, as a function of the request and the
/// client's address) on `listener` until `shutdown` resolves.
pub(crate) async fn serve<A, F>(
    listener: TcpListener,
    app: A,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    A: Fn(hyper::Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response, Infallible>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let stop = Arc::new(Stop::default());
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.map_err(io::Error::other)?,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (app, stop) = (app.clone(), stop.clone());
        connections.spawn(async move {
            serve_connection(stream, peer, app, limits, stop).await;
            drop(permit);
        });
    }
    stop.stop();
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::info!("connections still open {SHUTDOWN_GRACE:?} after shutdown were dropped");
    }
    Ok(())
}

async fn serve_connection<A, F>(
    stream: TcpStream,
    peer: SocketAddr,
    app: A,
    limits: Limits,
    stop: Arc<Stop>,
) where
    A: Fn(hyper::Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response, Infallible>> + Send + 'static,
{
    let _ = stream.set_nodelay(true);
    let state = Arc::new(ConnState::default());
    let io = TokioIo::new(TimedIo::new(stream, state.clone(), limits));
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let guard = Busy::start(state.clone());
        // Mapped, not awaited in an `async` block: that would move the
        // answer's future (kilobytes) once more per request.
        futures::FutureExt::map(app(req, peer), move |resp| {
            Ok::<_, Infallible>(resp?.map(|body| Answering { body, _busy: guard }))
        })
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // Replaced by TimedIo's, which tell idle and slow apart.
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    // Made before the flag is first read, so a stop between the two is not
    // missed (`notify_waiters` completes every `Notified` made before it).
    let notified = std::pin::pin!(stop.notify.notified());
    let result = match (UntilStop {
        conn: conn.as_mut(),
        stop: &stop,
        notified,
        registered: None,
    })
    .await
    {
        Some(r) => r,
        None => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection ended: {e}");
    }
}

/// The server's shutdown as its connections see it: a flag, and a
/// [`Notify`] that wakes each connection's task once when it is set.
#[derive(Default)]
struct Stop {
    stopped: AtomicBool,
    notify: Notify,
}

impl Stop {
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
}

/// A connection until it ends (`Some`) or the server stops (`None`).
///
/// The stop is watched through a waker registered once, not re-polled at
/// each wake-up of the connection's task: polling a `Notified` that waits
/// takes the `Notify`'s lock, and a connection is woken about twice per
/// request. It is polled again only when the task's waker changes.
struct UntilStop<'a, 's, C> {
    conn: Pin<&'a mut C>,
    stop: &'s Stop,
    notified: Pin<&'a mut Notified<'s>>,
    registered: Option<Waker>,
}

impl<C: Future> Future for UntilStop<'_, '_, C> {
    type Output = Option<C::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Poll::Ready(r) = this.conn.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        let fresh = this
            .registered
            .as_ref()
            .is_none_or(|w| !w.will_wake(cx.waker()));
        if fresh {
            if this.notified.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            this.registered = Some(cx.waker().clone());
        }
        if this.stop.stopped.load(Ordering::SeqCst) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

/// What the connection is doing, shared by its IO and its service.
#[derive(Default)]
struct ConnState {
    /// Requests whose responses are not finished.
    busy: AtomicUsize,
    /// Bumped each time the last response finishes: idle from then on.
    idle_since: AtomicU64,
    /// The read that found the connection busy: woken when it no longer
    /// is, to start the idle timer (hyper may not read again by itself).
    parked: Mutex<Option<Waker>>,
}

/// Marks a request in progress until dropped.
struct Busy(Arc<ConnState>);

/// A response body that keeps its request counted as in progress until
/// hyper drops it, written or not. Its size goes through to hyper, which
/// then writes the Content-Length of a plain answer itself.
struct Answering {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for Answering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Busy {
    fn start(state: Arc<ConnState>) -> Busy {
        state.busy.fetch_add(1, Ordering::SeqCst);
        Busy(state)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle_since.fetch_add(1, Ordering::SeqCst);
            let parked = self
                .0
                .parked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(w) = parked {
                w.wake();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first byte of a request head.
    Idle,
    /// Some of a head has arrived (or a new connection has sent nothing yet).
    Head,
}

/// A socket whose reads fail with `TimedOut` when, with no request being
/// answered, a head is not complete in time or the connection sits idle.
struct TimedIo {
    inner: TcpStream,
    state: Arc<ConnState>,
    limits: Limits,
    phase: Phase,
    seen_idle: u64,
    /// When the current phase times out: None until a read in it first
    /// waits, which reads the clock (most heads arrive whole, so a phase
    /// change reads none).
    due: Option<Instant>,
    /// Fires at `due` or earlier: a timer armed for an earlier phase is
    /// left to fire and then moved on, rather than moved at every request
    /// (a move is a timer-wheel update under its lock).
    deadline: Pin<Box<Sleep>>,
}

impl TimedIo {
    fn new(inner: TcpStream, state: Arc<ConnState>, limits: Limits) -> Self {
        let due = Instant::now() + limits.header_read;
        TimedIo {
            inner,
            state,
            limits,
            // A new connection exists to send a request: its head is due.
            phase: Phase::Head,
            seen_idle: 0,
            due: Some(due),
            deadline: Box::pin(tokio::time::sleep_until(due)),
        }
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.due = None;
    }

    /// When the current phase times out, from its first wait.
    fn due(&mut self) -> Instant {
        let limit = match self.phase {
            Phase::Idle => self.limits.idle,
            Phase::Head => self.limits.header_read,
        };
        *self.due.get_or_insert_with(|| Instant::now() + limit)
    }

    /// Ready once the phase has timed out.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let due = self.due();
        // Armed later than due (an idle timer, then a head's shorter one).
        if self.deadline.deadline() > due {
            self.deadline.as_mut().reset(due);
        }
        loop {
            ready!(self.deadline.as_mut().poll(cx));
            if self.deadline.deadline() >= due {
                return Poll::Ready(());
            }
            // An earlier phase's timer fired: on to this phase's.
            self.deadline.as_mut().reset(due);
        }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let idle_since = this.state.idle_since.load(Ordering::SeqCst);
        if idle_since != this.seen_idle {
            this.seen_idle = idle_since;
            this.enter(Phase::Idle);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let busy = this.state.busy.load(Ordering::SeqCst) > 0;
                if buf.filled().len() > before && !busy && this.phase == Phase::Idle {
                    this.enter(Phase::Head);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.state.busy.load(Ordering::SeqCst) > 0 {
                    let mut parked = this.state.parked.lock().unwrap_or_else(|e| e.into_inner());
                    *parked = Some(cx.waker().clone());
                    // Unless the last response ended meanwhile.
                    if this.state.busy.load(Ordering::SeqCst) > 0 {
                        return Poll::Pending;
                    }
                    drop(parked);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                ready!(this.poll_timeout(cx));
                let what = match this.phase {
                    Phase::Idle => "idle connection",
                    Phase::Head => "request head not received",
                };
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
            }
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
