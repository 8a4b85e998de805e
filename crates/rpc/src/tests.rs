//! Whole-pipe tests: PDUs laid out by hand from C706 / MS-RPCE / MS-SRVS / MS-WKST, answers decoded with the
//! crate's own NDR decoder.

use std::sync::Arc;

use proptest::prelude::*;

use crate::ndr::Decoder;
use crate::{
    open_pipe, Pipe, Provider, RpcError, ServerInfo, ShareInfo, ShareKind, Sid, UserInfo,
    MAX_BUFFERED,
};

pub(crate) struct TestProvider {
    pub shares: Vec<ShareInfo>,
    pub users: Vec<UserInfo>,
    pub caller: Option<String>,
}

impl TestProvider {
    pub fn new(shares: Vec<ShareInfo>) -> Self {
        let user = |name: &str, uid, disabled| UserInfo {
            name: name.into(),
            uid,
            disabled,
        };
        TestProvider {
            shares,
            users: vec![
                user("alice", 1000, false),
                user("root", 0, false),
                user("bob", 1001, true),
            ],
            caller: None,
        }
    }
}

impl Provider for TestProvider {
    fn server(&self) -> ServerInfo {
        ServerInfo {
            netbios_name: "RSMBD".into(),
            workgroup: "WORKGROUP".into(),
            comment: "rsmbd server".into(),
            version_major: 10,
            version_minor: 0,
        }
    }
    fn shares(&self) -> Vec<ShareInfo> {
        self.shares.clone()
    }
    fn domain_sid(&self) -> Sid {
        Sid::parse("S-1-5-21-1-2-3").unwrap()
    }
    fn users(&self) -> Vec<UserInfo> {
        self.users.clone()
    }
    fn caller(&self) -> Option<String> {
        self.caller.clone()
    }
}

fn share(name: &str, comment: &str, kind: ShareKind) -> ShareInfo {
    ShareInfo {
        name: name.into(),
        comment: comment.into(),
        kind,
        path: format!("C:\\{name}"),
        max_uses: u32::MAX,
        current_uses: 1,
    }
}

fn standard_shares() -> Vec<ShareInfo> {
    vec![
        share("data", "Data share", ShareKind::Disk),
        share("IPC$", "IPC Service", ShareKind::Ipc),
    ]
}

fn pipe_with(name: &str, shares: Vec<ShareInfo>) -> Pipe {
    open_pipe(name, Arc::new(TestProvider::new(shares))).unwrap()
}

const SRVSVC_UUID: [u8; 16] = [
    0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88,
];
const WKSSVC_UUID: [u8; 16] = [
    0x98, 0xd0, 0xff, 0x6b, 0x12, 0xa1, 0x10, 0x36, 0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a,
];
pub(crate) const NDR_UUID: [u8; 16] = [
    0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
];
const NDR64_UUID: [u8; 16] = [
    0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49, 0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36,
];
const BTFN_UUID: [u8; 16] = [
    0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45, 3, 0, 0, 0, 0, 0, 0, 0,
];

/// The 16-byte common header, little-endian, version 5.0.
pub(crate) fn header(ptype: u8, flags: u8, frag_length: usize, call_id: u32) -> Vec<u8> {
    let mut h = vec![5, 0, ptype, flags, 0x10, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(frag_length).unwrap().to_le_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&call_id.to_le_bytes());
    h
}

/// A proposed context: id, abstract syntax uuid and version, transfer syntaxes (uuid, version).
type Context = (u16, [u8; 16], u32, Vec<([u8; 16], u32)>);

/// A bind (ptype 11) or alter_context (14).
pub(crate) fn bind_pdu(ptype: u8, max_frag: u16, contexts: &[Context]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&max_frag.to_le_bytes());
    body.extend_from_slice(&max_frag.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&[contexts.len() as u8, 0, 0, 0]);
    for (id, uuid, version, transfers) in contexts {
        body.extend_from_slice(&id.to_le_bytes());
        body.extend_from_slice(&[transfers.len() as u8, 0]);
        body.extend_from_slice(uuid);
        body.extend_from_slice(&version.to_le_bytes());
        for (t, v) in transfers {
            body.extend_from_slice(t);
            body.extend_from_slice(&v.to_le_bytes());
        }
    }
    let mut pdu = header(ptype, 3, 16 + body.len(), 1);
    pdu.extend_from_slice(&body);
    pdu
}

