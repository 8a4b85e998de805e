//! Named pipes on IPC$ (MS-SMB2 3.3.5.9 for pipe opens, 3.3.5.12/3.3.5.13 reads and writes on pipes,
//! 3.3.5.15.1/3.3.5.15.10 FSCTL_PIPE_TRANSCEIVE and FSCTL_PIPE_WAIT). The pipe contents are DCE/RPC,
//! served by the `rpc` crate; this module is the SMB side: the pipe handle table and what each command
//! does on a pipe handle. A READ on an empty pipe waits for the reply to a later WRITE (clients with
//! several calls outstanding pipeline WRITEs and READs, and a READ may overtake its WRITE).

use crate::conn::Conn;
use crate::session::Tree;
use crate::state::ServerState;
use proto::{FileId, NtStatus};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// An open named pipe.
pub struct PipeOpen {
    pub file_id: FileId,
    pub session_id: u64,
    pub tree: Arc<Tree>,
    pub name: String,
    pipe: Mutex<rpc::Pipe>,
    /// Woken when a WRITE queues a reply, and when the handle closes.
    arrived: tokio::sync::Notify,
    closed: AtomicBool,
}

impl PipeOpen {
    pub fn pipe(&self) -> MutexGuard<'_, rpc::Pipe> {
        self.pipe.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.arrived.notify_waiters();
    }
}

/// Pipe handles one connection may hold at once; a further pipe CREATE fails with
/// STATUS_INSUFFICIENT_RESOURCES. With [`rpc::MAX_BUFFERED`] per pipe, this bounds what a connection's
/// pipes hold to 32 MiB. Clients open one pipe per RPC interface they use, a handful at most.
pub const MAX_PIPES: usize = 32;

/// The pipe handles of one connection.
#[derive(Default)]
pub struct PipeTable {
    pipes: Mutex<HashMap<u64, Arc<PipeOpen>>>,
}

impl PipeTable {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<PipeOpen>>> {
        self.pipes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, volatile: u64) -> Option<Arc<PipeOpen>> {
        self.lock().get(&volatile).cloned()
    }

    /// Number of open pipe handles.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn remove(&self, volatile: u64) -> Option<Arc<PipeOpen>> {
        let p = self.lock().remove(&volatile);
        p.inspect(|p| p.close())
    }

    /// Drop every pipe handle for which `pred` holds (tree disconnect, logoff).
    pub fn remove_matching(&self, pred: impl Fn(&PipeOpen) -> bool) {
        self.lock().retain(|_, p| {
            let gone = pred(p);
            if gone {
                p.close();
            }
            !gone
        });
    }

    fn insert(&self, p: Arc<PipeOpen>) {
        self.lock().insert(p.file_id.volatile, p);
    }
}

/// What the RPC services may show a session: the shares it could connect to (MS-SRVS 3.1.4.8: hidden
/// `$` shares are listed too, as Windows does, but not unbrowseable ones).
struct Provider {
    server: Arc<ServerState>,
    user: Option<String>,
    gids: Vec<u32>,
    /// Whether the caller's session can encrypt (shares that require encryption are hidden otherwise).
    can_encrypt: bool,
}

impl rpc::Provider for Provider {
    fn server(&self) -> rpc::ServerInfo {
        let s = &self.server.settings;
        rpc::ServerInfo {
            netbios_name: s.netbios_name.clone(),
            workgroup: s.workgroup.clone(),
            comment: s.server_string.clone(),
            version_major: 10,
            version_minor: 0,
        }
    }

    fn domain_sid(&self) -> rpc::Sid {
        self.server.settings.domain_sid.clone()
    }

    /// The accounts of the password database (read when asked: SAMR enumerations are rare).
    fn users(&self) -> Vec<rpc::UserInfo> {
        match auth::passdb::SmbPasswd::load(&self.server.settings.passdb_path) {
            Ok(db) => db
                .entries()
                .map(|u| rpc::UserInfo {
                    name: u.name.clone(),
                    uid: u.uid,
                    disabled: u.disabled,
                })
                .collect(),
            Err(e) => {
                tracing::warn!("cannot read the password database: {e}");
                Vec::new()
            }
        }
    }

    fn caller(&self) -> Option<String> {
        self.user.clone()
    }

    fn shares(&self) -> Vec<rpc::ShareInfo> {
        self.server
            .shares()
            .iter()
            .filter(|s| s.browseable || s.vfs.is_none())
            .filter(|s| s.allows(self.user.as_deref(), &self.gids))
            .filter(|s| self.can_encrypt || s.encrypt != config::SmbEncrypt::Required)
            .map(|s| rpc::ShareInfo {
                name: s.name.clone(),
                comment: s.comment.clone(),
                kind: if s.vfs.is_some() {
                    rpc::ShareKind::Disk
                } else {
                    rpc::ShareKind::Ipc
                },
                path: String::new(),
                max_uses: u32::MAX,
                current_uses: 0,
            })
            .collect()
    }
}

