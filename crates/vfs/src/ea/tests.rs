use proto::NtStatus;

use crate::testutil::{open, share, xattrs_supported};
use crate::{Disposition, EaEntry, ShareOptions};

fn raw(file: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = [0u8; 256];
    let len = rustix::fs::getxattr(file, name, &mut buf).ok()?;
    Some(buf[..len].to_vec())
}

fn entry(name: &[u8], value_len: usize) -> EaEntry {
    EaEntry {
        name: name.to_vec(),
        value_len,
    }
}

#[test]
fn stored_as_user_xattrs_matched_without_case() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let f = open(&share, "f", Disposition::Create).unwrap();
    f.set_eas(&[(b"MyEa", b"one"), (b"Other", b"2")]).unwrap();
    let file = tmp.path().join("f");
    assert_eq!(raw(&file, "user.MyEa").unwrap(), b"one");
    // Another spelling replaces the value and keeps the stored name.
    f.set_eas(&[(b"MYEA", b"two")]).unwrap();
    assert_eq!(raw(&file, "user.MyEa").unwrap(), b"two");
    assert_eq!(raw(&file, "user.MYEA"), None);
    let mut listed = f.list_eas().unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, vec![entry(b"MyEa", 3), entry(b"Other", 1)]);
    assert_eq!(f.ea_value(b"MyEa").unwrap(), b"two");
    assert_eq!(f.ea_size(), 16 + 16);
    // An empty value deletes, also under another spelling; deleting a missing EA is no error.
    f.set_eas(&[(b"other", b""), (b"never", b"")]).unwrap();
    assert_eq!(f.list_eas().unwrap(), vec![entry(b"MyEa", 3)]);
    assert_eq!(f.ea_value(b"gone").unwrap(), b"");
}

#[test]
fn private_attributes_are_hidden_and_refused() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let f = open(&share, "f", Disposition::Create).unwrap();
    f.set_dos_info(&crate::DosInfo::new(crate::FILE_ATTRIBUTE_HIDDEN, None))
        .unwrap();
    assert!(raw(&tmp.path().join("f"), "user.DOSATTRIB").is_some());
    assert_eq!(f.list_eas().unwrap(), vec![]);
    assert_eq!(f.ea_size(), 0);
    assert_eq!(f.ea_value(b"DOSATTRIB").unwrap(), b"");
    for name in [
        &b"DOSATTRIB"[..],
        b"dosattrib",
        b"DosStream.x",
        b"SAMBA_PAI",
    ] {
        assert_eq!(
            f.set_eas(&[(b"ok", b"1"), (name, b"v")]),
            Err(NtStatus::ACCESS_DENIED)
        );
    }
    // Nothing of a refused list was applied.
    assert_eq!(f.list_eas().unwrap(), vec![]);
}

#[test]
fn too_large_and_switched_off() {
    let (tmp, share) = share(ShareOptions::default());
    if !xattrs_supported(tmp.path()) {
        return;
    }
    let f = open(&share, "f", Disposition::Create).unwrap();
    let big = vec![7u8; 40_000];
    assert_eq!(
        f.set_eas(&[(b"a", &big), (b"b", &big)]),
        Err(NtStatus::EA_TOO_LARGE)
    );
    let (tmp, off) = crate::testutil::share(ShareOptions {
        ea_support: false,
        ..ShareOptions::default()
    });
    let f = open(&off, "f", Disposition::Create).unwrap();
    assert_eq!(f.set_eas(&[(b"a", b"1")]), Err(NtStatus::EAS_NOT_SUPPORTED));
    assert_eq!(f.list_eas(), Err(NtStatus::EAS_NOT_SUPPORTED));
    assert_eq!(f.ea_size(), 0);
    assert_eq!(raw(&tmp.path().join("f"), "user.a"), None);
}
