use std::os::unix::fs::PermissionsExt;

use proto::NtStatus;
use rustix::fs::{Mode, OFlags};

use super::*;
use crate::identity::{as_identity, Identity};
use crate::testutil::{path, req, share, xattrs_supported};
use crate::time::unix_to_filetime;
use crate::{
    CreateAction, CreateRequest, Disposition, Kind, OpenFile, Share, ShareOptions,
    FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_HIDDEN, FILE_ATTRIBUTE_NORMAL,
    FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_SYSTEM,
};

/// 2000-01-01T00:00:00Z as FILETIME.
const Y2K: u64 = 125_911_584_000_000_000;

fn info(attributes: u32, creation_time: Option<u64>) -> DosInfo {
    DosInfo::new(attributes, creation_time)
}

#[test]
fn y2k_constant() {
    assert_eq!(unix_to_filetime(946_684_800, 0), Y2K);
}

#[test]
fn byte_exact_version_5() {
    let t = 0x01D2_3456_789A_BCDE_u64;
    let blob = encode_dosattrib(&info(0x20, Some(t)));
    let mut want = vec![
        0x30, 0x78, 0x32, 0x30, 0x00, 0x00, // "0x20", NUL, pad to 2
        0x05, 0x00, 0x05, 0x00, // version 5, level 5
        0x00, 0x00, // pad to 4
        0x11, 0x00, 0x00, 0x00, // valid: attrib | create_time
        0x20, 0x00, 0x00, 0x00, // attrib
    ];
    want.extend_from_slice(&t.to_le_bytes());
    assert_eq!(blob, want);
    assert_eq!(blob.len(), 28);
    assert_eq!(decode_dosattrib(&blob), Some(info(0x20, Some(t))));
}

#[test]
fn even_length_hex_string_needs_no_padding() {
    // "0x2" plus NUL is 4 bytes: version at 4, level at 6, body at 8.
    let blob = encode_dosattrib(&info(0x2, None));
    assert_eq!(
        blob,
        [
            0x30, 0x78, 0x32, 0x00, 0x05, 0x00, 0x05, 0x00, 0x01, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0
        ]
    );
}

#[test]
fn round_trip() {
    for attributes in [0, 1, 0x2, 0x10, 0x20, 0x26, 0x120, 0x2020, 0x31A7, u32::MAX] {
        for creation_time in [None, Some(1), Some(Y2K), Some(u64::MAX)] {
            let i = info(attributes, creation_time);
            assert_eq!(decode_dosattrib(&encode_dosattrib(&i)), Some(i), "{i:?}");
        }
    }
}

/// Version 5 as current Samba writes it: an empty hex string.
#[test]
fn decodes_empty_hex_string_version_5() {
    let mut blob = vec![0, 0, 5, 0, 5, 0, 0, 0, 0x11, 0, 0, 0, 0x10, 0, 0, 0];
    blob.extend_from_slice(&Y2K.to_le_bytes());
    assert_eq!(decode_dosattrib(&blob), Some(info(0x10, Some(Y2K))));
}

/// Version 4 (ksmbd, Samba 4.11-4.12): valid flags include ITIME; itime precedes create_time.
#[test]
fn decodes_version_4() {
    let mut blob = vec![0, 0, 4, 0, 4, 0, 0, 0, 0x51, 0, 0, 0, 0x22, 0, 0, 0];
    blob.extend_from_slice(&7u64.to_le_bytes()); // itime
    blob.extend_from_slice(&Y2K.to_le_bytes());
    assert_eq!(decode_dosattrib(&blob), Some(info(0x22, Some(Y2K))));
    for len in 0..blob.len() {
        assert_eq!(decode_dosattrib(&blob[..len]), None, "{len}");
    }
}

/// Version 3 (Samba 4.0-4.10, ksmbd): with the hex string, EA size, sizes and change time.
#[test]
fn decodes_version_3() {
    let mut blob = b"0x22\0\0".to_vec();
    blob.extend_from_slice(&[3, 0, 3, 0, 0, 0]);
    blob.extend_from_slice(&0x11u32.to_le_bytes());
    blob.extend_from_slice(&0x22u32.to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes()); // ea_size
    blob.extend_from_slice(&[0; 16]); // size, alloc_size
    blob.extend_from_slice(&Y2K.to_le_bytes());
    blob.extend_from_slice(&9u64.to_le_bytes()); // change_time
    assert_eq!(blob.len(), 56);
    assert_eq!(decode_dosattrib(&blob), Some(info(0x22, Some(Y2K))));
    for len in 0..blob.len() {
        assert_eq!(decode_dosattrib(&blob[..len]), None, "{len}");
    }
}

