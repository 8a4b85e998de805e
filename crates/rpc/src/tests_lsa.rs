//! lsarpc tests: requests laid out from the MS-LSAD / MS-LSAT IDL with the crate's encoder, answers decoded field
//! by field.

use crate::sid::RpcSid;
use std::sync::Arc;

use proptest::prelude::*;

use crate::ndr::{Decoder, Encoder};
use crate::tests::{bind, call, TestProvider};
use crate::{open_pipe, Pipe, Sid};

pub(crate) const LSA_UUID: [u8; 16] = [
    0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
];
const DOMAIN: &str = "S-1-5-21-1-2-3";
const SOME_NOT_MAPPED: u32 = 0x107;
const NONE_MAPPED: u32 = 0xC000_0073;
const INVALID_HANDLE: u32 = 0xC000_0008;

/// A pipe opened with `provider` and bound to `uuid` / `version`.
pub(crate) fn bound_pipe(name: &str, provider: TestProvider, uuid: [u8; 16], version: u32) -> Pipe {
    let mut pipe = open_pipe(name, Arc::new(provider)).unwrap();
    bind(&mut pipe, uuid, version);
    pipe
}

fn lsa_pipe() -> Pipe {
    bound_pipe("lsarpc", TestProvider::new(vec![]), LSA_UUID, 0)
}

/// The NTSTATUS at the end of a response stub.
pub(crate) fn status(stub: &[u8]) -> u32 {
    u32::from_le_bytes(stub[stub.len() - 4..].try_into().unwrap())
}

/// The 20-byte handle at the start of `stub` (or after `skip` bytes).
pub(crate) fn handle_at(stub: &[u8], skip: usize) -> [u8; 20] {
    stub[skip..skip + 20].try_into().unwrap()
}

pub(crate) fn sid(text: &str) -> Sid {
    Sid::parse(text).unwrap()
}

/// LsarOpenPolicy2: SystemName "\\RSMBD", object attributes (length 24, all null but a quality of service),
/// access mask.
fn open_policy2_stub() -> Vec<u8> {
    let mut e = Encoder::new();
    e.referent();
    e.string("\\\\RSMBD");
    e.u32(24);
    e.null();
    e.null();
    e.u32(0);
    e.null();
    e.referent();
    e.u32(12);
    e.u16(2);
    e.u8(1);
    e.u8(0);
    e.u32(0x0200_0000);
    e.into_bytes()
}

fn open_policy(pipe: &mut Pipe) -> [u8; 20] {
    let out = call(pipe, 44, &open_policy2_stub()).unwrap();
    assert_eq!(out.len(), 24);
    assert_eq!(status(&out), 0);
    assert_ne!(handle_at(&out, 0), [0; 20]);
    handle_at(&out, 0)
}

fn handle_and(handle: &[u8; 20], rest: &[u8]) -> Vec<u8> {
    [&handle[..], rest].concat()
}

/// Reads an RPC_UNICODE_STRING header and body that follow each other.
fn unicode(d: &mut Decoder<'_>) -> String {
    d.unicode().unwrap()
}

#[test]
fn open_policy_and_close() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    // LsarOpenPolicy: a single-character SystemName, no quality of service.
    let mut e = Encoder::new();
    e.referent();
    e.u16(u16::from(b'\\'));
    for v in [24u32, 0, 0, 0, 0, 0, 1] {
        e.u32(v);
    }
    let out = call(&mut pipe, 6, &e.into_bytes()).unwrap();
    assert_eq!(status(&out), 0);
    assert_ne!(handle_at(&out, 0), handle);
    // LsarClose answers the null handle; the handle is then unknown.
    let out = call(&mut pipe, 0, &handle).unwrap();
    assert_eq!(out, [[0u8; 20].as_slice(), &[0; 4]].concat());
    // Closing it again faults as a stale context handle does (RPC_SS_CONTEXT_MISMATCH).
    assert_eq!(call(&mut pipe, 0, &handle), Err(0x1c00_001a));
    let out = call(&mut pipe, 7, &handle_and(&handle, &[3, 0])).unwrap();
    assert_eq!(out, [0, 0, 0, 0, 8, 0, 0, 0xC0]);
}

