//! The server-wide table of open files (MS-SMB2 3.3.1.10 GlobalOpenTable, MS-FSA 2.1.1.x shared per-file
//! state): share-access checks (MS-FSA 2.1.5.1.2 "check sharing access") and delete-pending state that
//! must be the same for every open of one file, across connections; byte-range locks and the blocking
//! lock requests waiting for them (MS-FSA 2.1.5.7: granted in arrival order as ranges free up); and
//! the oplocks and leases of its opens ([`caching`]).

mod caching;
mod disconnected;

pub use caching::{Attach, Grant, LeaseId, LeaseRequest, Opener, OplockPolicy, Pause};

use crate::breaks::{BreakTarget, Notice};
use crate::lease;
use crate::locks::ByteRangeLock;
use caching::{Caching, LeaseFiles, LeaseRecord};
use proto::messages::create::access::{
    DELETE, FILE_APPEND_DATA, FILE_EXECUTE, FILE_READ_DATA, FILE_WRITE_DATA,
};
use proto::NtStatus;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{oneshot, watch};
use tokio::time::{Duration, Instant};

pub const FILE_SHARE_READ: u32 = 0x1;
pub const FILE_SHARE_WRITE: u32 = 0x2;
pub const FILE_SHARE_DELETE: u32 = 0x4;

/// Identifies a file or one of its named streams: (device, inode, [`vfs::stream_id`] or 0 for the
/// file itself). Each stream has its own share modes, oplocks and leases.
pub type FileKey = (u64, u64, u64);

/// The key of the file or stream `st` describes.
pub fn key_of(st: &vfs::FileStat) -> FileKey {
    (st.dev, st.ino, st.stream_id)
}

#[derive(Clone, Debug)]
struct Holder {
    open_id: u64,
    access: u32,
    share: u32,
    caching: Caching,
    /// Where its oplock breaks go (none for opens that can never hold an oplock).
    target: Option<BreakTarget>,
    /// A durable open whose connection is gone ([`crate::durable`]).
    disconnected: bool,
}

#[derive(Debug, Default)]
struct NodeState {
    holders: Vec<Holder>,
    leases: Vec<LeaseRecord>,
    delete_pending: bool,
}

/// The state shared by all opens of one file.
#[derive(Debug)]
pub struct FileNode {
    key: FileKey,
    state: Mutex<NodeState>,
    /// Byte-range locks held through any open of the file.
    locks: Mutex<Vec<ByteRangeLock>>,
    /// Blocking lock requests waiting, oldest first (always locked after `locks`).
    waiting: Mutex<VecDeque<LockWaiter>>,
    /// Fires when a break ends (acknowledged, timed out, or its open closed).
    changed: watch::Sender<()>,
    /// The delayed last-write-time update.
    pub write_time: crate::write_time::WriteTime,
}

/// A blocking lock request waiting for its range.
#[derive(Debug)]
struct LockWaiter {
    id: u64,
    lock: ByteRangeLock,
    granted: oneshot::Sender<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

const READ_LIKE: u32 = FILE_READ_DATA | FILE_EXECUTE;
const WRITE_LIKE: u32 = FILE_WRITE_DATA | FILE_APPEND_DATA;

/// MS-FSA 2.1.5.1.2: does an open with `access`/`share` conflict with an existing holder?
fn conflicts(h: &Holder, access: u32, share: u32) -> bool {
    // Opens that touch neither data nor existence take no part in sharing (MS-FSA 2.1.5.1.2).
    if !touches_data(access) || !touches_data(h.access) {
        return false;
    }
    let pairs = [
        (READ_LIKE, FILE_SHARE_READ),
        (WRITE_LIKE, FILE_SHARE_WRITE),
        (DELETE, FILE_SHARE_DELETE),
    ];
    pairs.iter().any(|(bits, share_bit)| {
        (h.access & bits != 0 && share & share_bit == 0)
            || (access & bits != 0 && h.share & share_bit == 0)
    })
}

/// The rules between a file and its named streams, whose opens are otherwise separate (MS-FSA
/// 2.1.5.1.2): a stream of a delete-pending file cannot be opened (DELETE_PENDING), and the file cannot
/// be opened for DELETE while one of its streams is open without FILE_SHARE_DELETE (SHARING_VIOLATION).
fn stream_conflict(
    nodes: &BTreeMap<FileKey, Arc<FileNode>>,
    key: FileKey,
    access: u32,
) -> Result<(), NtStatus> {
    let (dev, ino, stream) = key;
    if stream != 0 {
        if nodes
            .get(&(dev, ino, 0))
            .is_some_and(|n| n.delete_pending())
        {
            return Err(NtStatus::DELETE_PENDING);
        }
        return Ok(());
    }
    if access & DELETE == 0 {
        return Ok(());
    }
    let blocked = nodes
        .range((dev, ino, 1)..=(dev, ino, u64::MAX))
        .any(|(_, n)| {
            lock(&n.state)
                .holders
                .iter()
                .any(|h| touches_data(h.access) && h.share & FILE_SHARE_DELETE == 0)
        });
    if blocked {
        Err(NtStatus::SHARING_VIOLATION)
    } else {
        Ok(())
    }
}

/// Opens that read, write, execute or delete (the others are attribute-only "stat" opens).
fn touches_data(access: u32) -> bool {
    access & (READ_LIKE | WRITE_LIKE | DELETE) != 0
}

impl FileNode {
    /// The file's identity (device and inode).
    pub fn key(&self) -> FileKey {
        self.key
    }

