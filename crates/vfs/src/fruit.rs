//! Finder metadata of shares with Samba's `vfs_fruit` (`fruit:metadata = netatalk`, its default): the
//! `AFP_AfpInfo` stream a macOS client reads and writes is not kept as a stream but as the FinderInfo
//! entry of the AppleDouble (version 2, RFC 1740 layout, big-endian) extended attribute
//! `user.org.netatalk.Metadata`, as netatalk and Samba keep it; the layout of a new one is the one Samba
//! 4.17 writes (observed on disk: eight entries, 402 bytes). The stream shows a 60-byte AfpInfo
//! structure: signature `AFP\0`, version 0x00000100, reserved, backup time, the 32-byte FinderInfo,
//! 6 bytes of ProDOS information and 6 reserved bytes.
//!
//! Client data is bounded: the stream is exactly 60 bytes, the attribute is read into a buffer of the
//! largest value Linux stores, and every AppleDouble entry is checked against the attribute's length.

use std::os::fd::{AsFd, BorrowedFd};

use proto::NtStatus;
use rustix::fs::XattrFlags;
use rustix::io::Errno;

use crate::stream::stream_errno_to_status;
use crate::VfsResult;

/// The stream macOS keeps Finder metadata in.
pub const AFP_INFO: &str = "AFP_AfpInfo";
/// The stream macOS keeps resource forks in.
pub const AFP_RESOURCE: &str = "AFP_Resource";
/// What names an AppleDouble file: `._` before the name of the file it belongs to.
pub const ADOUBLE_PREFIX: &str = "._";
/// The size of the AfpInfo structure.
pub const AFP_INFO_SIZE: usize = 60;

/// Where `fruit:resource` keeps resource forks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceStore {
    /// AppleDouble `._name` files ([`crate::rsrc_file`]).
    File,
    /// Named streams (`user.DosStream.AFP_Resource:$DATA`).
    Stream,
}

/// Where `fruit:metadata` keeps FinderInfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataStore {
    Netatalk,
    Stream,
}

/// The vfs_fruit options the vfs needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FruitOptions {
    pub metadata: MetadataStore,
    pub resource: ResourceStore,
}

impl FruitOptions {
    /// Whether the stream `name` is a resource fork kept in an AppleDouble file.
    pub(crate) fn is_resource_file(fruit: Option<FruitOptions>, name: &str) -> bool {
        fruit.is_some_and(|f| f.resource == ResourceStore::File) && name == AFP_RESOURCE
    }

    /// Whether the stream stored as `stored` is the AfpInfo kept in the netatalk attribute.
    pub(crate) fn is_netatalk_info(fruit: Option<FruitOptions>, stored: &str) -> bool {
        fruit.is_some_and(|f| f.metadata == MetadataStore::Netatalk) && stored == AFP_INFO
    }
}

/// Where a read of the AfpInfo stream starts: macOS reads it from the start for any offset up to its
/// size, and finds nothing beyond (vfs_fruit does the same); other streams start where asked.
pub(crate) fn afp_info_read_offset(fruit: Option<FruitOptions>, stored: &str, offset: u64) -> u64 {
    match offset {
        _ if fruit.is_none() || stored != AFP_INFO => offset,
        0..=60 => 0,
        _ => u64::MAX,
    }
}

/// Whether the stream stored as `stored` does not exist while it is empty: the resource fork, which a
/// truncation to 0 bytes deletes on vfs_fruit shares.
pub(crate) fn empty_means_none(fruit: Option<FruitOptions>, stored: &str) -> bool {
    fruit.is_some() && stored == AFP_RESOURCE
}

/// Whether `name` is the AFP_Resource stream (whose delete-on-close vfs_fruit ignores).
pub fn is_resource(name: &str) -> bool {
    name == AFP_RESOURCE
}

const XATTR: &str = "user.org.netatalk.Metadata";
pub(crate) const AD_MAGIC: u32 = 0x0005_1607;
pub(crate) const AD_VERSION: u32 = 0x0002_0000;
const HEADER: usize = 26;
const ENTRY: usize = 12;
const FINDER_INFO_ID: u32 = 9;
const FINDER_INFO_SIZE: usize = 32;
const SIGNATURE: [u8; 8] = [b'A', b'F', b'P', 0, 0, 0, 1, 0];
const BACKUP_NEVER: [u8; 4] = [0x80, 0, 0, 0];
/// Seconds from 1970 to 2000, the AppleDouble epoch.
const AD_EPOCH: u64 = 946_684_800;

/// The entries (id, offset, length) of a new metadata attribute, as Samba 4.17 lays it out.
const NEW_ENTRIES: [(u32, u32, u32); 8] = [
    (4, 154, 0),
    (8, 354, 16),
    (9, 122, 32),
    (14, 370, 4),
    (0x8044_4556, 374, 0),
    (0x8049_4E4F, 382, 0),
    (0x8053_594E, 390, 0),
    (0x8053_567E, 398, 0),
];
const NEW_SIZE: usize = 402;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// One entry of an AppleDouble header: where its descriptor is and the data it describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdEntry {
    /// Offset of the entry's descriptor (id, offset, length) in the header.
    pub descriptor: usize,
    pub offset: u64,
    pub len: u64,
}

