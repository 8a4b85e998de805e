//! The per-share settings rsmbd acts on, with their defaults and how each parameter value is applied.

use std::path::PathBuf;

use crate::registry::Key;
use crate::value::Value;

/// One disk share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareConfig {
    /// Share name as first written in the configuration.
    pub name: String,
    /// Directory served (`path`, `directory`).
    pub path: PathBuf,
    /// Description shown to clients.
    pub comment: String,
    /// Refuse writes; default true (`read only`, inverse of `writable`, `writeable`, `write ok`).
    pub read_only: bool,
    /// Listed when clients enumerate shares; default true (`browseable`, `browsable`).
    pub browseable: bool,
    /// Users (and `@groups`) allowed to connect; empty means everyone.
    pub valid_users: Vec<String>,
    /// Users (and `@groups`) refused even when `valid users` lists them.
    pub invalid_users: Vec<String>,
    /// `hosts allow` / `hosts deny`: addresses, networks (`10.0.0.0/8`, `192.168.1.`), `ALL`, `EXCEPT`.
    pub hosts_allow: Vec<String>,
    pub hosts_deny: Vec<String>,
    /// Allow guest connections (`guest ok`, `public`); default false.
    pub guest_ok: bool,
    /// Follow symbolic links inside the share; default **false**, unlike Samba's yes, so that a link cannot
    /// lead a client anywhere unless the administrator asks for it. Even when true, never out of the share.
    pub follow_symlinks: bool,
    /// Keep DOS attributes and creation times in the `user.DOSATTRIB` xattr (`store dos attributes`, default yes).
    pub store_dos_attributes: bool,
    /// `server smb encrypt` / `smb encrypt` (ksmbd: `smb3 encryption`); default if_required.
    pub smb_encrypt: SmbEncrypt,
    /// Share is served at all; default true.
    pub available: bool,
}

/// Encryption policy of a share (Samba's `server smb encrypt` values, ksmbd's `smb3 encryption` ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmbEncrypt {
    /// Never encrypt (`off`, `disabled`, `no`).
    Off,
    /// Encrypt when the client asks (`if_required`, `default`, `auto`).
    IfRequired,
    /// Ask clients that can to encrypt (`desired`, `yes` in ksmbd).
    Desired,
    /// Refuse unencrypted access (`required`, `mandatory`, `forced`).
    Required,
}

fn parse_smb_encrypt(text: &str) -> Result<SmbEncrypt, String> {
    match crate::registry::normalize(text)
        .replace(['_', '-'], "")
        .as_str()
    {
        "off" | "disabled" | "no" | "false" => Ok(SmbEncrypt::Off),
        "ifrequired" | "default" | "auto" | "enabled" => Ok(SmbEncrypt::IfRequired),
        "desired" | "yes" | "true" | "on" => Ok(SmbEncrypt::Desired),
        "required" | "mandatory" | "forced" => Ok(SmbEncrypt::Required),
        _ => Err(format!(
            "invalid smb encrypt '{text}' (off, if_required, desired or required)"
        )),
    }
}

impl ShareConfig {
    /// A share with every setting at its default.
    pub fn new(name: &str, path: PathBuf) -> ShareConfig {
        ShareConfig {
            name: name.to_owned(),
            path,
            comment: String::new(),
            read_only: true,
            browseable: true,
            valid_users: Vec::new(),
            invalid_users: Vec::new(),
            hosts_allow: Vec::new(),
            hosts_deny: Vec::new(),
            guest_ok: false,
            follow_symlinks: false,
            store_dos_attributes: true,
            smb_encrypt: SmbEncrypt::IfRequired,
            available: true,
        }
    }

    /// Applies one parameter; `Err` holds the reason the value is rejected.
    pub(crate) fn apply(&mut self, key: Key, value: Value) -> Result<(), String> {
        match (key, value) {
            (Key::Path, Value::Str(s)) => self.path = PathBuf::from(s),
            (Key::Comment, Value::Str(s)) => self.comment = s,
            (Key::ReadOnly, Value::Bool(b)) => self.read_only = b,
            (Key::Browseable, Value::Bool(b)) => self.browseable = b,
            (Key::ValidUsers, Value::List(l)) => self.valid_users = l,
            (Key::InvalidUsers, Value::List(l)) => self.invalid_users = l,
            (Key::HostsAllow, Value::List(l)) => self.hosts_allow = l,
            (Key::HostsDeny, Value::List(l)) => self.hosts_deny = l,
            (Key::GuestOk, Value::Bool(b)) => self.guest_ok = b,
            (Key::FollowSymlinks, Value::Bool(b)) => self.follow_symlinks = b,
            (Key::StoreDosAttributes, Value::Bool(b)) => self.store_dos_attributes = b,
            (Key::SmbEncrypt, Value::Str(s)) => self.smb_encrypt = parse_smb_encrypt(&s)?,
            (Key::Available, Value::Bool(b)) => self.available = b,
            (key, _) => return Err(format!("internal error: {key:?} is not a share setting")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = ShareConfig::new("data", PathBuf::from("/srv"));
        assert!(s.read_only && s.browseable && s.available);
        assert!(!s.guest_ok && !s.follow_symlinks);
        assert!(s.valid_users.is_empty());
    }

    #[test]
    fn values_applied() {
        let mut s = ShareConfig::new("data", PathBuf::new());
        s.apply(Key::Path, Value::Str("/srv/data".into())).unwrap();
        s.apply(Key::ReadOnly, Value::Bool(false)).unwrap();
        s.apply(Key::ValidUsers, Value::List(vec!["a".into()]))
            .unwrap();
        assert_eq!(s.path, PathBuf::from("/srv/data"));
        assert!(!s.read_only);
        assert_eq!(s.valid_users, ["a"]);
        assert!(s.apply(Key::Workgroup, Value::Str("x".into())).is_err());
    }
}
