//! Range operations on an open file: server-side copy (MS-SMB2 3.3.5.15.6, done by the kernel with
//! `copy_file_range`, so file systems with reflinks share extents), the sparse flag (MS-FSA 2.1.5.9.28
//! FSCTL_SET_SPARSE), zeroing a range (2.1.5.9.29 FSCTL_SET_ZERO_DATA) and the allocated ranges of a
//! file (2.1.5.9.22 FSCTL_QUERY_ALLOCATED_RANGES, from `SEEK_DATA`/`SEEK_HOLE`).

use proto::NtStatus;
use rustix::fs::{FallocateFlags, SeekFrom};
use rustix::io::{retry_on_intr, Errno};

use super::OpenFile;
use crate::dosattrib::{self, DosInfo};
use crate::errno::errno_to_status;
use crate::stat::FILE_ATTRIBUTE_SPARSE_FILE;
use crate::VfsResult;

/// Size of the buffer zeros are written from where the file system cannot zero a range itself.
const ZERO_BLOCK: usize = 64 * 1024;

/// One allocated range: (offset, length).
pub type Range = (u64, u64);

impl OpenFile {
    /// Copies `len` bytes at `src_offset` of `src` to `dst_offset` of this file; returns the bytes
    /// copied (fewer only when the source ends first). The kernel copies; where it cannot
    /// (`EXDEV`, `EOPNOTSUPP`, or overlapping ranges of one file, `EINVAL`) the range is read whole
    /// and then written, so an overlapping copy gives the source's bytes as they were. `len` is
    /// bounded by the caller (it is allocated on the fallback path).
    pub fn copy_range_from(
        &self,
        src: &OpenFile,
        src_offset: u64,
        dst_offset: u64,
        len: usize,
    ) -> VfsResult<usize> {
        src.check_data(src.access.can_read())?;
        self.check_data(self.access.can_write())?;
        if src.stream.is_some() || self.stream.is_some() {
            // A stream's bytes are an extended attribute's value: the kernel cannot copy them.
            return self.copy_by_buffer(src, src_offset, dst_offset, len);
        }
        let (mut off_in, mut off_out, mut done) = (src_offset, dst_offset, 0usize);
        while done < len {
            let rest = len.saturating_sub(done);
            match retry_on_intr(|| {
                rustix::fs::copy_file_range(
                    &src.fd,
                    Some(&mut off_in),
                    &self.fd,
                    Some(&mut off_out),
                    rest,
                )
            }) {
                Ok(0) => break,
                Ok(n) => done = done.saturating_add(n),
                Err(Errno::XDEV | Errno::NOTSUP | Errno::INVAL | Errno::NOSYS) => {
                    return Ok(done.saturating_add(self.copy_by_buffer(src, off_in, off_out, rest)?))
                }
                Err(e) => return Err(errno_to_status(e)),
            }
        }
        Ok(done)
    }

    /// The fallback copy: read the whole range, then write it.
    fn copy_by_buffer(
        &self,
        src: &OpenFile,
        src_offset: u64,
        dst_offset: u64,
        len: usize,
    ) -> VfsResult<usize> {
        let mut buf = Vec::new();
        src.read_append(&mut buf, src_offset, len)?;
        self.write_at(&buf, dst_offset)
    }

    /// Whether the file carries FILE_ATTRIBUTE_SPARSE_FILE.
    pub fn is_sparse(&self) -> bool {
        self.stream.is_none()
            && self
                .stored_dos()
                .is_some_and(|d| d.attributes & FILE_ATTRIBUTE_SPARSE_FILE != 0)
    }

    /// Sets or clears FILE_ATTRIBUTE_SPARSE_FILE in the stored DOS attributes (nothing is stored where
    /// the share keeps no DOS attributes, nor through a stream's open).
    pub fn set_sparse(&self, sparse: bool) -> VfsResult<()> {
        self.check_data(true)?;
        self.check_metadata_writable()?;
        // A stream is too small to have holes; the flag belongs to the file's own data.
        if !self.store_dos || self.stream.is_some() {
            return Ok(());
        }
        let st = self.stat()?;
        let attributes = st.dos.map_or(0, |d| d.attributes);
        let wanted = if sparse {
            attributes | FILE_ATTRIBUTE_SPARSE_FILE
        } else {
            attributes & !FILE_ATTRIBUTE_SPARSE_FILE
        };
        if st.dos.is_some() && wanted == attributes {
            return Ok(());
        }
        self.write_dos(&DosInfo::new(wanted, Some(st.creation_time)))
    }

