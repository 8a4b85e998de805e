//! FSCTL_GET_COMPRESSION and FSCTL_SET_COMPRESSION (MS-FSA 2.1.5.10, MS-FSCC 2.3.12/2.3.67) as on a
//! file system without compression: files are never compressed, only "no compression" can be set.

use crate::dispatch::Ctx;
use proto::messages::create::access::FILE_WRITE_DATA;
use proto::messages::ioctl::sparse::{
    compression_format, decode_compression_state, encode_compression_state,
};
use proto::{FileId, NtStatus};

/// FSCTL_GET_COMPRESSION: COMPRESSION_FORMAT_NONE.
pub fn get(ctx: &mut Ctx<'_>, file_id: FileId) -> Result<Vec<u8>, NtStatus> {
    ctx.open(file_id)?;
    Ok(encode_compression_state(compression_format::NONE))
}

/// FSCTL_SET_COMPRESSION: COMPRESSION_FORMAT_NONE succeeds, any other format is STATUS_NOT_SUPPORTED.
pub fn set(ctx: &mut Ctx<'_>, file_id: FileId, input: &[u8]) -> Result<Vec<u8>, NtStatus> {
    let open = ctx.open(file_id)?;
    let format = decode_compression_state(input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if !open.has_access(FILE_WRITE_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    match format {
        compression_format::NONE => Ok(Vec::new()),
        compression_format::DEFAULT | compression_format::LZNT1 => Err(NtStatus::NOT_SUPPORTED),
        _ => Err(NtStatus::INVALID_PARAMETER),
    }
}