/// A stored ChangeTime makes the blob version 3, keyed by the mtime in the size field (not marked valid);
/// a version 3 blob whose size is a real size (SIZE valid, as old Samba wrote) keys nothing.
#[test]
fn change_time_round_trips_as_version_3() {
    let with = DosInfo {
        change_time: Some(ChangeTime {
            time: Y2K + 5,
            since_write: Y2K + 9,
        }),
        ..info(0x22, Some(Y2K))
    };
    let blob = encode_dosattrib(&with);
    assert_eq!((blob.len(), &blob[6..10]), (56, &[3u8, 0, 3, 0][..]));
    assert_eq!(u32::from_le_bytes(blob[12..16].try_into().unwrap()), 0x31);
    assert_eq!(decode_dosattrib(&blob), Some(with));
    let mut samba = blob.clone();
    samba[12] |= 0x04; // SIZE valid: the field is a size
    assert_eq!(decode_dosattrib(&samba), Some(info(0x22, Some(Y2K))));
}

#[test]
fn rejects_what_it_does_not_understand() {
    let good = encode_dosattrib(&info(0x20, Some(Y2K)));
    let with = |at: usize, byte: u8| {
        let mut b = good.clone();
        b[at] = byte;
        b
    };
    for version in [0u8, 1, 2, 6, 0xFF] {
        let mut b = with(6, version);
        b[8] = version;
        assert_eq!(decode_dosattrib(&b), None, "version {version}");
    }
    assert_eq!(
        decode_dosattrib(&with(8, 4)),
        None,
        "level differs from version"
    );
    assert_eq!(
        decode_dosattrib(&with(12, 0x10)),
        None,
        "attributes not valid"
    );
    assert_eq!(decode_dosattrib(b"0x20"), None, "bare hex string");
    assert_eq!(decode_dosattrib(&[]), None);
    // A creation time that is not marked valid, or zero, is not stored.
    assert_eq!(decode_dosattrib(&with(12, 0x01)), Some(info(0x20, None)));
    let zero = encode_dosattrib(&info(0x20, Some(0)));
    assert_eq!(decode_dosattrib(&zero), Some(info(0x20, None)));
    // Trailing bytes are ignored, as NDR does.
    let mut long = good.clone();
    long.extend_from_slice(&[0xAA; 8]);
    assert_eq!(decode_dosattrib(&long), Some(info(0x20, Some(Y2K))));
}

#[test]
fn every_truncation_is_absent() {
    for i in [
        info(0x20, Some(Y2K)),
        info(0x2, None),
        info(0x2020, Some(1)),
    ] {
        let blob = encode_dosattrib(&i);
        for len in 0..blob.len() {
            assert_eq!(decode_dosattrib(&blob[..len]), None, "{i:?} cut at {len}");
        }
    }
}

/// A fixed-seed xorshift generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut decoded = 0;
    for _ in 0..200_000 {
        let len = (rng.next() % 80) as usize;
        let mut blob: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        // Half the time, start from the valid prefix so the deeper paths are reached too.
        if rng.next().is_multiple_of(2) {
            let version = [3u8, 4, 5][(rng.next() % 3) as usize];
            let head = [0, 0, version, 0, version, 0, 0, 0, 0x11, 0, 0, 0];
            for (b, h) in blob.iter_mut().zip(head) {
                *b = h;
            }
        }
        if let Some(i) = decode_dosattrib(&blob) {
            decoded += 1;
            assert_ne!(i.creation_time, Some(0));
        }
    }
    assert!(decoded > 0, "the generator never produced a valid blob");
}

// ---- on a file system ----

fn create(share: &Share, name: &str, kind: Kind, attributes: u32) -> (OpenFile, CreateAction) {
    let r = CreateRequest {
        attributes,
        ..req(Disposition::OpenIf, kind, true, false)
    };
    share.create(&path(name), &r).unwrap()
}

fn raw_xattr(file: &std::path::Path) -> rustix::io::Result<Vec<u8>> {
    let mut buf = [0u8; 256];
    let len = rustix::fs::getxattr(file, DOSATTRIB_XATTR, &mut buf)?;
    Ok(buf[..len].to_vec())
}

fn entry(share: &Share, name: &str) -> crate::FileStat {
    let (root, _) = create(share, "", Kind::Directory, 0);
    let mut stream = root.read_dir().unwrap();
    std::iter::from_fn(|| stream.next_entry())
        .map(Result::unwrap)
        .find(|e| e.name == name)
        .unwrap()
        .stat
}

