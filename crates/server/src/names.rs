//! Names a share hides or vetoes (Samba's `hide dot files`, `hide files`, `veto files`): hidden names are
//! reported with FILE_ATTRIBUTE_HIDDEN (MS-FSCC 2.6); vetoed names are left out of directory listings and
//! cannot be opened, created or renamed to, as if they did not exist. Patterns use `*` and `?` and are
//! compared like QUERY_DIRECTORY patterns ([`crate::wildcard`]), ignoring case.

use crate::wildcard;
use proto::NtStatus;
use vfs::{FILE_ATTRIBUTE_HIDDEN, FILE_ATTRIBUTE_NORMAL};

/// The hide and veto rules of one share.
#[derive(Clone, Debug, Default)]
pub struct NameFilter {
    /// When false, names starting with '.' without stored DOS attributes are not hidden.
    pub hide_dot_files: bool,
    hide: Vec<Vec<char>>,
    veto: Vec<Vec<char>>,
    /// Files that never get an oplock or lease (`veto oplock files`).
    veto_oplock: Vec<Vec<char>>,
    /// Deleting a directory removes the vetoed files in it first (`delete veto files`).
    pub delete_veto_files: bool,
}

fn any_match(patterns: &[Vec<char>], name: &str) -> bool {
    patterns.iter().any(|p| wildcard::matches(p, name))
}

impl NameFilter {
    pub fn new(hide_dot_files: bool, hide: &[String], veto: &[String], delete: bool) -> NameFilter {
        let compile = |l: &[String]| l.iter().map(|p| wildcard::compile(p)).collect();
        NameFilter {
            hide_dot_files,
            hide: compile(hide),
            veto: compile(veto),
            veto_oplock: Vec::new(),
            delete_veto_files: delete,
        }
    }

    /// The same filter with `veto oplock files` patterns.
    pub fn with_veto_oplock(self, patterns: &[String]) -> NameFilter {
        NameFilter {
            veto_oplock: patterns.iter().map(|p| wildcard::compile(p)).collect(),
            ..self
        }
    }

    /// Whether `name` may not be cached by clients (`veto oplock files`).
    pub fn is_oplock_vetoed(&self, name: &str) -> bool {
        !self.veto_oplock.is_empty() && any_match(&self.veto_oplock, name)
    }

    pub fn is_vetoed(&self, name: &str) -> bool {
        !self.veto.is_empty() && any_match(&self.veto, name)
    }

    /// OBJECT_PATH_NOT_FOUND if a directory on the way is vetoed, OBJECT_NAME_NOT_FOUND if the last
    /// component is (what a client sees for names that do not exist).
    pub fn check_path(&self, path: &vfs::SmbPath) -> Result<(), NtStatus> {
        if self.veto.is_empty() {
            return Ok(());
        }
        let unix = path.as_unix();
        let mut parts = unix.split('/').filter(|p| !p.is_empty()).peekable();
        while let Some(part) = parts.next() {
            if self.is_vetoed(part) {
                return Err(match parts.peek() {
                    Some(_) => NtStatus::OBJECT_PATH_NOT_FOUND,
                    None => NtStatus::OBJECT_NAME_NOT_FOUND,
                });
            }
        }
        Ok(())
    }

    /// The attributes to report for `name`: the stored or derived ones, adjusted by the hide rules.
    pub fn attributes(&self, stat: &vfs::FileStat, name: &str) -> u32 {
        let mut attrs = stat.file_attributes(name);
        if !self.hide_dot_files && stat.dos.is_none() && name.starts_with('.') {
            attrs &= !FILE_ATTRIBUTE_HIDDEN;
        }
        if !self.hide.is_empty() && any_match(&self.hide, name) {
            attrs |= FILE_ATTRIBUTE_HIDDEN;
        }
        match attrs & !FILE_ATTRIBUTE_NORMAL {
            0 => FILE_ATTRIBUTE_NORMAL,
            others => others,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> NameFilter {
        NameFilter::new(
            true,
            &["secret*".into()],
            &["*.tmp".into(), "Thumbs.db".into()],
            false,
        )
    }

    #[test]
    fn veto_by_component() {
        let f = filter();
        assert!(f.is_vetoed("a.TMP") && f.is_vetoed("thumbs.db"));
        assert!(!f.is_vetoed("a.txt"));
        let p = |s: &str| vfs::SmbPath::parse(s).unwrap();
        assert_eq!(
            f.check_path(&p("dir\\x.tmp")),
            Err(NtStatus::OBJECT_NAME_NOT_FOUND)
        );
        assert_eq!(
            f.check_path(&p("x.tmp\\y")),
            Err(NtStatus::OBJECT_PATH_NOT_FOUND)
        );
        assert_eq!(f.check_path(&p("dir\\ok.txt")), Ok(()));
        assert_eq!(NameFilter::default().check_path(&p("x.tmp")), Ok(()));
    }
}
