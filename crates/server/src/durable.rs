//! Durable handles (MS-SMB2 3.3.5.9.6 and 3.3.5.9.10 granting, 3.3.5.9.7 and 3.3.5.9.12 reconnecting,
//! 3.3.7.1 connection loss): an open that holds a batch oplock or a lease with handle caching and
//! asked to be durable outlives its connection. It is then disconnected: out of the open table, kept
//! here with its share mode, byte-range locks, oplock or lease and delete-on-close flag, until the
//! same user reclaims it from a new connection or its timeout passes (then it is closed as by CLOSE).
//! An open by someone else that would have to break it closes it at once, as Windows does.

use crate::conn::Conn;
use crate::open::Open;
use crate::session::AuthInfo;
use crate::state::ServerState;
use proto::durable::DurableContext;
use proto::Guid;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::time::{Duration, Instant};

/// What a client gets when it asks for no particular timeout (MS-SMB2 3.3.5.9.10: 60 seconds).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most disconnected durable opens the whole server keeps. Each connection's opens are bounded by
/// `max open files`, but connections come and go: without a server-wide bound a client that opens,
/// disconnects and reconnects in a loop could pile up file descriptors for the whole timeout. Past it,
/// an open whose connection is lost is closed like any other.
pub const MAX_DISCONNECTED: usize = 16_384;

/// Who opened a durable handle: only the same account may reclaim it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    user: Option<String>,
    domain: String,
    is_guest: bool,
    uid: u32,
}

impl Owner {
    pub fn of(auth: &AuthInfo) -> Owner {
        Owner {
            user: auth.user.as_ref().map(|u| u.to_lowercase()),
            domain: auth.domain.to_lowercase(),
            is_guest: auth.is_guest,
            uid: auth.unix.uid,
        }
    }
}

/// An open's durability, fixed when it was granted.
#[derive(Clone, Debug)]
pub struct Durability {
    /// Version 2: the CreateGuid it was made under.
    pub create_guid: Option<Guid>,
    pub timeout: Duration,
    pub owner: Owner,
}

impl Durability {
    /// The durability a CREATE asked for, if it can be granted: never for directories or anonymous
    /// sessions, and only with a batch oplock or a lease with handle caching (`caches_handle`).
    pub fn grant(
        asked: Option<DurableContext>,
        auth: &AuthInfo,
        is_dir: bool,
        caches_handle: bool,
        max: Duration,
    ) -> Option<Durability> {
        if is_dir || auth.is_anonymous || !caches_handle {
            return None;
        }
        let (create_guid, timeout) = match asked? {
            DurableContext::Request => (None, DEFAULT_TIMEOUT),
            DurableContext::RequestV2 {
                timeout_ms,
                create_guid,
                ..
            } => {
                let asked = Duration::from_millis(u64::from(timeout_ms));
                let t = if asked.is_zero() {
                    DEFAULT_TIMEOUT
                } else {
                    asked
                };
                (Some(create_guid), t)
            }
            DurableContext::Reconnect { .. } | DurableContext::ReconnectV2 { .. } => return None,
        };
        Some(Durability {
            create_guid,
            timeout: timeout.min(max),
            owner: Owner::of(auth),
        })
    }

    /// The response context: DHnQ, or DH2Q with the timeout granted (never persistent).
    pub fn response(&self) -> proto::create_context::OwnedCreateContext {
        use proto::create_context::{name, OwnedCreateContext};
        match self.create_guid {
            None => {
                OwnedCreateContext::new(name::DURABLE_HANDLE_REQUEST, &proto::durable::RESPONSE_V1)
            }
            Some(_) => {
                let ms = u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX);
                OwnedCreateContext::new(
                    name::DURABLE_HANDLE_REQUEST_V2,
                    &proto::durable::response_v2(ms, false),
                )
            }
        }
    }
}

/// The durable v2 CREATEs waiting for breaks, by ClientGuid and CreateGuid: a replay of one of them is
/// refused with STATUS_FILE_NOT_AVAILABLE rather than opening a second time (smbtorture
/// smb2.replay.dhv2-pending1*-sane).
#[derive(Default)]
pub struct PendingCreates {
    inner: Mutex<std::collections::HashSet<(Guid, Guid)>>,
}

/// A CREATE's place in [`PendingCreates`], given up when it is dropped (the CREATE finished).
pub struct PendingCreate {
    server: Arc<ServerState>,
    key: (Guid, Guid),
}

impl PendingCreates {
    fn lock(&self) -> MutexGuard<'_, std::collections::HashSet<(Guid, Guid)>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Note the CREATE of `client` under `create_guid` as waiting.
    pub fn enter(server: &Arc<ServerState>, client: Guid, create_guid: Guid) -> PendingCreate {
        let key = (client, create_guid);
        server.pending_creates.lock().insert(key);
        PendingCreate {
            server: Arc::clone(server),
            key,
        }
    }

    pub fn contains(&self, client: Guid, create_guid: Guid) -> bool {
        self.lock().contains(&(client, create_guid))
    }
}

impl Drop for PendingCreate {
    fn drop(&mut self) {
        self.server.pending_creates.lock().remove(&self.key);
    }
}

struct Disconnected {
    open: Arc<Open>,
    deadline: Instant,
}

/// The disconnected durable opens, by persistent FileId.
#[derive(Default)]
pub struct DurableTable {
    inner: Mutex<HashMap<u64, Disconnected>>,
}

impl DurableTable {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Disconnected>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The disconnected open with this persistent id.
    pub fn get(&self, persistent: u64) -> Option<Arc<Open>> {
        self.lock().get(&persistent).map(|d| Arc::clone(&d.open))
    }

