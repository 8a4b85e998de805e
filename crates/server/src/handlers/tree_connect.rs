//! TREE_CONNECT (MS-SMB2 3.3.5.7): share lookup, access by `hosts allow/deny`, `valid users` / `guest ok`,
//! the per-user rules of [`crate::share_policy`], `max connections`, and the share type and maximal access
//! returned to the client.

use super::{bad_request, HandlerResult};
use crate::dispatch::Ctx;
use bytes::BytesMut;
use config::SmbEncrypt;
use proto::header::HeaderFlags;
use proto::messages::negotiate::SMB3_1_1;
use proto::messages::tree_connect::*;
use proto::messages::Body;
use proto::reader::utf16le_to_string;
use proto::NtStatus;

/// FILE_ALL_ACCESS: what a writable share grants at most.
pub const FULL_ACCESS: u32 = 0x001F_01FF;
/// FILE_GENERIC_READ | FILE_GENERIC_EXECUTE: what a read-only share grants at most.
pub const READ_ACCESS: u32 = 0x0012_00A9;

/// The share name of a `\\server\share` path (MS-SMB2 2.2.9: the whole UNC path is sent).
fn share_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("\\\\")?;
    let (_server, share) = rest.split_once('\\')?;
    (!share.is_empty() && !share.contains('\\')).then_some(share)
}

/// MS-SMB2 3.3.5.7: on 3.1.1 an authenticated user's TREE_CONNECT must be signed or encrypted (the client
/// proves it holds the session key before it gets a tree); guest and anonymous sessions have no key.
fn unprotected_on_3_1_1(ctx: &Ctx<'_>, keyless: bool) -> bool {
    let on_3_1_1 = ctx.conn.negotiated().is_some_and(|n| n.dialect == SMB3_1_1);
    let protected = ctx.encrypted || ctx.hdr.flags.has(HeaderFlags::SIGNED);
    on_3_1_1 && !keyless && !protected
}

pub fn handle(ctx: &mut Ctx<'_>, req: TreeConnectRequest<'_>, out: &mut BytesMut) -> HandlerResult {
    let path = utf16le_to_string(req.path).map_err(bad_request)?;
    let name = share_name(&path).ok_or(NtStatus::BAD_NETWORK_NAME)?;
    let share = ctx
        .conn
        .server
        .share(name)
        .ok_or(NtStatus::BAD_NETWORK_NAME)?;
    let auth = ctx.auth()?;
    if unprotected_on_3_1_1(ctx, auth.is_guest || auth.is_anonymous) {
        tracing::warn!(peer = %ctx.conn.peer, "unsigned TREE_CONNECT on SMB 3.1.1: dropping the connection");
        ctx.disconnect = true;
        return Err(NtStatus::ACCESS_DENIED);
    }
    if !share.hosts.permits(ctx.conn.peer.ip()) {
        tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused by hosts allow/deny");
        return Err(NtStatus::ACCESS_DENIED);
    }
    if !share.allows(auth.user.as_deref(), &auth.unix.groups) {
        tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let grant = share.grant_for(&auth, ctx.conn.server.settings.guest_uid);
    let (share_type, maximal_access) = match (&share.vfs, grant.writable) {
        (None, _) => (SHARE_TYPE_PIPE, READ_ACCESS),
        (Some(_), false) => (SHARE_TYPE_DISK, READ_ACCESS),
        (Some(_), true) => (SHARE_TYPE_DISK, FULL_ACCESS),
    };
    let session = ctx.session()?;
    let max_trees = ctx
        .conn
        .server
        .settings
        .limits
        .max_tree_connects_per_session;
    if session.lock().trees.len() >= usize::try_from(max_trees).unwrap_or(usize::MAX) {
        tracing::info!(peer = %ctx.conn.peer, max_trees, "tree connect refused: max tree connects per session");
        return Err(NtStatus::INSUFFICIENT_RESOURCES);
    }
    let can_encrypt = session.lock().encryption.is_some();
    let encrypt = match share.encrypt {
        SmbEncrypt::Required if !can_encrypt => {
            // MS-SMB2 3.3.5.7: a share that must be encrypted is closed to a session that cannot encrypt
            // (SMB 2.x, no common cipher, guest or anonymous).
            tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused: encryption required");
            return Err(NtStatus::ACCESS_DENIED);
        }
        SmbEncrypt::Required | SmbEncrypt::Desired => can_encrypt,
        SmbEncrypt::Off | SmbEncrypt::IfRequired => false,
    };
    let share_flags = SHAREFLAG_MANUAL_CACHING
        | if encrypt { SHAREFLAG_ENCRYPT_DATA } else { 0 }
        | if share.acls.hide_unreadable {
            SHAREFLAG_ACCESS_BASED_DIRECTORY_ENUM
        } else {
            0
        };
    if !share.policy.claim(&share.trees) {
        // What Windows answers when a share's user limit is reached.
        tracing::info!(peer = %ctx.conn.peer, share = %share.name, "tree connect refused: max connections");
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    }
    let tree = session
        .lock()
        .add_tree(share, maximal_access, encrypt, grant);
    ctx.resp_tree_id = tree.id;
    TreeConnectResponse {
        share_type,
        share_flags,
        capabilities: 0,
        maximal_access,
    }
    .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_names() {
        assert_eq!(share_name("\\\\host\\data"), Some("data"));
        assert_eq!(share_name("\\\\127.0.0.1\\IPC$"), Some("IPC$"));
        assert_eq!(share_name("\\\\host\\"), None);
        assert_eq!(share_name("\\\\host\\a\\b"), None);
        assert_eq!(share_name("host\\a"), None);
    }
}
