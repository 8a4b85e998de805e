//! Validated share-relative paths (MS-FSCC 2.1.5 pathname and file-name rules, DESIGN.md decision 6).
//!
//! An [`SmbPath`] is the only kind of name the share code opens: components relative to the share root,
//! never empty, `.` or `..`, free of NUL, control characters, `/`, `:` and wildcard characters, each at most
//! 255 bytes. The default data stream suffix (`::$DATA` or `:$DATA`) is accepted and dropped; other stream
//! names are refused here: a CREATE name with a stream part is split by [`crate::stream::parse_name`].

use std::fmt;

use proto::NtStatus;

use crate::VfsResult;

/// Longest file-name component accepted, in bytes of UTF-8 (the Linux `NAME_MAX`).
pub const MAX_COMPONENT_LEN: usize = 255;

/// The share root as a Unix relative path.
const ROOT: &str = ".";

/// Characters MS-FSCC 2.1.5.2 forbids in a file name, besides `\` (the separator) and control characters.
const INVALID_CHARS: &[char] = &['/', ':', '*', '?', '<', '>', '"', '|'];

/// A path inside a share, stored as a Unix relative path (`a/b/c`, or `.` for the root).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SmbPath {
    unix: String,
}

impl SmbPath {
    /// The share root.
    pub fn root() -> SmbPath {
        SmbPath {
            unix: ROOT.to_owned(),
        }
    }

    /// Validates an SMB name (`\` or `/` separators, optional leading `\`, `""` for the root).
    pub fn parse(name: &str) -> VfsResult<SmbPath> {
        let name = name.strip_prefix('\\').unwrap_or(name);
        let name = strip_default_stream(name);
        if name.is_empty() {
            return Ok(SmbPath::root());
        }
        let mut unix = String::with_capacity(name.len());
        for component in name.split(['\\', '/']) {
            if component == ".." {
                // `..` takes back the component before it, as Windows and Samba resolve it; one that
                // would climb above the share root is OBJECT_PATH_SYNTAX_BAD. What reaches the kernel
                // never holds `..`, and `openat2` confines it beneath the share root all the same.
                if unix.is_empty() {
                    return Err(NtStatus::OBJECT_PATH_SYNTAX_BAD);
                }
                unix.truncate(unix.rfind('/').unwrap_or(0));
                continue;
            }
            check_component(component)?;
            if !unix.is_empty() {
                unix.push('/');
            }
            unix.push_str(component);
        }
        if unix.is_empty() {
            return Ok(SmbPath::root());
        }
        Ok(SmbPath { unix })
    }

    /// Whether this is the share root.
    pub fn is_root(&self) -> bool {
        self.unix == ROOT
    }

    /// The Unix relative form handed to `openat2`: `a/b/c`, or `.` for the root.
    pub fn as_unix(&self) -> &str {
        &self.unix
    }

    /// The parent directory and the last component; `None` for the root.
    pub fn parent_and_name(&self) -> Option<(SmbPath, &str)> {
        if self.is_root() {
            return None;
        }
        Some(match self.unix.rsplit_once('/') {
            Some((parent, name)) => (
                SmbPath {
                    unix: parent.to_owned(),
                },
                name,
            ),
            None => (SmbPath::root(), self.unix.as_str()),
        })
    }

    /// Appends a relative name (which may itself hold `\` separators), validating it like [`SmbPath::parse`].
    pub fn join(&self, name: &str) -> VfsResult<SmbPath> {
        let tail = SmbPath::parse(name)?;
        if tail.is_root() {
            return Ok(self.clone());
        }
        if self.is_root() {
            return Ok(tail);
        }
        Ok(SmbPath {
            unix: format!("{}/{}", self.unix, tail.unix),
        })
    }

    /// The last component, or `""` for the root.
    pub fn file_name(&self) -> &str {
        match self.parent_and_name() {
            Some((_, name)) => name,
            None => "",
        }
    }
}

impl fmt::Debug for SmbPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmbPath({:?})", self.unix)
    }
}

