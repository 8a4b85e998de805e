use proto::NtStatus;

use super::*;
use crate::testutil::{req, share, xattrs_supported};
use crate::{CreateAction, Disposition, Kind, OpenFile, Share, ShareOptions};

fn named(name: &str) -> StreamPart {
    StreamPart::Named(StreamName::new(name).unwrap())
}

/// A name and what it parses to: the Unix path and the stream part, or the status.
type Case<'a> = (&'a str, Result<(&'a str, StreamPart), NtStatus>);

#[test]
fn name_parsing_table() {
    let long = "s".repeat(MAX_STREAM_NAME_CHARS + 1);
    // An extended attribute name holds 255 bytes: 15 of them are `user.DosStream.`, 6 `:$DATA`.
    let longest = "s".repeat(XATTR_NAME_MAX - PREFIX.len() - SUFFIX.len());
    let too_long = format!("f:{long}");
    let too_long_for_xattr = format!("f:{longest}x");
    let cases: &[Case<'_>] = &[
        ("f", Ok(("f", StreamPart::None))),
        ("d\\f::$DATA", Ok(("d/f", StreamPart::DefaultData))),
        ("f::$data", Ok(("f", StreamPart::DefaultData))),
        ("f:s", Ok(("f", named("s")))),
        ("f:s:$DaTa", Ok(("f", named("s")))),
        (
            "f:Zone.Identifier:$DATA",
            Ok(("f", named("Zone.Identifier"))),
        ),
        // Stream names may hold what file names may not, except \ / : and NUL.
        ("f:?Stream*", Ok(("f", named("?Stream*")))),
        ("f:\u{5}Stream\n One", Ok(("f", named("\u{5}Stream\n One")))),
        ("f:<>\"|", Ok(("f", named("<>\"|")))),
        (":s", Ok((".", named("s")))),
        (&format!("f:{longest}"), Ok(("f", named(&longest)))),
        ("f:", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:s:", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:s:$FOO", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:s:?D*a", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:s:$DATA:x", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:::$DATA", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:a/b", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:a\\b", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:a\0b", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f:s\\..\\..\\etc", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("d:s\\f", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("f*:s", Err(NtStatus::OBJECT_NAME_INVALID)),
        ("..:s", Err(NtStatus::OBJECT_PATH_SYNTAX_BAD)),
        ("f:$data", Ok(("f", StreamPart::DefaultData))),
        (&too_long, Err(NtStatus::OBJECT_NAME_INVALID)),
        (&too_long_for_xattr, Err(NtStatus::OBJECT_NAME_INVALID)),
    ];
    for (input, want) in cases {
        let got = parse_name(input).map(|p| (p.path.as_unix().to_owned(), p.stream));
        let want = want.clone().map(|(p, s)| (p.to_owned(), s));
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn rename_targets() {
    assert_eq!(
        parse_rename_target(":new").unwrap(),
        Some(StreamName::new("new").unwrap())
    );
    assert_eq!(
        parse_rename_target(":new:$data").unwrap(),
        Some(StreamName::new("new").unwrap())
    );
    assert_eq!(parse_rename_target("::$DATA").unwrap(), None);
    for bad in ["new", ":", ":a:", ":a:$FOO", ":a/b", "::"] {
        assert_eq!(
            parse_rename_target(bad),
            Err(NtStatus::INVALID_PARAMETER),
            "{bad:?}"
        );
    }
}

fn open_stream(
    share: &Share,
    name: &str,
    d: Disposition,
) -> crate::VfsResult<(OpenFile, CreateAction)> {
    share.create_named(&parse_name(name)?, &req(d, Kind::Any, true, true))
}

fn raw(file: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 70000];
    let len = rustix::fs::getxattr(file, name, &mut buf[..]).ok()?;
    buf.truncate(len);
    Some(buf)
}

#[test]
fn stored_as_samba_does() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (s, action) = open_stream(&share, "f:Zone.Identifier", Disposition::Create).unwrap();
    assert_eq!(action, CreateAction::Created);
    // The file was created with its stream, empty.
    assert_eq!(std::fs::metadata(tmp.path().join("f")).unwrap().len(), 0);
    assert_eq!(s.write_at(b"[ZoneTransfer]", 0).unwrap(), 14);
    let file = tmp.path().join("f");
    assert_eq!(
        raw(&file, "user.DosStream.Zone.Identifier:$DATA").unwrap(),
        b"[ZoneTransfer]\0"
    );
    // Another spelling opens the same stream.
    let (again, action) =
        open_stream(&share, "f:ZONE.identifier:$DATA", Disposition::Open).unwrap();
    assert_eq!(action, CreateAction::Opened);
    assert_eq!(again.stream_name().as_deref(), Some("Zone.Identifier"));
    let mut buf = [0u8; 32];
    assert_eq!(again.read_at(&mut buf, 5).unwrap(), 9);
    assert_eq!(&buf[..9], b"Transfer]");
    let st = again.stat().unwrap();
    assert_eq!((st.size, st.is_dir), (14, false));
    assert_eq!(st.stream_id, stream_id("zone.IDENTIFIER"));
    assert_ne!(st.stream_id, 0);
    // The file's data are untouched.
    assert_eq!(std::fs::read(&file).unwrap(), b"");
}

#[test]
fn write_extends_truncate_and_limits() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (s, _) = open_stream(&share, "f:s", Disposition::OpenIf).unwrap();
    s.write_at(b"ab", 4).unwrap();
    let mut out = Vec::new();
    assert_eq!(s.read_append(&mut out, 0, 100).unwrap(), 6);
    assert_eq!(out, b"\0\0\0\0ab");
    s.set_len(2).unwrap();
    assert_eq!(s.stat().unwrap().size, 2);
    // Beyond what one extended attribute can hold: a full disk, and nothing changed.
    assert_eq!(
        s.write_at(b"x", MAX_STREAM_SIZE as u64),
        Err(NtStatus::DISK_FULL)
    );
    assert_eq!(s.set_len(u64::MAX), Err(NtStatus::DISK_FULL));
    assert_eq!(s.stat().unwrap().size, 2);
    // Reading past the end gives nothing.
    let mut buf = [0u8; 4];
    assert_eq!(s.read_at(&mut buf, 1000).unwrap(), 0);
}

#[test]
fn dispositions_list_rename_delete() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    assert_eq!(
        open_stream(&share, "f:one", Disposition::Open).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    assert_eq!(
        open_stream(&share, "missing:one", Disposition::Open).unwrap_err(),
        NtStatus::OBJECT_NAME_NOT_FOUND
    );
    let (one, _) = open_stream(&share, "f:one", Disposition::Create).unwrap();
    one.write_at(b"111", 0).unwrap();
    assert_eq!(
        open_stream(&share, "f:ONE", Disposition::Create).unwrap_err(),
        NtStatus::OBJECT_NAME_COLLISION
    );
    let (_, action) = open_stream(&share, "f:one", Disposition::Overwrite).unwrap();
    assert_eq!(action, CreateAction::Overwritten);
    assert_eq!(one.stat().unwrap().size, 0);
    let (two, _) = open_stream(&share, "f:two", Disposition::Create).unwrap();
    two.write_at(b"22", 0).unwrap();
    let mut names: Vec<(String, u64)> = two
        .streams()
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.size))
        .collect();
    names.sort();
    let want = [(String::new(), 4), ("one".into(), 0), ("two".into(), 2)];
    assert_eq!(names, want);
    // Rename: onto an existing stream only with replace.
    assert_eq!(
        two.rename_stream(&StreamName::new("One").unwrap(), false),
        Err(NtStatus::OBJECT_NAME_COLLISION)
    );
    two.rename_stream(&StreamName::new("One").unwrap(), true)
        .unwrap();
    assert_eq!(two.stream_name().as_deref(), Some("one"));
    assert_eq!(two.stat().unwrap().size, 2);
    two.rename_stream(&StreamName::new("three").unwrap(), false)
        .unwrap();
    let file = tmp.path().join("f");
    assert_eq!(raw(&file, "user.DosStream.three:$DATA").unwrap(), b"22\0");
    assert_eq!(raw(&file, "user.DosStream.one:$DATA"), None);
    two.delete_stream().unwrap();
    assert_eq!(raw(&file, "user.DosStream.three:$DATA"), None);
    // Overwriting the file removes every stream.
    open_stream(&share, "f:four", Disposition::Create).unwrap();
    let (base, _) = open_stream(&share, "f", Disposition::Open).unwrap();
    base.overwrite().unwrap();
    assert_eq!(base.streams().unwrap().len(), 1);
    assert_eq!(std::fs::read(&file).unwrap(), b"");
}

