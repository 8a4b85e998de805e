//! The server-wide tables of sessions and opens (MS-SMB2 3.3.1.5 Server.SessionTable, 3.3.1.5
//! GlobalOpenTable), indexed by id and by the connection they are bound to.
//!
//! The tables hold the only strong references to sessions and opens; a connection knows its own only
//! by id, through the index, so nothing here can keep a closed connection alive. Entries leave the
//! tables only through [`crate::lifecycle`] (and a failed SESSION_SETUP).

use crate::channel::ConnId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Entries by id, and the ids bound to each connection.
pub struct Index<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    by_id: HashMap<u64, (ConnId, Arc<T>)>,
    by_conn: HashMap<ConnId, HashSet<u64>>,
    /// Further connections an entry is reachable from (a session's bound channels, MS-SMB2
    /// 3.3.5.5.2), by entry id.
    channels: HashMap<u64, HashSet<ConnId>>,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            inner: Mutex::new(Inner {
                by_id: HashMap::new(),
                by_conn: HashMap::new(),
                channels: HashMap::new(),
            }),
        }
    }
}

impl<T> Index<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries that satisfy `pred`: a scan of every entry, under the table's lock.
    pub fn matching(&self, pred: impl Fn(&T) -> bool) -> Vec<Arc<T>> {
        let g = self.lock();
        g.by_id
            .values()
            .filter(|(_, e)| pred(e))
            .map(|(_, e)| Arc::clone(e))
            .collect()
    }

    /// Add `entry` under `id` for `conn`, unless `conn` already holds `max` entries (false).
    pub fn insert(&self, conn: ConnId, id: u64, entry: Arc<T>, max: usize) -> bool {
        let mut g = self.lock();
        let ids = g.by_conn.entry(conn).or_default();
        if ids.len() >= max {
            return false;
        }
        ids.insert(id);
        g.by_id.insert(id, (conn, entry));
        true
    }

    /// The entry `id` if it is bound to `conn`, or reachable from it as a further channel.
    pub fn get(&self, id: u64, conn: ConnId) -> Option<Arc<T>> {
        let g = self.lock();
        let bound = |c: &ConnId| {
            *c == conn
                || g.channels
                    .get(&id)
                    .is_some_and(|chans| chans.contains(&conn))
        };
        g.by_id
            .get(&id)
            .filter(|(c, _)| bound(c))
            .map(|(_, e)| Arc::clone(e))
    }

    /// Make entry `id` reachable from `conn` too (false if there is no such entry).
    pub fn add_channel(&self, id: u64, conn: ConnId) -> bool {
        let mut g = self.lock();
        if !g.by_id.contains_key(&id) {
            return false;
        }
        g.channels.entry(id).or_default().insert(conn);
        true
    }

    /// Bind entry `id` to `to` instead of its connection (its connection is gone but it lives on).
    pub fn rehome(&self, id: u64, to: ConnId) {
        let mut g = self.lock();
        let Some(from) = g.by_id.get_mut(&id).map(|(c, _)| std::mem::replace(c, to)) else {
            return;
        };
        if let Some(ids) = g.by_conn.get_mut(&from) {
            ids.remove(&id);
            if ids.is_empty() {
                g.by_conn.remove(&from);
            }
        }
        g.by_conn.entry(to).or_default().insert(id);
    }

    /// Forget every channel `conn` gave to entries bound elsewhere; returns their ids.
    pub fn drop_channels(&self, conn: ConnId) -> Vec<u64> {
        let mut g = self.lock();
        let mut dropped = Vec::new();
        g.channels.retain(|id, chans| {
            if chans.remove(&conn) {
                dropped.push(*id);
            }
            !chans.is_empty()
        });
        dropped
    }

    /// The entry `id` and the connection it is bound to, whichever that is (PreviousSessionId,
    /// durable reconnect).
    pub fn get_any(&self, id: u64) -> Option<(ConnId, Arc<T>)> {
        self.lock().by_id.get(&id).map(|(c, e)| (*c, Arc::clone(e)))
    }

    /// Take `id` out of the table.
    pub fn remove(&self, id: u64) -> Option<Arc<T>> {
        let mut g = self.lock();
        let (conn, entry) = g.by_id.remove(&id)?;
        g.channels.remove(&id);
        if let Some(ids) = g.by_conn.get_mut(&conn) {
            ids.remove(&id);
            if ids.is_empty() {
                g.by_conn.remove(&conn);
            }
        }
        Some(entry)
    }

    /// Take every entry of `conn` for which `pred` holds out of the table.
    pub fn remove_matching(&self, conn: ConnId, pred: impl Fn(&T) -> bool) -> Vec<Arc<T>> {
        let ids: Vec<u64> = {
            let g = self.lock();
            let Some(ids) = g.by_conn.get(&conn) else {
                return Vec::new();
            };
            ids.iter()
                .filter(|id| g.by_id.get(id).is_some_and(|(_, e)| pred(e)))
                .copied()
                .collect()
        };
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// The entries bound to `conn`, by id.
    pub fn of(&self, conn: ConnId) -> Vec<Arc<T>> {
        let g = self.lock();
        let mut ids: Vec<u64> = g
            .by_conn
            .get(&conn)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| g.by_id.get(id).map(|(_, e)| Arc::clone(e)))
            .collect()
    }

    /// Number of entries, over all connections.
    pub fn total(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Number of entries bound to `conn`.
    pub fn count(&self, conn: ConnId) -> usize {
        self.lock().by_conn.get(&conn).map_or(0, HashSet::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_to_one_connection() {
        let t: Index<&str> = Index::default();
        assert!(t.insert(ConnId(1), 10, Arc::new("a"), 2));
        assert!(t.insert(ConnId(1), 11, Arc::new("b"), 2));
        assert!(!t.insert(ConnId(1), 12, Arc::new("c"), 2));
        assert!(t.insert(ConnId(2), 12, Arc::new("c"), 2));
        assert!(t.get(10, ConnId(2)).is_none());
        assert_eq!(t.get(10, ConnId(1)).as_deref(), Some(&"a"));
        assert_eq!(t.count(ConnId(1)), 2);
        let gone = t.remove_matching(ConnId(1), |e| *e == "b");
        assert_eq!(gone.len(), 1);
        assert_eq!(t.of(ConnId(1)).len(), 1);
        assert!(t.remove(10).is_some());
        assert!(t.remove(10).is_none());
        assert_eq!(t.count(ConnId(1)), 0);
        assert!(t.get(12, ConnId(2)).is_some());
    }
}
