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
//! Every version is read; version 4 is written, with hash type 1 (SHA-256) over the descriptor, the
//! description "rsmbd" and a zero `sys_acl_hash`. Samba only takes a version 3 or 4 blob as it is when
//! `acl_xattr:ignore system acls = yes`; otherwise it compares the hashes with its POSIX ACL mapping,
//! which rsmbd does not keep.
//!
//! `security.*` attributes need CAP_SYS_ADMIN to write, so they are read and written with the daemon's
//! credentials: callers check the user's READ_CONTROL / WRITE_DAC / WRITE_OWNER first, as Samba does.

use std::os::fd::{AsFd, AsRawFd};

use rustix::fs::XattrFlags;
use rustix::io::Errno;
use sha2::{Digest, Sha256};

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

/// A version 4 blob holding the self-relative descriptor `sd`, stamped `time` (FILETIME).
pub fn encode_ntacl(sd: &[u8], time: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(sd.len() + 176);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&FIRST_REFERENT.to_le_bytes());
    out.extend_from_slice(&SECOND_REFERENT.to_le_bytes());
    out.extend_from_slice(&HASH_TYPE_SHA256.to_le_bytes());
    let mut hash = [0u8; HASH_LEN];
    hash.iter_mut()
        .zip(Sha256::digest(sd))
        .for_each(|(h, d)| *h = d);
    out.extend_from_slice(&hash);
    out.extend_from_slice(b"rsmbd\0");
    pad4(&mut out);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&[0u8; HASH_LEN]);
    pad4(&mut out);
    out.extend_from_slice(sd);
    out
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

/// The descriptor bytes of a version 1 to 4 blob (from where the descriptor starts to the end); `None`
/// when the blob is malformed, of another version, or has a null descriptor pointer.
pub fn decode_ntacl(blob: &[u8]) -> Option<&[u8]> {
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
    blob.get(sd_at..).filter(|sd| !sd.is_empty())
}

impl OpenFile {
    /// The stored descriptor (self-relative bytes, not yet validated); `None` when there is none or the
    /// blob is not understood.
    pub fn nt_acl(&self) -> VfsResult<Option<Vec<u8>>> {
        let mut buf = vec![0u8; MAX_BLOB];
        let read = as_daemon_briefly(|| {
            if self.is_path_only() {
                rustix::fs::getxattr(proc_path(self).as_str(), NTACL_XATTR, &mut buf[..])
            } else {
                rustix::fs::fgetxattr(self.as_fd(), NTACL_XATTR, &mut buf[..])
            }
        });
        match read {
            Ok(len) => {
                let sd = buf.get(..len).and_then(decode_ntacl).map(<[u8]>::to_vec);
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

/// The magic link an `O_PATH` descriptor is reached through for the path-based xattr calls.
fn proc_path(file: &OpenFile) -> String {
    format!("/proc/self/fd/{}", file.as_fd().as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_4_layout() {
        let sd = [
            1u8, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let blob = encode_ntacl(&sd, 0x0102_0304_0506_0708);
        assert_eq!(blob[..12], [4, 0, 4, 0, 0, 0, 2, 0, 4, 0, 2, 0]);
        assert_eq!(blob[12..14], [1, 0]);
        assert_eq!(blob[14..46], Sha256::digest(sd)[..]);
        assert_eq!(blob[46..78], [0; 32]);
        assert_eq!(&blob[78..84], b"rsmbd\0");
        // 84 is aligned: the time, the system ACL hash, then the descriptor at 156.
        assert_eq!(blob[84..92], 0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(blob.len(), 156 + sd.len());
        assert_eq!(decode_ntacl(&blob), Some(&sd[..]));
    }

    #[test]
    fn older_versions() {
        let sd = [1u8, 0, 4, 0x80];
        let v1 = [&[1u8, 0, 1, 0, 0, 0, 2, 0][..], &sd].concat();
        assert_eq!(decode_ntacl(&v1), Some(&sd[..]));
        let v2 = [&[2u8, 0, 2, 0, 0, 0, 2, 0, 4, 0, 2, 0][..], &[0; 16], &sd].concat();
        assert_eq!(decode_ntacl(&v2), Some(&sd[..]));
        let v3 = [
            &[3u8, 0, 3, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0][..],
            &[0; 64],
            &[0, 0],
            &sd,
        ]
        .concat();
        assert_eq!(decode_ntacl(&v3), Some(&sd[..]));
        // A description of another length moves the rest.
        let v4 = [
            &[4u8, 0, 4, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0][..],
            &[0; 64],
            b"posix_acl\0",
            &[0; 72],
            &sd,
        ]
        .concat();
        assert_eq!(decode_ntacl(&v4), Some(&sd[..]));
    }

    #[test]
    fn malformed_blobs() {
        assert_eq!(decode_ntacl(&[]), None);
        assert_eq!(
            decode_ntacl(&[1, 0, 2, 0, 0, 0, 2, 0, 1]),
            None,
            "level differs"
        );
        assert_eq!(
            decode_ntacl(&[1, 0, 1, 0, 0, 0, 0, 0, 1]),
            None,
            "null pointer"
        );
        assert_eq!(
            decode_ntacl(&[5, 0, 5, 0, 0, 0, 2, 0, 1]),
            None,
            "version 5"
        );
        assert_eq!(
            decode_ntacl(&[1, 0, 1, 0, 0, 0, 2, 0]),
            None,
            "no descriptor"
        );
        let mut v4 = encode_ntacl(&[1, 2, 3, 4], 0);
        v4.truncate(80);
        assert_eq!(decode_ntacl(&v4), None, "cut in the description");
        v4.truncate(60);
        assert_eq!(decode_ntacl(&v4), None, "cut in the hash");
    }
}
