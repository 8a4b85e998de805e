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
    /// Extended attributes of files as `user.<name>` xattrs (`ea support`, default yes).
    pub ea_support: bool,
    /// `case sensitive` (Samba's values `yes`, `no`, `auto`; default `auto`): with `yes` names match
    /// exactly; with `no` and `auto` a name matches an entry that differs only in case, as Windows
    /// clients expect (rsmbd speaks no POSIX extensions, so `auto` is `no` for every client).
    pub case_sensitive: bool,
    /// `server smb encrypt` / `smb encrypt` (ksmbd: `smb3 encryption`); default if_required.
    pub smb_encrypt: SmbEncrypt,
    /// Share is served at all; default true.
    pub available: bool,
    /// Users (and `@groups`) that only get read access, even on a writable share.
    pub read_list: Vec<String>,
    /// Users (and `@groups`) that get write access, even on a read-only share (`read list` loses).
    pub write_list: Vec<String>,
    /// Users (and `@groups`) whose file operations run as root on this share.
    pub admin_users: Vec<String>,
    /// Unix account every file operation on this share runs as (`force user`).
    pub force_user: Option<String>,
    /// Unix group file operations on this share run with as primary group (`force group`, `group`).
    pub force_group: Option<String>,
    /// Every connection is a guest connection (`guest only`, `only guest`); needs `guest ok`.
    pub guest_only: bool,
    /// Permission bits a new file may have (`create mask`); default 0744.
    pub create_mask: u32,
    /// Permission bits a new directory may have (`directory mask`); default 0755.
    pub directory_mask: u32,
    /// Bits always set on a new file (`force create mode`); default 0.
    pub force_create_mode: u32,
    /// Bits always set on a new directory (`force directory mode`); default 0.
    pub force_directory_mode: u32,
    /// Names starting with '.' are reported with the hidden attribute (`hide dot files`, default yes).
    pub hide_dot_files: bool,
    /// Name patterns (`*`, `?`) reported with the hidden attribute (`hide files = /a*/b?/`).
    pub hide_files: Vec<String>,
    /// Name patterns that are neither listed nor openable nor creatable (`veto files`).
    pub veto_files: Vec<String>,
    /// Deleting a directory also deletes the vetoed entries in it (`delete veto files`).
    pub delete_veto_files: bool,
    /// Answer CHANGE_NOTIFY on this share (`change notify`, default yes); when off, CHANGE_NOTIFY
    /// fails with STATUS_NOT_IMPLEMENTED as on a file system that cannot notify.
    pub change_notify: bool,
    /// Grant oplocks and leases on this share (`oplocks`, default yes).
    pub oplocks: bool,
    /// Grant level II oplocks (`level2 oplocks`, default yes); without, shared files get none.
    pub level2_oplocks: bool,
    /// Grant durable handles (`durable handles`, default yes): opens that survive a lost connection.
    pub durable_handles: bool,
    /// Name patterns of files that never get an oplock or lease (`veto oplock files`).
    pub veto_oplock_files: Vec<String>,
    /// `kernel oplocks` (default no): accepted, but rsmbd does not take Linux file leases, so local
    /// programs do not break SMB caching; `rsmbd check` says so.
    pub kernel_oplocks: bool,
    /// Tree connects to this share at once; 0 = no limit (`max connections`).
    pub max_connections: u32,
    /// `vfs objects`, recorded by name (streams_xattr, acl_xattr, fruit, shadow_copy2 are known).
    pub vfs_objects: Vec<String>,
    /// `nt acl support` (default yes): security descriptors are stored, enforced and inherited; with
    /// no, every file shows the one its POSIX owner, group and mode give and SET_INFO of one is
    /// accepted without effect, as Samba does.
    pub nt_acl_support: bool,
    /// `inherit owner` (default no): "windows and unix" (or yes) makes a new object's owner SID its
    /// parent's; "unix only" is not supported.
    pub inherit_owner: bool,
    /// `acl flag inherited canonicalization` (default yes): a descriptor set with
    /// SE_DACL_AUTO_INHERITED but without SE_DACL_AUTO_INHERIT_REQ loses the former, as on Windows.
    pub acl_flag_inherited_canonicalization: bool,
    /// `hide unreadable` (default no): directory listings leave out what the user may not read
    /// (access-based enumeration).
    pub hide_unreadable: bool,
    /// `fruit:time machine` (vfs_fruit's parametric option, default no): announced to macOS as a Time
    /// Machine destination (the `_adisk._tcp` mDNS record).
    pub time_machine: bool,
    /// vfs_fruit's other settings (`fruit:metadata`, `fruit:resource`, ...).
    pub fruit: crate::fruit::FruitConfig,
}

