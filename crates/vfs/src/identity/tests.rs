use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::testutil::{path, req};
use crate::{CreateRequest, Disposition, Kind, Share, ShareOptions};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                      # comment\n\
                      broken line\n\
                      alice:x:1000:100:Alice:/home/alice:/bin/sh\n\
                      bob:x:1001:1001::/home/bob:/bin/sh\n";
const GROUP: &str =
    "root:x:0:\nusers:x:100:bob\nstaff:x:50:alice, bob\nwheel:x:10:alice\nbad\nodd:x:zz:alice\n";

#[test]
fn parses_databases() {
    let alice = identity_for(find_user(PASSWD, |u| u.uid == 1000), 1000, GROUP);
    assert_eq!(
        alice,
        Identity {
            uid: 1000,
            gid: 100,
            groups: vec![100, 50, 10]
        }
    );
    let bob = identity_for(find_user(PASSWD, |u| u.name == "bob"), 1001, GROUP);
    assert_eq!(
        bob,
        Identity {
            uid: 1001,
            gid: 1001,
            groups: vec![1001, 100, 50]
        }
    );
    let unknown = identity_for(find_user(PASSWD, |u| u.uid == 4242), 4242, GROUP);
    assert_eq!(
        unknown,
        Identity {
            uid: 4242,
            gid: 4242,
            groups: vec![4242]
        }
    );
}

#[test]
fn system_lookup() {
    let nobody = Identity::lookup_unix(65534);
    assert_eq!((nobody.uid, nobody.gid), (65534, 65534));
    assert!(nobody.groups.contains(&65534));
    assert_eq!(
        Identity::lookup_name("root").map(|id| (id.uid, id.gid)),
        Some((0, 0))
    );
    assert_eq!(Identity::lookup_name("no-such-user-here"), None);
    assert_eq!(Identity::lookup_unix(3_999_999_999).gid, 3_999_999_999);
}

#[test]
fn runs_closure_and_keeps_other_threads_untouched() {
    let before = rustix::process::geteuid();
    let nobody = Identity::lookup_unix(65534);
    let inner = std::thread::spawn(move || {
        let euid = as_identity(&nobody, || rustix::process::geteuid().as_raw());
        let again = as_identity(&nobody, || 7);
        as_daemon(|| ());
        (euid, again, rustix::process::geteuid().as_raw())
    })
    .join()
    .unwrap();
    let expected_inside = if before.is_root() {
        65534
    } else {
        before.as_raw()
    };
    assert_eq!(inner, (expected_inside, 7, before.as_raw()));
    assert_eq!(rustix::process::geteuid(), before);
}

#[test]
fn invalid_identity_is_refused() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    std::thread::spawn(|| {
        let bad = Identity {
            uid: INVALID_ID,
            gid: 1,
            groups: vec![],
        };
        assert_eq!(try_as_identity(&bad, || ()), Err(NtStatus::ACCESS_DENIED));
        assert!(rustix::process::geteuid().is_root());
    })
    .join()
    .unwrap();
}

/// As root: files created as a user belong to it, and the user is held to POSIX permissions.
#[test]
fn kernel_enforces_user_permissions() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let secret = tmp.path().join("secret");
    std::fs::write(&secret, b"root only").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let share = Share::open(tmp.path(), ShareOptions::default()).unwrap();
    let nobody = Identity::lookup_unix(65534);
    std::thread::spawn(move || {
        as_identity(&nobody, || {
            let create = req(Disposition::Create, Kind::File, true, true);
            let (mine, _) = share.create(&path("mine"), &create).unwrap();
            let st = mine.stat().unwrap();
            assert_eq!((st.uid, st.gid), (65534, 65534));

            let read = req(Disposition::Open, Kind::File, true, false);
            assert_eq!(
                share.create(&path("secret"), &read).err(),
                Some(NtStatus::ACCESS_DENIED)
            );
            assert_eq!(
                share.unlink(&path("secret"), false),
                Ok(()),
                "the directory is world-writable"
            );

            let r = CreateRequest {
                mode: 0,
                ..req(Disposition::Create, Kind::File, false, false)
            };
            share.create(&path("zero"), &r).unwrap();
            let attrs = req(Disposition::Open, Kind::Any, false, false);
            let (zero, _) = share.create(&path("zero"), &attrs).unwrap();
            assert_eq!(zero.stat().unwrap().mode & 0o777, 0);
            let mut buf = [0u8; 1];
            assert_eq!(
                zero.read_at(&mut buf, 0).err(),
                Some(NtStatus::ACCESS_DENIED)
            );
            assert_eq!(
                share.create(&path("zero"), &read).err(),
                Some(NtStatus::ACCESS_DENIED)
            );
            assert_eq!(share.stat(&path("zero")).unwrap().uid, 65534);
        });
        as_daemon(|| assert!(rustix::process::geteuid().is_root()));
    })
    .join()
    .unwrap();
}

#[test]
fn group_ids_by_name() {
    let group = "root:x:0:\nstaff:x:50:alice,bob\nbad:x:zz:\n";
    assert_eq!(group_id_in(group, "staff"), Some(50));
    assert_eq!(group_id_in(group, "root"), Some(0));
    assert_eq!(group_id_in(group, "bad"), None);
    assert_eq!(group_id_in(group, "none"), None);
}
