//! SMB2 NEGOTIATE request and response (MS-SMB2 2.2.3 and 2.2.4).

use super::{body_reader, offset_here, Body};
use crate::negotiate_context::{self, NegotiateContext};
use crate::reader::DecodeError;
use crate::writer::{len_u16, len_u32, pad_to, patch_u16, patch_u32};
use crate::Guid;
use bytes::{BufMut, BytesMut};

pub const SMB2_0_2: u16 = 0x0202;
pub const SMB2_1: u16 = 0x0210;
pub const SMB3_0: u16 = 0x0300;
pub const SMB3_0_2: u16 = 0x0302;
pub const SMB3_1_1: u16 = 0x0311;
/// The wildcard revision answered to a multi-protocol SMB1 negotiate (MS-SMB2 3.3.5.3.1).
pub const SMB2_WILDCARD: u16 = 0x02FF;

pub const SIGNING_ENABLED: u16 = 0x0001;
pub const SIGNING_REQUIRED: u16 = 0x0002;

pub const CAP_DFS: u32 = 0x01;
pub const CAP_LEASING: u32 = 0x02;
pub const CAP_LARGE_MTU: u32 = 0x04;
pub const CAP_MULTI_CHANNEL: u32 = 0x08;
pub const CAP_PERSISTENT_HANDLES: u32 = 0x10;
pub const CAP_DIRECTORY_LEASING: u32 = 0x20;
pub const CAP_ENCRYPTION: u32 = 0x40;

/// Most dialects a request may list (there are five defined; clients send up to a handful).
const MAX_DIALECTS: u16 = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiateRequest<'a> {
    pub security_mode: u16,
    pub capabilities: u32,
    pub client_guid: Guid,
    pub dialects: Vec<u16>,
    /// Present only when the dialect list contains 3.1.1.
    pub contexts: Vec<NegotiateContext<'a>>,
}