impl ShareConfig {
    /// Whether the share serves alternate data streams: by default, and with `vfs objects` naming
    /// `streams_xattr` (Samba without the module refuses stream names).
    /// Whether `vfs objects` names `fruit` (Apple's SMB extensions).
    pub fn fruit_enabled(&self) -> bool {
        self.vfs_objects.iter().any(|m| m == "fruit")
    }

    pub fn streams(&self) -> bool {
        self.vfs_objects.is_empty() || self.vfs_objects.iter().any(|m| m == "streams_xattr")
    }
}

fn parse_case_sensitive(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" => Ok(true),
        "no" | "false" | "0" | "off" | "auto" => Ok(false),
        other => Err(format!(
            "case sensitive must be yes, no or auto, not {other:?}"
        )),
    }
}

/// The `vfs objects` modules rsmbd knows by name.
pub const KNOWN_VFS_OBJECTS: &[&str] = &[
    "streams_xattr",
    "acl_xattr",
    "fruit",
    "catia",
    "shadow_copy2",
];

/// `inherit owner`: no, yes / "windows and unix"; "unix only" (a Unix owner without the SID) is refused.
fn parse_inherit_owner(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "no" | "false" | "0" => Ok(false),
        "yes" | "true" | "1" | "windows and unix" => Ok(true),
        other => Err(format!(
            "inherit owner = {other}: rsmbd supports no, yes and windows and unix"
        )),
    }
}

/// Splits Samba's `/pattern/pattern/` list; empty parts are dropped.
fn parse_patterns(text: &str) -> Vec<String> {
    text.split('/')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn mode(n: u64) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| format!("invalid mode {n:o}"))
}

