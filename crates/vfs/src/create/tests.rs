use std::sync::{Arc, Barrier};

use super::*;
use crate::testutil::{path, req, share};
use crate::ShareOptions;

#[derive(Clone, Copy, Debug)]
enum State {
    Missing,
    File,
    Dir,
}

use CreateAction::{Created, Opened, Overwritten, Superseded};
use Disposition::{Create, Open, OpenIf, Overwrite, OverwriteIf, Supersede};
use Kind::{Any, Directory, File};

/// Expected outcome: the action and whether the result is a directory and its size, or the status.
type Outcome = Result<(CreateAction, bool, u64), NtStatus>;

const COLLISION: Outcome = Err(NtStatus::OBJECT_NAME_COLLISION);
const NOT_FOUND: Outcome = Err(NtStatus::OBJECT_NAME_NOT_FOUND);
const INVALID: Outcome = Err(NtStatus::INVALID_PARAMETER);
const IS_DIR: Outcome = Err(NtStatus::FILE_IS_A_DIRECTORY);
const NOT_DIR: Outcome = Err(NtStatus::NOT_A_DIRECTORY);

/// MS-FSA 2.1.5.1 outcomes; an existing file holds 4 bytes.
#[rustfmt::skip]
const TABLE: &[(Disposition, State, Kind, Outcome)] = &[
    (Supersede,   State::Missing, File,      Ok((Created, false, 0))),
    (Supersede,   State::Missing, Any,       Ok((Created, false, 0))),
    (Supersede,   State::Missing, Directory, INVALID),
    (Supersede,   State::File,    File,      Ok((Superseded, false, 0))),
    (Supersede,   State::File,    Any,       Ok((Superseded, false, 0))),
    (Supersede,   State::File,    Directory, INVALID),
    (Supersede,   State::Dir,     File,      IS_DIR),
    (Supersede,   State::Dir,     Any,       INVALID),
    (Supersede,   State::Dir,     Directory, INVALID),
    (Open,        State::Missing, File,      NOT_FOUND),
    (Open,        State::Missing, Any,       NOT_FOUND),
    (Open,        State::Missing, Directory, NOT_FOUND),
    (Open,        State::File,    File,      Ok((Opened, false, 4))),
    (Open,        State::File,    Any,       Ok((Opened, false, 4))),
    (Open,        State::File,    Directory, NOT_DIR),
    (Open,        State::Dir,     File,      IS_DIR),
    (Open,        State::Dir,     Any,       Ok((Opened, true, 0))),
    (Open,        State::Dir,     Directory, Ok((Opened, true, 0))),
    (Create,      State::Missing, File,      Ok((Created, false, 0))),
    (Create,      State::Missing, Any,       Ok((Created, false, 0))),
    (Create,      State::Missing, Directory, Ok((Created, true, 0))),
    (Create,      State::File,    File,      COLLISION),
    (Create,      State::File,    Any,       COLLISION),
    (Create,      State::File,    Directory, COLLISION),
    (Create,      State::Dir,     File,      COLLISION),
    (Create,      State::Dir,     Any,       COLLISION),
    (Create,      State::Dir,     Directory, COLLISION),
    (OpenIf,      State::Missing, File,      Ok((Created, false, 0))),
    (OpenIf,      State::Missing, Any,       Ok((Created, false, 0))),
    (OpenIf,      State::Missing, Directory, Ok((Created, true, 0))),
    (OpenIf,      State::File,    File,      Ok((Opened, false, 4))),
    (OpenIf,      State::File,    Any,       Ok((Opened, false, 4))),
    (OpenIf,      State::File,    Directory, NOT_DIR),
    (OpenIf,      State::Dir,     File,      IS_DIR),
    (OpenIf,      State::Dir,     Any,       Ok((Opened, true, 0))),
    (OpenIf,      State::Dir,     Directory, Ok((Opened, true, 0))),
    (Overwrite,   State::Missing, File,      NOT_FOUND),
    (Overwrite,   State::Missing, Any,       NOT_FOUND),
    (Overwrite,   State::Missing, Directory, INVALID),
    (Overwrite,   State::File,    File,      Ok((Overwritten, false, 0))),
    (Overwrite,   State::File,    Any,       Ok((Overwritten, false, 0))),
    (Overwrite,   State::File,    Directory, INVALID),
    (Overwrite,   State::Dir,     File,      IS_DIR),
    (Overwrite,   State::Dir,     Any,       INVALID),
    (Overwrite,   State::Dir,     Directory, INVALID),
    (OverwriteIf, State::Missing, File,      Ok((Created, false, 0))),
    (OverwriteIf, State::Missing, Any,       Ok((Created, false, 0))),
    (OverwriteIf, State::Missing, Directory, INVALID),
    (OverwriteIf, State::File,    File,      Ok((Overwritten, false, 0))),
    (OverwriteIf, State::File,    Any,       Ok((Overwritten, false, 0))),
    (OverwriteIf, State::File,    Directory, INVALID),
    (OverwriteIf, State::Dir,     File,      IS_DIR),
    (OverwriteIf, State::Dir,     Any,       INVALID),
    (OverwriteIf, State::Dir,     Directory, INVALID),
];

