//! Linux errno to NTSTATUS translation (MS-ERREF 2.3.1 codes, chosen as MS-FSA 2.1.5 reports each condition).
//!
//! This is the one place the mapping lives; everything else in the crate goes through it.

use proto::NtStatus;
use rustix::io::Errno;

/// Maps an errno from a file-system call to the NTSTATUS Windows returns for the same condition.
///
/// `ENOTDIR` maps to `OBJECT_PATH_NOT_FOUND` (a parent component is not a directory); the share code turns
/// it into `NOT_A_DIRECTORY` when it knows the last component is at fault.
pub fn errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::NOENT => NtStatus::OBJECT_NAME_NOT_FOUND,
        Errno::NOTDIR => NtStatus::OBJECT_PATH_NOT_FOUND,
        Errno::EXIST => NtStatus::OBJECT_NAME_COLLISION,
        Errno::ACCESS | Errno::PERM => NtStatus::ACCESS_DENIED,
        Errno::NOTEMPTY => NtStatus::DIRECTORY_NOT_EMPTY,
        Errno::ISDIR => NtStatus::FILE_IS_A_DIRECTORY,
        Errno::NOSPC | Errno::FBIG => NtStatus::DISK_FULL,
        // The user's disk quota: Windows reports its own quota the same way.
        Errno::DQUOT => NtStatus::QUOTA_EXCEEDED,
        // The disk failed the operation (a medium error, a vanished device).
        Errno::IO => NtStatus::IO_DEVICE_ERROR,
        Errno::NAMETOOLONG => NtStatus::NAME_TOO_LONG,
        Errno::XDEV => NtStatus::NOT_SAME_DEVICE,
        Errno::LOOP => NtStatus::ACCESS_DENIED,
        Errno::ROFS => NtStatus::MEDIA_WRITE_PROTECTED,
        Errno::MFILE | Errno::NFILE => NtStatus::TOO_MANY_OPENED_FILES,
        Errno::INVAL => NtStatus::INVALID_PARAMETER,
        Errno::BADF => NtStatus::INVALID_HANDLE,
        Errno::MLINK => NtStatus::TOO_MANY_LINKS,
        Errno::BUSY | Errno::TXTBSY => NtStatus::SHARING_VIOLATION,
        Errno::NOTSUP => NtStatus::NOT_SUPPORTED,
        Errno::NOMEM => NtStatus::NO_MEMORY,
        Errno::NXIO | Errno::NODEV => NtStatus::NO_SUCH_DEVICE,
        other => {
            tracing::warn!(errno = %other, "unmapped errno, reporting STATUS_UNSUCCESSFUL");
            NtStatus::UNSUCCESSFUL
        }
    }
}

/// Maps an error from confined path resolution (`openat2` with `RESOLVE_BENEATH`): a name that would leave
/// the share (`EXDEV`) or cross a symlink the share does not follow (`ELOOP`) is reported as `ACCESS_DENIED`,
/// as Windows does for a name the caller may not reach.
pub fn resolve_errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::XDEV | Errno::LOOP => NtStatus::ACCESS_DENIED,
        other => errno_to_status(other),
    }
}

/// Maps an error from an extended-attribute call made for an EA request: a file system without user
/// extended attributes is STATUS_EAS_NOT_SUPPORTED, a value the file system cannot hold STATUS_EA_TOO_LARGE.
pub fn xattr_errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::NOTSUP => NtStatus::EAS_NOT_SUPPORTED,
        Errno::TOOBIG | Errno::RANGE => NtStatus::EA_TOO_LARGE,
        other => errno_to_status(other),
    }
}

/// Maps an error from `FICLONERANGE` as MS-FSCC 2.3.8 lists them: a file system that cannot clone
/// (`EOPNOTSUPP`, `ENOTTY`, or `EINVAL` from one that takes no part of the request) is
/// STATUS_INVALID_DEVICE_REQUEST, a source on another file system (`EXDEV`) STATUS_INVALID_PARAMETER.
pub fn clone_errno_to_status(e: Errno) -> NtStatus {
    match e {
        Errno::NOTSUP | Errno::NOTTY | Errno::INVAL | Errno::NOSYS => {
            NtStatus::INVALID_DEVICE_REQUEST
        }
        Errno::XDEV => NtStatus::INVALID_PARAMETER,
        other => errno_to_status(other),
    }
}