/// The pipe name of a CREATE on IPC$ ("srvsvc", or "\PIPE\srvsvc" from some clients).
fn pipe_name(name: &str) -> &str {
    let n = name.trim_start_matches('\\');
    n.strip_prefix("PIPE\\")
        .or_else(|| n.strip_prefix("pipe\\"))
        .unwrap_or(n)
}

/// Open a named pipe: MS-SMB2 3.3.5.9 with the pipe as the file.
pub fn open(
    conn: &Conn,
    tree: &Arc<Tree>,
    session_id: u64,
    auth: &crate::session::AuthInfo,
    can_encrypt: bool,
    name: &str,
) -> Result<Arc<PipeOpen>, NtStatus> {
    let name = pipe_name(name);
    if !rpc::pipe_exists(name) {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
    }
    if conn.pipes.len() >= MAX_PIPES {
        tracing::info!(peer = %conn.peer, "pipe open refused: {MAX_PIPES} pipes open");
        return Err(NtStatus::INSUFFICIENT_RESOURCES);
    }
    let provider = Arc::new(Provider {
        server: Arc::clone(&conn.server),
        user: auth.user.clone(),
        gids: auth.unix.groups.clone(),
        can_encrypt,
    });
    let pipe = rpc::open_pipe(name, provider).ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let id = conn.server.next_id();
    let open = Arc::new(PipeOpen {
        file_id: FileId {
            persistent: id,
            volatile: id,
        },
        session_id,
        tree: Arc::clone(tree),
        name: name.to_ascii_lowercase(),
        pipe: Mutex::new(pipe),
        arrived: tokio::sync::Notify::new(),
        closed: AtomicBool::new(false),
    });
    conn.pipes.insert(Arc::clone(&open));
    Ok(open)
}

/// Whether a pipe of that name can be opened (FSCTL_PIPE_WAIT).
pub fn exists(name: &str) -> bool {
    rpc::pipe_exists(pipe_name(name))
}

/// A pipe read: what the pipe has queued, BUFFER_OVERFLOW when more remains (MS-SMB2 3.3.5.12).
pub fn read(p: &PipeOpen, max: usize) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    let (data, more) = p.pipe().read(max);
    if data.is_empty() {
        // Nothing queued: a message-mode pipe with no pending reply (rsmbd never blocks a pipe read).
        return Err(NtStatus::PIPE_EMPTY);
    }
    Ok((data, overflow_status(more)))
}

pub fn write(p: &PipeOpen, data: &[u8]) -> Result<usize, NtStatus> {
    let written = p
        .pipe()
        .write(data)
        .map_err(|_| NtStatus::INVALID_PARAMETER)?;
    p.arrived.notify_waiters();
    Ok(written)
}

/// A READ that found the pipe empty, waiting for a reply: the reply, STATUS_PIPE_BROKEN once the
/// handle closes, STATUS_CANCELLED on CANCEL, nothing when the connection is gone.
pub async fn wait_and_read(
    p: Arc<PipeOpen>,
    max: usize,
    mut cancelled: crate::pending::Cancelled,
) -> Option<crate::pending::Final> {
    use crate::pending::{CancelReason, Final};
    loop {
        let arrived = p.arrived.notified();
        tokio::pin!(arrived);
        arrived.as_mut().enable();
        if p.closed.load(Ordering::Acquire) {
            return Some(Final::error(NtStatus::PIPE_BROKEN));
        }
        match read(&p, max) {
            Err(NtStatus::PIPE_EMPTY) => {}
            Ok((data, status)) => {
                return Some(Final::with_body(status, |w, _| {
                    proto::messages::read::encode_read_response_prefix(
                        w,
                        proto::writer::len_u32(data.len()),
                        0,
                    );
                    w.extend_from_slice(&data);
                }))
            }
            Err(e) => return Some(Final::error(e)),
        }
        tokio::select! {
            () = &mut arrived => {}
            reason = cancelled.reason() => return match reason {
                CancelReason::Cancel => Some(Final::error(NtStatus::CANCELLED)),
                CancelReason::ConnectionLost => None,
                _ => Some(Final::error(NtStatus::PIPE_BROKEN)),
            },
        }
    }
}

/// FSCTL_PIPE_TRANSCEIVE: write the request, read the reply.
pub fn transceive(p: &PipeOpen, input: &[u8], max: usize) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    let (data, more) = p
        .pipe()
        .transceive(input, max)
        .map_err(|_| NtStatus::INVALID_PARAMETER)?;
    Ok((data, overflow_status(more)))
}

/// A message that did not fit in the client's buffer is returned in part with BUFFER_OVERFLOW.
fn overflow_status(more: bool) -> NtStatus {
    if more {
        NtStatus::BUFFER_OVERFLOW
    } else {
        NtStatus::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_names() {
        assert_eq!(pipe_name("srvsvc"), "srvsvc");
        assert_eq!(pipe_name("\\PIPE\\srvsvc"), "srvsvc");
        assert!(exists("\\pipe\\WKSSVC"));
        assert!(exists("lsarpc") && exists("\\PIPE\\samr"));
        assert!(!exists("spoolss"));
    }
}