fn simple_bind(uuid: [u8; 16], version: u32) -> Vec<u8> {
    bind_pdu(11, 4280, &[(0, uuid, version, vec![(NDR_UUID, 2)])])
}

/// A request (ptype 0) for context 0.
pub(crate) fn request_pdu(call_id: u32, flags: u8, opnum: u16, stub: &[u8]) -> Vec<u8> {
    let mut pdu = header(0, flags, 24 + stub.len(), call_id);
    pdu.extend_from_slice(&u32::try_from(stub.len()).unwrap().to_le_bytes());
    pdu.extend_from_slice(&0u16.to_le_bytes());
    pdu.extend_from_slice(&opnum.to_le_bytes());
    pdu.extend_from_slice(stub);
    pdu
}

/// `[string] wchar_t` pointee: max count, offset, actual count, UTF-16LE with NUL, padded to 4.
fn ndr_string(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
    let n = units.len() as u32;
    let mut b = Vec::new();
    for v in [n, 0, n] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for u in units {
        b.extend_from_slice(&u.to_le_bytes());
    }
    b.resize(b.len().next_multiple_of(4), 0);
    b
}

pub(crate) fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// Unique ServerName "\\RSMBD" as every srvsvc / wkssvc call starts.
fn server_name() -> Vec<u8> {
    let mut b = le32(0x0002_0000).to_vec();
    b.extend(ndr_string("\\\\RSMBD"));
    b
}

/// NetrShareEnum request stub for `level` with an empty container and a resume handle.
fn share_enum_stub(level: u32) -> Vec<u8> {
    let mut b = server_name();
    for v in [level, level, 0x0002_0004, 0, 0, u32::MAX, 0x0002_0008, 0] {
        b.extend(le32(v));
    }
    b
}

fn share_get_info_stub(name: &str, level: u32) -> Vec<u8> {
    let mut b = server_name();
    b.extend(ndr_string(name));
    b.extend(le32(level));
    b
}

fn level_stub(level: u32) -> Vec<u8> {
    let mut b = server_name();
    b.extend(le32(level));
    b
}

pub(crate) fn read_all(pipe: &mut Pipe) -> Vec<Vec<u8>> {
    let mut pdus = Vec::new();
    loop {
        let (data, more) = pipe.read(65536);
        assert!(!more);
        if data.is_empty() {
            return pdus;
        }
        pdus.push(data);
    }
}

/// Binds `pipe` and checks the bind_ack; returns it.
pub(crate) fn bind(pipe: &mut Pipe, uuid: [u8; 16], version: u32) -> Vec<u8> {
    let (ack, more) = pipe.transceive(&simple_bind(uuid, version), 4280).unwrap();
    assert!(!more);
    assert_eq!(ack[2], 12, "bind_ack");
    ack
}

/// One call on a bound pipe: the reassembled response stub, or the fault status.
pub(crate) fn call(pipe: &mut Pipe, opnum: u16, stub: &[u8]) -> Result<Vec<u8>, u32> {
    pipe.write(&request_pdu(7, 3, opnum, stub)).unwrap();
    let pdus = read_all(pipe);
    let mut out = Vec::new();
    for pdu in &pdus {
        assert_eq!(u16::from_le_bytes([pdu[8], pdu[9]]) as usize, pdu.len());
        assert_eq!(
            u32::from_le_bytes(pdu[12..16].try_into().unwrap()),
            7,
            "call id"
        );
        match pdu[2] {
            2 => out.extend_from_slice(&pdu[24..]),
            3 => return Err(u32::from_le_bytes(pdu[24..28].try_into().unwrap())),
            other => panic!("ptype {other}"),
        }
    }
    assert_eq!(pdus.first().unwrap()[3] & 1, 1);
    assert_eq!(pdus.last().unwrap()[3] & 2, 2);
    Ok(out)
}

/// A decoded SHARE_INFO_1.
#[derive(Debug, PartialEq)]
struct Share1 {
    name: String,
    kind: u32,
    remark: String,
}

