//! Extended attributes of files and directories (MS-FSCC 2.4.15; MS-FSA 2.1.5.12.12 query, 2.1.5.15.5
//! set), kept as Samba keeps them with `ea support = yes` (DESIGN.md decision 7): each EA is the Linux
//! extended attribute `user.<name>` of the object, its value the EA's bytes, the name spelt as the client
//! first gave it. SMB EA names are case-insensitive: a name is matched without regard to ASCII case, and
//! setting an existing EA keeps its stored spelling. Samba's and rsmbd's own `user.` attributes (DOS
//! attributes, streams, the POSIX ACL inheritance marker) are not EAs: listings leave them out and
//! writes to them fail with STATUS_ACCESS_DENIED, as Samba answers.

use std::os::fd::BorrowedFd;

use proto::fscc::ea::full_ea_entry_size;
use proto::NtStatus;
use rustix::fs::XattrFlags;
use rustix::io::Errno;

use crate::errno::xattr_errno_to_status;
use crate::file::OpenFile;
use crate::VfsResult;

/// The namespace every EA lives in.
const PREFIX: &[u8] = b"user.";
/// The largest list of names and the largest value Linux hands out (XATTR_LIST_MAX, XATTR_SIZE_MAX).
const XATTR_MAX: usize = 65536;
/// The largest EA list a file may have (MS-FSA 2.1.5.15.5: 64 KiB minus 5 bytes).
pub const MAX_EA_LIST_SIZE: usize = 65536 - 5;

/// One EA of a file: its stored name (without `user.`) and the length of its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EaEntry {
    pub name: Vec<u8>,
    pub value_len: usize,
}

impl EaEntry {
    /// Its size in a FileFullEaInformation list.
    pub fn list_size(&self) -> usize {
        full_ea_entry_size(self.name.len(), self.value_len)
    }
}

/// Whether `name` is one of the attributes Samba and rsmbd keep for themselves: DOS attributes,
/// streams, the NT ACL's name (`security.NTACL`, refused as an EA name as Samba with acl_xattr does)
/// and the netatalk Finder metadata and resource fork that `fruit` shares keep.
fn is_private(name: &[u8]) -> bool {
    const STREAM_PREFIX: &[u8] = b"DosStream.";
    [
        &b"DOSATTRIB"[..],
        b"SAMBA_PAI",
        b"SAMBA_STREAMS",
        b"security.NTACL",
        b"org.netatalk.Metadata",
        b"org.netatalk.ResourceFork",
    ]
    .iter()
    .any(|p| name.eq_ignore_ascii_case(p))
        || name
            .get(..STREAM_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(STREAM_PREFIX))
}

fn xattr_name(name: &[u8]) -> Vec<u8> {
    [PREFIX, name].concat()
}

/// The visible EA names of `fd` in the order the file system lists them.
fn names(fd: BorrowedFd<'_>) -> VfsResult<Vec<Vec<u8>>> {
    let mut buf = vec![0u8; XATTR_MAX];
    let len = rustix::fs::flistxattr(fd, &mut buf[..]).map_err(xattr_errno_to_status)?;
    let list = buf.get(..len).unwrap_or_default();
    Ok(list
        .split(|&b| b == 0)
        .filter_map(|n| n.strip_prefix(PREFIX))
        .filter(|n| !n.is_empty() && !is_private(n))
        .map(<[u8]>::to_vec)
        .collect())
}

/// The EAs of `fd` with the lengths of their values (no value is read).
fn list(fd: BorrowedFd<'_>) -> VfsResult<Vec<EaEntry>> {
    let mut out = Vec::new();
    for name in names(fd)? {
        match rustix::fs::fgetxattr_query(fd, xattr_name(&name).as_slice()) {
            Ok(value_len) => out.push(EaEntry { name, value_len }),
            Err(Errno::NODATA) => {} // removed since the listing
            Err(e) => return Err(xattr_errno_to_status(e)),
        }
    }
    Ok(out)
}

/// The EaSize of FileEaInformation (MS-FSCC 2.4.13) and of directory listings: the size of the full EA
/// list of `fd`; 0 when it has none or they cannot be read.
pub(crate) fn size_of(fd: BorrowedFd<'_>) -> u32 {
    list(fd).map_or(0, |eas| {
        let total: usize = eas.iter().map(EaEntry::list_size).sum();
        u32::try_from(total).unwrap_or(u32::MAX)
    })
}

impl OpenFile {
    /// The object's EAs with the lengths of their values (no value is read).
    pub fn list_eas(&self) -> VfsResult<Vec<EaEntry>> {
        list(self.ea_fd(false)?)
    }

    /// The EaSize of the object ([`size_of`]); 0 also when the share has `ea support` off or the open is
    /// attribute-only.
    pub fn ea_size(&self) -> u32 {
        self.ea_fd(false).map_or(0, size_of)
    }

    /// The value of the EA stored as `name` (a name [`OpenFile::list_eas`] returned); empty when it is gone.
    pub fn ea_value(&self, name: &[u8]) -> VfsResult<Vec<u8>> {
        let fd = self.ea_fd(false)?;
        if is_private(name) {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; XATTR_MAX];
        match rustix::fs::fgetxattr(fd, xattr_name(name).as_slice(), &mut buf[..]) {
            Ok(len) => {
                buf.truncate(len);
                Ok(buf)
            }
            Err(Errno::NODATA) => Ok(Vec::new()),
            Err(e) => Err(xattr_errno_to_status(e)),
        }
    }

    /// Sets each `(name, value)` in order (MS-FSA 2.1.5.15.5): an empty value removes the EA, any other
    /// replaces or adds it. Names must already be well-formed. Nothing is changed when a name is private
    /// (ACCESS_DENIED) or the resulting list would exceed [`MAX_EA_LIST_SIZE`] (EA_TOO_LARGE); a file
    /// system error part-way leaves the earlier EAs set.
    pub fn set_eas(&self, eas: &[(&[u8], &[u8])]) -> VfsResult<()> {
        let fd = self.ea_fd(true)?;
        if eas.iter().any(|(n, _)| is_private(n)) {
            return Err(NtStatus::ACCESS_DENIED);
        }
        let mut projected = self.list_eas()?;
        for (name, value) in eas {
            projected.retain(|e| !e.name.eq_ignore_ascii_case(name));
            if !value.is_empty() {
                projected.push(EaEntry {
                    name: name.to_vec(),
                    value_len: value.len(),
                });
            }
        }
        if projected.iter().map(EaEntry::list_size).sum::<usize>() > MAX_EA_LIST_SIZE {
            return Err(NtStatus::EA_TOO_LARGE);
        }
        let mut stored = names(fd)?;
        for (name, value) in eas {
            let existing = stored.iter().position(|n| n.eq_ignore_ascii_case(name));
            let key = xattr_name(
                existing
                    .and_then(|i| stored.get(i))
                    .map_or(*name, Vec::as_slice),
            );
            if value.is_empty() {
                match rustix::fs::fremovexattr(fd, key.as_slice()) {
                    Ok(()) | Err(Errno::NODATA) => {}
                    Err(e) => return Err(xattr_errno_to_status(e)),
                }
                if let Some(i) = existing {
                    stored.remove(i);
                }
            } else {
                rustix::fs::fsetxattr(fd, key.as_slice(), value, XattrFlags::empty())
                    .map_err(xattr_errno_to_status)?;
                if existing.is_none() {
                    stored.push(name.to_vec());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
