//! Paths the server itself changed a moment ago, so that the kernel's report of the same change
//! (inotify sees the server's own work too) is not delivered a second time.
//!
//! Bounded: at most [`CAPACITY`] paths, each remembered for [`WINDOW`]. A change another program makes
//! to such a path within the window is not reported; the window is short enough that a person editing
//! a file through two routes at once is the only one who could notice.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub const CAPACITY: usize = 4096;
pub const WINDOW: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Recent {
    seen: Mutex<VecDeque<(Instant, PathBuf, vfs::SmbPath)>>,
}

impl Recent {
    pub fn touch(&self, root: &Path, path: &vfs::SmbPath) {
        self.touch_at(Instant::now(), root, path);
    }

    pub fn touched(&self, root: &Path, path: &vfs::SmbPath) -> bool {
        self.touched_at(Instant::now(), root, path)
    }

    fn touch_at(&self, now: Instant, root: &Path, path: &vfs::SmbPath) {
        let mut g = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        expire(&mut g, now);
        if g.len() >= CAPACITY {
            g.pop_front();
        }
        g.push_back((now, root.to_path_buf(), path.clone()));
    }

    fn touched_at(&self, now: Instant, root: &Path, path: &vfs::SmbPath) -> bool {
        let mut g = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        expire(&mut g, now);
        g.iter().any(|(_, r, p)| r == root && p == path)
    }
}

fn expire(g: &mut VecDeque<(Instant, PathBuf, vfs::SmbPath)>, now: Instant) {
    while g
        .front()
        .is_some_and(|(t, _, _)| now.saturating_duration_since(*t) > WINDOW)
    {
        g.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_within_the_window_only() {
        let r = Recent::default();
        let t0 = Instant::now();
        let p = vfs::SmbPath::parse("a\\b").unwrap();
        let root = Path::new("/srv");
        r.touch_at(t0, root, &p);
        assert!(r.touched_at(t0 + Duration::from_millis(100), root, &p));
        assert!(!r.touched_at(t0, Path::new("/other"), &p));
        assert!(!r.touched_at(t0 + WINDOW * 2, root, &p));
    }

    #[test]
    fn bounded() {
        let r = Recent::default();
        let t0 = Instant::now();
        let root = Path::new("/srv");
        for i in 0..CAPACITY + 10 {
            r.touch_at(t0, root, &vfs::SmbPath::parse(&format!("f{i}")).unwrap());
        }
        assert_eq!(r.seen.lock().unwrap().len(), CAPACITY);
        assert!(!r.touched_at(t0, root, &vfs::SmbPath::parse("f0").unwrap()));
    }
}
