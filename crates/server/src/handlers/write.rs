//! WRITE (MS-SMB2 3.3.5.13). The data is written from the receive buffer: the request's payload is a
//! reference-counted slice of the frame handed to the blocking pool, never copied.

use super::{bad_request, HandlerResult};
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::create::access::{FILE_APPEND_DATA, FILE_WRITE_DATA};
use proto::messages::write::{WriteRequest, WriteResponse};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

/// The offset meaning "at the end of file" for handles with append access (MS-SMB2 2.2.21).
const APPEND_OFFSET: u64 = u64::MAX;

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    let req = WriteRequest::decode(ctx.pdu).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    if open.is_dir {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    let append = req.offset == APPEND_OFFSET;
    let allowed = if append {
        open.has_any_access(FILE_APPEND_DATA | FILE_WRITE_DATA)
    } else {
        open.has_access(FILE_WRITE_DATA)
    };
    if !allowed {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let len = proto::writer::len_u32(req.data.len());
    if len > ctx.conn.server.settings.max_write {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    super::read::check_credit_charge(ctx, len)?;
    if !append
        && req
            .offset
            .checked_add(u64::from(len))
            .is_none_or(|end| end > i64::MAX as u64)
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !append
        && crate::locks::io_conflicts(
            &open.node.locks(),
            open.file_id.volatile,
            req.offset,
            u64::from(len),
            true,
        )
    {
        return Err(NtStatus::FILE_LOCK_CONFLICT);
    }
    let data = ctx.frame_slice(req.data);
    let file = Arc::clone(&open.file);
    let written = run_as(&open.unix, move || {
        let offset = if append {
            file.stat()?.size
        } else {
            req.offset
        };
        file.write_at(&data, offset)
    })
    .await?;
    WriteResponse {
        count: proto::writer::len_u32(written),
        remaining: 0,
    }
    .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