impl<'a> Body<'a> for NegotiateRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(36)?;
        let dialect_count = r.u16()?;
        if dialect_count == 0 || dialect_count > MAX_DIALECTS {
            return Err(DecodeError::BadValue);
        }
        let security_mode = r.u16()?;
        r.skip(2)?;
        let capabilities = r.u32()?;
        let client_guid = r.array()?;
        let context_offset = r.u32()?;
        let context_count = r.u16()?;
        r.skip(2)?;
        let dialects = (0..dialect_count)
            .map(|_| r.u16())
            .collect::<Result<Vec<_>, _>>()?;
        let contexts = if dialects.contains(&SMB3_1_1) && context_count > 0 {
            let off = usize::try_from(context_offset).map_err(|_| DecodeError::BadOffset)?;
            if off < r.position() {
                return Err(DecodeError::BadOffset);
            }
            negotiate_context::decode_list(pdu, off, context_count)?
        } else {
            Vec::new()
        };
        Ok(NegotiateRequest {
            security_mode,
            capabilities,
            client_guid,
            dialects,
            contexts,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(36);
        w.put_u16_le(len_u16(self.dialects.len()));
        w.put_u16_le(self.security_mode);
        w.put_u16_le(0);
        w.put_u32_le(self.capabilities);
        w.put_slice(&self.client_guid);
        let off_pos = w.len();
        w.put_u32_le(0);
        w.put_u16_le(len_u16(self.contexts.len()));
        w.put_u16_le(0);
        self.dialects.iter().for_each(|d| w.put_u16_le(*d));
        if !self.contexts.is_empty() {
            pad_to(w, pdu_start, 8);
            patch_u32(w, off_pos, u32::from(offset_here(w, pdu_start)));
            negotiate_context::encode_list(w, pdu_start, &self.contexts);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiateResponse<'a> {
    pub security_mode: u16,
    pub dialect_revision: u16,
    pub server_guid: Guid,
    pub capabilities: u32,
    pub max_transact_size: u32,
    pub max_read_size: u32,
    pub max_write_size: u32,
    pub system_time: u64,
    pub server_start_time: u64,
    pub security_buffer: &'a [u8],
    pub contexts: Vec<NegotiateContext<'a>>,
}

impl<'a> Body<'a> for NegotiateResponse<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(65)?;
        let security_mode = r.u16()?;
        let dialect_revision = r.u16()?;
        let context_count = r.u16()?;
        let server_guid = r.array()?;
        let capabilities = r.u32()?;
        let max_transact_size = r.u32()?;
        let max_read_size = r.u32()?;
        let max_write_size = r.u32()?;
        let system_time = r.u64()?;
        let server_start_time = r.u64()?;
        let sb_off = r.u16()?;
        let sb_len = r.u16()?;
        let ctx_off = r.u32()?;
        let security_buffer = r.at(usize::from(sb_off), usize::from(sb_len))?;
        let contexts = if dialect_revision == SMB3_1_1 {
            let off = usize::try_from(ctx_off).map_err(|_| DecodeError::BadOffset)?;
            negotiate_context::decode_list(pdu, off, context_count)?
        } else {
            Vec::new()
        };
        Ok(NegotiateResponse {
            security_mode,
            dialect_revision,
            server_guid,
            capabilities,
            max_transact_size,
            max_read_size,
            max_write_size,
            system_time,
            server_start_time,
            security_buffer,
            contexts,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(65);
        w.put_u16_le(self.security_mode);
        w.put_u16_le(self.dialect_revision);
        w.put_u16_le(len_u16(self.contexts.len()));
        w.put_slice(&self.server_guid);
        w.put_u32_le(self.capabilities);
        w.put_u32_le(self.max_transact_size);
        w.put_u32_le(self.max_read_size);
        w.put_u32_le(self.max_write_size);
        w.put_u64_le(self.system_time);
        w.put_u64_le(self.server_start_time);
        let sb_pos = w.len();
        w.put_u16_le(0);
        w.put_u16_le(len_u16(self.security_buffer.len()));
        let ctx_pos = w.len();
        w.put_u32_le(0);
        patch_u16(w, sb_pos, offset_here(w, pdu_start));
        if self.security_buffer.is_empty() {
            // The fixed part's StructureSize of 65 counts one byte of buffer.
            w.put_u8(0);
        } else {
            w.put_slice(self.security_buffer);
        }
        if !self.contexts.is_empty() {
            pad_to(w, pdu_start, 8);
            patch_u32(w, ctx_pos, len_u32(w.len() - pdu_start));
            negotiate_context::encode_list(w, pdu_start, &self.contexts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::roundtrip;
    use crate::negotiate_context::*;

    #[test]
    fn request_roundtrip_with_contexts() {
        let salt = [1u8; 32];
        let req = NegotiateRequest {
            security_mode: SIGNING_ENABLED,
            capabilities: CAP_ENCRYPTION,
            client_guid: [5; 16],
            dialects: vec![SMB2_0_2, SMB2_1, SMB3_0, SMB3_0_2, SMB3_1_1],
            contexts: vec![
                NegotiateContext::PreauthIntegrity {
                    hash_algorithms: vec![HASH_SHA512],
                    salt: &salt,
                },
                NegotiateContext::Encryption {
                    ciphers: vec![CIPHER_AES128_GCM],
                },
            ],
        };
        let bytes = roundtrip!(req);
        // NegotiateContextOffset is 8-aligned: 64 + 36 + 10 = 110 -> 112.
        assert_eq!(u32::from_le_bytes(bytes[92..96].try_into().unwrap()), 112);
    }

    #[test]
    fn response_roundtrip() {
        let token = [0x60, 1, 2];
        let resp = NegotiateResponse {
            security_mode: SIGNING_ENABLED,
            dialect_revision: SMB3_1_1,
            server_guid: [9; 16],
            capabilities: CAP_LARGE_MTU,
            max_transact_size: 8 << 20,
            max_read_size: 8 << 20,
            max_write_size: 8 << 20,
            system_time: 1,
            server_start_time: 0,
            security_buffer: &token,
            contexts: vec![NegotiateContext::Signing {
                algorithms: vec![SIGNING_AES_CMAC],
            }],
        };
        let bytes = roundtrip!(resp);
        assert_eq!(u16::from_le_bytes([bytes[120], bytes[121]]), 128);
    }

    #[test]
    fn rejects_zero_dialects_and_context_offset_into_fixed_part() {
        let req = NegotiateRequest {
            security_mode: 0,
            capabilities: 0,
            client_guid: [0; 16],
            dialects: vec![SMB3_1_1],
            contexts: vec![NegotiateContext::Transport { flags: 0 }],
        };
        let mut w = BytesMut::new();
        crate::Header::default().encode(&mut w);
        req.encode(&mut w, 0);
        let mut bad = w.to_vec();
        bad[92..96].copy_from_slice(&64u32.to_le_bytes());
        assert_eq!(NegotiateRequest::decode(&bad), Err(DecodeError::BadOffset));
        let mut zero = w.to_vec();
        zero[66..68].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(NegotiateRequest::decode(&zero), Err(DecodeError::BadValue));
    }
}
