//! Connection-oriented DCE/RPC PDUs (C706 12.6, MS-RPCE 2.2.2): the common header and the bind, bind_ack,
//! bind_nak, alter_context(_resp), request, response and fault bodies.
//!
//! Bodies are laid out with natural alignment relative to the PDU start; the header is 16 bytes, so the NDR
//! cursor of [`crate::ndr`] (aligned relative to the body) reads and writes them. Only the little-endian ASCII
//! IEEE data representation is produced; the header of any representation can be read so that its PDU can be
//! skipped and faulted.

use crate::ndr::{Decoder, Encoder, NdrError};
use crate::RpcError;

/// Size of the common header.
pub const HEADER_LEN: usize = 16;
/// Size of the request header up to the stub (without object UUID), and of the response header.
pub const CALL_HEADER_LEN: usize = 24;

/// PTYPE values (C706 12.6.4.x).
pub mod ptype {
    pub const REQUEST: u8 = 0;
    pub const RESPONSE: u8 = 2;
    pub const FAULT: u8 = 3;
    pub const BIND: u8 = 11;
    pub const BIND_ACK: u8 = 12;
    pub const BIND_NAK: u8 = 13;
    pub const ALTER_CONTEXT: u8 = 14;
    pub const ALTER_CONTEXT_RESP: u8 = 15;
    pub const AUTH3: u8 = 16;
    pub const SHUTDOWN: u8 = 17;
    pub const CO_CANCEL: u8 = 18;
    pub const ORPHANED: u8 = 19;
}

/// pfc_flags bits (C706 12.6.3.1).
pub mod flags {
    pub const FIRST_FRAG: u8 = 0x01;
    pub const LAST_FRAG: u8 = 0x02;
    pub const DID_NOT_EXECUTE: u8 = 0x20;
    pub const OBJECT_UUID: u8 = 0x80;
}

/// Little-endian integers, ASCII characters, IEEE floats (C706 14.2.5).
pub const NATIVE_DREP: [u8; 4] = [0x10, 0, 0, 0];

/// The 16-byte common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub rpc_vers_minor: u8,
    pub ptype: u8,
    pub flags: u8,
    pub drep: [u8; 4],
    pub frag_length: u16,
    pub auth_length: u16,
    pub call_id: u32,
}

impl Header {
    /// A header for a PDU this server sends, with the body length filled in.
    pub fn new(ptype: u8, flags: u8, call_id: u32, body_len: usize) -> Self {
        let frag_length = u16::try_from(HEADER_LEN.saturating_add(body_len)).unwrap_or(u16::MAX);
        Header {
            rpc_vers_minor: 0,
            ptype,
            flags,
            drep: NATIVE_DREP,
            frag_length,
            auth_length: 0,
            call_id,
        }
    }

    /// Reads the header at the start of `buf`; the integer fields use the byte order the sender announced.
    /// Fails unless the version is 5.0 or 5.1 and the fragment length covers at least the header.
    pub fn decode(buf: &[u8]) -> Result<Self, RpcError> {
        let b: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(RpcError::Malformed)?;
        let [vers, rpc_vers_minor, ptype, flags, d0, d1, d2, d3, f0, f1, a0, a1, c0, c1, c2, c3] =
            *b;
        if vers != 5 || rpc_vers_minor > 1 {
            return Err(RpcError::Malformed);
        }
        let little = d0 >> 4 == 1;
        let u16_of = |x: [u8; 2]| {
            if little {
                u16::from_le_bytes(x)
            } else {
                u16::from_be_bytes(x)
            }
        };
        let call_bytes = [c0, c1, c2, c3];
        let call_id = if little {
            u32::from_le_bytes(call_bytes)
        } else {
            u32::from_be_bytes(call_bytes)
        };
        let header = Header {
            rpc_vers_minor,
            ptype,
            flags,
            drep: [d0, d1, d2, d3],
            frag_length: u16_of([f0, f1]),
            auth_length: u16_of([a0, a1]),
            call_id,
        };
        if usize::from(header.frag_length) < HEADER_LEN {
            return Err(RpcError::Malformed);
        }
        Ok(header)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[5, self.rpc_vers_minor, self.ptype, self.flags]);
        out.extend_from_slice(&self.drep);
        out.extend_from_slice(&self.frag_length.to_le_bytes());
        out.extend_from_slice(&self.auth_length.to_le_bytes());
        out.extend_from_slice(&self.call_id.to_le_bytes());
    }

    /// Whether the sender uses the only data representation this server accepts (little-endian, ASCII, IEEE).
    pub fn is_native_drep(&self) -> bool {
        self.drep[..2] == NATIVE_DREP[..2]
    }
}

/// A whole PDU: the header followed by `body`.
pub fn encode_pdu(ptype: u8, flags: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    Header::new(ptype, flags, call_id, body.len()).encode(&mut out);
    out.extend_from_slice(body);
    out
}

