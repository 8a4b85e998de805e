//! A share: its root directory descriptor and confined name resolution (DESIGN.md decision 6), with the
//! name-level operations of MS-FSA 2.1.5: stat, delete, rename (2.1.5.14.11) and hard link (2.1.5.14.6).
//!
//! Every lookup goes through `openat2(root_fd, path, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS
//! [| RESOLVE_NO_SYMLINKS])`, so the kernel keeps it inside the share; no absolute path is ever built.

use std::borrow::Cow;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use proto::NtStatus;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, ResolveFlags, StatVfsMountFlags};
use rustix::io::Errno;

use crate::errno::{errno_to_status, resolve_errno_to_status};
use crate::path::SmbPath;
use crate::stat::{fs_kind, stat_at, stat_fd, FileStat, FsStat};
use crate::VfsResult;

/// Per-share behaviour switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareOptions {
    /// Follow symlinks that stay inside the share (`follow symlinks = yes`).
    pub follow_symlinks: bool,
    /// Refuse every modification (`read only = yes`).
    pub read_only: bool,
    /// Keep DOS attributes and creation times in `user.DOSATTRIB` (`store dos attributes`, default yes);
    /// when off, the extended attribute is never read or written.
    pub store_dos_attributes: bool,
    /// Extended attributes (MS-FSCC 2.4.15) as `user.<name>` xattrs, as Samba keeps them (`ea support`,
    /// default yes); when off, every EA request fails with STATUS_EAS_NOT_SUPPORTED.
    pub ea_support: bool,
    /// Alternate data streams as `user.DosStream.<name>:$DATA` xattrs, as Samba's `streams_xattr` keeps
    /// them (on unless `vfs objects` is set without `streams_xattr`); when off, stream names are
    /// OBJECT_NAME_INVALID.
    pub streams: bool,
    /// Match names exactly (`case sensitive = yes`); by default a name that does not exist as given
    /// matches an entry that differs only in case, as on Windows ([`crate::case`]).
    pub case_sensitive: bool,
    /// Permission bits a new file may have (`create mask`) and bits it always gets (`force create mode`).
    pub create_mask: u32,
    pub force_create_mode: u32,
    /// The same for new directories (`directory mask`, `force directory mode`).
    pub directory_mask: u32,
    pub force_directory_mode: u32,
    /// vfs_fruit's storage of Finder metadata, when `vfs objects` names `fruit` ([`crate::fruit`]).
    pub fruit: Option<crate::fruit::FruitOptions>,
}

impl Default for ShareOptions {
    fn default() -> ShareOptions {
        ShareOptions {
            follow_symlinks: false,
            read_only: false,
            store_dos_attributes: true,
            ea_support: true,
            streams: true,
            case_sensitive: false,
            create_mask: 0o7777,
            force_create_mode: 0,
            directory_mask: 0o7777,
            force_directory_mode: 0,
            fruit: None,
        }
    }
}

impl ShareOptions {
    /// The permission bits of a new object: a file asked for with `requested`, or a directory (0777
    /// before the masks).
    pub fn new_mode(&self, directory: bool, requested: u32) -> u32 {
        let mode = if directory {
            (0o777 & self.directory_mask) | self.force_directory_mode
        } else {
            (requested & self.create_mask) | self.force_create_mode
        };
        mode & 0o7777
    }
}

/// An exported directory tree.
#[derive(Debug)]
pub struct Share {
    root: OwnedFd,
    root_path: PathBuf,
    opts: ShareOptions,
    kind: &'static str,
    /// The file system shares extents between files ([`crate::file::supports_reflink`]).
    reflink: bool,
    /// See [`crate::case`].
    pub(crate) last_miss: crate::case::LastMiss,
}

