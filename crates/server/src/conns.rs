//! The table of live connections: admission by `max tcp connections` and `max connections per address`
//! (DESIGN.md decision 9), and the list that `rsmbd status` and `reload` walk.

use crate::conn::Conn;
use crate::state::ServerState;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

struct Entry {
    ip: IpAddr,
    conn: Weak<Conn>,
}

/// Live connections by registration number.
pub struct ConnRegistry {
    max_total: u32,
    max_per_address: u32,
    entries: Mutex<HashMap<u64, Entry>>,
    next: AtomicU64,
}

/// Why a connection was not admitted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    TooManyConnections,
    TooManyFromAddress,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::TooManyConnections => "max tcp connections reached",
            Refusal::TooManyFromAddress => "max connections per address reached",
        })
    }
}

/// A connection's place in the table; dropping it frees the place.
pub struct Admission {
    state: Arc<ServerState>,
    id: u64,
}

impl Admission {
    /// Makes the connection visible to `status` and `reload`.
    pub fn attach(&self, conn: &Arc<Conn>) {
        if let Some(e) = self.state.conns.lock().get_mut(&self.id) {
            e.conn = Arc::downgrade(conn);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.state.conns.lock().remove(&self.id);
    }
}

/// IPv4-mapped IPv6 peers count as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl ConnRegistry {
    pub fn new(limits: &config::Limits) -> ConnRegistry {
        ConnRegistry {
            max_total: limits.max_tcp_connections,
            max_per_address: limits.max_connections_per_address,
            entries: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a connection from `ip` unless a limit is reached.
    pub fn admit(state: &Arc<ServerState>, ip: IpAddr) -> Result<Admission, Refusal> {
        let reg = &state.conns;
        let ip = canonical(ip);
        let mut entries = reg.lock();
        let full = |max: u32, n: usize| max != 0 && n >= usize::try_from(max).unwrap_or(usize::MAX);
        if full(reg.max_total, entries.len()) {
            return Err(Refusal::TooManyConnections);
        }
        if full(
            reg.max_per_address,
            entries.values().filter(|e| e.ip == ip).count(),
        ) {
            return Err(Refusal::TooManyFromAddress);
        }
        let id = reg.next.fetch_add(1, Ordering::Relaxed);
        entries.insert(
            id,
            Entry {
                ip,
                conn: Weak::new(),
            },
        );
        Ok(Admission {
            state: Arc::clone(state),
            id,
        })
    }

    /// The connections alive now, oldest first.
    pub fn live(&self) -> Vec<Arc<Conn>> {
        let entries = self.lock();
        let mut ids: Vec<&u64> = entries.keys().collect();
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| entries.get(id).and_then(|e| e.conn.upgrade()))
            .collect()
    }

    /// The live connection `id`.
    pub fn find(&self, id: crate::channel::ConnId) -> Option<Arc<Conn>> {
        self.lock()
            .values()
            .filter_map(|e| e.conn.upgrade())
            .find(|c| c.id == id)
    }

    /// Number of admitted connections.
    pub fn count(&self) -> usize {
        self.lock().len()
    }
}