impl From<NdrError> for RpcError {
    fn from(_: NdrError) -> Self {
        RpcError::Malformed
    }
}

/// A UUID in its NDR form (three little-endian integers and eight bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Uuid {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

impl Uuid {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, NdrError> {
        let data1 = d.u32()?;
        let data2 = d.u16()?;
        let data3 = d.u16()?;
        let data4 = d.bytes(8)?.try_into().map_err(|_| NdrError)?;
        Ok(Uuid {
            data1,
            data2,
            data3,
            data4,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.u32(self.data1);
        e.u16(self.data2);
        e.u16(self.data3);
        e.bytes(&self.data4);
    }
}

/// p_syntax_id_t: an interface or transfer syntax and its version (major in the low 16 bits, minor in the high).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SyntaxId {
    pub uuid: Uuid,
    pub version: u32,
}

impl SyntaxId {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, NdrError> {
        Ok(SyntaxId {
            uuid: Uuid::decode(d)?,
            version: d.u32()?,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        self.uuid.encode(e);
        e.u32(self.version);
    }
}

/// p_cont_elem_t: one proposed presentation context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextElem {
    pub context_id: u16,
    pub abstract_syntax: SyntaxId,
    pub transfer_syntaxes: Vec<SyntaxId>,
}

/// The body of bind and alter_context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    pub contexts: Vec<ContextElem>,
}

impl Bind {
    pub fn decode(body: &[u8]) -> Result<Self, RpcError> {
        let mut d = Decoder::new(body);
        let max_xmit_frag = d.u16()?;
        let max_recv_frag = d.u16()?;
        let assoc_group_id = d.u32()?;
        let n_contexts = d.u8()?;
        d.bytes(3)?;
        let mut contexts = Vec::new();
        for _ in 0..n_contexts {
            let context_id = d.u16()?;
            let n_transfer = d.u8()?;
            d.u8()?;
            let abstract_syntax = SyntaxId::decode(&mut d)?;
            let mut transfer_syntaxes = Vec::new();
            for _ in 0..n_transfer {
                transfer_syntaxes.push(SyntaxId::decode(&mut d)?);
            }
            contexts.push(ContextElem {
                context_id,
                abstract_syntax,
                transfer_syntaxes,
            });
        }
        Ok(Bind {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            contexts,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u16(self.max_xmit_frag);
        e.u16(self.max_recv_frag);
        e.u32(self.assoc_group_id);
        e.u8(u8::try_from(self.contexts.len()).unwrap_or(u8::MAX));
        e.bytes(&[0; 3]);
        for c in self.contexts.iter().take(usize::from(u8::MAX)) {
            e.u16(c.context_id);
            e.u8(u8::try_from(c.transfer_syntaxes.len()).unwrap_or(u8::MAX));
            e.u8(0);
            c.abstract_syntax.encode(&mut e);
            for t in c.transfer_syntaxes.iter().take(usize::from(u8::MAX)) {
                t.encode(&mut e);
            }
        }
        e.into_bytes()
    }
}

/// p_result_t: the answer to one presentation context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextResult {
    /// 0 acceptance, 1 user rejection, 2 provider rejection, 3 negotiate_ack (MS-RPCE 2.2.2.4).
    pub result: u16,
    /// The rejection reason, or for negotiate_ack the bind time features the server supports.
    pub reason: u16,
    pub transfer_syntax: SyntaxId,
}

/// The body of bind_ack and alter_context_resp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindAck {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    /// The secondary address (port_any_t) without its NUL; empty is sent as length 0.
    pub secondary_address: String,
    pub results: Vec<ContextResult>,
}

impl BindAck {
    pub fn decode(body: &[u8]) -> Result<Self, RpcError> {
        let mut d = Decoder::new(body);
        let max_xmit_frag = d.u16()?;
        let max_recv_frag = d.u16()?;
        let assoc_group_id = d.u32()?;
        let addr_len = usize::from(d.u16()?);
        let addr = d.bytes(addr_len)?;
        let addr = addr.strip_suffix(&[0]).unwrap_or(addr);
        let secondary_address =
            String::from_utf8(addr.to_vec()).map_err(|_| RpcError::Malformed)?;
        d.align(4)?;
        let n_results = d.u8()?;
        d.bytes(3)?;
        let mut results = Vec::new();
        for _ in 0..n_results {
            let result = d.u16()?;
            let reason = d.u16()?;
            results.push(ContextResult {
                result,
                reason,
                transfer_syntax: SyntaxId::decode(&mut d)?,
            });
        }
        Ok(BindAck {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            secondary_address,
            results,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u16(self.max_xmit_frag);
        e.u16(self.max_recv_frag);
        e.u32(self.assoc_group_id);
        if self.secondary_address.is_empty() {
            e.u16(0);
        } else {
            let addr = self.secondary_address.as_bytes();
            e.u16(u16::try_from(addr.len().saturating_add(1)).unwrap_or(u16::MAX));
            e.bytes(addr);
            e.u8(0);
        }
        e.align(4);
        e.u8(u8::try_from(self.results.len()).unwrap_or(u8::MAX));
        e.bytes(&[0; 3]);
        for r in self.results.iter().take(usize::from(u8::MAX)) {
            e.u16(r.result);
            e.u16(r.reason);
            r.transfer_syntax.encode(&mut e);
        }
        e.into_bytes()
    }
}

/// The body of bind_nak: a rejection reason and the protocol versions supported (5.0).
pub fn encode_bind_nak(reason: u16) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u16(reason);
    e.bytes(&[1, 5, 0]);
    e.into_bytes()
}

/// The body of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub alloc_hint: u32,
    pub context_id: u16,
    pub opnum: u16,
    pub object: Option<Uuid>,
    pub stub: &'a [u8],
}

impl<'a> Request<'a> {
    /// Decodes a request body; `pfc_flags` says whether an object UUID is present.
    pub fn decode(pfc_flags: u8, body: &'a [u8]) -> Result<Self, RpcError> {
        let mut d = Decoder::new(body);
        let alloc_hint = d.u32()?;
        let context_id = d.u16()?;
        let opnum = d.u16()?;
        let object = if pfc_flags & flags::OBJECT_UUID != 0 {
            Some(Uuid::decode(&mut d)?)
        } else {
            None
        };
        let stub = d.bytes(d.remaining())?;
        Ok(Request {
            alloc_hint,
            context_id,
            opnum,
            object,
            stub,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(self.alloc_hint);
        e.u16(self.context_id);
        e.u16(self.opnum);
        if let Some(object) = &self.object {
            object.encode(&mut e);
        }
        e.bytes(self.stub);
        e.into_bytes()
    }
}

/// The body of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    pub alloc_hint: u32,
    pub context_id: u16,
    pub cancel_count: u8,
    pub stub: &'a [u8],
}

impl<'a> Response<'a> {
    pub fn decode(body: &'a [u8]) -> Result<Self, RpcError> {
        let mut d = Decoder::new(body);
        let alloc_hint = d.u32()?;
        let context_id = d.u16()?;
        let cancel_count = d.u8()?;
        d.u8()?;
        let stub = d.bytes(d.remaining())?;
        Ok(Response {
            alloc_hint,
            context_id,
            cancel_count,
            stub,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(self.alloc_hint);
        e.u16(self.context_id);
        e.u8(self.cancel_count);
        e.u8(0);
        e.bytes(self.stub);
        e.into_bytes()
    }
}

/// The body of a fault (32-byte PDU with the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub context_id: u16,
    pub status: u32,
}

impl Fault {
    pub fn decode(body: &[u8]) -> Result<Self, RpcError> {
        let mut d = Decoder::new(body);
        d.u32()?;
        let context_id = d.u16()?;
        d.bytes(2)?;
        let status = d.u32()?;
        d.bytes(4)?;
        Ok(Fault { context_id, status })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(0);
        e.u16(self.context_id);
        e.bytes(&[0, 0]);
        e.u32(self.status);
        e.u32(0);
        e.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRVSVC: SyntaxId = SyntaxId {
        uuid: Uuid {
            data1: 0x4b32_4fc8,
            data2: 0x1670,
            data3: 0x01d3,
            data4: [0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88],
        },
        version: 3,
    };
    const NDR: SyntaxId = SyntaxId {
        uuid: Uuid {
            data1: 0x8a88_5d04,
            data2: 0x1ceb,
            data3: 0x11c9,
            data4: [0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60],
        },
        version: 2,
    };

    /// A bind for srvsvc 3.0 over NDR 2.0, written out field by field from C706 12.6.4.3.
    fn bind_bytes() -> Vec<u8> {
        let mut b = vec![5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0];
        b.extend_from_slice(&[0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0]); // max frags 4280, group 0
        b.extend_from_slice(&[1, 0, 0, 0]); // one context
        b.extend_from_slice(&[0, 0, 1, 0]); // id 0, one transfer syntax
        b.extend_from_slice(&[0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01]);
        b.extend_from_slice(&[0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88, 3, 0, 0, 0]);
        b.extend_from_slice(&[0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11]);
        b.extend_from_slice(&[0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0]);
        b
    }

    #[test]
    fn bind_round_trip() {
        let bytes = bind_bytes();
        let h = Header::decode(&bytes).unwrap();
        assert_eq!(
            (h.ptype, h.flags, h.frag_length, h.call_id),
            (ptype::BIND, 3, 72, 1)
        );
        let bind = Bind::decode(&bytes[HEADER_LEN..]).unwrap();
        assert_eq!(bind.max_xmit_frag, 4280);
        assert_eq!(bind.contexts.len(), 1);
        assert_eq!(bind.contexts[0].abstract_syntax, SRVSVC);
        assert_eq!(bind.contexts[0].transfer_syntaxes, vec![NDR]);
        assert_eq!(encode_pdu(ptype::BIND, 3, 1, &bind.encode()), bytes);
    }

    #[test]
    fn bind_ack_round_trip() {
        let ack = BindAck {
            max_xmit_frag: 4280,
            max_recv_frag: 4280,
            assoc_group_id: 0x1234,
            secondary_address: "\\PIPE\\srvsvc".into(),
            results: vec![ContextResult {
                result: 0,
                reason: 0,
                transfer_syntax: NDR,
            }],
        };
        let pdu = encode_pdu(ptype::BIND_ACK, 3, 1, &ack.encode());
        let mut want = vec![5, 0, 12, 3, 0x10, 0, 0, 0, 68, 0, 0, 0, 1, 0, 0, 0];
        want.extend_from_slice(&[0xb8, 0x10, 0xb8, 0x10, 0x34, 0x12, 0, 0, 13, 0]);
        want.extend_from_slice(b"\\PIPE\\srvsvc\0");
        want.push(0); // pad 39 -> 40
        want.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11]);
        want.extend_from_slice(&[0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0]);
        assert_eq!(pdu, want);
        assert_eq!(BindAck::decode(&pdu[HEADER_LEN..]).unwrap(), ack);
    }

