//! The server-wide table of open files (MS-SMB2 3.3.1.10 GlobalOpenTable, MS-FSA 2.1.1.x shared per-file
//! state): share-access checks (MS-FSA 2.1.5.1.2 "check sharing access") and delete-pending state that
//! must be the same for every open of one file, across connections.

use crate::locks::ByteRangeLock;
use proto::messages::create::access::{
    DELETE, FILE_APPEND_DATA, FILE_EXECUTE, FILE_READ_DATA, FILE_WRITE_DATA,
};
use proto::NtStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub const FILE_SHARE_READ: u32 = 0x1;
pub const FILE_SHARE_WRITE: u32 = 0x2;
pub const FILE_SHARE_DELETE: u32 = 0x4;

/// Identifies a file: (device, inode).
pub type FileKey = (u64, u64);

#[derive(Clone, Copy, Debug)]
struct Holder {
    open_id: u64,
    access: u32,
    share: u32,
}

#[derive(Debug, Default)]
struct NodeState {
    holders: Vec<Holder>,
    delete_pending: bool,
}

/// The state shared by all opens of one file.
#[derive(Debug)]
pub struct FileNode {
    key: FileKey,
    state: Mutex<NodeState>,
    /// Byte-range locks held through any open of the file.
    locks: Mutex<Vec<ByteRangeLock>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

const READ_LIKE: u32 = FILE_READ_DATA | FILE_EXECUTE;
const WRITE_LIKE: u32 = FILE_WRITE_DATA | FILE_APPEND_DATA;

/// MS-FSA 2.1.5.1.2: does an open with `access`/`share` conflict with an existing holder?
fn conflicts(h: &Holder, access: u32, share: u32) -> bool {
    // Opens that touch neither data nor existence take no part in sharing (MS-FSA 2.1.5.1.2).
    let data = READ_LIKE | WRITE_LIKE | DELETE;
    if access & data == 0 || h.access & data == 0 {
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

impl FileNode {
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
}

#[derive(Debug, Default)]
pub struct FileTable {
    nodes: Mutex<HashMap<FileKey, Arc<FileNode>>>,
}

impl FileTable {
    /// Register an open of `key`, failing with SHARING_VIOLATION or DELETE_PENDING as MS-FSA requires.
    pub fn attach(
        &self,
        key: FileKey,
        open_id: u64,
        access: u32,
        share: u32,
    ) -> Result<Arc<FileNode>, NtStatus> {
        let mut nodes = lock(&self.nodes);
        let node = nodes
            .entry(key)
            .or_insert_with(|| {
                Arc::new(FileNode {
                    key,
                    state: Mutex::new(NodeState::default()),
                    locks: Mutex::new(Vec::new()),
                })
            })
            .clone();
        let mut st = lock(&node.state);
        if st.delete_pending {
            return Err(NtStatus::DELETE_PENDING);
        }
        if st.holders.iter().any(|h| conflicts(h, access, share)) {
            return Err(NtStatus::SHARING_VIOLATION);
        }
        st.holders.push(Holder {
            open_id,
            access,
            share,
        });
        drop(st);
        Ok(node)
    }

    /// Remove an open. Returns true if it was the last one and the file is delete-pending: the caller
    /// must then delete the file.
    pub fn detach(&self, node: &FileNode, open_id: u64) -> bool {
        let mut nodes = lock(&self.nodes);
        lock(&node.locks).retain(|l| l.open_id != open_id);
        let mut st = lock(&node.state);
        st.holders.retain(|h| h.open_id != open_id);
        let last = st.holders.is_empty();
        if last {
            nodes.remove(&node.key);
        }
        last && st.delete_pending
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
            .attach((1, 1), 1, FILE_READ_DATA, FILE_SHARE_READ)
            .unwrap();
        assert_eq!(
            t.attach((1, 1), 2, FILE_WRITE_DATA, 7).unwrap_err(),
            NtStatus::SHARING_VIOLATION
        );
        assert_eq!(
            t.attach((1, 1), 3, FILE_READ_DATA, FILE_SHARE_WRITE)
                .unwrap_err(),
            NtStatus::SHARING_VIOLATION
        );
        let n2 = t
            .attach((1, 1), 4, FILE_READ_DATA, FILE_SHARE_READ)
            .unwrap();
        assert!(!t.detach(&n, 1));
        assert!(!t.detach(&n2, 4));
        assert!(!t.is_open_elsewhere((1, 1), 0));
    }

    #[test]
    fn attribute_only_opens_never_conflict() {
        let t = FileTable::default();
        t.attach((1, 2), 1, FILE_READ_DATA | FILE_WRITE_DATA | DELETE, 0)
            .unwrap();
        t.attach((1, 2), 2, 0x80, 0).unwrap();
    }

    #[test]
    fn delete_pending_blocks_new_opens_and_last_close_deletes() {
        let t = FileTable::default();
        let n = t.attach((2, 2), 1, DELETE, 7).unwrap();
        let n2 = t.attach((2, 2), 2, 0, 7).unwrap();
        n.set_delete_pending(true);
        assert_eq!(
            t.attach((2, 2), 3, 0, 7).unwrap_err(),
            NtStatus::DELETE_PENDING
        );
        assert!(!t.detach(&n, 1));
        assert!(t.detach(&n2, 2));
    }
}