#[test]
fn disposition_matrix() {
    for (read, write) in [(true, false), (true, true), (false, true), (false, false)] {
        for &(disposition, state, kind, want) in TABLE {
            let (tmp, share) = share(ShareOptions::default());
            let what = format!("{disposition:?} {state:?} {kind:?} read={read} write={write}");
            match state {
                State::Missing => {}
                State::File => std::fs::write(tmp.path().join("x"), b"data").unwrap(),
                State::Dir => std::fs::create_dir(tmp.path().join("x")).unwrap(),
            }
            let r = CreateRequest {
                disposition,
                kind,
                read,
                write,
                mode: 0o640,
                attributes: 0,
            };
            let got = share.create(&path("x"), &r).map(|(file, action)| {
                let st = file.stat().unwrap();
                assert_eq!(st.is_dir, file.is_dir(), "{what}");
                (action, file.is_dir(), if st.is_dir { 0 } else { st.size })
            });
            assert_eq!(got, want, "{what}");
            let on_disk = std::fs::symlink_metadata(tmp.path().join("x"));
            match want {
                Ok((_, is_dir, _)) => assert_eq!(on_disk.unwrap().is_dir(), is_dir, "{what}"),
                Err(_) => {
                    assert_eq!(on_disk.is_ok(), !matches!(state, State::Missing), "{what}");
                    if let State::File = state {
                        assert_eq!(
                            std::fs::read(tmp.path().join("x")).unwrap(),
                            b"data",
                            "{what}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn missing_parent_is_path_not_found() {
    let (tmp, share) = share(ShareOptions::default());
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    for name in ["nodir\\x", "f\\x", "nodir\\deeper\\x"] {
        for disposition in [Open, Create, OpenIf, Overwrite, OverwriteIf, Supersede] {
            for kind in [File, Any] {
                let got = share
                    .create(&path(name), &req(disposition, kind, true, true))
                    .err();
                assert_eq!(
                    got,
                    Some(NtStatus::OBJECT_PATH_NOT_FOUND),
                    "{name} {disposition:?} {kind:?}"
                );
            }
        }
        let got = share
            .create(&path(name), &req(Create, Directory, true, false))
            .err();
        assert_eq!(got, Some(NtStatus::OBJECT_PATH_NOT_FOUND), "{name} mkdir");
    }
}

#[test]
fn root_opens_as_directory() {
    let (_tmp, share) = share(ShareOptions::default());
    let (root, action) = share
        .create(&SmbPath::root(), &req(Open, Directory, true, false))
        .unwrap();
    assert_eq!(action, Opened);
    assert!(root.is_dir());
    assert_eq!(
        share
            .create(&SmbPath::root(), &req(Create, Directory, true, false))
            .err(),
        Some(NtStatus::OBJECT_NAME_COLLISION)
    );
}

#[test]
fn new_objects_get_masked_modes() {
    let (_tmp, share) = share(ShareOptions {
        create_mask: 0o640,
        force_create_mode: 0o004,
        directory_mask: 0o700,
        ..ShareOptions::default()
    });
    let r = CreateRequest {
        disposition: Create,
        kind: File,
        read: true,
        write: true,
        mode: 0o666,
        attributes: 0,
    };
    let (file, _) = share.create(&path("m"), &r).unwrap();
    assert_eq!(file.stat().unwrap().mode & 0o777, 0o644);
    let r = CreateRequest {
        disposition: Create,
        kind: Directory,
        read: true,
        write: false,
        mode: 0o700,
        attributes: 0,
    };
    let (dir, _) = share.create(&path("d"), &r).unwrap();
    assert_eq!(dir.stat().unwrap().mode & 0o777, 0o700);
}

#[test]
fn open_if_race_creates_exactly_once() {
    let (_tmp, share) = share(ShareOptions::default());
    let share = Arc::new(share);
    for i in 0..50 {
        let name = format!("race{i}");
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (share, barrier, name) = (share.clone(), barrier.clone(), name.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    share
                        .create(&path(&name), &req(OpenIf, File, true, true))
                        .unwrap()
                        .1
                })
            })
            .collect();
        let actions: Vec<CreateAction> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            actions.iter().filter(|a| **a == Created).count(),
            1,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| **a == Opened).count(),
            3,
            "{actions:?}"
        );
    }
}

#[test]
fn codes() {
    assert_eq!(Disposition::from_u32(3), Some(OpenIf));
    assert_eq!(Disposition::from_u32(6), None);
    assert_eq!(Overwritten.code(), 3);
    assert_eq!(Created.code(), 2);
}