#[test]
fn object_attributes_with_a_root_directory_are_refused() {
    let mut pipe = lsa_pipe();
    let mut e = Encoder::new();
    e.null();
    for v in [24u32, 0x20000, 0, 0, 0, 0] {
        e.u32(v);
    }
    let out = call(&mut pipe, 44, &e.into_bytes()).unwrap();
    assert_eq!(handle_at(&out, 0), [0; 20]);
    assert_eq!(status(&out), 0xC000_000D);
}

#[test]
fn policy_handles_are_bounded() {
    let mut pipe = lsa_pipe();
    let handles: Vec<[u8; 20]> = (0..64).map(|_| open_policy(&mut pipe)).collect();
    let out = call(&mut pipe, 44, &open_policy2_stub()).unwrap();
    assert_eq!((handle_at(&out, 0), status(&out)), ([0; 20], 0xC000_009A));
    call(&mut pipe, 0, &handles[10]).unwrap();
    open_policy(&mut pipe);
}

#[test]
fn query_information_policy_levels() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    for opnum in [7, 46] {
        // PolicyPrimaryDomainInformation: the workgroup, no SID.
        let out = call(&mut pipe, opnum, &handle_and(&handle, &[3, 0])).unwrap();
        let mut d = Decoder::new(&out);
        assert!(d.unique().unwrap().is_some());
        assert_eq!(d.u16().unwrap(), 3);
        let present = d.unicode_header().unwrap();
        assert_eq!(d.unique().unwrap(), None);
        assert_eq!(d.unicode_body(present).unwrap(), "WORKGROUP");
        assert_eq!(d.u32().unwrap(), 0);
        assert_eq!(d.remaining(), 0);
    }
    // PolicyAccountDomainInformation: the NetBIOS name and the machine SID.
    let out = call(&mut pipe, 7, &handle_and(&handle, &[5, 0])).unwrap();
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    assert_eq!(d.u16().unwrap(), 5);
    let present = d.unicode_header().unwrap();
    assert!(d.unique().unwrap().is_some());
    assert_eq!(d.unicode_body(present).unwrap(), "RSMBD");
    assert_eq!(Sid::decode(&mut d).unwrap(), sid(DOMAIN));
    assert_eq!(d.u32().unwrap(), 0);
    // PolicyDnsDomainInformation: name, empty DNS names, zero GUID, no SID.
    let out = call(&mut pipe, 46, &handle_and(&handle, &[12, 0])).unwrap();
    let mut d = Decoder::new(&out);
    d.unique().unwrap();
    assert_eq!(d.u16().unwrap(), 12);
    let headers: Vec<bool> = (0..3).map(|_| d.unicode_header().unwrap()).collect();
    assert_eq!(d.bytes(16).unwrap(), &[0; 16]);
    assert_eq!(d.unique().unwrap(), None);
    let names: Vec<String> = headers
        .into_iter()
        .map(|p| d.unicode_body(p).unwrap())
        .collect();
    assert_eq!(names, ["WORKGROUP", "", ""]);
    assert_eq!(d.u32().unwrap(), 0);
    // An unsupported class.
    let out = call(&mut pipe, 7, &handle_and(&handle, &[1, 0])).unwrap();
    assert_eq!(out, [0, 0, 0, 0, 0x0d, 0, 0, 0xC0]);
}

/// A lookup-names stub: [handle], Count, Names, empty translations, level, mapped count, [options, revision].
fn lookup_names_stub(handle: Option<&[u8; 20]>, names: &[&str], extended: bool) -> Vec<u8> {
    let mut e = Encoder::new();
    if let Some(h) = handle {
        e.bytes(h);
    }
    e.u32(names.len() as u32);
    e.u32(names.len() as u32);
    for n in names {
        let len = (n.encode_utf16().count() * 2) as u16;
        e.u16(len);
        e.u16(len);
        e.referent();
    }
    for n in names {
        let units: Vec<u16> = n.encode_utf16().collect();
        for v in [units.len() as u32, 0, units.len() as u32] {
            e.u32(v);
        }
        for u in units {
            e.u16(u);
        }
    }
    e.u32(0);
    e.null();
    e.u16(1);
    e.u32(0);
    if extended {
        e.u32(0);
        e.u32(2);
    }
    e.into_bytes()
}

