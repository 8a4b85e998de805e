//! DOS attributes (MS-FSCC 2.6) and the creation time kept in the `user.DOSATTRIB` extended attribute, in
//! the NDR-encoded `xattr_DOSATTRIB` layout Samba uses (DESIGN.md decision 7), so a share can move between
//! Samba, ksmbd and rsmbd without losing them.
//!
//! Layout (little-endian, NDR alignment counted from the start of the blob):
//! a NUL-terminated ASCII string (the attributes in hex, informational only), padding to 2, `u16` version,
//! `u16` union level (equal to the version), padding to 4, then the version's body. Every body starts with
//! `u32 valid_flags, u32 attrib`; FILETIME values are 4-byte aligned. Bodies read here:
//! - version 3: `ea_size u32, size u64, alloc_size u64, create_time, change_time`;
//! - version 4: `itime, create_time` (written by ksmbd and by Samba 4.11/4.12);
//! - version 5: `create_time` (written by Samba since 4.13 and by this crate).
//!
//! Older versions (1, 2) and anything malformed are treated as absent.
//!
//! A ChangeTime a client set explicitly (MS-FSA 2.1.5.15.2) is kept too, since Linux cannot set ctime:
//! the blob is then written as version 3, the one layout with a `change_time` field, which Samba and
//! ksmbd read (they take its attributes and creation time). The stored time holds only while the
//! file's data is unchanged, so the version 3 `size` field, left without its valid flag (which tells
//! other readers it carries no size), holds the Linux mtime the ChangeTime was set against; once mtime
//! moves the stored time is stale and ignored ([`crate::FileStat`]).

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::XattrFlags;
use rustix::io::Errno;

/// The extended attribute's name.
pub const DOSATTRIB_XATTR: &str = "user.DOSATTRIB";
/// The version this crate writes.
const VERSION: u16 = 5;
/// `valid_flags`: the attributes are valid.
const VALID_ATTRIB: u32 = 0x0000_0001;
/// `valid_flags`: the size is valid (never set here: the field keys a stored ChangeTime instead).
const VALID_SIZE: u32 = 0x0000_0004;
/// `valid_flags`: the creation time is valid.
const VALID_CREATE_TIME: u32 = 0x0000_0010;
/// `valid_flags`: the change time is valid.
const VALID_CHANGE_TIME: u32 = 0x0000_0020;
/// The version written when a ChangeTime is stored.
const VERSION_WITH_CHANGE_TIME: u16 = 3;
/// Largest blob read; real ones are under 64 bytes (a longer one is treated as absent).
const MAX_BLOB: usize = 256;

/// DOS attributes and creation time as stored on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DosInfo {
    /// FileAttributes (MS-FSCC 2.6) as stored; reported through [`crate::FileStat::file_attributes`].
    pub attributes: u32,
    /// Creation time (FILETIME); `None` when not stored.
    pub creation_time: Option<u64>,
    /// A ChangeTime set explicitly; `None` when not stored.
    pub change_time: Option<ChangeTime>,
}

/// An explicitly set ChangeTime (FILETIME) and the Linux mtime (FILETIME) it was set against: it stands
/// while the file's mtime is still `since_write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeTime {
    pub time: u64,
    pub since_write: u64,
}

impl DosInfo {
    /// Attributes and a creation time, no stored ChangeTime.
    pub fn new(attributes: u32, creation_time: Option<u64>) -> DosInfo {
        DosInfo {
            attributes,
            creation_time,
            change_time: None,
        }
    }
}

/// Encodes `info` as a version 5 `xattr_DOSATTRIB` blob, or version 3 when it carries a ChangeTime.
pub fn encode_dosattrib(info: &DosInfo) -> Vec<u8> {
    let version = match info.change_time {
        Some(_) => VERSION_WITH_CHANGE_TIME,
        None => VERSION,
    };
    let mut out = format!("0x{:x}", info.attributes).into_bytes();
    out.push(0);
    pad(&mut out, 2);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&version.to_le_bytes());
    pad(&mut out, 4);
    let mut valid = VALID_ATTRIB;
    if info.creation_time.is_some() {
        valid |= VALID_CREATE_TIME;
    }
    if info.change_time.is_some() {
        valid |= VALID_CHANGE_TIME;
    }
    out.extend_from_slice(&valid.to_le_bytes());
    out.extend_from_slice(&info.attributes.to_le_bytes());
    let create_time = info.creation_time.unwrap_or(0).to_le_bytes();
    match info.change_time {
        None => out.extend_from_slice(&create_time),
        Some(c) => {
            out.extend_from_slice(&0u32.to_le_bytes()); // ea_size
            out.extend_from_slice(&c.since_write.to_le_bytes()); // size, not marked valid
            out.extend_from_slice(&0u64.to_le_bytes()); // alloc_size
            out.extend_from_slice(&create_time);
            out.extend_from_slice(&c.time.to_le_bytes());
        }
    }
    out
}

