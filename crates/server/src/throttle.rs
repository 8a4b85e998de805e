//! Throttling of failed logons, per client address and per user name: the defence against password
//! guessing that ksmbd lacked (CVE-2023-32251: unthrottled SESSION_SETUP attempts, also through parallel and
//! compounded requests on one connection).
//!
//! After `max_failures` failures within `window` from one address or for one user name, further attempts
//! from that address or for that user fail with STATUS_LOGON_FAILURE without the password being checked,
//! until the window has passed. Every failure is also answered only after a delay that grows with the
//! failure count. The delay is an async sleep, so other clients are never stalled; SESSION_SETUP runs
//! in order on its connection, so one connection cannot run attempts in parallel either.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Most tracked addresses and names; beyond it expired records are dropped first, then all user records
/// (address records are what an attacker cannot multiply cheaply).
const MAX_RECORDS: usize = 65_536;
/// Delay added per recorded failure, capped at [`MAX_DELAY`].
const DELAY_STEP: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Addr(IpAddr),
    User(String),
}

#[derive(Clone, Copy, Debug)]
struct Record {
    failures: u32,
    since: Instant,
}

#[derive(Debug)]
pub struct LogonThrottle {
    records: Mutex<HashMap<Key, Record>>,
    max_failures: u32,
    window: Duration,
}

fn keys(addr: IpAddr, user: Option<&str>) -> impl Iterator<Item = Key> {
    std::iter::once(Key::Addr(addr)).chain(user.map(|u| Key::User(u.to_lowercase())))
}

impl LogonThrottle {
    /// `max_failures` of 0 turns throttling off.
    pub fn new(max_failures: u32, window: Duration) -> LogonThrottle {
        LogonThrottle {
            records: Mutex::new(HashMap::new()),
            max_failures,
            window,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Record>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether attempts from `addr` (or for `user`) are refused right now.
    pub fn blocked(&self, addr: IpAddr, user: Option<&str>, now: Instant) -> bool {
        if self.max_failures == 0 {
            return false;
        }
        let records = self.lock();
        keys(addr, user).any(|k| {
            records.get(&k).is_some_and(|r| {
                now.duration_since(r.since) < self.window && r.failures >= self.max_failures
            })
        })
    }

    /// Count a failure; returns how long to wait before answering it.
    pub fn record_failure(&self, addr: IpAddr, user: Option<&str>, now: Instant) -> Duration {
        if self.max_failures == 0 {
            return Duration::ZERO;
        }
        let mut records = self.lock();
        if records.len() >= MAX_RECORDS {
            records.retain(|_, r| now.duration_since(r.since) < self.window);
            if records.len() >= MAX_RECORDS {
                records.retain(|k, _| matches!(k, Key::Addr(_)));
            }
        }
        let mut worst = 0;
        for key in keys(addr, user) {
            let r = records.entry(key).or_insert(Record {
                failures: 0,
                since: now,
            });
            if now.duration_since(r.since) >= self.window {
                *r = Record {
                    failures: 0,
                    since: now,
                };
            }
            r.failures = r.failures.saturating_add(1);
            worst = worst.max(r.failures);
        }
        DELAY_STEP.saturating_mul(worst).min(MAX_DELAY)
    }

    /// A successful logon clears the user's record (not the address's: one valid account must not let an
    /// address keep guessing others).
    pub fn record_success(&self, user: &str) {
        self.lock().remove(&Key::User(user.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn blocks_an_address_after_the_limit_and_forgives_after_the_window() {
        let t = LogonThrottle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..3 {
            assert!(!t.blocked(A, None, now));
            t.record_failure(A, Some("x"), now);
        }
        assert!(t.blocked(A, None, now));
        assert!(!t.blocked(B, None, now), "other addresses are not affected");
        assert!(
            t.blocked(B, Some("X"), now),
            "the guessed user is blocked from any address"
        );
        assert!(!t.blocked(A, None, now + Duration::from_secs(61)));
    }

    #[test]
    fn success_clears_only_the_user() {
        let t = LogonThrottle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure(A, Some("alice"), now);
        t.record_failure(A, Some("alice"), now);
        t.record_success("alice");
        assert!(!t.blocked(B, Some("alice"), now));
        assert!(t.blocked(A, None, now));
    }

    #[test]
    fn delay_grows_and_is_capped() {
        let t = LogonThrottle::new(100, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(t.record_failure(A, None, now), DELAY_STEP);
        assert_eq!(t.record_failure(A, None, now), DELAY_STEP * 2);
        for _ in 0..20 {
            t.record_failure(A, None, now);
        }
        assert_eq!(t.record_failure(A, None, now), MAX_DELAY);
    }

    #[test]
    fn disabled_with_zero() {
        let t = LogonThrottle::new(0, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(t.record_failure(A, None, now), Duration::ZERO);
        assert!(!t.blocked(A, None, now));
    }
}
