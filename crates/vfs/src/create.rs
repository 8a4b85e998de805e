//! Opening and creating files and directories by CreateDisposition (MS-FSA 2.1.5.1, MS-SMB2 2.2.13).
//!
//! Outcome table for an existing name: Create fails with `OBJECT_NAME_COLLISION`; Open and OpenIf open it;
//! Overwrite, OverwriteIf and Supersede truncate it. For a missing name: Open and Overwrite fail with
//! `OBJECT_NAME_NOT_FOUND`; the others create it. Races between "exists" and "missing" are settled with
//! `O_CREAT | O_EXCL` and a bounded number of retries, so the reported action is always the one that happened.

use std::os::fd::OwnedFd;

use proto::NtStatus;
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::file::{Access, OpenFile};
use crate::path::SmbPath;
use crate::share::Share;
use crate::VfsResult;

/// How many times an open-or-create may flip between "exists" and "missing" before giving up.
const MAX_ATTEMPTS: usize = 8;

/// CreateDisposition (MS-SMB2 2.2.13 values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Supersede,
    Open,
    Create,
    OpenIf,
    Overwrite,
    OverwriteIf,
}

impl Disposition {
    /// Decodes FILE_SUPERSEDE (0) .. FILE_OVERWRITE_IF (5).
    pub fn from_u32(value: u32) -> Option<Disposition> {
        Some(match value {
            0 => Disposition::Supersede,
            1 => Disposition::Open,
            2 => Disposition::Create,
            3 => Disposition::OpenIf,
            4 => Disposition::Overwrite,
            5 => Disposition::OverwriteIf,
            _ => return None,
        })
    }

    /// Creates the name when it is missing.
    pub(crate) fn creates(self) -> bool {
        !matches!(self, Disposition::Open | Disposition::Overwrite)
    }

    /// Replaces the contents of an existing file.
    pub(crate) fn truncates(self) -> bool {
        matches!(
            self,
            Disposition::Supersede | Disposition::Overwrite | Disposition::OverwriteIf
        )
    }

    /// The action reported when an existing file was opened.
    pub(crate) fn existing_action(self) -> CreateAction {
        match self {
            Disposition::Supersede => CreateAction::Superseded,
            Disposition::Overwrite | Disposition::OverwriteIf => CreateAction::Overwritten,
            _ => CreateAction::Opened,
        }
    }
}

/// What the opener requires the object to be (FILE_NON_DIRECTORY_FILE / FILE_DIRECTORY_FILE / neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
    Any,
}

/// One open request, already reduced to what the file system needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRequest {
    pub disposition: Disposition,
    pub kind: Kind,
    /// Data will be read (FILE_READ_DATA / FILE_EXECUTE granted).
    pub read: bool,
    /// Data will be written (FILE_WRITE_DATA / FILE_APPEND_DATA granted).
    pub write: bool,
    /// Permission bits asked for a newly created file, before the share's masks (directories start from
    /// 0777); the process umask still applies (`rsmbd serve` clears it so the masks decide).
    pub mode: u32,
    /// FileAttributes asked for a newly created file or directory (MS-FSCC 2.6; 0 = none). Only the settable
    /// ones are stored, with ARCHIVE added for files and DIRECTORY for directories.
    pub attributes: u32,
}

impl CreateRequest {
    /// Opening an existing directory only to look at it (no data access, nothing created).
    pub fn existing_directory() -> CreateRequest {
        CreateRequest {
            disposition: Disposition::Open,
            kind: Kind::Directory,
            read: false,
            write: false,
            mode: 0,
            attributes: 0,
        }
    }
}

/// CreateAction (MS-SMB2 2.2.14 values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateAction {
    Superseded,
    Opened,
    Created,
    Overwritten,
}

impl CreateAction {
    /// FILE_SUPERSEDED (0), FILE_OPENED (1), FILE_CREATED (2), FILE_OVERWRITTEN (3).
    pub fn code(self) -> u32 {
        match self {
            CreateAction::Superseded => 0,
            CreateAction::Opened => 1,
            CreateAction::Created => 2,
            CreateAction::Overwritten => 3,
        }
    }
}

impl Share {
    /// Opens or creates `p` as `req` says (MS-FSA 2.1.5.1).
    pub fn create(&self, p: &SmbPath, req: &CreateRequest) -> VfsResult<(OpenFile, CreateAction)> {
        if req.kind == Kind::Directory && req.disposition.truncates() {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if req.write && self.options().read_only {
            return Err(NtStatus::ACCESS_DENIED);
        }
        for _ in 0..MAX_ATTEMPTS {
            if req.disposition != Disposition::Create {
                match self.open_existing(p, req)? {
                    Some(file) => return Ok((file, req.disposition.existing_action())),
                    None if !req.disposition.creates() => {
                        return Err(self.lookup_error(p, Errno::NOENT))
                    }
                    None => {}
                }
            }
            self.check_writable()?;
            match self.create_new(p, req)? {
                Some(file) => {
                    file.store_initial_dos(req.attributes);
                    return Ok((file, CreateAction::Created));
                }
                None if req.disposition == Disposition::Create => {
                    return Err(NtStatus::OBJECT_NAME_COLLISION)
                }
                None => {}
            }
        }
        tracing::warn!(path = %p, "name kept appearing and vanishing during create");
        Err(NtStatus::OBJECT_NAME_COLLISION)
    }

    /// Opens an existing object; `None` when the last component does not exist.
    fn open_existing(&self, p: &SmbPath, req: &CreateRequest) -> VfsResult<Option<OpenFile>> {
        if req.disposition.truncates() {
            self.check_writable()?;
        }
        let result = match req.kind {
            Kind::Directory => self.open_dir(p, req.read),
            Kind::File | Kind::Any => self.open_file(p, req),
        };
        match result {
            Ok(file) => Ok(Some(file)),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::ISDIR) => self.open_as_directory(p, req).map(Some),
            Err(e) => Err(self.lookup_error(p, e)),
        }
        .and_then(|file| check_kind(file, req))
    }

