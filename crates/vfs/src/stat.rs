//! File and file-system metadata as SMB needs it: FILETIME stamps, sizes and DOS attributes
//! (MS-FSCC 2.4 information classes, 2.6 file attributes, 2.5 file-system information).
//!
//! DOS attributes and the creation time come from `user.DOSATTRIB` when it is stored (see
//! [`crate::dosattrib`]), else they are derived from the POSIX metadata and the name.

use std::os::fd::AsFd;

use rustix::fs::{AtFlags, FileType, Statx, StatxFlags, StatxTimestamp};

use crate::dosattrib::DosInfo;
use crate::errno::errno_to_status;
use crate::time::unix_to_filetime;
use crate::VfsResult;

/// FILE_ATTRIBUTE_READONLY (MS-FSCC 2.6).
pub const FILE_ATTRIBUTE_READONLY: u32 = 0x0000_0001;
/// FILE_ATTRIBUTE_HIDDEN.
pub const FILE_ATTRIBUTE_HIDDEN: u32 = 0x0000_0002;
/// FILE_ATTRIBUTE_SYSTEM.
pub const FILE_ATTRIBUTE_SYSTEM: u32 = 0x0000_0004;
/// FILE_ATTRIBUTE_DIRECTORY.
pub const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x0000_0010;
/// FILE_ATTRIBUTE_ARCHIVE.
pub const FILE_ATTRIBUTE_ARCHIVE: u32 = 0x0000_0020;
/// FILE_ATTRIBUTE_NORMAL: only valid when no other attribute is set. Never derived from POSIX metadata,
/// since every file then carries ARCHIVE and every directory DIRECTORY; reported for a stored value of 0.
pub const FILE_ATTRIBUTE_NORMAL: u32 = 0x0000_0080;
/// FILE_ATTRIBUTE_TEMPORARY.
pub const FILE_ATTRIBUTE_TEMPORARY: u32 = 0x0000_0100;
/// FILE_ATTRIBUTE_SPARSE_FILE: set and cleared only by FSCTL_SET_SPARSE, never by SET_INFO.
pub const FILE_ATTRIBUTE_SPARSE_FILE: u32 = 0x0000_0200;
/// FILE_ATTRIBUTE_OFFLINE.
pub const FILE_ATTRIBUTE_OFFLINE: u32 = 0x0000_1000;
/// FILE_ATTRIBUTE_NOT_CONTENT_INDEXED.
pub const FILE_ATTRIBUTE_NOT_CONTENT_INDEXED: u32 = 0x0000_2000;
/// The attributes a client may set and this server stores (READONLY, HIDDEN, SYSTEM, ARCHIVE, NORMAL,
/// TEMPORARY, OFFLINE, NOT_CONTENT_INDEXED).
pub const SETTABLE_ATTRIBUTES: u32 = 0x0000_31A7;

/// Owner write permission bit.
const S_IWUSR: u32 = 0o200;
/// Bytes per `st_blocks` unit.
const STAT_BLOCK: u64 = 512;

/// Metadata of one file or directory; times are FILETIME values (100 ns since 1601).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileStat {
    pub ino: u64,
    pub dev: u64,
    pub size: u64,
    pub alloc_size: u64,
    pub nlink: u64,
    /// Full `st_mode` (type and permission bits).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub is_dir: bool,
    pub is_symlink: bool,
    /// The stored creation time when there is one, else the birth time when the file system records it,
    /// else the older of mtime and ctime.
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    /// The stored `user.DOSATTRIB` value, when there is one and it was read.
    pub dos: Option<DosInfo>,
    /// Which stream of the object this describes: 0 for the object itself, else
    /// [`crate::stream::stream_id`] of a named stream.
    pub stream_id: u64,
}

impl FileStat {
    /// The DOS attributes (MS-FSCC 2.6): the stored settable ones when there are any, else ARCHIVE for files
    /// and HIDDEN for names starting with a dot. DIRECTORY always follows the file type, and a missing owner
    /// write permission always adds READONLY. NORMAL is reported only when nothing else is set.
    /// The end of file as SMB reports it: the size of a file, 0 for a directory (MS-FSCC 2.4.41).
    pub fn end_of_file(&self) -> u64 {
        if self.is_dir {
            0
        } else {
            self.size
        }
    }

