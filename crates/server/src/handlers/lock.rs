//! LOCK (MS-SMB2 3.3.5.14). Byte-range locking comes with its own issue; until then LOCK fails with
//! STATUS_NOT_SUPPORTED rather than pretending to lock, so no client believes data is protected when
//! it is not.

use super::{bad_request, HandlerResult};
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::lock::LockRequest;
use proto::messages::Body;
use proto::NtStatus;

pub fn handle(ctx: &mut Ctx<'_>, _out: &mut BytesMut) -> HandlerResult {
    let req = LockRequest::decode(ctx.pdu).map_err(bad_request)?;
    ctx.open(req.file_id)?;
    Err(NtStatus::NOT_SUPPORTED)
}
