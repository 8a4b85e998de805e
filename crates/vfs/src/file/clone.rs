//! Block cloning (MS-FSA 2.1.5.10.4 FSCTL_DUPLICATE_EXTENTS_TO_FILE; MS-FSCC 2.3.7, 2.3.8): a range of
//! one file comes to share the storage of a range of another (or the same) file, through Linux's
//! `FICLONERANGE`, on file systems with reflinks (Btrfs, XFS formatted with `reflink=1`). Elsewhere
//! the kernel refuses and the client hears STATUS_INVALID_DEVICE_REQUEST, what Windows answers on a
//! volume that cannot clone. Whether a share's file system can clone is found out once, without
//! leaving anything behind ([`supports_reflink`]), for FILE_SUPPORTS_BLOCK_REFCOUNTING.

use std::fs::File;
use std::num::NonZeroU64;
use std::os::fd::{AsFd, OwnedFd};

use proto::NtStatus;
use rustix::fs::{Mode, OFlags};

use super::OpenFile;
use crate::errno::clone_errno_to_status;
use crate::VfsResult;

/// The ranges of a clone, already checked by the caller to be cluster-aligned, within the largest
/// file offset and, within one file, apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloneRange {
    pub source_offset: u64,
    pub target_offset: u64,
    pub byte_count: u64,
    /// The volume's cluster size (FileFsSizeInformation's, the file system's block size).
    pub cluster: NonZeroU64,
}

impl OpenFile {
    /// Makes the target range of this file share the clusters of the source range of `src`
    /// (MS-FSA 2.1.5.10.4, after the checks on the request). Refused with STATUS_NOT_SUPPORTED, as
    /// MS-FSCC 2.3.8 lists: a sparse source into a file that is not sparse, a source range beyond
    /// the source's allocation (its size rounded up to a cluster), and a target range beyond the
    /// target's end of file (Windows never extends the target; a client extends it first). A
    /// named stream (an extended attribute here) has no extents: STATUS_INVALID_DEVICE_REQUEST.
    pub fn duplicate_extents_from(&self, src: &OpenFile, r: CloneRange) -> VfsResult<()> {
        src.check_data(src.access.can_read())?;
        self.check_data(self.access.can_write())?;
        if src.stream.is_some() || self.stream.is_some() {
            return Err(NtStatus::INVALID_DEVICE_REQUEST);
        }
        if src.is_sparse() && !self.is_sparse() {
            return Err(NtStatus::NOT_SUPPORTED);
        }
        let (src_size, dst_size) = (src.stat()?.size, self.stat()?.size);
        let allocated = src_size.checked_next_multiple_of(r.cluster.get());
        let source_end = r.source_offset.checked_add(r.byte_count);
        let target_end = r.target_offset.checked_add(r.byte_count);
        let beyond_source = source_end.zip(allocated).is_none_or(|(end, a)| end > a);
        if beyond_source || target_end.is_none_or(|end| end > dst_size) {
            return Err(NtStatus::NOT_SUPPORTED);
        }
        // The source's data in the range: the rest of its last cluster lies past its end of file.
        let data = r.byte_count.min(src_size.saturating_sub(r.source_offset));
        let whole = data - data % r.cluster.get();
        if let Some(len) = NonZeroU64::new(whole) {
            self.clone_blocks(src, r.source_offset, r.target_offset, len)?;
        }
        if data > whole {
            self.copy_partial_cluster(src, &r, whole, data)?;
        }
        Ok(())
    }

    /// `FICLONERANGE` of whole blocks. `reflink-copy` takes `&File`: the descriptors are duplicated
    /// for the call (two `dup`s, nothing compared to the clone itself), which keeps `OpenFile`'s
    /// descriptor an `OwnedFd` like every other call in this crate makes it.
    fn clone_blocks(&self, src: &OpenFile, from: u64, to: u64, len: NonZeroU64) -> VfsResult<()> {
        let (src_file, dst_file) = (as_file(&src.fd)?, as_file(&self.fd)?);
        reflink_copy::ReflinkBlockBuilder::new(&src_file, &dst_file, len)
            .from_offset(from)
            .to_offset(to)
            .reflink_block()
            .map_err(|e| {
                e.raw_os_error().map_or(NtStatus::UNSUCCESSFUL, |code| {
                    clone_errno_to_status(rustix::io::Errno::from_raw_os_error(code))
                })
            })
    }

    /// The source's last, partial cluster: Linux clones a block that ends at the source's end of
    /// file only to the target's end of file, and the target range lies within the target here. Its
    /// bytes are copied and the rest of the cluster zeroed, which is what the clone would show.
    fn copy_partial_cluster(
        &self,
        src: &OpenFile,
        r: &CloneRange,
        whole: u64,
        data: u64,
    ) -> VfsResult<()> {
        let len = usize::try_from(data - whole).map_err(|_| NtStatus::INVALID_PARAMETER)?;
        let (from, to) = (r.source_offset + whole, r.target_offset + whole);
        let copied = self.copy_range_from(src, from, to, len)?;
        let zero_from = to.saturating_add(copied as u64);
        self.zero_range(zero_from, r.target_offset + r.byte_count)
    }
}

/// A `File` on a duplicate of `fd`.
fn as_file(fd: &OwnedFd) -> VfsResult<File> {
    fd.try_clone()
        .map(File::from)
        .map_err(|e| crate::errno::io_error_to_status(&e))
}

/// Whether files under `root` can share extents: on the file systems that may (`kind` from
/// `statfs`), two unnamed temporary files (`O_TMPFILE`, gone when closed) are cloned one onto the
/// other with `FICLONE`; that fails unless the file system clones (XFS tells only this way whether
/// it was formatted with reflinks). Nothing is left on disk. False where the daemon may not create
/// files under `root`.
pub(crate) fn supports_reflink(root: impl AsFd, kind: &str) -> bool {
    if !matches!(kind, "btrfs" | "xfs" | "bcachefs") {
        return false;
    }
    let tmp = || {
        rustix::fs::openat(
            root.as_fd(),
            ".",
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        )
    };
    match (tmp(), tmp()) {
        (Ok(a), Ok(b)) => rustix::fs::ioctl_ficlone(&b, &a).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
