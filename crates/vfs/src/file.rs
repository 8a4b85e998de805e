//! An open file or directory: positional I/O, size and time changes, the DOS READONLY attribute and the
//! stored DOS attributes and creation time (MS-FSA 2.1.5.2 read, 2.1.5.3 write, 2.1.5.14 set information;
//! MS-FSCC 2.6).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, PoisonError};

use proto::NtStatus;
use rustix::fs::{
    AtFlags, FallocateFlags, Mode, OFlags, Timespec, Timestamps, UTIME_NOW, UTIME_OMIT,
};
use rustix::io::{retry_on_intr, Errno};

use crate::dir::DirStream;
use crate::dosattrib::{self, DosInfo};
use crate::errno::errno_to_status;
use crate::identity::as_daemon_briefly;
use crate::path::SmbPath;
use crate::share::Share;
use crate::stat::{
    stat_fd, FileStat, FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_NORMAL,
    FILE_ATTRIBUTE_SPARSE_FILE, SETTABLE_ATTRIBUTES,
};
use crate::time::filetime_to_unix;
use crate::VfsResult;

/// All write permission bits.
const WRITE_BITS: u32 = 0o222;
/// Owner write permission bit.
const OWNER_WRITE: u32 = 0o200;

/// How the descriptor was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// `O_PATH`: metadata only (the caller lacks read permission).
    Path,
    Read,
    Write,
    ReadWrite,
}

impl Access {
    /// The access for a data open; an open with neither read nor write is opened for reading.
    pub(crate) fn for_request(read: bool, write: bool) -> Access {
        match (read, write) {
            (_, false) => Access::Read,
            (false, true) => Access::Write,
            (true, true) => Access::ReadWrite,
        }
    }

    /// The matching `open` access mode.
    pub(crate) fn flags(self) -> OFlags {
        match self {
            Access::Path => OFlags::PATH,
            Access::Read => OFlags::RDONLY,
            Access::Write => OFlags::WRONLY,
            Access::ReadWrite => OFlags::RDWR,
        }
    }

    fn can_read(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }

    fn can_write(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }
}

/// An open object of a share; owns its descriptor.
#[derive(Debug)]
pub struct OpenFile {
    fd: OwnedFd,
    is_dir: bool,
    access: Access,
    read_only_share: bool,
    share_root: bool,
    /// The share keeps `user.DOSATTRIB`.
    store_dos: bool,
    /// The share serves extended attributes (`ea support`).
    eas: bool,
    /// The stored name of the named stream this open is of (its descriptor is the object's): see
    /// [`crate::stream`].
    stream: Option<Mutex<String>>,
    /// The share serves streams (`vfs objects`).
    streams: bool,
    /// vfs_fruit's metadata storage ([`crate::fruit`]).
    fruit: Option<crate::fruit::FruitOptions>,
    /// For a resource fork kept in an AppleDouble file: that file ([`crate::rsrc_file`]).
    rsrc: Option<OwnedFd>,
}

impl OpenFile {
    pub(crate) fn new(
        fd: OwnedFd,
        is_dir: bool,
        access: Access,
        share: &Share,
        p: &SmbPath,
    ) -> OpenFile {
        OpenFile {
            fd,
            is_dir,
            access,
            read_only_share: share.options().read_only,
            share_root: p.is_root(),
            store_dos: share.options().store_dos_attributes,
            eas: share.options().ea_support,
            stream: None,
            streams: share.options().streams,
            fruit: share.options().fruit,
            rsrc: None,
        }
    }

    /// The same descriptor as an open of the object's stream stored as `stored`, with `access` to its data.
    pub(crate) fn into_stream(self, stored: String, access: Access) -> OpenFile {
        OpenFile {
            is_dir: false,
            access,
            stream: Some(Mutex::new(stored)),
            ..self
        }
    }

    /// An open of the object's resource fork kept in the AppleDouble file `ad`.
    pub(crate) fn into_resource(self, ad: OwnedFd, access: Access) -> OpenFile {
        OpenFile {
            rsrc: Some(ad),
            ..self.into_stream(crate::fruit::AFP_RESOURCE.to_owned(), access)
        }
    }

    /// How the descriptor was opened.
    pub(crate) fn access(&self) -> Access {
        self.access
    }

