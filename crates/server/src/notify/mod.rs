//! Change notification (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.10 "Server Requests Change Notifications for a
//! Directory", MS-FSCC 2.7.1 FILE_NOTIFY_INFORMATION): watches on directory opens and the changes they
//! are told about.
//!
//! A directory open gets a [`Watch`] with its first CHANGE_NOTIFY (completion filter, WATCH_TREE);
//! changes that happen while no request waits are queued in the watch until the next one. Changes come
//! from two sources through one entry point ([`Hub::post`]): the SMB operations of every connection
//! (create, delete, rename, writes and SET_INFO; see the callers of [`added`], [`removed`],
//! [`renamed`] and [`modified`]), and the kernel ([`kernel`], inotify) for what other programs change
//! on disk. A change the server itself made is reported once: the kernel's report of a path the server
//! touched a moment ago is dropped ([`recent`]).
//!
//! Bounds: a watch queues at most [`MAX_QUEUED_BYTES`] of changes, then only remembers that it
//! overflowed (the next CHANGE_NOTIFY gets STATUS_NOTIFY_ENUM_DIR, as Windows does); there are as
//! many watches as directory opens (`max open files`); posting a change walks the watches of the
//! server, which is fine for the thousands of watches a file server sees and is the price of having
//! no per-directory index to keep in step with renames.

pub mod kernel;
mod recent;

use crate::open::Open;
use crate::session::Tree;
use crate::state::ServerState;
use proto::fscc::notify::{action, encode_notify_list, FileNotifyInformation};
use proto::messages::change_notify::completion_filter as cf;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use tokio::sync::oneshot;

/// Most bytes of FILE_NOTIFY_INFORMATION a watch keeps between two CHANGE_NOTIFY requests.
pub const MAX_QUEUED_BYTES: usize = 64 * 1024;

/// What a waiting CHANGE_NOTIFY receives: the changes, or the status it completes with instead
/// (STATUS_NOTIFY_ENUM_DIR when they did not fit: the client must enumerate the directory;
/// STATUS_DELETE_PENDING when the watched directory is being deleted).
pub type Batch = Result<Vec<FileNotifyInformation>, proto::NtStatus>;

/// One change, as posted: the share it happened in, the path of what changed, the action and the
/// completion-filter bits it matches.
#[derive(Clone, Debug)]
pub struct Change {
    pub root: PathBuf,
    pub path: vfs::SmbPath,
    pub action: u32,
    pub filter: u32,
}

struct Waiter {
    id: u64,
    max_len: usize,
    tx: oneshot::Sender<Batch>,
}

struct WatchState {
    /// CompletionFilter, WATCH_TREE and output length of the first request: later requests on the
    /// same handle do not change them (MS-FSA 2.1.5.10).
    filter: u32,
    tree: bool,
    max_len: usize,
    queued: VecDeque<FileNotifyInformation>,
    queued_bytes: usize,
    overflowed: bool,
    waiters: VecDeque<Waiter>,
}

/// The change-notify state of one directory open (MS-FSA 2.1.1.x Open.NotifyChange...).
pub struct Watch {
    id: u64,
    root: PathBuf,
    /// The kernel watches taken for this one, released with it.
    kernel: Mutex<Option<Arc<kernel::Inotify>>>,
    open: Weak<Open>,
    state: Mutex<WatchState>,
}

