//! The table of known smb.conf parameters: canonical name, synonyms, scope, value type and whether rsmbd
//! acts on it. Names are compared ignoring case and spaces, as Samba does.

use crate::value::Type;

/// Where a parameter may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only in `[global]`.
    Global,
    /// In a share section, or in `[global]` as the default for every share.
    Share,
}

/// The settings rsmbd acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Include,
    SmbPorts,
    Interfaces,
    BindInterfacesOnly,
    ServerMinProtocol,
    ServerMaxProtocol,
    NetbiosName,
    Workgroup,
    ServerString,
    PassdbBackend,
    MapToGuest,
    GuestAccount,
    Smb2MaxCredits,
    Smb2MaxRead,
    Smb2MaxWrite,
    Smb2MaxTrans,
    Path,
    Comment,
    ReadOnly,
    Browseable,
    ValidUsers,
    InvalidUsers,
    HostsAllow,
    HostsDeny,
    GuestOk,
    FollowSymlinks,
    StoreDosAttributes,
    EaSupport,
    CaseSensitive,
    ServerSigning,
    EncryptionAlgorithms,
    MaxLogonFailures,
    RestrictAnonymous,
    LogonFailureWindow,
    LogonFailureDelay,
    Realm,
    KerberosMethod,
    DedicatedKeytabFile,
    NtlmAuth,
    UsernameMap,
    SigningAlgorithms,
    SmbEncrypt,
    Available,
    ReadList,
    WriteList,
    AdminUsers,
    ForceUser,
    ForceGroup,
    GuestOnly,
    CreateMask,
    DirectoryMask,
    ForceCreateMode,
    ForceDirectoryMode,
    HideDotFiles,
    HideFiles,
    VetoFiles,
    DeleteVetoFiles,
    MaxConnections,
    VfsObjects,
    NtAclSupport,
    InheritOwner,
    IgnoreSystemAcls,
    AclFlagInheritedCanonicalization,
    HideUnreadable,
    ControlSocket,
    HandshakeTimeout,
    MaxTcpConnections,
    MaxConnectionsPerAddress,
    MaxSessionsPerConnection,
    MaxTreeConnectsPerSession,
    MaxOutstandingRequests,
    MaxOpenFiles,
    MaxByteRangeLocks,
    MaxPduSize,
    MaxPendingOperations,
    ServerMaxAuthenticatingSessions,
    ServerMaxOpenFiles,
    ServerMaxByteRangeLocks,
    ServerMaxPendingOperations,
    ServerMaxMemoryInFlight,
    ChangeNotify,
    KernelChangeNotify,
    Oplocks,
    Level2Oplocks,
    DurableHandles,
    DurableHandleTimeout,
    MultiChannel,
    VetoOplockFiles,
    KernelOplocks,
    OplockBreakTimeout,
    Smb2Leases,
    Smb3DirectoryLeases,
    MulticastDnsRegister,
    WsdSupport,
    FruitModel,
    FruitTimeMachine,
    FruitMetadata,
    FruitResource,
    FruitTimeMachineMaxSize,
    FruitZeroFileId,
    FruitPosixRename,
    FruitNfsAces,
    FruitCopyfile,
    FruitWipeRfork,
    FruitDeleteEmptyAdfiles,
    FruitVetoAppledouble,
}

/// Whether rsmbd acts on a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Implemented; the key names the setting it changes.
    Supported(Key),
    /// Known Samba or ksmbd parameter that rsmbd does not implement yet; it is reported and ignored.
    Ignored,
}

/// One known parameter.
#[derive(Debug, Clone, Copy)]
pub struct Parameter {
    /// Canonical name, lower case.
    pub name: &'static str,
    /// Other names meaning the same thing.
    pub synonyms: &'static [&'static str],
    /// Other names meaning the boolean opposite (`writable` for `read only`).
    pub inverse_synonyms: &'static [&'static str],
    /// Where it may appear.
    pub scope: Scope,
    /// Type of its value.
    pub ty: Type,
    /// Whether rsmbd acts on it.
    pub support: Support,
}

impl Parameter {
    const fn new(name: &'static str, scope: Scope, ty: Type, support: Support) -> Parameter {
        Parameter {
            name,
            synonyms: &[],
            inverse_synonyms: &[],
            scope,
            ty,
            support,
        }
    }

    const fn synonyms(self, synonyms: &'static [&'static str]) -> Parameter {
        Parameter { synonyms, ..self }
    }

    const fn inverse(self, inverse_synonyms: &'static [&'static str]) -> Parameter {
        Parameter {
            inverse_synonyms,
            ..self
        }
    }
}

