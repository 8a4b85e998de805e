//! SMB2 SESSION_SETUP request and response (MS-SMB2 2.2.5 and 2.2.6).

use super::{body_reader, offset_here, Body};
use crate::reader::DecodeError;
use crate::writer::{len_u16, patch_u16};
use bytes::{BufMut, BytesMut};

pub const FLAG_BINDING: u8 = 0x01;
pub const SESSION_FLAG_IS_GUEST: u16 = 0x0001;
pub const SESSION_FLAG_IS_NULL: u16 = 0x0002;
pub const SESSION_FLAG_ENCRYPT_DATA: u16 = 0x0004;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSetupRequest<'a> {
    pub flags: u8,
    pub security_mode: u8,
    pub capabilities: u32,
    pub channel: u32,
    pub previous_session_id: u64,
    pub security_buffer: &'a [u8],
}

impl<'a> Body<'a> for SessionSetupRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(25)?;
        let flags = r.u8()?;
        let security_mode = r.u8()?;
        let capabilities = r.u32()?;
        let channel = r.u32()?;
        let off = r.u16()?;
        let len = r.u16()?;
        let previous_session_id = r.u64()?;
        if len > 0 && usize::from(off) < r.position() {
            return Err(DecodeError::BadOffset);
        }
        let security_buffer = r.at(usize::from(off), usize::from(len))?;
        Ok(SessionSetupRequest {
            flags,
            security_mode,
            capabilities,
            channel,
            previous_session_id,
            security_buffer,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(25);
        w.put_u8(self.flags);
        w.put_u8(self.security_mode);
        w.put_u32_le(self.capabilities);
        w.put_u32_le(self.channel);
        let off_pos = w.len();
        w.put_u16_le(0);
        w.put_u16_le(len_u16(self.security_buffer.len()));
        w.put_u64_le(self.previous_session_id);
        patch_u16(w, off_pos, offset_here(w, pdu_start));
        w.put_slice(self.security_buffer);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSetupResponse<'a> {
    pub session_flags: u16,
    pub security_buffer: &'a [u8],
}

impl<'a> Body<'a> for SessionSetupResponse<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(9)?;
        let session_flags = r.u16()?;
        let off = r.u16()?;
        let len = r.u16()?;
        let security_buffer = r.at(usize::from(off), usize::from(len))?;
        Ok(SessionSetupResponse {
            session_flags,
            security_buffer,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(9);
        w.put_u16_le(self.session_flags);
        let off_pos = w.len();
        w.put_u16_le(0);
        w.put_u16_le(len_u16(self.security_buffer.len()));
        if self.security_buffer.is_empty() {
            w.put_u8(0);
        } else {
            patch_u16(w, off_pos, offset_here(w, pdu_start));
            w.put_slice(self.security_buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::roundtrip;

    #[test]
    fn request_roundtrip_and_offset() {
        let tok = [0x60, 0x28, 6];
        let req = SessionSetupRequest {
            flags: 0,
            security_mode: 1,
            capabilities: 1,
            channel: 0,
            previous_session_id: 0,
            security_buffer: &tok,
        };
        let bytes = roundtrip!(req);
        assert_eq!(u16::from_le_bytes([bytes[76], bytes[77]]), 88);
    }

    #[test]
    fn response_roundtrip() {
        roundtrip!(SessionSetupResponse {
            session_flags: SESSION_FLAG_IS_GUEST,
            security_buffer: &[1, 2]
        });
        roundtrip!(SessionSetupResponse {
            session_flags: 0,
            security_buffer: &[]
        });
    }

    #[test]
    fn buffer_outside_pdu_is_rejected() {
        let req = SessionSetupRequest {
            flags: 0,
            security_mode: 1,
            capabilities: 0,
            channel: 0,
            previous_session_id: 0,
            security_buffer: &[1, 2, 3],
        };
        let mut w = BytesMut::new();
        crate::Header::default().encode(&mut w);
        req.encode(&mut w, 0);
        let mut bad = w.to_vec();
        bad[78..80].copy_from_slice(&400u16.to_le_bytes());
        assert_eq!(
            SessionSetupRequest::decode(&bad),
            Err(DecodeError::BadOffset)
        );
    }
}
