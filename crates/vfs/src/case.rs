//! Names matched without regard to case, as Windows matches them (MS-FSA 2.1.5.1: an open of an
//! existing file compares names case-insensitively unless the open asks otherwise; MS-FSCC 2.1.5.1 for
//! the share-level rule). Linux compares names exactly, so a name that does not exist as given is
//! looked up among its directory's entries, component by component; the name as stored on disk is
//! used from then on. Names that exist as given cost nothing more; a name that exists in no case
//! costs one listing of its directory (what Samba does with `case sensitive = no`, its default for
//! Windows clients). `case sensitive = yes` turns this off.
//!
//! The corrected path is opened like any other (confined by `openat2`); entries whose names could not
//! be sent by a client (a `\`, characters MS-FSCC forbids) never match.

use std::borrow::Cow;
use std::os::fd::AsFd;

use rustix::fs::{Dir, Mode, OFlags};
use rustix::io::Errno;

use crate::path::SmbPath;
use crate::share::Share;
use crate::stat::stat_at;

/// What identifies a directory's contents as they were: any entry added, removed or renamed changes
/// its modification and change times.
type DirVersion = (u64, u64, i64, u64, i64, u64);

fn dir_version(dir: impl AsFd) -> Option<DirVersion> {
    let st = rustix::fs::fstat(dir).ok()?;
    Some((
        st.st_dev,
        st.st_ino,
        st.st_mtime,
        st.st_mtime_nsec,
        st.st_ctime,
        st.st_ctime_nsec,
    ))
}

/// The last listing that found no entry for a name. A CREATE of a new name looks it up when it tries
/// to open it and again when it creates it; the second lookup in the unchanged directory needs no
/// second listing.
#[derive(Debug, Default)]
pub(crate) struct LastMiss(std::sync::Mutex<Option<(DirVersion, String)>>);

impl LastMiss {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(DirVersion, String)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The entry of the directory open as `dir` whose name equals `name` without regard to case, if any
/// and if the directory can be listed.
fn find_folded(dir: impl AsFd, name: &str, last_miss: &LastMiss) -> Option<String> {
    let version = dir_version(&dir);
    let upper = name.to_uppercase();
    if let (Some(v), Some((seen, missed))) = (version, last_miss.lock().as_ref()) {
        if v == *seen && upper == *missed {
            return None;
        }
    }
    let found = scan_folded(&dir, &upper);
    if let (None, Some(v)) = (&found, version) {
        *last_miss.lock() = Some((v, upper));
    }
    found
}

/// Lists the directory open as `dir` for an entry whose upper-cased name is `wanted`.
fn scan_folded(dir: impl AsFd, wanted: &str) -> Option<String> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, ".", flags, Mode::empty()).ok()?;
    let mut entries = Dir::read_from(&fd).ok()?;
    while let Some(entry) = entries.read() {
        let Ok(entry) = entry else {
            return None;
        };
        let Ok(found) = entry.file_name().to_str() else {
            continue;
        };
        let usable = found != "." && found != ".." && !found.contains('\\');
        if usable && same_upper(found, wanted) && SmbPath::root().join(found).is_ok() {
            return Some(found.to_owned());
        }
    }
    None
}

/// Whether `name` upper-cased is `upper`, without building the upper-cased string (most entries of a
/// listing differ early).
fn same_upper(name: &str, upper: &str) -> bool {
    name.chars().flat_map(char::to_uppercase).eq(upper.chars())
}