    #[test]
    fn request_and_response_round_trip() {
        let stub = [1u8, 2, 3, 4];
        let req = Request {
            alloc_hint: 4,
            context_id: 0,
            opnum: 15,
            object: None,
            stub: &stub,
        };
        let pdu = encode_pdu(ptype::REQUEST, 3, 2, &req.encode());
        assert_eq!(
            pdu,
            [
                5, 0, 0, 3, 0x10, 0, 0, 0, 28, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 15, 0, 1, 2,
                3, 4
            ]
        );
        assert_eq!(Request::decode(3, &pdu[HEADER_LEN..]).unwrap(), req);

        let obj = Uuid {
            data1: 1,
            data2: 2,
            data3: 3,
            data4: [4; 8],
        };
        let with_object = Request {
            object: Some(obj),
            ..req.clone()
        };
        let body = with_object.encode();
        assert_eq!(body.len(), 8 + 16 + 4);
        assert_eq!(
            Request::decode(flags::OBJECT_UUID, &body).unwrap(),
            with_object
        );

        let resp = Response {
            alloc_hint: 4,
            context_id: 1,
            cancel_count: 0,
            stub: &stub,
        };
        let pdu = encode_pdu(ptype::RESPONSE, 3, 2, &resp.encode());
        assert_eq!(
            pdu,
            [
                5, 0, 2, 3, 0x10, 0, 0, 0, 28, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 2,
                3, 4
            ]
        );
        assert_eq!(Response::decode(&pdu[HEADER_LEN..]).unwrap(), resp);
    }

