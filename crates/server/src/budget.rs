//! Server-wide budgets (DESIGN.md decision 9): the per-connection limits bound what one client holds,
//! these bound the sum over all connections, so that 1,024 connections cannot add up to more than the
//! machine holds. Sessions still authenticating and pending operations hold a permit for as long as
//! they exist (dropping the session or the pending entry gives it back); byte-range locks are counted
//! with the connection's own count ([`crate::conn::Conn::reserve_locks`]) and stay counted while a
//! durable open holding them is disconnected; opens are counted from the tables at CREATE.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Budgets {
    authenticating: Arc<Semaphore>,
    pending: Arc<Semaphore>,
    locks_held: AtomicUsize,
    max_locks: usize,
    /// `server max open files`.
    pub max_open_files: usize,
}

fn size(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Budgets {
    pub fn new(limits: &config::Limits) -> Budgets {
        let permits = |n: u32| Arc::new(Semaphore::new(size(n).min(Semaphore::MAX_PERMITS)));
        Budgets {
            authenticating: permits(limits.server_max_authenticating_sessions),
            pending: permits(limits.server_max_pending_operations),
            locks_held: AtomicUsize::new(0),
            max_locks: size(limits.server_max_byte_range_locks),
            max_open_files: size(limits.server_max_open_files),
        }
    }

    /// A place for a new session until it has authenticated; None at `server max authenticating
    /// sessions`.
    pub fn authenticating(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.authenticating).try_acquire_owned().ok()
    }

    /// The places for pending operations (`server max pending operations`), which every connection's
    /// [`crate::pending::PendingTable`] draws from.
    pub fn pending_pool(&self) -> Arc<Semaphore> {
        Arc::clone(&self.pending)
    }

    /// Reserve `n` byte-range locks; false (nothing reserved) beyond `server max byte range locks`.
    pub fn reserve_locks(&self, n: usize) -> bool {
        let max = self.max_locks;
        self.locks_held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(n).filter(|&total| total <= max)
            })
            .is_ok()
    }

    pub fn release_locks(&self, n: usize) {
        let _ = self
            .locks_held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(n))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        Budgets::new(&config::Limits {
            server_max_authenticating_sessions: 2,
            server_max_pending_operations: 1,
            server_max_byte_range_locks: 10,
            ..Default::default()
        })
    }

    #[test]
    fn permits_are_bounded_and_come_back_when_dropped() {
        let b = budgets();
        let (one, two) = (b.authenticating(), b.authenticating());
        assert!(one.is_some() && two.is_some());
        assert!(b.authenticating().is_none());
        drop(one);
        assert!(b.authenticating().is_some());
        let pool = b.pending_pool();
        let p = Arc::clone(&pool).try_acquire_owned();
        assert!(p.is_ok() && pool.try_acquire_owned().is_err());
    }

    #[test]
    fn locks_are_bounded_server_wide() {
        let b = budgets();
        assert!(b.reserve_locks(8));
        assert!(!b.reserve_locks(3), "nothing is reserved past the limit");
        assert!(b.reserve_locks(2));
        assert!(!b.reserve_locks(1));
        b.release_locks(5);
        assert!(b.reserve_locks(5));
    }
}
