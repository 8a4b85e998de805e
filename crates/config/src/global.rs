//! The `[global]` settings rsmbd acts on, with their defaults and how each parameter value is applied.

use std::path::PathBuf;

use crate::protocol::{Bound, ProtocolLevel};
use crate::registry::Key;
use crate::value::Value;

/// What to do when a client logs on as an unknown user (`map to guest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapToGuest {
    /// Reject the logon.
    Never,
    /// Log an unknown user on as the guest account.
    BadUser,
}

/// `server signing` (Samba and ksmbd spellings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSigning {
    /// Sign when the client asks (`auto`, `default`, `if_required`, `desired`).
    Auto,
    /// Every session must sign (`mandatory`, `required`, `yes`).
    Mandatory,
    /// Signing is not required (`disabled`, `no`); SMB2 clients may still sign.
    Disabled,
}

/// The SMB 3.1.1 ciphers, by their Samba names, in rsmbd's default order of preference.
pub const ENCRYPTION_ALGORITHMS: &[&str] =
    &["aes-128-gcm", "aes-256-gcm", "aes-128-ccm", "aes-256-ccm"];
/// The SMB 3.1.1 signing algorithms, by their Samba names, in rsmbd's default order of preference.
pub const SIGNING_ALGORITHMS: &[&str] = &["aes-128-gmac", "aes-128-cmac", "hmac-sha-256"];