fn entry_len(c: &FileNotifyInformation) -> usize {
    (12 + proto::writer::utf16le_len(&c.file_name)).next_multiple_of(4)
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The path of `change` relative to the watched directory, if this watch sees it.
    fn relative(&self, change: &Change, st: &WatchState) -> Option<String> {
        if change.root != self.root || st.filter & change.filter == 0 {
            return None;
        }
        let dir = self.open.upgrade()?.path();
        let item = change.path.as_unix();
        let rel = if dir.is_root() {
            item
        } else {
            item.strip_prefix(dir.as_unix())?.strip_prefix('/')?
        };
        if rel.is_empty() || (!st.tree && rel.contains('/')) {
            return None;
        }
        Some(rel.replace('/', "\\"))
    }

    /// Queue `changes` (already relative to this watch) and hand the queue to the first waiter.
    fn deliver(&self, changes: Vec<FileNotifyInformation>) {
        let mut st = self.lock();
        for c in changes {
            if st.queued.back() == Some(&c) {
                continue;
            }
            let len = entry_len(&c);
            if st.overflowed || st.queued_bytes + len > MAX_QUEUED_BYTES {
                st.overflowed = true;
                st.queued.clear();
                st.queued_bytes = 0;
            } else {
                st.queued_bytes += len;
                st.queued.push_back(c);
            }
        }
        Self::flush(&mut st);
    }

    /// Complete the first waiting request with what is queued.
    fn flush(st: &mut WatchState) {
        if st.queued.is_empty() && !st.overflowed {
            return;
        }
        // Skip waiters whose request is gone (dropped before it went async).
        while st.waiters.front().is_some_and(|w| w.tx.is_closed()) {
            st.waiters.pop_front();
        }
        let Some(w) = st.waiters.pop_front() else {
            return;
        };
        let batch = if st.overflowed || st.queued_bytes > w.max_len.min(st.max_len) {
            Err(proto::NtStatus::NOTIFY_ENUM_DIR)
        } else {
            Ok(st.queued.drain(..).collect())
        };
        st.queued.clear();
        st.queued_bytes = 0;
        st.overflowed = false;
        // A waiter whose request was just cancelled loses these changes; the client re-reads the
        // directory after a cancelled notify anyway.
        let _ = w.tx.send(batch);
    }

    /// A CHANGE_NOTIFY request waits under `id` (for [`Watch::withdraw`]); its receiver is ready at
    /// once when changes were queued.
    pub fn wait(&self, id: u64, max_len: usize) -> oneshot::Receiver<Batch> {
        let mut st = self.lock();
        let (tx, rx) = oneshot::channel();
        st.waiters.push_back(Waiter { id, max_len, tx });
        Self::flush(&mut st);
        rx
    }

    /// Forget a waiter whose request ended.
    pub fn withdraw(&self, id: u64) {
        self.lock().waiters.retain(|w| w.id != id);
    }

    /// The watched directory is delete-pending: every waiting request completes with
    /// STATUS_DELETE_PENDING.
    fn delete_pending(&self) {
        let mut st = self.lock();
        for w in st.waiters.drain(..) {
            let _ = w.tx.send(Err(proto::NtStatus::DELETE_PENDING));
        }
    }

    /// This watch's id (the owner of its kernel watches).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Remember the kernel watcher this watch took watches from.
    pub fn set_kernel(&self, k: Arc<kernel::Inotify>) {
        *self.kernel.lock().unwrap_or_else(PoisonError::into_inner) = Some(k);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let k = self
            .kernel
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(k) = k {
            k.release(self.id);
        }
    }
}

/// What the first CHANGE_NOTIFY of a handle sets for good.
pub struct FirstRequest {
    pub id: u64,
    pub filter: u32,
    pub tree: bool,
    pub max_len: usize,
}

/// Every watch of the server, and the kernel watcher feeding it.
#[derive(Default)]
pub struct Hub {
    watches: Mutex<Vec<Weak<Watch>>>,
    recent: recent::Recent,
    pub kernel: kernel::KernelNotify,
}

impl Hub {
    fn watches(&self) -> Vec<Arc<Watch>> {
        let mut g = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        g.retain(|w| w.strong_count() > 0);
        g.iter().filter_map(Weak::upgrade).collect()
    }

    /// The watch of a directory open, created by its first CHANGE_NOTIFY (true when new); `id` is a
    /// server-unique id for a new watch.
    pub fn watch(&self, open: &Arc<Open>, root: &Path, first: FirstRequest) -> (Arc<Watch>, bool) {
        let mut slot = open.watch();
        if let Some(w) = slot.as_ref() {
            return (Arc::clone(w), false);
        }
        let w = Arc::new(Watch {
            id: first.id,
            root: root.to_path_buf(),
            kernel: Mutex::new(None),
            open: Arc::downgrade(open),
            state: Mutex::new(WatchState {
                filter: first.filter,
                tree: first.tree,
                max_len: first.max_len,
                queued: VecDeque::new(),
                queued_bytes: 0,
                overflowed: false,
                waiters: VecDeque::new(),
            }),
        });
        *slot = Some(Arc::clone(&w));
        drop(slot);
        self.watches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&w));
        (w, true)
    }

    /// The directory `node` became delete-pending: its watches' waiting requests complete.
    pub fn delete_pending(&self, node: &crate::files::FileNode) {
        for w in self.watches() {
            if w.open
                .upgrade()
                .is_some_and(|o| std::ptr::eq(&*o.node, node))
            {
                w.delete_pending();
            }
        }
    }

    /// Whether any watch exists (a change with nobody to tell costs one lock, no allocation).
    pub fn is_watched(&self) -> bool {
        !self
            .watches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Whether a change the kernel reports is the server's own, already posted.
    pub fn is_echo(&self, c: &Change) -> bool {
        self.recent.touched(&c.root, &c.path)
    }

    /// Tell every watch that sees them about `changes` (delivered together, so a rename's old and
    /// new names arrive in one response).
    pub fn post(&self, changes: &[Change], from_kernel: bool) {
        let changes: Vec<&Change> = if from_kernel {
            changes.iter().filter(|c| !self.is_echo(c)).collect()
        } else {
            changes
                .iter()
                .inspect(|c| self.recent.touch(&c.root, &c.path))
                .collect()
        };
        if changes.is_empty() {
            return;
        }
        for w in self.watches() {
            let seen: Vec<FileNotifyInformation> = {
                let st = w.lock();
                changes
                    .iter()
                    .filter_map(|c| {
                        w.relative(c, &st).map(|file_name| FileNotifyInformation {
                            action: c.action,
                            file_name,
                        })
                    })
                    .collect()
            };
            if !seen.is_empty() {
                w.deliver(seen);
            }
        }
    }
}

