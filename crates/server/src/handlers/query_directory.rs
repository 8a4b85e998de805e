//! QUERY_DIRECTORY (MS-SMB2 3.3.5.18): enumerates a directory handle in the requested information class,
//! filtered by the search pattern, resuming where the previous call stopped. Entries stream from the
//! directory one at a time; at most one read-ahead entry is kept between calls. With `hide unreadable`
//! (access-based enumeration) entries the user may not read are left out (`crate::nt_acl::readable`).

use super::HandlerResult;
use crate::blocking::run_as;
use crate::dispatch::Ctx;
use crate::names::NameFilter;
use crate::open::{DirSearch, Open};
use crate::wildcard;
use bytes::BytesMut;
use proto::fscc::{self, encode_dir_entry, entry_len, DirEntryInfo};
use proto::messages::create::access::FILE_LIST_DIRECTORY;
use proto::messages::query_directory::*;
use proto::messages::Body;
use proto::reader::utf16le_to_string;
use proto::writer::{len_u32, pad_to, patch_u32};
use proto::NtStatus;
use std::sync::Arc;

const CLASSES: [u8; 7] = [
    fscc::FILE_DIRECTORY_INFORMATION,
    fscc::FILE_FULL_DIRECTORY_INFORMATION,
    fscc::FILE_BOTH_DIRECTORY_INFORMATION,
    fscc::FILE_ID_BOTH_DIRECTORY_INFORMATION,
    fscc::FILE_ID_FULL_DIRECTORY_INFORMATION,
    fscc::FILE_NAMES_INFORMATION,
    fscc::FILE_ID_EXTD_DIRECTORY_INFORMATION,
];

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: QueryDirectoryRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    let open = ctx.open(req.file_id)?;
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !open.has_access(FILE_LIST_DIRECTORY) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if !CLASSES.contains(&req.file_information_class) {
        return Err(NtStatus::INVALID_INFO_CLASS);
    }
    if req.output_buffer_length > ctx.conn.server.settings.max_trans {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let pattern = utf16le_to_string(req.file_name).map_err(|_| NtStatus::OBJECT_NAME_INVALID)?;
    let params =
        Params {
            class: req.file_information_class,
            restart: req.flags & (RESTART_SCANS | REOPEN) != 0,
            single: req.flags & RETURN_SINGLE_ENTRY != 0,
            pattern: if pattern.is_empty() {
                "*".to_owned()
            } else {
                pattern
            },
            max: usize::try_from(req.output_buffer_length).unwrap_or(0),
            hide_unreadable: open.tree.share.acls.hide_unreadable.then(|| {
                crate::nt_acl::token(&ctx.conn.server.settings.domain_sid, &open.tree.unix)
            }),
            apple: crate::fruit::listing(&ctx.conn.apple, open.tree.share.fruit.as_ref()),
        };
    let o = Arc::clone(&open);
    let buf = run_as(&open.unix, move || fill(&o, &params)).await?;
    proto::messages::query_directory::QueryDirectoryResponse { buffer: &buf }
        .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

struct Params {
    class: u8,
    restart: bool,
    single: bool,
    pattern: String,
    max: usize,
    /// `hide unreadable`: the token entries are checked against.
    hide_unreadable: Option<dtyp::access::Token>,
    /// What a macOS client negotiated for listings (AAPL).
    apple: crate::fruit::Listing,
}

/// Fill one response buffer with entries (blocking; runs on the pool).
fn fill(open: &Open, p: &Params) -> Result<Vec<u8>, NtStatus> {
    let mut guard = open.search();
    if p.restart || guard.is_none() {
        *guard = Some(DirSearch {
            stream: open.file.read_dir()?,
            pattern: wildcard::compile(&p.pattern),
            pending: None,
            index: 0,
            queried: false,
        });
    }
    let search = guard.as_mut().ok_or(NtStatus::INTERNAL_ERROR)?;
    let mut w = BytesMut::new();
    let mut prev: Option<usize> = None;
    while let Some(entry) = next_match(open, search, p.hide_unreadable.as_ref())? {
        let Some(len) = entry_len(p.class, &entry.name) else {
            return Err(NtStatus::INVALID_INFO_CLASS);
        };
        let start = w.len().next_multiple_of(8);
        if start + len > p.max {
            search.pending = Some(entry);
            break;
        }
        if let Some(prev) = prev {
            pad_to(&mut w, 0, 8);
            patch_u32(&mut w, prev, len_u32(start - prev));
        }
        search.index = search.index.wrapping_add(1);
        let short = carries_short_name(p.class)
            .then(|| crate::short_name::listed(&entry.name))
            .flatten();
        let mut info = entry_info(&entry, search.index, &open.tree.share.names);
        info.short_name = short.as_ref().map_or("", |s| s.as_str());
        crate::fruit::enrich(open, &p.apple, &entry, &mut info);
        encode_dir_entry(p.class, &info, &mut w).map_err(|_| NtStatus::INVALID_INFO_CLASS)?;
        prev = Some(start);
        if p.single {
            break;
        }
    }
    let first = !std::mem::replace(&mut search.queried, true);
    if prev.is_some() {
        return Ok(w.to_vec());
    }
    Err(match (&search.pending, first) {
        (Some(_), _) => NtStatus::INFO_LENGTH_MISMATCH,
        (None, true) => NtStatus::NO_SUCH_FILE,
        (None, false) => NtStatus::NO_MORE_FILES,
    })
}

/// The next entry matching the pattern (and, with `hide`, readable by its token): the read-ahead one
/// first, then the directory stream.
fn next_match(
    open: &Open,
    search: &mut DirSearch,
    hide: Option<&dtyp::access::Token>,
) -> Result<Option<vfs::DirEntry>, NtStatus> {
    if let Some(e) = search.pending.take() {
        return Ok(Some(e));
    }
    while let Some(entry) = search.stream.next_entry() {
        let entry = entry?;
        if !wildcard::matches(&search.pattern, &entry.name)
            || open.tree.share.names.is_vetoed(&entry.name)
            || hide.is_some_and(|token| !listable(open, token, &entry.name))
        {
            continue;
        }
        if !entry.stat.is_symlink {
            return Ok(Some(entry));
        }
        if let Some(target) = followed(open, &entry) {
            return Ok(Some(target));
        }
    }
    Ok(None)
}

/// Whether an entry stays in a `hide unreadable` listing: "." and ".." always do.
fn listable(open: &Open, token: &dtyp::access::Token, name: &str) -> bool {
    if name == "." || name == ".." {
        return true;
    }
    open.path()
        .join(name)
        .is_ok_and(|path| crate::nt_acl::readable(&open.tree, token, &path))
}

/// A symbolic link is listed as what it points to when the share follows links and the target lies
/// inside the share (resolved by the kernel beneath the share root); otherwise it is not listed at all,
/// since a client could not open it.
fn followed(open: &Open, entry: &vfs::DirEntry) -> Option<vfs::DirEntry> {
    let share = open.tree.share.vfs.as_ref()?;
    if !share.options().follow_symlinks {
        return None;
    }
    let path = open.path().join(&entry.name).ok()?;
    let stat = share.stat(&path).ok()?;
    Some(vfs::DirEntry {
        name: entry.name.clone(),
        stat,
        ea_size: entry.ea_size,
    })
}

/// The classes with a ShortName field (MS-FSCC 2.4.8, 2.4.17).
fn carries_short_name(class: u8) -> bool {
    matches!(
        class,
        fscc::FILE_BOTH_DIRECTORY_INFORMATION | fscc::FILE_ID_BOTH_DIRECTORY_INFORMATION
    )
}

fn entry_info<'a>(e: &'a vfs::DirEntry, index: u32, names: &NameFilter) -> DirEntryInfo<'a> {
    let s = &e.stat;
    DirEntryInfo {
        file_index: index,
        creation_time: s.creation_time,
        last_access_time: s.last_access_time,
        last_write_time: s.last_write_time,
        change_time: s.change_time,
        end_of_file: s.end_of_file(),
        allocation_size: s.alloc_size,
        file_attributes: names.attributes(s, &e.name),
        ea_size: e.ea_size,
        file_id: s.ino,
        short_name: "",
        name: &e.name,
        apple: None,
    }
}
