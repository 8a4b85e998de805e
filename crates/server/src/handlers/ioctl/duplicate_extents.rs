//! Block cloning: FSCTL_DUPLICATE_EXTENTS_TO_FILE (MS-SMB2 3.3.5.15.17, passed through to the object
//! store as MS-FSA 2.1.5.10.4 describes; MS-FSCC 2.3.7, 2.3.8). The open the request is sent on is the
//! target; the source, named in the input, is an open of the same session on any of its trees. The checks
//! that need only the request and the opens are made here, in MS-FSA's order; those that need the
//! files, and the clone itself, in `vfs::OpenFile::duplicate_extents_from`.

use crate::blocking::run_as;
use crate::dispatch::Ctx;
use proto::messages::create::access::{FILE_READ_DATA, FILE_WRITE_DATA};
use proto::messages::ioctl::duplicate_extents::DuplicateExtentsData;
use proto::messages::ioctl::IoctlRequest;
use proto::NtStatus;
use std::num::NonZeroU64;
use std::sync::Arc;
use vfs::CloneRange;

/// The largest file offset (MS-FSA: offsets are signed 64-bit).
const MAX_OFFSET: u64 = super::super::read::MAX_OFFSET;

/// FSCTL_DUPLICATE_EXTENTS_TO_FILE. It has no output.
pub async fn duplicate_extents(ctx: &mut Ctx<'_>, req: &IoctlRequest<'_>) -> Result<(), NtStatus> {
    // MS-SMB2 3.3.5.15.17: a short input is STATUS_INVALID_PARAMETER (MS-FSA's STATUS_BUFFER_TOO_SMALL
    // is for local callers; the server answers first).
    let dup = DuplicateExtentsData::decode(req.input).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let target = ctx.open(req.file_id)?;
    // MS-SMB2 3.3.5.15.17: the source is any open of the session, else STATUS_INVALID_HANDLE.
    let source = ctx.session_open(dup.source)?;
    if target.is_dir || source.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let share = target.tree.vfs()?;
    if share.options().read_only {
        return Err(NtStatus::MEDIA_WRITE_PROTECTED);
    }
    let range = checked_range(&dup, share.cluster_size()?)?;
    if !source.has_access(FILE_READ_DATA) || !target.has_access(FILE_WRITE_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if Arc::ptr_eq(&source.node, &target.node) && overlap(&range) {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if range.byte_count == 0 {
        return Ok(());
    }
    // Byte-range locks are not checked: unlike server-side copy, Windows clones over other opens'
    // locks on either range (smbtorture smb2.ioctl.dup_extents_src_lock and dup_extents_dest_lock,
    // written against Windows Server 2016).
    //
    // As for a WRITE: other opens' caching of the target ends first, the write time follows the
    // delayed-update rules, and watchers hear of the change.
    crate::breaks::data_changed(&ctx.conn.server, &target);
    let (src, dst, node) = (
        Arc::clone(&source.file),
        Arc::clone(&target.file),
        Arc::clone(&target.node),
    );
    let id = target.file_id.volatile;
    let delayed = run_as(&target.unix, move || {
        // The write time as it was, registered only once the clone is made: on a file system that
        // cannot clone every attempt fails, and a failed one must not move the write time at CLOSE.
        let before = dst.stat()?.last_write_time;
        dst.duplicate_extents_from(&src, range)?;
        Ok(node.write_time.before_write(id, || Some(before)))
    })
    .await?;
    if delayed {
        crate::write_time::update_later(&target);
    }
    super::copychunk::note_written(ctx, &target);
    Ok(())
}

/// MS-FSA 2.1.5.10.4: the offsets and the count must be multiples of the cluster size, and
/// (MS-FSCC 2.3.7.2) not negative; neither range may run past the largest file offset.
fn checked_range(dup: &DuplicateExtentsData, cluster: NonZeroU64) -> Result<CloneRange, NtStatus> {
    let aligned = [dup.source_offset, dup.target_offset, dup.byte_count]
        .iter()
        .all(|v| v % cluster.get() == 0);
    let within = |offset: u64| {
        offset
            .checked_add(dup.byte_count)
            .is_some_and(|end| end <= MAX_OFFSET)
    };
    if !aligned || !within(dup.source_offset) || !within(dup.target_offset) {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(CloneRange {
        source_offset: dup.source_offset,
        target_offset: dup.target_offset,
        byte_count: dup.byte_count,
        cluster,
    })
}

/// Whether the two ranges, in one file, share a byte.
fn overlap(r: &CloneRange) -> bool {
    r.source_offset < r.target_offset.saturating_add(r.byte_count)
        && r.target_offset < r.source_offset.saturating_add(r.byte_count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::FileId;

    fn dup(source_offset: u64, target_offset: u64, byte_count: u64) -> DuplicateExtentsData {
        DuplicateExtentsData {
            source: FileId::default(),
            source_offset,
            target_offset,
            byte_count,
        }
    }

    const CLUSTER: NonZeroU64 = match NonZeroU64::new(4096) {
        Some(c) => c,
        None => unreachable!(),
    };

    #[test]
    fn ranges_must_be_aligned_and_within_the_largest_offset() {
        assert!(checked_range(&dup(4096, 8192, 65536), CLUSTER).is_ok());
        assert!(checked_range(&dup(0, 0, 0), CLUSTER).is_ok());
        for bad in [
            dup(1, 0, 4096),
            dup(0, 512, 4096),
            dup(0, 0, 100),
            dup(1 << 63, 0, 4096),
            dup(0, u64::MAX - 4095, 4096),
            dup(MAX_OFFSET - 4095 + 1, 0, 4096),
        ] {
            assert_eq!(
                checked_range(&bad, CLUSTER),
                Err(NtStatus::INVALID_PARAMETER),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn overlapping_ranges() {
        let r = |s, t, n| checked_range(&dup(s, t, n), CLUSTER).unwrap();
        assert!(overlap(&r(0, 0, 4096)));
        assert!(overlap(&r(0, 4096, 8192)));
        assert!(overlap(&r(8192, 4096, 8192)));
        assert!(!overlap(&r(0, 4096, 4096)));
        assert!(!overlap(&r(8192, 0, 8192)));
        assert!(!overlap(&r(0, 0, 0)));
    }
}
