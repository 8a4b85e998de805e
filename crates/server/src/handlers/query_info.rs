//! QUERY_INFO (MS-SMB2 3.3.5.20): file information classes (MS-FSCC 2.4) and file-system information
//! classes (MS-FSCC 2.5) built from `vfs` stat results; FileFullEaInformation through `crate::eas`;
//! security descriptors (3.3.5.20.3) from [`crate::nt_acl`] (stored or synthesised). Quota information fails with
//! STATUS_NOT_SUPPORTED.

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::open::Open;
use bytes::BytesMut;
use proto::fscc::file_info::*;
use proto::fscc::fs_info::*;
use proto::fscc::*;
use proto::messages::create::access::{ACCESS_SYSTEM_SECURITY, FILE_READ_ATTRIBUTES, READ_CONTROL};
use proto::messages::query_info::{
    security_information, QueryInfoRequest, QueryInfoResponse, INFO_FILE, INFO_FILESYSTEM,
    INFO_SECURITY,
};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: QueryInfoRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    if req.output_buffer_length > ctx.conn.server.settings.max_trans {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if ctx.on_ipc() {
        ctx.pipe(req.file_id)?;
        let buf = pipe_info(req.info_type, req.file_info_class)?;
        let max = usize::try_from(req.output_buffer_length).unwrap_or(0);
        let (data, status) = fit(&buf, max, None)?;
        QueryInfoResponse { buffer: data }.encode(out, ctx.resp_start);
        return Ok(status);
    }
    let open = ctx.open(req.file_id)?;
    let (class, max) = (
        req.file_info_class,
        usize::try_from(req.output_buffer_length).unwrap_or(0),
    );
    let o = Arc::clone(&open);
    if req.info_type == INFO_FILE && class == FILE_FULL_EA_INFORMATION {
        let (flags, index, names) = (req.flags, req.additional_information, req.input.to_vec());
        let (data, status) = run_as(&open.unix, move || {
            let q = crate::eas::Query {
                flags,
                index,
                names: &names,
                max,
            };
            crate::eas::query(&o, q)
        })
        .await?;
        QueryInfoResponse { buffer: &data }.encode(out, ctx.resp_start);
        return Ok(status);
    }
    // MS-SMB2 3.3.5.20.1: FileNormalizedNameInformation is for SMB 3.1.1 only.
    let smb311 = ctx
        .conn
        .negotiated()
        .is_some_and(|n| n.dialect >= proto::messages::negotiate::SMB3_1_1);
    if req.info_type == INFO_FILE && class == FILE_NORMALIZED_NAME_INFORMATION && !smb311 {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let buf = match req.info_type {
        INFO_FILE => run_as(&open.unix, move || file_info(&o, class)).await?,
        INFO_FILESYSTEM => run_as(&open.unix, move || fs_info(&o, class)).await?,
        INFO_SECURITY => return security(ctx, &open, req.additional_information, max, out).await,
        _ => return Err(NtStatus::NOT_SUPPORTED),
    };
    let (data, status) = fit(&buf, max, variable_tail_offset(req.info_type, class))?;
    QueryInfoResponse { buffer: data }.encode(out, ctx.resp_start);
    Ok(status)
}

/// MS-SMB2 3.3.5.20.3: the descriptor needs READ_CONTROL (and ACCESS_SYSTEM_SECURITY for the SACL); a
/// buffer too small for it gets STATUS_BUFFER_TOO_SMALL with the size it needs as the error data.
async fn security(
    ctx: &mut Ctx<'_>,
    open: &Arc<Open>,
    wanted: u32,
    max: usize,
    out: &mut BytesMut,
) -> HandlerResult {
    use security_information::{DACL, GROUP, LABEL, OWNER, SACL};
    // Asking for no part at all needs no right and gets an empty descriptor (smb2.sdread).
    let needs_read_control = wanted & (OWNER | GROUP | DACL | LABEL) != 0;
    if (needs_read_control && !open.has_access(READ_CONTROL))
        || (wanted & SACL != 0 && !open.has_access(ACCESS_SYSTEM_SECURITY))
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let file = Arc::clone(&open.file);
    let policy = open.tree.share.acls;
    let sd = run_as(&open.unix, move || {
        let stat = file.stat()?;
        Ok(crate::nt_acl::current(policy, &file, &stat))
    })
    .await?;
    let sd = sd
        .filtered(wanted)
        .encode()
        .map_err(|_| NtStatus::INTERNAL_ERROR)?;
    if sd.len() > max {
        ctx.error_data = Some(proto::writer::len_u32(sd.len()).to_le_bytes().to_vec());
        return Err(NtStatus::BUFFER_TOO_SMALL);
    }
    QueryInfoResponse { buffer: &sd }.encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// The smallest buffer a class with a variable-length tail accepts (below it: INFO_LENGTH_MISMATCH;
/// above it but short of the whole answer: BUFFER_OVERFLOW). These are the sizes Windows enforces: the
/// fixed part rounded up to 8 bytes. None for fixed-size classes.
fn variable_tail_offset(info_type: u8, class: u8) -> Option<usize> {
    match (info_type, class) {
        (INFO_FILE, FILE_ALL_INFORMATION) => Some(104),
        (
            INFO_FILE,
            FILE_NAME_INFORMATION
            | FILE_NORMALIZED_NAME_INFORMATION
            | FILE_ALTERNATE_NAME_INFORMATION,
        ) => Some(8),
        (INFO_FILE, FILE_STREAM_INFORMATION) => Some(32),
        (INFO_FILESYSTEM, FILE_FS_VOLUME_INFORMATION) => Some(24),
        (INFO_FILESYSTEM, FILE_FS_ATTRIBUTE_INFORMATION) => Some(16),
        _ => None,
    }
}

/// Fixed-size classes fail with INFO_LENGTH_MISMATCH when the client's buffer is too small; classes with
/// a variable tail are truncated with BUFFER_OVERFLOW once the fixed part fits (MS-SMB2 3.3.5.20.1).
fn fit(buf: &[u8], max: usize, tail: Option<usize>) -> Result<(&[u8], NtStatus), NtStatus> {
    if buf.len() <= max {
        return Ok((buf, NtStatus::SUCCESS));
    }
    let fixed = tail.unwrap_or(buf.len());
    if max < fixed {
        return Err(NtStatus::INFO_LENGTH_MISMATCH);
    }
    Ok((buf.get(..max).unwrap_or(buf), NtStatus::BUFFER_OVERFLOW))
}

fn basic(s: &vfs::FileStat, attributes: u32) -> FileBasicInformation {
    FileBasicInformation {
        creation_time: s.creation_time,
        last_access_time: s.last_access_time,
        last_write_time: s.last_write_time,
        change_time: s.change_time,
        file_attributes: attributes,
    }
}

fn standard(o: &Open, s: &vfs::FileStat) -> FileStandardInformation {
    FileStandardInformation {
        allocation_size: s.alloc_size,
        end_of_file: s.end_of_file(),
        number_of_links: u32::try_from(s.nlink).unwrap_or(u32::MAX),
        delete_pending: o.node.delete_pending(),
        directory: s.is_dir,
    }
}

/// The path as Windows shows it: `\dir\file` from the share root, with `:stream` for a stream's open.
fn smb_name(o: &Open) -> String {
    smb_name_of(o, &o.path())
}

/// `p` (the path of `o`, as named or as stored) in SMB form, with `o`'s stream.
fn smb_name_of(o: &Open, p: &vfs::SmbPath) -> String {
    let mut name = if p.is_root() {
        "\\".to_owned()
    } else {
        format!("\\{}", p.as_unix().replace('/', "\\"))
    };
    if let Some(stream) = o.file.stream_name() {
        name.push(':');
        name.push_str(&stream);
    }
    name
}

/// FileStreamInformation (MS-FSCC 2.4.44): `::$DATA` for the unnamed data stream of a file, then
/// `:name:$DATA` for each named stream of the file or directory.
fn stream_information(o: &Open) -> Result<FileStreamInformation, NtStatus> {
    let mut streams = o.file.streams()?;
    streams.extend(crate::fruit::resource_file_stream(o)?);
    let entries = streams
        .into_iter()
        .map(|s| StreamEntry {
            name: format!(":{}:$DATA", s.name),
            size: s.size,
            allocation_size: s.alloc_size,
        })
        .collect();
    Ok(FileStreamInformation { entries })
}

/// What a named pipe answers (MS-FSCC 2.4.41 FileStandardInformation of a pipe): its buffer as the
/// allocation size, one link, not a directory.
fn pipe_info(info_type: u8, class: u8) -> Result<Vec<u8>, NtStatus> {
    let mut w = BytesMut::new();
    match (info_type, class) {
        (INFO_FILE, FILE_STANDARD_INFORMATION) => FileStandardInformation {
            allocation_size: super::create::PIPE_ALLOCATION,
            end_of_file: 0,
            number_of_links: 1,
            delete_pending: false,
            directory: false,
        }
        .encode(&mut w),
        (INFO_FILE, FILE_BASIC_INFORMATION) => FileBasicInformation {
            creation_time: 0,
            last_access_time: 0,
            last_write_time: 0,
            change_time: 0,
            file_attributes: 0x80,
        }
        .encode(&mut w),
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    }
    Ok(w.to_vec())
}

fn file_info(o: &Open, class: u8) -> Result<Vec<u8>, NtStatus> {
    // MS-FSA 2.1.5.12: only these classes require FILE_READ_ATTRIBUTES on the handle.
    let needs_attr_access = matches!(
        class,
        FILE_BASIC_INFORMATION
            | FILE_ALL_INFORMATION
            | FILE_NETWORK_OPEN_INFORMATION
            | FILE_ATTRIBUTE_TAG_INFORMATION
    );
    if needs_attr_access && !o.has_access(FILE_READ_ATTRIBUTES) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let s = o.stat()?;
    let path = o.path();
    let name = path.file_name();
    let attributes = o.tree.share.names.attributes(&s, name);
    let mut w = BytesMut::new();
    match class {
        FILE_BASIC_INFORMATION => basic(&s, attributes).encode(&mut w),
        FILE_STANDARD_INFORMATION => standard(o, &s).encode(&mut w),
        FILE_INTERNAL_INFORMATION => FileInternalInformation {
            index_number: s.ino,
        }
        .encode(&mut w),
        FILE_EA_INFORMATION => FileEaInformation {
            ea_size: o.file.ea_size(),
        }
        .encode(&mut w),
        FILE_ACCESS_INFORMATION => FileAccessInformation {
            access_flags: o.granted_access,
        }
        .encode(&mut w),
        FILE_POSITION_INFORMATION => FilePositionInformation {
            current_byte_offset: o.position.load(Ordering::Relaxed),
        }
        .encode(&mut w),
        FILE_MODE_INFORMATION => FileModeInformation {
            mode: o.mode.load(Ordering::Relaxed),
        }
        .encode(&mut w),
        FILE_ALIGNMENT_INFORMATION => FileAlignmentInformation::default().encode(&mut w),
        FILE_ALL_INFORMATION => FileAllInformation {
            basic: basic(&s, attributes),
            standard: standard(o, &s),
            internal: FileInternalInformation {
                index_number: s.ino,
            },
            ea: FileEaInformation {
                ea_size: o.file.ea_size(),
            },
            access: FileAccessInformation {
                access_flags: o.granted_access,
            },
            position: FilePositionInformation {
                current_byte_offset: o.position.load(Ordering::Relaxed),
            },
            mode: FileModeInformation {
                mode: o.mode.load(Ordering::Relaxed),
            },
            alignment: FileAlignmentInformation::default(),
            name: FileNameInformation {
                file_name: smb_name(o),
            },
        }
        .encode(&mut w),
        FILE_NETWORK_OPEN_INFORMATION => FileNetworkOpenInformation {
            creation_time: s.creation_time,
            last_access_time: s.last_access_time,
            last_write_time: s.last_write_time,
            change_time: s.change_time,
            allocation_size: s.alloc_size,
            end_of_file: s.end_of_file(),
            file_attributes: attributes,
        }
        .encode(&mut w),
        FILE_ATTRIBUTE_TAG_INFORMATION => FileAttributeTagInformation {
            file_attributes: attributes,
            reparse_tag: 0,
        }
        .encode(&mut w),
        FILE_STREAM_INFORMATION => stream_information(o)?.encode(&mut w),
        FILE_COMPRESSION_INFORMATION => FileCompressionInformation {
            compressed_file_size: s.size,
            compression_format: 0,
            compression_unit_shift: 0,
            chunk_shift: 0,
            cluster_shift: 0,
        }
        .encode(&mut w),
        FILE_NORMALIZED_NAME_INFORMATION => {
            // The name as stored, whatever case the client opened it with (MS-FSCC 2.4.30).
            let stored = o.tree.vfs()?.stored_path(&o.path());
            let n = smb_name_of(o, &stored);
            FileNameInformation {
                file_name: n.trim_start_matches('\\').to_owned(),
            }
            .encode(&mut w)
        }
        FILE_ALTERNATE_NAME_INFORMATION => FileNameInformation {
            file_name: crate::short_name::short_name(name).as_str().to_owned(),
        }
        .encode(&mut w),
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    }
    Ok(w.to_vec())
}

/// FileFsAttributeInformation's FileSystemAttributes: FILE_SUPPORTS_BLOCK_REFCOUNTING only where the
/// file system clones (Windows clients try FSCTL_DUPLICATE_EXTENTS_TO_FILE only when it is there).
fn fs_attribute_flags(share: &vfs::Share) -> u32 {
    let optional = |on: bool, flag: u32| if on { flag } else { 0 };
    fs_attributes::CASE_SENSITIVE_SEARCH
        | fs_attributes::CASE_PRESERVED_NAMES
        | fs_attributes::UNICODE_ON_DISK
        | fs_attributes::SUPPORTS_SPARSE_FILES
        | fs_attributes::SUPPORTS_HARD_LINKS
        | optional(
            share.options().ea_support,
            fs_attributes::SUPPORTS_EXTENDED_ATTRIBUTES,
        )
        | optional(
            share.supports_block_cloning(),
            fs_attributes::SUPPORTS_BLOCK_REFCOUNTING,
        )
}

fn fs_info(o: &Open, class: u8) -> Result<Vec<u8>, NtStatus> {
    let share = o.tree.vfs()?;
    let st =
        crate::fruit::time_machine::capped(o.tree.share.fruit.as_ref(), share, share.fs_stat()?)?;
    let bytes_per_sector: u32 = 512;
    let sectors_per_unit = u32::try_from(st.block_size / u64::from(bytes_per_sector))
        .unwrap_or(1)
        .max(1);
    let root_stat = o.file.stat()?;
    let mut w = BytesMut::new();
    match class {
        FILE_FS_VOLUME_INFORMATION => FileFsVolumeInformation {
            volume_creation_time: root_stat.creation_time,
            volume_serial_number: (st.fsid ^ (st.fsid >> 32)) as u32,
            supports_objects: false,
            volume_label: o.tree.share.name.clone(),
        }
        .encode(&mut w),
        FILE_FS_SIZE_INFORMATION => FileFsSizeInformation {
            total_allocation_units: st.total_blocks,
            available_allocation_units: st.avail_blocks,
            sectors_per_allocation_unit: sectors_per_unit,
            bytes_per_sector,
        }
        .encode(&mut w),
        FILE_FS_DEVICE_INFORMATION => FileFsDeviceInformation {
            device_type: FILE_DEVICE_DISK,
            characteristics: device_characteristics::DEVICE_IS_MOUNTED,
        }
        .encode(&mut w),
        FILE_FS_ATTRIBUTE_INFORMATION => FileFsAttributeInformation {
            file_system_attributes: fs_attribute_flags(share),
            maximum_component_name_length: st.name_max,
            file_system_name: "NTFS".to_owned(),
        }
        .encode(&mut w),
        FILE_FS_FULL_SIZE_INFORMATION => FileFsFullSizeInformation {
            total_allocation_units: st.total_blocks,
            caller_available_allocation_units: st.avail_blocks,
            actual_available_allocation_units: st.free_blocks,
            sectors_per_allocation_unit: sectors_per_unit,
            bytes_per_sector,
        }
        .encode(&mut w),
        FILE_FS_OBJECT_ID_INFORMATION => {
            let mut object_id = [0u8; 16];
            object_id[..8].copy_from_slice(&st.fsid.to_le_bytes());
            FileFsObjectIdInformation {
                object_id,
                extended_info: [0; 48],
            }
            .encode(&mut w)
        }
        // No quotas: FileFsControlInformation (MS-FSCC 2.5.2) with every limit at zero and no flags.
        FILE_FS_CONTROL_INFORMATION => w.extend_from_slice(&[0u8; 48]),
        FILE_FS_SECTOR_SIZE_INFORMATION => FileFsSectorSizeInformation {
            logical_bytes_per_sector: bytes_per_sector,
            physical_bytes_per_sector_for_atomicity: bytes_per_sector,
            physical_bytes_per_sector_for_performance: bytes_per_sector,
            file_system_effective_physical_bytes_per_sector_for_atomicity: bytes_per_sector,
            flags: sector_size_flags::ALIGNED_DEVICE
                | sector_size_flags::PARTITION_ALIGNED_ON_DEVICE,
            byte_offset_for_sector_alignment: 0,
            byte_offset_for_partition_alignment: 0,
        }
        .encode(&mut w),
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    }
    Ok(w.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_fit() {
        let buf = [0u8; 40];
        assert_eq!(fit(&buf, 39, None), Err(NtStatus::INFO_LENGTH_MISMATCH));
        assert_eq!(fit(&buf, 40, None).unwrap().1, NtStatus::SUCCESS);
        assert_eq!(fit(&buf, 20, Some(24)), Err(NtStatus::INFO_LENGTH_MISMATCH));
        let (data, status) = fit(&buf, 30, Some(24)).unwrap();
        assert_eq!((data.len(), status), (30, NtStatus::BUFFER_OVERFLOW));
    }
}
