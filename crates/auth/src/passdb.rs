//! The password database in Samba's smbpasswd text format, one account a line:
//! `name:uid:LMHASH:NTHASH:[FLAGS      ]:LCT-XXXXXXXX:`.
//!
//! Reading is tolerant: comments and lines that do not parse are kept verbatim, missing or
//! non-hex hashes mean "no hash", a missing LCT reads as 0. Writing is exact: the LM hash is always
//! 32 'X' (LM hashes are never stored), the NT hash 32 uppercase hex digits (32 'X' when absent),
//! the account flags in brackets padded to 11 characters (`U` normal user, `D` disabled, `N` no
//! password, other letters such as `X` kept as read), and LCT the last change time in Unix seconds
//! as 8 uppercase hex digits. Saving replaces the file atomically with mode 0600.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{nt_hash, UserLookup, UserRecord};

/// Width of the flags field between the brackets.
const FLAGS_WIDTH: usize = 11;

/// One account and the fields the file keeps besides the record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Account {
    record: UserRecord,
    /// Flag letters other than U, D and N, in file order.
    other_flags: String,
    last_change: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Account(Account),
    /// A comment or an unparsable line, written back unchanged.
    Verbatim(String),
}

/// An smbpasswd file in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmbPasswd {
    lines: Vec<Line>,
}

impl SmbPasswd {
    /// Reads the file; a missing file is an empty database.
    pub fn load(path: &Path) -> io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    fn parse(text: &str) -> Self {
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let account = if l.starts_with('#') {
                    None
                } else {
                    parse_account(l)
                };
                account.map_or_else(|| Line::Verbatim(l.to_string()), Line::Account)
            })
            .collect();
        SmbPasswd { lines }
    }

    /// Writes the file atomically: a new file beside it with mode 0600, then a rename.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let _ = std::fs::remove_file(&tmp); // left over from a crashed save
        let result = write_new_file(&tmp, self.render().as_bytes())
            .and_then(|()| std::fs::rename(&tmp, path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Verbatim(text) => out.push_str(text),
                Line::Account(account) => render_account(&mut out, account),
            }
            out.push('\n');
        }
        out
    }

    /// Adds the account or changes its uid and password; the last change time becomes now.
    /// Returns false (and changes nothing) for a name that cannot be stored: empty, or containing
    /// ':' or control characters.
    pub fn set_password(&mut self, name: &str, uid: u32, password: &str) -> bool {
        self.set_record(UserRecord {
            name: name.to_string(),
            uid,
            nt_hash: Some(nt_hash(password)),
            disabled: false,
        })
    }

    /// Adds `record` or replaces the uid and NT hash (and, for an existing account that was enabled,
    /// the disabled flag) of the account of that name: how users are imported from other databases.
    /// Returns false for a name that cannot be stored, like [`SmbPasswd::set_password`].
    pub fn set_record(&mut self, record: UserRecord) -> bool {
        let name = record.name.as_str();
        if name.is_empty() || name.chars().any(|c| c == ':' || c.is_control()) {
            return false;
        }
        let last_change = u32::try_from(unix_now()).unwrap_or(u32::MAX);
        match self.account_mut(name) {
            Some(account) => {
                account.record.uid = record.uid;
                account.record.nt_hash = record.nt_hash;
                account.record.disabled |= record.disabled;
                account.last_change = last_change;
            }
            None => self.lines.push(Line::Account(Account {
                record,
                other_flags: String::new(),
                last_change,
            })),
        }
        true
    }

    /// Removes the account; false if there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.lines.len();
        self.lines
            .retain(|l| !matches!(l, Line::Account(a) if same_name(&a.record.name, name)));
        self.lines.len() != before
    }

    /// Sets or clears the D flag; false if there is no such account.
    pub fn set_disabled(&mut self, name: &str, disabled: bool) -> bool {
        self.account_mut(name)
            .map(|a| a.record.disabled = disabled)
            .is_some()
    }

    /// All accounts in file order.
    pub fn entries(&self) -> impl Iterator<Item = &UserRecord> {
        self.lines.iter().filter_map(|l| match l {
            Line::Account(a) => Some(&a.record),
            Line::Verbatim(_) => None,
        })
    }

    fn account_mut(&mut self, name: &str) -> Option<&mut Account> {
        self.lines.iter_mut().find_map(|l| match l {
            Line::Account(a) if same_name(&a.record.name, name) => Some(a),
            _ => None,
        })
    }
}

