//! NT security descriptors kept in the `security.NTACL` extended attribute, in the NDR layout of
//! Samba's `xattr_NTACL` (DESIGN.md decision 7), so a share moves between Samba's acl_xattr and rsmbd
//! with its ACLs. The descriptor itself is opaque here (self-relative bytes, see the `dtyp` crate).
//!
//! Layout (little-endian NDR, alignment counted from the start of the blob): `u16 version`, `u16` union
//! level (equal to the version), `u32` unique-pointer referent id (non-zero), then at offset 8 the
//! version's body, whose descriptor pointer's referent follows the body, aligned to 4:
//! - version 1: the descriptor itself at 8;
//! - version 2: `u32 sd ptr, hash[16]`;
//! - version 3: `u32 sd ptr, u16 hash_type, hash[64]`;
//! - version 4: `u32 sd ptr, u16 hash_type, hash[64]`, a NUL-terminated UTF-8 description, then,
//!   aligned to 4, `NTTIME time` and `sys_acl_hash[64]`.
//!
//! The descriptor's four offsets are NDR relative pointers, counted from the start of the blob, not of
//! the descriptor: they are moved by the descriptor's position on the way in and out.
//!
//! Every version is read; version 4 is written with hash type 1 (SHA-256) and both hashes zero, the
//! description "rsmbd": what Samba itself stores when it keeps no POSIX ACL beside the NT ACL
//! (`acl_xattr:ignore system acls = yes`, where it writes zero hashes and takes the descriptor as it
//! is), which is how rsmbd works. A Samba with `ignore system acls = no` compares the hashes with its
//! POSIX ACL mapping instead and, as they differ, shows that mapping.
//!
//! `security.*` attributes need CAP_SYS_ADMIN to write, so they are written with the daemon's
//! credentials: callers check the user's WRITE_DAC / WRITE_OWNER first, as Samba does. Reading one
//! needs no privilege and is done as the user (callers check READ_CONTROL before showing it).

use std::os::fd::{AsFd, AsRawFd};

use rustix::fs::XattrFlags;
use rustix::io::Errno;

use crate::errno::xattr_errno_to_status;
use crate::file::OpenFile;
use crate::identity::as_daemon_briefly;
use crate::time::unix_to_filetime;
use crate::VfsResult;

/// The extended attribute's name.
pub const NTACL_XATTR: &str = "security.NTACL";
/// The version written.
const VERSION: u16 = 4;
/// XATTR_SD_HASH_TYPE_SHA256 and the size of the hash fields of versions 3 and 4.
const HASH_TYPE_SHA256: u16 = 1;
const HASH_LEN: usize = 64;
/// Referent ids of the two unique pointers, as NDR numbers them.
const FIRST_REFERENT: u32 = 0x0002_0000;
const SECOND_REFERENT: u32 = 0x0002_0004;
/// The largest value Linux stores in one extended attribute.
const MAX_BLOB: usize = 65536;
/// The buffer tried first: descriptors of a few dozen ACEs fit.
const FIRST_READ: usize = 4096;

/// A version 4 blob holding the self-relative descriptor `sd`, stamped `time` (FILETIME).
pub fn encode_ntacl(sd: &[u8], time: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(sd.len() + 176);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&FIRST_REFERENT.to_le_bytes());
    out.extend_from_slice(&SECOND_REFERENT.to_le_bytes());
    out.extend_from_slice(&HASH_TYPE_SHA256.to_le_bytes());
    out.extend_from_slice(&[0u8; HASH_LEN]);
    out.extend_from_slice(b"rsmbd\0");
    pad4(&mut out);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&[0u8; HASH_LEN]);
    pad4(&mut out);
    let at = out.len();
    out.extend_from_slice(sd);
    if let Some(stored) = out.get_mut(at..) {
        rebase(stored, |o| o.checked_add(u32::try_from(at).ok()?));
    }
    out
}

/// The four offsets of the descriptor header at the start of `sd` (OffsetOwner, OffsetGroup,
/// OffsetSacl, OffsetDacl), each non-zero one replaced by `shift` of it; `None` leaves a 0 that
/// the descriptor's decoder then refuses or reads as absent.
fn rebase(sd: &mut [u8], mut shift: impl FnMut(u32) -> Option<u32>) {
    for field in sd
        .get_mut(4..20)
        .into_iter()
        .flat_map(|h| h.chunks_exact_mut(4))
    {
        let offset = u32::from_le_bytes(<[u8; 4]>::try_from(&*field).unwrap_or_default());
        if offset != 0 {
            field.copy_from_slice(&shift(offset).unwrap_or(0).to_le_bytes());
        }
    }
}

fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

fn align4(at: usize) -> Option<usize> {
    at.checked_next_multiple_of(4)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The self-relative descriptor of a version 1 to 4 blob (from where it starts to the end, its offsets
/// made relative to itself); `None` when the blob is malformed, of another version, has a null
/// descriptor pointer or an offset pointing before the descriptor.
pub fn decode_ntacl(blob: &[u8]) -> Option<Vec<u8>> {
    let version = u16_at(blob, 0)?;
    if u16_at(blob, 2)? != version || u32_at(blob, 4)? == 0 {
        return None;
    }
    let sd_at = match version {
        1 => 8,
        2 | 3 => {
            u32_at(blob, 8).filter(|p| *p != 0)?;
            align4(if version == 2 { 12 + 16 } else { 14 + HASH_LEN })?
        }
        4 => {
            u32_at(blob, 8).filter(|p| *p != 0)?;
            let description = 14 + HASH_LEN;
            let nul = blob.get(description..)?.iter().position(|b| *b == 0)?;
            let time = align4(description + nul + 1)?;
            align4(time + 8 + HASH_LEN)?
        }
        _ => return None,
    };
    let mut sd = blob.get(sd_at..).filter(|sd| sd.len() >= 20)?.to_vec();
    let base = u32::try_from(sd_at).ok()?;
    let mut before = false;
    rebase(&mut sd, |o| {
        let moved = o.checked_sub(base);
        before |= moved.is_none();
        moved
    });
    (!before).then_some(sd)
}

impl OpenFile {
    /// The stored descriptor (self-relative bytes, not yet validated); `None` when there is none or the
    /// blob is not understood.
    pub fn nt_acl(&self) -> VfsResult<Option<Vec<u8>>> {
        // Reading a security.* attribute needs no privilege: it is read as the user. Most blobs are
        // small; a larger one is read again into a buffer of the largest size.
        let mut buf = vec![0u8; FIRST_READ];
        let mut read = self.read_ntacl(&mut buf);
        if read == Err(Errno::RANGE) {
            buf = vec![0u8; MAX_BLOB];
            read = self.read_ntacl(&mut buf);
        }
        match read {
            Ok(len) => {
                let sd = buf.get(..len).and_then(decode_ntacl);
                if sd.is_none() {
                    tracing::debug!(len, "ignoring a security.NTACL blob not understood");
                }
                Ok(sd)
            }
            Err(Errno::NODATA | Errno::NOTSUP) => Ok(None),
            Err(e) => Err(xattr_errno_to_status(e)),
        }
    }

    /// Stores `sd` (self-relative bytes the caller validated) as the object's descriptor. The caller
    /// has checked that the user may change it.
    pub fn set_nt_acl(&self, sd: &[u8]) -> VfsResult<()> {
        self.check_metadata_writable()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let blob = encode_ntacl(
            sd,
            unix_to_filetime(
                i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                now.subsec_nanos(),
            ),
        );
        as_daemon_briefly(|| {
            if self.is_path_only() {
                rustix::fs::setxattr(
                    proc_path(self).as_str(),
                    NTACL_XATTR,
                    &blob,
                    XattrFlags::empty(),
                )
            } else {
                rustix::fs::fsetxattr(self.as_fd(), NTACL_XATTR, &blob, XattrFlags::empty())
            }
        })
        .map_err(xattr_errno_to_status)
    }
}

impl OpenFile {
    fn read_ntacl(&self, buf: &mut [u8]) -> rustix::io::Result<usize> {
        if self.is_path_only() {
            rustix::fs::getxattr(proc_path(self).as_str(), NTACL_XATTR, buf)
        } else {
            rustix::fs::fgetxattr(self.as_fd(), NTACL_XATTR, buf)
        }
    }
}

/// The magic link an `O_PATH` descriptor is reached through for the path-based xattr calls.
fn proc_path(file: &OpenFile) -> String {
    format!("/proc/self/fd/{}", file.as_fd().as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descriptor with an owner (S-1-1-0) at offset 20 and nothing else.
    const SD: [u8; 32] = [
        1, 0, 0, 0x80, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0,
        0, 0, 0,
    ];

    /// `SD` as it sits in a blob at `at`: its owner offset counted from the blob's start.
    fn stored_at(at: u8) -> Vec<u8> {
        let mut sd = SD.to_vec();
        sd[4] = 20 + at;
        sd
    }

    #[test]
    fn version_4_layout() {
        let blob = encode_ntacl(&SD, 0x0102_0304_0506_0708);
        assert_eq!(blob[..12], [4, 0, 4, 0, 0, 0, 2, 0, 4, 0, 2, 0]);
        assert_eq!(blob[12..14], [1, 0]);
        assert_eq!(blob[14..78], [0; 64]);
        assert_eq!(&blob[78..84], b"rsmbd\0");
        // 84 is aligned: the time, the system ACL hash, then the descriptor at 156, its owner
        // offset counted from the blob's start.
        assert_eq!(blob[84..92], 0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(blob[92..156], [0; 64]);
        assert_eq!(blob[156..], stored_at(156)[..]);
        assert_eq!(decode_ntacl(&blob), Some(SD.to_vec()));
    }

    #[test]
    fn older_versions() {
        let v1 = [&[1u8, 0, 1, 0, 0, 0, 2, 0][..], &stored_at(8)].concat();
        assert_eq!(decode_ntacl(&v1), Some(SD.to_vec()));
        let v2 = [
            &[2u8, 0, 2, 0, 0, 0, 2, 0, 4, 0, 2, 0][..],
            &[0; 16],
            &stored_at(28),
        ]
        .concat();
        assert_eq!(decode_ntacl(&v2), Some(SD.to_vec()));
        let head3 = [3u8, 0, 3, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0];
        let v3 = [&head3[..], &[0; 64], &[0, 0], &stored_at(80)].concat();
        assert_eq!(decode_ntacl(&v3), Some(SD.to_vec()));
    }

    /// What Samba 4.17 with `vfs objects = acl_xattr` stored for a DACL set over SMB (deny
    /// S-1-22-1-4242 write data, allow S-1-22-1-0 all, allow Everyone read with OI): description
    /// "posix_acl", its hashes, the descriptor at 160 with offsets 180, 208 and 236.
    #[test]
    fn samba_version_4_blob() {
        let hex = concat!(
            "0400040000000200040002000100385c01cdfe1ed9f47f5473e0141b968dad41d0fae8122e5828bce07d1828",
            "c9f40000000000000000000000000000000000000000000000000000000000000000706f7369785f61636c00",
            "ae3fceab3286dd01cfcd413935cc5fd5399ac4478b25a476aad71007f09b3959b9fc516135849d6200000000",
            "0000000000000000000000000000000000000000000000000000000001000480b4000000d000000000000000",
            "ec000000010500000000000515000000bde080d12173dd20d509b828e8030000010500000000000515000000",
            "bde080d12173dd20d509b8280102000002004c00030000000100180002000000010200000000001601000000",
            "9210000000001800ff011f000102000000000016010000000000000000011400890012000101000000000001",
            "00000000",
        );
        let blob: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let sd = decode_ntacl(&blob).unwrap();
        assert_eq!(sd.len(), blob.len() - 160);
        assert_eq!(
            sd[4..20],
            [20, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0, 76, 0, 0, 0]
        );
    }

    #[test]
    fn malformed_blobs() {
        assert_eq!(decode_ntacl(&[]), None);
        let v1 = |head: [u8; 8]| decode_ntacl(&[&head[..], &stored_at(8)].concat());
        assert_eq!(v1([1, 0, 2, 0, 0, 0, 2, 0]), None, "level differs");
        assert_eq!(v1([1, 0, 1, 0, 0, 0, 0, 0]), None, "null pointer");
        assert_eq!(v1([5, 0, 5, 0, 0, 0, 2, 0]), None, "version 5");
        assert_eq!(
            decode_ntacl(&[1, 0, 1, 0, 0, 0, 2, 0]),
            None,
            "no descriptor"
        );
        // An offset that points before the descriptor (into the blob's header).
        let mut early = [&[1u8, 0, 1, 0, 0, 0, 2, 0][..], &SD].concat();
        early[8 + 4] = 4;
        assert_eq!(decode_ntacl(&early), None);
        let mut v4 = encode_ntacl(&SD, 0);
        v4.truncate(80);
        assert_eq!(decode_ntacl(&v4), None, "cut in the description");
        v4.truncate(60);
        assert_eq!(decode_ntacl(&v4), None, "cut in the hash");
    }
}
