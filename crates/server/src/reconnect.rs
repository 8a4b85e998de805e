//! Reclaiming a disconnected durable open from a new connection: CREATE with DHnC (MS-SMB2 3.3.5.9.7)
//! or DH2C (3.3.5.9.12). Every check runs before the open is touched, so a refused attempt leaves it
//! as it was, still waiting for its owner:
//! - an unknown FileId, a CreateGuid (version 2) that differs, a lease key or ClientGuid that is not
//!   the open's, or a lease asked for an open without one (and the reverse): OBJECT_NAME_NOT_FOUND;
//! - with a lease, a name other than the open's: INVALID_PARAMETER;
//! - another account than the one that opened it: ACCESS_DENIED (the class of CVE-2026-31717).
//!
//! The reclaimed open keeps its FileId, position, locks, share mode, oplock or lease and
//! delete-on-close flag; it is now bound to this session, tree connect and connection.

use crate::blocking::run_as;
use crate::breaks::BreakTarget;
use crate::dispatch::Ctx;
use crate::durable::Owner;
use crate::open::Open;
use crate::opening::{create_response, reply_level};
use crate::session::Tree;
use proto::create_context::{self as cc, LeaseContext, OwnedCreateContext};
use proto::durable::DurableContext;
use proto::messages::create::{create_action, CreateResponse};
use proto::messages::negotiate::{CAP_LEASING, SMB3_0};
use proto::{FileId, NtStatus};
use std::sync::Arc;

/// Reclaim the open `asked` names for `tree`; `name` is the request's file name and `answered` the
/// other create contexts' responses (MxAc, QFid).
pub async fn reconnect(
    ctx: &Ctx<'_>,
    tree: &Arc<Tree>,
    name: &vfs::SmbPath,
    asked: DurableContext,
    contexts: &[cc::CreateContext<'_>],
    mut answered: Vec<OwnedCreateContext>,
) -> Result<(FileId, CreateResponse), NtStatus> {
    let (file_id, create_guid) = match asked {
        DurableContext::Reconnect { file_id } => (file_id, None),
        DurableContext::ReconnectV2 {
            file_id,
            create_guid,
            ..
        } => (file_id, Some(create_guid)),
        DurableContext::Request | DurableContext::RequestV2 { .. } => {
            return Err(NtStatus::INVALID_PARAMETER)
        }
    };
    let server = &ctx.conn.server;
    let negotiated = ctx.conn.negotiated().ok_or(NtStatus::INVALID_PARAMETER)?;
    let lease = match cc::find(contexts, cc::name::REQUEST_LEASE) {
        Some(c) if negotiated.server_capabilities & CAP_LEASING != 0 => Some(
            LeaseContext::decode(c.data, negotiated.dialect >= SMB3_0)
                .map_err(|_| NtStatus::INVALID_PARAMETER)?,
        ),
        _ => None,
    };
    let open = server
        .durable
        .get(file_id.persistent)
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let session = ctx.session()?;
    check(
        &open,
        tree,
        name,
        create_guid,
        lease,
        negotiated.client_guid,
    )?;
    let auth = ctx.auth()?;
    if open.durable.as_ref().map(|d| &d.owner) != Some(&Owner::of(&auth)) {
        tracing::info!(peer = %ctx.conn.peer, path = %open.path(), "durable reconnect by another user refused");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let file = Arc::clone(&open.file);
    let stat = run_as(&tree.unix, move || file.stat()).await?;
    // Taken out only now: whoever takes it first (this reconnect, the timeout, a conflicting open)
    // has it.
    let open = server
        .durable
        .take(file_id.persistent)
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let reclaimed = Arc::new(open.rebind(session.id, Arc::clone(tree)));
    let id = reclaimed.file_id.volatile;
    ctx.conn.adopt_locks(
        reclaimed
            .node
            .locks()
            .iter()
            .filter(|l| l.open_id == id)
            .count(),
    );
    server
        .opens
        .insert(ctx.conn.id, id, Arc::clone(&reclaimed), usize::MAX);
    let encrypt = tree.encrypt || session.lock().encrypt_required;
    reclaimed.node.reconnect(
        id,
        BreakTarget {
            channel: Arc::downgrade(&ctx.conn.channel),
            file_id: reclaimed.file_id,
            encrypt_for: encrypt.then(|| Arc::downgrade(session)),
        },
    );
    tracing::debug!(path = %reclaimed.path(), "durable open reclaimed");
    // No durable response context: Windows sends none with a reconnect (smbtorture
    // smb2.durable-open.reopen2-lease).
    let level = reply_level(lease, reclaimed.node.held(id), &mut answered);
    let path = reclaimed.path();
    Ok((
        reclaimed.file_id,
        create_response(
            tree,
            &path,
            &stat,
            (create_action::OPENED, level),
            reclaimed.file_id,
            answered,
        ),
    ))
}

/// The checks of MS-SMB2 3.3.5.9.7 and 3.3.5.9.12 but the owner's.
fn check(
    open: &Open,
    tree: &Tree,
    name: &vfs::SmbPath,
    create_guid: Option<proto::Guid>,
    lease: Option<LeaseContext>,
    client_guid: proto::Guid,
) -> Result<(), NtStatus> {
    let durable = open
        .durable
        .as_ref()
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
    let same_lease = match (open.node.lease_of(open.file_id.volatile), lease) {
        (Some(held), Some(asked)) => held.key == asked.key && held.client == client_guid,
        (None, None) => true,
        _ => false,
    };
    // A version 2 reconnect names the CreateGuid (zeros for a version 1 open, which has none); a
    // version 1 reconnect names none and finds either (smbtorture smb2.durable-v2-open.reopen2b).
    let other_guid = create_guid.is_some_and(|g| durable.create_guid.unwrap_or_default() != g);
    if other_guid || !same_lease || !open.tree.share.name.eq_ignore_ascii_case(&tree.share.name) {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
    }
    let same_name = open.path().to_string().to_lowercase() == name.to_string().to_lowercase();
    if lease.is_some() && !open.delete_on_close() && !same_name {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(())
}
