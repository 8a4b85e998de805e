//! CLOSE (MS-SMB2 3.3.5.10): the open ends through [`crate::lifecycle::close`]; with
//! SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB the response carries the file's attributes as it was closed.

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::pending::CancelReason;
use bytes::BytesMut;
use proto::messages::close::{CloseRequest, CloseResponse, POSTQUERY_ATTRIB};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

pub async fn handle(ctx: &mut Ctx<'_>, req: CloseRequest, out: &mut BytesMut) -> HandlerResult {
    if ctx.on_ipc() {
        let p = ctx.pipe(req.file_id)?;
        ctx.conn.pipes.remove(p.file_id.volatile);
        CloseResponse::default().encode(out, ctx.resp_start);
        return Ok(NtStatus::SUCCESS);
    }
    let open = ctx.open_for_close(req.file_id)?;
    crate::lifecycle::close(ctx.conn, &open, CancelReason::HandleClosed).await;
    let stat = if req.flags & POSTQUERY_ATTRIB != 0 {
        let f = Arc::clone(&open.file);
        run_as(&open.unix, move || f.stat()).await.ok()
    } else {
        None
    };
    let resp = match stat {
        Some(s) => CloseResponse {
            flags: POSTQUERY_ATTRIB,
            creation_time: s.creation_time,
            last_access_time: s.last_access_time,
            last_write_time: s.last_write_time,
            change_time: s.change_time,
            allocation_size: s.alloc_size,
            end_of_file: s.end_of_file(),
            file_attributes: open
                .tree
                .share
                .names
                .attributes(&s, open.path().file_name()),
        },
        None => CloseResponse::default(),
    };
    resp.encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
