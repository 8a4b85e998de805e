//! Failed logons: the defence against password guessing that ksmbd lacked (CVE-2023-32251: unthrottled
//! SESSION_SETUP attempts, also through parallel and compounded requests on one connection), built so
//! that it cannot be turned against the users it protects.
//!
//! Every failed logon is answered only after a delay (`logon failure delay`, default 2 s, what Windows
//! Server 2025 does for NTLM). SESSION_SETUP runs in order on its connection, so each connection guesses
//! at most once per delay; the delay is an async sleep, so nobody else waits. The right password is
//! accepted at any time: no number of wrong ones, from any address, refuses it.
//!
//! The delays themselves are bounded: at most [`MAX_DELAYED_PER_SOURCE`] failures wait at once per client
//! address (IPv6: per /64, what one host is routed) and [`MAX_DELAYED`] server-wide. A failure beyond a
//! bound ends its connection instead of being answered, so a guesser gains no speed from more connections
//! and cannot pile up sleeping work.
//!
//! `max logon failures` (off by default) adds a lockout for administrators who want one: after that many
//! failures within `logon failure window` from one address or for one user name, further attempts from
//! that address or for that user fail with STATUS_LOGON_FAILURE without the password being checked.
//! Beware that anyone who can reach the port can then lock a user out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Most tracked lockout records; beyond it expired records are dropped first, then all user records
/// (address records are what an attacker cannot multiply cheaply).
const MAX_RECORDS: usize = 65_536;
/// Failed logons waiting out their delay at once, per client address (or IPv6 /64).
pub const MAX_DELAYED_PER_SOURCE: u32 = 16;
/// Failed logons waiting out their delay at once, server-wide.
pub const MAX_DELAYED: u32 = 1024;

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

/// What the administrator configured.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleSettings {
    /// How long a failed logon waits before it is answered (zero: not at all).
    pub delay: Duration,
    /// Failures within `window` before an address or user is locked out (0: never).
    pub max_failures: u32,
    pub window: Duration,
}

#[derive(Debug, Default)]
struct Delayed {
    total: u32,
    by_source: HashMap<IpAddr, u32>,
}

#[derive(Debug)]
pub struct LogonThrottle {
    settings: ThrottleSettings,
    records: Mutex<HashMap<Key, Record>>,
    delayed: Mutex<Delayed>,
}

fn keys(addr: IpAddr, user: Option<&str>) -> impl Iterator<Item = Key> {
    std::iter::once(Key::Addr(addr)).chain(user.map(|u| Key::User(u.to_lowercase())))
}

/// The source a delay bound applies to: the IPv4 address, or the /64 of an IPv6 one.
fn source(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(net.into())
        }
        v4 => v4,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A failed logon's place among the delayed ones; dropping it (when the delay is over, or the connection
/// is gone) gives the place back.
#[must_use]
pub struct DelayPermit<'a> {
    throttle: &'a LogonThrottle,
    source: IpAddr,
    pub delay: Duration,
}

impl Drop for DelayPermit<'_> {
    fn drop(&mut self) {
        let mut d = lock(&self.throttle.delayed);
        d.total = d.total.saturating_sub(1);
        if let Some(n) = d.by_source.get_mut(&self.source) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                d.by_source.remove(&self.source);
            }
        }
    }
}

impl LogonThrottle {
    pub fn new(settings: ThrottleSettings) -> LogonThrottle {
        LogonThrottle {
            settings,
            records: Mutex::new(HashMap::new()),
            delayed: Mutex::default(),
        }
    }

    /// Whether the opt-in lockout refuses attempts from `addr` (or for `user`) right now.
    pub fn blocked(&self, addr: IpAddr, user: Option<&str>, now: Instant) -> bool {
        let s = self.settings;
        if s.max_failures == 0 {
            return false;
        }
        let records = lock(&self.records);
        keys(addr, user).any(|k| {
            records.get(&k).is_some_and(|r| {
                now.duration_since(r.since) < s.window && r.failures >= s.max_failures
            })
        })
    }

