//! Whole-file server-side copy for macOS (`fruit:copyfile`, vfs_fruit(8)): a COPYCHUNK request without
//! chunks copies the source's data and every named stream (Finder metadata and resource fork included)
//! onto the target, as Finder's copy expects.

use std::os::fd::AsFd;

use super::OpenFile;
use crate::stream;
use crate::VfsResult;

impl OpenFile {
    /// Copies all of `src`'s data and named streams onto this file; returns the data bytes copied.
    pub fn copy_file_from(&self, src: &OpenFile) -> VfsResult<u64> {
        let size = src.stat()?.size;
        let len = usize::try_from(size).map_err(|_| proto::NtStatus::INVALID_PARAMETER)?;
        let copied = self.copy_range_from(src, 0, 0, len)?;
        if self.streams && src.stream.is_none() && self.stream.is_none() {
            for info in stream::list(src.fd.as_fd(), src.fruit)? {
                let data = stream::read(src.fd.as_fd(), &info.name, src.fruit)?;
                stream::write(self.fd.as_fd(), &info.name, &data, false, self.fruit)?;
            }
        }
        Ok(u64::try_from(copied).unwrap_or(u64::MAX))
    }
}
