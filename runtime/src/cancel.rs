//! A request's cancellation: a flag and a [`Notify`] behind an `Arc`, with
//! at most one parent (the session's `closed`), held as a plain `Arc`
//! clone. tokio_util's `CancellationToken` keeps a tree instead: making a
//! child locks the parent's mutex to register it, dropping it locks both
//! again to unregister (and even a clone locks the node), ≈ 0.7k
//! instructions and ~35 cache lines of code per request. Here a child is
//! one allocation, a cancel a flag (the waiters, if any, woken), and the
//! parent is looked at, not told about its children.
//!
//! A token a caller passes in from outside ([`crate::Server`]'s public
//! `handle_stateless`) is kept as it is ([`Cancel::Token`]): what it sees
//! is exactly what that token sees.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::Poll;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A request's cancellation (see the module's documentation). Cloning
/// shares it: cancelling any clone cancels them all.
#[derive(Clone)]
pub(crate) enum Cancel {
    Own(Arc<Node>),
    /// A caller's token, used as it is.
    Token(CancellationToken),
}

pub(crate) struct Node {
    cancelled: AtomicBool,
    /// Whether anyone ever waited (`cancelled().await`): a cancel with no
    /// waiter does not take the `Notify`'s lock.
    watched: AtomicBool,
    notify: Notify,
    /// A root's cancel cancels its children; a child's, only itself. One
    /// level: a child's parent is a root.
    parent: Option<Arc<Node>>,
}

impl Node {
    fn new(parent: Option<Arc<Node>>) -> Arc<Node> {
        Arc::new(Node {
            cancelled: AtomicBool::new(false),
            watched: AtomicBool::new(false),
            notify: Notify::new(),
            parent,
        })
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(SeqCst) || self.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }

    fn cancel(&self) {
        // Flag first, then the waiters: a waiter that saw the flag unset
        // registered (made its `Notified`) before it looked, so
        // `notify_waiters` wakes it. `watched` unset: the waiter, if one
        // comes, marks it before it looks at the flag (both SeqCst), so it
        // sees this flag set.
        if !self.cancelled.swap(true, SeqCst) && self.watched.load(SeqCst) {
            self.notify.notify_waiters();
        }
    }

    async fn cancelled(&self) {
        let parent = self.parent.as_deref();
        watch(self);
        if let Some(p) = parent {
            watch(p);
        }
        // A `Notified` receives every `notify_waiters` from when it is
        // made, polled or not: made before the flags are read, it cannot
        // miss a cancel that comes after.
        let mut own = pin!(self.notify.notified());
        let mut up = pin!(parent.map(|p| p.notify.notified()));
        if self.is_cancelled() {
            return;
        }
        std::future::poll_fn(|cx| {
            if own.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            match up.as_mut().as_pin_mut() {
                Some(up) => up.poll(cx),
                None => Poll::Pending,
            }
        })
        .await
    }
}

/// Mark `node` as waited on; written once (the session's node is shared
/// by its requests' waiters). Already set: by a waiter before us, after
/// which a cancel looks (or its flag is set before that waiter looked,
/// hence before we look).
fn watch(node: &Node) {
    if !node.watched.load(SeqCst) {
        node.watched.store(true, SeqCst);
    }
}

impl Cancel {
    /// A root: cancelled only by its own [`Cancel::cancel`].
    pub(crate) fn new() -> Cancel {
        Cancel::Own(Node::new(None))
    }

    /// A child: cancelled by its own cancel or its parent's (`self`'s). A
    /// child of a child would not hear its grandparent: a session's
    /// requests are the only children, of the session's root.
    pub(crate) fn child(&self) -> Cancel {
        match self {
            Cancel::Own(node) => {
                debug_assert!(node.parent.is_none(), "a child's parent must be a root");
                Cancel::Own(Node::new(Some(node.clone())))
            }
            Cancel::Token(t) => Cancel::Token(t.child_token()),
        }
    }

    pub(crate) fn cancel(&self) {
        match self {
            Cancel::Own(node) => node.cancel(),
            Cancel::Token(t) => t.cancel(),
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        match self {
            Cancel::Own(node) => node.is_cancelled(),
            Cancel::Token(t) => t.is_cancelled(),
        }
    }

    /// Resolves once cancelled (at once if it is already).
    pub(crate) fn cancelled(&self) -> impl Future<Output = ()> + Send + '_ {
        use futures::future::Either;
        match self {
            Cancel::Own(node) => Either::Left(node.cancelled()),
            Cancel::Token(t) => Either::Right(t.cancelled()),
        }
    }

    /// Cancels when dropped.
    pub(crate) fn drop_guard(self) -> DropGuard {
        DropGuard(self)
    }
}

impl From<CancellationToken> for Cancel {
    fn from(t: CancellationToken) -> Cancel {
        Cancel::Token(t)
    }
}

/// Cancels its [`Cancel`] when dropped (the stateless HTTP path: the
/// client going away).
pub(crate) struct DropGuard(Cancel);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn resolves(c: &Cancel) -> bool {
        tokio::time::timeout(Duration::from_millis(50), c.cancelled())
            .await
            .is_ok()
    }

    /// A task waiting for `c`'s cancellation, given a turn to start waiting.
    async fn waiter(c: &Cancel) -> tokio::task::JoinHandle<()> {
        let c = c.clone();
        let waiting = tokio::spawn(async move { c.cancelled().await });
        tokio::task::yield_now().await;
        waiting
    }

    async fn woken(waiting: tokio::task::JoinHandle<()>, what: &str) {
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect(what)
            .unwrap();
    }

    #[tokio::test]
    async fn a_root_is_cancelled_by_its_own_cancel_and_wakes_its_waiters() {
        let c = Cancel::new();
        assert!(!c.is_cancelled());
        assert!(!resolves(&c).await);
        let waiting = waiter(&c).await;
        c.cancel();
        assert!(c.is_cancelled());
        woken(waiting, "the waiter was woken").await;
        assert!(resolves(&c).await, "already cancelled: at once");
    }

    #[tokio::test]
    async fn a_child_hears_its_parent_but_not_the_other_way_round() {
        let root = Cancel::new();
        let (a, b) = (root.child(), root.child());
        a.cancel();
        assert!(a.is_cancelled() && !b.is_cancelled() && !root.is_cancelled());
        assert!(!resolves(&b).await && !resolves(&root).await);
        let waiting = waiter(&b).await;
        root.cancel();
        assert!(b.is_cancelled());
        woken(waiting, "the parent's cancel woke the child's waiter").await;
        assert!(root.child().is_cancelled(), "born under a cancelled parent");
    }

    #[tokio::test]
    async fn a_waiter_made_before_the_cancel_and_polled_after_it_resolves() {
        let root = Cancel::new();
        let child = root.child();
        let mut waiting = Box::pin(child.cancelled());
        // Polled once (flags read, registered), then the parent cancels.
        assert!(
            futures::poll!(waiting.as_mut()).is_pending(),
            "not cancelled yet"
        );
        root.cancel();
        assert!(futures::poll!(waiting.as_mut()).is_ready());
    }

    #[tokio::test]
    async fn a_guard_cancels_when_dropped_and_a_caller_token_is_used_as_it_is() {
        let c = Cancel::new();
        drop(c.clone().drop_guard());
        assert!(c.is_cancelled());
        let token = CancellationToken::new();
        let c = Cancel::from(token.clone());
        assert!(!resolves(&c).await);
        token.cancel();
        assert!(c.is_cancelled() && resolves(&c).await);
    }
}