/// Decodes a NetrShareEnum level 1 answer: (shares, total entries, resume handle, status).
fn decode_share_enum_1(stub: &[u8]) -> (Vec<Share1>, u32, Option<u32>, u32) {
    let mut d = Decoder::new(stub);
    assert_eq!(d.u32().unwrap(), 1);
    assert_eq!(d.u32().unwrap(), 1);
    assert!(d.unique().unwrap().is_some());
    let entries = d.u32().unwrap();
    assert!(d.unique().unwrap().is_some());
    assert_eq!(d.conformance(12).unwrap(), entries as usize);
    let mut inline = Vec::new();
    for _ in 0..entries {
        let name = d.unique().unwrap().is_some();
        let kind = d.u32().unwrap();
        let remark = d.unique().unwrap().is_some();
        assert!(name && remark);
        inline.push(kind);
    }
    let shares = inline
        .into_iter()
        .map(|kind| Share1 {
            name: d.string().unwrap(),
            kind,
            remark: d.string().unwrap(),
        })
        .collect();
    let total = d.u32().unwrap();
    let resume = d.unique().unwrap().map(|_| d.u32().unwrap());
    let status = d.u32().unwrap();
    assert_eq!(d.remaining(), 0);
    (shares, total, resume, status)
}

#[test]
fn open_pipe_names() {
    let provider: Arc<dyn Provider> = Arc::new(TestProvider::new(vec![]));
    for name in ["SRVSVC", "wkssvc", "lsarpc", "LSASS", "samr"] {
        assert!(open_pipe(name, provider.clone()).is_some(), "{name}");
    }
    assert!(open_pipe("netlogon", provider).is_none());
}

#[test]
fn share_type_values() {
    assert_eq!(share("IPC$", "", ShareKind::Ipc).share_type(), 0x8000_0003);
    assert_eq!(share("data", "", ShareKind::Disk).share_type(), 0);
    assert_eq!(share("C$", "", ShareKind::Disk).share_type(), 0x8000_0000);
}

#[test]
fn bind_then_share_enum_level_1() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    let ack = bind(&mut pipe, SRVSVC_UUID, 3);
    // header, max frags 4280/4280, assoc group, "\PIPE\srvsvc" (13 with NUL), pad, one result: accepted NDR v2.
    assert_eq!(u16::from_le_bytes([ack[8], ack[9]]) as usize, ack.len());
    assert_eq!(&ack[16..20], &[0xb8, 0x10, 0xb8, 0x10]);
    assert_ne!(u32::from_le_bytes(ack[20..24].try_into().unwrap()), 0);
    assert_eq!(&ack[24..26], &[13, 0]);
    assert_eq!(&ack[26..39], b"\\PIPE\\srvsvc\0");
    assert_eq!(&ack[40..48], &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&ack[48..64], &NDR_UUID);
    assert_eq!(&ack[64..68], &[2, 0, 0, 0]);

    let stub = call(&mut pipe, 15, &share_enum_stub(1)).unwrap();
    let (shares, total, resume, status) = decode_share_enum_1(&stub);
    assert_eq!(
        shares,
        vec![
            Share1 {
                name: "data".into(),
                kind: 0,
                remark: "Data share".into()
            },
            Share1 {
                name: "IPC$".into(),
                kind: 0x8000_0003,
                remark: "IPC Service".into()
            },
        ]
    );
    assert_eq!((total, resume, status), (2, Some(0), 0));
}

#[test]
fn bind_negotiates_each_context() {
    let mut pipe = pipe_with("srvsvc", vec![]);
    let pdu = bind_pdu(
        11,
        5840,
        &[
            (0, SRVSVC_UUID, 3, vec![(NDR_UUID, 2)]),
            (1, SRVSVC_UUID, 3, vec![(NDR64_UUID, 1)]),
            (2, SRVSVC_UUID, 3, vec![(BTFN_UUID, 1)]),
            (3, WKSSVC_UUID, 1, vec![(NDR_UUID, 2)]),
            (4, SRVSVC_UUID, 4, vec![(NDR_UUID, 2)]),
        ],
    );
    let (ack, _) = pipe.transceive(&pdu, 4280).unwrap();
    assert_eq!(
        &ack[16..20],
        &[0xb8, 0x10, 0xb8, 0x10],
        "min(client 5840, 4280)"
    );
    assert_eq!(ack[40], 5);
    let results: Vec<(u16, u16, [u8; 16])> = (0..5)
        .map(|i| {
            let r = &ack[44 + 24 * i..68 + 24 * i];
            (
                u16::from_le_bytes([r[0], r[1]]),
                u16::from_le_bytes([r[2], r[3]]),
                r[4..20].try_into().unwrap(),
            )
        })
        .collect();
    assert_eq!(results[0], (0, 0, NDR_UUID));
    assert_eq!(results[1], (2, 2, [0; 16]));
    assert_eq!(results[2], (3, 0, [0; 16]));
    assert_eq!(results[3], (2, 1, [0; 16]));
    assert_eq!(results[4], (2, 1, [0; 16]));
    // Context 1 was refused: a call on it faults with nca_s_unk_if.
    let mut req = request_pdu(7, 3, 21, &level_stub(100));
    req[20] = 1;
    let (fault, _) = pipe.transceive(&req, 4280).unwrap();
    assert_eq!((fault[2], &fault[24..28]), (3, &[3, 0, 1, 0x1c][..]));
}

