//! Replayed CREATEs (MS-SMB2 3.3.5.9.10): a client that lost the response to a CREATE asking for a
//! durable v2 handle sends it again with SMB2_FLAGS_REPLAY_OPERATION and the same CreateGuid. If that
//! CREATE made an open of this session, the answer describes that open instead of opening the file a
//! second time (which its own share mode would refuse):
//! - its FileId and the CreateAction of the original CREATE;
//! - the caching the replay asks for, as far as the open holds it (an oplock no higher than the one
//!   held; a lease at the lease's state now), and a durable response only when that caching would
//!   have made the open durable;
//! - asking for a lease on an open with an oplock, or the reverse, or for a lease under another key,
//!   is STATUS_ACCESS_DENIED.
//!
//! Nothing about the open changes (smbtorture smb2.replay.replay-dhv2-*).

use crate::dispatch::Ctx;
use crate::files::Grant;
use crate::open::Open;
use crate::opening::{create_response, reply_level};
use crate::oplock::OplockLevel;
use proto::create_context::{LeaseContext, OwnedCreateContext};
use proto::messages::create::{oplock_level, CreateResponse};
use proto::{FileId, Guid, NtStatus};
use std::sync::Arc;

/// What a replay of the CREATE that made an open needs (MS-SMB2 3.3.1.10 Open.IsReplayEligible and
/// Open.CreateGuid): that CREATE asked for a durable v2 handle, granted or not.
#[derive(Clone, Copy, Debug)]
pub struct ReplayEligible {
    pub create_guid: Guid,
    /// Its CreateAction, repeated to the replay.
    pub create_action: u32,
}

/// The open of this session made by the CREATE with `create_guid`, if any, on whichever of the
/// session's channels it was made.
pub fn replayed(ctx: &Ctx<'_>, create_guid: Guid) -> Option<Arc<Open>> {
    let session = ctx.session.as_ref()?;
    let server = &ctx.conn.server;
    let home = server.sessions.get_any(session.id).map(|(c, _)| c);
    let channels: Vec<_> = session.lock().channels.keys().copied().collect();
    let session = session.id;
    home.into_iter()
        .chain(channels)
        .flat_map(|c| server.opens.of(c))
        .find(|o| {
            o.session_id == session
                && o.replay_eligible.load(std::sync::atomic::Ordering::Relaxed)
                && o.replay.is_some_and(|r| r.create_guid == create_guid)
        })
}

/// The response to the replay of the CREATE that made `open`; `requested` is the replay's
/// RequestedOplockLevel and `lease` its lease context.
pub async fn respond(
    open: &Open,
    requested: u8,
    lease: Option<LeaseContext>,
    mut contexts: Vec<OwnedCreateContext>,
) -> Result<(FileId, CreateResponse), NtStatus> {
    let held = open.node.held(open.file_id.volatile);
    let asks_lease = requested == oplock_level::LEASE && lease.is_some();
    let same_key =
        |l: LeaseContext| open.node.lease_of(open.file_id.volatile).map(|id| id.key) == Some(l.key);
    let grant = match held {
        Grant::Lease { .. } if asks_lease && lease.is_some_and(same_key) => held,
        Grant::Oplock(level) if !asks_lease => {
            Grant::Oplock(level.min(OplockLevel::from_wire(requested).unwrap_or_default()))
        }
        Grant::Lease { .. } | Grant::Oplock(_) => return Err(NtStatus::ACCESS_DENIED),
    };
    let level = reply_level(lease, grant, &mut contexts);
    if let Some(d) = open.durable.as_ref().filter(|_| grant.caches_handle()) {
        contexts.push(d.response());
    }
    let replay = open.replay.ok_or(NtStatus::INTERNAL_ERROR)?;
    let file = Arc::clone(&open.file);
    let stat = crate::blocking::run_as(&open.unix, move || file.stat()).await?;
    let path = open.path();
    let reply = (replay.create_action, level);
    let resp = create_response(&open.tree, &path, &stat, reply, open.file_id, contexts);
    Ok((open.file_id, resp))
}
