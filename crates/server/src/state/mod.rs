//! Server-wide state (MS-SMB2 3.3.1.1 to 3.3.1.6, the server-global parts): settings, shares and the
//! table of open files shared by all connections.

pub mod tables;

use crate::conns::ConnRegistry;
use crate::files::FileTable;
use crate::open::Open;
use crate::session::Session;
use crate::throttle::LogonThrottle;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use tables::Index;

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
    /// The Kerberos acceptor's keys and replay cache, when a keytab is configured.
    pub kerberos: Option<Arc<auth::kerberos::KerberosService>>,
    /// `ntlm auth = disabled`: only Kerberos logs on.
    pub ntlm_disabled: bool,
    /// `username map`, applied to Kerberos principals.
    pub username_map: Arc<crate::username_map::UsernameMap>,
    /// `logon failure delay`: how long a failed logon waits before it is answered.
    pub logon_failure_delay: std::time::Duration,
    /// Failed logons from one address or for one user within `logon_failure_window` before further
    /// attempts are refused (0: never, the default).
    pub max_logon_failures: u32,
    pub logon_failure_window: std::time::Duration,
    /// Connection, session and open limits (DESIGN.md decision 9).
    pub limits: config::Limits,
    /// `kernel change notify`: changes made on disk by other programs reach CHANGE_NOTIFY watchers.
    pub kernel_change_notify: bool,
    /// `oplock break timeout`: how long a break waits for its acknowledgment.
    pub oplock_break_timeout: std::time::Duration,
    /// `durable handle timeout`: the longest a disconnected durable open is kept.
    pub durable_handle_timeout: std::time::Duration,
    /// `server multi channel support`.
    pub multi_channel: bool,
    /// `smb2 leases`: leasing is offered to SMB 2.1 and later clients.
    pub leases: bool,
    /// `smb3 directory leases`: directory leasing is offered to SMB 3.x clients (with `smb2 leases`).
    pub directory_leases: bool,
    /// `fruit:model`: the model string answered to AAPL queries.
    pub model: String,
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
    /// Per-user access and identity rules (`read list`, `force user`, ...).
    pub policy: crate::share_policy::SharePolicy,
    /// Hidden and vetoed names (`hide dot files`, `hide files`, `veto files`).
    pub names: crate::names::NameFilter,
    /// Tree connects to this share alive now (`max connections`); carried over by `reload`.
    pub trees: Arc<AtomicU32>,
    /// `change notify`: CHANGE_NOTIFY is answered on this share.
    pub change_notify: bool,
    /// `oplocks` and `level2 oplocks`.
    pub oplocks: bool,
    pub level2_oplocks: bool,
    /// `durable handles`.
    pub durable_handles: bool,
    /// NT ACLs: `nt acl support`, storage in `security.NTACL`, `inherit owner`.
    pub acls: crate::nt_acl::AclPolicy,
    /// vfs_fruit settings, when `vfs objects` names `fruit`.
    pub fruit: Option<crate::fruit::FruitShare>,
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
            policy: Default::default(),
            names: Default::default(),
            trees: Default::default(),
            change_notify: false,
            oplocks: false,
            level2_oplocks: false,
            durable_handles: false,
            acls: Default::default(),
            fruit: None,
        }
    }

    /// What a tree connect to this share grants the session `auth` (`read only`, read/write lists,
    /// admin users, force user/group, guest only); `guest_uid` is the server's guest account.
    pub fn grant_for(
        &self,
        auth: &crate::session::AuthInfo,
        guest_uid: u32,
    ) -> crate::share_policy::Grant {
        self.policy.grant(
            self.read_only,
            &crate::share_policy::Connecting {
                user: auth.user.as_deref(),
                unix: &auth.unix,
                guest_uid,
            },
        )
    }

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
    /// Replaced as a whole by `reload`; readers take a snapshot.
    shares: RwLock<Arc<Vec<Arc<ShareEntry>>>>,
    pub files: FileTable,
    /// Every session, by SessionId, bound to its connection.
    pub sessions: Index<Session>,
    /// Every open, by its (server-unique) volatile FileId, bound to its connection.
    pub opens: Index<Open>,
    /// Durable opens whose connection is gone, by persistent FileId.
    pub durable: crate::durable::DurableTable,
    /// Durable v2 CREATEs waiting for breaks (replays of them are refused).
    pub pending_creates: crate::durable::PendingCreates,
    /// Sessions ended by a failed re-authentication, for signing the refusals of later requests.
    pub ended_sessions: crate::session::EndedSessions,
    /// The addresses the listeners are bound to (set when serving starts).
    pub listening: std::sync::OnceLock<Vec<std::net::SocketAddr>>,
    /// Change-notify watches and the kernel watcher.
    pub notify: crate::notify::Hub,
    pub throttle: LogonThrottle,
    /// Live connections, for limits, `rsmbd status` and revoking access on reload.
    pub conns: ConnRegistry,
    /// What all connections together may hold.
    pub budgets: crate::budget::Budgets,
    /// Memory in flight over all connections (`server max memory in flight`).
    pub memory: crate::inflight::ServerMemory,
    /// Large frame and READ buffers, reused.
    pub buffers: crate::buffers::BufferPool,
    next_id: AtomicU64,
}