impl Share {
    /// Opens the share root (configuration-time path, may be absolute).
    pub fn open(root: &Path, opts: ShareOptions) -> std::io::Result<Share> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(root, flags, Mode::empty())?;
        let magic = rustix::fs::fstatfs(&fd)?.f_type;
        let kind = fs_kind(u64::try_from(magic).unwrap_or(0));
        let reflink = crate::file::supports_reflink(&fd, kind);
        Ok(Share {
            root: fd,
            root_path: root.to_owned(),
            opts,
            kind,
            reflink,
            last_miss: Default::default(),
        })
    }

    /// The configured root path (for logs and status output only).
    pub fn root_path(&self) -> &Path {
        &self.root_path
    }

    /// The share's options.
    pub fn options(&self) -> &ShareOptions {
        &self.opts
    }

    /// Metadata of `p`, following a final symlink only when the share follows symlinks.
    pub fn stat(&self, p: &SmbPath) -> VfsResult<FileStat> {
        let fd = self
            .open_at(p, OFlags::PATH, Mode::empty())
            .map_err(|e| self.lookup_error(p, e))?;
        stat_fd(&fd)
    }

    /// Deletes a file (`is_dir == false`) or an empty directory.
    pub fn unlink(&self, p: &SmbPath, is_dir: bool) -> VfsResult<()> {
        self.check_writable()?;
        let (parent, name) = self.open_parent(p)?;
        let flags = if is_dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        rustix::fs::unlinkat(&parent, &*name, flags).map_err(name_errno_to_status)?;
        if !is_dir && self.keeps_adouble() {
            self.remove_adouble(p);
        }
        Ok(())
    }

    /// Whether resource forks live in AppleDouble files beside their files (`fruit:resource = file`).
    pub(crate) fn keeps_adouble(&self) -> bool {
        crate::fruit::FruitOptions::is_resource_file(self.opts.fruit, crate::fruit::AFP_RESOURCE)
    }

    /// Renames `from` to `to`. Without `replace` an existing target gives `OBJECT_NAME_COLLISION`; with it, an
    /// existing directory target gives `ACCESS_DENIED` (MS-FSA 2.1.5.14.11). Renaming a name onto itself succeeds.
    pub fn rename(&self, from: &SmbPath, to: &SmbPath, replace: bool) -> VfsResult<()> {
        self.check_writable()?;
        let (from_dir, from_name) = self.open_parent(from)?;
        if from == to {
            return stat_at(&from_dir, &from_name)
                .map(drop)
                .map_err(name_errno_to_status);
        }
        let (to_dir, to_name) = self.open_parent(to)?;
        // A new name that differs from the file's own only in case is taken as given.
        let to_name = if same_object(&from_dir, &from_name, &to_dir, &to_name) {
            Cow::Borrowed(to.file_name())
        } else {
            to_name
        };
        let flags = if replace {
            refuse_directory_target(&to_dir, &to_name)?;
            RenameFlags::empty()
        } else {
            RenameFlags::NOREPLACE
        };
        rustix::fs::renameat_with(&from_dir, &*from_name, &to_dir, &*to_name, flags)
            .map_err(name_errno_to_status)?;
        if self.keeps_adouble() {
            self.rename_adouble(from, to);
        }
        Ok(())
    }

    /// Adds the hard link `new` for the file `existing` (MS-FSA 2.1.5.14.6). Directories cannot be linked.
    /// With `replace`, an existing file at `new` is removed first (not atomically).
    pub fn link(&self, existing: &SmbPath, new: &SmbPath, replace: bool) -> VfsResult<()> {
        self.check_writable()?;
        let (from_dir, from_name) = self.open_parent(existing)?;
        if stat_at(&from_dir, &from_name)
            .map_err(name_errno_to_status)?
            .is_dir
        {
            return Err(NtStatus::FILE_IS_A_DIRECTORY);
        }
        let (to_dir, to_name) = self.open_parent(new)?;
        if replace {
            refuse_directory_target(&to_dir, &to_name)?;
            match rustix::fs::unlinkat(&to_dir, &*to_name, AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(name_errno_to_status(e)),
            }
        }
        rustix::fs::linkat(&from_dir, &*from_name, &to_dir, &*to_name, AtFlags::empty())
            .map_err(name_errno_to_status)
    }

    /// File-system figures for the volume holding the share.
    pub fn fs_stat(&self) -> VfsResult<FsStat> {
        let st = rustix::fs::fstatvfs(&self.root).map_err(errno_to_status)?;
        let block_size = if st.f_frsize == 0 {
            st.f_bsize
        } else {
            st.f_frsize
        };
        Ok(FsStat {
            block_size,
            total_blocks: st.f_blocks,
            free_blocks: st.f_bfree,
            avail_blocks: st.f_bavail,
            name_max: u32::try_from(st.f_namemax).unwrap_or(u32::MAX),
            fsid: st.f_fsid,
            read_only: st.f_flag.contains(StatVfsMountFlags::RDONLY),
            kind: self.kind,
        })
    }

    /// The cluster size clients are told (FileFsSizeInformation) and block cloning is aligned to: the
    /// file system's block size, which is also what `FICLONERANGE` needs offsets aligned to.
    pub fn cluster_size(&self) -> VfsResult<std::num::NonZeroU64> {
        std::num::NonZeroU64::new(self.fs_stat()?.block_size)
            .ok_or(NtStatus::INVALID_DEVICE_REQUEST)
    }

    /// Whether files of the share can share extents (FSCTL_DUPLICATE_EXTENTS_TO_FILE works), which
    /// clients learn from FILE_SUPPORTS_BLOCK_REFCOUNTING.
    pub fn supports_block_cloning(&self) -> bool {
        self.reflink
    }

    /// `MEDIA_WRITE_PROTECTED` on a read-only share.
    pub(crate) fn check_writable(&self) -> VfsResult<()> {
        if self.opts.read_only {
            Err(NtStatus::MEDIA_WRITE_PROTECTED)
        } else {
            Ok(())
        }
    }

    /// Confined `openat2` of `p` relative to the share root, matching names that do not exist as given
    /// without regard to case ([`crate::case`]). A create uses the stored name when one matches, so
    /// that it finds the existing object instead of making a second one.
    pub(crate) fn open_at(
        &self,
        p: &SmbPath,
        flags: OFlags,
        mode: Mode,
    ) -> rustix::io::Result<OwnedFd> {
        if flags.contains(OFlags::CREATE) {
            if let Some(stored) = self.case_corrected(p) {
                return self.open_exact(&stored, flags, mode);
            }
        }
        match self.open_exact(p, flags, mode) {
            Err(Errno::NOENT) => match self.case_corrected(p) {
                Some(stored) => self.open_exact(&stored, flags, mode),
                None => Err(Errno::NOENT),
            },
            other => other,
        }
    }

    /// Confined `openat2` of `p` exactly as named.
    pub(crate) fn open_exact(
        &self,
        p: &SmbPath,
        flags: OFlags,
        mode: Mode,
    ) -> rustix::io::Result<OwnedFd> {
        let mut resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        if !self.opts.follow_symlinks {
            resolve |= ResolveFlags::NO_SYMLINKS;
        }
        // openat2 rejects O_PATH combined with flags other than O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC.
        let flags = if flags.contains(OFlags::PATH) {
            flags | OFlags::CLOEXEC
        } else {
            flags | OFlags::CLOEXEC | OFlags::NOCTTY
        };
        rustix::io::retry_on_intr(|| {
            rustix::fs::openat2(self.root.as_fd(), p.as_unix(), flags, mode, resolve)
        })
    }

    /// Opens the directory holding the last component of `p` and returns it with that component's name.
    /// The root has no parent: asking to change it is refused with `ACCESS_DENIED`.
    /// The name is the stored one when it matches only without regard to case.
    pub(crate) fn open_parent<'p>(&self, p: &'p SmbPath) -> VfsResult<(OwnedFd, Cow<'p, str>)> {
        let (parent, name) = p.parent_and_name().ok_or(NtStatus::ACCESS_DENIED)?;
        let fd = self
            .open_at(&parent, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
            .map_err(parent_errno_to_status)?;
        let name = self.actual_name(&fd, name);
        Ok((fd, name))
    }

    /// Turns a failed lookup of `p` into the status Windows gives: a missing or non-directory *parent* is
    /// `OBJECT_PATH_NOT_FOUND`; a missing last component `OBJECT_NAME_NOT_FOUND`, and a last component that is
    /// not the directory asked for `NOT_A_DIRECTORY`.
    pub(crate) fn lookup_error(&self, p: &SmbPath, e: Errno) -> NtStatus {
        if e != Errno::NOENT && e != Errno::NOTDIR {
            return resolve_errno_to_status(e);
        }
        let parent_ok = match p.parent_and_name() {
            None => true,
            Some((parent, _)) => self
                .open_at(&parent, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
                .is_ok(),
        };
        if parent_ok {
            name_errno_to_status(e)
        } else {
            NtStatus::OBJECT_PATH_NOT_FOUND
        }
    }
}

/// Errors about a parent directory: anything missing or not a directory is `OBJECT_PATH_NOT_FOUND`.
fn parent_errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::NOENT | Errno::NOTDIR => NtStatus::OBJECT_PATH_NOT_FOUND,
        other => resolve_errno_to_status(other),
    }
}

/// Errors about the last component, whose parent is known to exist (from calls that resolve no path, so
/// `EXDEV` here is a genuine cross-device rename or link).
fn name_errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::NOTDIR => NtStatus::NOT_A_DIRECTORY,
        other => errno_to_status(other),
    }
}

/// Whether `a_name` in `a_dir` and `b_name` in `b_dir` are the same file (both exist).
fn same_object(a_dir: &OwnedFd, a_name: &str, b_dir: &OwnedFd, b_name: &str) -> bool {
    match (stat_at(a_dir, a_name), stat_at(b_dir, b_name)) {
        (Ok(a), Ok(b)) => (a.dev, a.ino) == (b.dev, b.ino),
        _ => false,
    }
}

/// `ACCESS_DENIED` when `name` in `dir` is an existing directory (it cannot be replaced).
fn refuse_directory_target(dir: &OwnedFd, name: &str) -> VfsResult<()> {
    match stat_at(dir, name) {
        Ok(st) if st.is_dir => Err(NtStatus::ACCESS_DENIED),
        Ok(_) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(name_errno_to_status(e)),
    }
}

#[cfg(test)]
mod tests;
