//! SMB2 create contexts (MS-SMB2 2.2.13.2 and 2.2.14.2): the chain of tagged blobs carried by CREATE
//! requests and responses, plus the data of the response contexts the server produces (MxAc, QFid).

use crate::reader::{DecodeError, Reader};
use crate::writer::{len_u16, len_u32, pad_to};
use bytes::{BufMut, BytesMut};

/// The most contexts accepted in one chain.
pub const MAX_CONTEXTS: usize = 64;

/// Size of the fixed part of one context (Next .. DataLength).
const HEADER_SIZE: usize = 16;

/// Context names (MS-SMB2 2.2.13.2 table of Name values).
pub mod name {
    pub const EA_BUFFER: &[u8] = b"ExtA";
    pub const SD_BUFFER: &[u8] = b"SecD";
    pub const DURABLE_HANDLE_REQUEST: &[u8] = b"DHnQ";
    pub const DURABLE_HANDLE_RECONNECT: &[u8] = b"DHnC";
    pub const ALLOCATION_SIZE: &[u8] = b"AlSi";
    pub const QUERY_MAXIMAL_ACCESS: &[u8] = b"MxAc";
    pub const TIMEWARP_TOKEN: &[u8] = b"TWrp";
    pub const QUERY_ON_DISK_ID: &[u8] = b"QFid";
    pub const REQUEST_LEASE: &[u8] = b"RqLs";
    pub const DURABLE_HANDLE_REQUEST_V2: &[u8] = b"DH2Q";
    pub const DURABLE_HANDLE_RECONNECT_V2: &[u8] = b"DH2C";
    /// Apple's extension context (macOS clients).
    pub const AAPL: &[u8] = b"AAPL";
    pub const APP_INSTANCE_ID: &[u8] = &[
        0x45, 0xBC, 0xA6, 0x6A, 0xEF, 0xA7, 0xF7, 0x4A, 0x90, 0x08, 0xFA, 0x46, 0x2E, 0x14, 0x4D,
        0x74,
    ];
    pub const APP_INSTANCE_VERSION: &[u8] = &[
        0xB9, 0x82, 0xD0, 0xB7, 0x3B, 0x56, 0x07, 0x4F, 0xA0, 0x7B, 0x52, 0x4A, 0x81, 0x16, 0xA0,
        0x10,
    ];
    pub const SVHDX_OPEN_DEVICE_CONTEXT: &[u8] = &[
        0x9C, 0xCB, 0xCF, 0x9E, 0x04, 0xC1, 0xE6, 0x43, 0x98, 0x0E, 0x15, 0x8D, 0xA1, 0xF6, 0xEC,
        0x83,
    ];
    /// SMB3 POSIX extensions create context tag.
    pub const POSIX: &[u8] = &[
        0x93, 0xAD, 0x25, 0x50, 0x9C, 0xB4, 0x11, 0xE7, 0xB4, 0x23, 0x83, 0xDE, 0x96, 0x8B, 0xCD,
        0x7C,
    ];
}

/// One create context, borrowing its name and data from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateContext<'a> {
    pub name: &'a [u8],
    pub data: &'a [u8],
}

/// A create context that owns its bytes, as carried in a CREATE response the server builds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedCreateContext {
    pub name: Vec<u8>,
    pub data: Vec<u8>,
}

impl OwnedCreateContext {
    pub fn new(name: &[u8], data: &[u8]) -> Self {
        OwnedCreateContext {
            name: name.to_vec(),
            data: data.to_vec(),
        }
    }

    pub fn as_pair(&self) -> (&[u8], &[u8]) {
        (&self.name, &self.data)
    }
}

/// Parse a chain of create contexts (the bytes at CreateContextsOffset, CreateContextsLength long).
pub fn parse_chain(buf: &[u8]) -> Result<Vec<CreateContext<'_>>, DecodeError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        if out.len() == MAX_CONTEXTS {
            return Err(DecodeError::TooLarge);
        }
        let (ctx, next) = parse_one(rest)?;
        out.push(ctx);
        if next == 0 {
            break;
        }
        rest = rest.get(next..).ok_or(DecodeError::BadOffset)?;
    }
    Ok(out)
}

