//! Resource forks in AppleDouble files (`fruit:resource = file`, vfs_fruit's default): the `AFP_Resource`
//! stream of `dir/name` is the resource-fork entry (id 2) of the AppleDouble version 2 file
//! `dir/._name` (RFC 1740 layout, big-endian), the way macOS itself writes to file systems without
//! forks and the way Samba keeps them. A new one is laid out as Samba 4.17 writes it (observed on disk):
//! the filler `Netatalk`, a resource entry at offset 82 and an empty FinderInfo entry at 50.
//!
//! The resource fork must be the last data of the file (as in every file macOS and Samba write), so it
//! can grow and shrink in place; its length is kept in its descriptor. Only the header (at most
//! [`HEADER_MAX`] bytes) is read into memory; the fork's data is read and written in place.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use proto::NtStatus;
use rustix::fs::{Mode, OFlags};
use rustix::io::{retry_on_intr, Errno};

use crate::create::{CreateAction, CreateRequest, Disposition};
use crate::errno::errno_to_status;
use crate::file::{Access, OpenFile};
use crate::fruit::{ad_entry, AD_MAGIC, AD_VERSION};
use crate::path::SmbPath;
use crate::share::Share;
use crate::VfsResult;

use crate::fruit::ADOUBLE_PREFIX as PREFIX;
/// The entry id of the resource fork.
const RESOURCE_ID: u32 = 2;
/// The most header bytes read (descriptors of files written by macOS and Samba end long before).
const HEADER_MAX: usize = 4096;
/// Where a new file's resource fork starts.
const NEW_RESOURCE_OFFSET: u32 = 82;
/// Where a new file's (empty) FinderInfo starts.
const NEW_FINDER_OFFSET: u32 = 50;

/// The AppleDouble file of `p`; None for the share root.
pub(crate) fn sibling(p: &SmbPath) -> Option<SmbPath> {
    let (parent, name) = p.parent_and_name()?;
    parent.join(&format!("{PREFIX}{name}")).ok()
}

/// The header of a new AppleDouble file with an empty resource fork.
fn new_header() -> Vec<u8> {
    let mut h = Vec::with_capacity(usize::try_from(NEW_RESOURCE_OFFSET).unwrap_or(0));
    h.extend_from_slice(&AD_MAGIC.to_be_bytes());
    h.extend_from_slice(&AD_VERSION.to_be_bytes());
    h.extend_from_slice(b"Netatalk        ");
    h.extend_from_slice(&2u16.to_be_bytes());
    for (id, off, len) in [
        (RESOURCE_ID, NEW_RESOURCE_OFFSET, 0u32),
        (9, NEW_FINDER_OFFSET, 32),
    ] {
        h.extend_from_slice(&id.to_be_bytes());
        h.extend_from_slice(&off.to_be_bytes());
        h.extend_from_slice(&len.to_be_bytes());
    }
    h.resize(usize::try_from(NEW_RESOURCE_OFFSET).unwrap_or(0), 0);
    h
}

/// The resource entry of the AppleDouble file `fd`; INVALID_PARAMETER when it is not one.
fn resource(fd: BorrowedFd<'_>) -> VfsResult<crate::fruit::AdEntry> {
    let mut head = vec![0u8; HEADER_MAX];
    let n = retry_on_intr(|| rustix::io::pread(fd, &mut head[..], 0)).map_err(errno_to_status)?;
    head.truncate(n);
    ad_entry(&head, RESOURCE_ID).ok_or(NtStatus::INVALID_PARAMETER)
}

/// The resource fork's length; 0 for a file that is not AppleDouble.
pub(crate) fn len(fd: BorrowedFd<'_>) -> u64 {
    resource(fd).map_or(0, |e| e.len)
}