impl Share {
    /// `name` in the directory open as `dir` as it is stored: the entry matching it without regard to
    /// case when `name` itself does not exist.
    pub(crate) fn actual_name<'n>(&self, dir: impl AsFd, name: &'n str) -> Cow<'n, str> {
        if self.options().case_sensitive {
            return Cow::Borrowed(name);
        }
        match stat_at(&dir, name) {
            Err(Errno::NOENT) => {
                find_folded(&dir, name, &self.last_miss).map_or(Cow::Borrowed(name), Cow::Owned)
            }
            _ => Cow::Borrowed(name),
        }
    }

    /// `p` as stored on disk: the same components, in the case of the existing entries they match.
    pub fn stored_path(&self, p: &SmbPath) -> SmbPath {
        self.case_corrected(p).unwrap_or_else(|| p.clone())
    }

    /// `p` with every component that does not exist as given replaced by the entry matching it without
    /// regard to case; `None` when nothing was replaced. The search stops at the first component that
    /// matches nothing (the rest is kept as given).
    pub(crate) fn case_corrected(&self, p: &SmbPath) -> Option<SmbPath> {
        if self.options().case_sensitive || p.is_root() {
            return None;
        }
        let mut fixed = SmbPath::root();
        let mut changed = false;
        let mut components = p.as_unix().split('/');
        for component in components.by_ref() {
            let dir = self
                .open_exact(&fixed, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
                .ok()?;
            let actual = self.actual_name(&dir, component);
            changed |= actual != component;
            let exists = actual != component || stat_at(&dir, component).is_ok();
            fixed = fixed.join(&actual).ok()?;
            if !exists {
                break;
            }
        }
        for rest in components {
            fixed = fixed.join(rest).ok()?;
        }
        changed.then_some(fixed)
    }
}

#[cfg(test)]
mod tests {
    use crate::share::{Share, ShareOptions};
    use crate::testutil::open;
    use crate::{Disposition, SmbPath};
    use proto::NtStatus;

    fn share(case_sensitive: bool) -> (tempfile::TempDir, Share) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("Docs/Sub")).unwrap();
        std::fs::write(tmp.path().join("Docs/Sub/Report.TXT"), b"r").unwrap();
        let opts = ShareOptions {
            case_sensitive,
            ..ShareOptions::default()
        };
        let share = Share::open(tmp.path(), opts).unwrap();
        (tmp, share)
    }

    #[test]
    fn any_case_finds_the_stored_names() {
        let (_tmp, share) = share(false);
        let p = SmbPath::parse("docs\\SUB\\report.txt").unwrap();
        assert_eq!(
            share.case_corrected(&p).unwrap().as_unix(),
            "Docs/Sub/Report.TXT"
        );
        assert!(share.stat(&p).is_ok());
        assert!(open(&share, "DOCS\\sub\\REPORT.txt", Disposition::Open).is_ok());
        // A new name is created in the directory as stored, under the name given.
        let f = open(&share, "docs\\new.txt", Disposition::Create).unwrap();
        drop(f);
        assert!(_tmp.path().join("Docs/new.txt").exists());
    }

    #[test]
    fn a_name_taken_in_another_case_collides() {
        let (tmp, share) = share(false);
        let r = open(&share, "docs\\sub\\REPORT.TXT", Disposition::Create);
        assert_eq!(r.err(), Some(NtStatus::OBJECT_NAME_COLLISION));
        let r = open(&share, "DOCS", Disposition::Create);
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_remembered_miss_ends_when_the_directory_changes() {
        let (tmp, share) = share(false);
        let p = SmbPath::parse("docs\\LATE.txt").unwrap();
        assert_eq!(share.case_corrected(&p).unwrap().as_unix(), "Docs/LATE.txt");
        // Past the file system's clock granularity, so the directory's times change.
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::write(tmp.path().join("Docs/late.TXT"), b"").unwrap();
        assert_eq!(share.case_corrected(&p).unwrap().as_unix(), "Docs/late.TXT");
    }

    #[test]
    fn names_that_exist_as_given_or_nowhere_are_kept() {
        let (_tmp, share) = share(false);
        assert!(share
            .case_corrected(&SmbPath::parse("Docs\\Sub").unwrap())
            .is_none());
        assert!(share
            .case_corrected(&SmbPath::parse("nothing\\here").unwrap())
            .is_none());
    }

    #[test]
    fn case_sensitive_shares_match_exactly() {
        let (_tmp, share) = share(true);
        let p = SmbPath::parse("docs\\sub\\report.txt").unwrap();
        assert!(share.case_corrected(&p).is_none());
        assert_eq!(share.stat(&p).err(), Some(NtStatus::OBJECT_PATH_NOT_FOUND));
    }
}