    /// Opens a directory found where a writable file was asked for, if the request allows a directory.
    fn open_as_directory(&self, p: &SmbPath, req: &CreateRequest) -> VfsResult<OpenFile> {
        if req.kind == Kind::File {
            return Err(NtStatus::FILE_IS_A_DIRECTORY);
        }
        if req.disposition.truncates() {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        self.open_dir(p, req.read)
            .map_err(|e| self.lookup_error(p, e))
    }

    /// Creates a new object; `None` when the name already exists.
    fn create_new(&self, p: &SmbPath, req: &CreateRequest) -> VfsResult<Option<OpenFile>> {
        let dir = req.kind == Kind::Directory;
        let mode = Mode::from_bits_truncate(self.options().new_mode(dir, req.mode));
        let result = if req.kind == Kind::Directory {
            self.make_dir(p, mode)
        } else {
            let access = Access::for_request(req.read, req.write);
            let flags = access.flags() | OFlags::CREATE | OFlags::EXCL | OFlags::NONBLOCK;
            self.open_at(p, flags, mode)
                .map(|fd| OpenFile::new(fd, false, access, self, p))
        };
        match result {
            Ok(file) => Ok(Some(file)),
            Err(Errno::EXIST) => Ok(None),
            Err(e) => Err(self.lookup_error(p, e)),
        }
    }

    /// `mkdirat` in the parent, then a confined open of the new directory (`O_PATH` if its mode denies reading).
    fn make_dir(&self, p: &SmbPath, mode: Mode) -> rustix::io::Result<OpenFile> {
        let Some((parent, name)) = p.parent_and_name() else {
            return Err(Errno::EXIST);
        };
        let dir = self.open_at(&parent, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
        // A directory whose name differs only in case is the same name (it collides).
        rustix::fs::mkdirat(&dir, &*self.actual_name(&dir, name), mode)?;
        self.open_dir(p, false)
    }

    /// Opens a directory for enumeration (or, when `read` was not asked for and it cannot be read, `O_PATH`).
    fn open_dir(&self, p: &SmbPath, read: bool) -> rustix::io::Result<OpenFile> {
        let (fd, access) = self.open_readable_or_path(p, OFlags::DIRECTORY, read)?;
        Ok(OpenFile::new(fd, true, access, self, p))
    }

    /// Opens an existing non-directory (or, for attribute-only and read-only opens, any object).
    fn open_file(&self, p: &SmbPath, req: &CreateRequest) -> rustix::io::Result<OpenFile> {
        let write = req.write || req.disposition.truncates();
        if !write {
            let (fd, access) = self.open_readable_or_path(p, OFlags::NONBLOCK, req.read)?;
            let is_dir =
                FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) == FileType::Directory;
            return Ok(OpenFile::new(fd, is_dir, access, self, p));
        }
        let access = Access::for_request(req.read, true);
        let mut flags = access.flags() | OFlags::NONBLOCK;
        if req.disposition.truncates() {
            flags |= OFlags::TRUNC;
        }
        let fd = self.open_at(p, flags, Mode::empty())?;
        Ok(OpenFile::new(fd, false, access, self, p))
    }

    /// `O_RDONLY`; for an attribute-only open (`read == false`) that lacks read permission, `O_PATH`, so the
    /// metadata of a mode-000 file stays reachable.
    fn open_readable_or_path(
        &self,
        p: &SmbPath,
        extra: OFlags,
        read: bool,
    ) -> rustix::io::Result<(OwnedFd, Access)> {
        match self.open_at(p, OFlags::RDONLY | extra, Mode::empty()) {
            Ok(fd) => Ok((fd, Access::Read)),
            Err(Errno::ACCESS) if !read => {
                let fd =
                    self.open_at(p, OFlags::PATH | (extra & OFlags::DIRECTORY), Mode::empty())?;
                Ok((fd, Access::Path))
            }
            Err(e) => Err(e),
        }
    }
}

/// Applies the FILE_DIRECTORY_FILE / FILE_NON_DIRECTORY_FILE and overwrite-a-directory rules to an open.
fn check_kind(file: Option<OpenFile>, req: &CreateRequest) -> VfsResult<Option<OpenFile>> {
    let Some(file) = file else {
        return Ok(None);
    };
    match (file.is_dir(), req.kind) {
        (true, Kind::File) => Err(NtStatus::FILE_IS_A_DIRECTORY),
        (false, Kind::Directory) => Err(NtStatus::NOT_A_DIRECTORY),
        (true, _) if req.disposition.truncates() => Err(NtStatus::INVALID_PARAMETER),
        _ => Ok(Some(file)),
    }
}

mod stream;

#[cfg(test)]
mod tests;