/// A non-empty list of known algorithm names, lower-cased, without duplicates.
fn algorithm_list(items: &[String], known: &[&str]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let name = item.to_ascii_lowercase();
        if !known.contains(&name.as_str()) {
            return Err(format!(
                "unknown algorithm '{item}' (known: {})",
                known.join(", ")
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() {
        return Err("the list of algorithms is empty".into());
    }
    Ok(out)
}

fn parse_server_signing(text: &str) -> Result<ServerSigning, String> {
    match crate::registry::normalize(text)
        .replace(['_', '-'], "")
        .as_str()
    {
        "auto" | "default" | "ifrequired" | "desired" | "enabled" => Ok(ServerSigning::Auto),
        "mandatory" | "required" | "yes" | "true" | "on" => Ok(ServerSigning::Mandatory),
        "disabled" | "no" | "false" | "off" => Ok(ServerSigning::Disabled),
        _ => Err(format!(
            "invalid server signing '{text}' (auto, mandatory or disabled)"
        )),
    }
}

/// Server-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// TCP ports to listen on (`smb ports`, ksmbd's `tcp port`); default 445.
    pub smb_ports: Vec<u16>,
    /// Interfaces or addresses to listen on (`interfaces`).
    pub interfaces: Vec<String>,
    /// Listen only on `interfaces` (`bind interfaces only`).
    pub bind_interfaces_only: bool,
    /// Report changes made on disk by other programs to CHANGE_NOTIFY watchers, through inotify
    /// (`kernel change notify`, default yes).
    pub kernel_change_notify: bool,
    /// Oldest dialect accepted; default SMB2_10.
    pub server_min_protocol: ProtocolLevel,
    /// Newest dialect offered; default SMB3_11.
    pub server_max_protocol: ProtocolLevel,
    /// NetBIOS name, upper case; default the host name's first label, at most 15 characters.
    pub netbios_name: String,
    /// Workgroup, upper case; default WORKGROUP.
    pub workgroup: String,
    /// Server description, `%v` expanded to the rsmbd version.
    pub server_string: String,
    /// `server signing`; default auto.
    pub server_signing: ServerSigning,
    /// `server smb encrypt` / `smb encrypt` as set in `[global]`: the server-wide policy (it is also the
    /// default of every share).
    pub smb_encrypt: crate::SmbEncrypt,
    /// `server smb3 encryption algorithms`, in order of preference: "aes-128-gcm", "aes-128-ccm",
    /// "aes-256-gcm", "aes-256-ccm" (lower case, validated).
    pub encryption_algorithms: Vec<String>,
    /// `server smb3 signing algorithms`, in order of preference: "aes-128-gmac", "aes-128-cmac",
    /// "hmac-sha-256".
    pub signing_algorithms: Vec<String>,
    /// Kerberos and NTLM logon settings.
    pub kerberos: crate::kerberos::KerberosConfig,
    /// mDNS-SD and WS-Discovery (`multicast dns register`, `wsd support`, `fruit:model`).
    pub discovery: crate::DiscoveryConfig,
    /// `logon failure delay` (rsmbd), milliseconds a failed logon waits before it is answered; 0 turns
    /// it off. Default 2000, as Windows Server 2025.
    pub logon_failure_delay_ms: u64,
    /// `max logon failures` (rsmbd): failed logons from one address or for one user within the window
    /// before further attempts are refused (an opt-in lockout); 0, the default, turns this off.
    pub max_logon_failures: u32,
    /// `restrict anonymous`: 0 allows anonymous (null) logons, which can then reach IPC$ and `guest ok`
    /// shares; 1 and 2 refuse them. Default 2: anonymous logons are off unless the administrator says so.
    pub restrict_anonymous: u8,
    /// `oplock break timeout` (rsmbd), seconds an oplock or lease break waits for its acknowledgment
    /// before the server takes the caching away; default 35, MS-SMB2's.
    pub oplock_break_timeout_secs: u64,
    /// rsmbd's own `durable handle timeout`: the longest a durable open is kept for its client after
    /// the connection is lost, in seconds (default 300; a client asks for 60 unless it says otherwise).
    pub durable_handle_timeout_secs: u64,
    /// `server multi channel support` (Samba's name, default yes): SMB 3 sessions may bind further
    /// connections.
    pub multi_channel: bool,
    /// `smb2 leases`: offer leasing (SMB2_GLOBAL_CAP_LEASING) to SMB 2.1 and later clients; default yes.
    pub smb2_leases: bool,
    /// `smb3 directory leases` (Samba 4.22's name): also offer leases on directories to SMB 3.x
    /// clients (SMB2_GLOBAL_CAP_DIRECTORY_LEASING); default yes, as in Samba 4.22.
    pub smb3_directory_leases: bool,
    /// `logon failure window` (rsmbd), seconds; default 60.
    pub logon_failure_window_secs: u64,
    /// File of the smbpasswd password database (`passdb backend = smbpasswd:PATH`); `None` for the default.
    pub passdb_path: Option<PathBuf>,
    /// Guest mapping for unknown users.
    pub map_to_guest: MapToGuest,
    /// Unix account guests act as; default nobody.
    pub guest_account: String,
    /// `control socket` (rsmbd): the Unix socket `rsmbd status` and `rsmbd reload` talk to; `None` for
    /// `rsmbd.sock` beside the password database.
    pub control_socket: Option<PathBuf>,
    /// Resource limits (`handshake timeout`, `max tcp connections`, `max open files`, ...).
    pub limits: crate::Limits,
    /// Most credits granted to a connection (`smb2 max credits`); default 8192.
    pub smb2_max_credits: u16,
    /// Largest READ (`smb2 max read`); default 8 MiB.
    pub smb2_max_read: u32,
    /// Largest WRITE (`smb2 max write`); default 8 MiB.
    pub smb2_max_write: u32,
    /// Largest IOCTL/QUERY buffer (`smb2 max trans`); default 8 MiB.
    pub smb2_max_trans: u32,
}

const MIB: u32 = 1 << 20;
/// Bounds of `smb2 max read/write/trans`: MS-SMB2 requires at least 64 KiB; 8 MiB is the largest rsmbd serves.
const IO_SIZE_RANGE: std::ops::RangeInclusive<u64> = 65536..=8 << 20;

impl Default for Global {
    fn default() -> Global {
        Global {
            smb_ports: vec![445],
            interfaces: Vec::new(),
            bind_interfaces_only: false,
            kernel_change_notify: true,
            server_min_protocol: ProtocolLevel::Smb2_10,
            server_max_protocol: ProtocolLevel::Smb3_11,
            netbios_name: default_netbios_name(),
            workgroup: "WORKGROUP".into(),
            server_string: expand_server_string("rsmbd %v"),
            server_signing: ServerSigning::Auto,
            smb_encrypt: crate::SmbEncrypt::IfRequired,
            encryption_algorithms: ENCRYPTION_ALGORITHMS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            signing_algorithms: SIGNING_ALGORITHMS.iter().map(|s| s.to_string()).collect(),
            max_logon_failures: 0,
            logon_failure_delay_ms: 2000,
            kerberos: Default::default(),
            discovery: Default::default(),
            restrict_anonymous: 2,
            logon_failure_window_secs: 60,
            oplock_break_timeout_secs: 35,
            durable_handle_timeout_secs: 300,
            multi_channel: true,
            smb2_leases: true,
            smb3_directory_leases: true,
            passdb_path: None,
            map_to_guest: MapToGuest::Never,
            guest_account: "nobody".into(),
            control_socket: None,
            limits: crate::Limits::default(),
            smb2_max_credits: 8192,
            smb2_max_read: 8 * MIB,
            smb2_max_write: 8 * MIB,
            smb2_max_trans: 8 * MIB,
        }
    }
}

impl Global {
    /// Largest SMB2 message accepted, in bytes (`max pdu size`, or derived from the I/O sizes).
    pub fn max_frame_len(&self) -> usize {
        let largest = self
            .smb2_max_read
            .max(self.smb2_max_write)
            .max(self.smb2_max_trans);
        self.limits.pdu_limit(largest)
    }

    /// Applies one parameter. `Ok(Some(w))` carries a warning; `Err` the reason the value is rejected.
    pub(crate) fn apply(&mut self, key: Key, value: Value) -> Result<Option<String>, String> {
        if self.limits.apply(key, &value)?
            || self.kerberos.apply(key, &value)?
            || self.discovery.apply(key, &value)?
        {
            return Ok(None);
        }
        match (key, value) {
            (Key::SmbPorts, Value::List(l)) => self.smb_ports = parse_ports(&l)?,
            (Key::Interfaces, Value::List(l)) => self.interfaces = l,
            (Key::BindInterfacesOnly, Value::Bool(b)) => self.bind_interfaces_only = b,
            (Key::KernelChangeNotify, Value::Bool(b)) => self.kernel_change_notify = b,
            (Key::ServerMinProtocol, Value::Str(s)) => {
                let (level, warning) = ProtocolLevel::parse(&s, Bound::Min)?;
                self.server_min_protocol = level;
                return Ok(warning);
            }
            (Key::ServerMaxProtocol, Value::Str(s)) => {
                self.server_max_protocol = ProtocolLevel::parse(&s, Bound::Max)?.0;
            }
            (Key::NetbiosName, Value::Str(s)) => self.netbios_name = netbios_name(&s)?,
            (Key::Workgroup, Value::Str(s)) => self.workgroup = s.to_uppercase(),
            (Key::ServerString, Value::Str(s)) => self.server_string = expand_server_string(&s),
            (Key::PassdbBackend, Value::Str(s)) => self.passdb_path = parse_passdb(&s)?,
            (Key::ServerSigning, Value::Str(s)) => self.server_signing = parse_server_signing(&s)?,
            (Key::RestrictAnonymous, Value::Integer(n)) => {
                self.restrict_anonymous = u8::try_from(n)
                    .ok()
                    .filter(|v| *v <= 2)
                    .ok_or_else(|| format!("restrict anonymous must be 0, 1 or 2, not {n}"))?
            }
            (Key::MaxLogonFailures, Value::Integer(n)) => {
                self.max_logon_failures =
                    u32::try_from(n).map_err(|_| format!("{n} is too large"))?
            }
            (Key::LogonFailureDelay, Value::Integer(n)) => {
                if n > 60_000 {
                    return Err(format!(
                        "logon failure delay must be 0..60000 milliseconds, not {n}"
                    ));
                }
                self.logon_failure_delay_ms = n;
            }
            (Key::LogonFailureWindow, Value::Integer(n)) => {
                if n == 0 || n > 86_400 {
                    return Err(format!(
                        "logon failure window must be 1..86400 seconds, not {n}"
                    ));
                }
                self.logon_failure_window_secs = n;
            }
            (Key::OplockBreakTimeout, Value::Integer(n)) => {
                if n == 0 || n > 3_600 {
                    return Err(format!(
                        "oplock break timeout must be 1..3600 seconds, not {n}"
                    ));
                }
                self.oplock_break_timeout_secs = n;
            }
            (Key::DurableHandleTimeout, Value::Integer(n)) => {
                if n == 0 || n > 86_400 {
                    return Err(format!(
                        "durable handle timeout must be 1..86400 seconds, not {n}"
                    ));
                }
                self.durable_handle_timeout_secs = n;
            }
            (Key::MultiChannel, Value::Bool(b)) => self.multi_channel = b,
            (Key::Smb2Leases, Value::Bool(b)) => self.smb2_leases = b,
            (Key::Smb3DirectoryLeases, Value::Bool(b)) => self.smb3_directory_leases = b,
            (Key::EncryptionAlgorithms, Value::List(l)) => {
                self.encryption_algorithms = algorithm_list(&l, ENCRYPTION_ALGORITHMS)?
            }
            (Key::SigningAlgorithms, Value::List(l)) => {
                self.signing_algorithms = algorithm_list(&l, SIGNING_ALGORITHMS)?
            }
            (Key::MapToGuest, Value::Str(s)) => {
                let (mode, warning) = parse_map_to_guest(&s)?;
                self.map_to_guest = mode;
                return Ok(warning);
            }
            (Key::GuestAccount, Value::Str(s)) => self.guest_account = s,
            (Key::ControlSocket, Value::Str(s)) => self.control_socket = Some(PathBuf::from(s)),
            (Key::Smb2MaxCredits, Value::Integer(n)) => {
                self.smb2_max_credits = u16::try_from(n)
                    .ok()
                    .filter(|&c| c > 0)
                    .ok_or_else(|| format!("credits must be 1..65535, not {n}"))?;
            }
            (Key::Smb2MaxRead, Value::Integer(n)) => self.smb2_max_read = io_size(n)?,
            (Key::Smb2MaxWrite, Value::Integer(n)) => self.smb2_max_write = io_size(n)?,
            (Key::Smb2MaxTrans, Value::Integer(n)) => self.smb2_max_trans = io_size(n)?,
            (key, _) => return Err(format!("internal error: {key:?} is not a global setting")),
        }
        Ok(None)
    }
}

/// The host name's first label, upper case, cut to 15 characters; RSMBD if the host name is unknown.
fn default_netbios_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let label: String = host
        .trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .take(15)
        .collect();
    if label.is_empty() {
        "RSMBD".into()
    } else {
        label.to_uppercase()
    }
}

fn netbios_name(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().count() > 15 {
        return Err(format!("netbios name '{text}' must be 1 to 15 characters"));
    }
    Ok(text.to_uppercase())
}

/// Expands `%v` to the rsmbd version; other `%` substitutions are left as written for now.
fn expand_server_string(text: &str) -> String {
    text.replace("%v", env!("CARGO_PKG_VERSION"))
}

fn parse_ports(items: &[String]) -> Result<Vec<u16>, String> {
    if items.is_empty() {
        return Err("no port given".into());
    }
    items
        .iter()
        .map(|p| {
            p.parse::<u16>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("invalid port '{p}' (must be 1..65535)"))
        })
        .collect()
}

