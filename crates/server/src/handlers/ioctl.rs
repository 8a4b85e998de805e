//! IOCTL (MS-SMB2 3.3.5.15): FSCTL_VALIDATE_NEGOTIATE_INFO (3.3.5.15.12),
//! FSCTL_QUERY_NETWORK_INTERFACE_INFO (3.3.5.15.11) and FSCTL_LMR_REQUEST_RESILIENCY (3.3.5.15.9) here;
//! server-side copy in [`copychunk`], block cloning in [`duplicate_extents`], sparse files in [`sparse`],
//! compression in [`compression`].
//! Other control codes fail with the status Windows returns for a control code the file system does
//! not implement.

use super::HandlerResult;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::ioctl::*;
use proto::messages::negotiate::SMB3_1_1;
use proto::messages::Body;
use proto::NtStatus;

mod compression;
mod copychunk;
mod duplicate_extents;
mod sparse;

pub async fn handle(ctx: &mut Ctx<'_>, req: IoctlRequest<'_>, out: &mut BytesMut) -> HandlerResult {
    if req.flags & IOCTL_IS_FSCTL == 0 {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if req.max_output_response > ctx.conn.server.settings.max_trans
        || req.input.len() > ctx.conn.server.settings.max_trans as usize
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if addresses_no_file(req.ctl_code) && req.file_id != NO_FILE {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let ok = |output: Vec<u8>| (output, NtStatus::SUCCESS);
    let (output, status) = match req.ctl_code {
        fsctl::VALIDATE_NEGOTIATE_INFO => ok(validate_negotiate(ctx, req.input)?),
        fsctl::QUERY_NETWORK_INTERFACE_INFO => ok(network_interfaces(ctx)),
        fsctl::PIPE_TRANSCEIVE => {
            let p = ctx.pipe(req.file_id)?;
            let max = usize::try_from(req.max_output_response).unwrap_or(0);
            crate::pipes::transceive(&p, req.input, max)?
        }
        fsctl::PIPE_WAIT => ok(pipe_wait(ctx, req.input)?),
        fsctl::LMR_REQUEST_RESILIENCY => ok(request_resiliency(ctx, req.file_id, req.input)?),
        fsctl::CREATE_OR_GET_OBJECT_ID | fsctl::GET_OBJECT_ID => {
            ok(object_id(ctx, req.file_id).await?)
        }
        fsctl::SRV_REQUEST_RESUME_KEY => ok(copychunk::request_resume_key(ctx, req.file_id)?),
        fsctl::SRV_COPYCHUNK => copychunk::copychunk(ctx, &req, true).await?,
        fsctl::SRV_COPYCHUNK_WRITE => copychunk::copychunk(ctx, &req, false).await?,
        fsctl::DUPLICATE_EXTENTS_TO_FILE => {
            duplicate_extents::duplicate_extents(ctx, &req).await?;
            ok(Vec::new())
        }
        fsctl::SET_SPARSE => ok(sparse::set_sparse(ctx, req.file_id, req.input).await?),
        fsctl::SET_ZERO_DATA => ok(sparse::set_zero_data(ctx, req.file_id, req.input).await?),
        fsctl::QUERY_ALLOCATED_RANGES => sparse::query_allocated_ranges(ctx, &req).await?,
        fsctl::GET_COMPRESSION => ok(compression::get(ctx, req.file_id)?),
        fsctl::SET_COMPRESSION => ok(compression::set(ctx, req.file_id, req.input)?),
        fsctl::DFS_GET_REFERRALS | fsctl::DFS_GET_REFERRALS_EX => {
            return Err(NtStatus::FS_DRIVER_REQUIRED)
        }
        _ => {
            ctx.open(req.file_id)?;
            return Err(NtStatus::INVALID_DEVICE_REQUEST);
        }
    };
    if output.len() > req.max_output_response as usize {
        return Err(NtStatus::BUFFER_TOO_SMALL);
    }
    IoctlResponse {
        ctl_code: req.ctl_code,
        file_id: req.file_id,
        input: &[],
        output: &output,
        flags: 0,
    }
    .encode(out, ctx.resp_start);
    Ok(status)
}

/// The FileId of a request that addresses no open: all ones.
const NO_FILE: proto::FileId = proto::FileId::COMPOUNDED;

/// MS-SMB2 3.3.5.15: these control codes name no open, and their FileId must be all ones.
fn addresses_no_file(ctl_code: u32) -> bool {
    matches!(
        ctl_code,
        fsctl::DFS_GET_REFERRALS
            | fsctl::DFS_GET_REFERRALS_EX
            | fsctl::QUERY_NETWORK_INTERFACE_INFO
            | fsctl::VALIDATE_NEGOTIATE_INFO
            | fsctl::PIPE_WAIT
    )
}

/// The longest resiliency a client may ask for, in milliseconds (Windows' limit: five minutes).
const MAX_RESILIENCY_TIMEOUT_MS: u32 = 300_000;

/// FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 3.3.5.15.9): the open becomes resilient, so replays of its
/// LOCKs are recognised by their LockSequence. (A resilient open that loses its connection is closed
/// like any open that is not durable; keeping it is for a later step.)
fn request_resiliency(
    ctx: &mut Ctx<'_>,
    file_id: proto::FileId,
    input: &[u8],
) -> Result<Vec<u8>, NtStatus> {
    let timeout = proto::reader::Reader::new(input)
        .u32()
        .map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if timeout > MAX_RESILIENCY_TIMEOUT_MS {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let open = ctx.open(file_id)?;
    open.resilient
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(Vec::new())
}

/// MS-SMB2 3.3.5.15.12: the client repeats what it sent in NEGOTIATE; any difference means the NEGOTIATE
/// was tampered with, and the connection is dropped.
fn validate_negotiate(ctx: &mut Ctx<'_>, input: &[u8]) -> Result<Vec<u8>, NtStatus> {
    let neg = ctx.conn.negotiated().ok_or(NtStatus::INVALID_PARAMETER)?;
    if neg.dialect == SMB3_1_1 {
        // 3.1.1 protects NEGOTIATE with the preauth hash; a validate request there is an attack or a bug.
        ctx.close_after = true;
        return Err(NtStatus::ACCESS_DENIED);
    }
    let req =
        ValidateNegotiateInfoRequest::decode(input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let server_pick = super::negotiate::pick_dialect(ctx.conn, &req.dialects);
    let same = req.capabilities == neg.client_capabilities
        && req.guid == neg.client_guid
        && req.security_mode == neg.client_security_mode
        && server_pick == Some(neg.dialect);
    if !same {
        tracing::warn!(peer = %ctx.conn.peer, "validate negotiate mismatch: dropping the connection");
        ctx.disconnect = true;
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(ValidateNegotiateInfoResponse {
        capabilities: neg.server_capabilities,
        guid: ctx.conn.server.settings.server_guid,
        security_mode: neg.server_security_mode,
        dialect: neg.dialect,
    }
    .encode())
}

/// FSCTL_CREATE_OR_GET_OBJECT_ID / FSCTL_GET_OBJECT_ID (MS-FSCC 2.3.9, 2.1.3.1 FILE_OBJECTID_BUFFER): the
/// object id is derived from the inode and device numbers, so it is stable for the file's lifetime and
/// needs no storage.
async fn object_id(ctx: &mut Ctx<'_>, file_id: proto::FileId) -> Result<Vec<u8>, NtStatus> {
    let open = ctx.open(file_id)?;
    let file = std::sync::Arc::clone(&open.file);
    let st = crate::blocking::run_as(&open.unix, move || file.stat()).await?;
    let mut object_id = [0u8; 16];
    object_id[..8].copy_from_slice(&st.ino.to_le_bytes());
    object_id[8..].copy_from_slice(&st.dev.to_le_bytes());
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&object_id); // ObjectId
    out.extend_from_slice(&[0u8; 8]); // BirthVolumeId: the device number below
    out.extend_from_slice(&st.dev.to_le_bytes());
    out.extend_from_slice(&object_id); // BirthObjectId
    out.extend_from_slice(&[0u8; 16]); // DomainId
    Ok(out)
}

/// FSCTL_PIPE_WAIT (MS-FSCC 2.3.49): rsmbd's pipes are always available, so the wait ends at once for a
/// pipe that exists.
fn pipe_wait(ctx: &Ctx<'_>, input: &[u8]) -> Result<Vec<u8>, NtStatus> {
    if !ctx.on_ipc() {
        return Err(NtStatus::INVALID_DEVICE_REQUEST);
    }
    let mut r = proto::Reader::new(input);
    let (_timeout, name_len) = (r.u64(), r.u32().map_err(|_| NtStatus::INVALID_PARAMETER)?);
    r.skip(2).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let name = r
        .take(name_len as usize)
        .map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let name = proto::reader::utf16le_to_string(name).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if crate::pipes::exists(&name) {
        Ok(Vec::new())
    } else {
        Err(NtStatus::OBJECT_NAME_NOT_FOUND)
    }
}

/// The server's interfaces the client may open further channels to ([`crate::interfaces`]).
fn network_interfaces(ctx: &Ctx<'_>) -> Vec<u8> {
    let server = &ctx.conn.server;
    let listening = server.listening.get().map_or(&[][..], Vec::as_slice);
    let list = crate::interfaces::list(listening, ctx.conn.local.ip().to_canonical());
    encode_network_interfaces(&list)
}
