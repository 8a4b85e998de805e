//! Server-side copy (MS-SMB2 3.3.5.15.6 FSCTL_SRV_COPYCHUNK / FSCTL_SRV_COPYCHUNK_WRITE, 3.3.5.15.7
//! FSCTL_SRV_REQUEST_RESUME_KEY). The resume key is the source open's volatile FileId followed by 16
//! random bytes kept in the open, so it cannot be guessed; a copy finds the source server-wide and
//! accepts it only from the session that opened it. The data never leaves the kernel
//! (`vfs::OpenFile::copy_range_from`).

use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::open::Open;
use proto::messages::change_notify::completion_filter;
use proto::messages::create::access::{FILE_EXECUTE, FILE_READ_DATA, FILE_WRITE_DATA};
use proto::messages::ioctl::copychunk::{
    encode_resume_key_response, ResumeKey, SrvCopychunk, SrvCopychunkCopy, SrvCopychunkResponse,
};
use proto::messages::ioctl::IoctlRequest;
use proto::{FileId, NtStatus};
use std::sync::Arc;

/// ServerSideCopyMaxNumberofChunks, ServerSideCopyMaxChunkSize and ServerSideCopyMaxDataSize
/// (MS-SMB2 3.3.3), with Windows' values.
const MAX_CHUNKS: u32 = 256;
const MAX_CHUNK_SIZE: u32 = 1024 * 1024;
const MAX_DATA_SIZE: u32 = 16 * 1024 * 1024;

/// The response that tells the client the limits (MS-SMB2 3.3.5.15.6.2).
const LIMITS: SrvCopychunkResponse = SrvCopychunkResponse {
    chunks_written: MAX_CHUNKS,
    chunk_bytes_written: MAX_CHUNK_SIZE,
    total_bytes_written: MAX_DATA_SIZE,
};

/// FSCTL_SRV_REQUEST_RESUME_KEY: the key naming `file_id`'s open as a copy source.
pub fn request_resume_key(ctx: &mut Ctx<'_>, file_id: FileId) -> Result<Vec<u8>, NtStatus> {
    let open = ctx.open(file_id)?;
    let secret = match open.resume_secret.get() {
        Some(s) => *s,
        None => {
            let mut fresh = [0u8; 16];
            getrandom::fill(&mut fresh).map_err(|_| NtStatus::INTERNAL_ERROR)?;
            *open.resume_secret.get_or_init(|| fresh)
        }
    };
    let mut key: ResumeKey = [0; 24];
    key[..8].copy_from_slice(&open.file_id.volatile.to_le_bytes());
    key[8..].copy_from_slice(&secret);
    Ok(encode_resume_key_response(&key))
}

/// The open `key` names, if it was made for this session.
fn source_open(ctx: &Ctx<'_>, key: &ResumeKey) -> Result<Arc<Open>, NtStatus> {
    let (volatile, secret) = key.split_at(8);
    let volatile = u64::from_le_bytes(volatile.try_into().map_err(|_| NtStatus::INTERNAL_ERROR)?);
    let session = ctx.session()?.id;
    ctx.conn
        .server
        .opens
        .get_any(volatile)
        .map(|(_, open)| open)
        .filter(|open| {
            open.session_id == session
                && open
                    .resume_secret
                    .get()
                    .is_some_and(|s| crypto::ct_eq(s, secret))
        })
        .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)
}

/// FSCTL_SRV_COPYCHUNK (`read_target`: the destination must also be readable) and
/// FSCTL_SRV_COPYCHUNK_WRITE. Returns the SRV_COPYCHUNK_RESPONSE and the status to send it with.
pub async fn copychunk(
    ctx: &mut Ctx<'_>,
    req: &IoctlRequest<'_>,
    read_target: bool,
) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    let key: ResumeKey = req
        .input
        .get(..24)
        .and_then(|k| k.try_into().ok())
        .ok_or(NtStatus::INVALID_PARAMETER)?;
    let target = ctx.open(req.file_id)?;
    let source = source_open(ctx, &key)?;
    if (req.max_output_response as usize) < SrvCopychunkResponse::SIZE {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let Some(chunks) = checked_chunks(req.input) else {
        return Ok((LIMITS.encode(), NtStatus::INVALID_PARAMETER));
    };
    let target_access = if read_target {
        FILE_WRITE_DATA | FILE_READ_DATA
    } else {
        FILE_WRITE_DATA
    };
    // The source may be read with execute access too (Windows; smbtorture
    // smb2.ioctl.copy_chunk_bad_access).
    let source_readable = source.has_any_access(FILE_READ_DATA | FILE_EXECUTE);
    if !source_readable || !target.has_access(target_access) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if source.is_dir || target.is_dir {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    // Other opens' caching of the target ends before its data change, as for a WRITE.
    crate::breaks::data_changed(&ctx.conn.server, &target);
    if chunks.is_empty() && ctx.conn.apple.copyfile() {
        return copyfile(ctx, &source, &target).await;
    }
    let (done, status) = copy_chunks(&source, &target, chunks).await;
    if done.total_bytes_written > 0 {
        note_written(ctx, &target);
    }
    Ok((done.encode(), status))
}

/// A copy changed the target's data: watchers hear of it and its write time is due.
pub(super) fn note_written(ctx: &Ctx<'_>, target: &Arc<Open>) {
    crate::notify::modified(
        &ctx.conn.server,
        target,
        completion_filter::SIZE | completion_filter::LAST_WRITE,
    );
    target
        .written
        .store(true, std::sync::atomic::Ordering::Relaxed);
}

/// macOS's whole-file copy (AAPL copyfile): the source's data and streams onto the target; the
/// response counts the data bytes, with no chunks.
async fn copyfile(
    ctx: &Ctx<'_>,
    source: &Arc<Open>,
    target: &Arc<Open>,
) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    let (src, dst) = (Arc::clone(&source.file), Arc::clone(&target.file));
    let (tree, from, to) = (Arc::clone(&target.tree), source.path(), target.path());
    let copied = run_as(&target.unix, move || {
        let copied = dst.copy_file_from(&src)?;
        tree.vfs()?.copy_resource_fork(&from, &to)?;
        Ok(copied)
    })
    .await?;
    note_written(ctx, target);
    let done = SrvCopychunkResponse {
        total_bytes_written: u32::try_from(copied).unwrap_or(u32::MAX),
        ..Default::default()
    };
    Ok((done.encode(), NtStatus::SUCCESS))
}

