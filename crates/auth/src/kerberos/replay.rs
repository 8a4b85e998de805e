//! The replay cache of the Kerberos acceptor (RFC 4120 3.2.3): an authenticator is accepted once. An
//! authenticator is identified by its client, its time (ctime and cusec) and a hash of its ciphertext,
//! and remembered for as long as its time is within the clock skew; older ones are refused by the time
//! check anyway. Bounded: when full of live entries, new authenticators are refused (the client retries
//! with a fresh one) rather than letting old ones be forgotten and replayed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Most authenticators remembered at once.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct ReplayCache {
    /// Identity of an authenticator → the unix time after which it may be forgotten.
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

impl ReplayCache {
    /// Records authenticator `id`; false if it was seen before (a replay) or the cache is full.
    pub fn check_and_insert(&self, id: [u8; 32], forget_after: i64, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_ENTRIES {
            seen.retain(|_, until| *until >= now);
            if seen.len() >= MAX_ENTRIES {
                return false;
            }
        }
        seen.insert(id, forget_after).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authenticator_is_accepted_once() {
        let c = ReplayCache::default();
        assert!(c.check_and_insert([1; 32], 100, 0));
        assert!(!c.check_and_insert([1; 32], 100, 50));
        assert!(c.check_and_insert([2; 32], 100, 50));
    }
}