impl fmt::Display for SmbPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unix)
    }
}

/// Drops a trailing default-stream designator (`::$DATA`, or `:$DATA`; the type name is case-insensitive).
fn strip_default_stream(name: &str) -> &str {
    for suffix in ["::$DATA", ":$DATA"] {
        let Some(cut) = name.len().checked_sub(suffix.len()) else {
            continue;
        };
        if let (Some(head), Some(tail)) = (name.get(..cut), name.get(cut..)) {
            if tail.eq_ignore_ascii_case(suffix) {
                return head;
            }
        }
    }
    name
}

/// Checks one component against the MS-FSCC 2.1.5.2 rules this server enforces.
fn check_component(component: &str) -> VfsResult<()> {
    if component.is_empty() || component == "." {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    if component
        .chars()
        .any(|c| c.is_ascii_control() || INVALID_CHARS.contains(&c))
    {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    if component.len() > MAX_COMPONENT_LEN {
        return Err(NtStatus::NAME_TOO_LONG);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_table() {
        let long = "x".repeat(256);
        let max = "x".repeat(255);
        let long_path = format!("a\\{long}");
        let cases: &[(&str, Result<&str, NtStatus>)] = &[
            ("", Ok(".")),
            ("\\", Ok(".")),
            ("a", Ok("a")),
            ("\\a\\b\\c", Ok("a/b/c")),
            ("dir\\file.txt", Ok("dir/file.txt")),
            ("a::$DATA", Ok("a")),
            ("a\\b:$DATA", Ok("a/b")),
            ("a::$data", Ok("a")),
            ("::$DATA", Ok(".")),
            ("..", Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)),
            (".", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\\..\\b", Ok("b")),
            ("a\\b\\..", Ok("a")),
            ("a\\..", Ok(".")),
            ("a\\..\\..", Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)),
            ("a\\..\\..\\b", Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)),
            ("a\\..\\*", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\\.\\b", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\\\\b", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\\", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("\\\\a", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\0b", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\u{1}b", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a/b", Ok("a/b")),
            ("a/../b", Ok("b")),
            ("../etc", Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)),
            ("a*", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a?", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a<", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a>", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a\"", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a|b", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a:stream", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("a:stream:$DATA", Err(NtStatus::OBJECT_NAME_INVALID)),
            ("c:", Err(NtStatus::OBJECT_NAME_INVALID)),
            (&long, Err(NtStatus::NAME_TOO_LONG)),
            (&long_path, Err(NtStatus::NAME_TOO_LONG)),
            (&max, Ok(&max)),
            ("caf\u{e9}", Ok("caf\u{e9}")),
        ];
        for (input, want) in cases {
            let got = SmbPath::parse(input);
            match want {
                Ok(unix) => assert_eq!(
                    got.map(|p| p.as_unix().to_owned()),
                    Ok((*unix).to_owned()),
                    "{input:?}"
                ),
                Err(status) => assert_eq!(got, Err(*status), "{input:?}"),
            }
        }
    }

    #[test]
    fn parent_name_join() {
        let p = SmbPath::parse("a\\b\\c").unwrap();
        let (parent, name) = p.parent_and_name().unwrap();
        assert_eq!(parent.as_unix(), "a/b");
        assert_eq!(name, "c");
        assert_eq!(p.file_name(), "c");
        let a = SmbPath::parse("a").unwrap();
        let (parent, name) = a.parent_and_name().unwrap();
        assert!(parent.is_root());
        assert_eq!(name, "a");
        let root = SmbPath::root();
        assert!(root.parent_and_name().is_none());
        assert_eq!(root.file_name(), "");
        assert_eq!(root.join("x\\y").unwrap().as_unix(), "x/y");
        assert_eq!(
            SmbPath::parse("a").unwrap().join("b").unwrap().as_unix(),
            "a/b"
        );
        assert_eq!(
            SmbPath::parse("a").unwrap().join("").unwrap().as_unix(),
            "a"
        );
        assert_eq!(
            SmbPath::parse("a").unwrap().join(".."),
            Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)
        );
    }
}
