//! Target `connection`: a whole client connection. The input is the byte stream a client sends (4-byte
//! transport headers and SMB2 frames, MS-SMB2 2.1), fed through the server's own reader loop
//! ([`server::conn::serve_stream`]) against a temporary share, exactly as a TCP connection would be.
//! Nothing may panic; the connection must finish (every request read answered or dropped, the writer
//! done) within [`DEADLINE`], otherwise the target panics with a message naming the hang; and every frame
//! the server sends must be well formed ([`crate::responses`]).
//!
//! The first byte chooses how the connection starts:
//! - even: fresh, as after accept: NEGOTIATE and SESSION_SETUP come from the input; anonymous logons
//!   and unknown users (mapped to guest) succeed, so guest sessions reach the share.
//! - odd: already past the handshake: dialect 3.1.1 negotiated, session [`SESSION_ID`] logged on
//!   without signing, tree [`TREE_ID`] connected to the writable share and MessageIds 0 to 511 granted,
//!   so every file command is one request away.
//!
//! The share is a new directory per input holding a file `f` and a directory `d`, so inputs do not
//! see each other's files.

use server::conn::{Conn, Negotiated};
use server::session::{AuthInfo, Session};
use server::share_policy::Grant;
use server::{ServerSettings, ServerState, ShareEntry};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The session the odd-byte mode has logged on.
pub const SESSION_ID: u64 = 0x77;
/// The tree connect of that session to share "data".
pub const TREE_ID: u32 = 1;
/// How long one input may keep the connection busy before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(10);

/// One runtime for every input (building one per input would start a new blocking pool each time).
fn runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .ok()
    })
    .as_ref()
}

pub fn run(data: &[u8]) {
    let (mode, stream) = crate::selector(data);
    let Some(rt) = runtime() else {
        return;
    };
    // In memory where there is a tmpfs: a share per input on disk makes the fuzzer wait for the journal.
    let Ok(dir) = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()) else {
        return;
    };
    let Some(conn) = connection(dir.path(), mode & 1 == 1) else {
        return;
    };
    rt.block_on(async {
        let checker = crate::responses::ResponseChecker::default();
        let served = server::conn::serve_stream(conn, stream, checker);
        if tokio::time::timeout(DEADLINE, served).await.is_err() {
            panic!("the connection did not finish within {DEADLINE:?}");
        }
    });
}

fn uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A server with one writable guest share on a fresh directory under `dir`, and a connection to it.
fn connection(dir: &std::path::Path, logged_on: bool) -> Option<Arc<Conn>> {
    let root = dir.join("share");
    std::fs::create_dir_all(root.join("d")).ok()?;
    std::fs::write(root.join("f"), b"hello world").ok()?;
    let share = ShareEntry {
        name: "data".into(),
        comment: String::new(),
        vfs: Some(vfs::Share::open(&root, vfs::ShareOptions::default()).ok()?),
        read_only: false,
        browseable: true,
        guest_ok: true,
        change_notify: true,
        // Apple's extensions on, so AAPL contexts reach their parser.
        fruit: Some(Default::default()),
        ..ShareEntry::ipc()
    };
    let state = Arc::new(ServerState::new(settings(dir)?, vec![share]));
    let addr = "127.0.0.1:445".parse().ok()?;
    let conn = Arc::new(Conn::new(Arc::clone(&state), addr, addr));
    if logged_on {
        log_on(&state, &conn)?;
    }
    Some(conn)
}

fn settings(dir: &std::path::Path) -> Option<ServerSettings> {
    let limits = config::Limits {
        // Short, so the timer task each connection leaves behind is gone soon.
        handshake_timeout_secs: 1,
        ..config::Limits::default()
    };
    Some(ServerSettings {
        min_dialect: 0x0202,
        max_dialect: 0x0311,
        server_guid: [1; 16],
        start_time: 0,
        netbios_name: "FUZZ".into(),
        server_string: "rsmbd fuzz".into(),
        workgroup: "WORKGROUP".into(),
        dns_name: "fuzz".into(),
        max_credits: 512,
        max_read: 1 << 20,
        max_write: 1 << 20,
        max_trans: 1 << 16,
        max_frame_len: 2 << 20,
        require_signing: false,
        encrypt: config::SmbEncrypt::IfRequired,
        ciphers: vec![crypto::Cipher::Aes128Gcm, crypto::Cipher::Aes128Ccm],
        signing_algorithms: vec![crypto::SigningAlgorithm::AesCmac],
        allow_anonymous: true,
        map_unknown_to_guest: true,
        guest_uid: uid(),
        passdb_path: dir.join("smbpasswd"),
        domain_sid: rpc::Sid::parse("S-1-5-21-1-2-3")?,
        // Off: a failed logon is answered after a growing delay (an async sleep), which would leave the
        // fuzzer idle; the throttle has its own unit and end-to-end tests.
        kerberos: None,
        ntlm_disabled: false,
        username_map: Default::default(),
        logon_failure_delay: std::time::Duration::ZERO,
        max_logon_failures: 0,
        logon_failure_window: Duration::from_secs(60),
        limits,
        // Off: the kernel watcher is a task and a descriptor per input; SMB-made changes still notify.
        kernel_change_notify: false,
        // Short: a break the fuzzer never acknowledges holds a CREATE at most this long.
        oplock_break_timeout: Duration::from_millis(100),
        durable_handle_timeout: Duration::from_millis(100),
        multi_channel: true,
        leases: true,
        directory_leases: true,
        model: "MacSamba".into(),
    })
}

/// Dialect 3.1.1, session [`SESSION_ID`] and tree [`TREE_ID`] on share "data", as after a logon.
fn log_on(state: &Arc<ServerState>, conn: &Arc<Conn>) -> Option<()> {
    conn.set_negotiated(Negotiated {
        dialect: 0x0311,
        client_guid: [2; 16],
        client_security_mode: 1,
        client_capabilities: 0,
        client_dialects: vec![0x0311],
        server_security_mode: 1,
        server_capabilities: 0,
        cipher: None,
        signing_algorithm: crypto::SigningAlgorithm::AesCmac,
    });
    conn.set_authenticated();
    // The credits a client holds after its logon: MessageIds 0 to max credits - 1.
    conn.credits().grant(u16::MAX);
    let unix = Arc::new(vfs::Identity::lookup_unix(uid()));
    let session = Arc::new(Session::new(SESSION_ID));
    {
        let mut inner = session.lock();
        inner.auth = Some(Arc::new(AuthInfo {
            user: Some("fuzz".into()),
            domain: String::new(),
            is_guest: false,
            is_anonymous: false,
            unix: Arc::clone(&unix),
        }));
        let grant = Grant {
            writable: true,
            unix,
        };
        inner.add_tree(state.share("data")?, 0x001F_01FF, false, grant);
    }
    state
        .sessions
        .insert(conn.id, SESSION_ID, session, usize::MAX);
    Some(())
}
