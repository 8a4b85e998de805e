//! FLUSH (MS-SMB2 3.3.5.11): fsync of the open file.

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::create::access::{FILE_APPEND_DATA, FILE_WRITE_DATA};
use proto::messages::flush::{FlushRequest, FlushResponse};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

pub async fn handle(ctx: &mut Ctx<'_>, req: FlushRequest, out: &mut BytesMut) -> HandlerResult {
    if ctx.on_ipc() {
        ctx.pipe(req.file_id)?;
        FlushResponse::default().encode(out, ctx.resp_start);
        return Ok(NtStatus::SUCCESS);
    }
    let open = ctx.open(req.file_id)?;
    if !open.has_any_access(FILE_WRITE_DATA | FILE_APPEND_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let file = Arc::clone(&open.file);
    run_as(&open.unix, move || file.flush()).await?;
    // A flush makes a due write-time update at once (smbtorture smb2.timestamps.delayed-write-vs-flush).
    crate::write_time::update_now(&open).await?;
    FlushResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