#[test]
fn bind_with_no_acceptable_context_and_alter_context() {
    let mut pipe = pipe_with("wkssvc", vec![]);
    let ack = bind(&mut pipe, SRVSVC_UUID, 3);
    assert_eq!(&ack[26..39], b"\\PIPE\\wkssvc\0");
    assert_eq!(&ack[40..48], &[1, 0, 0, 0, 2, 0, 1, 0]);
    assert_eq!(call(&mut pipe, 0, &level_stub(100)), Err(0x1c01_0003));
    // alter_context adds the right interface; its answer has an empty secondary address.
    let alter = bind_pdu(14, 4280, &[(0, WKSSVC_UUID, 1, vec![(NDR_UUID, 2)])]);
    let (resp, _) = pipe.transceive(&alter, 4280).unwrap();
    assert_eq!(resp[2], 15);
    assert_eq!(&resp[24..28], &[0, 0, 0, 0]);
    assert_eq!(&resp[28..32], &[1, 0, 0, 0]);
    assert_eq!(&resp[32..36], &[0, 0, 0, 0]);
    assert!(call(&mut pipe, 0, &level_stub(100)).is_ok());
    // A second bind is refused with bind_nak.
    let (nak, _) = pipe.transceive(&simple_bind(WKSSVC_UUID, 1), 4280).unwrap();
    assert_eq!(nak[2], 13);
}

#[test]
fn share_enum_other_levels() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    bind(&mut pipe, SRVSVC_UUID, 3);
    // level 2: name, type, remark, permissions, max uses, current uses, path, passwd (null).
    let stub = call(&mut pipe, 15, &share_enum_stub(2)).unwrap();
    let mut d = Decoder::new(&stub);
    assert_eq!([d.u32().unwrap(), d.u32().unwrap()], [2, 2]);
    d.unique().unwrap();
    assert_eq!(d.u32().unwrap(), 2);
    d.unique().unwrap();
    assert_eq!(d.conformance(32).unwrap(), 2);
    d.unique().unwrap();
    assert_eq!(d.u32().unwrap(), 0);
    d.unique().unwrap();
    assert_eq!(
        [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
        [0, u32::MAX, 1]
    );
    assert!(d.unique().unwrap().is_some());
    assert_eq!(d.unique().unwrap(), None);
    for _ in 0..8 {
        d.u32().unwrap();
    }
    for want in [
        "data",
        "Data share",
        "C:\\data",
        "IPC$",
        "IPC Service",
        "C:\\IPC$",
    ] {
        assert_eq!(d.string().unwrap(), want);
    }
    assert_eq!(
        [
            d.u32().unwrap(),
            d.u32().unwrap(),
            d.u32().unwrap(),
            d.u32().unwrap()
        ],
        [2, 0x20020, 0, 0]
    );

    for (level, inline_words) in [(0u32, 1usize), (501, 4), (502, 10)] {
        let stub = call(&mut pipe, 15, &share_enum_stub(level)).unwrap();
        let mut d = Decoder::new(&stub);
        for _ in 0..5 {
            d.u32().unwrap();
        }
        assert_eq!(d.conformance(4).unwrap(), 2);
        for _ in 0..2 * inline_words {
            d.u32().unwrap();
        }
        assert_eq!(d.string().unwrap(), "data", "level {level}");
    }
    // An unknown level: WERR_INVALID_LEVEL.
    let stub = call(&mut pipe, 15, &share_enum_stub(7)).unwrap();
    assert_eq!(&stub[stub.len() - 4..], &le32(124));
}