    pub fn delete_pending(&self) -> bool {
        lock(&self.state).delete_pending
    }

    pub fn set_delete_pending(&self, pending: bool) {
        lock(&self.state).delete_pending = pending;
    }

    /// The byte-range lock list, for the functions of [`crate::locks`].
    pub fn locks(&self) -> MutexGuard<'_, Vec<ByteRangeLock>> {
        lock(&self.locks)
    }

    /// The share access (FILE_SHARE_*) open `open_id` was granted with.
    pub fn share_access(&self, open_id: u64) -> Option<u32> {
        lock(&self.state)
            .holders
            .iter()
            .find(|h| h.open_id == open_id)
            .map(|h| h.share)
    }

    /// Number of opens of this file.
    pub fn open_count(&self) -> usize {
        lock(&self.state).holders.len()
    }

    /// Take `new` now, or queue it as waiter `id`: the receiver fires once it has been granted (and
    /// fails if the waiter was withdrawn because its open closed).
    pub fn lock_or_wait(&self, id: u64, new: ByteRangeLock) -> Result<(), oneshot::Receiver<()>> {
        let mut held = lock(&self.locks);
        let mut waiting = lock(&self.waiting);
        if crate::locks::try_lock(&mut held, new).is_ok() {
            return Ok(());
        }
        let (granted, rx) = oneshot::channel();
        waiting.push_back(LockWaiter {
            id,
            lock: new,
            granted,
        });
        Err(rx)
    }

    /// Withdraw waiter `id`; false if it is no longer waiting (it was granted meanwhile).
    pub fn withdraw_waiter(&self, id: u64) -> bool {
        let _held = lock(&self.locks);
        let mut waiting = lock(&self.waiting);
        let before = waiting.len();
        waiting.retain(|w| w.id != id);
        waiting.len() != before
    }

    /// Withdraw every waiter of `open_id` (its open is closing).
    pub fn withdraw_open_waiters(&self, open_id: u64) {
        let _held = lock(&self.locks);
        lock(&self.waiting).retain(|w| w.lock.open_id != open_id);
    }

    /// Ranges were freed: grant the waiting requests that fit now, oldest first.
    pub fn grant_waiting_locks(&self) {
        let mut held = lock(&self.locks);
        let mut waiting = lock(&self.waiting);
        let mut still = VecDeque::with_capacity(waiting.len());
        while let Some(w) = waiting.pop_front() {
            if crate::locks::try_lock(&mut held, w.lock).is_err() {
                still.push_back(w);
            } else if w.granted.send(()).is_err() {
                // Its request is gone: give the range back.
                held.pop();
            }
        }
        *waiting = still;
    }
}

