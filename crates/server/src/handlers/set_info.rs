//! SET_INFO (MS-SMB2 3.3.5.21, MS-FSA 2.1.5.15): basic information (times, read-only attribute), end of
//! file, allocation, disposition (delete pending), rename, hard link, position, mode and extended
//! attributes (FileFullEaInformation, `crate::eas`), and security descriptors (3.3.5.21.3,
//! `crate::nt_acl::set`).

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::open::Open;
use bytes::BytesMut;
use proto::fscc::file_info::{FileBasicInformation, FileModeInformation, FilePositionInformation};
use proto::fscc::set_info::*;
use proto::fscc::*;
use proto::messages::change_notify::completion_filter as cf;
use proto::messages::create::access::{DELETE, FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA};
use proto::messages::query_info::{INFO_FILE, INFO_SECURITY};
use proto::messages::set_info::{SetInfoRequest, SetInfoResponse};
use proto::messages::Body;
use proto::reader::utf16le_to_string;
use proto::{DecodeError, NtStatus};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vfs::SmbPath;

const FILE_ATTRIBUTE_READONLY: u32 = 0x1;
const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x10;
const FILE_ATTRIBUTE_TEMPORARY: u32 = 0x100;

/// A buffer too short for its class is INFO_LENGTH_MISMATCH (MS-SMB2 3.3.5.21.1).
fn short(e: DecodeError) -> NtStatus {
    match e {
        DecodeError::Truncated => NtStatus::INFO_LENGTH_MISMATCH,
        _ => NtStatus::INVALID_PARAMETER,
    }
}

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: SetInfoRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    let open = ctx.open(req.file_id)?;
    if req.info_type == INFO_SECURITY {
        return set_security(ctx, &open, &req, out).await;
    }
    if req.info_type != INFO_FILE {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if !open.tree.writable {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let buf = req.buffer.to_vec();
    let o = Arc::clone(&open);
    let class = req.file_info_class;
    match class {
        FILE_RENAME_INFORMATION | FILE_RENAME_INFORMATION_EX | FILE_LINK_INFORMATION => {
            rename_or_link(ctx, &open, class, &buf).await?
        }
        _ => {
            let filter = changes(class, &buf);
            if filter & cf::SIZE != 0 {
                // A size change ends level II oplocks (MS-FSA 2.1.4.12).
                crate::breaks::data_changed(&ctx.conn.server, &open);
            }
            run_as(&open.unix, move || set_simple(&o, class, &buf)).await?;
            crate::notify::modified(&ctx.conn.server, &open, filter);
            if open.is_dir && open.node.delete_pending() {
                ctx.conn.server.notify.delete_pending(&open.node);
            }
        }
    }
    SetInfoResponse.encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// SecurityInformation (MS-SMB2 3.3.5.21.3): the descriptor's parts through [`crate::nt_acl::set`].
async fn set_security(
    ctx: &mut Ctx<'_>,
    open: &Arc<Open>,
    req: &SetInfoRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    let domain = ctx.conn.server.settings.domain_sid.clone();
    crate::nt_acl::set::set_security(open, &domain, req.additional_information, req.buffer).await?;
    crate::notify::modified(&ctx.conn.server, open, cf::SECURITY);
    SetInfoResponse.encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// A rename that replaces an open file first lets its leases' handle caching go, so a client that
/// only kept the handle cached can close it (smbtorture smb2.lease.v2_rename_target_overwrite).
async fn release_target_handles(ctx: &mut Ctx<'_>, open: &Arc<Open>, to: &SmbPath) {
    let (o, to2) = (Arc::clone(open), to.clone());
    let key = run_as(&open.unix, move || {
        let st = o.tree.vfs()?.stat(&to2)?;
        Ok(crate::files::key_of(&st))
    })
    .await;
    if let Some(node) = key.ok().and_then(|k| ctx.conn.server.files.node(k)) {
        crate::breaks::release_handles(ctx, &node, None).await;
    }
}

fn require(o: &Open, access: u32) -> Result<(), NtStatus> {
    if o.has_access(access) {
        Ok(())
    } else {
        Err(NtStatus::ACCESS_DENIED)
    }
}

/// A FILETIME field of FileBasicInformation: 0 and -1 mean "leave unchanged", -2 "resume updates".
fn time_arg(t: u64) -> Option<u64> {
    (t != 0 && t < u64::MAX - 1).then_some(t)
}

/// What a successful SET_INFO of `class` changes, as CHANGE_NOTIFY completion-filter bits.
fn changes(class: u8, buf: &[u8]) -> u32 {
    match class {
        FILE_BASIC_INFORMATION => FileBasicInformation::decode(buf).map_or(0, |b| {
            let bit = |t: u64, f: u32| if time_arg(t).is_some() { f } else { 0 };
            (if b.file_attributes != 0 {
                cf::ATTRIBUTES
            } else {
                0
            }) | bit(b.creation_time, cf::CREATION)
                | bit(b.last_access_time, cf::LAST_ACCESS)
                | bit(b.last_write_time, cf::LAST_WRITE)
                | bit(b.change_time, cf::LAST_WRITE)
        }),
        FILE_END_OF_FILE_INFORMATION | FILE_ALLOCATION_INFORMATION => cf::SIZE | cf::LAST_WRITE,
        FILE_FULL_EA_INFORMATION => cf::EA,
        _ => 0,
    }
}

fn set_simple(o: &Open, class: u8, buf: &[u8]) -> Result<(), NtStatus> {
    if matches!(
        class,
        FILE_BASIC_INFORMATION | FILE_END_OF_FILE_INFORMATION | FILE_ALLOCATION_INFORMATION
    ) {
        // These make a due write-time update first, even when they change no time (Windows; smbtorture
        // smb2.timestamps.delayed-write-vs-setbasic and -seteof).
        o.node.write_time.update_if_due(&o.file)?;
    }
    match class {
        FILE_BASIC_INFORMATION => {
            require(o, FILE_WRITE_ATTRIBUTES)?;
            let b = FileBasicInformation::decode(buf).map_err(short)?;
            set_basic(o, &b)
        }
        FILE_END_OF_FILE_INFORMATION => {
            require(o, FILE_WRITE_DATA)?;
            let e = FileEndOfFileInformation::decode(buf).map_err(short)?;
            if o.is_dir || e.end_of_file > i64::MAX as u64 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            o.file.set_len(e.end_of_file)
        }
        FILE_ALLOCATION_INFORMATION => {
            require(o, FILE_WRITE_DATA)?;
            let a = FileAllocationInformation::decode(buf).map_err(short)?;
            if o.is_dir || a.allocation_size > i64::MAX as u64 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            // MS-FSA 2.1.5.15.1: an allocation below end of file truncates the file.
            if a.allocation_size < o.file.stat()?.size {
                o.file.set_len(a.allocation_size)
            } else {
                o.file.allocate(a.allocation_size)
            }
        }
        FILE_DISPOSITION_INFORMATION => {
            let d = FileDispositionInformation::decode(buf).map_err(short)?;
            set_delete_pending(o, d.delete_pending)
        }
        FILE_DISPOSITION_INFORMATION_EX => {
            let d = FileDispositionInformationEx::decode(buf).map_err(short)?;
            let delete = d.flags & disposition_flags::DELETE != 0;
            if d.flags & disposition_flags::ON_CLOSE != 0 {
                require(o, DELETE)?;
                o.delete_on_close.store(delete, Ordering::Relaxed);
                Ok(())
            } else {
                set_delete_pending(o, delete)
            }
        }
        FILE_POSITION_INFORMATION => {
            let p = FilePositionInformation::decode(buf).map_err(short)?;
            o.position.store(p.current_byte_offset, Ordering::Relaxed);
            Ok(())
        }
        FILE_MODE_INFORMATION => {
            let m = FileModeInformation::decode(buf).map_err(short)?;
            o.mode.store(m.mode, Ordering::Relaxed);
            Ok(())
        }
        FILE_FULL_EA_INFORMATION => crate::eas::set_info(o, buf),
        _ => Err(NtStatus::INVALID_INFO_CLASS),
    }
}

fn set_basic(o: &Open, b: &FileBasicInformation) -> Result<(), NtStatus> {
    if b.file_attributes & FILE_ATTRIBUTE_DIRECTORY != 0 && !o.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    // MS-FSA 2.1.5.15.2: TEMPORARY is not valid on a directory.
    if b.file_attributes & FILE_ATTRIBUTE_TEMPORARY != 0 && o.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let (atime, mtime) = (time_arg(b.last_access_time), time_arg(b.last_write_time));
    if atime.is_some() || mtime.is_some() {
        o.file.set_times(atime, mtime)?;
    }
    if mtime.is_some() {
        o.node.write_time.set_explicitly();
    }
    let (creation, change) = (time_arg(b.creation_time), time_arg(b.change_time));
    if b.file_attributes == 0 && creation.is_none() && change.is_none() {
        return Ok(());
    }
    let current = o.file.stat()?;
    let attributes = match b.file_attributes {
        0 => current.file_attributes(""),
        a => a,
    };
    // Linux cannot set ctime: an explicit ChangeTime is stored with the DOS attributes, keyed to the
    // mtime it was set against (vfs::dosattrib).
    let change_time = change.map(|time| vfs::ChangeTime {
        time,
        since_write: current.last_write_time,
    });
    // The xattr first: removing the write bits for READONLY could otherwise stop it being written.
    o.file.set_dos_info(&vfs::DosInfo {
        change_time,
        ..vfs::DosInfo::new(attributes, creation.or(Some(current.creation_time)))
    })?;
    if b.file_attributes != 0 && !o.is_dir {
        o.file
            .set_readonly(attributes & FILE_ATTRIBUTE_READONLY != 0)?;
    }
    Ok(())
}

/// MS-FSA 2.1.5.15.3: set or clear delete-pending on the file; a non-empty directory or a read-only
/// file cannot be marked (vetoed entries do not count with `delete veto files`).
fn set_delete_pending(o: &Open, pending: bool) -> Result<(), NtStatus> {
    require(o, DELETE)?;
    if pending {
        let stat = o.file.stat()?;
        if o.is_dir {
            let names = &o.tree.share.names;
            let mut entries = o.file.read_dir()?;
            while let Some(e) = entries.next_entry() {
                let name = e?.name;
                let removable = names.delete_veto_files && names.is_vetoed(&name);
                if name != "." && name != ".." && !removable {
                    return Err(NtStatus::DIRECTORY_NOT_EMPTY);
                }
            }
        } else if stat.file_attributes("") & FILE_ATTRIBUTE_READONLY != 0 {
            return Err(NtStatus::CANNOT_DELETE);
        }
    }
    o.node.set_delete_pending(pending);
    Ok(())
}

/// The target of a rename or link: a path from the share root (MS-SMB2 2.2.39: RootDirectory must be 0).
fn target_path(info: &FileRenameInformation<'_>) -> Result<SmbPath, NtStatus> {
    if info.root_directory != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let name = utf16le_to_string(info.file_name).map_err(|_| NtStatus::OBJECT_NAME_INVALID)?;
    let name = name.trim_start_matches('\\');
    if name.is_empty() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    SmbPath::parse(name)
}

/// A rename through a stream's handle, or to a stream name (`:name`).
fn is_stream_rename(open: &Open, info: &FileRenameInformation<'_>) -> bool {
    open.file.stream_name().is_some() || info.file_name.starts_with(&[b':', 0])
}

/// Renames the stream of `open` (MS-FSA 2.1.5.15.11.1) to `:name[:$DATA]`. A full path through a
/// stream's handle is SHARING_VIOLATION, as Windows answers; renaming to or from the unnamed data stream
/// is not supported.
async fn rename_stream(
    open: &Arc<Open>,
    info: &FileRenameInformation<'_>,
    replace: bool,
) -> Result<(), NtStatus> {
    require(open, DELETE)?;
    if info.root_directory != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let name = utf16le_to_string(info.file_name).map_err(|_| NtStatus::OBJECT_NAME_INVALID)?;
    if !name.starts_with(':') {
        return Err(NtStatus::SHARING_VIOLATION);
    }
    let to = vfs::parse_rename_target(&name)?;
    let o = Arc::clone(open);
    run_as(&open.unix, move || match to {
        // A directory has no unnamed data stream to rename to.
        None if o.file.object_is_dir() => Err(NtStatus::INVALID_PARAMETER),
        None => Err(NtStatus::NOT_SUPPORTED),
        Some(_) if o.file.stream_name().is_none() => Err(NtStatus::NOT_SUPPORTED),
        Some(to) => o.file.rename_stream(&to, replace),
    })
    .await
}

/// The opens of the same share (connected, or kept for a durable reconnect) that name something below
/// the directory `dir`, with the rest of their path (compared without regard to ASCII case: a false match only refuses a rename).
fn opens_below(ctx: &Ctx<'_>, open: &Open, dir: &SmbPath) -> Vec<(Arc<Open>, String)> {
    let prefix = format!("{}/", dir.as_unix());
    let share = &open.tree.share.name;
    let rest = |o: &Open| {
        let path = o.path();
        let p = path.as_unix();
        let head = p.get(..prefix.len())?;
        (o.tree.share.name == *share && head.eq_ignore_ascii_case(&prefix))
            .then(|| p.get(prefix.len()..).map(str::to_owned))
            .flatten()
    };
    let server = &ctx.conn.server;
    let connected = server.opens.matching(|o| rest(o).is_some());
    // Opens kept after a disconnect are opens too: their client may reclaim them by path.
    let disconnected = server.durable.matching(|o| rest(o).is_some());
    connected
        .into_iter()
        .chain(disconnected)
        .filter_map(|o| rest(&o).map(|r| (o, r)))
        .collect()
}

async fn rename_or_link(
    ctx: &mut Ctx<'_>,
    open: &Arc<Open>,
    class: u8,
    buf: &[u8],
) -> Result<(), NtStatus> {
    let info = if class == FILE_RENAME_INFORMATION_EX {
        FileRenameInformation::decode_ex(buf)
    } else {
        FileRenameInformation::decode(buf)
    }
    .map_err(short)?;
    let replace = info.flags & rename_flags::REPLACE_IF_EXISTS != 0;
    let is_link = class == FILE_LINK_INFORMATION;
    if is_stream_rename(open, &info) {
        if is_link {
            // A hard link names a file, never a stream (MS-FSA 2.1.5.15.6).
            return Err(NtStatus::INVALID_PARAMETER);
        }
        return rename_stream(open, &info, replace).await;
    }
    let to = target_path(&info)?;
    // A vetoed name cannot be created by renaming either (Samba answers the same).
    open.tree
        .share
        .names
        .check_path(&to)
        .map_err(|_| NtStatus::ACCESS_DENIED)?;
    if !is_link {
        require(open, DELETE)?;
        // Windows refuses to rename a file one of whose streams is open.
        if ctx.conn.server.files.has_open_streams(open.node.key()) {
            return Err(NtStatus::ACCESS_DENIED);
        }
    }
    let from = open.path();
    if !is_link && from == to {
        return Ok(());
    }
    let below = match !is_link && open.is_dir {
        true => opens_below(ctx, open, &from),
        false => Vec::new(),
    };
    // Windows refuses to rename a directory while a file below it is open (smbtorture
    // smb2.rename.rename_dir_openfile); macOS may (`fruit:posix_rename`), and those opens follow.
    if !below.is_empty()
        && !crate::fruit::posix_rename(&ctx.conn.apple, open.tree.share.fruit.as_ref())
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if !is_link {
        crate::breaks::release_handles(ctx, &open.node, Some(open.file_id.volatile)).await;
    }
    if replace {
        release_target_handles(ctx, open, &to).await;
    }
    // A new name in the target folder needs the right to add it there (FILE_ADD_FILE, or
    // FILE_ADD_SUBDIRECTORY for a folder), as a CREATE of that name would (MS-FSA 2.1.5.15.12).
    let domain = &ctx.conn.server.settings.domain_sid;
    crate::nt_acl::create::AclCreate::new(&open.tree, &to, domain)
        .check_add(true, open.is_dir && !is_link)
        .await?;
    let (server, o, to2) = (Arc::clone(&ctx.conn.server), Arc::clone(open), to.clone());
    run_as(&open.unix, move || {
        let share = o.tree.vfs()?;
        if replace {
            // Windows refuses to replace a file that is open (MS-FSA 2.1.5.15.12).
            if let Ok(st) = share.stat(&to2) {
                if server
                    .files
                    .is_open_elsewhere(crate::files::key_of(&st), o.file_id.volatile)
                {
                    return Err(NtStatus::ACCESS_DENIED);
                }
            }
        }
        // Adding a name to the destination directory is an implicit open of it for FILE_ADD_FILE,
        // which fails with SHARING_VIOLATION against its conflicting opens (MS-FSA 2.1.5.15.12).
        let parent = to2
            .parent_and_name()
            .map(|(p, _)| p)
            .unwrap_or_else(SmbPath::root);
        if let Ok(st) = share.stat(&parent) {
            let share_rw = crate::files::FILE_SHARE_READ | crate::files::FILE_SHARE_WRITE;
            if server
                .files
                .would_conflict(crate::files::key_of(&st), FILE_WRITE_DATA, share_rw)
            {
                return Err(NtStatus::SHARING_VIOLATION);
            }
        }
        if is_link {
            share.link(&from, &to2, replace)
        } else {
            share.rename(&from, &to2, replace)
        }
    })
    .await?;
    let server = &ctx.conn.server;
    if is_link {
        crate::notify::added(server, &open.tree, &to, false);
    } else {
        let from = open.path();
        open.set_path(to.clone());
        for (o, rest) in below {
            if let Ok(moved) = to.join(&rest) {
                o.set_path(moved);
            }
        }
        crate::notify::renamed(server, &open.tree, &from, &to, open.is_dir);
        crate::breaks::dir_changed(server, &open.tree, &from, None);
        crate::breaks::dir_changed(server, &open.tree, &to, None);
    }
    Ok(())
}
