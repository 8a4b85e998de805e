//! The NTFS quota index, `$Extend\$Quota:$Q:$INDEX_ALLOCATION`, as a CREATE name.
//!
//! Windows' quota tools (the Quota tab, `fsutil quota`) open this name on a volume to query and set
//! per-user quotas through QUERY_INFO / SET_INFO with InfoType SMB2_0_INFO_QUOTA (MS-SMB2 3.3.5.20.4,
//! MS-FSA 2.1.5.21). An NTFS volume always has it; a share on a Linux file system has no such file, so
//! rsmbd answers the name with an open of the share's root directory shown as the system index is
//! shown: hidden, system, directory and archive, with no timestamps (what smbtorture
//! smb2.create.quota-fake-file checks). The open only reads: rsmbd keeps no user quotas, so a quota
//! query on it gets STATUS_NOT_SUPPORTED as MS-SMB2 3.3.5.20.4 prescribes.

use proto::messages::create::access::{FILE_GENERIC_READ, MAXIMUM_ALLOWED};
use proto::NtStatus;

/// The name, compared without regard to case as Windows does.
const NAME: &str = "$Extend\\$Quota:$Q:$INDEX_ALLOCATION";
/// What an open of the index may do: read.
const RIGHTS: u32 = FILE_GENERIC_READ;
const FILE_ATTRIBUTE_HIDDEN: u32 = 0x2;
const FILE_ATTRIBUTE_SYSTEM: u32 = 0x4;
const FILE_ATTRIBUTE_ARCHIVE: u32 = 0x20;

/// Whether a CREATE names the quota index.
pub fn is_quota_index(name: &str) -> bool {
    name.eq_ignore_ascii_case(NAME)
}

/// The checks on a CREATE of the index, which always exists and is never written: it may be opened
/// (OPEN, OPEN_IF), not created (OBJECT_NAME_COLLISION) nor overwritten (ACCESS_DENIED).
pub fn check_disposition(disposition: u32) -> Result<(), NtStatus> {
    match disposition {
        1 | 3 => Ok(()),
        2 => Err(NtStatus::OBJECT_NAME_COLLISION),
        _ => Err(NtStatus::ACCESS_DENIED),
    }
}

/// The access an open of the index gets from `share_access` (generic rights already mapped): anything
/// beyond reading is refused, unless the client asked for MAXIMUM_ALLOWED, which gets the reading part.
pub fn access(desired: u32, share_access: u32) -> Result<u32, NtStatus> {
    if desired & MAXIMUM_ALLOWED != 0 {
        return Ok(share_access & RIGHTS);
    }
    if share_access & !RIGHTS != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(share_access)
}

/// The root directory's `stat` shown as the index: hidden, system and archive (directory follows the
/// file type), no timestamps, no allocation.
pub fn disguise(stat: &mut vfs::FileStat) {
    stat.creation_time = 0;
    stat.last_access_time = 0;
    stat.last_write_time = 0;
    stat.change_time = 0;
    stat.alloc_size = 0;
    stat.dos = Some(vfs::DosInfo::new(
        FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE,
        None,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::messages::create::access::{FILE_READ_DATA, FILE_WRITE_DATA};

    #[test]
    fn name_is_matched_without_case() {
        assert!(is_quota_index("$Extend\\$Quota:$Q:$INDEX_ALLOCATION"));
        assert!(is_quota_index("$EXTEND\\$quota:$q:$index_allocation"));
        assert!(!is_quota_index("$Extend\\$Quota"));
        assert!(!is_quota_index("x\\$Extend\\$Quota:$Q:$INDEX_ALLOCATION"));
    }

    #[test]
    fn only_reading_opens() {
        assert_eq!(check_disposition(1), Ok(()));
        assert_eq!(check_disposition(3), Ok(()));
        assert_eq!(check_disposition(2), Err(NtStatus::OBJECT_NAME_COLLISION));
        assert_eq!(check_disposition(5), Err(NtStatus::ACCESS_DENIED));
        assert_eq!(access(FILE_READ_DATA, FILE_READ_DATA), Ok(FILE_READ_DATA));
        assert_eq!(
            access(FILE_WRITE_DATA, FILE_WRITE_DATA),
            Err(NtStatus::ACCESS_DENIED)
        );
        assert_eq!(access(MAXIMUM_ALLOWED, 0x001F_01FF), Ok(FILE_GENERIC_READ));
    }

    #[test]
    fn shown_as_the_system_index() {
        let mut stat = vfs::FileStat {
            is_dir: true,
            mode: 0o40755,
            creation_time: 5,
            last_write_time: 6,
            ..Default::default()
        };
        disguise(&mut stat);
        assert_eq!(stat.file_attributes(""), 0x2 | 0x4 | 0x10 | 0x20);
        assert_eq!(
            (stat.creation_time, stat.last_write_time, stat.change_time),
            (0, 0, 0)
        );
    }
}
