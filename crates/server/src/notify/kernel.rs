//! Changes made on disk by other programs (`kernel change notify`), through Linux inotify (inotify(7)).
//!
//! Each watched directory gets an inotify watch; a WATCH_TREE watch also watches every directory
//! below it, and directories created later below it. Watches are added on a confined descriptor of the
//! directory (`/proc/self/fd/N` of a directory opened beneath the share root as the watching user), so
//! a watch can never reach outside the share or into a directory its user cannot open. The kernel
//! returns one watch descriptor per inode, so descriptors are shared and counted by owner.
//!
//! Bounds: at most [`MAX_KERNEL_WATCHES`] inotify watches for the whole server (beyond it, deeper
//! directories of a tree are not watched from the kernel; SMB changes are still reported), and the
//! kernel's own queue (its overflow is logged; watchers then miss changes made by other programs).
//! fanotify would need CAP_SYS_ADMIN and reports no names for most file systems, so inotify it is.

use super::Change;
use crate::state::ServerState;
use proto::fscc::notify::action;
use proto::messages::change_notify::completion_filter as cf;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use tokio::io::unix::AsyncFd;

/// Most inotify watches the server holds at once.
pub const MAX_KERNEL_WATCHES: usize = 8192;

/// How long kernel events wait before they are matched against the server's own recent changes.
const ECHO_DELAY: std::time::Duration = std::time::Duration::from_millis(100);

/// Most directories below one WATCH_TREE directory visited when it is first watched.
const MAX_TREE_WALK: usize = 4096;

struct Entry {
    root: PathBuf,
    dir: vfs::SmbPath,
    /// Watches (by [`super::Watch`] id) that asked for this directory.
    owners: HashSet<u64>,
    /// Some owner watches the subtree: directories created below are watched too.
    tree: bool,
    /// Who directories created below are opened as (the first owner's user).
    unix: Arc<vfs::Identity>,
}

/// The inotify instance and its watch descriptors.
pub struct Inotify {
    fd: AsyncFd<OwnedFd>,
    wds: Mutex<HashMap<i32, Entry>>,
}

/// Started on the first watch when `kernel change notify` is on.
#[derive(Default)]
pub struct KernelNotify {
    inner: Mutex<Option<Arc<Inotify>>>,
}

const MASK: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::MODIFY)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::ONLYDIR);

impl KernelNotify {
    /// The server's inotify instance, started (with its reader task) on first use.
    pub fn get(&self, server: &Arc<ServerState>) -> Option<Arc<Inotify>> {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = g.as_ref() {
            return Some(Arc::clone(i));
        }
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .inspect_err(|e| tracing::warn!("kernel change notify unavailable: {e}"))
            .ok()?;
        // `AsyncFd::new` is deprecated because a caller could close a borrowed descriptor while it is
        // registered; here the AsyncFd owns the OwnedFd, so it is closed only after deregistration.
        #[allow(deprecated)]
        let fd = AsyncFd::new(fd).ok()?;
        let i = Arc::new(Inotify {
            fd,
            wds: Mutex::new(HashMap::new()),
        });
        tokio::spawn(read_loop(Arc::downgrade(&i), Arc::downgrade(server)));
        *g = Some(Arc::clone(&i));
        Some(i)
    }
}

