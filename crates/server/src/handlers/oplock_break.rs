//! OPLOCK_BREAK acknowledgment (MS-SMB2 3.3.5.22): the client lowers the oplock of one of its opens
//! (3.3.5.22.1) or the state of one of its leases (3.3.5.22.2) after a break notification
//! ([`crate::oplock`] and [`crate::lease`] decide what it may lower it to); the response carries what
//! is now held.

use super::HandlerResult;
use crate::dispatch::Ctx;
use crate::files::LeaseId;
use crate::oplock::OplockLevel;
use bytes::BytesMut;
use proto::messages::oplock_break::{
    BreakAck, LeaseBreakAck, LeaseBreakResponse, OplockBreakResponse,
};
use proto::messages::Body;
use proto::NtStatus;
use tokio::time::Instant;

pub fn handle(ctx: &mut Ctx<'_>, req: BreakAck, out: &mut BytesMut) -> HandlerResult {
    let ack = match req {
        BreakAck::Oplock(ack) => ack,
        BreakAck::Lease(ack) => return lease_ack(ctx, ack, out),
    };
    let open = ctx.open(ack.file_id)?;
    let level = open.node.acknowledge(
        open.file_id.volatile,
        OplockLevel::from_wire(ack.oplock_level),
        Instant::now(),
    )?;
    OplockBreakResponse {
        oplock_level: level.to_wire(),
        file_id: open.file_id,
    }
    .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

fn lease_ack(ctx: &mut Ctx<'_>, ack: LeaseBreakAck, out: &mut BytesMut) -> HandlerResult {
    let client = ctx
        .conn
        .negotiated()
        .map(|n| n.client_guid)
        .ok_or(NtStatus::INVALID_PARAMETER)?;
    let id = LeaseId {
        client,
        key: ack.lease_key,
    };
    let server = &ctx.conn.server;
    let timeout = server.settings.oplock_break_timeout;
    let (state, next) =
        server
            .files
            .acknowledge_lease(id, ack.lease_state, Instant::now(), timeout)?;
    crate::breaks::send(server, next.into_iter().collect());
    LeaseBreakResponse {
        flags: 0,
        lease_key: ack.lease_key,
        lease_state: state,
    }
    .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
