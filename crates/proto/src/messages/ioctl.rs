//! SMB2 IOCTL request and response (MS-SMB2 2.2.31, 2.2.32), the FSCTL codes the server knows, and the
//! payloads of FSCTL_VALIDATE_NEGOTIATE_INFO (2.2.31.4, 2.2.32.6) and FSCTL_QUERY_NETWORK_INTERFACE_INFO
//! (2.2.32.5). Server-side copy payloads are in [`copychunk`], block cloning's in [`duplicate_extents`],
//! sparse-file and compression ones in [`sparse`].

use super::create::buffer_after;
use super::{body_reader, Body};
use crate::reader::{DecodeError, Reader};
use crate::writer::{len_u32, pad_to};
use crate::{FileId, Guid};
use bytes::{BufMut, BytesMut};

pub mod copychunk;
pub mod duplicate_extents;
pub mod sparse;

const REQUEST_SIZE: u16 = 57;
const RESPONSE_SIZE: u16 = 49;

/// Flags: the CtlCode is an FSCTL (the only value SMB2 allows besides 0).
pub const IOCTL_IS_FSCTL: u32 = 0x0000_0001;

/// FSCTL and IOCTL control codes (MS-SMB2 2.2.31, MS-FSCC 2.3).
pub mod fsctl {
    pub const DFS_GET_REFERRALS: u32 = 0x0006_0194;
    pub const DFS_GET_REFERRALS_EX: u32 = 0x0006_01B0;
    pub const PIPE_PEEK: u32 = 0x0011_400C;
    pub const PIPE_WAIT: u32 = 0x0011_0018;
    pub const PIPE_TRANSCEIVE: u32 = 0x0011_C017;
    pub const SRV_COPYCHUNK: u32 = 0x0014_40F2;
    pub const SRV_ENUMERATE_SNAPSHOTS: u32 = 0x0014_4064;
    pub const SRV_REQUEST_RESUME_KEY: u32 = 0x0014_0078;
    pub const SRV_READ_HASH: u32 = 0x0014_41BB;
    pub const SRV_COPYCHUNK_WRITE: u32 = 0x0014_80F2;
    pub const LMR_REQUEST_RESILIENCY: u32 = 0x0014_01D4;
    pub const QUERY_NETWORK_INTERFACE_INFO: u32 = 0x0014_01FC;
    pub const VALIDATE_NEGOTIATE_INFO: u32 = 0x0014_0204;
    pub const IS_PATHNAME_VALID: u32 = 0x0009_002C;
    pub const GET_COMPRESSION: u32 = 0x0009_003C;
    pub const SET_COMPRESSION: u32 = 0x0009_C040;
    pub const GET_NTFS_VOLUME_DATA: u32 = 0x0009_0064;
    pub const GET_RETRIEVAL_POINTERS: u32 = 0x0009_0073;
    pub const FIND_FILES_BY_SID: u32 = 0x0009_008F;
    pub const SET_OBJECT_ID: u32 = 0x0009_0098;
    pub const GET_OBJECT_ID: u32 = 0x0009_009C;
    pub const DELETE_OBJECT_ID: u32 = 0x0009_00A0;
    pub const SET_REPARSE_POINT: u32 = 0x0009_00A4;
    pub const GET_REPARSE_POINT: u32 = 0x0009_00A8;
    pub const DELETE_REPARSE_POINT: u32 = 0x0009_00AC;
    pub const CREATE_OR_GET_OBJECT_ID: u32 = 0x0009_00C0;
    pub const SET_SPARSE: u32 = 0x0009_00C4;
    pub const SET_ZERO_DATA: u32 = 0x0009_80C8;
    pub const QUERY_ALLOCATED_RANGES: u32 = 0x0009_40CF;
    pub const SET_ZERO_ON_DEALLOCATION: u32 = 0x0009_0194;
    pub const GET_INTEGRITY_INFORMATION: u32 = 0x0009_027C;
    pub const SET_INTEGRITY_INFORMATION: u32 = 0x0009_C280;
    pub const QUERY_FILE_REGIONS: u32 = 0x0009_0284;
    pub const FILE_LEVEL_TRIM: u32 = 0x0009_8208;
    pub const OFFLOAD_READ: u32 = 0x0009_4264;
    pub const OFFLOAD_WRITE: u32 = 0x0009_8268;
    pub const DUPLICATE_EXTENTS_TO_FILE: u32 = 0x0009_8344;
}

