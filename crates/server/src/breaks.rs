//! Sending oplock and lease break notifications (MS-SMB2 3.3.4.6, 3.3.4.7, 2.2.23) to the connection of
//! the open (or the lease's latest open) whose caching breaks. A notification is unsolicited:
//! MessageId 0xFFFFFFFFFFFFFFFF, no session, tree or credits, not signed; it is encrypted when the
//! open's session or tree requires encryption.
//!
//! A file node decides breaks under its lock and returns them as [`Notice`]s; callers send them once
//! the lock is released. Targets hold their connection and session weakly: a notice for a connection
//! that is gone is dropped, and the break then ends with the close of the open or its timeout.

use crate::channel::Channel;
use crate::dispatch::Ctx;
use crate::files::FileNode;
use crate::lease::LeaseKey;
use crate::open::Open;
use crate::oplock::OplockLevel;
use crate::security;
use crate::session::Session;
use crate::session::Tree;
use crate::state::ServerState;
use bytes::{BufMut, BytesMut};
use proto::fscc::notify::action;
use proto::messages::oplock_break::{
    LeaseBreakNotification, OplockBreakNotification, NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED,
};
use proto::messages::Body;
use proto::{Command, FileId, Header, HeaderFlags, NtStatus, HEADER_LEN};
use std::sync::{Arc, Weak};
use tokio::time::Instant;
use vfs::SmbPath;

/// Where the breaks of one open go.
#[derive(Clone, Debug)]
pub struct BreakTarget {
    pub channel: Weak<Channel>,
    pub file_id: FileId,
    /// The session to encrypt for, when its messages must be encrypted.
    pub encrypt_for: Option<Weak<Session>>,
}

/// One break notification to send.
#[derive(Clone, Debug)]
pub struct Notice {
    pub target: BreakTarget,
    pub kind: NoticeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// The open's oplock breaks to this level.
    Oplock(OplockLevel),
    /// A lease breaks from `current` to `new`.
    Lease {
        /// The lease's ClientGuid.
        client: proto::Guid,
        key: [u8; 16],
        current: u32,
        new: u32,
        /// NewEpoch (version 2 leases; 0 for version 1).
        epoch: u16,
        ack_required: bool,
    },
}

/// A write, byte-range lock or size change through `open`: break the caching it invalidates.
pub fn data_changed(server: &ServerState, open: &Open) {
    let timeout = server.settings.oplock_break_timeout;
    send(
        server,
        open.node.data_changed(open.file_id.volatile, timeout),
    );
}

/// Let the holders of handle caching on `node` give it up before a rename through open `by` (or over
/// the file): send the breaks and wait for them to end or time out. Later frames of the connection are
/// let through meanwhile, since the acknowledgment may come on it.
pub async fn release_handles(ctx: &mut Ctx<'_>, node: &FileNode, by: Option<u64>) {
    let timeout = ctx.conn.server.settings.oplock_break_timeout;
    while let Some(mut pause) = node.break_handle_caching(by, Instant::now(), timeout) {
        send(&ctx.conn.server, std::mem::take(&mut pause.notices));
        ctx.let_later_frames_pass();
        // A closed sender cannot happen while `node` is held; either way the loop checks again.
        let _ = tokio::time::timeout_at(pause.deadline, pause.changed.changed()).await;
    }
}

/// An entry of `path`'s directory on `tree` was added, removed or renamed: break the directory's
/// leases (but the one `parent` names, the changing open's parent lease key). Free while no directory
/// holds a lease.
pub fn dir_changed(server: &ServerState, tree: &Tree, path: &SmbPath, parent: Option<LeaseKey>) {
    if let Some(share) = tree.share.vfs.as_ref() {
        entry_changed(server, share, path, parent);
    }
}

/// Entries added, removed or renamed on disk by other programs, as `kernel change notify` reports
/// them: break their directories' leases. (A file whose data another program changes keeps its
/// directory's leases: inotify reports the server's own writes too, and those cannot be told apart
/// from other programs' for long enough.)
pub fn changed_on_disk(server: &ServerState, changes: &[crate::notify::Change]) {
    if !server.files.has_dir_leases() {
        return;
    }
    for c in changes
        .iter()
        .filter(|c| c.action != action::MODIFIED && !server.notify.is_echo(c))
    {
        if let Some(entry) = server.share_at(&c.root) {
            if let Some(share) = entry.vfs.as_ref() {
                entry_changed(server, share, &c.path, None);
            }
        }
    }
}

