//! WRITE (MS-SMB2 3.3.5.13). The data is written from the receive buffer: the request's payload is a
//! reference-counted slice of the frame handed to the blocking pool, never copied.

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::change_notify::completion_filter;
use proto::messages::create::access::{FILE_APPEND_DATA, FILE_WRITE_DATA};
use proto::messages::write::{WriteRequest, WriteResponse};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

/// NTFS's file size limit (16 TiB - 64 KiB): a write starting at or beyond it is STATUS_INVALID_PARAMETER,
/// one that would reach it STATUS_DISK_FULL, as Windows answers (smbtorture smb2.rw.invalid).
const MAX_FILE_SIZE: u64 = 0x0000_0FFF_FFFF_0000;

/// The offset meaning "at the end of file" for handles with append access (MS-SMB2 2.2.21).
const APPEND_OFFSET: u64 = u64::MAX;

pub async fn handle(ctx: &mut Ctx<'_>, req: WriteRequest<'_>, out: &mut BytesMut) -> HandlerResult {
    if ctx.on_ipc() {
        let p = ctx.pipe(req.file_id)?;
        let n = crate::pipes::write(&p, req.data)?;
        WriteResponse {
            count: proto::writer::len_u32(n),
            remaining: 0,
        }
        .encode(out, ctx.resp_start);
        return Ok(NtStatus::SUCCESS);
    }
    let open = ctx.open(req.file_id)?;
    if open.is_dir {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    // An append-only handle (FILE_APPEND_DATA without FILE_WRITE_DATA) writes at "end of file" or at
    // any offset from the end of the file on (MS-FSA 2.1.5.4), checked against the size when it
    // writes; a handle with write access must name a real offset.
    let append_only = !open.has_access(FILE_WRITE_DATA);
    if append_only && !open.has_access(FILE_APPEND_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let append = append_only && req.offset == APPEND_OFFSET;
    let len = proto::writer::len_u32(req.data.len());
    if len > ctx.conn.server.settings.max_write {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    super::read::check_credit_charge(ctx, len)?;
    let beyond_limit =
        req.offset > super::read::MAX_OFFSET || (len > 0 && req.offset >= MAX_FILE_SIZE);
    if !append && beyond_limit {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    // A write that starts below the limit but would take the file to it: the volume cannot hold it.
    if !append && len > 0 && req.offset + u64::from(len) >= MAX_FILE_SIZE {
        return Err(NtStatus::DISK_FULL);
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
    // Level II oplocks end before the data change (MS-FSA 2.1.4.12).
    crate::breaks::data_changed(&ctx.conn.server, &open);
    let data = ctx.frame_slice(req.data);
    let (file, node) = (Arc::clone(&open.file), Arc::clone(&open.node));
    let id = open.file_id.volatile;
    let (written, delayed) = run_as(&open.unix, move || {
        let delayed = node
            .write_time
            .before_write(id, || file.stat().ok().map(|s| s.last_write_time));
        let offset = if append_only {
            append_offset(&file, req.offset)?
        } else {
            req.offset
        };
        Ok((file.write_at(&data, offset)?, delayed))
    })
    .await?;
    if delayed {
        crate::write_time::update_later(&open);
    }
    crate::notify::modified(
        &ctx.conn.server,
        &open,
        completion_filter::SIZE | completion_filter::LAST_WRITE,
    );
    open.written
        .store(true, std::sync::atomic::Ordering::Relaxed);
    WriteResponse {
        count: proto::writer::len_u32(written),
        remaining: 0,
    }
    .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// Where an append-only handle's write of `requested` goes: the end of the file for "end of file",
/// `requested` if it is not below the end, else STATUS_ACCESS_DENIED.
fn append_offset(file: &vfs::OpenFile, requested: u64) -> Result<u64, NtStatus> {
    let size = file.stat()?.size;
    match requested {
        APPEND_OFFSET => Ok(size),
        at if at >= size => Ok(at),
        _ => Err(NtStatus::ACCESS_DENIED),
    }
}
