use super::*;
use crate::testutil::{open, path, req, share};
use crate::{Disposition, Kind, ShareOptions, FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_READONLY};

#[test]
fn read_write_round_trip() {
    let (_tmp, share) = share(ShareOptions::default());
    let file = open(&share, "f", Disposition::Create).unwrap();
    assert_eq!(file.write_at(b"hello world", 0).unwrap(), 11);
    assert_eq!(file.write_at(b"WORLD", 6).unwrap(), 5);
    let mut buf = [0u8; 32];
    assert_eq!(file.read_at(&mut buf, 0).unwrap(), 11);
    assert_eq!(&buf[..11], b"hello WORLD");
    assert_eq!(file.read_at(&mut buf, 6).unwrap(), 5);
    assert_eq!(file.read_at(&mut buf, 100).unwrap(), 0);
    assert_eq!(
        file.write_at(b"!", u64::MAX).err(),
        Some(NtStatus::INVALID_PARAMETER)
    );
    file.flush().unwrap();
}

#[test]
fn large_read_fills_buffer() {
    let (_tmp, share) = share(ShareOptions::default());
    let file = open(&share, "big", Disposition::Create).unwrap();
    let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    assert_eq!(file.write_at(&data, 0).unwrap(), data.len());
    let mut buf = vec![0u8; data.len() + 10];
    assert_eq!(file.read_at(&mut buf, 0).unwrap(), data.len());
    assert_eq!(&buf[..data.len()], &data[..]);
}

#[test]
fn length_and_allocation() {
    let (_tmp, share) = share(ShareOptions::default());
    let file = open(&share, "f", Disposition::Create).unwrap();
    file.write_at(b"0123456789", 0).unwrap();
    file.set_len(4).unwrap();
    assert_eq!(file.stat().unwrap().size, 4);
    file.set_len(100).unwrap();
    let mut buf = [1u8; 100];
    assert_eq!(file.read_at(&mut buf, 0).unwrap(), 100);
    assert_eq!(&buf[..6], b"0123\0\0");
    file.allocate(1 << 20).unwrap();
    assert_eq!(file.stat().unwrap().size, 100);
    file.allocate(0).unwrap();
}

#[test]
fn times_round_trip() {
    let (_tmp, share) = share(ShareOptions::default());
    let file = open(&share, "f", Disposition::Create).unwrap();
    let before = file.stat().unwrap();
    let mtime = 130_000_000_001_234_500;
    file.set_times(None, Some(mtime)).unwrap();
    let st = file.stat().unwrap();
    assert_eq!(st.last_write_time, mtime);
    assert_eq!(st.last_access_time, before.last_access_time);
    let atime = 120_000_000_000_000_000;
    file.set_times(Some(atime), None).unwrap();
    let st = file.stat().unwrap();
    assert_eq!((st.last_access_time, st.last_write_time), (atime, mtime));
    file.set_times(None, None).unwrap();
    assert!(st.creation_time > 0 && st.change_time > 0);
}

#[test]
fn times_on_attribute_only_and_directory_opens() {
    let (tmp, share) = share(ShareOptions::default());
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    for (name, kind) in [("f", Kind::Any), ("d", Kind::Directory)] {
        let (file, _) = share
            .create(&path(name), &req(Disposition::Open, kind, false, false))
            .unwrap();
        file.set_times(Some(125_000_000_000_000_000), Some(126_000_000_000_000_000))
            .unwrap();
        let st = share.stat(&path(name)).unwrap();
        assert_eq!(
            (st.last_access_time, st.last_write_time),
            (125_000_000_000_000_000, 126_000_000_000_000_000)
        );
    }
}

#[test]
fn readonly_attribute_maps_write_bits() {
    let (_tmp, share) = share(ShareOptions::default());
    let file = open(&share, "f", Disposition::Create).unwrap();
    file.set_readonly(true).unwrap();
    let st = file.stat().unwrap();
    assert_eq!(st.mode & 0o222, 0);
    assert_eq!(
        st.file_attributes("f"),
        FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_READONLY
    );
    file.set_readonly(false).unwrap();
    let st = file.stat().unwrap();
    assert_eq!(st.mode & 0o200, 0o200);
    assert_eq!(st.file_attributes("f"), FILE_ATTRIBUTE_ARCHIVE);
}

#[test]
fn access_is_enforced_per_handle() {
    let (tmp, share) = share(ShareOptions::default());
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    let (reader, _) = share
        .create(&path("f"), &req(Disposition::Open, Kind::File, true, false))
        .unwrap();
    assert_eq!(
        reader.write_at(b"x", 0).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    assert_eq!(reader.set_len(0).err(), Some(NtStatus::ACCESS_DENIED));
    let (writer, _) = share
        .create(&path("f"), &req(Disposition::Open, Kind::File, false, true))
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(
        writer.read_at(&mut buf, 0).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    let (dir, _) = share
        .create(&path("d"), &req(Disposition::Open, Kind::Any, true, true))
        .unwrap();
    assert_eq!(
        dir.read_at(&mut buf, 0).err(),
        Some(NtStatus::INVALID_DEVICE_REQUEST)
    );
    assert_eq!(
        dir.write_at(b"x", 0).err(),
        Some(NtStatus::INVALID_DEVICE_REQUEST)
    );
}

#[test]
fn fifo_open_does_not_block() {
    let (tmp, share) = share(ShareOptions::default());
    let status = std::process::Command::new("mkfifo")
        .arg(tmp.path().join("p"))
        .status()
        .unwrap();
    assert!(status.success());
    let (file, _) = share
        .create(&path("p"), &req(Disposition::Open, Kind::Any, false, false))
        .unwrap();
    assert!(!file.is_dir());
}

#[test]
fn read_append_adds_exactly_what_was_asked_behind_the_prefix() {
    let (_tmp, share) = share(ShareOptions::default());
    let file = open(&share, "f", Disposition::Create).unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    file.write_at(&data, 0).unwrap();
    let mut buf = b"prefix".to_vec();
    assert_eq!(file.read_append(&mut buf, 10, 65_536).unwrap(), 65_536);
    assert_eq!(&buf[..6], b"prefix");
    assert_eq!(&buf[6..], &data[10..10 + 65_536]);
    let mut tail = Vec::with_capacity(1 << 20);
    assert_eq!(
        file.read_append(&mut tail, 99_990, 1000).unwrap(),
        10,
        "stops at end of file"
    );
    assert_eq!(tail, &data[99_990..]);
    let mut none = Vec::new();
    assert_eq!(file.read_append(&mut none, 200_000, 10).unwrap(), 0);
}
