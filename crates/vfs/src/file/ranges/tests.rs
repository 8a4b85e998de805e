use super::*;
use crate::testutil::{open, share};
use crate::{Disposition, ShareOptions};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn copy_between_files_and_within_one() {
    let (_tmp, share) = share(ShareOptions::default());
    let src = open(&share, "src", Disposition::Create).unwrap();
    let dst = open(&share, "dst", Disposition::Create).unwrap();
    let data = pattern(10_000);
    src.write_at(&data, 0).unwrap();
    assert_eq!(dst.copy_range_from(&src, 100, 50, 5000).unwrap(), 5000);
    let mut buf = vec![0u8; 5050];
    assert_eq!(dst.read_at(&mut buf, 0).unwrap(), 5050);
    assert_eq!(&buf[..50], &[0; 50]);
    assert_eq!(&buf[50..], &data[100..5100]);
    // The source ends first: only what is there is copied.
    assert_eq!(dst.copy_range_from(&src, 9000, 0, 4000).unwrap(), 1000);
    // Overlapping ranges of one file give the source's bytes as they were.
    assert_eq!(src.copy_range_from(&src, 0, 8, 4096).unwrap(), 4096);
    let mut buf = vec![0u8; 4104];
    src.read_at(&mut buf, 0).unwrap();
    assert_eq!(&buf[8..], &data[..4096]);
}

#[test]
fn sparse_flag_is_stored_and_kept_by_set_dos_info() {
    let (_tmp, share) = share(ShareOptions::default());
    let f = open(&share, "f", Disposition::Create).unwrap();
    assert!(!f.is_sparse());
    f.set_sparse(true).unwrap();
    assert!(f.is_sparse());
    assert_ne!(
        f.stat().unwrap().file_attributes("f") & FILE_ATTRIBUTE_SPARSE_FILE,
        0
    );
    f.set_dos_info(&DosInfo::new(
        crate::FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SPARSE_FILE,
        None,
    ))
    .unwrap();
    assert!(f.is_sparse());
    f.set_sparse(false).unwrap();
    assert!(!f.is_sparse());
    assert_ne!(
        f.stat().unwrap().file_attributes("f") & crate::FILE_ATTRIBUTE_HIDDEN,
        0
    );
}

#[test]
fn zero_range_never_grows_the_file() {
    let (_tmp, share) = share(ShareOptions::default());
    let f = open(&share, "f", Disposition::Create).unwrap();
    f.write_at(&pattern(8192), 0).unwrap();
    f.zero_range(100, 200).unwrap();
    f.zero_range(8000, 1 << 30).unwrap();
    f.zero_range(300, 300).unwrap();
    assert_eq!(f.stat().unwrap().size, 8192);
    let mut buf = vec![0u8; 8192];
    f.read_at(&mut buf, 0).unwrap();
    assert!(buf[100..200].iter().all(|&b| b == 0));
    assert!(buf[8000..].iter().all(|&b| b == 0));
    assert_eq!(&buf[200..8000], &pattern(8192)[200..8000]);
}

#[test]
fn allocated_ranges_of_plain_and_sparse_files() {
    let (_tmp, share) = share(ShareOptions::default());
    let f = open(&share, "f", Disposition::Create).unwrap();
    assert!(f.allocated_ranges(0, 1024, 8).unwrap().is_empty());
    f.write_at(&pattern(3 << 20), 0).unwrap();
    // Not sparse: the whole requested range up to the end of file.
    assert_eq!(
        f.allocated_ranges(10, u64::MAX, 8).unwrap(),
        vec![(10, (3 << 20) - 10)]
    );
    f.set_sparse(true).unwrap();
    f.zero_range(1 << 20, 2 << 20).unwrap();
    let ranges = f.allocated_ranges(0, 3 << 20, 8).unwrap();
    // Where the file system punched the hole there are two ranges; they never cover the hole.
    assert!(ranges
        .iter()
        .all(|&(o, l)| o + l <= 1 << 20 || o >= 2 << 20));
    assert_eq!(f.allocated_ranges(0, 3 << 20, 1).unwrap().len(), 1);
    assert!(f.allocated_ranges(0, 3 << 20, 0).unwrap().is_empty());
}
