//! samr tests: requests laid out from the MS-SAMR IDL with the crate's encoder, answers decoded field by field.

use crate::sid::RpcSid;
use proptest::prelude::*;

use crate::ndr::{Decoder, Encoder};
use crate::tests::{call, TestProvider};
use crate::tests_lsa::{bound_pipe, handle_at, sid, status};
use crate::{Pipe, Sid};

const SAMR_UUID: [u8; 16] = [
    0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac,
];
const INVALID_HANDLE: u32 = 0xC000_0008;
type Handle = [u8; 20];

fn samr_pipe() -> Pipe {
    bound_pipe("samr", TestProvider::new(vec![]), SAMR_UUID, 1)
}

fn with(handle: &Handle, build: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut e = Encoder::new();
    e.bytes(handle);
    build(&mut e);
    e.into_bytes()
}

/// SamrConnect5 with revision info version 1.
fn connect5(pipe: &mut Pipe) -> Handle {
    let mut e = Encoder::new();
    e.referent();
    e.string("\\\\RSMBD");
    for v in [0x0200_0000u32, 1, 1, 3, 0] {
        e.u32(v);
    }
    let out = call(pipe, 64, &e.into_bytes()).unwrap();
    assert_eq!(
        &out[..16],
        &[1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!((out.len(), status(&out)), (40, 0));
    handle_at(&out, 16)
}

fn open_domain(pipe: &mut Pipe, server: &Handle, domain: &Sid) -> Vec<u8> {
    call(
        pipe,
        7,
        &with(server, |e| {
            e.u32(0x0200_0000);
            domain.encode(e);
        }),
    )
    .unwrap()
}

fn account_domain(pipe: &mut Pipe) -> Handle {
    let server = connect5(pipe);
    let out = open_domain(pipe, &server, &sid("S-1-5-21-1-2-3"));
    assert_eq!(status(&out), 0);
    handle_at(&out, 0)
}

fn open_user(pipe: &mut Pipe, domain: &Handle, rid: u32) -> Vec<u8> {
    call(
        pipe,
        34,
        &with(domain, |e| {
            e.u32(0x0200_0000);
            e.u32(rid);
        }),
    )
    .unwrap()
}

#[test]
fn other_connects() {
    let mut pipe = samr_pipe();
    let mut e = Encoder::new();
    e.referent();
    e.u16(u16::from(b'\\'));
    e.u32(0x0200_0000);
    let out = call(&mut pipe, 0, &e.into_bytes()).unwrap();
    assert_eq!((out.len(), status(&out)), (24, 0));
    let mut e = Encoder::new();
    e.null();
    e.u32(0x0200_0000);
    assert_eq!(status(&call(&mut pipe, 57, &e.into_bytes()).unwrap()), 0);
    let mut e = Encoder::new();
    e.null();
    e.u32(2);
    e.u32(0x0200_0000);
    let out = call(&mut pipe, 62, &e.into_bytes()).unwrap();
    assert_eq!((out.len(), status(&out)), (24, 0));
    // SamrConnect5 with an unknown revision info version faults.
    let mut e = Encoder::new();
    e.null();
    for v in [0x0200_0000u32, 2, 2, 3, 0] {
        e.u32(v);
    }
    assert_eq!(call(&mut pipe, 64, &e.into_bytes()), Err(0x6f7));
}

/// Decodes an enumeration answer: (context, entries, count returned, status).
fn enumeration(out: &[u8]) -> (u32, Vec<(u32, String)>, u32, u32) {
    let mut d = Decoder::new(out);
    let context = d.u32().unwrap();
    assert!(d.unique().unwrap().is_some());
    let count = d.u32().unwrap() as usize;
    let mut entries = vec![];
    if d.unique().unwrap().is_some() {
        assert_eq!(d.conformance(12).unwrap(), count);
        let inline: Vec<(u32, bool)> = (0..count)
            .map(|_| (d.u32().unwrap(), d.unicode_header().unwrap()))
            .collect();
        entries = inline
            .into_iter()
            .map(|(rid, p)| (rid, d.unicode_body(p).unwrap()))
            .collect();
    }
    let returned = d.u32().unwrap();
    let status = d.u32().unwrap();
    assert_eq!(d.remaining(), 0);
    (context, entries, returned, status)
}

#[test]
fn domains_lookup_enumerate_and_open() {
    let mut pipe = samr_pipe();
    let server = connect5(&mut pipe);
    let out = call(
        &mut pipe,
        6,
        &with(&server, |e| {
            e.u32(0);
            e.u32(0xffff);
        }),
    )
    .unwrap();
    assert_eq!(
        enumeration(&out),
        (2, vec![(0, "RSMBD".into()), (0, "Builtin".into())], 2, 0)
    );
    for (name, want) in [
        ("rsmbd", Some("S-1-5-21-1-2-3")),
        ("BUILTIN", Some("S-1-5-32")),
        ("OTHER", None),
    ] {
        let out = call(
            &mut pipe,
            5,
            &with(&server, |e| {
                let len = (name.len() * 2) as u16;
                e.u16(len);
                e.u16(len);
                e.referent();
                e.u32(name.len() as u32);
                e.u32(0);
                e.u32(name.len() as u32);
                for u in name.encode_utf16() {
                    e.u16(u);
                }
            }),
        )
        .unwrap();
        let mut d = Decoder::new(&out);
        match want {
            Some(text) => {
                assert!(d.unique().unwrap().is_some());
                assert_eq!(Sid::decode(&mut d).unwrap(), sid(text));
                assert_eq!(d.u32().unwrap(), 0);
            }
            None => assert_eq!(out, [0, 0, 0, 0, 0xdf, 0, 0, 0xC0]),
        }
    }
    let out = open_domain(&mut pipe, &server, &sid("S-1-5-21-9-9-9"));
    assert_eq!((handle_at(&out, 0), status(&out)), ([0; 20], 0xC000_00DF));
    let builtin = handle_at(&open_domain(&mut pipe, &server, &sid("S-1-5-32")), 0);
    // A domain handle is not a server handle.
    assert_eq!(
        status(&open_domain(&mut pipe, &builtin, &sid("S-1-5-32"))),
        INVALID_HANDLE
    );
    // Builtin has no users.
    let out = call(
        &mut pipe,
        13,
        &with(&builtin, |e| {
            e.u32(0);
            e.u32(0);
            e.u32(0xffff);
        }),
    )
    .unwrap();
    assert_eq!(enumeration(&out), (0, vec![], 0, 0));
    assert_eq!(status(&open_user(&mut pipe, &builtin, 3000)), 0xC000_0064);
}

fn query_domain(pipe: &mut Pipe, domain: &Handle, opnum: u16, class: u16) -> Vec<u8> {
    call(pipe, opnum, &with(domain, |e| e.u16(class))).unwrap()
}

#[test]
fn query_information_domain_levels() {
    let mut pipe = samr_pipe();
    let domain = account_domain(&mut pipe);
    // 1: DOMAIN_PASSWORD_INFORMATION, aligned to 4 after the discriminant.
    let out = query_domain(&mut pipe, &domain, 8, 1);
    assert_eq!(
        out,
        [
            &[0, 0, 2, 0, 1, 0, 0, 0][..],
            &[0; 8],
            &[0, 0, 0, 0, 0, 0, 0, 0x80],
            &[0; 8],
            &[0; 4]
        ]
        .concat()
    );
    // 2: SAMPR_DOMAIN_GENERAL_INFORMATION.
    for opnum in [8, 46] {
        let out = query_domain(&mut pipe, &domain, opnum, 2);
        let mut d = Decoder::new(&out);
        d.unique().unwrap();
        assert_eq!(d.u16().unwrap(), 2);
        assert_eq!([d.u32().unwrap(), d.u32().unwrap()], [0, 0x8000_0000]);
        let headers: Vec<bool> = (0..3).map(|_| d.unicode_header().unwrap()).collect();
        assert_eq!([d.u32().unwrap(), d.u32().unwrap()], [1, 0]);
        assert_eq!([d.u32().unwrap(), d.u32().unwrap()], [1, 3]);
        assert_eq!(d.u8().unwrap(), 0);
        assert_eq!(
            [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
            [3, 1, 0]
        );
        let names: Vec<String> = headers
            .into_iter()
            .map(|p| d.unicode_body(p).unwrap())
            .collect();
        assert_eq!(names, ["", "RSMBD", ""]);
        assert_eq!(d.u32().unwrap(), 0);
        assert_eq!(d.remaining(), 0);
    }
    assert_eq!(query_domain(&mut pipe, &domain, 8, 3).len(), 4 + 4 + 8 + 4);
    assert_eq!(query_domain(&mut pipe, &domain, 8, 8).len(), 4 + 4 + 16 + 4);
    // 12: hypers, aligned to 8.
    let out = query_domain(&mut pipe, &domain, 8, 12);
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    assert_eq!(d.u16().unwrap(), 12);
    assert_eq!(d.u64().unwrap() as i64, -18_000_000_000);
    assert_eq!(d.u64().unwrap() as i64, -18_000_000_000);
    assert_eq!(d.u16().unwrap(), 0);
    assert_eq!(d.u32().unwrap(), 0);
    assert_eq!(out.len(), 32);
    assert_eq!(
        query_domain(&mut pipe, &domain, 8, 99),
        [0, 0, 0, 0, 3, 0, 0, 0xC0]
    );
    let server = connect5(&mut pipe);
    assert_eq!(
        status(&query_domain(&mut pipe, &server, 8, 2)),
        INVALID_HANDLE
    );
}

fn enumerate_users(
    pipe: &mut Pipe,
    domain: &Handle,
    context: u32,
    filter: u32,
    max: u32,
) -> Vec<u8> {
    call(
        pipe,
        13,
        &with(domain, |e| {
            e.u32(context);
            e.u32(filter);
            e.u32(max);
        }),
    )
    .unwrap()
}

#[test]
fn enumerate_users_filters_and_pages() {
    let mut pipe = samr_pipe();
    let domain = account_domain(&mut pipe);
    let out = enumerate_users(&mut pipe, &domain, 0, 0, 0xffff);
    let all = vec![
        (1000, "root".into()),
        (3000, "alice".into()),
        (3002, "bob".into()),
    ];
    assert_eq!(enumeration(&out), (3, all.clone(), 3, 0));
    let out = enumerate_users(&mut pipe, &domain, 0, 0x1, 0xffff);
    assert_eq!(enumeration(&out), (1, vec![(3002, "bob".into())], 1, 0));
    // One entry per answer: STATUS_MORE_ENTRIES until the last.
    let mut context = 0;
    let mut seen = vec![];
    loop {
        let (next, entries, _, status) =
            enumeration(&enumerate_users(&mut pipe, &domain, context, 0x10, 1));
        seen.extend(entries);
        context = next;
        if status == 0 {
            break;
        }
        assert_eq!(status, 0x105);
    }
    assert_eq!(seen, all);
}

fn lookup_stub(domain: &Handle, names: &[&str]) -> Vec<u8> {
    with(domain, |e| {
        e.u32(names.len() as u32);
        e.u32(1000);
        e.u32(0);
        e.u32(names.len() as u32);
        for n in names {
            let len = (n.len() * 2) as u16;
            e.u16(len);
            e.u16(len);
            e.referent();
        }
        for n in names {
            for v in [n.len() as u32, 0, n.len() as u32] {
                e.u32(v);
            }
            for u in n.encode_utf16() {
                e.u16(u);
            }
        }
    })
}

fn ulong_array(d: &mut Decoder<'_>) -> Vec<u32> {
    let count = d.u32().unwrap() as usize;
    if d.unique().unwrap().is_none() {
        return vec![];
    }
    assert_eq!(d.conformance(4).unwrap(), count);
    (0..count).map(|_| d.u32().unwrap()).collect()
}

#[test]
fn lookup_names_and_ids_in_domain() {
    let mut pipe = samr_pipe();
    let domain = account_domain(&mut pipe);
    let out = call(
        &mut pipe,
        17,
        &lookup_stub(&domain, &["ALICE", "None", "ghost", "Administrator"]),
    )
    .unwrap();
    let mut d = Decoder::new(&out);
    assert_eq!(ulong_array(&mut d), [3000, 513, 0, 500]);
    assert_eq!(ulong_array(&mut d), [1, 2, 8, 1]);
    assert_eq!(d.u32().unwrap(), 0x107);
    let out = call(&mut pipe, 17, &lookup_stub(&domain, &["ghost"])).unwrap();
    assert_eq!(status(&out), 0xC000_0073);

    let rids = [3002u32, 77, 513];
    let stub = with(&domain, |e| {
        for v in [3, 1000, 0, 3] {
            e.u32(v);
        }
        for r in rids {
            e.u32(r);
        }
    });
    let out = call(&mut pipe, 18, &stub).unwrap();
    let mut d = Decoder::new(&out);
    assert_eq!(d.u32().unwrap(), 3);
    d.unique().unwrap();
    assert_eq!(d.conformance(8).unwrap(), 3);
    let names = d.unicode_array(3).unwrap();
    assert_eq!(names, ["bob", "", "None"]);
    assert_eq!(ulong_array(&mut d), [1, 8, 2]);
    assert_eq!(d.u32().unwrap(), 0x107);
    // More than 1000 entries is a stub error.
    let mut bad = stub.clone();
    bad[20..24].copy_from_slice(&1001u32.to_le_bytes());
    assert_eq!(call(&mut pipe, 18, &bad), Err(0x6f7));
}

fn query_user(pipe: &mut Pipe, user: &Handle, class: u16) -> Vec<u8> {
    call(pipe, 36, &with(user, |e| e.u16(class))).unwrap()
}

#[test]
fn users_open_query_groups_and_close() {
    let mut pipe = samr_pipe();
    let domain = account_domain(&mut pipe);
    assert_eq!(status(&open_user(&mut pipe, &domain, 500)), 0xC000_0064);
    let out = open_user(&mut pipe, &domain, 3002);
    assert_eq!(status(&out), 0);
    let bob = handle_at(&out, 0);
    // 16: account control, disabled normal account.
    assert_eq!(
        query_user(&mut pipe, &bob, 16),
        [&[0, 0, 2, 0, 16, 0, 0, 0][..], &[0x11, 0, 0, 0], &[0; 4]].concat()
    );
    // 1: name, full name, primary group, comments.
    let out = query_user(&mut pipe, &bob, 1);
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    assert_eq!(d.u16().unwrap(), 1);
    let h: Vec<bool> = (0..2).map(|_| d.unicode_header().unwrap()).collect();
    assert_eq!(d.u32().unwrap(), 513);
    let h2: Vec<bool> = (0..2).map(|_| d.unicode_header().unwrap()).collect();
    let strings: Vec<String> = h
        .into_iter()
        .chain(h2)
        .map(|p| d.unicode_body(p).unwrap())
        .collect();
    assert_eq!(strings, ["bob", "", "", ""]);
    assert_eq!(d.u32().unwrap(), 0);
    // 2, 3, 5: sizes follow the structure layouts (4 pointer + 4 discriminant and padding + members + strings
    // + status).
    assert_eq!(query_user(&mut pipe, &bob, 2).len(), 8 + 20 + 24 + 4);
    let out = query_user(&mut pipe, &bob, 3);
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    assert_eq!(d.u16().unwrap(), 3);
    let name = d.unicode_header().unwrap();
    d.unicode_header().unwrap();
    assert_eq!([d.u32().unwrap(), d.u32().unwrap()], [3002, 513]);
    for _ in 0..5 {
        d.unicode_header().unwrap();
    }
    let times: Vec<u32> = (0..10).map(|_| d.u32().unwrap()).collect();
    assert_eq!(&times[8..], &[0xffff_ffff, 0x7fff_ffff]);
    assert_eq!(d.u16().unwrap(), 0);
    assert_eq!(d.unique().unwrap(), None);
    assert_eq!([d.u16().unwrap(), d.u16().unwrap()], [0, 0]);
    assert_eq!(d.u32().unwrap(), 0x11);
    assert_eq!(d.unicode_body(name).unwrap(), "bob");
    let out = query_user(&mut pipe, &bob, 5);
    assert_eq!(status(&out), 0);
    // 21: USER_ALL_INFORMATION.
    let out = call(&mut pipe, 47, &with(&bob, |e| e.u16(21))).unwrap();
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    assert_eq!(d.u16().unwrap(), 21);
    let times: Vec<u32> = (0..12).map(|_| d.u32().unwrap()).collect();
    assert_eq!(&times[10..], &[0xffff_ffff, 0x7fff_ffff]);
    let name = d.unicode_header().unwrap();
    for _ in 0..9 {
        d.unicode_header().unwrap();
    }
    for _ in 0..2 {
        assert_eq!([d.u16().unwrap(), d.u16().unwrap()], [0, 0]);
        assert_eq!(d.unique().unwrap(), None);
    }
    d.unicode_header().unwrap();
    assert_eq!(d.u32().unwrap(), 0);
    assert_eq!(d.unique().unwrap(), None);
    let ids: Vec<u32> = (0..4).map(|_| d.u32().unwrap()).collect();
    assert_eq!(ids, [3002, 513, 0x11, 0x0010_000f]);
    assert_eq!(d.u16().unwrap(), 0);
    assert_eq!(d.unique().unwrap(), None);
    for _ in 0..4 {
        assert_eq!(d.u16().unwrap(), 0);
    }
    assert_eq!(d.bytes(4).unwrap(), &[0; 4]);
    assert_eq!(d.unicode_body(name).unwrap(), "bob");
    assert_eq!(query_user(&mut pipe, &bob, 7), [0, 0, 0, 0, 3, 0, 0, 0xC0]);
    // Groups: 513 with mandatory / enabled attributes.
    let out = call(&mut pipe, 39, &bob).unwrap();
    assert_eq!(
        out,
        [0x20000u32, 1, 0x20004, 1, 513, 7, 0]
            .map(u32::to_le_bytes)
            .concat()
    );
    // A domain handle is not a user handle; a closed user handle is unknown.
    assert_eq!(status(&query_user(&mut pipe, &domain, 1)), INVALID_HANDLE);
    assert_eq!(call(&mut pipe, 1, &bob).unwrap(), [0u8; 24]);
    assert_eq!(status(&query_user(&mut pipe, &bob, 16)), INVALID_HANDLE);
    assert_eq!(
        call(&mut pipe, 39, &bob).unwrap(),
        [0, 0, 0, 0, 8, 0, 0, 0xC0]
    );
    assert_eq!(call(&mut pipe, 1, &bob), Err(0x1c00_001a));
}

#[test]
fn alias_membership_is_empty() {
    let mut pipe = samr_pipe();
    let domain = account_domain(&mut pipe);
    let stub = with(&domain, |e| {
        e.u32(1);
        e.referent();
        e.u32(1);
        e.referent();
        sid("S-1-5-21-1-2-3-3000").encode(e);
    });
    assert_eq!(call(&mut pipe, 16, &stub).unwrap(), [0u8; 12]);
}

#[test]
fn query_security_object() {
    let mut pipe = samr_pipe();
    let domain = account_domain(&mut pipe);
    let bob = handle_at(&open_user(&mut pipe, &domain, 3002), 0);
    let out = call(&mut pipe, 3, &with(&bob, |e| e.u32(7))).unwrap();
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    let len = d.u32().unwrap() as usize;
    d.unique().unwrap();
    assert_eq!(d.conformance(1).unwrap(), len);
    let sd = d.bytes(len).unwrap().to_vec();
    assert_eq!(d.u32().unwrap(), 0);
    let word = |at: usize| u32::from_le_bytes(sd[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&sd[..4], &[1, 0, 0x04, 0x80]);
    let admins = sid("S-1-5-32-544").to_bytes();
    assert_eq!(&sd[word(4)..word(4) + 16], &admins[..]);
    assert_eq!(&sd[word(8)..word(8) + 16], &admins[..]);
    assert_eq!(word(12), 0);
    let acl = &sd[word(16)..];
    // revision 2, size, 2 ACEs: Everyone read, Administrators all.
    assert_eq!(&acl[..2], &[2, 0]);
    assert_eq!(u16::from_le_bytes([acl[2], acl[3]]) as usize, acl.len());
    assert_eq!(&acl[4..6], &[2, 0]);
    assert_eq!(&acl[8..16], &[0, 0, 20, 0, 0x5b, 0x03, 0x02, 0x00]);
    assert_eq!(&acl[16..28], &sid("S-1-1-0").to_bytes()[..]);
    assert_eq!(&acl[28..36], &[0, 0, 24, 0, 0xff, 0x07, 0x0f, 0x00]);
    // Only the DACL.
    let out = call(&mut pipe, 3, &with(&domain, |e| e.u32(4))).unwrap();
    let sd = &out[16..out.len() - 4];
    assert_eq!(&sd[4..16], &[0; 12]);
    assert_eq!(&sd[16..20], &[20, 0, 0, 0]);
    assert_eq!(
        status(&call(&mut pipe, 3, &with(&[9; 20], |e| e.u32(4))).unwrap()),
        INVALID_HANDLE
    );
}

proptest! {
    #[test]
    fn arbitrary_samr_stubs_never_panic(
        opnum in prop_oneof![Just(0u16), Just(1), Just(3), Just(5), Just(6), Just(7), Just(8), Just(13), Just(16), Just(17), Just(18), Just(34), Just(36), Just(39), Just(46), Just(47), Just(57), Just(62), Just(64)],
        kind in 0u8..4,
        tail in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut pipe = samr_pipe();
        let stub = match kind {
            0 => tail,
            1 => [&connect5(&mut pipe)[..], &tail].concat(),
            2 => [&account_domain(&mut pipe)[..], &tail].concat(),
            _ => {
                let domain = account_domain(&mut pipe);
                [&handle_at(&open_user(&mut pipe, &domain, 3000), 0)[..], &tail].concat()
            }
        };
        let _ = call(&mut pipe, opnum, &stub);
        connect5(&mut pipe);
    }
}
