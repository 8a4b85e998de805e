//! Sending oplock and lease break notifications (MS-SMB2 3.3.4.6, 3.3.4.7, 2.2.23) to the connection of
//! the open (or the lease's latest open) whose caching breaks. A notification is unsolicited:
//! MessageId 0xFFFFFFFFFFFFFFFF, no session, tree or credits, not signed; it is encrypted when the
//! open's session or tree requires encryption.
//!
//! A file node decides breaks under its lock and returns them as [`Notice`]s; callers send them once
//! the lock is released. Targets hold their connection and session weakly: a notice for a connection
//! that is gone is dropped, and the break then ends with the close of the open or its timeout.

use crate::channel::Channel;
use crate::open::Open;
use crate::oplock::OplockLevel;
use crate::security;
use crate::session::Session;
use crate::state::ServerState;
use bytes::{BufMut, BytesMut};
use proto::messages::oplock_break::{
    LeaseBreakNotification, OplockBreakNotification, NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED,
};
use proto::messages::Body;
use proto::{Command, FileId, Header, HeaderFlags, NtStatus, HEADER_LEN};
use std::sync::Weak;

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
    send(open.node.data_changed(open.file_id.volatile, timeout));
}

/// Send each notice through its open's channel, in the background (the channel's queue may be full).
pub fn send(notices: Vec<Notice>) {
    for notice in notices {
        let Some(channel) = notice.target.channel.upgrade() else {
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