    /// The stored DOS information, if any.
    pub(super) fn stored_dos(&self) -> Option<DosInfo> {
        (self.store_dos && self.access != super::Access::Path)
            .then(|| dosattrib::read(&self.fd))
            .flatten()
    }

    /// Zeros the bytes from `offset` to `end` that lie before the end of file (the file never grows).
    /// A sparse file gets a hole (`FALLOC_FL_PUNCH_HOLE`), others zeros (`FALLOC_FL_ZERO_RANGE`,
    /// else written).
    pub fn zero_range(&self, offset: u64, end: u64) -> VfsResult<()> {
        self.check_data(self.access.can_write())?;
        let end = end.min(self.stat()?.size);
        let Some(len) = end.checked_sub(offset).filter(|&l| l > 0) else {
            return Ok(());
        };
        if self.stream.is_some() {
            // Streams are small (one extended attribute): zeros are written.
            let zeros = vec![0u8; usize::try_from(len).map_err(|_| NtStatus::DISK_FULL)?];
            return self.write_at(&zeros, offset).map(drop);
        }
        let mut modes = vec![FallocateFlags::ZERO_RANGE | FallocateFlags::KEEP_SIZE];
        if self.is_sparse() {
            modes.insert(0, FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE);
        }
        for mode in modes {
            match retry_on_intr(|| rustix::fs::fallocate(&self.fd, mode, offset, len)) {
                Ok(()) => return Ok(()),
                Err(Errno::NOTSUP | Errno::INVAL | Errno::NOSYS) => continue,
                Err(e) => return Err(errno_to_status(e)),
            }
        }
        self.write_zeros(offset, len)
    }

    fn write_zeros(&self, offset: u64, len: u64) -> VfsResult<()> {
        let zeros = vec![0u8; ZERO_BLOCK];
        let mut at = offset;
        let end = offset.saturating_add(len);
        while at < end {
            let n =
                usize::try_from(end.saturating_sub(at)).map_or(ZERO_BLOCK, |r| r.min(ZERO_BLOCK));
            self.write_at(zeros.get(..n).unwrap_or_default(), at)?;
            at = at.saturating_add(n as u64);
        }
        Ok(())
    }

    /// The allocated ranges within `offset..offset + len`, clipped to the end of file, at most
    /// `limit` of them. A file that is not sparse counts as allocated throughout.
    pub fn allocated_ranges(&self, offset: u64, len: u64, limit: usize) -> VfsResult<Vec<Range>> {
        self.check_data(true)?;
        let end = offset.saturating_add(len).min(self.stat()?.size);
        if offset >= end || limit == 0 {
            return Ok(Vec::new());
        }
        if !self.is_sparse() {
            return Ok(vec![(offset, end - offset)]);
        }
        let mut ranges = Vec::new();
        let mut at = offset;
        while at < end && ranges.len() < limit {
            let data = match rustix::fs::seek(&self.fd, SeekFrom::Data(at)) {
                Ok(d) => d,
                Err(Errno::NXIO) => break,
                Err(Errno::INVAL | Errno::NOTSUP) => at, // no SEEK_DATA: all data
                Err(e) => return Err(errno_to_status(e)),
            };
            if data >= end {
                break;
            }
            let hole = match rustix::fs::seek(&self.fd, SeekFrom::Hole(data)) {
                Ok(h) => h,
                Err(Errno::INVAL | Errno::NOTSUP) => end,
                Err(e) => return Err(errno_to_status(e)),
            };
            let stop = hole.min(end);
            ranges.push((data, stop - data));
            at = stop;
        }
        Ok(ranges)
    }
}

#[cfg(test)]
mod tests;