    /// The stored name of the stream this open is of; `None` for the object itself.
    pub fn stream_name(&self) -> Option<String> {
        self.stream
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner).clone())
    }

    /// Current metadata, with the stored DOS information (not read through attribute-only opens, which
    /// cannot read extended attributes).
    pub fn stat(&self) -> VfsResult<FileStat> {
        let st = stat_fd(&self.fd)?.with_dos(self.stored_dos());
        match self.stream_name() {
            None => Ok(st),
            Some(stored) => self.stream_stat(st, &stored),
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// Reads at `offset` until `buf` is full or end of file; returns the bytes read.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> VfsResult<usize> {
        self.check_data(self.access.can_read())?;
        if let Some(stored) = self.stream_name() {
            return self.stream_read(&stored, offset, buf.len()).map(|data| {
                let n = data.len().min(buf.len());
                buf.iter_mut().zip(&data).for_each(|(b, d)| *b = *d);
                n
            });
        }
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
            let pos = offset_plus(offset, done)?;
            let n = retry_on_intr(|| rustix::io::pread(&self.fd, &mut *rest, pos))
                .map_err(errno_to_status)?;
            if n == 0 {
                break;
            }
            done = done.saturating_add(n);
        }
        Ok(done)
    }

    /// Reads at `offset` until `len` bytes are appended to `buf` or end of file; returns the bytes
    /// appended. The data goes straight into `buf`'s spare capacity, which is not zeroed first (READ
    /// responses are built this way, so a large read writes its buffer once).
    pub fn read_append(&self, buf: &mut Vec<u8>, offset: u64, len: usize) -> VfsResult<usize> {
        self.check_data(self.access.can_read())?;
        if let Some(stored) = self.stream_name() {
            let data = self.stream_read(&stored, offset, len)?;
            buf.extend_from_slice(&data);
            return Ok(data.len());
        }
        let start = buf.len();
        let target = start.checked_add(len).ok_or(NtStatus::INVALID_PARAMETER)?;
        buf.reserve_exact(len);
        while buf.len() < target {
            let pos = offset_plus(offset, buf.len() - start)?;
            let n = retry_on_intr(|| {
                rustix::io::pread(&self.fd, rustix::buffer::spare_capacity(&mut *buf), pos)
            })
            .map_err(errno_to_status)?;
            if n == 0 {
                break;
            }
        }
        // The spare capacity may have been larger than asked for.
        buf.truncate(target);
        Ok(buf.len() - start)
    }

    /// Writes all of `data` at `offset`; returns `data.len()`.
    pub fn write_at(&self, data: &[u8], offset: u64) -> VfsResult<usize> {
        self.check_data(self.access.can_write())?;
        if let Some(stored) = self.stream_name() {
            return self
                .stream_write(&stored, data, offset)
                .map(|()| data.len());
        }
        let mut done = 0;
        while let Some(rest) = data.get(done..).filter(|rest| !rest.is_empty()) {
            let pos = offset_plus(offset, done)?;
            let n = retry_on_intr(|| rustix::io::pwrite(&self.fd, rest, pos))
                .map_err(errno_to_status)?;
            if n == 0 {
                return Err(NtStatus::DISK_FULL);
            }
            done = done.saturating_add(n);
        }
        Ok(done)
    }

    /// Commits data and metadata to stable storage (`fsync`; for a resource fork in an AppleDouble
    /// file, that file too). macOS's F_FULLFSYNC arrives as this FLUSH.
    pub fn flush(&self) -> VfsResult<()> {
        if let Some(ad) = &self.rsrc {
            retry_on_intr(|| rustix::fs::fsync(ad)).map_err(errno_to_status)?;
        }
        retry_on_intr(|| rustix::fs::fsync(&self.fd)).map_err(errno_to_status)
    }

    /// Sets the end of file (truncates or extends with zeros).
    pub fn set_len(&self, len: u64) -> VfsResult<()> {
        self.check_data(self.access.can_write())?;
        if let Some(stored) = self.stream_name() {
            return self.stream_set_len(&stored, len);
        }
        retry_on_intr(|| rustix::fs::ftruncate(&self.fd, len)).map_err(errno_to_status)
    }

    /// Reserves space up to `len` bytes without changing the size; a no-op where the file system cannot.
    pub fn allocate(&self, len: u64) -> VfsResult<()> {
        self.check_data(self.access.can_write())?;
        if len == 0 || self.stream.is_some() {
            return Ok(());
        }
        match retry_on_intr(|| rustix::fs::fallocate(&self.fd, FallocateFlags::KEEP_SIZE, 0, len)) {
            Ok(()) | Err(Errno::NOTSUP) => Ok(()),
            Err(e) => Err(errno_to_status(e)),
        }
    }

    /// Sets the last-access and last-write times (FILETIME values); `None` leaves a time unchanged.
    pub fn set_times(&self, atime: Option<u64>, mtime: Option<u64>) -> VfsResult<()> {
        self.check_metadata_writable()?;
        if atime.is_none() && mtime.is_none() {
            return Ok(());
        }
        let times = Timestamps {
            last_access: timespec(atime),
            last_modification: timespec(mtime),
        };
        rustix::fs::utimensat(&self.fd, "", &times, AtFlags::EMPTY_PATH).map_err(errno_to_status)
    }

    /// Sets the last write time to now and returns it as a FILETIME. Now is read from the system clock:
    /// the file system's own clock (`UTIME_NOW`) runs up to a few milliseconds behind it, so a client
    /// could see a write time earlier than its request. Only the owner may set an explicit time; for
    /// anyone else with write access the file system's clock is used.
    pub fn touch_last_write(&self) -> VfsResult<u64> {
        self.check_metadata_writable()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let precise = Timespec {
            tv_sec: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: now.subsec_nanos().into(),
        };
        let set = |last_modification| {
            let times = Timestamps {
                last_access: timespec(None),
                last_modification,
            };
            rustix::fs::utimensat(&self.fd, "", &times, AtFlags::EMPTY_PATH)
        };
        match set(precise) {
            Err(Errno::PERM) => set(Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_NOW,
            }),
            other => other,
        }
        .map_err(errno_to_status)?;
        Ok(self.stat()?.last_write_time)
    }

    /// Maps the DOS READONLY attribute: set clears every write bit, clear gives the owner write permission back.
    pub fn set_readonly(&self, ro: bool) -> VfsResult<()> {
        self.check_metadata_writable()?;
        if self.access == Access::Path {
            return Err(NtStatus::ACCESS_DENIED);
        }
        let perms = self.stat()?.mode & 0o7777;
        let wanted = if ro {
            perms & !WRITE_BITS
        } else {
            perms | OWNER_WRITE
        };
        if wanted == perms {
            return Ok(());
        }
        rustix::fs::fchmod(&self.fd, Mode::from_bits_truncate(wanted)).map_err(errno_to_status)
    }

    /// Stores DOS attributes and the creation time in `user.DOSATTRIB` (FileBasicInformation, MS-FSA
    /// 2.1.5.14.2). Only settable attributes are kept, and DIRECTORY follows the object's type. A `None`
    /// creation time stores the current one, so it stays stable from then on. READONLY is *also* kept in the
    /// permission bits: callers change it with [`OpenFile::set_readonly`] as well. The sparse flag is
    /// kept as it is ([`OpenFile::set_sparse`] changes it).
    ///
    /// Nothing is stored, without error, when the share has `store dos attributes` off, when the file system
    /// has no user extended attributes, or through an attribute-only (`O_PATH`) open.
    pub fn set_dos_info(&self, info: &DosInfo) -> VfsResult<()> {
        self.check_metadata_writable()?;
        if !self.store_dos {
            return Ok(());
        }
        if self.access == Access::Path {
            tracing::debug!("attribute-only open: DOS attributes not stored");
            return Ok(());
        }
        let creation_time = match info.creation_time {
            Some(t) => t,
            None => self.stat()?.creation_time,
        };
        let sparse = self
            .stored_dos()
            .map_or(0, |d| d.attributes & FILE_ATTRIBUTE_SPARSE_FILE);
        self.write_dos(&DosInfo {
            change_time: info.change_time,
            ..DosInfo::new(self.storable(info.attributes) | sparse, Some(creation_time))
        })
    }

    /// Stores the DOS information of a newly created object: ARCHIVE for a file (DIRECTORY for a directory)
    /// plus the `requested` settable attributes, and its birth time. Failures are only logged, since the
    /// object exists by now.
    pub(crate) fn store_initial_dos(&self, requested: u32) {
        if !self.store_dos || self.access == Access::Path {
            return;
        }
        let base = if self.is_dir {
            0
        } else {
            FILE_ATTRIBUTE_ARCHIVE
        };
        let result = stat_fd(&self.fd).and_then(|st| {
            self.write_dos(&DosInfo::new(
                self.storable(base | requested),
                Some(st.creation_time),
            ))
        });
        if let Err(status) = result {
            tracing::warn!(?status, "cannot store the DOS attributes of a new object");
        }
    }

    /// The settable bits of `attributes` (without NORMAL, which means "none"), DIRECTORY for a directory.
    fn storable(&self, attributes: u32) -> u32 {
        let settable = attributes & SETTABLE_ATTRIBUTES & !FILE_ATTRIBUTE_NORMAL;
        if self.is_dir {
            settable | FILE_ATTRIBUTE_DIRECTORY
        } else {
            settable
        }
    }

    /// Writes `user.DOSATTRIB`. The kernel wants write permission on the inode for a user extended
    /// attribute, so the owner of a file without write bits (DOS READONLY) could not change its other
    /// attributes; since the owner may change the permission bits anyway, that one write is retried with the
    /// daemon's credentials for the owner, which grants nothing new.
    fn write_dos(&self, info: &DosInfo) -> VfsResult<()> {
        match dosattrib::write(&self.fd, info) {
            Err(Errno::ACCESS | Errno::PERM) if self.owned_by_caller() => {
                as_daemon_briefly(|| dosattrib::write(&self.fd, info))
            }
            other => other,
        }
        .map_err(errno_to_status)
    }

    /// Whether the calling thread's effective user owns the object.
    fn owned_by_caller(&self) -> bool {
        stat_fd(&self.fd).is_ok_and(|st| st.uid == rustix::process::geteuid().as_raw())
    }

    /// A fresh directory stream from the first entry.
    pub fn read_dir(&self) -> VfsResult<DirStream> {
        if !self.is_dir {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if self.access == Access::Path {
            return Err(NtStatus::ACCESS_DENIED);
        }
        DirStream::open(&self.fd, self.share_root, self.store_dos, self.eas)
    }

    /// Data I/O needs a non-directory opened with the right access.
    fn check_data(&self, allowed: bool) -> VfsResult<()> {
        if self.is_dir {
            Err(NtStatus::INVALID_DEVICE_REQUEST)
        } else if !allowed {
            Err(NtStatus::ACCESS_DENIED)
        } else {
            Ok(())
        }
    }

    /// The descriptor for extended-attribute work: STATUS_EAS_NOT_SUPPORTED when the share has `ea support`
    /// off, ACCESS_DENIED through an attribute-only (`O_PATH`) open, which cannot reach extended attributes
    /// (it is only made when the caller may not read the object, and the kernel would refuse anyway).
    /// Whether the descriptor is `O_PATH` (an attribute-only open), which the fd xattr calls refuse.
    pub(crate) fn is_path_only(&self) -> bool {
        self.access == Access::Path
    }

    /// Whether the object could only be opened for its metadata: the kernel refused reading it.
    pub fn is_metadata_only(&self) -> bool {
        self.is_path_only()
    }

    pub(crate) fn ea_fd(&self, write: bool) -> VfsResult<BorrowedFd<'_>> {
        if !self.eas {
            return Err(NtStatus::EAS_NOT_SUPPORTED);
        }
        if write {
            self.check_metadata_writable()?;
        }
        if self.access == Access::Path {
            return Err(NtStatus::ACCESS_DENIED);
        }
        Ok(self.fd.as_fd())
    }

    pub(crate) fn check_metadata_writable(&self) -> VfsResult<()> {
        if self.read_only_share {
            Err(NtStatus::MEDIA_WRITE_PROTECTED)
        } else {
            Ok(())
        }
    }
}

impl AsFd for OpenFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `offset + done`, refusing positions past `u64`.
fn offset_plus(offset: u64, done: usize) -> VfsResult<u64> {
    u64::try_from(done)
        .ok()
        .and_then(|d| offset.checked_add(d))
        .ok_or(NtStatus::INVALID_PARAMETER)
}

/// A FILETIME as a `utimensat` time, or "omit" for `None`.
fn timespec(ft: Option<u64>) -> Timespec {
    match ft {
        Some(ft) => {
            let (secs, nanos) = filetime_to_unix(ft);
            Timespec {
                tv_sec: secs,
                tv_nsec: nanos.into(),
            }
        }
        None => Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT,
        },
    }
}

mod clone;
mod copyfile;

pub(crate) use clone::supports_reflink;
pub use clone::CloneRange;
mod ranges;
mod streams;

#[cfg(test)]
mod tests;