const fn global(name: &'static str, ty: Type, key: Key) -> Parameter {
    Parameter::new(name, Scope::Global, ty, Support::Supported(key))
}

const fn share(name: &'static str, ty: Type, key: Key) -> Parameter {
    Parameter::new(name, Scope::Share, ty, Support::Supported(key))
}

const fn ignored_global(name: &'static str, ty: Type) -> Parameter {
    Parameter::new(name, Scope::Global, ty, Support::Ignored)
}

const fn ignored_share(name: &'static str, ty: Type) -> Parameter {
    Parameter::new(name, Scope::Share, ty, Support::Ignored)
}

use Type::{Bool, Integer, List, Mode, Size, String as Text};

/// Every parameter rsmbd knows about.
pub static PARAMETERS: &[Parameter] = &[
    // Supported, global.
    global("include", Text, Key::Include),
    global("smb ports", List, Key::SmbPorts).synonyms(&["tcp port"]),
    global("interfaces", List, Key::Interfaces),
    global("bind interfaces only", Bool, Key::BindInterfacesOnly),
    global("server min protocol", Text, Key::ServerMinProtocol).synonyms(&["min protocol"]),
    global("server max protocol", Text, Key::ServerMaxProtocol)
        .synonyms(&["max protocol", "protocol"]),
    global("netbios name", Text, Key::NetbiosName),
    global("workgroup", Text, Key::Workgroup),
    global("server string", Text, Key::ServerString),
    global("passdb backend", Text, Key::PassdbBackend),
    global("map to guest", Text, Key::MapToGuest),
    global("guest account", Text, Key::GuestAccount),
    global("smb2 max credits", Integer, Key::Smb2MaxCredits),
    global("smb2 max read", Size, Key::Smb2MaxRead),
    global("smb2 max write", Size, Key::Smb2MaxWrite),
    global("smb2 max trans", Size, Key::Smb2MaxTrans),
    // Supported, per share.
    share("path", Text, Key::Path).synonyms(&["directory"]),
    share("comment", Text, Key::Comment),
    share("read only", Bool, Key::ReadOnly).inverse(&["writable", "writeable", "write ok"]),
    share("browseable", Bool, Key::Browseable).synonyms(&["browsable"]),
    share("valid users", List, Key::ValidUsers),
    share("invalid users", List, Key::InvalidUsers),
    share("hosts allow", List, Key::HostsAllow).synonyms(&["allow hosts"]),
    share("hosts deny", List, Key::HostsDeny).synonyms(&["deny hosts"]),
    share("guest ok", Bool, Key::GuestOk).synonyms(&["public"]),
    share("follow symlinks", Bool, Key::FollowSymlinks),
    share("store dos attributes", Bool, Key::StoreDosAttributes),
    share("ea support", Bool, Key::EaSupport),
    share("case sensitive", Text, Key::CaseSensitive),
    share("server smb encrypt", Text, Key::SmbEncrypt)
        .synonyms(&["smb encrypt", "smb3 encryption"]),
    share("available", Bool, Key::Available),
    share("read list", List, Key::ReadList),
    share("write list", List, Key::WriteList),
    share("admin users", List, Key::AdminUsers),
    share("force user", Text, Key::ForceUser),
    share("force group", Text, Key::ForceGroup).synonyms(&["group"]),
    share("guest only", Bool, Key::GuestOnly).synonyms(&["only guest"]),
    share("create mask", Mode, Key::CreateMask).synonyms(&["create mode"]),
    share("directory mask", Mode, Key::DirectoryMask).synonyms(&["directory mode"]),
    share("force create mode", Mode, Key::ForceCreateMode),
    share("force directory mode", Mode, Key::ForceDirectoryMode),
    share("hide dot files", Bool, Key::HideDotFiles),
    share("hide files", Text, Key::HideFiles),
    share("veto files", Text, Key::VetoFiles),
    share("delete veto files", Bool, Key::DeleteVetoFiles),
    share("change notify", Bool, Key::ChangeNotify),
    share("oplocks", Bool, Key::Oplocks),
    share("level2 oplocks", Bool, Key::Level2Oplocks),
    share("durable handles", Bool, Key::DurableHandles),
    share("veto oplock files", Text, Key::VetoOplockFiles),
    share("kernel oplocks", Bool, Key::KernelOplocks),
    share("max connections", Integer, Key::MaxConnections),
    share("vfs objects", List, Key::VfsObjects).synonyms(&["vfs object"]),
    share("nt acl support", Bool, Key::NtAclSupport),
    share("inherit owner", Text, Key::InheritOwner),
    share("acl_xattr:ignore system acls", Bool, Key::IgnoreSystemAcls),
    share("hide unreadable", Bool, Key::HideUnreadable),
    share(
        "acl flag inherited canonicalization",
        Bool,
        Key::AclFlagInheritedCanonicalization,
    ),
    // Limits (DESIGN.md decision 9); `max open files` is Samba's, `max ip connections` ksmbd's.
    global("handshake timeout", Integer, Key::HandshakeTimeout),
    global("max tcp connections", Integer, Key::MaxTcpConnections),
    global(
        "max connections per address",
        Integer,
        Key::MaxConnectionsPerAddress,
    )
    .synonyms(&["max ip connections"]),
    global(
        "max sessions per connection",
        Integer,
        Key::MaxSessionsPerConnection,
    ),
    global(
        "max tree connects per session",
        Integer,
        Key::MaxTreeConnectsPerSession,
    ),
    global(
        "max outstanding requests",
        Integer,
        Key::MaxOutstandingRequests,
    ),
    global("max open files", Integer, Key::MaxOpenFiles),
    global("max byte range locks", Integer, Key::MaxByteRangeLocks),
    global("max pdu size", Size, Key::MaxPduSize),
    global("max pending operations", Integer, Key::MaxPendingOperations),
    global(
        "server max authenticating sessions",
        Integer,
        Key::ServerMaxAuthenticatingSessions,
    ),
    global("server max open files", Integer, Key::ServerMaxOpenFiles),
    global(
        "server max byte range locks",
        Integer,
        Key::ServerMaxByteRangeLocks,
    ),
    global(
        "server max pending operations",
        Integer,
        Key::ServerMaxPendingOperations,
    ),
    global(
        "server max memory in flight",
        Size,
        Key::ServerMaxMemoryInFlight,
    ),
    global("kernel change notify", Bool, Key::KernelChangeNotify),
    global("smb2 leases", Bool, Key::Smb2Leases),
    global("smb3 directory leases", Bool, Key::Smb3DirectoryLeases),
    // rsmbd's own: seconds an oplock or lease break waits for its acknowledgment (MS-SMB2 3.3.2.1).
    global("oplock break timeout", Integer, Key::OplockBreakTimeout),
    global("durable handle timeout", Integer, Key::DurableHandleTimeout),
    global("server multi channel support", Bool, Key::MultiChannel),
    global("control socket", Text, Key::ControlSocket),
    // Network discovery: Samba's mDNS switch, rsmbd's WS-Discovery switch, vfs_fruit's parametric options.
    global("multicast dns register", Bool, Key::MulticastDnsRegister),
    global("wsd support", Bool, Key::WsdSupport),
    global("fruit:model", Text, Key::FruitModel),
    share("fruit:time machine", Bool, Key::FruitTimeMachine),
    // Apple SMB extensions (vfs_fruit's parametric options, crate::fruit).
    share("fruit:metadata", Text, Key::FruitMetadata),
    share("fruit:resource", Text, Key::FruitResource),
    share(
        "fruit:time machine max size",
        Size,
        Key::FruitTimeMachineMaxSize,
    ),
    share("fruit:zero_file_id", Bool, Key::FruitZeroFileId),
    share("fruit:posix_rename", Bool, Key::FruitPosixRename),
    share("fruit:nfs_aces", Bool, Key::FruitNfsAces),
    share("fruit:copyfile", Bool, Key::FruitCopyfile),
    share(
        "fruit:wipe_intentionally_left_blank_rfork",
        Bool,
        Key::FruitWipeRfork,
    ),
    share(
        "fruit:delete_empty_adfiles",
        Bool,
        Key::FruitDeleteEmptyAdfiles,
    ),
    share("fruit:veto_appledouble", Bool, Key::FruitVetoAppledouble),
    // Known but not implemented yet, global.
    ignored_global("add group script", Text),
    ignored_global("add machine script", Text),
    ignored_global("add user script", Text),
    ignored_global("config file", Text),
    ignored_global("delete user script", Text),
    ignored_global("disable netbios", Bool),
    ignored_global("disable spoolss", Bool),
    ignored_global("dns proxy", Bool),
    ignored_global("domain logons", Bool),
    ignored_global("domain master", Text),
    ignored_global("lanman auth", Bool),
    ignored_global("load printers", Bool),
    ignored_global("local master", Bool),
    ignored_global("log file", Text),
    ignored_global("log level", Text).synonyms(&["debug level"]),
    ignored_global("logging", Text),
    ignored_global("logon drive", Text),
    ignored_global("logon home", Text),
    ignored_global("logon path", Text),
    ignored_global("logon script", Text),
    ignored_global("max log size", Integer),
    ignored_global("name resolve order", Text),
    ignored_global("obey pam restrictions", Bool),
    ignored_global("os level", Integer),
    ignored_global("pam password change", Bool),
    ignored_global("panic action", Text),
    ignored_global("passwd chat", Text),
    ignored_global("passwd program", Text),
    ignored_global("preferred master", Text),
    ignored_global("printcap name", Text),
    ignored_global("security", Text),
    ignored_global("server role", Text),
    global("server signing", Text, Key::ServerSigning),
    global(
        "server smb3 encryption algorithms",
        List,
        Key::EncryptionAlgorithms,
    ),
    global(
        "server smb3 signing algorithms",
        List,
        Key::SigningAlgorithms,
    ),
    global("restrict anonymous", Integer, Key::RestrictAnonymous),
    // rsmbd's own: throttling of failed logons (no Samba equivalent).
    global("max logon failures", Integer, Key::MaxLogonFailures),
    global("logon failure window", Integer, Key::LogonFailureWindow),
    global("logon failure delay", Integer, Key::LogonFailureDelay),
    global("realm", Text, Key::Realm),
    global("kerberos method", Text, Key::KerberosMethod),
    global("dedicated keytab file", Text, Key::DedicatedKeytabFile)
        .synonyms(&["kerberos keytab file"]),
    global("ntlm auth", Text, Key::NtlmAuth),
    global("username map", Text, Key::UsernameMap),
    ignored_global("socket options", Text),
    ignored_global("max active sessions", Integer),
    ignored_global("deadtime", Integer),
    ignored_global("ipc timeout", Integer),
    ignored_global("root directory", Text),
    ignored_global("kerberos service name", Text),
    ignored_global("template homedir", Text),
    ignored_global("template shell", Text),
    ignored_global("unix extensions", Bool),
    ignored_global("unix password sync", Bool),
    ignored_global("usershare allow guests", Bool),
    ignored_global("usershare max shares", Integer),
    ignored_global("usershare owner only", Bool),
    ignored_global("usershare path", Text),
    ignored_global("wins server", Text),
    ignored_global("wins support", Bool),
    // Known but not implemented yet, per share.
    ignored_share("crossmnt", Bool),
    ignored_share("inherit acls", Bool),
    ignored_share("inherit permissions", Bool),
    ignored_share("preserve case", Bool),
    ignored_share("printable", Bool).synonyms(&["print ok"]),
    ignored_share("printing", Text),
    ignored_share("short preserve case", Bool),
    ignored_share("strict locking", Text),
    ignored_share("wide links", Bool),
];