    pub fn file_attributes(&self, name: &str) -> u32 {
        let mut attrs = match self.dos {
            Some(dos) => dos.attributes & (SETTABLE_ATTRIBUTES | FILE_ATTRIBUTE_SPARSE_FILE),
            None if self.is_dir => 0,
            None => FILE_ATTRIBUTE_ARCHIVE,
        };
        if self.dos.is_none() && name.starts_with('.') && name != "." && name != ".." {
            attrs |= FILE_ATTRIBUTE_HIDDEN;
        }
        if self.is_dir {
            attrs |= FILE_ATTRIBUTE_DIRECTORY;
        }
        if self.mode & S_IWUSR == 0 {
            attrs |= FILE_ATTRIBUTE_READONLY;
        }
        match attrs & !FILE_ATTRIBUTE_NORMAL {
            0 => FILE_ATTRIBUTE_NORMAL,
            others => others,
        }
    }

    /// A regular file (not a directory, symlink, device, FIFO or socket).
    pub(crate) fn is_regular(&self) -> bool {
        FileType::from_raw_mode(self.mode) == FileType::RegularFile
    }

    /// Takes the stored DOS information into account: its creation time replaces the derived one.
    pub(crate) fn with_dos(mut self, dos: Option<DosInfo>) -> FileStat {
        if let Some(t) = dos.and_then(|d| d.creation_time) {
            self.creation_time = t;
        }
        // A stored ChangeTime stands until the file's data changes (crate::dosattrib).
        if let Some(c) = dos.and_then(|d| d.change_time) {
            if c.since_write == self.last_write_time {
                self.change_time = c.time;
            }
        }
        self.dos = dos;
        self
    }

    /// Builds a `FileStat` from `statx` output.
    pub(crate) fn from_statx(st: &Statx) -> FileStat {
        let mode = u32::from(st.stx_mode);
        let file_type = FileType::from_raw_mode(mode);
        let mtime = filetime(&st.stx_mtime);
        let ctime = filetime(&st.stx_ctime);
        let creation_time = if st.stx_mask & StatxFlags::BTIME.bits() != 0 {
            filetime(&st.stx_btime)
        } else {
            mtime.min(ctime)
        };
        FileStat {
            ino: st.stx_ino,
            dev: u64::from(st.stx_dev_major) << 32 | u64::from(st.stx_dev_minor),
            size: st.stx_size,
            alloc_size: st.stx_blocks.saturating_mul(STAT_BLOCK),
            nlink: u64::from(st.stx_nlink),
            mode,
            uid: st.stx_uid,
            gid: st.stx_gid,
            is_dir: file_type == FileType::Directory,
            is_symlink: file_type == FileType::Symlink,
            creation_time,
            last_access_time: filetime(&st.stx_atime),
            last_write_time: mtime,
            // Linux cannot set ctime, and SMB clients set ChangeTime together with LastWriteTime: as
            // Samba does, the change time reported is the last write time, unless a client set one
            // explicitly and the data has not changed since (`with_dos`).
            change_time: mtime,
            dos: None,
            stream_id: 0,
        }
    }
}

/// The statx fields this crate uses.
fn wanted() -> StatxFlags {
    StatxFlags::BASIC_STATS | StatxFlags::BTIME
}

/// `statx` of an open descriptor (works on `O_PATH` descriptors too).
pub(crate) fn stat_fd(fd: impl AsFd) -> VfsResult<FileStat> {
    let st = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, wanted()).map_err(errno_to_status)?;
    Ok(FileStat::from_statx(&st))
}

/// `statx` of `name` inside directory `dir`, not following a final symlink.
pub(crate) fn stat_at(dir: impl AsFd, name: &str) -> rustix::io::Result<FileStat> {
    let st = rustix::fs::statx(dir, name, AtFlags::SYMLINK_NOFOLLOW, wanted())?;
    Ok(FileStat::from_statx(&st))
}

fn filetime(ts: &StatxTimestamp) -> u64 {
    unix_to_filetime(ts.tv_sec, ts.tv_nsec)
}

/// File-system wide figures for FileFsSizeInformation, FileFsFullSizeInformation and
/// FileFsAttributeInformation (MS-FSCC 2.5.8, 2.5.4, 2.5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsStat {
    /// Fundamental block size in bytes (`f_frsize`).
    pub block_size: u64,
    pub total_blocks: u64,
    pub free_blocks: u64,
    /// Blocks available to unprivileged users.
    pub avail_blocks: u64,
    pub name_max: u32,
    pub fsid: u64,
    /// Mounted read-only.
    pub read_only: bool,
    /// The real file-system kind ("ext4", "xfs", "btrfs", ...); clients are shown [`FS_NAME_FOR_CLIENTS`].
    pub kind: &'static str,
}

/// The file-system name reported in FileFsAttributeInformation: clients expect to see "NTFS".
pub const FS_NAME_FOR_CLIENTS: &str = "NTFS";