impl KernelNotify {
    /// The server's inotify instance if it runs.
    pub fn running(&self) -> Option<Arc<Inotify>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Inotify {
    fn wds(&self) -> MutexGuard<'_, HashMap<i32, Entry>> {
        self.wds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Watch the open directory `dir` (at `path` in the share at `root`) for `owner`, who runs as
    /// `unix`.
    pub fn add(
        &self,
        owner: &Owner,
        root: &Path,
        path: &vfs::SmbPath,
        dir: &impl AsFd,
        tree: bool,
    ) {
        let proc_path = format!("/proc/self/fd/{}", dir.as_fd().as_raw_fd());
        let mut wds = self.wds();
        if wds.len() >= MAX_KERNEL_WATCHES {
            tracing::debug!("kernel change notify: {MAX_KERNEL_WATCHES} watches reached");
            return;
        }
        // The descriptor was opened as the watching user, beneath the share root; the daemon itself
        // follows /proc's link to it (a user's fsuid may not read /proc/self/fd).
        let added =
            vfs::as_daemon_briefly(|| inotify::add_watch(self.fd.get_ref(), &proc_path, MASK));
        let Ok(wd) = added.inspect_err(|e| tracing::debug!("inotify watch of {proc_path}: {e}"))
        else {
            return;
        };
        let e = wds.entry(wd).or_insert_with(|| Entry {
            root: root.to_path_buf(),
            dir: path.clone(),
            owners: HashSet::new(),
            tree: false,
            unix: Arc::clone(&owner.unix),
        });
        e.owners.insert(owner.id);
        e.tree |= tree;
    }

    /// `owner` is gone: drop the watches nobody else wants.
    pub fn release(&self, owner: u64) {
        let mut wds = self.wds();
        let mut unused = Vec::new();
        for (wd, e) in wds.iter_mut() {
            if e.owners.remove(&owner) && e.owners.is_empty() {
                unused.push(*wd);
            }
        }
        for wd in unused {
            wds.remove(&wd);
            let _ = inotify::remove_watch(self.fd.get_ref(), wd);
        }
    }

    /// Translate one event; a directory created below a tree watch is returned to be watched too.
    fn translate(&self, wd: i32, flags: ReadFlags, name: &str) -> Option<(Change, Option<Grow>)> {
        let mut wds = self.wds();
        if flags.contains(ReadFlags::IGNORED) {
            wds.remove(&wd);
            return None;
        }
        let e = wds.get(&wd)?;
        let path = e.dir.join(name).ok()?;
        let is_dir = flags.contains(ReadFlags::ISDIR);
        let names = if is_dir { cf::DIR_NAME } else { cf::FILE_NAME };
        let (act, filter) = if flags.contains(ReadFlags::CREATE) {
            (action::ADDED, names)
        } else if flags.contains(ReadFlags::DELETE) {
            (action::REMOVED, names)
        } else if flags.contains(ReadFlags::MOVED_FROM) {
            (action::RENAMED_OLD_NAME, names)
        } else if flags.contains(ReadFlags::MOVED_TO) {
            (action::RENAMED_NEW_NAME, names)
        } else if flags.contains(ReadFlags::MODIFY) {
            (action::MODIFIED, cf::SIZE | cf::LAST_WRITE)
        } else if flags.contains(ReadFlags::ATTRIB) {
            (
                action::MODIFIED,
                cf::ATTRIBUTES | cf::LAST_WRITE | cf::SECURITY | cf::EA,
            )
        } else {
            return None;
        };
        let grow = (is_dir && e.tree && act != action::REMOVED && act != action::RENAMED_OLD_NAME)
            .then(|| Grow {
                owners: e
                    .owners
                    .iter()
                    .map(|id| Owner {
                        id: *id,
                        unix: Arc::clone(&e.unix),
                    })
                    .collect(),
                root: e.root.clone(),
                path: path.clone(),
            });
        let change = Change {
            root: e.root.clone(),
            path,
            action: act,
            filter,
        };
        Some((change, grow))
    }
}

/// Who asked for a kernel watch: a [`super::Watch`] id and the user it runs as.
#[derive(Clone)]
pub struct Owner {
    pub id: u64,
    pub unix: Arc<vfs::Identity>,
}

/// A new directory below a tree watch, to be watched for the same owners.
struct Grow {
    owners: Vec<Owner>,
    root: PathBuf,
    path: vfs::SmbPath,
}

/// Watch `path` and the directories below it (breadth first, at most [`MAX_TREE_WALK`]), opening each
/// beneath `share`'s root. Runs on the blocking pool as the watching user.
pub fn add_tree(
    k: &Inotify,
    owners: &[Owner],
    share: &vfs::Share,
    path: &vfs::SmbPath,
    first: Option<&vfs::OpenFile>,
) {
    let open_dir = vfs::CreateRequest::existing_directory();
    let mut todo = std::collections::VecDeque::from([path.clone()]);
    let mut visited = 0usize;
    while let Some(p) = todo.pop_front() {
        visited += 1;
        if visited > MAX_TREE_WALK {
            break;
        }
        let opened;
        let dir = match (first, visited) {
            (Some(f), 1) => f,
            _ => match share.create(&p, &open_dir) {
                Ok((f, _)) => {
                    opened = f;
                    &opened
                }
                Err(_) => continue,
            },
        };
        for o in owners {
            k.add(o, share.root_path(), &p, dir, true);
        }
        let Ok(mut entries) = dir.read_dir() else {
            continue;
        };
        while let Some(Ok(e)) = entries.next_entry() {
            if e.stat.is_dir && e.name != "." && e.name != ".." {
                if let Ok(child) = p.join(&e.name) {
                    todo.push_back(child);
                }
            }
        }
    }
}

async fn read_loop(k: Weak<Inotify>, server: Weak<ServerState>) {
    let mut buf = vec![MaybeUninit::<u8>::uninit(); 64 * 1024];
    loop {
        let Some(strong) = k.upgrade() else {
            return;
        };
        let Ok(mut ready) = strong.fd.readable().await else {
            return;
        };
        let mut changes = Vec::new();
        let mut grows = Vec::new();
        let mut reader = inotify::Reader::new(strong.fd.get_ref(), &mut buf);
        loop {
            match reader.next() {
                Ok(ev) => {
                    if ev.events().contains(ReadFlags::QUEUE_OVERFLOW) {
                        tracing::info!("kernel change notify: the kernel queue overflowed");
                    }
                    let name = ev
                        .file_name()
                        .and_then(|n| n.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    if let Some((c, g)) = strong.translate(ev.wd(), ev.events(), &name) {
                        changes.push(c);
                        grows.extend(g);
                    }
                }
                Err(rustix::io::Errno::AGAIN) => {
                    ready.clear_ready();
                    break;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    tracing::warn!("kernel change notify stops: {e}");
                    return;
                }
            }
        }
        drop(ready);
        // The server's own changes are posted by the request that made them, right after the system
        // call returns; give that post a head start so the kernel's echo of it is recognised.
        tokio::time::sleep(ECHO_DELAY).await;
        let Some(server) = server.upgrade() else {
            return;
        };
        if !changes.is_empty() {
            server.notify.post(&changes, true);
            crate::breaks::changed_on_disk(&server, &changes);
        }
        for g in grows {
            grow(&server, &strong, g);
        }
    }
}

/// Watch a directory created below a tree watch, opened as the watch's user.
fn grow(server: &ServerState, k: &Arc<Inotify>, g: Grow) {
    let Some(entry) = server.share_at(&g.root) else {
        return;
    };
    let Some(unix) = g.owners.first().map(|o| Arc::clone(&o.unix)) else {
        return;
    };
    let k = Arc::clone(k);
    tokio::spawn(async move {
        let _ = crate::blocking::run_as(&unix, move || {
            if let Some(share) = entry.vfs.as_ref() {
                add_tree(&k, &g.owners, share, &g.path, None);
            }
            Ok(())
        })
        .await;
    });
}