impl UserLookup for SmbPasswd {
    fn lookup(&self, name: &str) -> Option<UserRecord> {
        self.entries().find(|r| same_name(&r.name, name)).cloned()
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn write_new_file(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(data)?;
    file.sync_all()
}

/// Parses `name:uid:lm:nt:[flags]:LCT-hex:`; None when the name or uid is unusable.
fn parse_account(line: &str) -> Option<Account> {
    let mut fields = line.split(':');
    let name = fields.next().filter(|n| !n.is_empty())?.to_string();
    let uid = fields.next()?.trim().parse().ok()?;
    let _lm = fields.next();
    let nt = fields.next().and_then(parse_hash);
    let flags = fields
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let last_change = fields
        .next()
        .and_then(|f| f.trim().strip_prefix("LCT-"))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    let letters: String = flags.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    let other_flags = letters
        .chars()
        .filter(|c| !matches!(c, 'U' | 'D' | 'N'))
        .collect();
    let no_password = letters.contains('N');
    Some(Account {
        record: UserRecord {
            name,
            uid,
            nt_hash: nt.filter(|_| !no_password),
            disabled: letters.contains('D'),
        },
        other_flags,
        last_change,
    })
}

/// 32 hex digits to a hash; anything else (e.g. the 'X' placeholder) is no hash.
fn parse_hash(field: &str) -> Option<[u8; 16]> {
    if field.len() != 32 || !field.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(field.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn render_account(out: &mut String, account: &Account) {
    let r = &account.record;
    let _ = write!(out, "{}:{}:{}:", r.name, r.uid, "X".repeat(32));
    match r.nt_hash {
        Some(hash) => hash.iter().for_each(|b| {
            let _ = write!(out, "{b:02X}");
        }),
        None => out.push_str(&"X".repeat(32)),
    }
    let mut flags = String::from("U");
    if r.disabled {
        flags.push('D');
    }
    if r.nt_hash.is_none() {
        flags.push('N');
    }
    flags.push_str(&account.other_flags);
    let _ = write!(
        out,
        ":[{flags:<FLAGS_WIDTH$}]:LCT-{:08X}:",
        account.last_change
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# rsmbd accounts\n\
        alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:A4F49C406510BDCAB6824EE7C30FD852:[UX         ]:LCT-5F5E1000:\n\
        \n\
        bob:1001:0123456789ABCDEF0123456789ABCDEF:a4f49c406510bdcab6824ee7c30fd852:[DU]:LCT-00000001:\n\
        carol:1002:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-00000000:\n\
        this line is garbage\n";

    #[test]
    fn tolerant_read() {
        let db = SmbPasswd::parse(SAMPLE);
        let users: Vec<_> = db.entries().cloned().collect();
        assert_eq!(users.len(), 3);
        assert_eq!(users[0].name, "alice");
        assert_eq!(users[0].nt_hash, Some(nt_hash("Password")));
        assert!(!users[0].disabled);
        assert_eq!(users[1].uid, 1001);
        assert!(users[1].disabled);
        assert_eq!(users[1].nt_hash, Some(nt_hash("Password")));
        assert_eq!(users[2].nt_hash, None);
        assert_eq!(db.lookup("ALICE").map(|r| r.uid), Some(1000));
        assert!(db.lookup("dave").is_none());
    }

    #[test]
    fn exact_write() {
        let db = SmbPasswd::parse(SAMPLE);
        let expected = "# rsmbd accounts\n\
            alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:A4F49C406510BDCAB6824EE7C30FD852:[UX         ]:LCT-5F5E1000:\n\
            bob:1001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:A4F49C406510BDCAB6824EE7C30FD852:[UD         ]:LCT-00000001:\n\
            carol:1002:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:[UN         ]:LCT-00000000:\n\
            this line is garbage\n";
        assert_eq!(db.render(), expected);
        assert_eq!(SmbPasswd::parse(expected), db);
    }

    #[test]
    fn edit_operations() {
        let mut db = SmbPasswd::default();
        assert!(db.set_password("Eve", 2000, "secret"));
        assert!(!db.set_password("bad:name", 1, "x"));
        assert!(!db.set_password("", 1, "x"));
        assert!(db.set_password("eve", 2001, "other"));
        let eve = db.lookup("EVE").unwrap();
        assert_eq!(
            (eve.name.as_str(), eve.uid, eve.nt_hash),
            ("Eve", 2001, Some(nt_hash("other")))
        );
        assert!(db.set_disabled("eve", true));
        assert!(db.lookup("eve").unwrap().disabled);
        assert!(!db.set_disabled("nobody", true));
        assert!(db.remove("EVE"));
        assert!(!db.remove("eve"));
        assert_eq!(db.entries().count(), 0);
    }

    #[test]
    fn save_load_round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smbpasswd");
        assert_eq!(SmbPasswd::load(&path).unwrap(), SmbPasswd::default());
        let mut db = SmbPasswd::parse(SAMPLE);
        assert!(db.set_password("dave", 1003, "pw"));
        db.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = SmbPasswd::load(&path).unwrap();
        assert_eq!(loaded, db);
        assert_eq!(loaded.lookup("Dave").unwrap().nt_hash, Some(nt_hash("pw")));
        // Saving again over the existing file works and leaves no temporary file behind.
        loaded.save(&path).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
