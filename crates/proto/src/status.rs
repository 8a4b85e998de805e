//! NTSTATUS values used by the server (MS-ERREF section 2.3.1).

use core::fmt;

/// A 32-bit NTSTATUS code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtStatus(pub u32);

macro_rules! statuses {
    ($($name:ident = $val:expr,)*) => {
        impl NtStatus {
            $(pub const $name: NtStatus = NtStatus($val);)*

            /// The symbolic name, for logs.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    SUCCESS = 0x0000_0000,
    PENDING = 0x0000_0103,
    NOTIFY_CLEANUP = 0x0000_010B,
    NOTIFY_ENUM_DIR = 0x0000_010C,
    BUFFER_OVERFLOW = 0x8000_0005,
    NO_MORE_FILES = 0x8000_0006,
    STOPPED_ON_SYMLINK = 0x8000_002D,
    UNSUCCESSFUL = 0xC000_0001,
    NOT_IMPLEMENTED = 0xC000_0002,
    INVALID_INFO_CLASS = 0xC000_0003,
    INFO_LENGTH_MISMATCH = 0xC000_0004,
    INVALID_HANDLE = 0xC000_0008,
    INVALID_PARAMETER = 0xC000_000D,
    NO_SUCH_DEVICE = 0xC000_000E,
    NO_SUCH_FILE = 0xC000_000F,
    INVALID_DEVICE_REQUEST = 0xC000_0010,
    END_OF_FILE = 0xC000_0011,
    MORE_PROCESSING_REQUIRED = 0xC000_0016,
    NO_MEMORY = 0xC000_0017,
    ACCESS_DENIED = 0xC000_0022,
    BUFFER_TOO_SMALL = 0xC000_0023,
    OBJECT_TYPE_MISMATCH = 0xC000_0024,
    OBJECT_NAME_INVALID = 0xC000_0033,
    OBJECT_NAME_NOT_FOUND = 0xC000_0034,
    OBJECT_NAME_COLLISION = 0xC000_0035,
    OBJECT_PATH_INVALID = 0xC000_0039,
    OBJECT_PATH_NOT_FOUND = 0xC000_003A,
    OBJECT_PATH_SYNTAX_BAD = 0xC000_003B,
    SHARING_VIOLATION = 0xC000_0043,
    QUOTA_EXCEEDED = 0xC000_0044,
    ALLOTTED_SPACE_EXCEEDED = 0xC000_0099,
    EAS_NOT_SUPPORTED = 0xC000_004F,
    EA_TOO_LARGE = 0xC000_0050,
    NONEXISTENT_EA_ENTRY = 0xC000_0051,
    NO_EAS_ON_FILE = 0xC000_0052,
    EA_CORRUPT_ERROR = 0xC000_0053,
    FILE_LOCK_CONFLICT = 0xC000_0054,
    LOCK_NOT_GRANTED = 0xC000_0055,
    DELETE_PENDING = 0xC000_0056,
    INVALID_OWNER = 0xC000_005A,
    PRIVILEGE_NOT_HELD = 0xC000_0061,
    WRONG_PASSWORD = 0xC000_006A,
    LOGON_FAILURE = 0xC000_006D,
    ACCOUNT_RESTRICTION = 0xC000_006E,
    ACCOUNT_DISABLED = 0xC000_0072,
    NONE_MAPPED = 0xC000_0073,
    INVALID_SECURITY_DESCR = 0xC000_0079,
    RANGE_NOT_LOCKED = 0xC000_007E,
    DISK_FULL = 0xC000_007F,
    INSUFFICIENT_RESOURCES = 0xC000_009A,
    FILE_IS_A_DIRECTORY = 0xC000_00BA,
    NOT_SUPPORTED = 0xC000_00BB,
    NETWORK_NAME_DELETED = 0xC000_00C9,
    BAD_NETWORK_NAME = 0xC000_00CC,
    REQUEST_NOT_ACCEPTED = 0xC000_00D0,
    INTERNAL_ERROR = 0xC000_00E5,
    IO_TIMEOUT = 0xC000_00B5,
    DIRECTORY_NOT_EMPTY = 0xC000_0101,
    NOT_A_DIRECTORY = 0xC000_0103,
    NAME_TOO_LONG = 0xC000_0106,
    FILES_OPEN = 0xC000_0107,
    CANCELLED = 0xC000_0120,
    CANNOT_DELETE = 0xC000_0121,
    FILE_DELETED = 0xC000_0123,
    FILE_CLOSED = 0xC000_0128,
    INVALID_LEVEL = 0xC000_0148,
    IO_DEVICE_ERROR = 0xC000_0185,
    NOT_SAME_DEVICE = 0xC000_00D4,
    FILE_RENAMED = 0xC000_00D5,
    PIPE_NOT_AVAILABLE = 0xC000_00AC,
    INVALID_PIPE_STATE = 0xC000_00AD,
    PIPE_BUSY = 0xC000_00AE,
    USER_SESSION_DELETED = 0xC000_0203,
    REQUEST_OUT_OF_SEQUENCE = 0xC000_042A,
    DUPLICATE_OBJECTID = 0xC000_022A,
    NETWORK_SESSION_EXPIRED = 0xC000_035C,
    FILE_NOT_AVAILABLE = 0xC000_0467,
    FILE_FORCED_CLOSED = 0xC000_00B6,
    INVALID_NETWORK_RESPONSE = 0xC000_00C3,
    NOT_FOUND = 0xC000_0225,
    TOO_MANY_OPENED_FILES = 0xC000_011F,
    TOO_MANY_SESSIONS = 0xC000_00CE,
    REQUEST_ABORTED = 0xC000_0240,
    FILE_SYSTEM_LIMITATION = 0xC000_0427,
    STOPPED_ON_SYMLINK_ERR = 0x8000_002E,
    TOO_MANY_LINKS = 0xC000_0265,
    MEDIA_WRITE_PROTECTED = 0xC000_00A2,
    NOT_A_REPARSE_POINT = 0xC000_0275,
    DEVICE_NOT_READY = 0xC000_00A3,
    OBJECTID_NOT_FOUND = 0xC000_02F0,
    SMB_BAD_CLUSTER_DIALECT = 0xC05D_0001,
    USER_MAPPED_FILE = 0xC000_0243,
    INVALID_EA_NAME = 0x8000_0013,
    EA_LIST_INCONSISTENT = 0x8000_0014,
    PIPE_EMPTY = 0xC000_00D9,
    PIPE_BROKEN = 0xC000_014B,
    INVALID_LOCK_RANGE = 0xC000_01A1,
    FS_DRIVER_REQUIRED = 0xC000_019C,
    BAD_IMPERSONATION_LEVEL = 0xC000_00A5,
    SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP = 0xC05D_0000,
    INVALID_OPLOCK_PROTOCOL = 0xC000_00E3,
    INVALID_VIEW_SIZE = 0xC000_001F,
}

impl NtStatus {
    pub fn is_success(self) -> bool {
        self == NtStatus::SUCCESS
    }

    /// Severity error (high two bits 11).
    pub fn is_error(self) -> bool {
        self.0 >> 30 == 3
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "STATUS_{n}"),
            None => write!(f, "NTSTATUS(0x{:08x})", self.0),
        }
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_severity() {
        assert_eq!(
            format!("{:?}", NtStatus::ACCESS_DENIED),
            "STATUS_ACCESS_DENIED"
        );
        assert!(NtStatus::ACCESS_DENIED.is_error());
        assert!(!NtStatus::BUFFER_OVERFLOW.is_error());
        assert_eq!(format!("{:?}", NtStatus(0x1234)), "NTSTATUS(0x00001234)");
    }
}