/// The request's chunks if it keeps within the limits: every chunk 1 byte to 1 MiB, its target range
/// within the largest file offset, at most 16 MiB in all (MS-SMB2 3.3.5.15.6).
fn checked_chunks(input: &[u8]) -> Option<Vec<SrvCopychunk>> {
    let copy = SrvCopychunkCopy::decode(input).ok()?;
    if copy.chunk_count > MAX_CHUNKS {
        return None;
    }
    let chunks = copy.chunks().ok()?;
    let mut total = 0u32;
    for c in &chunks {
        let target_end = c.target_offset.checked_add(u64::from(c.length))?;
        if c.length == 0 || c.length > MAX_CHUNK_SIZE || target_end > super::super::read::MAX_OFFSET
        {
            return None;
        }
        total = total
            .checked_add(c.length)
            .filter(|&t| t <= MAX_DATA_SIZE)?;
    }
    Some(chunks)
}

/// Whether another open's byte-range lock covers the chunk's source (for reading) or target (for
/// writing) range.
fn locked(source: &Open, target: &Open, c: &SrvCopychunk) -> bool {
    let len = u64::from(c.length);
    crate::locks::io_conflicts(
        &source.node.locks(),
        source.file_id.volatile,
        c.source_offset,
        len,
        false,
    ) || crate::locks::io_conflicts(
        &target.node.locks(),
        target.file_id.volatile,
        c.target_offset,
        len,
        true,
    )
}

/// Copies the chunks in order until one fails: each source range must lie within the source file
/// (STATUS_INVALID_VIEW_SIZE) and neither range may be locked by another open
/// (STATUS_FILE_LOCK_CONFLICT). Returns what was written and the status to answer with.
///
/// All the chunks of a request are copied in one trip to the blocking pool, not one each: a request
/// holds up to 256 chunks. The locks are checked first, in memory; the copying stops before the
/// first locked chunk.
async fn copy_chunks(
    source: &Arc<Open>,
    target: &Arc<Open>,
    chunks: Vec<SrvCopychunk>,
) -> (SrvCopychunkResponse, NtStatus) {
    let unlocked = chunks
        .iter()
        .position(|c| locked(source, target, c))
        .unwrap_or(chunks.len());
    let (src, dst) = (Arc::clone(&source.file), Arc::clone(&target.file));
    let copied = run_as(&target.unix, move || {
        let mut done = SrvCopychunkResponse::default();
        for c in chunks.iter().take(unlocked) {
            match copy_one(&src, &dst, c) {
                Ok(n) => {
                    done.chunks_written += 1;
                    done.total_bytes_written = done.total_bytes_written.saturating_add(n);
                }
                Err(e) => return Ok((done, e)),
            }
        }
        let status = match unlocked < chunks.len() {
            true => NtStatus::FILE_LOCK_CONFLICT,
            false => NtStatus::SUCCESS,
        };
        Ok((done, status))
    })
    .await;
    copied.unwrap_or_else(|e| (SrvCopychunkResponse::default(), e))
}

/// One chunk, on the blocking pool; the source's size is read each time, since an earlier chunk may
/// have grown it (source and target may be the same file).
fn copy_one(src: &vfs::OpenFile, dst: &vfs::OpenFile, c: &SrvCopychunk) -> Result<u32, NtStatus> {
    let size = src.stat()?.size;
    let len = u64::from(c.length);
    if c.source_offset
        .checked_add(len)
        .is_none_or(|end| end > size)
    {
        return Err(NtStatus::INVALID_VIEW_SIZE);
    }
    let length = usize::try_from(c.length).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let copied = dst.copy_range_from(src, c.source_offset, c.target_offset, length)?;
    u32::try_from(copied).map_err(|_| NtStatus::INTERNAL_ERROR)
}
