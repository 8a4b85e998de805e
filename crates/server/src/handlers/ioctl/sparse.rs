//! Sparse files (MS-FSA 2.1.5.10 FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA, FSCTL_QUERY_ALLOCATED_RANGES;
//! MS-FSCC 2.3). The sparse flag is FILE_ATTRIBUTE_SPARSE_FILE in the stored DOS attributes; holes
//! are the file system's (`vfs::OpenFile::zero_range`, `vfs::OpenFile::allocated_ranges`).

use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::open::Open;
use proto::messages::change_notify::completion_filter;
use proto::messages::create::access::{
    FILE_APPEND_DATA, FILE_READ_DATA, FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA,
};
use proto::messages::ioctl::sparse::{
    decode_set_sparse, FileAllocatedRangeBuffer, FileZeroDataInformation,
};
use proto::messages::ioctl::IoctlRequest;
use proto::{FileId, NtStatus};
use std::sync::Arc;

/// The largest file offset (MS-FSA: offsets are signed 64-bit).
const MAX_OFFSET: u64 = super::super::read::MAX_OFFSET;

/// The open of a data stream: a directory is STATUS_INVALID_PARAMETER.
fn data_open(ctx: &mut Ctx<'_>, file_id: FileId) -> Result<Arc<Open>, NtStatus> {
    let open = ctx.open(file_id)?;
    if open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(open)
}

/// FSCTL_SET_SPARSE: needs FILE_WRITE_DATA or FILE_WRITE_ATTRIBUTES (MS-FSA), or FILE_APPEND_DATA,
/// which Windows accepts too (smbtorture smb2.ioctl.sparse_perms).
pub async fn set_sparse(
    ctx: &mut Ctx<'_>,
    file_id: FileId,
    input: &[u8],
) -> Result<Vec<u8>, NtStatus> {
    let open = data_open(ctx, file_id)?;
    if !open.has_any_access(FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_APPEND_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let sparse = decode_set_sparse(input);
    let file = Arc::clone(&open.file);
    run_as(&open.unix, move || file.set_sparse(sparse)).await?;
    crate::notify::modified(&ctx.conn.server, &open, completion_filter::ATTRIBUTES);
    Ok(Vec::new())
}

/// FSCTL_SET_ZERO_DATA: zeros (on a sparse file, deallocates) a range as a write would, within the
/// end of file.
pub async fn set_zero_data(
    ctx: &mut Ctx<'_>,
    file_id: FileId,
    input: &[u8],
) -> Result<Vec<u8>, NtStatus> {
    let open = data_open(ctx, file_id)?;
    let zero = FileZeroDataInformation::decode(input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if zero.file_offset > zero.beyond_final_zero || zero.beyond_final_zero > MAX_OFFSET {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !open.has_access(FILE_WRITE_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let len = zero.beyond_final_zero - zero.file_offset;
    if crate::locks::io_conflicts(
        &open.node.locks(),
        open.file_id.volatile,
        zero.file_offset,
        len,
        true,
    ) {
        return Err(NtStatus::FILE_LOCK_CONFLICT);
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    crate::breaks::data_changed(&ctx.conn.server, &open);
    let file = Arc::clone(&open.file);
    run_as(&open.unix, move || {
        file.zero_range(zero.file_offset, zero.beyond_final_zero)
    })
    .await?;
    crate::notify::modified(&ctx.conn.server, &open, completion_filter::LAST_WRITE);
    open.written
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(Vec::new())
}

/// FSCTL_QUERY_ALLOCATED_RANGES: the allocated ranges within the one asked about, as many as the
/// output holds (STATUS_BUFFER_OVERFLOW when some are left out, STATUS_BUFFER_TOO_SMALL when none
/// fits).
pub async fn query_allocated_ranges(
    ctx: &mut Ctx<'_>,
    req: &IoctlRequest<'_>,
) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    let open = data_open(ctx, req.file_id)?;
    let query =
        FileAllocatedRangeBuffer::decode(req.input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let in_range = query
        .file_offset
        .checked_add(query.length)
        .is_some_and(|end| end <= MAX_OFFSET);
    if !in_range {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !open.has_access(FILE_READ_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let fits = req.max_output_response as usize / FileAllocatedRangeBuffer::SIZE;
    let file = Arc::clone(&open.file);
    let ranges = run_as(&open.unix, move || {
        file.allocated_ranges(query.file_offset, query.length, fits.saturating_add(1))
    })
    .await?;
    let status = match ranges.len() {
        0 => NtStatus::SUCCESS,
        _ if fits == 0 => return Err(NtStatus::BUFFER_TOO_SMALL),
        n if n > fits => NtStatus::BUFFER_OVERFLOW,
        _ => NtStatus::SUCCESS,
    };
    let list: Vec<FileAllocatedRangeBuffer> = ranges
        .iter()
        .take(fits)
        .map(|&(file_offset, length)| FileAllocatedRangeBuffer {
            file_offset,
            length,
        })
        .collect();
    Ok((FileAllocatedRangeBuffer::encode_list(&list), status))
}
