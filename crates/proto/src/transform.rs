//! The SMB2 TRANSFORM_HEADER that wraps encrypted messages (MS-SMB2 2.2.41). Encryption itself is in the
//! `crypto` crate; this is only the layout.

use crate::reader::{DecodeError, Reader};
use bytes::{BufMut, BytesMut};

pub const TRANSFORM_PROTOCOL_ID: [u8; 4] = [0xFD, b'S', b'M', b'B'];
pub const TRANSFORM_HEADER_LEN: usize = 52;
/// Flags value for an encrypted message (SMB 3.1.1; EncryptionAlgorithm AES-128-CCM in 3.0/3.0.2).
pub const FLAG_ENCRYPTED: u16 = 0x0001;
/// Byte range of the header that is authenticated as AAD: everything after the Signature (MS-SMB2 3.1.4.3).
pub const AAD_RANGE: core::ops::Range<usize> = 20..52;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransformHeader {
    pub signature: [u8; 16],
    pub nonce: [u8; 16],
    pub original_message_size: u32,
    pub flags: u16,
    pub session_id: u64,
}

impl TransformHeader {
    pub fn decode(msg: &[u8]) -> Result<TransformHeader, DecodeError> {
        let mut r = Reader::new(msg);
        if r.array::<4>()? != TRANSFORM_PROTOCOL_ID {
            return Err(DecodeError::BadValue);
        }
        let signature = r.array()?;
        let nonce = r.array()?;
        let original_message_size = r.u32()?;
        r.skip(2)?;
        let flags = r.u16()?;
        let session_id = r.u64()?;
        Ok(TransformHeader {
            signature,
            nonce,
            original_message_size,
            flags,
            session_id,
        })
    }

    pub fn encode(&self, w: &mut BytesMut) {
        w.put_slice(&TRANSFORM_PROTOCOL_ID);
        w.put_slice(&self.signature);
        w.put_slice(&self.nonce);
        w.put_u32_le(self.original_message_size);
        w.put_u16_le(0);
        w.put_u16_le(self.flags);
        w.put_u64_le(self.session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_is_52_bytes() {
        let h = TransformHeader {
            signature: [1; 16],
            nonce: [2; 16],
            original_message_size: 100,
            flags: FLAG_ENCRYPTED,
            session_id: 7,
        };
        let mut w = BytesMut::new();
        h.encode(&mut w);
        assert_eq!(w.len(), TRANSFORM_HEADER_LEN);
        assert_eq!(TransformHeader::decode(&w).unwrap(), h);
        assert!(TransformHeader::decode(&w[..51]).is_err());
    }
}
