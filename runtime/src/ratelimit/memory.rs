//! Counters in this process: one GCRA timestamp per key.

use super::{Decision, Rate, RateLimitStore, StoreError};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys beyond which expired entries are swept on the next call.
const SWEEP_AT: usize = 1024;

/// In-memory counters (the default store): exact, shared by the servers of
/// this process that use the same store value, lost on restart.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Key → theoretical arrival time of the next call.
    tat: HashMap<String, Instant>,
    sweep_at: usize,
}

impl MemoryStore {
    /// Count one call at `now` (the clock is a parameter for the tests).
    pub(crate) fn acquire_at(&self, key: &str, rate: Rate, now: Instant) -> Decision {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.tat.len() >= st.sweep_at.max(SWEEP_AT) {
            // Entries whose time has passed are as good as absent.
            st.tat.retain(|_, tat| *tat > now);
            st.sweep_at = st.tat.len() * 2;
        }
        let decision = gcra(st.tat.get(key).copied(), rate, now);
        if let (Decision::Allow, Some(new_tat)) = decision {
            match st.tat.get_mut(key) {
                Some(t) => *t = new_tat,
                None => {
                    st.tat.insert(key.to_owned(), new_tat);
                }
            }
        }
        decision.0
    }

    /// Keys held (for the tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tat
            .len()
    }
}

/// One GCRA step: the decision, and the key's new timestamp when allowed.
fn gcra(tat: Option<Instant>, rate: Rate, now: Instant) -> (Decision, Option<Instant>) {
    let tat = tat.map_or(now, |t| t.max(now));
    let new_tat = tat + rate.emission().max(Duration::from_nanos(1));
    // The call may pass when the bucket (interval wide) has room for it.
    match (new_tat - now).checked_sub(rate.interval) {
        Some(wait) if !wait.is_zero() => (Decision::Deny { retry_after: wait }, None),
        _ => (Decision::Allow, Some(new_tat)),
    }
}

impl RateLimitStore for MemoryStore {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        rate: Rate,
    ) -> BoxFuture<'a, Result<Decision, StoreError>> {
        let d = self.acquire_at(key, rate, Instant::now());
        Box::pin(std::future::ready(Ok(d)))
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}
