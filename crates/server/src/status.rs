//! `rsmbd status` (like Samba's smbstatus): the sessions, tree connects and open files of every live
//! connection, as plain text tables.

use crate::conn::Conn;
use crate::open::Open;
use crate::session::Session;
use crate::state::ServerState;
use std::fmt::Write;
use std::sync::Arc;

fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "SMB2_02".into(),
        0x0210 => "SMB2_10".into(),
        0x0300 => "SMB3_00".into(),
        0x0302 => "SMB3_02".into(),
        0x0311 => "SMB3_11".into(),
        other => format!("0x{other:04x}"),
    }
}

fn share_mode(bits: u32) -> String {
    let flag = |b: u32, c: char| if bits & b != 0 { c } else { '-' };
    [flag(1, 'R'), flag(2, 'W'), flag(4, 'D')].iter().collect()
}

/// One line per session: id, user, client address, dialect, signing, encryption.
fn session_line(out: &mut String, conn: &Conn, dialect: &str, s: &Session) {
    let inner = s.lock();
    let user = match &inner.auth {
        Some(a) if a.is_anonymous => "(anonymous)".to_owned(),
        Some(a) if a.is_guest => "(guest)".to_owned(),
        Some(a) => a.user.clone().unwrap_or_default(),
        None => "(authenticating)".to_owned(),
    };
    let signing = match (&inner.signing, inner.signing_required) {
        (Some(_), true) => "required",
        (Some(_), false) => "yes",
        (None, _) => "no",
    };
    let encryption = match (&inner.encryption, inner.encrypt_required) {
        (Some(_), true) => "required",
        (Some(_), false) => "available",
        (None, _) => "no",
    };
    let _ = writeln!(
        out,
        "{:<18x} {:<16} {:<40} {:<8} {:<9} {}",
        s.id, user, conn.peer, dialect, signing, encryption
    );
}

fn open_line(out: &mut String, o: &Open) {
    let id = o.file_id.volatile;
    let locks = o.node.locks().iter().filter(|l| l.open_id == id).count();
    let mode = o.node.share_access(id).map_or("?".into(), share_mode);
    let _ = writeln!(
        out,
        "{:<18x} {:<16} 0x{:08x} {:<5} {:<5} {:<10} {}",
        o.session_id,
        o.tree.share.name,
        o.granted_access,
        mode,
        locks,
        o.node.caching(id),
        o.path().as_unix()
    );
}

/// The whole report.
pub fn render(state: &ServerState) -> String {
    let conns: Vec<Arc<Conn>> = state.conns.live();
    let mut sessions = String::new();
    let mut trees = String::new();
    let mut opens = String::new();
    let mut pending = String::new();
    for conn in &conns {
        for p in conn.pending.list() {
            let _ = writeln!(
                pending,
                "{:<40} {:<14} {:>7}s {}",
                conn.peer,
                command_name(p.command),
                p.since.elapsed().as_secs(),
                p.file
            );
        }
        let dialect = conn
            .negotiated()
            .map_or_else(|| "-".to_owned(), |n| dialect_name(n.dialect));
        let list: Vec<Arc<Session>> = conn.sessions();
        for s in &list {
            session_line(&mut sessions, conn, &dialect, s);
            for t in s.lock().trees.values() {
                let _ = writeln!(
                    trees,
                    "{:<18x} {:<8} {:<16} {}",
                    s.id,
                    t.id,
                    t.share.name,
                    if t.writable {
                        "read-write"
                    } else {
                        "read-only"
                    }
                );
            }
        }
        let mut files: Vec<Arc<Open>> = conn.opens();
        files.sort_by_key(|o| o.file_id.volatile);
        for o in &files {
            open_line(&mut opens, o);
        }
    }
    let mut out = format!("Connections: {}\n\n", conns.len());
    let _ = writeln!(
        out,
        "{:<18} {:<16} {:<40} {:<8} {:<9} Encryption\n{sessions}",
        "Session", "User", "Client", "Dialect", "Signing"
    );
    let _ = writeln!(
        out,
        "{:<18} {:<8} {:<16} Access\n{trees}",
        "Session", "Tree", "Share"
    );
    let _ = writeln!(
        out,
        "{:<18} {:<16} {:<10} {:<5} {:<5} {:<10} Path\n{opens}",
        "Session", "Share", "Access", "Share", "Locks", "Oplock"
    );
    let _ = write!(
        out,
        "{:<40} {:<14} {:>8} File\n{pending}",
        "Pending operation of", "Command", "Age"
    );
    out
}

/// `ChangeNotify` as `CHANGE_NOTIFY`, the name MS-SMB2 gives the command.
fn command_name(c: proto::Command) -> String {
    let mut out = String::new();
    for (i, ch) in format!("{c:?}").chars().enumerate() {
        if i > 0 && ch.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}