#[derive(Debug, Default)]
pub struct FileTable {
    /// Ordered, so the streams of one file are neighbours (see [`stream_conflict`]).
    nodes: Mutex<BTreeMap<FileKey, Arc<FileNode>>>,
    /// The file each lease was granted on (always locked after `nodes`).
    leases: Mutex<LeaseFiles>,
    /// The leases granted on directories: while there are none, a change in a directory costs no
    /// lookup of its node (always locked after `leases`).
    dir_leases: Mutex<std::collections::HashSet<LeaseId>>,
}

impl FileTable {
    /// Attach an open that asks for no oplock (tests); panics if it would have to wait.
    #[cfg(test)]
    pub fn attach_plain(
        &self,
        key: FileKey,
        open_id: u64,
        access: u32,
        share: u32,
    ) -> Result<Arc<FileNode>, NtStatus> {
        let opener = Opener {
            open_id,
            access,
            share,
            oplock: crate::oplock::NewOpen::new(crate::oplock::OplockLevel::None, access, false),
            lease: None,
            target: None,
            dir: false,
            retry: false,
            policy: OplockPolicy {
                enabled: true,
                level2: true,
                break_timeout: Duration::from_secs(35),
            },
        };
        match self.attach(key, opener, Instant::now())? {
            Attach::Granted { node, .. } => Ok(node),
            Attach::Wait { .. } => panic!("no oplock to wait for"),
        }
    }

    /// Register an open of `key`: fails with DELETE_PENDING or SHARING_VIOLATION as MS-FSA 2.1.5.1.2
    /// requires, with INVALID_PARAMETER when its lease key already names another file (MS-SMB2
    /// 3.3.5.9.8), or asks the caller to wait while breaks it caused are outstanding.
    pub fn attach(&self, key: FileKey, opener: Opener, now: Instant) -> Result<Attach, NtStatus> {
        let mut nodes = lock(&self.nodes);
        stream_conflict(&nodes, key, opener.access)?;
        let lease = opener.lease.map(|l| l.id);
        if let Some(id) = lease {
            if lock(&self.leases).get(&id).is_some_and(|file| *file != key) {
                return Err(NtStatus::INVALID_PARAMETER);
            }
        }
        let node = nodes
            .entry(key)
            .or_insert_with(|| {
                Arc::new(FileNode {
                    key,
                    state: Mutex::new(NodeState::default()),
                    locks: Mutex::new(Vec::new()),
                    waiting: Mutex::new(VecDeque::new()),
                    changed: watch::channel(()).0,
                    write_time: Default::default(),
                })
            })
            .clone();
        // Under the table's lock, so a concurrent last detach cannot drop the node meanwhile.
        let dir = opener.dir;
        let result = node.attach(opener, now);
        if let (
            Some(id),
            Ok(Attach::Granted {
                grant: Grant::Lease { .. },
                ..
            }),
        ) = (lease, &result)
        {
            lock(&self.leases).insert(id, key);
            if dir {
                lock(&self.dir_leases).insert(id);
            }
        }
        drop(nodes);
        result
    }

    /// A lease break acknowledgment: the lease must exist (else STATUS_OBJECT_NAME_NOT_FOUND).
    /// Returns the state acknowledged and the notice of the break's next step, if any.
    pub fn acknowledge_lease(
        &self,
        id: LeaseId,
        state: lease::State,
        now: Instant,
        timeout: Duration,
    ) -> Result<(lease::State, Option<Notice>), NtStatus> {
        let nodes = lock(&self.nodes);
        let node = lock(&self.leases)
            .get(&id)
            .and_then(|file| nodes.get(file))
            .cloned()
            .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        drop(nodes);
        node.acknowledge_lease(id, state, now, timeout)
    }
    /// Remove an open. Returns true if it was the last one and the file is delete-pending: the caller
    /// must then delete the file. A delete-pending file whose streams are still open is kept (new opens
    /// of it or its streams get DELETE_PENDING) until the last of them closes ([`Self::base_delete_due`]).
    pub fn detach(&self, node: &FileNode, open_id: u64) -> bool {
        let mut nodes = lock(&self.nodes);
        node.withdraw_open_waiters(open_id);
        lock(&node.locks).retain(|l| l.open_id != open_id);
        let mut st = lock(&node.state);
        if let Some(gone) = caching::remove_holder(&mut st, open_id) {
            lock(&self.leases).remove(&gone);
            lock(&self.dir_leases).remove(&gone);
        }
        let last = st.holders.is_empty();
        let (dev, ino, stream) = node.key;
        let kept = last
            && st.delete_pending
            && stream == 0
            && nodes
                .range((dev, ino, 1)..=(dev, ino, u64::MAX))
                .next()
                .is_some();
        if last && !kept {
            nodes.remove(&node.key);
        }
        node.changed.send_replace(());
        last && st.delete_pending && !kept
    }

