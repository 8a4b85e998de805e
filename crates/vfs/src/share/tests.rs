use std::os::unix::fs::symlink;

use super::*;
use crate::testutil::{open, path, req, share};
use crate::{CreateAction, Disposition, Kind, OpenFile};

/// A share with `sub/file`, and an outside directory holding `secret`.
fn layout(follow_symlinks: bool) -> (tempfile::TempDir, tempfile::TempDir, Share) {
    let (tmp, share) = share(ShareOptions {
        follow_symlinks,
        ..ShareOptions::default()
    });
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/file"), b"data").unwrap();
    symlink(outside.path(), root.join("out")).unwrap();
    symlink(outside.path().join("secret"), root.join("secret_link")).unwrap();
    symlink("/etc", root.join("etc")).unwrap();
    symlink("sub", root.join("inner")).unwrap();
    symlink("../sub/file", root.join("sub/sibling")).unwrap();
    symlink("../../", root.join("sub/up2")).unwrap();
    symlink(root.join("sub"), root.join("abs_inside")).unwrap();
    (tmp, outside, share)
}

fn open_read(share: &Share, name: &str) -> VfsResult<OpenFile> {
    share
        .create(&path(name), &req(Disposition::Open, Kind::Any, true, false))
        .map(|(f, _)| f)
}

const ESCAPES: &[&str] = &[
    "out",
    "out\\secret",
    "secret_link",
    "etc",
    "etc\\passwd",
    "sub\\up2",
    "sub\\up2\\etc",
];

#[test]
fn symlinks_refused_by_default() {
    let (_tmp, _out, share) = layout(false);
    for name in ESCAPES
        .iter()
        .chain(&["inner", "inner\\file", "sub\\sibling", "abs_inside\\file"])
    {
        assert_eq!(
            share.stat(&path(name)).err(),
            Some(NtStatus::ACCESS_DENIED),
            "stat {name}"
        );
        assert_eq!(
            open_read(&share, name).err(),
            Some(NtStatus::ACCESS_DENIED),
            "open {name}"
        );
    }
    assert_eq!(share.stat(&path("sub\\file")).unwrap().size, 4);
}

#[test]
fn followed_symlinks_stay_inside() {
    let (_tmp, _out, share) = layout(true);
    for name in ESCAPES.iter().chain(&["abs_inside\\file"]) {
        assert_eq!(
            share.stat(&path(name)).err(),
            Some(NtStatus::ACCESS_DENIED),
            "stat {name}"
        );
        assert_eq!(
            open_read(&share, name).err(),
            Some(NtStatus::ACCESS_DENIED),
            "open {name}"
        );
    }
    for name in ["inner\\file", "sub\\sibling"] {
        assert_eq!(share.stat(&path(name)).unwrap().size, 4, "{name}");
        let file = open_read(&share, name).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(file.read_at(&mut buf, 0).unwrap(), 4);
        assert_eq!(&buf[..4], b"data");
    }
    assert!(share.stat(&path("inner")).unwrap().is_dir);
}

