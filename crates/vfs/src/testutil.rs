//! Shared helpers for the crate's unit tests.

use tempfile::TempDir;

use crate::{CreateRequest, Disposition, Kind, OpenFile, Share, ShareOptions, SmbPath, VfsResult};

/// A fresh share over a new temporary directory.
pub fn share(opts: ShareOptions) -> (TempDir, Share) {
    let tmp = tempfile::tempdir().unwrap();
    let share = Share::open(tmp.path(), opts).unwrap();
    (tmp, share)
}

pub fn path(name: &str) -> SmbPath {
    SmbPath::parse(name).unwrap()
}

pub fn req(disposition: Disposition, kind: Kind, read: bool, write: bool) -> CreateRequest {
    CreateRequest {
        disposition,
        kind,
        read,
        write,
        mode: 0o644,
        attributes: 0,
    }
}

/// Opens `name` with `disposition`, reading and writing.
pub fn open(share: &Share, name: &str, disposition: Disposition) -> VfsResult<OpenFile> {
    share
        .create(&path(name), &req(disposition, Kind::Any, true, true))
        .map(|(f, _)| f)
}

/// Whether the temporary directory's file system takes user extended attributes.
pub fn xattrs_supported(dir: &std::path::Path) -> bool {
    let probe = dir.join(".xattr-probe");
    std::fs::write(&probe, b"").unwrap();
    let result = rustix::fs::setxattr(&probe, "user.probe", b"1", rustix::fs::XattrFlags::empty());
    std::fs::remove_file(&probe).unwrap();
    match result {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: no user extended attributes here ({e})");
            false
        }
    }
}