/// SMB2 IOCTL request. `output` is the rarely used output buffer a client may send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoctlRequest<'a> {
    pub ctl_code: u32,
    pub file_id: FileId,
    pub input: &'a [u8],
    pub output: &'a [u8],
    pub max_input_response: u32,
    pub max_output_response: u32,
    pub flags: u32,
}

impl<'a> Body<'a> for IoctlRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        r.skip(2)?;
        let ctl_code = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        let (input_offset, input_len) = (r.u32()? as usize, r.u32()? as usize);
        let max_input_response = r.u32()?;
        let (output_offset, output_len) = (r.u32()? as usize, r.u32()? as usize);
        let max_output_response = r.u32()?;
        let flags = r.u32()?;
        r.skip(4)?;
        let fixed_end = r.position();
        Ok(IoctlRequest {
            ctl_code,
            file_id,
            input: buffer_after(&r, input_offset, input_len, fixed_end)?,
            output: buffer_after(&r, output_offset, output_len, fixed_end)?,
            max_input_response,
            max_output_response,
            flags,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u16_le(0);
        w.put_u32_le(self.ctl_code);
        self.file_id.encode(w);
        let offsets_pos = w.len();
        w.put_u64_le(0); // InputOffset, InputCount: patched by put_buffers
        w.put_u32_le(self.max_input_response);
        w.put_u64_le(0); // OutputOffset, OutputCount: patched by put_buffers
        w.put_u32_le(self.max_output_response);
        w.put_u32_le(self.flags);
        w.put_u32_le(0);
        put_buffers(
            w,
            pdu_start,
            self.input,
            self.output,
            [offsets_pos, offsets_pos + 12],
        );
        if self.input.is_empty() && self.output.is_empty() {
            w.put_u8(0);
        }
    }
}

/// Append the input buffer then the output buffer (8-aligned), patching offset/count pairs at `at`.
fn put_buffers(w: &mut BytesMut, pdu_start: usize, input: &[u8], output: &[u8], at: [usize; 2]) {
    let [input_at, output_at] = at;
    crate::writer::patch_u32(w, input_at, u32::from(super::offset_here(w, pdu_start)));
    crate::writer::patch_u32(w, input_at + 4, len_u32(input.len()));
    w.put_slice(input);
    if !input.is_empty() && !output.is_empty() {
        pad_to(w, pdu_start, 8);
    }
    crate::writer::patch_u32(w, output_at, u32::from(super::offset_here(w, pdu_start)));
    crate::writer::patch_u32(w, output_at + 4, len_u32(output.len()));
    w.put_slice(output);
}

/// SMB2 IOCTL response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoctlResponse<'a> {
    pub ctl_code: u32,
    pub file_id: FileId,
    pub input: &'a [u8],
    pub output: &'a [u8],
    pub flags: u32,
}

impl<'a> Body<'a> for IoctlResponse<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(RESPONSE_SIZE)?;
        r.skip(2)?;
        let ctl_code = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        let (input_offset, input_len) = (r.u32()? as usize, r.u32()? as usize);
        let (output_offset, output_len) = (r.u32()? as usize, r.u32()? as usize);
        let flags = r.u32()?;
        r.skip(4)?;
        let fixed_end = r.position();
        Ok(IoctlResponse {
            ctl_code,
            file_id,
            input: buffer_after(&r, input_offset, input_len, fixed_end)?,
            output: buffer_after(&r, output_offset, output_len, fixed_end)?,
            flags,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(RESPONSE_SIZE);
        w.put_u16_le(0);
        w.put_u32_le(self.ctl_code);
        self.file_id.encode(w);
        let offsets_pos = w.len();
        w.put_bytes(0, 16); // InputOffset, InputCount, OutputOffset, OutputCount: patched by put_buffers
        w.put_u32_le(self.flags);
        w.put_u32_le(0);
        put_buffers(
            w,
            pdu_start,
            self.input,
            self.output,
            [offsets_pos, offsets_pos + 8],
        );
    }
}