#[test]
fn creating_through_an_escaping_link_fails() {
    let (_tmp, out, share) = layout(true);
    let r = req(Disposition::OpenIf, Kind::File, true, true);
    assert_eq!(
        share.create(&path("out\\new"), &r).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    assert!(!out.path().join("new").exists());
    assert_eq!(
        share.unlink(&path("out\\secret"), false).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    assert!(out.path().join("secret").exists());
}

#[test]
fn dotdot_never_parses() {
    for name in ["..", "..\\etc\\passwd", "sub\\..\\..\\x"] {
        assert_eq!(
            SmbPath::parse(name).err(),
            Some(NtStatus::OBJECT_PATH_SYNTAX_BAD)
        );
    }
}

#[test]
fn lookup_statuses() {
    let (_tmp, _out, share) = layout(false);
    assert_eq!(
        share.stat(&path("missing")).err(),
        Some(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    assert_eq!(
        share.stat(&path("sub\\missing")).err(),
        Some(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    assert_eq!(
        share.stat(&path("missing\\x")).err(),
        Some(NtStatus::OBJECT_PATH_NOT_FOUND)
    );
    assert_eq!(
        share.stat(&path("sub\\file\\x")).err(),
        Some(NtStatus::OBJECT_PATH_NOT_FOUND)
    );
    assert!(share.stat(&SmbPath::root()).unwrap().is_dir);
    assert!(share.stat(&path("sub")).unwrap().is_dir);
}

#[test]
fn unlink_cases() {
    let (tmp, share) = share(ShareOptions::default());
    std::fs::create_dir_all(tmp.path().join("full/inner")).unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    assert_eq!(
        share.unlink(&path("f"), true).err(),
        Some(NtStatus::NOT_A_DIRECTORY)
    );
    assert_eq!(
        share.unlink(&path("empty"), false).err(),
        Some(NtStatus::FILE_IS_A_DIRECTORY)
    );
    assert_eq!(
        share.unlink(&path("full"), true).err(),
        Some(NtStatus::DIRECTORY_NOT_EMPTY)
    );
    assert_eq!(
        share.unlink(&path("missing"), false).err(),
        Some(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    assert_eq!(
        share.unlink(&path("missing\\f"), false).err(),
        Some(NtStatus::OBJECT_PATH_NOT_FOUND)
    );
    assert_eq!(
        share.unlink(&SmbPath::root(), true).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    share.unlink(&path("f"), false).unwrap();
    share.unlink(&path("empty"), true).unwrap();
    assert!(!tmp.path().join("f").exists() && !tmp.path().join("empty").exists());
}

#[test]
fn rename_cases() {
    let (tmp, share) = share(ShareOptions::default());
    let root = tmp.path();
    std::fs::write(root.join("a"), b"A").unwrap();
    std::fs::write(root.join("b"), b"B").unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    assert_eq!(
        share.rename(&path("a"), &path("b"), false).err(),
        Some(NtStatus::OBJECT_NAME_COLLISION)
    );
    assert_eq!(
        share.rename(&path("a"), &path("d"), true).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    assert_eq!(
        share.rename(&path("nope"), &path("c"), false).err(),
        Some(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    assert_eq!(
        share.rename(&path("a"), &path("nodir\\a"), false).err(),
        Some(NtStatus::OBJECT_PATH_NOT_FOUND)
    );
    share.rename(&path("a"), &path("a"), false).unwrap();
    share.rename(&path("a"), &path("a"), true).unwrap();
    assert_eq!(std::fs::read(root.join("a")).unwrap(), b"A");
    assert_eq!(
        share.rename(&path("nope"), &path("nope"), true).err(),
        Some(NtStatus::OBJECT_NAME_NOT_FOUND)
    );
    share.rename(&path("a"), &path("b"), true).unwrap();
    assert_eq!(std::fs::read(root.join("b")).unwrap(), b"A");
    assert!(!root.join("a").exists());
    share.rename(&path("b"), &path("d\\c"), false).unwrap();
    assert_eq!(std::fs::read(root.join("d/c")).unwrap(), b"A");
    share.rename(&path("d"), &path("e"), false).unwrap();
    assert!(root.join("e/c").exists());
}

#[test]
fn link_cases() {
    let (tmp, share) = share(ShareOptions::default());
    let root = tmp.path();
    std::fs::write(root.join("a"), b"A").unwrap();
    std::fs::write(root.join("b"), b"B").unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    share.link(&path("a"), &path("a2"), false).unwrap();
    assert_eq!(share.stat(&path("a")).unwrap().nlink, 2);
    assert_eq!(
        share.link(&path("a"), &path("b"), false).err(),
        Some(NtStatus::OBJECT_NAME_COLLISION)
    );
    assert_eq!(
        share.link(&path("a"), &path("d"), true).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    assert_eq!(
        share.link(&path("d"), &path("d2"), false).err(),
        Some(NtStatus::FILE_IS_A_DIRECTORY)
    );
    share.link(&path("a"), &path("b"), true).unwrap();
    assert_eq!(std::fs::read(root.join("b")).unwrap(), b"A");
    assert_eq!(share.stat(&path("a")).unwrap().nlink, 3);
}

#[test]
fn read_only_share() {
    let (tmp, share) = share(ShareOptions {
        read_only: true,
        ..ShareOptions::default()
    });
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    let wp = Some(NtStatus::MEDIA_WRITE_PROTECTED);
    assert_eq!(share.unlink(&path("f"), false).err(), wp);
    assert_eq!(share.rename(&path("f"), &path("g"), false).err(), wp);
    assert_eq!(share.link(&path("f"), &path("g"), false).err(), wp);
    assert_eq!(
        open(&share, "f", Disposition::Open).err(),
        Some(NtStatus::ACCESS_DENIED)
    );
    let read_only = |d| share.create(&path("f"), &req(d, Kind::Any, true, false));
    assert_eq!(read_only(Disposition::Overwrite).err(), wp);
    assert_eq!(read_only(Disposition::Supersede).err(), wp);
    let new = |d| share.create(&path("new"), &req(d, Kind::Any, true, false));
    assert_eq!(new(Disposition::OpenIf).err(), wp);
    assert_eq!(new(Disposition::Create).err(), wp);
    let (file, action) = read_only(Disposition::OpenIf).unwrap();
    assert_eq!(action, CreateAction::Opened);
    assert_eq!(file.set_times(Some(1), None).err(), wp);
    assert_eq!(file.set_readonly(true).err(), wp);
    let mut buf = [0u8; 4];
    assert_eq!(file.read_at(&mut buf, 0).unwrap(), 4);
    assert_eq!(file.write_at(b"x", 0).err(), Some(NtStatus::ACCESS_DENIED));
    assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), b"data");
}

#[test]
fn fs_stat_reports_volume() {
    let (_tmp, share) = share(ShareOptions::default());
    let st = share.fs_stat().unwrap();
    assert!(st.block_size > 0);
    assert!(st.total_blocks >= st.free_blocks && st.free_blocks >= st.avail_blocks);
    assert_eq!(st.name_max, 255);
    assert!(!st.kind.is_empty());
    assert_eq!(crate::FS_NAME_FOR_CLIENTS, "NTFS");
}

#[test]
fn listing_shows_symlink_without_following() {
    let (_tmp, _out, share) = layout(false);
    let dir = share
        .create(
            &SmbPath::root(),
            &req(Disposition::Open, Kind::Directory, true, false),
        )
        .unwrap()
        .0;
    let mut stream = dir.read_dir().unwrap();
    let mut found = false;
    while let Some(entry) = stream.next_entry() {
        let entry = entry.unwrap();
        if entry.name == "etc" {
            assert!(entry.stat.is_symlink && !entry.stat.is_dir);
            found = true;
        }
    }
    assert!(found);
}