#[test]
fn share_get_info() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    bind(&mut pipe, SRVSVC_UUID, 3);
    let stub = call(&mut pipe, 16, &share_get_info_stub("ipc$", 1)).unwrap();
    let mut d = Decoder::new(&stub);
    assert_eq!(d.u32().unwrap(), 1);
    assert!(d.unique().unwrap().is_some());
    d.unique().unwrap();
    assert_eq!(d.u32().unwrap(), 0x8000_0003);
    d.unique().unwrap();
    assert_eq!(d.string().unwrap(), "IPC$");
    assert_eq!(d.string().unwrap(), "IPC Service");
    assert_eq!(d.u32().unwrap(), 0);

    let stub = call(&mut pipe, 16, &share_get_info_stub("data", 1005)).unwrap();
    assert_eq!(stub, [le32(1005), le32(0x20000), le32(0), le32(0)].concat());
    let stub = call(&mut pipe, 16, &share_get_info_stub("nothere", 1)).unwrap();
    assert_eq!(stub, [le32(1), le32(0), le32(2310)].concat());
    let stub = call(&mut pipe, 16, &share_get_info_stub("data", 3)).unwrap();
    assert_eq!(stub, [le32(3), le32(0), le32(124)].concat());
}

#[test]
fn share_check_reports_no_shared_device() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    bind(&mut pipe, SRVSVC_UUID, 3);
    let mut stub = server_name();
    stub.extend(ndr_string("C:"));
    let reply = call(&mut pipe, 20, &stub).unwrap();
    assert_eq!(reply, [le32(0), le32(2311)].concat());
}