/// Names a file system from its `statfs` magic number.
pub(crate) fn fs_kind(magic: u64) -> &'static str {
    match magic {
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x2FC1_2FC1 => "zfs",
        0xCA45_1A4E => "bcachefs",
        0xF2F5_2010 => "f2fs",
        0x794C_7630 => "overlay",
        0x6969 => "nfs",
        0x6573_5546 => "fuse",
        0x00C3_6400 => "ceph",
        0xFF53_4D42 | 0xFE53_4D42 => "cifs",
        0x5346_544E => "ntfs",
        0x4D44 => "vfat",
        0x2011_BAB0 => "exfat",
        0x7371_7368 => "squashfs",
        0x8584_58F6 => "ramfs",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(mode: u32, is_dir: bool) -> FileStat {
        FileStat {
            ino: 1,
            dev: 1,
            size: 0,
            alloc_size: 0,
            nlink: 1,
            mode,
            uid: 0,
            gid: 0,
            is_dir,
            is_symlink: false,
            creation_time: 0,
            last_access_time: 0,
            last_write_time: 0,
            change_time: 0,
            dos: None,
            stream_id: 0,
        }
    }

    #[test]
    fn attributes() {
        let file = sample(0o100644, false);
        assert_eq!(file.file_attributes("a.txt"), FILE_ATTRIBUTE_ARCHIVE);
        assert_eq!(
            file.file_attributes(".profile"),
            FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN
        );
        let ro = sample(0o100444, false);
        assert_eq!(
            ro.file_attributes("a"),
            FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_READONLY
        );
        let dir = sample(0o040755, true);
        assert_eq!(dir.file_attributes("d"), FILE_ATTRIBUTE_DIRECTORY);
        assert_eq!(dir.file_attributes("."), FILE_ATTRIBUTE_DIRECTORY);
        assert_eq!(dir.file_attributes(".."), FILE_ATTRIBUTE_DIRECTORY);
        assert_eq!(
            dir.file_attributes(".git"),
            FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN
        );
        assert_eq!(dir.file_attributes(""), FILE_ATTRIBUTE_DIRECTORY);
    }

    #[test]
    fn stored_attributes() {
        let stored = |st: FileStat, attributes: u32| FileStat {
            dos: Some(DosInfo::new(attributes, Some(42))),
            ..st
        };
        let file = stored(
            sample(0o100644, false),
            FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM,
        );
        assert_eq!(
            file.file_attributes("a"),
            FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM
        );
        // No dot-file rule with a stored value; DIRECTORY and unknown bits are not taken from it.
        assert_eq!(
            stored(
                sample(0o100644, false),
                FILE_ATTRIBUTE_DIRECTORY | 0x0004_0000
            )
            .file_attributes(".x"),
            FILE_ATTRIBUTE_NORMAL
        );
        assert_eq!(
            stored(sample(0o100644, false), 0).file_attributes("a"),
            FILE_ATTRIBUTE_NORMAL
        );
        assert_eq!(
            stored(
                sample(0o100644, false),
                FILE_ATTRIBUTE_NORMAL | FILE_ATTRIBUTE_ARCHIVE
            )
            .file_attributes("a"),
            FILE_ATTRIBUTE_ARCHIVE
        );
        assert_eq!(
            stored(sample(0o100444, false), FILE_ATTRIBUTE_ARCHIVE).file_attributes("a"),
            FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_READONLY
        );
        let all = FILE_ATTRIBUTE_READONLY
            | FILE_ATTRIBUTE_TEMPORARY
            | FILE_ATTRIBUTE_OFFLINE
            | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED;
        assert_eq!(
            stored(sample(0o100644, false), all).file_attributes("a"),
            all
        );
        assert_eq!(
            stored(sample(0o040755, true), FILE_ATTRIBUTE_NORMAL).file_attributes("d"),
            FILE_ATTRIBUTE_DIRECTORY
        );
        assert_eq!(
            stored(sample(0o040755, true), FILE_ATTRIBUTE_HIDDEN).file_attributes("d"),
            FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN
        );
    }

    #[test]
    fn stored_creation_time_wins() {
        let st = sample(0o100644, false).with_dos(Some(DosInfo::new(0, Some(7))));
        assert_eq!(st.creation_time, 7);
        let st = FileStat {
            creation_time: 9,
            ..sample(0o100644, false)
        }
        .with_dos(Some(DosInfo::new(0, None)));
        assert_eq!(st.creation_time, 9);
    }

    #[test]
    fn kinds() {
        assert_eq!(fs_kind(0xEF53), "ext4");
        assert_eq!(fs_kind(0x0102_1994), "tmpfs");
        assert_eq!(fs_kind(7), "unknown");
    }
}
