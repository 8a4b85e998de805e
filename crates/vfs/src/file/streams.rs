//! Data I/O and metadata of an open named stream (MS-FSA 2.1.5.2 read, 2.1.5.3 write, 2.1.5.15.4
//! end of file, 2.1.5.15.11.1 stream rename), and the stream list and overwrite of an open object. The
//! stream is an extended attribute of the object's descriptor ([`crate::stream`]): its value is read
//! whole, changed and stored whole (one change at a time, [`stream::update`]), which its 64 KiB bound
//! keeps cheap.

use std::os::fd::AsFd;
use std::sync::PoisonError;

use proto::NtStatus;

use super::OpenFile;
use crate::rsrc_file;
use crate::stat::{stat_fd, FileStat};
use crate::stream::{self, StreamInfo, StreamName};
use crate::VfsResult;

impl OpenFile {
    /// The object's metadata `st` as the stream `stored` shows it: its own size and identity, never a
    /// directory.
    pub(super) fn stream_stat(&self, mut st: FileStat, stored: &str) -> VfsResult<FileStat> {
        let size = match &self.rsrc {
            Some(ad) => rsrc_file::len(ad.as_fd()),
            None => u64::try_from(stream::read(self.fd.as_fd(), stored, self.fruit)?.len())
                .unwrap_or(u64::MAX),
        };
        st.size = size;
        st.alloc_size = stream::allocation(size);
        st.is_dir = false;
        st.stream_id = stream::stream_id(stored);
        Ok(st)
    }

    /// Up to `len` bytes of the stream from `offset`.
    pub(super) fn stream_read(&self, stored: &str, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        if let Some(ad) = &self.rsrc {
            return rsrc_file::read(ad.as_fd(), offset, len);
        }
        let data = stream::read(self.fd.as_fd(), stored, self.fruit)?;
        let offset = crate::fruit::afp_info_read_offset(self.fruit, stored, offset);
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(len).min(data.len());
        Ok(data.get(start..end).unwrap_or_default().to_vec())
    }

    /// Writes `data` at `offset`, extending the stream with zeros where it starts beyond the end.
    pub(super) fn stream_write(&self, stored: &str, data: &[u8], offset: u64) -> VfsResult<()> {
        if let Some(ad) = &self.rsrc {
            return rsrc_file::write(ad.as_fd(), data, offset);
        }
        let start = usize::try_from(offset).map_err(|_| NtStatus::DISK_FULL)?;
        let end = start.checked_add(data.len()).ok_or(NtStatus::DISK_FULL)?;
        if end > stream::MAX_STREAM_SIZE {
            return Err(NtStatus::DISK_FULL);
        }
        stream::update(self.fd.as_fd(), stored, self.fruit, |value| {
            if value.len() < end {
                value.resize(end, 0);
            }
            if let Some(dst) = value.get_mut(start..end) {
                dst.copy_from_slice(data);
            }
        })
    }

    /// Truncates or extends the stream to `len` bytes.
    pub(super) fn stream_set_len(&self, stored: &str, len: u64) -> VfsResult<()> {
        if let Some(ad) = &self.rsrc {
            return rsrc_file::set_len(ad.as_fd(), len);
        }
        if crate::fruit::FruitOptions::is_netatalk_info(self.fruit, stored) {
            // The AfpInfo is 60 bytes: it cannot grow, and shrinking it changes nothing (vfs_fruit).
            return if len > crate::fruit::AFP_INFO_SIZE as u64 {
                Err(NtStatus::ALLOTTED_SPACE_EXCEEDED)
            } else {
                Ok(())
            };
        }
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= stream::MAX_STREAM_SIZE)
            .ok_or(NtStatus::DISK_FULL)?;
        stream::update(self.fd.as_fd(), stored, self.fruit, |value| {
            value.resize(len, 0);
        })
    }

    /// The streams of the object (FileStreamInformation, MS-FSA 2.1.5.12.29): first the unnamed data
    /// stream (named `""`), which a directory lacks, then the named ones (none where the share serves
    /// no streams).
    pub fn streams(&self) -> VfsResult<Vec<StreamInfo>> {
        if self.access == super::Access::Path {
            return Err(NtStatus::ACCESS_DENIED);
        }
        let st = stat_fd(&self.fd)?;
        let mut out = Vec::new();
        if !st.is_dir {
            out.push(StreamInfo {
                name: String::new(),
                size: st.size,
                alloc_size: st.alloc_size,
            });
        }
        if self.streams {
            out.extend(stream::list(self.fd.as_fd(), self.fruit)?);
        }
        Ok(out)
    }

    /// An overwrite or supersede of an existing open (MS-FSA 2.1.5.1.2.1): a stream loses its data; a
    /// file loses its data and every named stream.
    pub fn overwrite(&self) -> VfsResult<()> {
        if self.is_dir {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        self.set_len(0)?;
        if self.stream.is_none() && self.access != super::Access::Path {
            stream::remove_all(self.fd.as_fd())?;
        }
        Ok(())
    }

    /// Whether the object (not the stream this open may be of) is a directory.
    pub fn object_is_dir(&self) -> bool {
        self.is_dir || (self.stream.is_some() && stat_fd(&self.fd).is_ok_and(|st| st.is_dir))
    }

    /// Deletes the stream this open is of (delete on close).
    pub fn delete_stream(&self) -> VfsResult<()> {
        self.check_metadata_writable()?;
        match self.stream_name() {
            // vfs_fruit keeps a resource fork whose stream is deleted on close.
            Some(stored) if self.fruit.is_some() && crate::fruit::is_resource(&stored) => Ok(()),
            Some(stored) => stream::remove(self.fd.as_fd(), &stored, self.fruit),
            None => Err(NtStatus::INVALID_PARAMETER),
        }
    }

    /// Renames the stream this open is of to `to` (MS-FSA 2.1.5.15.11.1); an existing target is
    /// OBJECT_NAME_COLLISION unless `replace`.
    pub fn rename_stream(&self, to: &StreamName, replace: bool) -> VfsResult<()> {
        self.check_metadata_writable()?;
        let Some(cell) = &self.stream else {
            return Err(NtStatus::INVALID_PARAMETER);
        };
        let mut stored = cell.lock().unwrap_or_else(PoisonError::into_inner);
        *stored = stream::rename(self.fd.as_fd(), &stored, to, replace)?;
        Ok(())
    }
}