#[test]
fn directories_have_named_streams_only() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    let dir = req(Disposition::Open, Kind::Directory, true, false);
    assert_eq!(
        share
            .create_named(&parse_name("d::$DATA").unwrap(), &dir)
            .unwrap_err(),
        NtStatus::NOT_A_DIRECTORY
    );
    assert_eq!(
        open_stream(&share, "d::$DATA", Disposition::Open).unwrap_err(),
        NtStatus::FILE_IS_A_DIRECTORY
    );
    let (s, _) = open_stream(&share, "d:ds", Disposition::Create).unwrap();
    s.write_at(b"D", 0).unwrap();
    assert!(!s.is_dir() && s.object_is_dir());
    let (d, _) = open_stream(&share, "d", Disposition::Open).unwrap();
    let listed: Vec<String> = d.streams().unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(listed, ["ds"]);
}

#[test]
fn shares_without_streams_refuse_them() {
    let (tmp, share) = share(ShareOptions {
        streams: false,
        ..ShareOptions::default()
    });
    if !xattrs_supported(tmp.path()) {
        return;
    }
    assert_eq!(
        open_stream(&share, "f:s", Disposition::Create).unwrap_err(),
        NtStatus::OBJECT_NAME_INVALID
    );
    assert!(!tmp.path().join("f").exists());
    // The unnamed data stream is the file itself.
    let (f, _) = open_stream(&share, "f::$DATA", Disposition::Create).unwrap();
    assert_eq!(f.streams().unwrap().len(), 1);
}