/// Decodes a referenced domain list: (name, SID) pairs.
fn referenced_domains(d: &mut Decoder<'_>) -> Vec<(String, Sid)> {
    assert!(d.unique().unwrap().is_some());
    let count = d.u32().unwrap() as usize;
    let array = d.unique().unwrap();
    assert_eq!(d.u32().unwrap() as usize, count);
    if array.is_none() {
        assert_eq!(count, 0);
        return vec![];
    }
    assert_eq!(d.conformance(12).unwrap(), count);
    let headers: Vec<bool> = (0..count)
        .map(|_| {
            let p = d.unicode_header().unwrap();
            assert!(d.unique().unwrap().is_some());
            p
        })
        .collect();
    headers
        .into_iter()
        .map(|p| (d.unicode_body(p).unwrap(), Sid::decode(d).unwrap()))
        .collect()
}

#[test]
fn lookup_names_translates_users_aliases_and_domains() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    let names = [
        "alice",
        "rsmbd\\BOB",
        "Administrators",
        "nobody",
        "RSMBD",
        "None",
        "Administrator",
        "WORKGROUP\\alice",
    ];
    let out = call(
        &mut pipe,
        14,
        &lookup_names_stub(Some(&handle), &names, false),
    )
    .unwrap();
    let mut d = Decoder::new(&out);
    let domains = referenced_domains(&mut d);
    assert_eq!(
        domains,
        vec![
            ("RSMBD".to_string(), sid(DOMAIN)),
            ("BUILTIN".to_string(), sid("S-1-5-32"))
        ]
    );
    assert_eq!(d.u32().unwrap(), 8);
    assert!(d.unique().unwrap().is_some());
    assert_eq!(d.conformance(12).unwrap(), 8);
    let entries: Vec<(u16, u32, u32)> = (0..8)
        .map(|_| (d.u16().unwrap(), d.u32().unwrap(), d.u32().unwrap()))
        .collect();
    assert_eq!(
        entries,
        vec![
            (1, 3000, 0),
            (1, 3002, 0),
            (4, 544, 1),
            (8, 0, u32::MAX),
            (3, 0, 0),
            (2, 513, 0),
            (1, 500, 0),
            (8, 0, u32::MAX),
        ]
    );
    assert_eq!(d.u32().unwrap(), 6);
    assert_eq!(d.u32().unwrap(), SOME_NOT_MAPPED);
    assert_eq!(d.remaining(), 0);

    let out = call(
        &mut pipe,
        14,
        &lookup_names_stub(Some(&handle), &["x", "y"], false),
    )
    .unwrap();
    assert_eq!(status(&out), NONE_MAPPED);
    let out = call(
        &mut pipe,
        14,
        &lookup_names_stub(Some(&handle), &["root"], false),
    )
    .unwrap();
    assert_eq!(status(&out), 0);
    let out = call(
        &mut pipe,
        14,
        &lookup_names_stub(Some(&[7; 20]), &["root"], false),
    )
    .unwrap();
    assert_eq!(
        out,
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0xC0]
    );
}

#[test]
fn lookup_names3_and_4_return_sids() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    for (opnum, h) in [(68, Some(&handle)), (77, None)] {
        let stub = lookup_names_stub(h, &["ALICE", "Users", "ghost"], true);
        let out = call(&mut pipe, opnum, &stub).unwrap();
        let mut d = Decoder::new(&out);
        assert_eq!(referenced_domains(&mut d).len(), 2);
        assert_eq!(d.u32().unwrap(), 3);
        d.unique().unwrap();
        assert_eq!(d.conformance(16).unwrap(), 3);
        let mut inline = vec![];
        for _ in 0..3 {
            let kind = d.u16().unwrap();
            let has_sid = d.unique().unwrap().is_some();
            inline.push((kind, has_sid, d.u32().unwrap(), d.u32().unwrap()));
        }
        assert_eq!(
            inline,
            vec![(1, true, 0, 0), (4, true, 1, 0), (8, false, u32::MAX, 0)]
        );
        assert_eq!(Sid::decode(&mut d).unwrap(), sid("S-1-5-21-1-2-3-3000"));
        assert_eq!(Sid::decode(&mut d).unwrap(), sid("S-1-5-32-545"));
        assert_eq!(d.u32().unwrap(), 2);
        assert_eq!(d.u32().unwrap(), SOME_NOT_MAPPED);
    }
}