    /// Count a failed logon from `addr`. Returns the wait before answering it, or None when too many
    /// failures are waiting already: the connection is then ended instead.
    pub fn record_failure(
        &self,
        addr: IpAddr,
        user: Option<&str>,
        now: Instant,
    ) -> Option<DelayPermit<'_>> {
        if self.settings.max_failures > 0 {
            self.count_for_lockout(addr, user, now);
        }
        let source = source(addr);
        let mut d = lock(&self.delayed);
        let here = d.by_source.get(&source).copied().unwrap_or(0);
        if d.total >= MAX_DELAYED || here >= MAX_DELAYED_PER_SOURCE {
            return None;
        }
        d.total += 1;
        d.by_source.insert(source, here + 1);
        Some(DelayPermit {
            throttle: self,
            source,
            delay: self.settings.delay,
        })
    }

    fn count_for_lockout(&self, addr: IpAddr, user: Option<&str>, now: Instant) {
        let window = self.settings.window;
        let mut records = lock(&self.records);
        if records.len() >= MAX_RECORDS {
            records.retain(|_, r| now.duration_since(r.since) < window);
            if records.len() >= MAX_RECORDS {
                records.retain(|k, _| matches!(k, Key::Addr(_)));
            }
        }
        for key in keys(addr, user) {
            let r = records.entry(key).or_insert(Record {
                failures: 0,
                since: now,
            });
            if now.duration_since(r.since) >= window {
                *r = Record {
                    failures: 0,
                    since: now,
                };
            }
            r.failures = r.failures.saturating_add(1);
        }
    }

    /// A successful logon clears the user's lockout record (not the address's: one valid account must
    /// not let an address keep guessing others).
    pub fn record_success(&self, user: &str) {
        lock(&self.records).remove(&Key::User(user.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn throttle(max_failures: u32) -> LogonThrottle {
        LogonThrottle::new(ThrottleSettings {
            delay: Duration::from_secs(2),
            max_failures,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn by_default_failures_are_delayed_and_nobody_is_locked_out() {
        let t = throttle(0);
        let now = Instant::now();
        for _ in 0..100 {
            let permit = t.record_failure(A, Some("alice"), now).unwrap();
            assert_eq!(permit.delay, Duration::from_secs(2));
        }
        assert!(!t.blocked(A, Some("alice"), now));
        assert!(!t.blocked(B, Some("alice"), now));
    }

    #[test]
    fn waiting_failures_are_bounded_per_source_and_given_back() {
        let t = throttle(0);
        let now = Instant::now();
        let held: Vec<_> = (0..MAX_DELAYED_PER_SOURCE)
            .map(|_| t.record_failure(A, None, now).unwrap())
            .collect();
        assert!(
            t.record_failure(A, None, now).is_none(),
            "the next one ends its connection"
        );
        assert!(
            t.record_failure(B, None, now).is_some(),
            "other addresses are not affected"
        );
        drop(held);
        assert!(t.record_failure(A, None, now).is_some());
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let t = throttle(0);
        let now = Instant::now();
        let held: Vec<_> = (0..MAX_DELAYED_PER_SOURCE)
            .map(|i| {
                let addr = IpAddr::V6(std::net::Ipv6Addr::new(
                    0x2001, 0xdb8, 0, 1, 0, 0, 0, i as u16,
                ));
                t.record_failure(addr, None, now).unwrap()
            })
            .collect();
        let same_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        assert!(t.record_failure(same_64, None, now).is_none());
        let other_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        assert!(t.record_failure(other_64, None, now).is_some());
        drop(held);
    }

    #[test]
    fn waiting_failures_are_bounded_server_wide() {
        let t = throttle(0);
        let now = Instant::now();
        let held: Vec<_> = (0..MAX_DELAYED)
            .map(|i| {
                let addr = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
                t.record_failure(addr, None, now).unwrap()
            })
            .collect();
        assert!(t
            .record_failure(IpAddr::V4([192, 0, 2, 1].into()), None, now)
            .is_none());
        drop(held);
    }

    #[test]
    fn opt_in_lockout_blocks_an_address_and_a_user_until_the_window_passes() {
        let t = throttle(3);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(!t.blocked(A, None, now));
            let _ = t.record_failure(A, Some("x"), now);
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
        let t = throttle(2);
        let now = Instant::now();
        let _ = t.record_failure(A, Some("alice"), now);
        let _ = t.record_failure(A, Some("alice"), now);
        t.record_success("alice");
        assert!(!t.blocked(B, Some("alice"), now));
        assert!(t.blocked(A, None, now));
    }
}