/// Parse the context at the start of `buf`; returns it and its Next field (0 for the last one).
fn parse_one(buf: &[u8]) -> Result<(CreateContext<'_>, usize), DecodeError> {
    let mut r = Reader::new(buf);
    let next = r.u32()? as usize;
    let name_offset = usize::from(r.u16()?);
    let name_len = usize::from(r.u16()?);
    r.skip(2)?;
    let data_offset = usize::from(r.u16()?);
    let data_len = r.u32()? as usize;
    let end = if next == 0 { buf.len() } else { next };
    if next != 0 && (!next.is_multiple_of(8) || next < HEADER_SIZE || next >= buf.len()) {
        return Err(DecodeError::BadOffset);
    }
    let this = Reader::new(buf.get(..end).ok_or(DecodeError::BadOffset)?);
    if name_len == 0 || name_offset < HEADER_SIZE || (data_len != 0 && data_offset < HEADER_SIZE) {
        return Err(DecodeError::BadOffset);
    }
    let name = this.at(name_offset, name_len)?;
    let data = this.at(data_offset, data_len)?;
    Ok((CreateContext { name, data }, next))
}

/// The first context named `name` in a parsed chain.
pub fn find<'c, 'a>(
    contexts: &'c [CreateContext<'a>],
    name: &[u8],
) -> Option<&'c CreateContext<'a>> {
    contexts.iter().find(|c| c.name == name)
}

/// Append a chain of `(name, data)` contexts, 8-byte aligned relative to `pdu_start`. Returns the
/// CreateContextsOffset (from `pdu_start`) and CreateContextsLength to put in the message; (0, 0) when empty.
pub fn encode_chain(w: &mut BytesMut, pdu_start: usize, contexts: &[(&[u8], &[u8])]) -> (u32, u32) {
    if contexts.is_empty() {
        return (0, 0);
    }
    pad_to(w, pdu_start, 8);
    let chain_start = w.len();
    crate::fscc::put_linked_entries(w, contexts, 8, |w, (name, data)| encode_one(w, name, data));
    (
        len_u32(chain_start - pdu_start),
        len_u32(w.len() - chain_start),
    )
}

/// One context after its Next field: the rest of the header, name at 16, data 8-aligned after the name.
fn encode_one(w: &mut BytesMut, name: &[u8], data: &[u8]) {
    let start = w.len().saturating_sub(4);
    let name_pad = (8 - name.len() % 8) % 8;
    let data_offset = if data.is_empty() {
        0
    } else {
        HEADER_SIZE + name.len() + name_pad
    };
    w.put_u16_le(len_u16(HEADER_SIZE));
    w.put_u16_le(len_u16(name.len()));
    w.put_u16_le(0);
    w.put_u16_le(len_u16(data_offset));
    w.put_u32_le(len_u32(data.len()));
    w.put_slice(name);
    if !data.is_empty() {
        pad_to(w, start, 8);
        w.put_slice(data);
    }
}

/// Data of the MxAc response (MS-SMB2 2.2.14.2.5): QueryStatus and MaximalAccess.
pub fn maximal_access_response(query_status: u32, maximal_access: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    let (status, access) = out.split_at_mut(4);
    status.copy_from_slice(&query_status.to_le_bytes());
    access.copy_from_slice(&maximal_access.to_le_bytes());
    out
}

/// Data of the QFid response (MS-SMB2 2.2.14.2.9): DiskFileId, VolumeId, 16 reserved bytes.
pub fn query_on_disk_id_response(disk_file_id: u64, volume_id: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    let (file, rest) = out.split_at_mut(8);
    file.copy_from_slice(&disk_file_id.to_le_bytes());
    if let Some(vol) = rest.get_mut(..8) {
        vol.copy_from_slice(&volume_id.to_le_bytes());
    }
    out
}

/// SMB2_CREATE_REQUEST_LEASE (MS-SMB2 2.2.13.2.8, 32 bytes) and SMB2_CREATE_REQUEST_LEASE_V2
/// (2.2.13.2.10, 52 bytes), and their responses (2.2.14.2.10, 2.2.14.2.11), which have the same layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseContext {
    pub key: [u8; 16],
    pub state: u32,
    pub flags: u32,
    /// Version 2 only: ParentLeaseKey and Epoch.
    pub v2: Option<LeaseV2>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseV2 {
    pub parent_key: [u8; 16],
    pub epoch: u16,
}

/// LeaseFlags (MS-SMB2 2.2.13.2.10, 2.2.14.2.10).
pub mod lease_flags {
    pub const BREAK_IN_PROGRESS: u32 = 0x02;
    pub const PARENT_LEASE_KEY_SET: u32 = 0x04;
}

pub const LEASE_V1_LEN: usize = 32;
pub const LEASE_V2_LEN: usize = 52;

impl LeaseContext {
    /// Decode a RqLs context's data: 52 bytes are version 2 when `v2_allowed` (SMB 3.x), else it is
    /// read as version 1; fewer than 32 bytes are an error.
    pub fn decode(data: &[u8], v2_allowed: bool) -> Result<LeaseContext, DecodeError> {
        let mut r = Reader::new(data);
        let key = r.array::<16>()?;
        let state = r.u32()?;
        let flags = r.u32()?;
        r.skip(8)?; // LeaseDuration
        let v2 = if v2_allowed && data.len() >= LEASE_V2_LEN {
            let parent_key = r.array::<16>()?;
            let epoch = r.u16()?;
            Some(LeaseV2 { parent_key, epoch })
        } else {
            None
        };
        Ok(LeaseContext {
            key,
            state,
            flags,
            v2,
        })
    }

