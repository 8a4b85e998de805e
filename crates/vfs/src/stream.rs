//! Alternate data streams (MS-FSCC 2.1.5.3 stream names, 2.1.5.4 stream types, 2.4.44
//! FileStreamInformation; MS-FSA 2.1.5.1 opening a named stream), kept on disk as Samba's `streams_xattr`
//! module keeps them (DESIGN.md decision 7): the stream `NAME` of a file or directory is the extended
//! attribute `user.DosStream.NAME:$DATA` of that object, its value the stream's bytes followed by one NUL
//! byte. The name is stored as the client first spelt it and matched without regard to case.
//!
//! A stream is never reached by a path of its own: it is only an extended attribute of an object already
//! opened beneath the share root, so no stream name can lead out of the share. Its size is bounded by the
//! largest value Linux stores in one extended attribute (64 KiB, less on some file systems); a write
//! beyond what the file system takes fails with STATUS_DISK_FULL, as a full volume does on Windows.

use std::os::fd::BorrowedFd;
use std::sync::{Mutex, MutexGuard, PoisonError};

use proto::NtStatus;
use rustix::fs::XattrFlags;
use rustix::io::Errno;

use crate::errno::errno_to_status;
use crate::fruit::{self, FruitOptions};
use crate::path::SmbPath;
use crate::VfsResult;

/// The largest stream name, in UTF-16 code units (MS-FSA 2.1.5.15.11.1: 255 characters).
pub const MAX_STREAM_NAME_CHARS: usize = 255;
/// The largest stream: Linux's XATTR_SIZE_MAX less the stored NUL byte.
pub const MAX_STREAM_SIZE: usize = XATTR_MAX - 1;

/// What precedes a stream's name in its extended attribute's name.
const PREFIX: &str = "user.DosStream.";
/// What follows it: the only stream type, `$DATA`.
const SUFFIX: &str = ":$DATA";
/// The stream type (MS-FSCC 2.1.5.4); matched without regard to case.
const DATA_TYPE: &str = "$DATA";
/// The largest extended attribute name (XATTR_NAME_MAX).
const XATTR_NAME_MAX: usize = 255;
/// The largest list of names and the largest value Linux hands out (XATTR_LIST_MAX, XATTR_SIZE_MAX).
const XATTR_MAX: usize = 65536;
/// Characters a stream name may not hold (MS-FSCC 2.1.5.3), besides NUL.
const INVALID_STREAM_CHARS: &[char] = &['\\', '/', ':'];

/// A valid stream name, without the leading `:` and the type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamName(String);