/// Up to `len` bytes of the fork from `offset`.
pub(crate) fn read(fd: BorrowedFd<'_>, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
    let e = resource(fd)?;
    let avail = e.len.saturating_sub(offset);
    let len = len.min(usize::try_from(avail).unwrap_or(usize::MAX));
    let pos = e
        .offset
        .checked_add(offset)
        .ok_or(NtStatus::INVALID_PARAMETER)?;
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        let at = pos.saturating_add(u64::try_from(done).unwrap_or(u64::MAX));
        match retry_on_intr(|| rustix::io::pread(fd, &mut *rest, at)).map_err(errno_to_status)? {
            0 => break,
            n => done = done.saturating_add(n),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

/// Writes `data` at `offset` of the fork, growing it as needed.
pub(crate) fn write(fd: BorrowedFd<'_>, data: &[u8], offset: u64) -> VfsResult<()> {
    let e = last_resource(fd)?;
    let pos = e.offset.checked_add(offset).ok_or(NtStatus::DISK_FULL)?;
    let mut done = 0;
    while let Some(rest) = data.get(done..).filter(|r| !r.is_empty()) {
        let at = pos.saturating_add(u64::try_from(done).unwrap_or(u64::MAX));
        match retry_on_intr(|| rustix::io::pwrite(fd, rest, at)).map_err(errno_to_status)? {
            0 => return Err(NtStatus::DISK_FULL),
            n => done = done.saturating_add(n),
        }
    }
    let end = offset.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
    if end > e.len {
        store_len(fd, &e, end)?;
    }
    Ok(())
}

/// Truncates or extends the fork to `len` bytes.
pub(crate) fn set_len(fd: BorrowedFd<'_>, len: u64) -> VfsResult<()> {
    let e = last_resource(fd)?;
    let end = e.offset.checked_add(len).ok_or(NtStatus::DISK_FULL)?;
    retry_on_intr(|| rustix::fs::ftruncate(fd, end)).map_err(errno_to_status)?;
    store_len(fd, &e, len)
}

/// The resource entry, which must end the file for the fork to change size in place.
fn last_resource(fd: BorrowedFd<'_>) -> VfsResult<crate::fruit::AdEntry> {
    let e = resource(fd)?;
    let size = rustix::fs::fstat(fd).map_err(errno_to_status)?.st_size;
    let size = u64::try_from(size).unwrap_or(0);
    if e.offset.saturating_add(e.len) < size {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(e)
}

/// Records the fork's length in its descriptor; a fork cannot exceed the 32-bit length field.
fn store_len(fd: BorrowedFd<'_>, e: &crate::fruit::AdEntry, len: u64) -> VfsResult<()> {
    let len = u32::try_from(len).map_err(|_| NtStatus::DISK_FULL)?;
    let at = u64::try_from(e.descriptor.saturating_add(8)).unwrap_or(u64::MAX);
    let n = retry_on_intr(|| rustix::io::pwrite(fd, &len.to_be_bytes(), at))
        .map_err(errno_to_status)?;
    if n == 4 {
        Ok(())
    } else {
        Err(NtStatus::DISK_FULL)
    }
}

/// How AppleDouble files are opened: never through a final symbolic link, and without waiting on a
/// FIFO someone put in their place.
const OPEN: OFlags = OFlags::NOFOLLOW.union(OFlags::NONBLOCK);

impl Share {
    /// Opens the AppleDouble file of `p` for reading and, when the share allows, writing. Only a
    /// regular file is one.
    fn open_adouble(&self, ad: &SmbPath, create: bool) -> rustix::io::Result<OwnedFd> {
        let (flags, mode) = if create {
            let mode = Mode::from_bits_truncate(0o644);
            (OFlags::RDWR | OPEN | OFlags::CREATE, mode)
        } else {
            // openat2 refuses a mode without O_CREAT.
            (OFlags::RDWR | OPEN, Mode::empty())
        };
        let fd = match self.open_exact(ad, flags, mode) {
            Err(Errno::ACCESS | Errno::ROFS) if !create => self.read_adouble(ad),
            other => other,
        }?;
        regular(fd)
    }

    /// Opens the AppleDouble file `ad` for reading.
    fn read_adouble(&self, ad: &SmbPath) -> rustix::io::Result<OwnedFd> {
        regular(self.open_exact(ad, OFlags::RDONLY | OPEN, Mode::empty())?)
    }

    /// The length of `p`'s resource fork kept in its AppleDouble file; 0 without one or on shares
    /// that keep resource forks elsewhere.
    pub fn resource_fork_len(&self, p: &SmbPath) -> u64 {
        if !crate::fruit::FruitOptions::is_resource_file(
            self.options().fruit,
            crate::fruit::AFP_RESOURCE,
        ) {
            return 0;
        }
        sibling(p)
            .and_then(|ad| self.read_adouble(&ad).ok())
            .map_or(0, |fd| len(fd.as_fd()))
    }

    /// Opens or creates the resource fork of the object `p` (already open as `base`) as `req` says:
    /// an empty fork does not exist; a created one gets its AppleDouble file at once.
    pub(crate) fn open_resource_file(
        &self,
        p: &SmbPath,
        base: OpenFile,
        req: &CreateRequest,
    ) -> VfsResult<(OpenFile, CreateAction)> {
        let ad = sibling(p).ok_or(NtStatus::OBJECT_NAME_INVALID)?;
        let existing = match self.open_adouble(&ad, false) {
            Ok(fd) => Some(fd),
            Err(Errno::NOENT) => None,
            Err(e) => return Err(errno_to_status(e)),
        };
        let exists = existing.as_ref().is_some_and(|fd| len(fd.as_fd()) > 0);
        let creates = req.disposition.creates();
        let (fd, action) = match existing {
            Some(_) if exists && req.disposition == Disposition::Create => {
                return Err(NtStatus::OBJECT_NAME_COLLISION)
            }
            Some(fd) if exists && req.disposition.truncates() => {
                self.check_writable()?;
                set_len(fd.as_fd(), 0)?;
                (fd, req.disposition.existing_action())
            }
            Some(fd) if exists => (fd, CreateAction::Opened),
            _ if !creates => return Err(NtStatus::OBJECT_NAME_NOT_FOUND),
            Some(fd) if resource(fd.as_fd()).is_ok() => (fd, CreateAction::Created),
            _ => {
                self.check_writable()?;
                let fd = self.open_adouble(&ad, true).map_err(errno_to_status)?;
                retry_on_intr(|| rustix::fs::ftruncate(&fd, 0)).map_err(errno_to_status)?;
                let header = new_header();
                write_all(fd.as_fd(), &header)?;
                (fd, CreateAction::Created)
            }
        };
        let access = Access::for_request(req.read, req.write);
        Ok((base.into_resource(fd, access), action))
    }

    /// Copies the AppleDouble file of `from` (its resource fork) onto `to`'s, for a whole-file copy.
    pub fn copy_resource_fork(&self, from: &SmbPath, to: &SmbPath) -> VfsResult<()> {
        if !self.keeps_adouble() {
            return Ok(());
        }
        let (Some(src), Some(dst)) = (sibling(from), sibling(to)) else {
            return Ok(());
        };
        let src = match self.read_adouble(&src) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(()),
            Err(e) => return Err(errno_to_status(e)),
        };
        self.check_writable()?;
        let dst = self.open_adouble(&dst, true).map_err(errno_to_status)?;
        retry_on_intr(|| rustix::fs::ftruncate(&dst, 0)).map_err(errno_to_status)?;
        let (mut off_in, mut off_out) = (0u64, 0u64);
        loop {
            let n = retry_on_intr(|| {
                rustix::fs::copy_file_range(
                    &src,
                    Some(&mut off_in),
                    &dst,
                    Some(&mut off_out),
                    1 << 24,
                )
            })
            .map_err(errno_to_status)?;
            if n == 0 {
                return Ok(());
            }
        }
    }

    /// Removes the AppleDouble file of `p`, if any (its file was deleted).
    pub(crate) fn remove_adouble(&self, p: &SmbPath) {
        let Some(ad) = sibling(p) else {
            return;
        };
        if let Ok((parent, name)) = self.open_parent(&ad) {
            // Best effort: a fork that cannot be removed stays behind, as with Samba.
            let _ = rustix::fs::unlinkat(&parent, &*name, rustix::fs::AtFlags::empty());
        }
    }

    /// Moves the AppleDouble file of `from` along with its file to `to`, if there is one.
    pub(crate) fn rename_adouble(&self, from: &SmbPath, to: &SmbPath) {
        let (Some(a), Some(b)) = (sibling(from), sibling(to)) else {
            return;
        };
        let (Ok((from_dir, from_name)), Ok((to_dir, to_name))) =
            (self.open_parent(&a), self.open_parent(&b))
        else {
            return;
        };
        let _ = rustix::fs::renameat(&from_dir, &*from_name, &to_dir, &*to_name);
    }
}

/// `fd` if it is a regular file.
fn regular(fd: OwnedFd) -> rustix::io::Result<OwnedFd> {
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile {
        Ok(fd)
    } else {
        Err(Errno::INVAL)
    }
}

/// Writes all of `data` at the start of `fd`.
fn write_all(fd: BorrowedFd<'_>, data: &[u8]) -> VfsResult<()> {
    let n = retry_on_intr(|| rustix::io::pwrite(fd, data, 0)).map_err(errno_to_status)?;
    if n == data.len() {
        Ok(())
    } else {
        Err(NtStatus::DISK_FULL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_header_is_samba_layout() {
        let h = new_header();
        assert_eq!(h.len(), 82);
        assert_eq!(&h[8..24], b"Netatalk        ");
        let e = ad_entry(&h, RESOURCE_ID).unwrap();
        assert_eq!((e.descriptor, e.offset, e.len), (26, 82, 0));
        assert_eq!(ad_entry(&h, 9).map(|e| (e.offset, e.len)), Some((50, 32)));
    }

    #[test]
    fn fork_grows_shrinks_and_reads_back_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("._x"))
            .unwrap();
        let fd = f.as_fd();
        write_all(fd, &new_header()).unwrap();
        write(fd, b"1234567890", 10).unwrap();
        assert_eq!(len(fd), 20);
        assert_eq!(read(fd, 10, 100).unwrap(), b"1234567890");
        assert_eq!(read(fd, 0, 4).unwrap(), [0; 4]);
        set_len(fd, 1).unwrap();
        assert_eq!(len(fd), 1);
        assert_eq!(f.metadata().unwrap().len(), 83);
        assert_eq!(read(fd, 5, 10).unwrap(), b"");
    }

    #[test]
    fn not_apple_double_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("._y"), b"plain text").unwrap();
        let f = std::fs::File::open(dir.path().join("._y")).unwrap();
        assert_eq!(len(f.as_fd()), 0);
        assert_eq!(read(f.as_fd(), 0, 5), Err(NtStatus::INVALID_PARAMETER));
    }

    #[test]
    fn sibling_names() {
        let p = SmbPath::parse("a\\b.txt").unwrap();
        assert_eq!(sibling(&p).unwrap().as_unix(), "a/._b.txt");
        assert_eq!(sibling(&SmbPath::root()), None);
    }
}