    /// The response's data, in the version of the request.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(LEASE_V2_LEN);
        w.put_slice(&self.key);
        w.put_u32_le(self.state);
        w.put_u32_le(self.flags);
        w.put_u64_le(0);
        if let Some(v2) = self.v2 {
            w.put_slice(&v2.parent_key);
            w.put_u16_le(v2.epoch);
            w.put_u16_le(0);
        }
        w.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(contexts: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut w = BytesMut::new();
        let (off, len) = encode_chain(&mut w, 0, contexts);
        assert_eq!(off, 0);
        assert_eq!(len as usize, w.len());
        w.to_vec()
    }

    #[test]
    fn lease_contexts_round_trip_in_both_versions() {
        let v1 = LeaseContext {
            key: [7; 16],
            state: 7,
            flags: 0,
            v2: None,
        };
        let data = v1.encode();
        assert_eq!(data.len(), LEASE_V1_LEN);
        assert_eq!(LeaseContext::decode(&data, true), Ok(v1));
        let v2 = LeaseContext {
            v2: Some(LeaseV2 {
                parent_key: [9; 16],
                epoch: 3,
            }),
            ..v1
        };
        let data = v2.encode();
        assert_eq!(data.len(), LEASE_V2_LEN);
        assert_eq!(LeaseContext::decode(&data, true), Ok(v2));
        // On SMB 2.1 a v2 context is read as v1; a short one is refused.
        assert_eq!(LeaseContext::decode(&data, false), Ok(v1));
        assert!(LeaseContext::decode(&data[..31], true).is_err());
    }

    #[test]
    fn chain_roundtrip_is_aligned() {
        let mxac = maximal_access_response(0, 0x001F_01FF);
        let bytes = encode(&[
            (name::QUERY_MAXIMAL_ACCESS, &mxac),
            (name::QUERY_ON_DISK_ID, &[]),
        ]);
        // First context: Next=32, NameOffset=16, NameLength=4, DataOffset=24, DataLength=8.
        assert_eq!(
            &bytes[..16],
            &[32, 0, 0, 0, 16, 0, 4, 0, 0, 0, 24, 0, 8, 0, 0, 0]
        );
        assert_eq!(&bytes[16..20], b"MxAc");
        assert_eq!(&bytes[24..32], &[0, 0, 0, 0, 0xFF, 0x01, 0x1F, 0]);
        assert_eq!(bytes.len(), 32 + 20);
        let chain = parse_chain(&bytes).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(
            chain[0],
            CreateContext {
                name: b"MxAc",
                data: &mxac
            }
        );
        assert_eq!(
            chain[1],
            CreateContext {
                name: b"QFid",
                data: &[]
            }
        );
        assert_eq!(find(&chain, b"QFid").unwrap().data, &[] as &[u8]);
    }

    #[test]
    fn rejects_bad_next_and_bounds() {
        let mut bytes = encode(&[(b"MxAc", &[]), (b"QFid", &[])]);
        bytes[0] = 20; // unaligned Next
        assert_eq!(parse_chain(&bytes), Err(DecodeError::BadOffset));
        bytes[0] = 0;
        bytes[1] = 1; // Next past the end
        assert_eq!(parse_chain(&bytes), Err(DecodeError::BadOffset));
        let mut one = encode(&[(b"MxAc", &[1, 2, 3])]);
        one[12] = 9; // DataLength past the end
        assert_eq!(parse_chain(&one), Err(DecodeError::BadOffset));
        assert_eq!(parse_chain(&one[..10]), Err(DecodeError::Truncated));
    }

    #[test]
    fn rejects_too_many() {
        let many: Vec<(&[u8], &[u8])> = (0..=MAX_CONTEXTS)
            .map(|_| (&b"ExtA"[..], &[][..]))
            .collect();
        assert_eq!(parse_chain(&encode(&many)), Err(DecodeError::TooLarge));
        assert_eq!(
            parse_chain(&encode(&many[1..])).unwrap().len(),
            MAX_CONTEXTS
        );
    }

    #[test]
    fn qfid_layout() {
        let d = query_on_disk_id_response(0x0102, 0x0304);
        assert_eq!(&d[..10], &[2, 1, 0, 0, 0, 0, 0, 0, 4, 3]);
        assert_eq!(&d[16..], &[0; 16]);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_chain(&bytes);
        }
    }
}
