//! SMB2 TREE_CONNECT request and response (MS-SMB2 2.2.9 and 2.2.10).

use super::{body_reader, offset_here, Body};
use crate::reader::DecodeError;
use crate::writer::{len_u16, patch_u16};
use bytes::{BufMut, BytesMut};

pub const SHARE_TYPE_DISK: u8 = 0x01;
pub const SHARE_TYPE_PIPE: u8 = 0x02;

pub const SHAREFLAG_MANUAL_CACHING: u32 = 0x0000_0000;
pub const SHAREFLAG_NO_CACHING: u32 = 0x0000_0030;
pub const SHAREFLAG_ACCESS_BASED_DIRECTORY_ENUM: u32 = 0x0000_0800;
pub const SHAREFLAG_ENCRYPT_DATA: u32 = 0x0000_8000;
pub const SHARE_CAP_DFS: u32 = 0x0000_0008;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeConnectRequest<'a> {
    pub flags: u16,
    /// The UNC path `\\server\share` as UTF-16LE.
    pub path: &'a [u8],
}

impl<'a> Body<'a> for TreeConnectRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(9)?;
        let flags = r.u16()?;
        let off = r.u16()?;
        let len = r.u16()?;
        if usize::from(off) < r.position() || len % 2 != 0 {
            return Err(DecodeError::BadOffset);
        }
        let path = r.at(usize::from(off), usize::from(len))?;
        Ok(TreeConnectRequest { flags, path })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(9);
        w.put_u16_le(self.flags);
        let off_pos = w.len();
        w.put_u16_le(0);
        w.put_u16_le(len_u16(self.path.len()));
        patch_u16(w, off_pos, offset_here(w, pdu_start));
        w.put_slice(self.path);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeConnectResponse {
    pub share_type: u8,
    pub share_flags: u32,
    pub capabilities: u32,
    pub maximal_access: u32,
}

impl<'a> Body<'a> for TreeConnectResponse {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(16)?;
        let share_type = r.u8()?;
        r.skip(1)?;
        Ok(TreeConnectResponse {
            share_type,
            share_flags: r.u32()?,
            capabilities: r.u32()?,
            maximal_access: r.u32()?,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(16);
        w.put_u8(self.share_type);
        w.put_u8(0);
        w.put_u32_le(self.share_flags);
        w.put_u32_le(self.capabilities);
        w.put_u32_le(self.maximal_access);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::roundtrip;

    #[test]
    fn roundtrips() {
        let path: Vec<u8> = "\\\\h\\s"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let bytes = roundtrip!(TreeConnectRequest {
            flags: 0,
            path: &path
        });
        assert_eq!(u16::from_le_bytes([bytes[68], bytes[69]]), 72);
        roundtrip!(TreeConnectResponse {
            share_type: SHARE_TYPE_DISK,
            share_flags: 0,
            capabilities: 0,
            maximal_access: 0x1f01ff,
        });
    }
}