fn optional_name(s: String) -> Option<String> {
    let s = s.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn vfs_objects(list: Vec<String>) -> Result<(Vec<String>, Option<String>), String> {
    let unknown: Vec<&str> = list
        .iter()
        .map(String::as_str)
        .filter(|m| !KNOWN_VFS_OBJECTS.contains(m))
        .collect();
    let warning = (!unknown.is_empty()).then(|| {
        format!(
            "vfs objects: {} not known to rsmbd and ignored",
            unknown.join(", ")
        )
    });
    Ok((list, warning))
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
            ea_support: true,
            case_sensitive: false,
            smb_encrypt: SmbEncrypt::IfRequired,
            available: true,
            read_list: Vec::new(),
            write_list: Vec::new(),
            admin_users: Vec::new(),
            force_user: None,
            force_group: None,
            guest_only: false,
            create_mask: 0o744,
            directory_mask: 0o755,
            force_create_mode: 0,
            force_directory_mode: 0,
            hide_dot_files: true,
            hide_files: Vec::new(),
            veto_files: Vec::new(),
            delete_veto_files: false,
            change_notify: true,
            oplocks: true,
            level2_oplocks: true,
            durable_handles: true,
            veto_oplock_files: Vec::new(),
            kernel_oplocks: false,
            max_connections: 0,
            vfs_objects: Vec::new(),
            nt_acl_support: true,
            inherit_owner: false,
            acl_flag_inherited_canonicalization: true,
            hide_unreadable: false,
            time_machine: false,
            fruit: Default::default(),
        }
    }

    /// Whether NT ACLs are kept in `security.NTACL` (Samba's acl_xattr): by default, like a Windows
    /// server, and whenever `vfs objects` names acl_xattr; not when `vfs objects` is set without it
    /// or `nt acl support` is off.
    pub fn stores_nt_acls(&self) -> bool {
        self.nt_acl_support
            && (self.vfs_objects.is_empty() || self.vfs_objects.iter().any(|m| m == "acl_xattr"))
    }

    /// Applies one parameter. `Ok(Some(w))` carries a warning; `Err` the reason the value is rejected.
    pub(crate) fn apply(&mut self, key: Key, value: Value) -> Result<Option<String>, String> {
        if self.fruit.apply(key, &value)? {
            return Ok(self.fruit.warning(key));
        }
        match (key, value) {
            (Key::VfsObjects, Value::List(l)) => {
                let (list, warning) = vfs_objects(l)?;
                self.vfs_objects = list;
                return Ok(warning);
            }
            (Key::NtAclSupport, Value::Bool(b)) => self.nt_acl_support = b,
            (Key::HideUnreadable, Value::Bool(b)) => self.hide_unreadable = b,
            (Key::AclFlagInheritedCanonicalization, Value::Bool(b)) => {
                self.acl_flag_inherited_canonicalization = b
            }
            (Key::InheritOwner, Value::Str(s)) => self.inherit_owner = parse_inherit_owner(&s)?,
            (Key::IgnoreSystemAcls, Value::Bool(false)) => return Ok(Some(
                "acl_xattr:ignore system acls = no: rsmbd keeps no POSIX ACLs beside the NT ACL \
                     and behaves as with yes"
                    .into(),
            )),
            (Key::IgnoreSystemAcls, Value::Bool(true)) => {}
            (Key::ReadList, Value::List(l)) => self.read_list = l,
            (Key::WriteList, Value::List(l)) => self.write_list = l,
            (Key::AdminUsers, Value::List(l)) => self.admin_users = l,
            (Key::ForceUser, Value::Str(s)) => self.force_user = optional_name(s),
            (Key::ForceGroup, Value::Str(s)) => self.force_group = optional_name(s),
            (Key::GuestOnly, Value::Bool(b)) => self.guest_only = b,
            (Key::CreateMask, Value::Integer(n)) => self.create_mask = mode(n)?,
            (Key::DirectoryMask, Value::Integer(n)) => self.directory_mask = mode(n)?,
            (Key::ForceCreateMode, Value::Integer(n)) => self.force_create_mode = mode(n)?,
            (Key::ForceDirectoryMode, Value::Integer(n)) => self.force_directory_mode = mode(n)?,
            (Key::HideDotFiles, Value::Bool(b)) => self.hide_dot_files = b,
            (Key::HideFiles, Value::Str(s)) => self.hide_files = parse_patterns(&s),
            (Key::VetoFiles, Value::Str(s)) => self.veto_files = parse_patterns(&s),
            (Key::DeleteVetoFiles, Value::Bool(b)) => self.delete_veto_files = b,
            (Key::ChangeNotify, Value::Bool(b)) => self.change_notify = b,
            (Key::Oplocks, Value::Bool(b)) => self.oplocks = b,
            (Key::Level2Oplocks, Value::Bool(b)) => self.level2_oplocks = b,
            (Key::DurableHandles, Value::Bool(b)) => self.durable_handles = b,
            (Key::VetoOplockFiles, Value::Str(s)) => self.veto_oplock_files = parse_patterns(&s),
            (Key::KernelOplocks, Value::Bool(b)) => self.kernel_oplocks = b,
            (Key::MaxConnections, Value::Integer(n)) => {
                self.max_connections = u32::try_from(n).map_err(|_| format!("{n} is too large"))?
            }
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
            (Key::EaSupport, Value::Bool(b)) => self.ea_support = b,
            (Key::CaseSensitive, Value::Str(s)) => self.case_sensitive = parse_case_sensitive(&s)?,
            (Key::SmbEncrypt, Value::Str(s)) => self.smb_encrypt = parse_smb_encrypt(&s)?,
            (Key::Available, Value::Bool(b)) => self.available = b,
            (Key::FruitTimeMachine, Value::Bool(b)) => self.time_machine = b,
            (key, _) => return Err(format!("internal error: {key:?} is not a share setting")),
        }
        Ok(None)
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

    #[test]
    fn patterns_masks_and_vfs_objects() {
        let mut s = ShareConfig::new("data", PathBuf::new());
        s.apply(
            Key::VetoFiles,
            Value::Str("/*.tmp/.DS_Store//Thumbs.db/".into()),
        )
        .unwrap();
        assert_eq!(s.veto_files, ["*.tmp", ".DS_Store", "Thumbs.db"]);
        s.apply(Key::CreateMask, Value::Integer(0o600)).unwrap();
        assert_eq!(s.create_mask, 0o600);
        let w = s
            .apply(
                Key::VfsObjects,
                Value::List(vec!["fruit".into(), "recycle".into()]),
            )
            .unwrap();
        assert!(w.unwrap().contains("recycle"));
        assert_eq!(s.vfs_objects, ["fruit", "recycle"]);
        s.apply(Key::ForceUser, Value::Str(" ".into())).unwrap();
        assert_eq!(s.force_user, None);
    }

    #[test]
    fn nt_acl_parameters() {
        let mut s = ShareConfig::new("data", PathBuf::new());
        assert!(s.stores_nt_acls() && !s.inherit_owner);
        s.apply(Key::VfsObjects, Value::List(vec!["fruit".into()]))
            .unwrap();
        assert!(!s.stores_nt_acls());
        s.apply(Key::VfsObjects, Value::List(vec!["acl_xattr".into()]))
            .unwrap();
        assert!(s.stores_nt_acls());
        s.apply(Key::NtAclSupport, Value::Bool(false)).unwrap();
        assert!(!s.stores_nt_acls());
        s.apply(Key::InheritOwner, Value::Str("Windows and Unix".into()))
            .unwrap();
        assert!(s.inherit_owner);
        assert!(s
            .apply(Key::InheritOwner, Value::Str("unix only".into()))
            .is_err());
        assert!(s
            .apply(Key::IgnoreSystemAcls, Value::Bool(false))
            .unwrap()
            .is_some());
        assert_eq!(s.apply(Key::IgnoreSystemAcls, Value::Bool(true)), Ok(None));
    }
}
