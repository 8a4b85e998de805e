//! rsmbd-vfs: everything that touches the disk for the SMB server (see ARCHITECTURE.md and DESIGN.md
//! decisions 5 and 6): share roots with kernel-confined name resolution, identity switching, MS-FSA 2.1.5
//! create/read/write/set-information semantics, directory enumeration and DOS attributes. It knows nothing
//! of SMB message layouts; all calls are plain blocking system calls meant for a blocking thread pool.
#![forbid(unsafe_code)]

mod case;
mod create;
mod dir;
mod dosattrib;
mod ea;
mod errno;
mod file;
pub mod fruit;
mod identity;
mod ntacl;
mod path;
mod rsrc_file;
mod share;
mod stat;
mod stream;
mod time;
mod time_machine;

#[cfg(test)]
mod testutil;

pub use create::{CreateAction, CreateRequest, Disposition, Kind};
pub use dir::{DirEntry, DirStream};
pub use dosattrib::{decode_dosattrib, encode_dosattrib, ChangeTime, DosInfo, DOSATTRIB_XATTR};
pub use ea::{EaEntry, MAX_EA_LIST_SIZE};
pub use errno::{
    errno_to_status, io_error_to_status, resolve_errno_to_status, xattr_errno_to_status,
};
pub use file::{CloneRange, OpenFile};
pub use identity::{
    as_daemon, as_daemon_briefly, as_identity, group_id, try_as_identity, Identity,
};
pub use ntacl::{decode_ntacl, encode_ntacl, NTACL_XATTR};
pub use path::{SmbPath, MAX_COMPONENT_LEN};
pub use proto::NtStatus;
pub use share::{Share, ShareOptions};
pub use stat::{
    FileStat, FsStat, FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_HIDDEN,
    FILE_ATTRIBUTE_NORMAL, FILE_ATTRIBUTE_NOT_CONTENT_INDEXED, FILE_ATTRIBUTE_OFFLINE,
    FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_SPARSE_FILE, FILE_ATTRIBUTE_SYSTEM,
    FILE_ATTRIBUTE_TEMPORARY, FS_NAME_FOR_CLIENTS, SETTABLE_ATTRIBUTES,
};
pub use stream::{
    parse_name, parse_rename_target, stream_id, ParsedName, StreamInfo, StreamName, StreamPart,
    MAX_STREAM_NAME_CHARS, MAX_STREAM_SIZE,
};
pub use time::{filetime_to_unix, unix_to_filetime};

/// Result of a file-system operation: failures are the NTSTATUS to send.
pub type VfsResult<T> = Result<T, NtStatus>;