    /// Take the open out (reclaimed, or closed for another open); None if it is no longer here.
    pub fn take(&self, persistent: u64) -> Option<Arc<Open>> {
        self.lock().remove(&persistent).map(|d| d.open)
    }

    /// Take the open out if its deadline has passed.
    fn take_expired(&self, persistent: u64, now: Instant) -> Option<Arc<Open>> {
        let mut g = self.lock();
        if g.get(&persistent).is_some_and(|d| d.deadline <= now) {
            g.remove(&persistent).map(|d| d.open)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The disconnected opens that satisfy `pred`.
    pub fn matching(&self, pred: impl Fn(&Open) -> bool) -> Vec<Arc<Open>> {
        self.lock()
            .values()
            .filter(|d| pred(&d.open))
            .map(|d| Arc::clone(&d.open))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// The connection or session of `open` ended: keep it disconnected if it is durable and still holds the
/// caching its durability depends on (true), else the caller closes it.
pub fn keep(conn: &Conn, open: &Arc<Open>) -> bool {
    let Some(d) = open.durable.as_ref() else {
        return false;
    };
    let id = open.file_id.volatile;
    if !open.tree.share.durable_handles || !open.node.caches_handle(id) {
        tracing::debug!(path = %open.path(), "durable open closed: it no longer caches handles");
        return false;
    }
    if conn.server.durable.len() >= MAX_DISCONNECTED {
        tracing::warn!(path = %open.path(), "durable open closed: {MAX_DISCONNECTED} disconnected opens kept already");
        return false;
    }
    open.watch().take();
    crate::notify::unwatch_dir(&conn.server, open);
    open.node.disconnect(id);
    let deadline = Instant::now() + d.timeout;
    conn.server.durable.lock().insert(
        open.file_id.persistent,
        Disconnected {
            open: Arc::clone(open),
            deadline,
        },
    );
    tracing::debug!(path = %open.path(), timeout = ?d.timeout, "durable open disconnected");
    let server = Arc::clone(&conn.server);
    let persistent = open.file_id.persistent;
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline).await;
        if let Some(open) = server.durable.take_expired(persistent, Instant::now()) {
            tracing::debug!(path = %open.path(), "durable open expired");
            let _ = crate::lifecycle::close_disconnected(&server, &open).await;
        }
    });
    true
}

/// Close the disconnected opens of the file `key` that `opener` would have to break or that conflict
/// with it (MS-SMB2 3.3.4.6, 3.3.4.7: a break that cannot reach its holder). Returns true if one of
/// them was delete-on-close and took the file with it.
pub async fn clear_the_way(
    server: &ServerState,
    key: crate::files::FileKey,
    opener: &crate::files::Opener,
) -> bool {
    let mut deleted = false;
    for id in server.files.disconnected_in_the_way(key, opener) {
        if let Some(open) = server.durable.take(id) {
            tracing::debug!(path = %open.path(), "durable open closed for a new open");
            deleted |= crate::lifecycle::close_disconnected(server, &open).await;
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    //! On tokio's paused clock: timeouts pass without waiting.
    use super::*;
    use crate::files::{Opener, OplockPolicy};
    use crate::oplock::{NewOpen, OplockLevel};
    use crate::testing::Fixture;

    const TIMEOUT: Duration = Duration::from_secs(10);

    /// Let the spawned timers and closes run.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    fn held(f: &Fixture, open: &Open) -> bool {
        f.server()
            .files
            .is_open_elsewhere(open.node.key(), u64::MAX)
    }

    #[tokio::test(start_paused = true)]
    async fn a_disconnected_open_is_kept_until_its_timeout_then_closed() {
        let f = Fixture::new();
        let open = f.open_durable("a", TIMEOUT);
        crate::lifecycle::connection_lost(&f.conn).await;
        assert_eq!(f.server().durable.len(), 1);
        assert!(
            held(&f, &open),
            "share mode and oplock stay while disconnected"
        );
        tokio::time::advance(TIMEOUT - Duration::from_millis(1)).await;
        settle().await;
        assert_eq!(f.server().durable.len(), 1);
        tokio::time::advance(Duration::from_millis(2)).await;
        settle().await;
        assert!(f.server().durable.is_empty());
        assert!(!held(&f, &open), "closed as by CLOSE");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reclaim_just_before_the_deadline_wins_over_the_timer() {
        let f = Fixture::new();
        let open = f.open_durable("a", TIMEOUT);
        crate::lifecycle::connection_lost(&f.conn).await;
        tokio::time::advance(TIMEOUT - Duration::from_millis(1)).await;
        let reclaimed = f.server().durable.take(open.file_id.persistent);
        assert!(reclaimed.is_some());
        tokio::time::advance(Duration::from_secs(1)).await;
        settle().await;
        assert!(held(&f, &open), "the timer found nothing to close");
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_the_server_closed_cannot_be_reclaimed() {
        let f = Fixture::new();
        let open = f.open_durable("a", TIMEOUT);
        crate::lifecycle::connection_lost(&f.conn).await;
        // Another client's open that shares nothing: the disconnected open is in its way.
        let other = Opener {
            open_id: f.server().next_id(),
            access: 0x001f_01ff,
            share: 0,
            oplock: NewOpen::new(OplockLevel::None, 0x001f_01ff, false),
            lease: None,
            target: None,
            policy: OplockPolicy {
                enabled: true,
                level2: true,
                break_timeout: Duration::from_secs(35),
            },
            dir: false,
            retry: false,
        };
        assert!(!clear_the_way(f.server(), open.node.key(), &other).await);
        assert!(f.server().durable.get(open.file_id.persistent).is_none());
        assert!(!held(&f, &open));
        // Its expiry later finds nothing either.
        tokio::time::advance(TIMEOUT * 2).await;
        settle().await;
        assert!(f.server().durable.is_empty());
    }
}