#[test]
fn create_stores_archive_and_a_stable_creation_time() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (file, action) = create(&share, "f", Kind::File, 0);
    assert_eq!(action, CreateAction::Created);
    let st = file.stat().unwrap();
    let born = st.creation_time;
    assert_eq!(st.dos, Some(info(FILE_ATTRIBUTE_ARCHIVE, Some(born))));
    assert_eq!(st.file_attributes("f"), FILE_ATTRIBUTE_ARCHIVE);
    assert_eq!(
        raw_xattr(&tmp.path().join("f")).unwrap(),
        encode_dosattrib(&info(FILE_ATTRIBUTE_ARCHIVE, Some(born)))
    );
    drop(file);

    // Opening again stores nothing new, and the creation time survives data and time changes.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (again, action) = create(&share, "f", Kind::File, FILE_ATTRIBUTE_HIDDEN);
    assert_eq!(action, CreateAction::Opened);
    again.set_times(Some(Y2K), Some(Y2K)).unwrap();
    let st = again.stat().unwrap();
    assert_eq!(st.creation_time, born);
    assert_eq!(st.file_attributes("f"), FILE_ATTRIBUTE_ARCHIVE);
    assert_eq!(entry(&share, "f").creation_time, born);
}

#[test]
fn create_stores_requested_attributes() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let asked = FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_NORMAL | 0x0001_0000;
    let (file, _) = create(&share, ".dot", Kind::File, asked);
    let dos = file.stat().unwrap().dos.unwrap();
    assert_eq!(
        dos.attributes,
        FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN
    );

    let (dir, _) = create(&share, "d", Kind::Directory, FILE_ATTRIBUTE_SYSTEM);
    let st = dir.stat().unwrap();
    assert_eq!(
        st.dos.unwrap().attributes,
        FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_SYSTEM
    );
    assert_eq!(
        st.file_attributes("d"),
        FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_SYSTEM
    );
    // A stored value replaces the dot-file rule.
    let (dot_dir, _) = create(&share, ".d", Kind::Directory, 0);
    assert_eq!(
        dot_dir.stat().unwrap().file_attributes(".d"),
        FILE_ATTRIBUTE_DIRECTORY
    );
}

#[test]
fn set_dos_info_is_seen_by_stat_and_listing() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (file, _) = create(&share, "f", Kind::File, 0);
    file.set_dos_info(&info(
        FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM,
        Some(Y2K),
    ))
    .unwrap();
    let want = FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM;
    let st = file.stat().unwrap();
    assert_eq!((st.file_attributes("f"), st.creation_time), (want, Y2K));
    let listed = entry(&share, "f");
    assert_eq!(
        (listed.file_attributes("f"), listed.creation_time),
        (want, Y2K)
    );
    assert_eq!(
        raw_xattr(&tmp.path().join("f")).unwrap(),
        encode_dosattrib(&info(want, Some(Y2K)))
    );

    // No creation time keeps the stored one; a DIRECTORY bit on a file is not stored.
    file.set_dos_info(&info(
        FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_ARCHIVE,
        None,
    ))
    .unwrap();
    let st = file.stat().unwrap();
    assert_eq!(st.dos, Some(info(FILE_ATTRIBUTE_ARCHIVE, Some(Y2K))));

    // Directories, "." included, report their stored attributes in listings too.
    let (root, _) = create(&share, "", Kind::Directory, 0);
    root.set_dos_info(&info(FILE_ATTRIBUTE_HIDDEN, Some(Y2K)))
        .unwrap();
    let dot = entry(&share, ".");
    assert_eq!(
        dot.file_attributes("."),
        FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN
    );
    assert_eq!(
        entry(&share, "..").creation_time,
        Y2K,
        "root's .. is the root"
    );
}

#[test]
fn listing_skips_special_files() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    create(&share, "target", Kind::File, FILE_ATTRIBUTE_HIDDEN);
    std::os::unix::fs::symlink("target", tmp.path().join("link")).unwrap();
    let dir = rustix::fs::open(tmp.path(), OFlags::PATH, Mode::empty()).unwrap();
    rustix::fs::mknodat(
        &dir,
        "fifo",
        rustix::fs::FileType::Fifo,
        Mode::from_bits_truncate(0o644),
        0,
    )
    .unwrap();
    assert_eq!(entry(&share, "link").dos, None);
    assert_eq!(entry(&share, "fifo").dos, None);
    assert!(entry(&share, "target").dos.is_some());
}

#[test]
fn malformed_or_foreign_values_on_disk() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let f = tmp.path().join("f");
    std::fs::write(&f, b"").unwrap();
    rustix::fs::setxattr(
        &f,
        DOSATTRIB_XATTR,
        b"\x00\x00\x05\x00",
        XattrFlags::empty(),
    )
    .unwrap();
    let (file, _) = create(&share, "f", Kind::File, 0);
    let st = file.stat().unwrap();
    assert_eq!(
        (st.dos, st.file_attributes("f")),
        (None, FILE_ATTRIBUTE_ARCHIVE)
    );
    assert_eq!(entry(&share, "f").dos, None);

    let mut samba = vec![0, 0, 5, 0, 5, 0, 0, 0, 0x11, 0, 0, 0, 0x22, 0, 0, 0];
    samba.extend_from_slice(&Y2K.to_le_bytes());
    rustix::fs::setxattr(&f, DOSATTRIB_XATTR, &samba, XattrFlags::empty()).unwrap();
    let st = file.stat().unwrap();
    assert_eq!(
        (st.file_attributes("f"), st.creation_time),
        (FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN, Y2K)
    );

    let huge = vec![b'x'; MAX_BLOB + 1];
    rustix::fs::setxattr(&f, DOSATTRIB_XATTR, &huge, XattrFlags::empty()).unwrap();
    assert_eq!(file.stat().unwrap().dos, None);
}