/// `smbpasswd` or `smbpasswd:PATH`; every other backend is refused.
fn parse_passdb(text: &str) -> Result<Option<PathBuf>, String> {
    let (backend, location) = match text.split_once(':') {
        Some((b, l)) => (b.trim(), Some(l.trim())),
        None => (text, None),
    };
    if !backend.eq_ignore_ascii_case("smbpasswd") {
        return Err(format!(
            "passdb backend '{backend}' is not supported; only smbpasswd is"
        ));
    }
    Ok(location.filter(|l| !l.is_empty()).map(PathBuf::from))
}

fn parse_map_to_guest(text: &str) -> Result<(MapToGuest, Option<String>), String> {
    match crate::registry::normalize(text).as_str() {
        "never" => Ok((MapToGuest::Never, None)),
        "baduser" => Ok((MapToGuest::BadUser, None)),
        "badpassword" | "baduid" => Ok((
            MapToGuest::Never,
            Some(format!(
                "map to guest = {text} is not supported; treated as Never"
            )),
        )),
        _ => Err(format!("invalid map to guest '{text}'")),
    }
}

fn io_size(n: u64) -> Result<u32, String> {
    if IO_SIZE_RANGE.contains(&n) {
        u32::try_from(n).map_err(|_| format!("size {n} too large"))
    } else {
        Err(format!("size {n} out of range (64K..8M)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Str(text.into())
    }

    #[test]
    fn defaults() {
        let g = Global::default();
        assert_eq!(g.smb_ports, [445]);
        assert_eq!(g.server_min_protocol, ProtocolLevel::Smb2_10);
        assert_eq!(g.server_max_protocol, ProtocolLevel::Smb3_11);
        assert_eq!(
            g.server_string,
            format!("rsmbd {}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(g.max_frame_len(), 8 * 1024 * 1024 + 64 * 1024);
        assert_eq!(g.smb2_max_read, 8 * 1024 * 1024);
        assert!(!g.netbios_name.is_empty() && g.netbios_name.len() <= 15);
        assert_eq!(g.netbios_name, g.netbios_name.to_uppercase());
    }

    #[test]
    fn passdb_backend() {
        assert_eq!(
            parse_passdb("smbpasswd:/etc/x"),
            Ok(Some(PathBuf::from("/etc/x")))
        );
        assert_eq!(parse_passdb("smbpasswd"), Ok(None));
        let e = parse_passdb("tdbsam").unwrap_err();
        assert!(e.contains("only smbpasswd"), "{e}");
        assert!(parse_passdb("ldapsam:ldap://x").is_err());
    }

    #[test]
    fn map_to_guest() {
        assert_eq!(
            parse_map_to_guest("Bad User"),
            Ok((MapToGuest::BadUser, None))
        );
        assert_eq!(parse_map_to_guest("never"), Ok((MapToGuest::Never, None)));
        let (m, w) = parse_map_to_guest("Bad Password").unwrap();
        assert_eq!(m, MapToGuest::Never);
        assert!(w.is_some());
        assert!(parse_map_to_guest("sometimes").is_err());
    }

    #[test]
    fn values_applied() {
        let mut g = Global::default();
        g.apply(
            Key::SmbPorts,
            Value::List(vec!["445".into(), "4445".into()]),
        )
        .unwrap();
        assert_eq!(g.smb_ports, [445, 4445]);
        assert!(g
            .apply(Key::SmbPorts, Value::List(vec!["0".into()]))
            .is_err());
        assert!(g
            .apply(Key::SmbPorts, Value::List(vec!["65536".into()]))
            .is_err());
        g.apply(Key::Smb2MaxRead, Value::Integer(1 << 20)).unwrap();
        assert_eq!(g.smb2_max_read, 1 << 20);
        assert!(g
            .apply(Key::Smb2MaxWrite, Value::Integer(16 << 20))
            .is_err());
        assert!(g.apply(Key::Smb2MaxCredits, Value::Integer(0)).is_err());
        g.apply(Key::ServerString, s("Samba %v on %h")).unwrap();
        assert_eq!(
            g.server_string,
            format!("Samba {} on %h", env!("CARGO_PKG_VERSION"))
        );
        g.apply(Key::NetbiosName, s("fileserver")).unwrap();
        assert_eq!(g.netbios_name, "FILESERVER");
        assert!(g
            .apply(Key::NetbiosName, s("a-name-longer-than-15"))
            .is_err());
        assert!(g
            .apply(Key::Path, s("/x"))
            .unwrap_err()
            .starts_with("internal"));
    }
}