/// The machine's memory in bytes (for the default `server max memory in flight`).
fn physical_memory() -> u64 {
    let info = rustix::system::sysinfo();
    info.totalram.saturating_mul(u64::from(info.mem_unit))
}

/// Adds IPC$ unless the list has it.
fn with_ipc(mut shares: Vec<ShareEntry>) -> Vec<Arc<ShareEntry>> {
    if !shares.iter().any(|s| s.vfs.is_none()) {
        shares.push(ShareEntry::ipc());
    }
    shares.into_iter().map(Arc::new).collect()
}

impl ServerState {
    pub fn new(settings: ServerSettings, shares: Vec<ShareEntry>) -> ServerState {
        let throttle = LogonThrottle::new(crate::throttle::ThrottleSettings {
            delay: settings.logon_failure_delay,
            max_failures: settings.max_logon_failures,
            window: settings.logon_failure_window,
        });
        ServerState {
            throttle,
            conns: ConnRegistry::new(&settings.limits),
            budgets: crate::budget::Budgets::new(&settings.limits),
            memory: crate::inflight::ServerMemory::new(
                settings.limits.memory_in_flight(physical_memory()),
            ),
            buffers: Default::default(),
            settings,
            shares: RwLock::new(Arc::new(with_ipc(shares))),
            files: FileTable::default(),
            sessions: Index::default(),
            opens: Index::default(),
            durable: Default::default(),
            pending_creates: Default::default(),
            ended_sessions: Default::default(),
            listening: Default::default(),
            notify: Default::default(),
            next_id: AtomicU64::new(1),
        }
    }

    /// The shares as they are now (a snapshot; `reload` may replace them at any time).
    pub fn shares(&self) -> Arc<Vec<Arc<ShareEntry>>> {
        Arc::clone(&self.shares.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The share whose directory is `root`.
    pub fn share_at(&self, root: &std::path::Path) -> Option<Arc<ShareEntry>> {
        self.shares()
            .iter()
            .find(|s| s.vfs.as_ref().is_some_and(|v| v.root_path() == root))
            .cloned()
    }

    pub fn share(&self, name: &str) -> Option<Arc<ShareEntry>> {
        self.shares()
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// Replaces the shares; each new share keeps the tree count of the old one of the same name.
    pub fn replace_shares(&self, shares: Vec<ShareEntry>) {
        let old = self.shares();
        let mut new = with_ipc(shares);
        for entry in new.iter_mut() {
            if let (Some(prev), Some(e)) = (
                old.iter()
                    .find(|o| o.name.eq_ignore_ascii_case(&entry.name)),
                Arc::get_mut(entry),
            ) {
                e.trees = Arc::clone(&prev.trees);
            }
        }
        *self.shares.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(new);
    }

    /// A server-unique non-zero identifier (session ids, volatile file ids, async ids).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