#[test]
fn read_only_share_refuses_stream_changes() {
    let (tmp, share) = share(ShareOptions {
        read_only: true,
        ..ShareOptions::default()
    });
    if !xattrs_supported(tmp.path()) {
        return;
    }
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    assert_eq!(
        open_stream(&share, "f:s", Disposition::OpenIf).unwrap_err(),
        NtStatus::ACCESS_DENIED
    );
    let ro = req(Disposition::OpenIf, Kind::Any, true, false);
    assert_eq!(
        share
            .create_named(&parse_name("f:s").unwrap(), &ro)
            .unwrap_err(),
        NtStatus::MEDIA_WRITE_PROTECTED
    );
}

#[test]
fn concurrent_writes_through_two_handles_are_all_kept() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let (a, _) = open_stream(&share, "f:s", Disposition::Create).unwrap();
    let (b, _) = open_stream(&share, "f:s", Disposition::Open).unwrap();
    std::thread::scope(|scope| {
        for (file, base) in [(&a, 0u64), (&b, 1000)] {
            scope.spawn(move || {
                for i in 0..200u64 {
                    file.write_at(&[1], base + i).unwrap();
                }
            });
        }
    });
    let mut out = Vec::new();
    a.read_append(&mut out, 0, 2000).unwrap();
    assert_eq!(out.len(), 1200);
    assert!(out[..200].iter().chain(&out[1000..]).all(|&b| b == 1));
}