/// A lookup-SIDs stub: [handle], the SID enumeration buffer, empty names, level, mapped count, [options, revision].
fn lookup_sids_stub(handle: Option<&[u8; 20]>, sids: &[Sid], extended: bool) -> Vec<u8> {
    let mut e = Encoder::new();
    if let Some(h) = handle {
        e.bytes(h);
    }
    e.u32(sids.len() as u32);
    e.referent();
    e.u32(sids.len() as u32);
    for _ in sids {
        e.referent();
    }
    for s in sids {
        s.encode(&mut e);
    }
    e.u32(0);
    e.null();
    e.u16(1);
    e.u32(0);
    if extended {
        e.u32(0);
        e.u32(2);
    }
    e.into_bytes()
}

/// Decodes translated names: (use, name, domain index).
fn translated_names(d: &mut Decoder<'_>, extended: bool) -> Vec<(u16, String, u32)> {
    let count = d.u32().unwrap() as usize;
    d.unique().unwrap();
    assert_eq!(d.conformance(16).unwrap(), count);
    let inline: Vec<(u16, bool, u32)> = (0..count)
        .map(|_| {
            let kind = d.u16().unwrap();
            let present = d.unicode_header().unwrap();
            let index = d.u32().unwrap();
            if extended {
                assert_eq!(d.u32().unwrap(), 0);
            }
            (kind, present, index)
        })
        .collect();
    inline
        .into_iter()
        .map(|(k, p, i)| (k, d.unicode_body(p).unwrap(), i))
        .collect()
}

#[test]
fn lookup_sids_all_forms() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    let sids = [
        sid("S-1-5-21-1-2-3-1000"),
        sid("S-1-5-32-544"),
        sid("S-1-5-21-1-2-3-513"),
        sid("S-1-5-21-1-2-3-500"),
        sid("S-1-5-21-1-2-3-9999"),
        sid("S-1-5-21-9-9-9-1000"),
        sid(DOMAIN),
    ];
    for (opnum, h, extended) in [
        (15, Some(&handle), false),
        (57, Some(&handle), true),
        (76, None, true),
    ] {
        let out = call(&mut pipe, opnum, &lookup_sids_stub(h, &sids, extended)).unwrap();
        let mut d = Decoder::new(&out);
        let domains = referenced_domains(&mut d);
        assert_eq!(domains[0], ("RSMBD".to_string(), sid(DOMAIN)));
        assert_eq!(domains[1], ("BUILTIN".to_string(), sid("S-1-5-32")));
        let names = translated_names(&mut d, extended);
        assert_eq!(
            names,
            vec![
                (1, "root".to_string(), 0),
                (4, "Administrators".to_string(), 1),
                (2, "None".to_string(), 0),
                (1, "Administrator".to_string(), 0),
                (8, "S-1-5-21-1-2-3-9999".to_string(), 0),
                (8, "S-1-5-21-9-9-9-1000".to_string(), u32::MAX),
                (3, "RSMBD".to_string(), 0),
            ],
            "opnum {opnum}"
        );
        assert_eq!(d.u32().unwrap(), 5);
        assert_eq!(d.u32().unwrap(), SOME_NOT_MAPPED);
        assert_eq!(d.remaining(), 0);
    }
    let out = call(
        &mut pipe,
        15,
        &lookup_sids_stub(Some(&handle), &[sid("S-1-2-0")], false),
    )
    .unwrap();
    let mut d = Decoder::new(&out);
    assert!(referenced_domains(&mut d).is_empty());
    assert_eq!(
        translated_names(&mut d, false),
        vec![(8, "S-1-2-0".to_string(), u32::MAX)]
    );
    assert_eq!(status(&out), NONE_MAPPED);
    let out = call(
        &mut pipe,
        57,
        &lookup_sids_stub(Some(&[1; 20]), &sids, true),
    )
    .unwrap();
    assert_eq!(status(&out), INVALID_HANDLE);
}