#[test]
fn switched_off_never_touches_the_xattr() {
    let (tmp, share) = share(ShareOptions {
        store_dos_attributes: false,
        ..ShareOptions::default()
    });
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (file, _) = create(&share, "f", Kind::File, FILE_ATTRIBUTE_HIDDEN);
    file.set_dos_info(&info(FILE_ATTRIBUTE_SYSTEM, Some(Y2K)))
        .unwrap();
    let f = tmp.path().join("f");
    assert_eq!(raw_xattr(&f), Err(rustix::io::Errno::NODATA));
    // A value stored by someone else is not read either.
    let blob = encode_dosattrib(&info(FILE_ATTRIBUTE_HIDDEN, Some(Y2K)));
    rustix::fs::setxattr(&f, DOSATTRIB_XATTR, &blob, XattrFlags::empty()).unwrap();
    assert_eq!(file.stat().unwrap().dos, None);
    assert_eq!(entry(&share, "f").dos, None);
    assert_eq!(
        file.stat().unwrap().file_attributes("f"),
        FILE_ATTRIBUTE_ARCHIVE
    );
}

#[test]
fn read_only_share_refuses() {
    let (tmp, share) = share(ShareOptions {
        read_only: true,
        ..ShareOptions::default()
    });
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    let (file, _) = share
        .create(&path("f"), &req(Disposition::Open, Kind::File, true, false))
        .unwrap();
    assert_eq!(
        file.set_dos_info(&info(FILE_ATTRIBUTE_HIDDEN, None)),
        Err(NtStatus::MEDIA_WRITE_PROTECTED)
    );
}

/// As root: a user keeps the attributes of its own read-only files, and attribute-only opens store nothing.
#[test]
fn owner_of_read_only_file_and_attribute_only_opens() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_supported(tmp.path()) {
        return;
    }
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let share = Share::open(tmp.path(), ShareOptions::default()).unwrap();
    let nobody = Identity::lookup_unix(65534);
    std::thread::spawn(move || {
        as_identity(&nobody, || {
            let r = CreateRequest {
                mode: 0o444,
                attributes: FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN,
                ..req(Disposition::Create, Kind::File, true, false)
            };
            let (file, _) = share.create(&path("ro"), &r).unwrap();
            let want = FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_READONLY;
            assert_eq!(file.stat().unwrap().file_attributes("ro"), want);
            file.set_dos_info(&info(FILE_ATTRIBUTE_READONLY, None))
                .unwrap();
            assert_eq!(
                file.stat().unwrap().file_attributes("ro"),
                FILE_ATTRIBUTE_READONLY
            );
            assert_eq!(
                rustix::process::geteuid().as_raw(),
                65534,
                "identity restored"
            );

            let r = CreateRequest {
                mode: 0,
                ..req(Disposition::Create, Kind::File, false, false)
            };
            share.create(&path("zero"), &r).unwrap();
            let attrs = req(Disposition::Open, Kind::Any, false, false);
            let (zero, _) = share.create(&path("zero"), &attrs).unwrap();
            assert_eq!(
                zero.set_dos_info(&info(FILE_ATTRIBUTE_HIDDEN, Some(Y2K))),
                Ok(())
            );
            let st = zero.stat().unwrap();
            assert_eq!(st.dos, None, "not readable through O_PATH");
            assert_ne!(st.creation_time, Y2K);
        });
    })
    .join()
    .unwrap();
}

/// Cross-check with the `attr` package's `getfattr`, when it is installed.
#[test]
fn getfattr_shows_the_encoded_bytes() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (file, _) = create(&share, "f", Kind::File, 0);
    file.set_dos_info(&info(FILE_ATTRIBUTE_ARCHIVE, Some(Y2K)))
        .unwrap();
    let out = match std::process::Command::new("getfattr")
        .args(["-n", DOSATTRIB_XATTR, "-e", "hex"])
        .arg(tmp.path().join("f"))
        .output()
    {
        Ok(out) => String::from_utf8(out.stdout).unwrap(),
        Err(e) => {
            eprintln!("skipping: no getfattr ({e})");
            return;
        }
    };
    eprintln!("{out}");
    assert!(
        out.contains("user.DOSATTRIB=0x307832300000050005000000110000002000000000406d25eb53bf01"),
        "{out}"
    );
}