#[cfg(test)]
mod share_tests {
    use super::*;
    use crate::create::Kind;
    use crate::fruit::{FruitOptions, MetadataStore, ResourceStore};

    /// A share at `root` keeping resource forks in `._name` files, as Samba's fruit does by default.
    fn fruit_share(root: &std::path::Path) -> Share {
        let opts = crate::ShareOptions {
            fruit: Some(FruitOptions {
                metadata: MetadataStore::Netatalk,
                resource: ResourceStore::File,
            }),
            ..Default::default()
        };
        Share::open(root, opts).unwrap()
    }

    #[test]
    fn resource_fork_through_the_share() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        let share = fruit_share(dir.path());
        let name = crate::stream::parse_name("f:AFP_Resource").unwrap();
        let req = CreateRequest {
            disposition: Disposition::OpenIf,
            kind: Kind::Any,
            read: true,
            write: true,
            attributes: 0,
            mode: 0o666,
        };
        let (file, action) = share.create_named(&name, &req).unwrap();
        assert_eq!(action, CreateAction::Created);
        file.write_at(b"1234567890", 10).unwrap();
        assert_eq!(file.stat().unwrap().size, 20);
        assert_eq!(share.resource_fork_len(&SmbPath::parse("f").unwrap()), 20);
        let on_disk = std::fs::read(dir.path().join("._f")).unwrap();
        assert_eq!(on_disk.len(), 102);
        assert_eq!(&on_disk[92..], b"1234567890");
    }

    #[test]
    fn a_fifo_in_place_of_the_apple_double_file_is_no_fork() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("._f"),
            rustix::fs::FileType::Fifo,
            Mode::from_bits_truncate(0o666),
            0,
        )
        .unwrap();
        let share = fruit_share(dir.path());
        assert_eq!(share.resource_fork_len(&SmbPath::parse("f").unwrap()), 0);
    }
}