/// The input of FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.31.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidateNegotiateInfoRequest {
    pub capabilities: u32,
    pub guid: Guid,
    pub security_mode: u16,
    pub dialects: Vec<u16>,
}

impl ValidateNegotiateInfoRequest {
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        let capabilities = r.u32()?;
        let guid = r.array()?;
        let security_mode = r.u16()?;
        let count = usize::from(r.u16()?);
        let mut list = r.sub(count * 2)?;
        let dialects = (0..count).map(|_| list.u16()).collect::<Result<_, _>>()?;
        Ok(ValidateNegotiateInfoRequest {
            capabilities,
            guid,
            security_mode,
            dialects,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BytesMut::new();
        w.put_u32_le(self.capabilities);
        w.put_slice(&self.guid);
        w.put_u16_le(self.security_mode);
        w.put_u16_le(crate::writer::len_u16(self.dialects.len()));
        for d in &self.dialects {
            w.put_u16_le(*d);
        }
        w.to_vec()
    }
}

/// The output of FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.32.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidateNegotiateInfoResponse {
    pub capabilities: u32,
    pub guid: Guid,
    pub security_mode: u16,
    pub dialect: u16,
}

impl ValidateNegotiateInfoResponse {
    pub const SIZE: usize = 24;

    pub fn decode(output: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(output);
        Ok(ValidateNegotiateInfoResponse {
            capabilities: r.u32()?,
            guid: r.array()?,
            security_mode: r.u16()?,
            dialect: r.u16()?,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(Self::SIZE);
        w.put_u32_le(self.capabilities);
        w.put_slice(&self.guid);
        w.put_u16_le(self.security_mode);
        w.put_u16_le(self.dialect);
        w.to_vec()
    }
}

/// NETWORK_INTERFACE_INFO Capability bits (MS-SMB2 2.2.32.5).
pub const RSS_CAPABLE: u32 = 0x0000_0001;
pub const RDMA_CAPABLE: u32 = 0x0000_0002;

/// One server network interface. An interface with both addresses is sent as two entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkInterfaceInfo {
    pub if_index: u32,
    pub capability: u32,
    pub link_speed: u64,
    pub ipv4: Option<[u8; 4]>,
    pub ipv6: Option<[u8; 16]>,
}

/// Size of one NETWORK_INTERFACE_INFO entry: 24 fixed bytes and a 128-byte SOCKADDR_STORAGE.
const INTERFACE_ENTRY_SIZE: usize = 152;
const SOCKADDR_STORAGE_SIZE: usize = 128;
const AF_INET: u16 = 0x0002;
const AF_INET6: u16 = 0x0017;

/// The output of FSCTL_QUERY_NETWORK_INTERFACE_INFO: a Next-linked chain of entries, one per address.
pub fn encode_network_interfaces(list: &[NetworkInterfaceInfo]) -> Vec<u8> {
    let entries: Vec<(&NetworkInterfaceInfo, BytesMut)> = list
        .iter()
        .flat_map(|i| {
            let v4 = i.ipv4.map(|a| (i, sockaddr(AF_INET, &[&[0; 2], &a])));
            let v6 = i.ipv6.map(|a| (i, sockaddr(AF_INET6, &[&[0; 6], &a])));
            v4.into_iter().chain(v6)
        })
        .collect();
    let mut w = BytesMut::with_capacity(entries.len() * INTERFACE_ENTRY_SIZE);
    for (n, (i, addr)) in entries.iter().enumerate() {
        let last = n + 1 == entries.len();
        w.put_u32_le(if last {
            0
        } else {
            len_u32(INTERFACE_ENTRY_SIZE)
        });
        w.put_u32_le(i.if_index);
        w.put_u32_le(i.capability);
        w.put_u32_le(0);
        w.put_u64_le(i.link_speed);
        w.put_slice(addr);
    }
    w.to_vec()
}

/// A SOCKADDR_STORAGE: family, then `parts` (port, flow info, address...; port 0), zero-filled to 128 bytes.
fn sockaddr(family: u16, parts: &[&[u8]]) -> BytesMut {
    let mut s = BytesMut::with_capacity(SOCKADDR_STORAGE_SIZE);
    s.put_u16_le(family);
    for p in parts {
        s.put_slice(p);
    }
    s.put_bytes(0, SOCKADDR_STORAGE_SIZE.saturating_sub(s.len()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::{encode_pdu, pdu_with_body};
    use proptest::prelude::*;

    #[test]
    fn request_roundtrip_and_offsets() {
        let req = IoctlRequest {
            ctl_code: fsctl::PIPE_TRANSCEIVE,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            input: &[1, 2, 3],
            max_output_response: 4280,
            flags: IOCTL_IS_FSCTL,
            ..Default::default()
        };
        let pdu = encode_pdu(&req);
        assert_eq!(&pdu[64 + 24..64 + 32], &[0x78, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(IoctlRequest::decode(&pdu).unwrap(), req);
        let mut bad = pdu.clone();
        bad[64 + 28] = 4;
        assert_eq!(IoctlRequest::decode(&bad), Err(DecodeError::BadOffset));
    }

    #[test]
    fn response_aligns_output() {
        let resp = IoctlResponse {
            ctl_code: fsctl::VALIDATE_NEGOTIATE_INFO,
            file_id: FileId::COMPOUNDED,
            input: &[9],
            output: &[1, 2, 3, 4],
            flags: 0,
        };
        let pdu = encode_pdu(&resp);
        // Input at 0x70, output at the next multiple of 8.
        assert_eq!(
            &pdu[64 + 24..64 + 40],
            &[0x70, 0, 0, 0, 1, 0, 0, 0, 0x78, 0, 0, 0, 4, 0, 0, 0]
        );
        assert_eq!(IoctlResponse::decode(&pdu).unwrap(), resp);
    }

    #[test]
    fn validate_negotiate_payloads() {
        let req = ValidateNegotiateInfoRequest {
            capabilities: 0x7f,
            guid: [5; 16],
            security_mode: 1,
            dialects: vec![0x0202, 0x0210, 0x0300, 0x0302],
        };
        let bytes = req.encode();
        assert_eq!(bytes.len(), 24 + 8);
        assert_eq!(&bytes[22..26], &[4, 0, 0x02, 0x02]);
        assert_eq!(ValidateNegotiateInfoRequest::decode(&bytes).unwrap(), req);
        assert_eq!(
            ValidateNegotiateInfoRequest::decode(&bytes[..30]),
            Err(DecodeError::Truncated)
        );
        let resp = ValidateNegotiateInfoResponse {
            capabilities: 1,
            guid: [6; 16],
            security_mode: 2,
            dialect: 0x0302,
        };
        let out = resp.encode();
        assert_eq!(out.len(), ValidateNegotiateInfoResponse::SIZE);
        assert_eq!(&out[20..], &[2, 0, 2, 3]);
        assert_eq!(ValidateNegotiateInfoResponse::decode(&out).unwrap(), resp);
    }

    #[test]
    fn network_interfaces_chain() {
        let out = encode_network_interfaces(&[NetworkInterfaceInfo {
            if_index: 2,
            capability: RSS_CAPABLE,
            link_speed: 10_000_000_000,
            ipv4: Some([127, 0, 0, 1]),
            ipv6: Some([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        }]);
        assert_eq!(out.len(), 2 * 152);
        assert_eq!(&out[..12], &[152, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&out[24..32], &[2, 0, 0, 0, 127, 0, 0, 1]);
        assert_eq!(&out[152..156], &[0, 0, 0, 0]);
        assert_eq!(&out[152 + 24..152 + 26], &[0x17, 0]);
        assert_eq!(&out[152 + 32..152 + 34], &[0xfe, 0x80]);
        assert!(encode_network_interfaces(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..120)) {
            let pdu = pdu_with_body(&body);
            let _ = IoctlRequest::decode(&pdu);
            let _ = IoctlResponse::decode(&pdu);
            let _ = ValidateNegotiateInfoRequest::decode(&body);
        }
    }
}
