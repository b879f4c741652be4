//! The channel of server→client traffic caused by one client message
//! ([`Outbound`] → [`Inbox`]).
//!
//! One is made per request, and most requests send nothing through it, so
//! what a request always pays is kept small: one allocation, and an
//! [`Inbox::try_recv`] that finds the channel empty by one atomic load.
//! (futures' unbounded channel cost two allocations and, per look, its
//! queue's code; tokio's allocated a block of 32 slots, ≈ 3.5 KiB.)

use crate::session::Outgoing;
use futures::task::AtomicWaker;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

/// Where the server sends traffic caused by one client message. It counts
/// what is sent and not yet taken, so a long sender
/// (`subscriptions/listen`) can hold back while its reader is slow
/// ([`Outbound::queued`]).
#[derive(Debug)]
pub struct Outbound {
    chan: Arc<Chan>,
}

/// The receiving end of an [`Outbound`].
#[derive(Debug)]
pub struct Inbox {
    chan: Arc<Chan>,
}

/// Nothing to take from an [`Inbox`] now (empty, or every sender gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Empty;

#[derive(Debug, Default)]
struct Chan {
    queue: Mutex<VecDeque<Outgoing>>,
    /// Sent and not yet taken; changed under the queue's lock, read without.
    queued: AtomicUsize,
    /// Live [`Outbound`]s: at none, an empty channel has ended.
    senders: AtomicUsize,
    /// The [`Inbox`] is gone: sending fails.
    closed: AtomicBool,
    /// The receiver waiting in [`Inbox::poll_recv`].
    waker: AtomicWaker,
}

impl Chan {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Outgoing>> {
        // Nothing panics while holding it; a poisoned queue is still whole.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> Option<Outgoing> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.queue();
        let o = queue.pop_front()?;
        self.queued.fetch_sub(1, Ordering::Release);
        Some(o)
    }
}

impl Outbound {
    /// A new channel: its one sender and its receiver.
    pub fn channel() -> (Outbound, Inbox) {
        let chan = Arc::new(Chan {
            senders: AtomicUsize::new(1),
            ..Chan::default()
        });
        (Outbound { chan: chan.clone() }, Inbox { chan })
    }

    /// False when the receiving side is gone.
    pub fn send(&self, msg: crate::jsonrpc::Message) -> bool {
        self.send_outgoing(Outgoing::Message(msg))
    }

    /// [`Outbound::send`] of any [`Outgoing`]; false when the receiving
    /// side is gone.
    pub fn send_outgoing(&self, o: Outgoing) -> bool {
        if self.is_closed() {
            return false;
        }
        {
            let mut queue = self.chan.queue();
            queue.push_back(o);
            // Counted before it can be taken, so the count never lags a take.
            self.chan.queued.fetch_add(1, Ordering::Release);
        }
        self.chan.waker.wake();
        true
    }

    /// Whether the receiving side is gone.
    pub fn is_closed(&self) -> bool {
        self.chan.closed.load(Ordering::Acquire)
    }

    /// How many messages are sent and not yet taken from the [`Inbox`].
    pub fn queued(&self) -> usize {
        self.chan.queued.load(Ordering::Relaxed)
    }
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Outbound {
            chan: self.chan.clone(),
        }
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The receiver may be waiting for the end.
            self.chan.waker.wake();
        }
    }
}

impl Inbox {
    /// The next message; None once every sender is gone and all is taken.
    /// Cancel-safe (nothing is lost when the future is dropped).
    pub async fn recv(&mut self) -> Option<Outgoing> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`Inbox::recv`] as a poll, for a caller that polls it beside
    /// another future without a `select!`.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        if let Some(o) = self.chan.take() {
            return Poll::Ready(Some(o));
        }
        self.chan.waker.register(cx.waker());
        // Looked at again after registering: a send or the last sender's
        // drop in between has woken the waker or is seen here.
        if let Some(o) = self.chan.take() {
            return Poll::Ready(Some(o));
        }
        if self.chan.senders.load(Ordering::Acquire) == 0 {
            // Sent before the last sender went: taken before the end.
            return Poll::Ready(self.chan.take());
        }
        Poll::Pending
    }

    /// A message already sent, without waiting.
    pub fn try_recv(&mut self) -> Result<Outgoing, Empty> {
        self.chan.take().ok_or(Empty)
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.chan.closed.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn close(secs: u64) -> Outgoing {
        Outgoing::CloseStream {
            retry: Duration::from_secs(secs),
        }
    }

    fn retry(o: Option<Outgoing>) -> Option<u64> {
        match o? {
            Outgoing::CloseStream { retry } => Some(retry.as_secs()),
            Outgoing::Message(_) => None,
        }
    }

    #[test]
    fn messages_arrive_in_order_and_are_counted_until_taken() {
        let (out, mut inbox) = Outbound::channel();
        assert_eq!(inbox.try_recv().err(), Some(Empty));
        let other = out.clone();
        assert!(out.send_outgoing(close(1)));
        assert!(other.send_outgoing(close(2)));
        assert_eq!(out.queued(), 2);
        assert_eq!(retry(inbox.try_recv().ok()), Some(1));
        assert_eq!(out.queued(), 1);
        assert_eq!(retry(inbox.try_recv().ok()), Some(2));
        assert_eq!(out.queued(), 0);
        assert_eq!(inbox.try_recv().err(), Some(Empty));
    }

    #[test]
    fn sending_fails_once_the_inbox_is_gone() {
        let (out, inbox) = Outbound::channel();
        assert!(!out.is_closed());
        drop(inbox);
        assert!(out.is_closed());
        assert!(!out.send_outgoing(close(1)));
        assert_eq!(out.queued(), 0);
    }

    #[tokio::test]
    async fn recv_waits_for_a_send_and_ends_after_the_last_sender_once_all_is_taken() {
        let (out, mut inbox) = Outbound::channel();
        let second = out.clone();
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(out.send_outgoing(close(1)));
            drop(out);
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(second.send_outgoing(close(2)));
            // The last sender goes with a message still queued.
        });
        let wait = Duration::from_secs(5);
        let first = tokio::time::timeout(wait, inbox.recv()).await.unwrap();
        assert_eq!(retry(first), Some(1));
        sender.await.unwrap();
        let second = tokio::time::timeout(wait, inbox.recv()).await.unwrap();
        assert_eq!(retry(second), Some(2));
        let end = tokio::time::timeout(wait, inbox.recv()).await.unwrap();
        assert!(end.is_none(), "the channel ended");
    }

    #[tokio::test]
    async fn a_waiting_recv_wakes_when_the_last_sender_goes() {
        let (out, mut inbox) = Outbound::channel();
        let dropper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(out);
        });
        let end = tokio::time::timeout(Duration::from_secs(5), inbox.recv()).await;
        assert!(matches!(end, Ok(None)), "recv did not end with its senders");
        dropper.await.unwrap();
    }
}