/// The entry `id` of the AppleDouble header at the start of `ad` (RFC 1740: magic, version, 16 filler
/// bytes, a count, then 12-byte descriptors); None when it has none or the header is malformed.
pub fn ad_entry(ad: &[u8], id: u32) -> Option<AdEntry> {
    if be32(ad, 0)? != AD_MAGIC || be32(ad, 4)? != AD_VERSION {
        return None;
    }
    let count = usize::from(u16::from_be_bytes(ad.get(24..26)?.try_into().ok()?));
    (0..count).find_map(|i| {
        let at = HEADER.checked_add(i.checked_mul(ENTRY)?)?;
        (be32(ad, at)? == id).then_some(())?;
        Some(AdEntry {
            descriptor: at,
            offset: u64::from(be32(ad, at + 4)?),
            len: u64::from(be32(ad, at + 8)?),
        })
    })
}

/// The byte range of the FinderInfo entry of an AppleDouble buffer; None when it has none or is malformed.
pub fn finder_info_range(ad: &[u8]) -> Option<std::ops::Range<usize>> {
    let e = ad_entry(ad, FINDER_INFO_ID)?;
    let off = usize::try_from(e.offset).ok()?;
    let end = off.checked_add(FINDER_INFO_SIZE)?;
    (e.len >= FINDER_INFO_SIZE as u64 && end <= ad.len()).then_some(off..end)
}

/// A new metadata attribute holding `finder_info`, dated `now` (seconds since 1970).
fn new_metadata(finder_info: &[u8], now: u64) -> Vec<u8> {
    let mut ad = vec![0u8; NEW_SIZE];
    let mut head = Vec::with_capacity(HEADER + ENTRY * NEW_ENTRIES.len());
    head.extend_from_slice(&AD_MAGIC.to_be_bytes());
    head.extend_from_slice(&AD_VERSION.to_be_bytes());
    head.extend_from_slice(&[0; 16]);
    head.extend_from_slice(&8u16.to_be_bytes());
    for (id, off, len) in NEW_ENTRIES {
        head.extend_from_slice(&id.to_be_bytes());
        head.extend_from_slice(&off.to_be_bytes());
        head.extend_from_slice(&len.to_be_bytes());
    }
    let stamp = u32::try_from(now.saturating_sub(AD_EPOCH))
        .unwrap_or(u32::MAX)
        .to_be_bytes();
    let mut dates = Vec::with_capacity(16);
    dates.extend_from_slice(&stamp);
    dates.extend_from_slice(&stamp);
    dates.extend_from_slice(&BACKUP_NEVER);
    dates.extend_from_slice(&stamp);
    for (at, part) in [(0, &head[..]), (354, &dates[..]), (122, finder_info)] {
        if let Some(dst) = ad.get_mut(at..at + part.len()) {
            dst.copy_from_slice(part);
        }
    }
    ad
}

/// The AfpInfo structure showing `finder_info`.
pub fn afp_info(finder_info: &[u8]) -> Vec<u8> {
    let mut info = Vec::with_capacity(AFP_INFO_SIZE);
    info.extend_from_slice(&SIGNATURE);
    info.extend_from_slice(&[0; 4]);
    info.extend_from_slice(&BACKUP_NEVER);
    info.extend_from_slice(finder_info.get(..FINDER_INFO_SIZE).unwrap_or(&[0; 32]));
    info.resize(AFP_INFO_SIZE, 0);
    info
}