    /// After the last open of the stream `key` went: whether its file was kept delete-pending for its
    /// streams ([`Self::detach`]) and none is open any more, so the caller must now delete the file.
    pub fn base_delete_due(&self, key: FileKey) -> bool {
        let (dev, ino, stream) = key;
        if stream == 0 {
            return false;
        }
        let mut nodes = lock(&self.nodes);
        let due = nodes.get(&(dev, ino, 0)).is_some_and(|n| {
            let st = lock(&n.state);
            st.holders.is_empty() && st.delete_pending
        }) && nodes
            .range((dev, ino, 1)..=(dev, ino, u64::MAX))
            .next()
            .is_none();
        if due {
            nodes.remove(&(dev, ino, 0));
        }
        due
    }

    /// Whether an open with `access` and `share` would conflict with the opens of `key`, without
    /// registering it (used for the implicit open of a rename's destination directory).
    pub fn would_conflict(&self, key: FileKey, access: u32, share: u32) -> bool {
        let nodes = lock(&self.nodes);
        nodes.get(&key).is_some_and(|n| {
            lock(&n.state)
                .holders
                .iter()
                .any(|h| conflicts(h, access, share))
        })
    }

    /// Whether any directory holds a lease now.
    pub fn has_dir_leases(&self) -> bool {
        !lock(&self.dir_leases).is_empty()
    }

    /// The node of `key`, while the file is open.
    pub fn node(&self, key: FileKey) -> Option<Arc<FileNode>> {
        lock(&self.nodes).get(&key).cloned()
    }

    /// Whether a named stream of the file `key` names is open.
    pub fn has_open_streams(&self, key: FileKey) -> bool {
        let (dev, ino, _) = key;
        lock(&self.nodes)
            .range((dev, ino, 1)..=(dev, ino, u64::MAX))
            .next()
            .is_some()
    }