    #[test]
    fn fault_is_32_bytes() {
        let f = Fault {
            context_id: 0,
            status: 0x1c01_0002,
        };
        let pdu = encode_pdu(ptype::FAULT, 0x23, 9, &f.encode());
        assert_eq!(pdu.len(), 32);
        assert_eq!(&pdu[24..28], &[2, 0, 1, 0x1c]);
        assert_eq!(Fault::decode(&pdu[HEADER_LEN..]).unwrap(), f);
    }

    #[test]
    fn header_rejects_bad_versions_and_lengths() {
        let mut b = bind_bytes();
        b[0] = 4;
        assert_eq!(Header::decode(&b), Err(RpcError::Malformed));
        let mut b = bind_bytes();
        b[8] = 15;
        assert_eq!(Header::decode(&b), Err(RpcError::Malformed));
        assert_eq!(Header::decode(&b[..15]), Err(RpcError::Malformed));
    }

    #[test]
    fn big_endian_header_is_readable() {
        let b = [5u8, 0, 0, 3, 0x00, 0, 0, 0, 0, 28, 0, 0, 0, 0, 0, 7];
        let h = Header::decode(&b).unwrap();
        assert_eq!(
            (h.frag_length, h.call_id, h.is_native_drep()),
            (28, 7, false)
        );
    }

    #[test]
    fn truncated_bodies_fail() {
        let b = bind_bytes();
        for n in HEADER_LEN..b.len() {
            assert_eq!(
                Bind::decode(&b[HEADER_LEN..n]),
                Err(RpcError::Malformed),
                "{n}"
            );
        }
        assert!(Request::decode(flags::OBJECT_UUID, &[0; 20]).is_err());
    }
}