/// Encode a batch for the CHANGE_NOTIFY response body.
pub fn encode(batch: &[FileNotifyInformation]) -> bytes::BytesMut {
    let mut w = bytes::BytesMut::new();
    encode_notify_list(&mut w, batch);
    w
}

fn root_of(tree: &Tree) -> Option<PathBuf> {
    tree.share.vfs.as_ref().map(|s| s.root_path().to_path_buf())
}

fn post(server: &ServerState, tree: &Tree, items: &[(&vfs::SmbPath, u32, u32)]) {
    if !server.notify.is_watched() {
        return;
    }
    let Some(root) = root_of(tree) else {
        return;
    };
    let changes: Vec<Change> = items
        .iter()
        .map(|(path, action, filter)| Change {
            root: root.clone(),
            path: (*path).clone(),
            action: *action,
            filter: *filter,
        })
        .collect();
    server.notify.post(&changes, false);
}

fn name_filter(is_dir: bool) -> u32 {
    if is_dir {
        cf::DIR_NAME
    } else {
        cf::FILE_NAME
    }
}

/// A directory open that holds a lease is watched from the kernel (`kernel change notify`), so that
/// entries other programs add, remove or rename in it break the lease too
/// ([`crate::breaks::changed_on_disk`]); the open's id names the kernel watch's owner.
pub fn watch_leased_dir(server: &Arc<ServerState>, open: &Open) {
    if !server.settings.kernel_change_notify {
        return;
    }
    let (Some(k), Some(share)) = (
        server.notify.kernel.get(server),
        open.tree.share.vfs.as_ref(),
    ) else {
        return;
    };
    let owner = kernel::Owner {
        id: open.file_id.volatile,
        unix: Arc::clone(&open.unix),
    };
    k.add(&owner, share.root_path(), &open.path(), &*open.file, false);
}

/// A directory open is closed: the kernel watch its lease took, if any, goes.
pub fn unwatch_dir(server: &ServerState, open: &Open) {
    if let Some(k) = server.notify.kernel.running().filter(|_| open.is_dir) {
        k.release(open.file_id.volatile);
    }
}

/// A file or directory was created through SMB.
pub fn added(server: &ServerState, tree: &Tree, path: &vfs::SmbPath, is_dir: bool) {
    post(server, tree, &[(path, action::ADDED, name_filter(is_dir))]);
}

/// A file or directory was deleted through SMB.
pub fn removed(server: &ServerState, tree: &Tree, path: &vfs::SmbPath, is_dir: bool) {
    post(
        server,
        tree,
        &[(path, action::REMOVED, name_filter(is_dir))],
    );
}

/// A rename through SMB: old and new name in one directory, else a removal and an addition.
pub fn renamed(
    server: &ServerState,
    tree: &Tree,
    from: &vfs::SmbPath,
    to: &vfs::SmbPath,
    is_dir: bool,
) {
    let f = name_filter(is_dir);
    let same_dir = from.parent_and_name().map(|(p, _)| p) == to.parent_and_name().map(|(p, _)| p);
    let (old, new) = if same_dir {
        (action::RENAMED_OLD_NAME, action::RENAMED_NEW_NAME)
    } else {
        (action::REMOVED, action::ADDED)
    };
    let mut items = vec![(from, old, f), (to, new, f)];
    if !is_dir {
        // A renamed file also reports its new name's attributes and creation time, as Samba does
        // (smbtorture smb2.notify.mask-change counts on it).
        items.push((to, action::MODIFIED, cf::ATTRIBUTES | cf::CREATION));
    }
    post(server, tree, &items);
}

/// Something about an open file changed through SMB; `filter` says what (SIZE, LAST_WRITE,
/// ATTRIBUTES...). Costs nothing but a lock when nobody watches (WRITE calls it).
pub fn modified(server: &ServerState, open: &Open, filter: u32) {
    if filter == 0 || !server.notify.is_watched() {
        return;
    }
    post(
        server,
        &open.tree,
        &[(&open.path(), action::MODIFIED, filter)],
    );
}
