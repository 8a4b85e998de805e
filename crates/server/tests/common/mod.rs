//! A server state, connection, authenticated session and tree connect built directly (no network), for
//! tests that feed frames through the request path.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code
)]

use bytes::{Bytes, BytesMut};
use proto::messages::create::CreateRequest;
use proto::messages::Body;
use proto::{Command, FileId, Header, HEADER_LEN};
use rsmbd_server::conn::{Conn, Negotiated};
use rsmbd_server::dispatch::{process_frame, Outcome};
use rsmbd_server::session::{AuthInfo, Session};
use rsmbd_server::share_policy::Grant;
use rsmbd_server::signatures::Detached;
use rsmbd_server::{ServerSettings, ServerState, ShareEntry};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub const SESSION: u64 = 77;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub conn: Arc<Conn>,
    pub session: Arc<Session>,
    pub tree_id: u32,
    pub next_mid: AtomicU64,
}

fn settings(dir: &std::path::Path) -> ServerSettings {
    ServerSettings {
        min_dialect: 0x0210,
        max_dialect: 0x0311,
        server_guid: [1; 16],
        start_time: 0,
        netbios_name: "TEST".into(),
        server_string: "rsmbd test".into(),
        workgroup: "WORKGROUP".into(),
        dns_name: "test".into(),
        max_credits: 8192,
        max_read: 1 << 20,
        max_write: 1 << 20,
        max_trans: 1 << 20,
        max_frame_len: 2 << 20,
        require_signing: false,
        encrypt: config::SmbEncrypt::IfRequired,
        ciphers: vec![crypto::Cipher::Aes128Gcm],
        signing_algorithms: vec![crypto::SigningAlgorithm::AesCmac],
        allow_anonymous: false,
        map_unknown_to_guest: false,
        guest_uid: 65534,
        passdb_path: dir.join("smbpasswd"),
        domain_sid: rpc::Sid::parse("S-1-5-21-1-2-3").unwrap(),
        kerberos: None,
        ntlm_disabled: false,
        username_map: Default::default(),
        logon_failure_delay: std::time::Duration::ZERO,
        max_logon_failures: 5,
        logon_failure_window: std::time::Duration::from_secs(60),
        limits: config::Limits::default(),
        kernel_change_notify: true,
        oplock_break_timeout: std::time::Duration::from_secs(35),
        durable_handle_timeout: std::time::Duration::from_secs(300),
        multi_channel: true,
        leases: true,
        directory_leases: true,
        model: "MacSamba".into(),
    }
}

/// What a tree connect grants the test user on the writable test share.
pub fn full_grant() -> Grant {
    let uid = rustix::process::geteuid().as_raw();
    Grant {
        writable: true,
        unix: Arc::new(vfs::Identity::lookup_unix(uid)),
    }
}

pub fn fixture() -> Fixture {
    fixture_with_dialect(0x0311)
}

/// A fixture whose connection negotiated `dialect`; the client sent GUID [2; 16], SecurityMode 1,
/// Capabilities 0 and that dialect alone.
pub fn fixture_with_dialect(dialect: u16) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("share");
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::write(root.join("f"), b"hello world").unwrap();
    let share = ShareEntry {
        name: "data".into(),
        comment: String::new(),
        vfs: Some(vfs::Share::open(&root, vfs::ShareOptions::default()).unwrap()),
        read_only: false,
        browseable: true,
        guest_ok: false,
        change_notify: true,
        ..ShareEntry::ipc()
    };
    let state = Arc::new(ServerState::new(settings(dir.path()), vec![share]));
    let addr = "127.0.0.1:445".parse().unwrap();
    let conn = Arc::new(Conn::new(Arc::clone(&state), addr, addr));
    conn.set_negotiated(Negotiated {
        dialect,
        client_guid: [2; 16],
        client_security_mode: 1,
        client_capabilities: 0,
        client_dialects: vec![dialect],
        server_security_mode: 1,
        server_capabilities: 0,
        cipher: None,
        signing_algorithm: crypto::SigningAlgorithm::AesCmac,
    });
    let session = Arc::new(Session::new(SESSION));
    let uid = rustix::process::geteuid().as_raw();
    let tree_id = {
        let mut inner = session.lock();
        inner.auth = Some(Arc::new(AuthInfo {
            user: Some("t".into()),
            domain: String::new(),
            is_guest: false,
            is_anonymous: false,
            unix: Arc::new(vfs::Identity::lookup_unix(uid)),
        }));
        inner
            .add_tree(
                state.share("data").unwrap(),
                0x001F_01FF,
                false,
                full_grant(),
            )
            .id
    };
    conn.server
        .sessions
        .insert(conn.id, SESSION, Arc::clone(&session), usize::MAX);
    // Message id 0 is the only one granted at first; each request asks for more credits.
    Fixture {
        dir,
        conn,
        session,
        tree_id,
        next_mid: AtomicU64::new(0),
    }
}

impl Fixture {
    pub fn frame(&self, cmd: Command, body: &[u8]) -> Bytes {
        self.frame_in(cmd, body, SESSION)
    }

    pub fn frame_in(&self, cmd: Command, body: &[u8], session_id: u64) -> Bytes {
        let mut w = BytesMut::new();
        Header {
            credit_charge: 1,
            command: cmd as u16,
            credits: 64,
            message_id: self.next_mid.fetch_add(1, Ordering::Relaxed),
            tree_id: self.tree_id,
            session_id,
            ..Header::default()
        }
        .encode(&mut w);
        w.extend_from_slice(body);
        w.freeze()
    }

    pub async fn send(&self, cmd: Command, body: &[u8]) -> Outcome {
        process_frame(
            &self.conn,
            &self.frame(cmd, body),
            None,
            None,
            &Detached::default(),
        )
        .await
    }

    /// Open `f` for everything and return its FileId.
    pub async fn open_file(&self) -> FileId {
        let name: Vec<u8> = "f".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let req = CreateRequest {
            impersonation_level: 2,
            desired_access: 0x001F_01FF,
            share_access: 7,
            create_disposition: 1,
            name: &name,
            ..Default::default()
        };
        let mut w = BytesMut::new();
        Header::default().encode(&mut w);
        req.encode(&mut w, 0);
        let Outcome::Reply(resp) = self.send(Command::Create, &w[HEADER_LEN..]).await else {
            panic!("create failed")
        };
        let h = Header::decode(&resp).unwrap();
        assert_eq!(h.status, proto::NtStatus::SUCCESS);
        let mut r = proto::Reader::new_at(&resp, HEADER_LEN + 64).unwrap();
        FileId::decode(&mut r).unwrap()
    }
}