fn entry_changed(
    server: &ServerState,
    share: &vfs::Share,
    path: &SmbPath,
    parent: Option<LeaseKey>,
) {
    if !server.files.has_dir_leases() {
        return;
    }
    let dir = path
        .parent_and_name()
        .map_or_else(SmbPath::root, |(p, _)| p);
    // A stat beneath the share root as the daemon: only the directory's identity is needed.
    let Ok(st) = share.stat(&dir) else {
        return;
    };
    if let Some(node) = server.files.node(crate::files::key_of(&st)) {
        let timeout = server.settings.oplock_break_timeout;
        let notices = node.child_changed(parent, Instant::now(), timeout);
        tracing::debug!(
            dir = dir.as_unix(),
            breaks = notices.len(),
            "directory changed"
        );
        send(server, notices);
    }
}

/// Send each notice through its channel, in the background (the channel's queue may be full).
pub fn send(server: &ServerState, notices: Vec<Notice>) {
    for notice in notices {
        let Some(channel) = channel(server, &notice) else {
            continue;
        };
        let Some(msg) = message(&notice) else {
            tracing::warn!(peer = %channel.peer, "oplock break not sent: cannot encrypt it");
            continue;
        };
        tokio::spawn(async move {
            channel.send(msg.freeze(), None).await;
        });
    }
}

/// Where a notice goes. An oplock break goes to its open's connection. A lease belongs to the client
/// (its ClientGuid), not to one connection: its break goes to the client's oldest authenticated
/// connection, as
/// Windows does (smbtorture smb2.lease.v2_complex1), unless it must be encrypted for the session of
/// the lease's open, which only that open's connection knows.
fn channel(server: &ServerState, notice: &Notice) -> Option<Arc<Channel>> {
    match notice.kind {
        NoticeKind::Lease { client, .. } if notice.target.encrypt_for.is_none() => server
            .conns
            .live()
            .into_iter()
            // Not one still authenticating: it has no session to hear a break yet.
            .find(|c| c.client_guid() == Some(client) && c.is_authenticated())
            .map(|c| Arc::clone(&c.channel))
            .or_else(|| notice.target.channel.upgrade()),
        _ => notice.target.channel.upgrade(),
    }
}

/// The whole notification message, encrypted if its target requires it.
fn message(notice: &Notice) -> Option<BytesMut> {
    let session = match &notice.target.encrypt_for {
        Some(weak) => Some(weak.upgrade()?),
        None => None,
    };
    let prefix = if session.is_some() {
        crate::encryption::RESERVED
    } else {
        0
    };
    let mut out = BytesMut::with_capacity(prefix + HEADER_LEN + 44);
    out.put_bytes(0, prefix);
    unsolicited_header(Command::OplockBreak).encode(&mut out);
    match notice.kind {
        NoticeKind::Oplock(level) => OplockBreakNotification {
            oplock_level: level.to_wire(),
            file_id: notice.target.file_id,
        }
        .encode(&mut out, prefix),
        NoticeKind::Lease {
            key,
            current,
            new,
            epoch,
            ack_required,
            ..
        } => LeaseBreakNotification {
            new_epoch: epoch,
            flags: if ack_required {
                NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED
            } else {
                0
            },
            lease_key: key,
            current_lease_state: current,
            new_lease_state: new,
        }
        .encode(&mut out, prefix),
    }
    security::protect(&mut out, session.as_deref(), &[(prefix, None)]).ok()?;
    Some(out)
}

/// The header of a message the server sends on its own (MS-SMB2 3.3.4.6, 3.3.4.7).
pub fn unsolicited_header(command: Command) -> Header {
    Header {
        credit_charge: 0,
        status: NtStatus::SUCCESS,
        command: command as u16,
        credits: 0,
        flags: HeaderFlags(HeaderFlags::SERVER_TO_REDIR),
        next_command: 0,
        message_id: u64::MAX,
        async_id: None,
        process_id: 0,
        tree_id: 0,
        session_id: 0,
        signature: [0; 16],
    }
}