/// The FinderInfo of an AfpInfo structure a client wrote; INVALID_PARAMETER unless it is one.
pub fn finder_info_of(info: &[u8]) -> VfsResult<&[u8]> {
    if info.len() != AFP_INFO_SIZE || info.get(..4) != SIGNATURE.get(..4) {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    info.get(16..16 + FINDER_INFO_SIZE)
        .ok_or(NtStatus::INVALID_PARAMETER)
}

/// The metadata attribute of `fd`, if any.
fn read_metadata(fd: BorrowedFd<'_>) -> VfsResult<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 65536];
    match rustix::fs::fgetxattr(fd, XATTR, &mut buf[..]) {
        Ok(len) => {
            buf.truncate(len);
            Ok(Some(buf))
        }
        Err(Errno::NODATA | Errno::NOTSUP) => Ok(None),
        Err(e) => Err(stream_errno_to_status(e)),
    }
}

/// The FinderInfo of `fd`, when it has metadata that is not all zeros (only then the stream exists).
pub(crate) fn finder_info(fd: BorrowedFd<'_>) -> VfsResult<Option<Vec<u8>>> {
    Ok(read_metadata(fd)?.and_then(|ad| {
        let fi = ad.get(finder_info_range(&ad)?)?.to_vec();
        fi.iter().any(|&b| b != 0).then_some(fi)
    }))
}

/// The AfpInfo stream's bytes: the stored FinderInfo, or an empty one for a stream just created.
pub(crate) fn read(fd: BorrowedFd<'_>) -> VfsResult<Vec<u8>> {
    Ok(afp_info(&finder_info(fd)?.unwrap_or_default()))
}

/// Stores the AfpInfo `info`: its FinderInfo into the metadata attribute (created in Samba's layout
/// when missing); all zeros deletes the metadata, as vfs_fruit does.
pub(crate) fn write(fd: BorrowedFd<'_>, info: &[u8]) -> VfsResult<()> {
    let fi = finder_info_of(info)?;
    if fi.iter().all(|&b| b == 0) {
        return remove(fd);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut ad = read_metadata(fd)?.unwrap_or_default();
    match finder_info_range(&ad).and_then(|r| ad.get_mut(r)) {
        Some(dst) => dst.copy_from_slice(fi),
        None => ad = new_metadata(fi, now),
    }
    rustix::fs::fsetxattr(fd, XATTR, &ad, XattrFlags::empty()).map_err(stream_errno_to_status)
}

/// Deletes the metadata; none is no error.
pub(crate) fn remove(fd: BorrowedFd<'_>) -> VfsResult<()> {
    match rustix::fs::fremovexattr(fd, XATTR) {
        Ok(()) | Err(Errno::NODATA) => Ok(()),
        Err(e) => Err(stream_errno_to_status(e)),
    }
}

impl crate::share::Share {
    /// The resource fork's length and the first 16 bytes of FinderInfo of `p` (exactly as named, not
    /// followed if a link), for directory listings macOS asked to carry them; zeros when unreadable.
    pub fn finder_summary(&self, p: &crate::path::SmbPath) -> (u64, [u8; 16]) {
        let flags = rustix::fs::OFlags::RDONLY
            | rustix::fs::OFlags::NOFOLLOW
            | rustix::fs::OFlags::NONBLOCK;
        let Ok(fd) = self.open_exact(p, flags, rustix::fs::Mode::empty()) else {
            return (0, [0; 16]);
        };
        let fruit = self.options().fruit;
        let read = |name: &str| -> Option<Vec<u8>> {
            let name = crate::stream::StreamName::new(name).ok()?;
            let stored = crate::stream::find(fd.as_fd(), &name, fruit).ok()??;
            crate::stream::read(fd.as_fd(), &stored, fruit).ok()
        };
        let mut finder = [0u8; 16];
        if let Some(src) = read(AFP_INFO).as_deref().and_then(|i| i.get(16..32)) {
            finder.copy_from_slice(src);
        }
        let rfork = if FruitOptions::is_resource_file(fruit, AFP_RESOURCE) {
            self.resource_fork_len(p)
        } else {
            read(AFP_RESOURCE).map_or(0, |r| u64::try_from(r.len()).unwrap_or(u64::MAX))
        };
        (rfork, finder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_metadata_is_samba_layout_and_reads_back() {
        let fi = *b"TESTSLOW\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        let ad = new_metadata(&fi, AD_EPOCH + 1);
        assert_eq!(ad.len(), 402);
        assert_eq!(&ad[..8], &[0, 5, 0x16, 7, 0, 2, 0, 0]);
        assert_eq!(finder_info_range(&ad), Some(122..154));
        assert_eq!(
            &ad[354..370],
            &[0, 0, 0, 1, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 1]
        );
        let info = afp_info(&ad[122..154]);
        assert_eq!(info.len(), 60);
        assert_eq!(&info[..4], b"AFP\0");
        assert_eq!(finder_info_of(&info).unwrap(), &fi[..]);
    }

    #[test]
    fn hostile_apple_double_and_afpinfo_are_refused() {
        let ad = new_metadata(&[1; 32], AD_EPOCH);
        // Entry pointing past the end, truncated header, wrong magic.
        let mut bad = ad.clone();
        bad[26 + 2 * 12 + 4..26 + 2 * 12 + 8].copy_from_slice(&400u32.to_be_bytes());
        assert_eq!(finder_info_range(&bad), None);
        assert_eq!(finder_info_range(&ad[..30]), None);
        assert_eq!(finder_info_range(&[0xFF; 402]), None);
        let mut many = ad[..26].to_vec();
        many[24..26].copy_from_slice(&0xFFFFu16.to_be_bytes());
        assert_eq!(finder_info_range(&many), None);
        assert_eq!(finder_info_of(&[0; 60]), Err(NtStatus::INVALID_PARAMETER));
        assert_eq!(
            finder_info_of(&afp_info(&[1; 32])[..59]),
            Err(NtStatus::INVALID_PARAMETER)
        );
        assert!(finder_info_of(&afp_info(&[1; 32])).is_ok());
    }
}