#[test]
fn server_get_info_levels() {
    let mut pipe = pipe_with("srvsvc", vec![]);
    bind(&mut pipe, SRVSVC_UUID, 3);
    let stub = call(&mut pipe, 21, &level_stub(101)).unwrap();
    let mut d = Decoder::new(&stub);
    assert_eq!(d.u32().unwrap(), 101);
    assert!(d.unique().unwrap().is_some());
    assert_eq!(d.u32().unwrap(), 500);
    d.unique().unwrap();
    assert_eq!(
        [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
        [10, 0, 0x9003]
    );
    d.unique().unwrap();
    assert_eq!(d.string().unwrap(), "RSMBD");
    assert_eq!(d.string().unwrap(), "rsmbd server");
    assert_eq!(d.u32().unwrap(), 0);
    assert_eq!(d.remaining(), 0);

    let stub = call(&mut pipe, 21, &level_stub(102)).unwrap();
    let mut d = Decoder::new(&stub);
    for _ in 0..15 {
        d.u32().unwrap();
    }
    assert_eq!(d.string().unwrap(), "RSMBD");
    assert_eq!(d.string().unwrap(), "rsmbd server");
    assert_eq!(d.string().unwrap(), "C:\\");
    assert_eq!(d.u32().unwrap(), 0);

    let stub = call(&mut pipe, 21, &level_stub(100)).unwrap();
    assert_eq!(stub.len(), 4 + 4 + 8 + ndr_string("RSMBD").len() + 4);
    let stub = call(&mut pipe, 21, &level_stub(103)).unwrap();
    assert_eq!(stub, [le32(103), le32(0), le32(124)].concat());
}

#[test]
fn wksta_get_info_levels() {
    let mut pipe = pipe_with("wkssvc", vec![]);
    bind(&mut pipe, WKSSVC_UUID, 1);
    let stub = call(&mut pipe, 0, &level_stub(102)).unwrap();
    let mut d = Decoder::new(&stub);
    assert_eq!(d.u32().unwrap(), 102);
    d.unique().unwrap();
    assert_eq!(d.u32().unwrap(), 500);
    d.unique().unwrap();
    d.unique().unwrap();
    assert_eq!([d.u32().unwrap(), d.u32().unwrap()], [10, 0]);
    d.unique().unwrap();
    assert_eq!(d.u32().unwrap(), 1);
    assert_eq!(d.string().unwrap(), "RSMBD");
    assert_eq!(d.string().unwrap(), "WORKGROUP");
    assert_eq!(d.string().unwrap(), "");
    assert_eq!(d.u32().unwrap(), 0);
    assert_eq!(d.remaining(), 0);

    let stub = call(&mut pipe, 0, &level_stub(100)).unwrap();
    assert_eq!(
        stub.len(),
        4 + 4 + 20 + ndr_string("RSMBD").len() + ndr_string("WORKGROUP").len() + 4
    );
    assert_eq!(
        call(&mut pipe, 0, &level_stub(101)).unwrap().len(),
        stub.len() + 4 + ndr_string("").len()
    );
    let stub = call(&mut pipe, 0, &level_stub(99)).unwrap();
    assert_eq!(stub, [le32(99), le32(0), le32(124)].concat());
    assert_eq!(call(&mut pipe, 1, &level_stub(100)), Err(0x1c01_0002));
}

#[test]
fn large_response_is_fragmented() {
    let shares: Vec<ShareInfo> = (0..300)
        .map(|i| {
            share(
                &format!("share{i:03}"),
                "a comment for the share",
                ShareKind::Disk,
            )
        })
        .collect();
    let mut pipe = pipe_with("srvsvc", shares);
    bind(&mut pipe, SRVSVC_UUID, 3);
    pipe.write(&request_pdu(7, 3, 15, &share_enum_stub(1)))
        .unwrap();
    let pdus = read_all(&mut pipe);
    assert!(pdus.len() > 5);
    let total: usize = pdus.iter().map(|p| p.len() - 24).sum();
    let mut stub = Vec::new();
    for (i, pdu) in pdus.iter().enumerate() {
        assert!(pdu.len() <= 4280);
        let flags = pdu[3];
        assert_eq!(flags & 1 != 0, i == 0);
        assert_eq!(flags & 2 != 0, i + 1 == pdus.len());
        if i + 1 < pdus.len() {
            assert_eq!(pdu.len(), 4280);
        }
        let alloc_hint = u32::from_le_bytes(pdu[16..20].try_into().unwrap()) as usize;
        assert_eq!(alloc_hint, total - stub.len());
        stub.extend_from_slice(&pdu[24..]);
    }
    let (shares, total, _, status) = decode_share_enum_1(&stub);
    assert_eq!((shares.len(), total, status), (300, 300, 0));
    assert_eq!(shares[299].name, "share299");
}

#[test]
fn read_splits_a_message() {
    let mut pipe = pipe_with("srvsvc", vec![]);
    pipe.write(&simple_bind(SRVSVC_UUID, 3)).unwrap();
    let (a, more) = pipe.read(10);
    assert_eq!((a.len(), more), (10, true));
    let (b, more) = pipe.read(4280);
    assert_eq!((b.len(), more), (58, false));
    assert_eq!(pipe.read(4280), (vec![], false));
}

#[test]
fn fragmented_request_is_reassembled() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    bind(&mut pipe, SRVSVC_UUID, 3);
    let stub = share_get_info_stub("data", 0);
    let (a, rest) = stub.split_at(8);
    let (b, c) = rest.split_at(16);
    let mut bytes = request_pdu(9, 1, 16, a);
    bytes.extend(request_pdu(9, 0, 16, b));
    bytes.extend(request_pdu(9, 2, 16, c));
    // Delivered one byte at a time: nothing is answered before the last fragment.
    for (i, byte) in bytes.iter().enumerate() {
        pipe.write(&[*byte]).unwrap();
        if i + 1 < bytes.len() {
            assert_eq!(pipe.read(4280), (vec![], false));
        }
    }
    let pdus = read_all(&mut pipe);
    assert_eq!(pdus.len(), 1);
    let mut d = Decoder::new(&pdus[0][24..]);
    assert_eq!(d.u32().unwrap(), 0);
    d.unique().unwrap();
    d.unique().unwrap();
    assert_eq!(d.string().unwrap(), "data");
    assert_eq!(d.u32().unwrap(), 0);
}

#[test]
fn malformed_pdus() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    // frag_length shorter than the header.
    let mut bad = header(11, 3, 16, 1);
    bad[8] = 10;
    assert_eq!(pipe.write(&bad), Err(RpcError::Malformed));
    // Wrong major version.
    let mut pipe = pipe_with("srvsvc", standard_shares());
    let mut bad = simple_bind(SRVSVC_UUID, 3);
    bad[0] = 4;
    assert_eq!(pipe.write(&bad), Err(RpcError::Malformed));
    // A bind whose frag_length cuts its context list.
    let mut pipe = pipe_with("srvsvc", standard_shares());
    let mut bad = simple_bind(SRVSVC_UUID, 3);
    bad[8] = 40;
    bad.truncate(40);
    assert_eq!(pipe.write(&bad), Err(RpcError::Malformed));
    // A truncated PDU is only buffered.
    let mut pipe = pipe_with("srvsvc", standard_shares());
    let good = simple_bind(SRVSVC_UUID, 3);
    assert_eq!(pipe.write(&good[..30]), Ok(30));
    assert_eq!(pipe.read(100), (vec![], false));
    pipe.write(&good[30..]).unwrap();
    assert_eq!(pipe.read(4280).0[2], 12);
    // A continuation fragment with no first fragment; a response sent by the client.
    assert_eq!(
        pipe.write(&request_pdu(3, 2, 15, &[])),
        Err(RpcError::Malformed)
    );
    let mut pipe = pipe_with("srvsvc", standard_shares());
    bind(&mut pipe, SRVSVC_UUID, 3);
    let mut response = request_pdu(3, 3, 0, &[]);
    response[2] = 2;
    assert_eq!(pipe.write(&response), Err(RpcError::Malformed));
}