/// Reduces a parameter name to the form names are compared in: lower case, without white space.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Finds a parameter by any of its names. The boolean is true when the name is an inverse synonym.
pub fn lookup(name: &str) -> Option<(&'static Parameter, bool)> {
    let wanted = normalize(name);
    let same = |n: &&str| normalize(n) == wanted;
    PARAMETERS.iter().find_map(|p| {
        if same(&p.name) || p.synonyms.iter().any(same) {
            Some((p, false))
        } else if p.inverse_synonyms.iter().any(same) {
            Some((p, true))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ignore_case_and_spaces() {
        for n in [
            "Server Min Protocol",
            "server min protocol",
            "servermin protocol",
            "SERVERMINPROTOCOL",
        ] {
            let (p, inv) = lookup(n).unwrap();
            assert_eq!(p.name, "server min protocol");
            assert!(!inv);
        }
        assert!(lookup("no such thing").is_none());
    }

    #[test]
    fn synonyms_and_inverse() {
        assert_eq!(lookup("Browsable").unwrap().0.name, "browseable");
        assert_eq!(lookup("tcp port").unwrap().0.name, "smb ports");
        let (p, inv) = lookup("Write OK").unwrap();
        assert_eq!(p.name, "read only");
        assert!(inv);
    }

    #[test]
    fn table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for p in PARAMETERS {
            assert_eq!(
                p.name,
                p.name.to_lowercase(),
                "canonical names are lower case"
            );
            for n in std::iter::once(&p.name)
                .chain(p.synonyms)
                .chain(p.inverse_synonyms)
            {
                assert!(seen.insert(normalize(n)), "duplicate name {n}");
            }
            if !p.inverse_synonyms.is_empty() {
                assert_eq!(p.ty, Type::Bool, "{} has inverse synonyms", p.name);
            }
        }
    }
}
