//! READ (MS-SMB2 3.3.5.12). The data is read with `pread` straight into the response buffer behind the
//! 16-byte READ response header (DESIGN.md decision 2): the buffer is moved to the blocking pool and back,
//! so file data is never copied in user space, and `pread` fills the buffer's spare capacity (through
//! rustix's safe `spare_capacity`), so it is not zero-filled first either.

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::pending::Parked;
use bytes::BytesMut;
use proto::messages::create::access::{FILE_EXECUTE, FILE_READ_DATA};
use proto::messages::read::{encode_read_response_prefix, ReadRequest};
use proto::writer::patch_u32;
use proto::NtStatus;
use std::sync::Arc;

/// The largest byte offset a file can have (MS-FSA: offsets are signed 64-bit).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Offset of DataLength inside the READ response body.
const DATA_LENGTH_FIELD: usize = 4;

/// MS-SMB2 3.3.5.2.5: a request carrying `len` payload bytes must be charged ceil(len / 64 KiB) credits.
pub fn check_credit_charge(ctx: &Ctx<'_>, len: u32) -> Result<(), NtStatus> {
    let needed = len.saturating_sub(1) / 65536 + 1;
    let charge = u32::from(ctx.hdr.credit_charge.max(1));
    let multi = ctx
        .conn
        .negotiated()
        .is_some_and(|n| n.dialect >= proto::messages::negotiate::SMB2_1);
    if multi && len > 0 && charge < needed {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(())
}

pub async fn handle(ctx: &mut Ctx<'_>, req: ReadRequest<'_>, out: &mut BytesMut) -> HandlerResult {
    if ctx.on_ipc() {
        let p = ctx.pipe(req.file_id)?;
        let max = usize::try_from(req.length.min(ctx.conn.server.settings.max_read)).unwrap_or(0);
        let (data, status) = match crate::pipes::read(&p, max) {
            // Only the last request of a compound may go async (MS-SMB2 3.3.4.2).
            Err(NtStatus::PIPE_EMPTY) if ctx.hdr.next_command == 0 => {
                // Not tied to an open: the pipe's own close ends the wait (crate::pipes).
                let name = p.name.clone();
                return ctx.park(Parked::new(None, name, move |cancelled| {
                    crate::pipes::wait_and_read(p, max, cancelled)
                }));
            }
            other => other?,
        };
        encode_read_response_prefix(out, proto::writer::len_u32(data.len()), 0);
        out.extend_from_slice(&data);
        return Ok(status);
    }
    let open = ctx.open(req.file_id)?;
    if open.is_dir {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    if !open.has_any_access(FILE_READ_DATA | FILE_EXECUTE) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if req.length > ctx.conn.server.settings.max_read {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    check_credit_charge(ctx, req.length)?;
    // MS-FSA 2.1.5.2: the range must stay within the signed 64-bit file offsets.
    if req
        .offset
        .checked_add(u64::from(req.length))
        .is_none_or(|end| end > MAX_OFFSET)
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if crate::locks::io_conflicts(
        &open.node.locks(),
        open.file_id.volatile,
        req.offset,
        u64::from(req.length),
        false,
    ) {
        return Err(NtStatus::FILE_LOCK_CONFLICT);
    }
    let body_start = out.len();
    encode_read_response_prefix(out, 0, 0);
    let data_start = out.len();
    let len = usize::try_from(req.length).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    // The response so far (a few dozen bytes) is copied into a buffer (from the pool of reused buffers,
    // bounded by the CreditCharge the frame reserved) the data is then read into without zero-filling;
    // the buffer becomes the response without another copy.
    let mut buf = ctx.conn.server.buffers.take(data_start.saturating_add(len));
    buf.extend_from_slice(out);
    let file = Arc::clone(&open.file);
    let offset = req.offset;
    let (buf, result) = run_as(&open.unix, move || {
        let r = file.read_append(&mut buf, offset, len);
        Ok((buf, r))
    })
    .await
    .unwrap_or_else(|status| (vec![0; data_start], Err(status)));
    *out = crate::buffers::into_bytes_mut(buf);
    let n = result?;
    out.truncate(data_start + n);
    if n == 0 && len > 0 || n < usize::try_from(req.minimum_count).unwrap_or(usize::MAX) {
        return Err(NtStatus::END_OF_FILE);
    }
    patch_u32(
        out,
        body_start + DATA_LENGTH_FIELD,
        proto::writer::len_u32(n),
    );
    Ok(NtStatus::SUCCESS)
}
