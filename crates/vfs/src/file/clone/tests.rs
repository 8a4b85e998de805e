use super::*;
use crate::testutil::{open, path, req, share};
use crate::{Disposition, Kind, Share, ShareOptions};

const CLUSTER: NonZeroU64 = match NonZeroU64::new(4096) {
    Some(c) => c,
    None => unreachable!(),
};

fn range(source_offset: u64, target_offset: u64, byte_count: u64) -> CloneRange {
    CloneRange {
        source_offset,
        target_offset,
        byte_count,
        cluster: CLUSTER,
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A share on a file system with reflinks, where `RSMBD_TEST_REFLINK_DIR` names a directory on one
/// (the e2e test makes an XFS loop mount; unit tests do not need root).
fn reflink_share() -> Option<(tempfile::TempDir, Share)> {
    let Some(dir) = std::env::var_os("RSMBD_TEST_REFLINK_DIR") else {
        eprintln!("skipping: RSMBD_TEST_REFLINK_DIR names no directory on Btrfs or reflink XFS");
        return None;
    };
    let tmp = tempfile::tempdir_in(dir).unwrap();
    let share = Share::open(tmp.path(), ShareOptions::default()).unwrap();
    assert!(share.supports_block_cloning());
    Some((tmp, share))
}

/// A source of 3 clusters and 100 bytes and a target of 4 clusters, filled with different bytes.
fn two_files(share: &Share) -> (OpenFile, OpenFile, Vec<u8>) {
    let src = open(share, "src", Disposition::Create).unwrap();
    let dst = open(share, "dst", Disposition::Create).unwrap();
    let data = pattern(3 * 4096 + 100);
    src.write_at(&data, 0).unwrap();
    dst.write_at(&[0xEE; 4 * 4096], 0).unwrap();
    (src, dst, data)
}

#[test]
fn checks_come_before_the_file_system() {
    let (tmp, share) = share(ShareOptions::default());
    let (src, dst, _) = two_files(&share);
    let refused = |r| dst.duplicate_extents_from(&src, r).unwrap_err();
    // Beyond the source's last cluster, beyond the target's end of file.
    assert_eq!(refused(range(0, 0, 5 * 4096)), NtStatus::NOT_SUPPORTED);
    assert_eq!(
        refused(range(4096, 8192, 3 * 4096)),
        NtStatus::NOT_SUPPORTED
    );
    // A sparse source into a file that is not sparse.
    if crate::testutil::xattrs_supported(tmp.path()) {
        src.set_sparse(true).unwrap();
        assert_eq!(refused(range(0, 0, 4096)), NtStatus::NOT_SUPPORTED);
        src.set_sparse(false).unwrap();
    }
    // A directory, a target opened without write access.
    let dir = share
        .create(
            &path("d"),
            &req(Disposition::Create, Kind::Directory, true, false),
        )
        .unwrap()
        .0;
    assert_eq!(
        dir.duplicate_extents_from(&src, range(0, 0, 4096)),
        Err(NtStatus::INVALID_DEVICE_REQUEST)
    );
    let read_only = share
        .create(
            &path("dst"),
            &req(Disposition::Open, Kind::File, true, false),
        )
        .unwrap()
        .0;
    assert_eq!(
        read_only.duplicate_extents_from(&src, range(0, 0, 4096)),
        Err(NtStatus::ACCESS_DENIED)
    );
}

#[test]
fn without_reflinks_the_device_request_is_refused() {
    let (tmp, share) = share(ShareOptions::default());
    let kind = share.fs_stat().unwrap().kind;
    if matches!(kind, "btrfs" | "xfs" | "bcachefs") {
        eprintln!("skipping: {} may clone ({kind})", tmp.path().display());
        return;
    }
    assert!(!share.supports_block_cloning());
    let (src, dst, _) = two_files(&share);
    assert_eq!(
        dst.duplicate_extents_from(&src, range(0, 0, 4096)),
        Err(NtStatus::INVALID_DEVICE_REQUEST)
    );
}

#[test]
fn clones_whole_clusters_and_the_partial_last_one() {
    let Some((_tmp, share)) = reflink_share() else {
        return;
    };
    let (src, dst, data) = two_files(&share);
    // Clusters 1 to 3 of the source (the last holds 100 bytes) onto clusters 0 to 2 of the target.
    dst.duplicate_extents_from(&src, range(4096, 0, 3 * 4096))
        .unwrap();
    let mut buf = vec![0u8; 4 * 4096];
    assert_eq!(dst.read_at(&mut buf, 0).unwrap(), 4 * 4096);
    assert_eq!(&buf[..2 * 4096 + 100], &data[4096..]);
    assert!(buf[2 * 4096 + 100..3 * 4096].iter().all(|&b| b == 0));
    assert!(buf[3 * 4096..].iter().all(|&b| b == 0xEE));
    assert_eq!(dst.stat().unwrap().size, 4 * 4096);
    // Within one file, ranges apart.
    src.duplicate_extents_from(&src, range(0, 2 * 4096, 4096))
        .unwrap();
    let mut buf = vec![0u8; 4096];
    src.read_at(&mut buf, 2 * 4096).unwrap();
    assert_eq!(buf, data[..4096]);
}

#[test]
fn reflink_probe_leaves_nothing_behind() {
    let Some((tmp, _share)) = reflink_share() else {
        return;
    };
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
