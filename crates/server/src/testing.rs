//! Unit-test fixture: a server on a temporary share with one connection, an authenticated session and
//! a tree connect, and opens registered the way CREATE registers them, so the lifecycle and pending
//! rules can be tested without a network.

use crate::breaks::BreakTarget;
use crate::conn::Conn;
use crate::durable::{Durability, Owner};
use crate::files::{Attach, Opener, OplockPolicy};
use crate::open::Open;
use crate::oplock::{NewOpen, OplockLevel};
use crate::pending::{CancelReason, Parked};
use crate::session::{AuthInfo, Session, Tree};
use crate::share_policy::Grant;
use crate::state::ServerState;
use proto::FileId;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Every access right of a file (FILE_ALL_ACCESS).
const ALL_ACCESS: u32 = 0x001f_01ff;
/// FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE.
const SHARE_ALL: u32 = 7;

pub struct Fixture {
    pub conn: Arc<Conn>,
    pub session: Arc<Session>,
    pub tree: Arc<Tree>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let share_dir = dir.path().join("share");
        std::fs::create_dir(&share_dir).unwrap();
        let text = format!("[share]\npath = {}\nread only = no\n", share_dir.display());
        let config = config::Config::parse_str(&text, "fixture").unwrap();
        let settings = crate::setup::settings(&config, dir.path().join("passdb")).unwrap();
        let shares = crate::setup::open_shares(&config.shares).unwrap();
        let server = Arc::new(ServerState::new(settings, shares));
        let addr = "127.0.0.1:445".parse().unwrap();
        let conn = Arc::new(Conn::new(Arc::clone(&server), addr, addr));
        let session = Arc::new(Session::new(server.next_id()));
        let unix = Arc::new(vfs::Identity::lookup_unix(
            rustix::process::getuid().as_raw(),
        ));
        session.lock().auth = Some(Arc::new(AuthInfo {
            user: Some("user".into()),
            domain: "DOMAIN".into(),
            is_guest: false,
            is_anonymous: false,
            unix: Arc::clone(&unix),
        }));
        let share = server.share("share").unwrap();
        let grant = Grant {
            writable: true,
            unix,
        };
        let tree = session.lock().add_tree(share, ALL_ACCESS, false, grant);
        assert!(server
            .sessions
            .insert(conn.id, session.id, Arc::clone(&session), usize::MAX));
        Fixture {
            conn,
            session,
            tree,
            _dir: dir,
        }
    }

    pub fn server(&self) -> &Arc<ServerState> {
        &self.conn.server
    }

    /// Opens (creating it if needed) the file `name` of the share with every access right.
    pub fn open(&self, name: &str) -> Arc<Open> {
        self.open_with(name, OplockLevel::None, None)
    }

    /// Opens `name` with a batch oplock and durability for `timeout`, as a CREATE with DHnQ does.
    pub fn open_durable(&self, name: &str, timeout: std::time::Duration) -> Arc<Open> {
        let auth = self.session.auth().unwrap();
        let durable = Durability {
            create_guid: None,
            timeout,
            owner: Owner::of(&auth),
        };
        self.open_with(name, OplockLevel::Batch, Some(durable))
    }

    fn open_with(&self, name: &str, oplock: OplockLevel, durable: Option<Durability>) -> Arc<Open> {
        let share = self.tree.share.vfs.as_ref().unwrap();
        let path = vfs::SmbPath::parse(name).unwrap();
        let req = vfs::CreateRequest {
            disposition: vfs::Disposition::OpenIf,
            kind: vfs::Kind::File,
            read: true,
            write: true,
            mode: 0o644,
            attributes: 0,
        };
        let (file, _) = share.create(&path, &req).unwrap();
        let stat = file.stat().unwrap();
        let server = self.server();
        let id = server.next_id();
        let file_id = FileId {
            persistent: id,
            volatile: id,
        };
        let opener = Opener {
            open_id: id,
            access: ALL_ACCESS,
            share: SHARE_ALL,
            oplock: NewOpen::new(oplock, ALL_ACCESS, false),
            lease: None,
            target: Some(BreakTarget {
                channel: Arc::downgrade(&self.conn.channel),
                file_id,
                encrypt_for: None,
            }),
            policy: OplockPolicy {
                enabled: true,
                level2: true,
                break_timeout: std::time::Duration::from_secs(35),
            },
            dir: false,
            retry: false,
        };
        let Ok(Attach::Granted { node, .. }) = server.files.attach(
            crate::files::key_of(&stat),
            opener,
            tokio::time::Instant::now(),
        ) else {
            panic!("the fixture's opens never wait");
        };
        let open = Arc::new(Open {
            file_id,
            session_id: self.session.id,
            tree: Arc::clone(&self.tree),
            unix: Arc::clone(&self.tree.unix),
            file: Arc::new(file),
            node,
            path: Mutex::new(path),
            granted_access: ALL_ACCESS,
            is_dir: false,
            delete_on_close: AtomicBool::new(false),
            position: AtomicU64::new(0),
            mode: AtomicU32::new(0),
            next_ea: AtomicU32::new(0),
            search: Mutex::new(None),
            busy: Arc::new(tokio::sync::RwLock::new(())),
            watch: Mutex::new(None),
            parent_lease: None,
            written: AtomicBool::new(false),
            durable,
            lock_sequences: Mutex::new([None; 64]),
            resilient: AtomicBool::new(false),
            replay_eligible: AtomicBool::new(false),
            channel_sequence: std::sync::atomic::AtomicU16::new(0),
            resume_secret: std::sync::OnceLock::new(),
            app_instance: None,
            replay: None,
        });
        assert!(server
            .opens
            .insert(self.conn.id, id, Arc::clone(&open), usize::MAX));
        open
    }

    /// Parks an operation on `open` (as a handler going async does) and starts it; the receiver tells
    /// why it ended.
    pub fn park(&self, open: &Open) -> oneshot::Receiver<CancelReason> {
        let (tx, rx) = oneshot::channel();
        let parked = Parked::new(
            Some(open.file_id.volatile),
            open.path().to_string(),
            |mut c| async move {
                let _ = tx.send(c.reason().await);
                None
            },
        );
        let hdr = proto::Header {
            message_id: self.server().next_id(),
            session_id: self.session.id,
            command: proto::Command::Lock as u16,
            ..Default::default()
        };
        let id = crate::pending::AsyncId(self.server().next_id());
        let work = self
            .conn
            .pending
            .insert(id, &hdr, self.session.id, parked)
            .unwrap();
        tokio::spawn(work);
        rx
    }
}
