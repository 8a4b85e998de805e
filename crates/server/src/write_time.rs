//! Delayed last-write-time updates, as Windows Server 2016 makes them and smbtorture smb2.timestamps
//! checks (MS-FSA 2.1.5.3 leaves the timing of LastModificationTime updates to the object store; MS-SMB2
//! clients see it through QUERY_INFO and CLOSE).
//!
//! The first WRITE to a file does not change the write time that clients see; [`UPDATE_DELAY`] later
//! (or at once when the writer flushes, sets information on the file, or closes it) the write time
//! becomes the time of that update. Later writes do not move it again while the writing handle is
//! open; its CLOSE does. An explicit write time set by any handle replaces all of this. Linux moves a
//! file's mtime on every write, so the write time clients see is kept here ([`WriteTime::shown`])
//! while the file is open, and the file's mtime is set when an update is made.
//!
//! Directory listings show the file system's mtime, without this bookkeeping.

use crate::blocking::run_as;
use crate::open::Open;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long after the first write the write time is updated.
pub const UPDATE_DELAY: Duration = Duration::from_secs(2);

/// The write-time bookkeeping of one open file (a [`crate::files::FileNode`]).
#[derive(Default, Debug)]
pub struct WriteTime {
    state: Mutex<State>,
}

#[derive(Default, Debug)]
struct State {
    /// The write time clients see while the file is open, when it differs from the file's mtime.
    shown: Option<u64>,
    /// An update is due (a write happened and no update was made since).
    due: bool,
    /// Opens that wrote after the last update: their CLOSE updates the write time.
    late_writers: Vec<u64>,
}

impl WriteTime {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The write time to report instead of the file's own, if any.
    pub fn shown(&self) -> Option<u64> {
        self.state().shown
    }

    /// Called before `open_id` writes, with a way to read the write time as it is now. True when this
    /// write starts a delay, after which [`update_later`] must run.
    pub fn before_write(&self, open_id: u64, current: impl FnOnce() -> Option<u64>) -> bool {
        let mut s = self.state();
        if s.due {
            return false;
        }
        if s.shown.is_some() {
            if !s.late_writers.contains(&open_id) {
                s.late_writers.push(open_id);
            }
            return false;
        }
        s.shown = current();
        s.due = s.shown.is_some();
        s.due
    }

    /// Makes a due update now: the write time becomes the time of the update.
    pub fn update_if_due(&self, file: &vfs::OpenFile) -> vfs::VfsResult<()> {
        let mut s = self.state();
        if !s.due {
            return Ok(());
        }
        s.due = false;
        s.late_writers.clear();
        s.shown = Some(file.touch_last_write()?);
        Ok(())
    }

    /// A write time was set explicitly: it is what clients see from now on.
    pub fn set_explicitly(&self) {
        *self.state() = State::default();
    }

    /// Whether the CLOSE of `open_id` has to change the file's write time (most do not, and need no
    /// file-system call for it).
    pub fn close_updates(&self, open_id: u64) -> bool {
        let s = self.state();
        s.due || s.late_writers.contains(&open_id)
    }

    /// `open_id` closes (`last`: no other open of the file remains).
    pub fn closing(&self, open_id: u64, file: &vfs::OpenFile, last: bool) -> vfs::VfsResult<()> {
        self.update_if_due(file)?;
        let mut s = self.state();
        let before = s.late_writers.len();
        s.late_writers.retain(|&id| id != open_id);
        let wrote_late = s.late_writers.len() != before;
        if wrote_late {
            file.touch_last_write()?;
        }
        if last || (wrote_late && s.late_writers.is_empty()) {
            s.shown = None;
        }
        Ok(())
    }

    /// The CLOSE of an open that changes no write time: the time held back is forgotten with the
    /// file's last open.
    pub fn closing_quietly(&self, last: bool) {
        if last {
            self.state().shown = None;
        }
    }
}

/// Runs the delayed update of `open`'s file after [`UPDATE_DELAY`], unless the open is gone by then
/// (its CLOSE made the update).
pub fn update_later(open: &Arc<Open>) {
    let weak = Arc::downgrade(open);
    tokio::spawn(async move {
        tokio::time::sleep(UPDATE_DELAY).await;
        if let Some(open) = weak.upgrade() {
            let _ = update_now(&open).await;
        }
    });
}

/// Makes `open`'s file's due update now (FLUSH, SET_INFO).
pub async fn update_now(open: &Arc<Open>) -> vfs::VfsResult<()> {
    if !open.node.write_time.state().due {
        return Ok(());
    }
    let (node, file) = (Arc::clone(&open.node), Arc::clone(&open.file));
    run_as(&open.unix, move || node.write_time.update_if_due(&file)).await
}

/// `open` closes: a due update is made, and a write after the last update moves the write time to
/// now.
pub async fn closing(open: &Arc<Open>) {
    let (node, file) = (Arc::clone(&open.node), Arc::clone(&open.file));
    let id = open.file_id.volatile;
    let last = node.open_count() <= 1;
    if !node.write_time.close_updates(id) {
        return node.write_time.closing_quietly(last);
    }
    let done = run_as(&open.unix, move || node.write_time.closing(id, &file, last)).await;
    if let Err(status) = done {
        tracing::debug!("write time at close not updated: {status:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_write_shows_the_old_time_until_the_update() {
        let wt = WriteTime::default();
        assert!(wt.before_write(1, || Some(100)));
        assert_eq!(wt.shown(), Some(100));
        // A second write while the update is due starts nothing.
        assert!(!wt.before_write(1, || Some(999)));
        assert_eq!(wt.shown(), Some(100));
    }

    #[test]
    fn writes_after_the_update_are_late_and_an_explicit_set_forgets_all() {
        let wt = WriteTime::default();
        assert!(wt.before_write(1, || Some(100)));
        {
            let mut s = wt.state();
            s.due = false;
            s.shown = Some(200);
        }
        assert!(!wt.before_write(1, || Some(300)));
        assert_eq!(wt.state().late_writers, vec![1]);
        assert_eq!(wt.shown(), Some(200));
        wt.set_explicitly();
        assert_eq!(wt.shown(), None);
        assert!(wt.state().late_writers.is_empty());
    }

    #[test]
    fn nothing_is_shown_when_the_time_cannot_be_read() {
        let wt = WriteTime::default();
        assert!(!wt.before_write(1, || None));
        assert_eq!(wt.shown(), None);
    }
}