#[test]
fn faults() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    // A request before any bind.
    assert_eq!(call(&mut pipe, 15, &share_enum_stub(1)), Err(0x1c01_0003));
    bind(&mut pipe, SRVSVC_UUID, 3);
    assert_eq!(call(&mut pipe, 99, &[]), Err(0x1c01_0002));
    // Truncated stub and a string claiming 0x7fffffff characters.
    assert_eq!(call(&mut pipe, 15, &share_enum_stub(1)[..30]), Err(0x6f7));
    let mut huge = le32(0x20000).to_vec();
    huge.extend([le32(0x7fff_ffff), le32(0), le32(0x7fff_ffff)].concat());
    huge.extend([0x41, 0, 0, 0]);
    assert_eq!(call(&mut pipe, 21, &huge), Err(0x6f7));
    assert_eq!(call(&mut pipe, 16, &huge), Err(0x6f7));
    // An authentication verifier is refused with access denied; the fault PDU is 32 bytes.
    let mut with_auth = request_pdu(7, 3, 21, &level_stub(100));
    with_auth[10] = 8;
    let (fault, _) = pipe.transceive(&with_auth, 4280).unwrap();
    assert_eq!(fault.len(), 32);
    assert_eq!(
        (fault[2], fault[3], &fault[24..28]),
        (3, 0x23, &le32(5)[..])
    );
    // Big-endian data representation: the header is still read, the call faults.
    let mut be = request_pdu(7, 3, 21, &level_stub(100));
    be[4] = 0;
    let len = be.len() as u16;
    be[8..10].copy_from_slice(&len.to_be_bytes());
    be[12..16].copy_from_slice(&7u32.to_be_bytes());
    let (fault, _) = pipe.transceive(&be, 4280).unwrap();
    assert_eq!((fault[2], &fault[24..28]), (3, &le32(0x1c01_000b)[..]));
    // The pipe still works afterwards.
    assert!(call(&mut pipe, 21, &level_stub(100)).is_ok());
}

#[test]
fn input_is_capped() {
    let mut pipe = pipe_with("srvsvc", standard_shares());
    bind(&mut pipe, SRVSVC_UUID, 3);
    // A request reassembled across many fragments grows past the cap.
    let chunk = vec![0u8; 65000];
    pipe.write(&request_pdu(5, 1, 15, &chunk)).unwrap();
    let mut result = Ok(0);
    for _ in 0..80 {
        result = pipe.write(&request_pdu(5, 0, 15, &chunk));
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(RpcError::TooLarge));
    assert!(pipe.buffered() <= MAX_BUFFERED);
}

proptest! {
    #[test]
    fn arbitrary_writes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..12)) {
        let mut pipe = pipe_with("srvsvc", standard_shares());
        for chunk in &chunks {
            let _ = pipe.write(chunk);
            prop_assert!(pipe.buffered() <= MAX_BUFFERED);
            let _ = pipe.read(100);
        }
    }

    #[test]
    fn arbitrary_stubs_never_panic(opnum in prop_oneof![Just(15u16), Just(16), Just(21)], stub in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut pipe = pipe_with("srvsvc", standard_shares());
        bind(&mut pipe, SRVSVC_UUID, 3);
        let _ = call(&mut pipe, opnum, &stub);
    }

    #[test]
    fn arbitrary_bodies_after_a_valid_header(ptype in 0u8..20, flags in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut pipe = pipe_with("wkssvc", vec![]);
        bind(&mut pipe, WKSSVC_UUID, 1);
        let mut pdu = header(ptype, flags, 16 + body.len(), 1);
        pdu.extend_from_slice(&body);
        let _ = pipe.write(&pdu);
        prop_assert!(pipe.buffered() <= MAX_BUFFERED);
    }
}

#[test]
fn pipe_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pipe>();
}
