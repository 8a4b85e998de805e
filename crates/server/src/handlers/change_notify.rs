//! CHANGE_NOTIFY (MS-SMB2 3.3.5.19). Change notification comes with a later issue; until then the request
//! fails with STATUS_NOT_SUPPORTED, as Windows does for a file system that cannot notify.

use super::{bad_request, HandlerResult};
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::change_notify::ChangeNotifyRequest;
use proto::messages::Body;
use proto::NtStatus;

pub fn handle(ctx: &mut Ctx<'_>, _out: &mut BytesMut) -> HandlerResult {
    let req = ChangeNotifyRequest::decode(ctx.pdu).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Err(NtStatus::NOT_SUPPORTED)
}