    /// Whether another open than `open_id` holds the file.
    pub fn is_open_elsewhere(&self, key: FileKey, open_id: u64) -> bool {
        let nodes = lock(&self.nodes);
        nodes
            .get(&key)
            .is_some_and(|n| lock(&n.state).holders.iter().any(|h| h.open_id != open_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_modes() {
        let t = FileTable::default();
        let n = t
            .attach_plain((1, 1, 0), 1, FILE_READ_DATA, FILE_SHARE_READ)
            .unwrap();
        assert_eq!(
            t.attach_plain((1, 1, 0), 2, FILE_WRITE_DATA, 7)
                .unwrap_err(),
            NtStatus::SHARING_VIOLATION
        );
        assert_eq!(
            t.attach_plain((1, 1, 0), 3, FILE_READ_DATA, FILE_SHARE_WRITE)
                .unwrap_err(),
            NtStatus::SHARING_VIOLATION
        );
        let n2 = t
            .attach_plain((1, 1, 0), 4, FILE_READ_DATA, FILE_SHARE_READ)
            .unwrap();
        assert!(!t.detach(&n, 1));
        assert!(!t.detach(&n2, 4));
        assert!(!t.is_open_elsewhere((1, 1, 0), 0));
    }

    #[test]
    fn attribute_only_opens_never_conflict() {
        let t = FileTable::default();
        t.attach_plain((1, 2, 0), 1, FILE_READ_DATA | FILE_WRITE_DATA | DELETE, 0)
            .unwrap();
        t.attach_plain((1, 2, 0), 2, 0x80, 0).unwrap();
    }

    #[test]
    fn delete_pending_blocks_new_opens_and_last_close_deletes() {
        let t = FileTable::default();
        let n = t.attach_plain((2, 2, 0), 1, DELETE, 7).unwrap();
        let n2 = t.attach_plain((2, 2, 0), 2, 0, 7).unwrap();
        n.set_delete_pending(true);
        assert_eq!(
            t.attach_plain((2, 2, 0), 3, 0, 7).unwrap_err(),
            NtStatus::DELETE_PENDING
        );
        assert!(!t.detach(&n, 1));
        assert!(t.detach(&n2, 2));
    }

    #[test]
    fn streams_are_separate_entries_tied_to_their_file() {
        let t = FileTable::default();
        let (file, one, two) = ((5, 5, 0), (5, 5, 11), (5, 5, 12));
        let s1 = t.attach_plain(one, 1, FILE_READ_DATA, 0).unwrap();
        // Another stream, and the file itself, are other share-mode entries.
        let s2 = t
            .attach_plain(two, 2, FILE_READ_DATA, FILE_SHARE_DELETE)
            .unwrap();
        let f = t.attach_plain(file, 3, FILE_READ_DATA, 0).unwrap();
        assert_eq!(
            t.attach_plain(one, 4, FILE_READ_DATA, 7).unwrap_err(),
            NtStatus::SHARING_VIOLATION
        );
        // DELETE on the file needs FILE_SHARE_DELETE from every open stream.
        assert_eq!(
            t.attach_plain(file, 5, DELETE, 7).unwrap_err(),
            NtStatus::SHARING_VIOLATION
        );
        assert!(!t.detach(&s1, 1));
        assert!(t.has_open_streams(file));
        t.detach(&f, 3);
        let f = t.attach_plain(file, 6, DELETE, 7).unwrap();
        // The file deleted while a stream is open stays, delete-pending, until that stream closes.
        f.set_delete_pending(true);
        assert!(!t.detach(&f, 6));
        assert_eq!(
            t.attach_plain(file, 7, 0, 7).unwrap_err(),
            NtStatus::DELETE_PENDING
        );
        assert_eq!(
            t.attach_plain(one, 8, FILE_READ_DATA, 7).unwrap_err(),
            NtStatus::DELETE_PENDING
        );
        assert!(!t.base_delete_due(file));
        assert!(!t.detach(&s2, 2));
        assert!(t.base_delete_due(two));
        assert!(!t.has_open_streams(file));
        assert!(t.node(file).is_none());
    }

    fn range(open_id: u64, offset: u64) -> ByteRangeLock {
        ByteRangeLock {
            open_id,
            offset,
            length: 10,
            exclusive: true,
        }
    }

    #[test]
    fn waiters_are_granted_in_arrival_order_when_ranges_free() {
        let t = FileTable::default();
        let n = t.attach_plain((3, 3, 0), 1, FILE_READ_DATA, 7).unwrap();
        assert!(n.lock_or_wait(100, range(1, 0)).is_ok());
        let mut first = n.lock_or_wait(101, range(2, 0)).unwrap_err();
        let mut second = n.lock_or_wait(102, range(3, 5)).unwrap_err();
        n.grant_waiting_locks();
        assert!(first.try_recv().is_err());
        crate::locks::unlock(&mut n.locks(), 1, 0, 10).unwrap();
        n.grant_waiting_locks();
        assert!(first.try_recv().is_ok());
        assert!(second.try_recv().is_err());
        // A cancelled waiter is withdrawn; one granted meanwhile is not.
        assert!(n.withdraw_waiter(102));
        assert!(!n.withdraw_waiter(101));
    }

    #[test]
    fn closing_an_open_withdraws_its_waiters() {
        let t = FileTable::default();
        let n = t.attach_plain((4, 4, 0), 1, FILE_READ_DATA, 7).unwrap();
        let n2 = t.attach_plain((4, 4, 0), 2, FILE_READ_DATA, 7).unwrap();
        assert!(n.lock_or_wait(1, range(1, 0)).is_ok());
        let mut w = n2.lock_or_wait(2, range(2, 0)).unwrap_err();
        t.detach(&n2, 2);
        assert!(matches!(
            w.try_recv(),
            Err(oneshot::error::TryRecvError::Closed)
        ));
        crate::locks::unlock(&mut n.locks(), 1, 0, 10).unwrap();
        n.grant_waiting_locks();
        assert!(n.locks().is_empty());
    }
}
