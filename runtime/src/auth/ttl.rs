//! A bounded map whose entries expire: the caches of accepted tokens
//! (`introspect`) and of exchanged upstream tokens (`exchange`).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; beyond it expired ones go, then everything.
const MAX_ENTRIES: usize = 10_000;

pub(super) struct TtlMap<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for TtlMap<K, V> {
    fn default() -> Self {
        TtlMap {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    /// The value under `key`, unless it has expired.
    pub(super) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (until, value) = entries.get(key)?;
        (Instant::now() < *until).then(|| value.clone())
    }

    /// Keep `value` for `ttl` (not at all when it is zero).
    pub(super) fn keep(&self, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, (until, _)| *until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now() + ttl, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_zero_ttl_keeps_nothing() {
        let m = TtlMap::<String, u32>::default();
        m.keep("a".into(), 1, Duration::from_secs(60));
        m.keep("b".into(), 2, Duration::ZERO);
        m.keep("c".into(), 3, Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(m.get("a"), Some(1));
        assert_eq!(m.get("b"), None);
        assert_eq!(m.get("c"), None, "expired");
    }

    #[test]
    fn a_full_map_drops_expired_entries_first() {
        let m = TtlMap::<usize, usize>::default();
        m.keep(0, 0, Duration::from_secs(60));
        for i in 1..MAX_ENTRIES {
            m.keep(i, i, Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        m.keep(MAX_ENTRIES, 1, Duration::from_secs(60));
        assert_eq!(m.get(&0), Some(0), "a live entry survives");
        assert_eq!(m.get(&MAX_ENTRIES), Some(1));
    }
}
