//! `rsmbd user import`: takes accounts over from Samba's smbpasswd file (same format as rsmbd's own
//! database: names, uids, NT hashes and the disabled flag are kept) or from ksmbd-tools' `ksmbdpwd.db`
//! (`name:base64(NT hash)` per line; the uid comes from the Unix account of the same name). Passwords
//! need not be known: only NT hashes are copied. Lines that do not parse are reported with their number
//! and nothing is written unless the whole file is good.

use auth::passdb::SmbPasswd;
use auth::UserRecord;
use base64::Engine;
use std::path::Path;

/// Where the accounts come from.
pub enum Source<'a> {
    Smbpasswd(&'a Path),
    Ksmbd(&'a Path),
}

/// One `name:base64(NT hash)` line of ksmbdpwd.db.
fn ksmbd_line(line: &str) -> Result<(String, [u8; 16]), String> {
    let (name, hash) = line
        .split_once(':')
        .ok_or("expected name:base64(NT hash)")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(hash.trim())
        .map_err(|e| format!("the hash is not base64: {e}"))?;
    let hash = <[u8; 16]>::try_from(bytes.as_slice())
        .map_err(|_| format!("the hash has {} bytes, not 16", bytes.len()))?;
    Ok((name.trim().to_owned(), hash))
}

fn read_ksmbd(path: &Path, uid_of: impl Fn(&str) -> u32) -> Result<Vec<UserRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, hash) =
            ksmbd_line(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        crate::user_cmd::validate_name(&name)
            .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        out.push(UserRecord {
            uid: uid_of(&name),
            name,
            nt_hash: Some(hash),
            disabled: false,
        });
    }
    Ok(out)
}

fn read_smbpasswd(path: &Path) -> Result<Vec<UserRecord>, String> {
    if !path.is_file() {
        return Err(format!("{}: no such file", path.display()));
    }
    let db = SmbPasswd::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(db.entries().cloned().collect())
}

/// Reads the accounts of `source`.
pub fn read(source: Source<'_>, uid_of: impl Fn(&str) -> u32) -> Result<Vec<UserRecord>, String> {
    match source {
        Source::Smbpasswd(p) => read_smbpasswd(p),
        Source::Ksmbd(p) => read_ksmbd(p, uid_of),
    }
}

/// Merges `records` into `db`; returns the names imported.
pub fn merge(db: &mut SmbPasswd, records: Vec<UserRecord>) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for r in records {
        let name = r.name.clone();
        if !db.set_record(r) {
            return Err(format!("user name '{name}' cannot be stored"));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ksmbd_lines() {
        let (name, hash) = ksmbd_line("alice:iEbxwLT+uSA7E8Kb/oUfZQ==").unwrap();
        assert_eq!(name, "alice");
        assert_eq!(hash[0], 0x88);
        assert!(ksmbd_line("alice").is_err());
        assert!(ksmbd_line("alice:!!!").is_err());
        assert!(ksmbd_line("alice:AAAA").unwrap_err().contains("3 bytes"));
    }

    #[test]
    fn ksmbd_file_reports_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ksmbdpwd.db");
        std::fs::write(&p, "bob:AAAAAAAAAAAAAAAAAAAAAA==\n\nbad line\n").unwrap();
        let err = read(Source::Ksmbd(&p), |_| 1000).unwrap_err();
        assert!(err.ends_with(":3: expected name:base64(NT hash)"), "{err}");
        std::fs::write(&p, "bob:AAAAAAAAAAAAAAAAAAAAAA==\n").unwrap();
        let users = read(Source::Ksmbd(&p), |_| 1000).unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!((users[0].uid, users[0].nt_hash), (1000, Some([0; 16])));
    }
}
