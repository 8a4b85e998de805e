//! Server-wide state (MS-SMB2 3.3.1.1 to 3.3.1.6, the server-global parts): settings, shares and the
//! table of open files shared by all connections.

use crate::files::FileTable;
use crate::throttle::LogonThrottle;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Settings fixed for the life of the server, derived from the configuration.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub min_dialect: u16,
    pub max_dialect: u16,
    pub server_guid: [u8; 16],
    /// FILETIME of server start.
    pub start_time: u64,
    pub netbios_name: String,
    /// `server string`, shown as the server's comment.
    pub server_string: String,
    pub workgroup: String,
    pub dns_name: String,
    pub max_credits: u16,
    pub max_read: u32,
    pub max_write: u32,
    pub max_trans: u32,
    pub max_frame_len: usize,
    pub require_signing: bool,
    /// Server-wide `smb encrypt` (Server.EncryptData / RejectUnencryptedAccess).
    pub encrypt: config::SmbEncrypt,
    /// 3.1.1 ciphers in order of preference (`server smb3 encryption algorithms`).
    pub ciphers: Vec<crypto::Cipher>,
    /// 3.1.1 signing algorithms in order of preference (`server smb3 signing algorithms`).
    pub signing_algorithms: Vec<crypto::SigningAlgorithm>,
    pub allow_anonymous: bool,
    pub map_unknown_to_guest: bool,
    /// Unix uid that guest and anonymous sessions run as.
    pub guest_uid: u32,
    pub passdb_path: PathBuf,
    /// The machine domain SID (S-1-5-21-x-y-z), stored beside the password database so SIDs stay the
    /// same across restarts.
    pub domain_sid: rpc::Sid,
    /// Failed logons from one address or for one user within `logon_failure_window` before further
    /// attempts are refused (0: no limit).
    pub max_logon_failures: u32,
    pub logon_failure_window: std::time::Duration,
}

/// One configured share. IPC$ has no `vfs`.
pub struct ShareEntry {
    pub name: String,
    pub comment: String,
    pub vfs: Option<vfs::Share>,
    pub read_only: bool,
    pub browseable: bool,
    pub guest_ok: bool,
    /// Empty means everyone may connect.
    pub valid_users: Vec<String>,
    /// Refused even when `valid_users` names them.
    pub invalid_users: Vec<String>,
    /// `hosts allow` / `hosts deny`.
    pub hosts: crate::access::HostAccess,
    /// `smb encrypt` for this share.
    pub encrypt: config::SmbEncrypt,
}

impl ShareEntry {
    pub fn ipc() -> ShareEntry {
        ShareEntry {
            name: "IPC$".into(),
            comment: "IPC Service".into(),
            vfs: None,
            read_only: true,
            browseable: false,
            guest_ok: true,
            valid_users: Vec::new(),
            invalid_users: Vec::new(),
            hosts: Default::default(),
            encrypt: config::SmbEncrypt::IfRequired,
        }
    }

    /// Whether `user` (None for guest/anonymous) may connect, by `valid users` and `guest ok`.
    /// Whether `user` (None for guest/anonymous; `gids` its Unix groups) may connect, by `valid users`,
    /// `invalid users` (which win) and `guest ok`.
    pub fn allows(&self, user: Option<&str>, gids: &[u32]) -> bool {
        let listed =
            |list: &[String], u: &str| crate::access::in_user_list(list, u, gids, vfs::group_id);
        match user {
            None => self.guest_ok || self.vfs.is_none(),
            Some(u) => {
                !listed(&self.invalid_users, u)
                    && (self.valid_users.is_empty() || listed(&self.valid_users, u))
            }
        }
    }
}

pub struct ServerState {
    pub settings: ServerSettings,
    pub shares: Vec<Arc<ShareEntry>>,
    pub files: FileTable,
    pub throttle: LogonThrottle,
    next_id: AtomicU64,
}

impl ServerState {
    pub fn new(settings: ServerSettings, mut shares: Vec<ShareEntry>) -> ServerState {
        if !shares.iter().any(|s| s.vfs.is_none()) {
            shares.push(ShareEntry::ipc());
        }
        let throttle =
            LogonThrottle::new(settings.max_logon_failures, settings.logon_failure_window);
        ServerState {
            throttle,
            settings,
            shares: shares.into_iter().map(Arc::new).collect(),
            files: FileTable::default(),
            next_id: AtomicU64::new(1),
        }
    }

    pub fn share(&self, name: &str) -> Option<Arc<ShareEntry>> {
        self.shares
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// A server-unique non-zero identifier (session ids, volatile file ids, async ids).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
