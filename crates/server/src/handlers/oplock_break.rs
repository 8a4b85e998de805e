//! OPLOCK_BREAK acknowledgment (MS-SMB2 3.3.5.22). rsmbd grants no oplocks or leases yet, so an
//! acknowledgment can never match a break and fails as MS-SMB2 3.3.5.22.1 requires.

use super::HandlerResult;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::oplock_break::BreakAck;
use proto::NtStatus;

pub fn handle(_ctx: &mut Ctx<'_>, _req: BreakAck, _out: &mut BytesMut) -> HandlerResult {
    Err(NtStatus::INVALID_OPLOCK_PROTOCOL)
}
