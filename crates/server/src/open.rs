//! Opens (MS-SMB2 3.3.1.10 Open): a handle's file, granted access, position, delete-on-close flag and
//! directory-search state.

use crate::files::FileNode;
use crate::session::Tree;
use proto::FileId;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The state of a QUERY_DIRECTORY enumeration on a directory handle (MS-SMB2 3.3.1.10
/// Open.EnumerationLocation and Open.EnumerationSearchPattern).
pub struct DirSearch {
    pub stream: vfs::DirStream,
    pub pattern: Vec<char>,
    /// An entry read from the directory that did not fit in the previous response.
    pub pending: Option<vfs::DirEntry>,
    /// Number of entries returned so far (FileIndex values).
    pub index: u32,
    /// A query of this search has been answered: a later one that finds nothing is STATUS_NO_MORE_FILES
    /// rather than STATUS_NO_SUCH_FILE (MS-FSA 2.1.5.6.3).
    pub queried: bool,
}

pub struct Open {
    pub file_id: FileId,
    pub session_id: u64,
    pub tree: Arc<Tree>,
    /// The credentials of the session that opened it, for work done on its behalf.
    pub unix: Arc<vfs::Identity>,
    pub file: Arc<vfs::OpenFile>,
    pub node: Arc<FileNode>,
    pub path: Mutex<vfs::SmbPath>,
    pub granted_access: u32,
    pub is_dir: bool,
    pub delete_on_close: AtomicBool,
    pub position: AtomicU64,
    pub mode: AtomicU32,
    /// Open.NextEaEntry (MS-FSA 2.1.5.12.12): where a FileFullEaInformation scan goes on, 0-based.
    pub next_ea: AtomicU32,
    pub search: Mutex<Option<DirSearch>>,
    /// Requests working on this handle hold it shared; CLOSE (and teardown) takes it exclusively, so the
    /// handle goes away only after the requests that came before have finished.
    pub busy: Arc<tokio::sync::RwLock<()>>,
    /// The change-notify watch of a directory open, from its first CHANGE_NOTIFY.
    pub watch: Mutex<Option<Arc<crate::notify::Watch>>>,
    /// The parent directory's lease key this open was made under (a version 2 lease's
    /// ParentLeaseKey): its changes do not break that directory lease.
    pub parent_lease: Option<[u8; 16]>,
    /// Data was written through this handle: its close changes what the directory lists
    /// (last write time, size), which breaks the directory's leases.
    pub written: AtomicBool,
    /// Granted durability (MS-SMB2 3.3.1.10 Open.IsDurable and its timeout, CreateGuid and owner).
    pub durable: Option<crate::durable::Durability>,
    /// Open.LockSequenceArray (MS-SMB2 3.3.5.14): the LockSequenceNumber last completed at each
    /// LockSequenceIndex (1 to 64), so a replayed LOCK of a durable open is not applied twice.
    pub lock_sequences: Mutex<[Option<u8>; 64]>,
    /// Open.IsReplayEligible and Open.CreateGuid: made by a CREATE with a durable v2 context.
    pub replay: Option<crate::replay::ReplayEligible>,
    /// Open.IsResilient (FSCTL_LMR_REQUEST_RESILIENCY): its LOCK replays are detected too.
    pub resilient: AtomicBool,
    /// Open.IsReplayEligible: cleared by the first request on the handle (MS-SMB2 3.3.5.12 and on).
    pub replay_eligible: AtomicBool,
    /// Open.ChannelSequence (MS-SMB2 3.3.5.2.10).
    pub channel_sequence: std::sync::atomic::AtomicU16,
    /// The random part of Open.ResumeKey (MS-SMB2 3.3.5.15.7), made by the first
    /// FSCTL_SRV_REQUEST_RESUME_KEY.
    pub resume_secret: std::sync::OnceLock<[u8; 16]>,
    /// Open.AppInstanceId and its version (MS-SMB2 3.3.5.9.13), from the CREATE's contexts.
    pub app_instance: Option<crate::app_instance::AppInstance>,
}

impl Open {
    /// The file's information as clients see it: with the write time a delayed update still holds
    /// back ([`crate::write_time`]).
    pub fn stat(&self) -> vfs::VfsResult<vfs::FileStat> {
        let mut s = self.file.stat()?;
        if let Some(t) = self.node.write_time.shown() {
            s.last_write_time = t;
        }
        Ok(s)
    }

    pub fn path(&self) -> vfs::SmbPath {
        self.path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_path(&self, p: vfs::SmbPath) {
        *self.path.lock().unwrap_or_else(PoisonError::into_inner) = p;
    }

    pub fn watch(&self) -> MutexGuard<'_, Option<Arc<crate::notify::Watch>>> {
        self.watch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn search(&self) -> MutexGuard<'_, Option<DirSearch>> {
        self.search.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether every bit of `needed` was granted at open time (MS-SMB2 3.3.5.x access checks).
    pub fn has_access(&self, needed: u32) -> bool {
        self.granted_access & needed == needed
    }

    pub fn has_any_access(&self, any_of: u32) -> bool {
        self.granted_access & any_of != 0
    }

    pub fn delete_on_close(&self) -> bool {
        self.delete_on_close.load(Ordering::Relaxed)
    }

    /// The same open, reclaimed by session `session_id` through `tree` (a durable reconnect): the
    /// file, its position, mode and flags carry over; enumeration and watch state do not.
    pub fn rebind(&self, session_id: u64, tree: Arc<Tree>) -> Open {
        Open {
            file_id: self.file_id,
            session_id,
            unix: Arc::clone(&tree.unix),
            tree,
            file: Arc::clone(&self.file),
            node: Arc::clone(&self.node),
            path: Mutex::new(self.path()),
            granted_access: self.granted_access,
            is_dir: self.is_dir,
            delete_on_close: AtomicBool::new(self.delete_on_close()),
            position: AtomicU64::new(self.position.load(Ordering::Relaxed)),
            mode: AtomicU32::new(self.mode.load(Ordering::Relaxed)),
            next_ea: AtomicU32::new(self.next_ea.load(Ordering::Relaxed)),
            search: Mutex::new(None),
            busy: Arc::new(tokio::sync::RwLock::new(())),
            watch: Mutex::new(None),
            parent_lease: self.parent_lease,
            written: AtomicBool::new(self.written.load(Ordering::Relaxed)),
            durable: self.durable.clone(),
            lock_sequences: Mutex::new(
                *self
                    .lock_sequences
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            ),
            replay: self.replay,
            resilient: AtomicBool::new(self.resilient.load(Ordering::Relaxed)),
            replay_eligible: AtomicBool::new(false),
            channel_sequence: std::sync::atomic::AtomicU16::new(
                self.channel_sequence.load(Ordering::Relaxed),
            ),
            resume_secret: self.resume_secret.clone(),
            app_instance: self.app_instance,
        }
    }
}