impl StreamName {
    /// Checks a stream name against MS-FSCC 2.1.5.3 and what one extended attribute name can hold.
    pub fn new(name: &str) -> VfsResult<StreamName> {
        let too_long = name.encode_utf16().count() > MAX_STREAM_NAME_CHARS
            || PREFIX.len() + name.len() + SUFFIX.len() > XATTR_NAME_MAX;
        if name.is_empty() || too_long || name.contains('\0') {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        if name.contains(INVALID_STREAM_CHARS) {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        Ok(StreamName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The stream part of a CREATE name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamPart {
    /// No stream designator: the file or directory itself.
    None,
    /// `::$DATA`: the unnamed data stream, which a directory does not have.
    DefaultData,
    /// A named data stream.
    Named(StreamName),
}

/// A CREATE name split into the path of the object and its stream (MS-FSCC 2.1.5: `file:stream:type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedName {
    pub path: SmbPath,
    pub stream: StreamPart,
}

/// Splits and validates `name` (`\` separators, no leading `\`, `""` for the root). A `:` may only stand
/// in the last component; a type other than `$DATA` (any case), an empty type after a second `:` and a
/// stream name with `\ / :` or NUL are OBJECT_NAME_INVALID, as Windows answers.
pub fn parse_name(name: &str) -> VfsResult<ParsedName> {
    let Some((file, rest)) = name.split_once(':') else {
        return Ok(ParsedName {
            path: SmbPath::parse(name)?,
            stream: StreamPart::None,
        });
    };
    let path = SmbPath::parse(file)?;
    let stream = match split_type(rest)? {
        "" => StreamPart::DefaultData,
        stream => StreamPart::Named(StreamName::new(stream)?),
    };
    Ok(ParsedName { path, stream })
}

/// `stream[:type]` to the stream name, checking the type; `""` names the unnamed stream, which a lone
/// `$DATA` (as in `file:$DATA`) names too.
fn split_type(rest: &str) -> VfsResult<&str> {
    match rest.split_once(':') {
        None if rest.is_empty() => Err(NtStatus::OBJECT_NAME_INVALID),
        None if rest.eq_ignore_ascii_case(DATA_TYPE) => Ok(""),
        None => Ok(rest),
        Some((stream, kind)) if kind.eq_ignore_ascii_case(DATA_TYPE) => Ok(stream),
        Some(_) => Err(NtStatus::OBJECT_NAME_INVALID),
    }
}

/// The target of a stream rename (MS-FSA 2.1.5.15.11.1): `:name[:$DATA]`, or `::$DATA` for the unnamed
/// stream (`None`). Anything malformed is STATUS_INVALID_PARAMETER there.
pub fn parse_rename_target(name: &str) -> VfsResult<Option<StreamName>> {
    let rest = name.strip_prefix(':').ok_or(NtStatus::INVALID_PARAMETER)?;
    match split_type(rest) {
        Ok("") => Ok(None),
        Ok(stream) => StreamName::new(stream)
            .map(Some)
            .map_err(|_| NtStatus::INVALID_PARAMETER),
        Err(_) => Err(NtStatus::INVALID_PARAMETER),
    }
}

/// One named stream of an object: its stored name and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    pub name: String,
    pub size: u64,
    pub alloc_size: u64,
}

/// The unit stream sizes are reported allocated in.
const ALLOCATION_UNIT: u64 = 512;

/// The allocation reported for a stream of `size` bytes.
pub(crate) fn allocation(size: u64) -> u64 {
    size.div_ceil(ALLOCATION_UNIT)
        .saturating_mul(ALLOCATION_UNIT)
}

/// The extended attribute holding the stream stored as `stored`.
fn key(stored: &str) -> String {
    format!("{PREFIX}{stored}{SUFFIX}")
}

/// The stored names of the streams of `fd`, in the file system's order.
fn stored_names(fd: BorrowedFd<'_>) -> VfsResult<Vec<String>> {
    let mut buf = vec![0u8; XATTR_MAX];
    let len = match rustix::fs::flistxattr(fd, &mut buf[..]) {
        Ok(len) => len,
        Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(stream_errno_to_status(e)),
    };
    Ok(buf
        .get(..len)
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter_map(|n| std::str::from_utf8(n).ok())
        .filter_map(|n| n.strip_prefix(PREFIX)?.strip_suffix(SUFFIX))
        .filter(|n| StreamName::new(n).is_ok())
        .map(str::to_owned)
        .collect())
}

/// Whether two stream names are the same (case-insensitive, as Windows compares them).
fn same_name(a: &str, b: &str) -> bool {
    a == b || a.to_uppercase() == b.to_uppercase()
}

/// The stored spelling of the stream `name` of `fd`, if it exists.
pub(crate) fn find(
    fd: BorrowedFd<'_>,
    name: &StreamName,
    fruit: Option<FruitOptions>,
) -> VfsResult<Option<String>> {
    if FruitOptions::is_netatalk_info(fruit, name.as_str()) {
        return Ok(fruit::finder_info(fd)?.map(|_| fruit::AFP_INFO.to_owned()));
    }
    let found = stored_names(fd)?
        .into_iter()
        .find(|n| same_name(n, name.as_str()));
    match found {
        Some(stored)
            if fruit::empty_means_none(fruit, &stored) && read(fd, &stored, None)?.is_empty() =>
        {
            Ok(None)
        }
        other => Ok(other),
    }
}

/// The named streams of `fd` with their sizes.
pub(crate) fn list(fd: BorrowedFd<'_>, fruit: Option<FruitOptions>) -> VfsResult<Vec<StreamInfo>> {
    let mut out = Vec::new();
    let netatalk = FruitOptions::is_netatalk_info(fruit, fruit::AFP_INFO);
    if netatalk && fruit::finder_info(fd)?.is_some() {
        out.push(StreamInfo {
            name: fruit::AFP_INFO.to_owned(),
            size: fruit::AFP_INFO_SIZE as u64,
            alloc_size: allocation(fruit::AFP_INFO_SIZE as u64),
        });
    }
    for name in stored_names(fd)? {
        if netatalk && name == fruit::AFP_INFO {
            continue;
        }
        match rustix::fs::fgetxattr_query(fd, key(&name).as_str()) {
            Ok(len) if len <= 1 && fruit::empty_means_none(fruit, &name) => {}
            Ok(len) => {
                let size = u64::try_from(len.saturating_sub(1)).unwrap_or(u64::MAX);
                out.push(StreamInfo {
                    name,
                    size,
                    alloc_size: allocation(size),
                });
            }
            Err(Errno::NODATA) => {} // removed since the listing
            Err(e) => return Err(stream_errno_to_status(e)),
        }
    }
    Ok(out)
}

/// The bytes of the stream stored as `stored` (without the NUL byte); OBJECT_NAME_NOT_FOUND when gone.
pub(crate) fn read(
    fd: BorrowedFd<'_>,
    stored: &str,
    fruit: Option<FruitOptions>,
) -> VfsResult<Vec<u8>> {
    if FruitOptions::is_netatalk_info(fruit, stored) {
        return fruit::read(fd);
    }
    let mut buf = vec![0u8; XATTR_MAX];
    let len = rustix::fs::fgetxattr(fd, key(stored).as_str(), &mut buf[..])
        .map_err(stream_errno_to_status)?;
    // Samba's layout ends with a NUL byte; a value without one is taken whole.
    let data_len = match buf.get(..len) {
        Some([.., 0]) => len - 1,
        _ => len,
    };
    buf.truncate(data_len);
    Ok(buf)
}

/// Stores `data` as the stream `stored`; `create` fails with OBJECT_NAME_COLLISION if it exists.
pub(crate) fn write(
    fd: BorrowedFd<'_>,
    stored: &str,
    data: &[u8],
    create: bool,
    fruit: Option<FruitOptions>,
) -> VfsResult<()> {
    if FruitOptions::is_netatalk_info(fruit, stored) {
        // Created empty, the AfpInfo exists once FinderInfo is written (as with vfs_fruit).
        return if data.is_empty() {
            Ok(())
        } else {
            fruit::write(fd, data)
        };
    }
    if data.len() > MAX_STREAM_SIZE {
        return Err(NtStatus::DISK_FULL);
    }
    // An empty resource fork left by a truncation does not exist, so creating it again replaces it.
    let create = create && !fruit::empty_means_none(fruit, stored);
    let mut value = Vec::with_capacity(data.len() + 1);
    value.extend_from_slice(data);
    value.push(0);
    let flags = if create {
        XattrFlags::CREATE
    } else {
        XattrFlags::empty()
    };
    rustix::fs::fsetxattr(fd, key(stored).as_str(), &value, flags).map_err(stream_errno_to_status)
}

/// Changes of streams are read, modify, store: two handles changing one stream at once would lose one
/// change, so the changes of one object's streams take turns (objects share these locks by identity).
static UPDATE_LOCKS: [Mutex<()>; 64] = [const { Mutex::new(()) }; 64];

/// The lock the stream changes of the object `fd` take.
fn update_lock(fd: BorrowedFd<'_>) -> MutexGuard<'static, ()> {
    let [first, ..] = &UPDATE_LOCKS;
    let key = rustix::fs::fstat(fd).map_or(0, |st| st.st_dev ^ st.st_ino);
    let slot = usize::try_from(key % UPDATE_LOCKS.len() as u64).unwrap_or(0);
    UPDATE_LOCKS
        .get(slot)
        .unwrap_or(first)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Reads the stream `stored`, lets `change` modify its bytes and stores them, with no other change of the
/// object's streams in between.
pub(crate) fn update(
    fd: BorrowedFd<'_>,
    stored: &str,
    fruit: Option<FruitOptions>,
    change: impl FnOnce(&mut Vec<u8>),
) -> VfsResult<()> {
    let _turn = update_lock(fd);
    let mut value = read(fd, stored, fruit)?;
    change(&mut value);
    write(fd, stored, &value, false, fruit)
}

/// Removes the stream `stored`; one already gone is no error.
pub(crate) fn remove(
    fd: BorrowedFd<'_>,
    stored: &str,
    fruit: Option<FruitOptions>,
) -> VfsResult<()> {
    if FruitOptions::is_netatalk_info(fruit, stored) {
        return fruit::remove(fd);
    }
    match rustix::fs::fremovexattr(fd, key(stored).as_str()) {
        Ok(()) | Err(Errno::NODATA) => Ok(()),
        Err(e) => Err(stream_errno_to_status(e)),
    }
}

/// Removes every named stream of `fd` (an overwritten or superseded file keeps none, MS-FSA 2.1.5.1.2.1).
pub(crate) fn remove_all(fd: BorrowedFd<'_>) -> VfsResult<()> {
    stored_names(fd)?
        .iter()
        .try_for_each(|name| remove(fd, name, None))
}

/// Renames the stream `from` to `to` (MS-FSA 2.1.5.15.11.1): an existing target is
/// OBJECT_NAME_COLLISION unless `replace`. Returns the stored spelling of the new name.
pub(crate) fn rename(
    fd: BorrowedFd<'_>,
    from: &str,
    to: &StreamName,
    replace: bool,
) -> VfsResult<String> {
    if same_name(from, to.as_str()) {
        return Ok(from.to_owned());
    }
    let _turn = update_lock(fd);
    let existing = find(fd, to, None)?;
    if existing.is_some() && !replace {
        return Err(NtStatus::OBJECT_NAME_COLLISION);
    }
    let data = read(fd, from, None)?;
    let target = existing.unwrap_or_else(|| to.as_str().to_owned());
    write(fd, &target, &data, false, None)?;
    remove(fd, from, None)?;
    Ok(target)
}

/// Extended-attribute errors of stream work: a value the file system cannot hold is a full disk, a
/// missing stream OBJECT_NAME_NOT_FOUND, a file system without user extended attributes has no streams.
pub(crate) fn stream_errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::TOOBIG | Errno::RANGE | Errno::NOSPC | Errno::DQUOT => NtStatus::DISK_FULL,
        Errno::NODATA => NtStatus::OBJECT_NAME_NOT_FOUND,
        Errno::NOTSUP => NtStatus::OBJECT_NAME_INVALID,
        Errno::BADF => NtStatus::ACCESS_DENIED,
        other => errno_to_status(other),
    }
}

/// A number telling the streams of one object apart (0 is the object itself): the same for every
/// spelling of a name.
pub fn stream_id(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.to_uppercase().hash(&mut h);
    h.finish() | 1
}

#[cfg(test)]
mod tests;