/// Decodes a version 3, 4 or 5 `xattr_DOSATTRIB` blob; `None` for other versions, truncated or malformed
/// blobs, and blobs whose attributes are not marked valid. A zero creation time counts as not stored.
pub fn decode_dosattrib(blob: &[u8]) -> Option<DosInfo> {
    let hex_end = blob.iter().position(|&b| b == 0)?;
    let mut r = Reader {
        blob,
        pos: hex_end.checked_add(1)?,
    };
    r.align(2)?;
    let version = r.u16()?;
    if r.u16()? != version {
        return None;
    }
    r.align(4)?;
    let valid = r.u32()?;
    let attributes = r.u32()?;
    let (create_time, change_time) = match version {
        3 => {
            r.skip(4)?; // ea_size
            let size = r.u64()?;
            r.skip(8)?; // alloc_size
            let create_time = r.u64()?;
            let time = r.u64()?;
            // Only a blob whose size field is not a size keys its change time (see the module doc).
            let ours = valid & (VALID_CHANGE_TIME | VALID_SIZE) == VALID_CHANGE_TIME && time != 0;
            let change_time = ours.then_some(ChangeTime {
                time,
                since_write: size,
            });
            (create_time, change_time)
        }
        4 => {
            r.skip(8)?; // itime
            (r.u64()?, None)
        }
        5 => (r.u64()?, None),
        _ => return None,
    };
    if valid & VALID_ATTRIB == 0 {
        return None;
    }
    let creation_time = (valid & VALID_CREATE_TIME != 0 && create_time != 0).then_some(create_time);
    Some(DosInfo {
        attributes,
        creation_time,
        change_time,
    })
}

/// The stored DOS information of the open object `fd`; `None` when absent, unreadable or not understood.
pub(crate) fn read(fd: impl AsFd) -> Option<DosInfo> {
    let mut buf = [0u8; MAX_BLOB];
    match rustix::fs::fgetxattr(fd, DOSATTRIB_XATTR, &mut buf) {
        Ok(len) => {
            let info = buf.get(..len).and_then(decode_dosattrib);
            if info.is_none() {
                tracing::debug!(len, "ignoring malformed or unsupported user.DOSATTRIB");
            }
            info
        }
        Err(Errno::NODATA) => None,
        Err(e) => {
            tracing::debug!(errno = %e, "cannot read user.DOSATTRIB");
            None
        }
    }
}

/// Stores `info` on the open object `fd`. A file system without user extended attributes (`ENOTSUP`, the
/// same value as `EOPNOTSUPP` on Linux) is not an error: the attributes are then simply not kept.
pub(crate) fn write(fd: impl AsFd, info: &DosInfo) -> rustix::io::Result<()> {
    let blob = encode_dosattrib(info);
    match rustix::fs::fsetxattr(fd, DOSATTRIB_XATTR, &blob, XattrFlags::empty()) {
        Err(Errno::NOTSUP) => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "file system does not support user extended attributes: DOS attributes and \
                     creation times are not stored"
                );
            }
            Ok(())
        }
        other => other,
    }
}

/// Appends zero bytes until the length is a multiple of `to`.
fn pad(out: &mut Vec<u8>, to: usize) {
    while !out.len().is_multiple_of(to) {
        out.push(0);
    }
}

/// A bounds-checked little-endian cursor over a blob.
struct Reader<'a> {
    blob: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    /// Skips padding up to the next multiple of `to` (counted from the start of the blob).
    fn align(&mut self, to: usize) -> Option<()> {
        let rem = self.pos % to;
        if rem != 0 {
            self.pos = self.pos.checked_add(to - rem)?;
        }
        Some(())
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let end = self.pos.checked_add(N)?;
        let bytes = self.blob.get(self.pos..end)?.try_into().ok()?;
        self.pos = end;
        Some(bytes)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        self.blob.get(self.pos..end)?;
        self.pos = end;
        Some(())
    }

    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests;