/// The SIDs security descriptors hold: well-known principals, Samba's Unix User and Unix Group domains.
#[test]
fn lookup_sids_of_security_descriptors() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    let sids = [
        sid("S-1-1-0"),
        sid("S-1-3-0"),
        sid("S-1-5-11"),
        sid("S-1-5-18"),
        sid("S-1-22-1-1000"),
        sid("S-1-22-1-4242"),
        sid("S-1-22-2-100"),
    ];
    let out = call(
        &mut pipe,
        15,
        &lookup_sids_stub(Some(&handle), &sids, false),
    )
    .unwrap();
    let mut d = Decoder::new(&out);
    assert_eq!(
        referenced_domains(&mut d),
        vec![
            (String::new(), sid("S-1-1")),
            (String::new(), sid("S-1-3")),
            ("NT AUTHORITY".to_string(), sid("S-1-5")),
            ("Unix User".to_string(), sid("S-1-22-1")),
            ("Unix Group".to_string(), sid("S-1-22-2")),
        ]
    );
    assert_eq!(
        translated_names(&mut d, false),
        vec![
            (5, "Everyone".to_string(), 0),
            (5, "CREATOR OWNER".to_string(), 1),
            (5, "Authenticated Users".to_string(), 2),
            (5, "SYSTEM".to_string(), 2),
            (1, "alice".to_string(), 3),
            (8, "S-1-22-1-4242".to_string(), 3),
            (8, "S-1-22-2-100".to_string(), 4),
        ]
    );
    assert_eq!(d.u32().unwrap(), 5);
    assert_eq!(d.u32().unwrap(), SOME_NOT_MAPPED);
    // And back: well-known and Unix User names translate to those SIDs.
    let names = ["Everyone", "NT AUTHORITY\\SYSTEM", "Unix User\\alice"];
    let out = call(
        &mut pipe,
        68,
        &lookup_names_stub(Some(&handle), &names, true),
    )
    .unwrap();
    assert_eq!(status(&out), 0);
}

#[test]
fn get_user_name() {
    let stub = {
        let mut e = Encoder::new();
        e.null();
        e.null();
        e.referent();
        e.null();
        e.into_bytes()
    };
    let mut pipe = lsa_pipe();
    assert_eq!(
        call(&mut pipe, 45, &stub).unwrap(),
        [le(0), le(0x20000), le(0), le(0xC000_0022)].concat()
    );
    let mut provider = TestProvider::new(vec![]);
    provider.caller = Some("alice".into());
    let mut pipe = bound_pipe("lsass", provider, LSA_UUID, 0);
    let out = call(&mut pipe, 45, &stub).unwrap();
    let mut d = Decoder::new(&out);
    assert!(d.unique().unwrap().is_some());
    assert_eq!(unicode(&mut d), "alice");
    assert!(d.unique().unwrap().is_some());
    assert!(d.unique().unwrap().is_some());
    assert_eq!(unicode(&mut d), "RSMBD");
    assert_eq!(d.u32().unwrap(), 0);
    assert_eq!(d.remaining(), 0);
}

fn le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

#[test]
fn malformed_lsa_stubs_fault() {
    let mut pipe = lsa_pipe();
    let handle = open_policy(&mut pipe);
    // A SID count above the conformance, names over the 1000 limit, a truncated policy stub, non-empty
    // translations on input.
    let mut bad = lookup_sids_stub(Some(&handle), &[sid(DOMAIN)], false);
    bad[20] = 2;
    assert_eq!(call(&mut pipe, 15, &bad), Err(0x6f7));
    let mut bad = lookup_names_stub(Some(&handle), &["a"], false);
    bad[20..24].copy_from_slice(&le(1001));
    assert_eq!(call(&mut pipe, 14, &bad), Err(0x6f7));
    assert_eq!(call(&mut pipe, 44, &open_policy2_stub()[..30]), Err(0x6f7));
    let mut bad = lookup_names_stub(None, &["a"], true);
    let at = bad.len() - 20;
    bad[at..at + 4].copy_from_slice(&le(0x20000));
    assert_eq!(call(&mut pipe, 77, &bad), Err(0x6f7));
    assert_eq!(call(&mut pipe, 99, &[]), Err(0x1c01_0002));
}

proptest! {
    #[test]
    fn arbitrary_lsa_stubs_never_panic(
        opnum in prop_oneof![Just(0u16), Just(6), Just(7), Just(14), Just(15), Just(44), Just(45), Just(46), Just(57), Just(68), Just(76), Just(77)],
        with_handle in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut pipe = lsa_pipe();
        let stub = if with_handle { handle_and(&open_policy(&mut pipe), &tail) } else { tail };
        let _ = call(&mut pipe, opnum, &stub);
        prop_assert!(call(&mut pipe, 44, &open_policy2_stub()).is_ok());
    }
}