/// Maps a `std::io::Error` (for example from `std::fs` calls) through [`errno_to_status`].
pub fn io_error_to_status(e: &std::io::Error) -> NtStatus {
    match e.raw_os_error() {
        Some(code) => errno_to_status(Errno::from_raw_os_error(code)),
        None => {
            tracing::warn!(error = %e, "I/O error without errno, reporting STATUS_UNSUCCESSFUL");
            NtStatus::UNSUCCESSFUL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_table() {
        let table = [
            (Errno::NOENT, NtStatus::OBJECT_NAME_NOT_FOUND),
            (Errno::NOTDIR, NtStatus::OBJECT_PATH_NOT_FOUND),
            (Errno::EXIST, NtStatus::OBJECT_NAME_COLLISION),
            (Errno::ACCESS, NtStatus::ACCESS_DENIED),
            (Errno::PERM, NtStatus::ACCESS_DENIED),
            (Errno::NOTEMPTY, NtStatus::DIRECTORY_NOT_EMPTY),
            (Errno::ISDIR, NtStatus::FILE_IS_A_DIRECTORY),
            (Errno::NOSPC, NtStatus::DISK_FULL),
            (Errno::DQUOT, NtStatus::QUOTA_EXCEEDED),
            (Errno::IO, NtStatus::IO_DEVICE_ERROR),
            (Errno::NAMETOOLONG, NtStatus::NAME_TOO_LONG),
            (Errno::XDEV, NtStatus::NOT_SAME_DEVICE),
            (Errno::LOOP, NtStatus::ACCESS_DENIED),
            (Errno::ROFS, NtStatus::MEDIA_WRITE_PROTECTED),
            (Errno::MFILE, NtStatus::TOO_MANY_OPENED_FILES),
            (Errno::NFILE, NtStatus::TOO_MANY_OPENED_FILES),
            (Errno::INVAL, NtStatus::INVALID_PARAMETER),
            (Errno::PROTO, NtStatus::UNSUCCESSFUL),
        ];
        for (errno, status) in table {
            assert_eq!(errno_to_status(errno), status, "{errno:?}");
        }
    }

    #[test]
    fn clone_errors() {
        let table = [
            (Errno::NOTSUP, NtStatus::INVALID_DEVICE_REQUEST),
            (Errno::INVAL, NtStatus::INVALID_DEVICE_REQUEST),
            (Errno::NOTTY, NtStatus::INVALID_DEVICE_REQUEST),
            (Errno::XDEV, NtStatus::INVALID_PARAMETER),
            (Errno::NOSPC, NtStatus::DISK_FULL),
            (Errno::ROFS, NtStatus::MEDIA_WRITE_PROTECTED),
            (Errno::PERM, NtStatus::ACCESS_DENIED),
        ];
        for (errno, status) in table {
            assert_eq!(clone_errno_to_status(errno), status, "{errno:?}");
        }
    }

    #[test]
    fn resolution_errors_deny_access() {
        assert_eq!(
            resolve_errno_to_status(Errno::XDEV),
            NtStatus::ACCESS_DENIED
        );
        assert_eq!(
            resolve_errno_to_status(Errno::LOOP),
            NtStatus::ACCESS_DENIED
        );
        assert_eq!(
            resolve_errno_to_status(Errno::NOENT),
            NtStatus::OBJECT_NAME_NOT_FOUND
        );
    }

    #[test]
    fn io_error_uses_errno() {
        let e = std::io::Error::from_raw_os_error(Errno::NOTEMPTY.raw_os_error());
        assert_eq!(io_error_to_status(&e), NtStatus::DIRECTORY_NOT_EMPTY);
        let e = std::io::Error::other("no errno");
        assert_eq!(io_error_to_status(&e), NtStatus::UNSUCCESSFUL);
    }
}
