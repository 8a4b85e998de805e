//! SMB2 READ request and response (MS-SMB2 2.2.19, 2.2.20), including the fixed response prefix used by
//! the zero-copy read path (the server appends file data right behind it).

use super::create::buffer_after;
use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::writer::len_u16;
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 49;
const RESPONSE_SIZE: u16 = 17;

/// DataOffset of a READ response whose data follows the 16 fixed bytes behind the 64-byte header.
pub const READ_RESPONSE_DATA_OFFSET: u8 = 0x50;

/// Request Flags (MS-SMB2 2.2.19).
pub const READFLAG_READ_UNBUFFERED: u8 = 0x01;
pub const READFLAG_REQUEST_COMPRESSED: u8 = 0x02;

/// Channel values of READ and WRITE requests (MS-SMB2 2.2.19).
pub mod channel {
    pub const NONE: u32 = 0;
    pub const RDMA_V1: u32 = 1;
    pub const RDMA_V1_INVALIDATE: u32 = 2;
    pub const RDMA_TRANSFORM: u32 = 3;
}

/// SMB2 READ request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadRequest<'a> {
    pub padding: u8,
    pub flags: u8,
    pub length: u32,
    pub offset: u64,
    pub file_id: FileId,
    pub minimum_count: u32,
    pub channel: u32,
    pub remaining_bytes: u32,
    pub channel_info: &'a [u8],
}

impl<'a> Body<'a> for ReadRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let padding = r.u8()?;
        let flags = r.u8()?;
        let length = r.u32()?;
        let offset = r.u64()?;
        let file_id = FileId::decode(&mut r)?;
        let minimum_count = r.u32()?;
        let channel = r.u32()?;
        let remaining_bytes = r.u32()?;
        let info_offset = usize::from(r.u16()?);
        let info_len = usize::from(r.u16()?);
        let channel_info = buffer_after(&r, info_offset, info_len, r.position())?;
        Ok(ReadRequest {
            padding,
            flags,
            length,
            offset,
            file_id,
            minimum_count,
            channel,
            remaining_bytes,
            channel_info,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u8(self.padding);
        w.put_u8(self.flags);
        w.put_u32_le(self.length);
        w.put_u64_le(self.offset);
        self.file_id.encode(w);
        w.put_u32_le(self.minimum_count);
        w.put_u32_le(self.channel);
        w.put_u32_le(self.remaining_bytes);
        let info_offset = if self.channel_info.is_empty() {
            0
        } else {
            super::offset_here(w, pdu_start).saturating_add(4)
        };
        w.put_u16_le(info_offset);
        w.put_u16_le(len_u16(self.channel_info.len()));
        if self.channel_info.is_empty() {
            w.put_u8(0);
        }
        w.put_slice(self.channel_info);
    }
}

/// Append the 16 fixed bytes of a READ response (StructureSize 17, DataOffset 0x50, DataLength,
/// DataRemaining); the caller appends `data_len` bytes of data right after.
pub fn encode_read_response_prefix(w: &mut BytesMut, data_len: u32, data_remaining: u32) {
    w.put_u16_le(RESPONSE_SIZE);
    w.put_u8(READ_RESPONSE_DATA_OFFSET);
    w.put_u8(0);
    w.put_u32_le(data_len);
    w.put_u32_le(data_remaining);
    w.put_u32_le(0);
}

/// SMB2 READ response with its data borrowed (for tests and clients; the server uses the prefix above).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadResponse<'a> {
    pub data: &'a [u8],
    pub data_remaining: u32,
}

impl<'a> Body<'a> for ReadResponse<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(RESPONSE_SIZE)?;
        let data_offset = usize::from(r.u8()?);
        r.skip(1)?;
        let data_len = r.u32()? as usize;
        let data_remaining = r.u32()?;
        r.skip(4)?;
        let data = buffer_after(&r, data_offset, data_len, r.position())?;
        Ok(ReadResponse {
            data,
            data_remaining,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        encode_read_response_prefix(
            w,
            crate::writer::len_u32(self.data.len()),
            self.data_remaining,
        );
        w.put_slice(self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::{encode_pdu, pdu_with_body};
    use proptest::prelude::*;

    #[test]
    fn response_matches_spec_layout() {
        let resp = ReadResponse {
            data: b"hello",
            data_remaining: 0,
        };
        let pdu = encode_pdu(&resp);
        let expected: &[u8] = &[
            17, 0, 0x50, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'h', b'e', b'l', b'l', b'o',
        ];
        assert_eq!(&pdu[64..], expected);
        assert_eq!(usize::from(READ_RESPONSE_DATA_OFFSET), 64 + 16);
        assert_eq!(ReadResponse::decode(&pdu).unwrap(), resp);
    }

    #[test]
    fn response_data_must_be_inside_pdu_and_after_fixed_part() {
        let mut pdu = encode_pdu(&ReadResponse {
            data: b"abc",
            data_remaining: 0,
        });
        pdu[64 + 2] = 0x40;
        assert_eq!(ReadResponse::decode(&pdu), Err(DecodeError::BadOffset));
        pdu[64 + 2] = 0x50;
        pdu[64 + 4] = 4;
        assert_eq!(ReadResponse::decode(&pdu), Err(DecodeError::BadOffset));
    }

    #[test]
    fn request_roundtrip_and_layout() {
        let req = ReadRequest {
            padding: 0x50,
            length: 65536,
            offset: 4096,
            file_id: FileId {
                persistent: 7,
                volatile: 8,
            },
            minimum_count: 1,
            ..Default::default()
        };
        let pdu = encode_pdu(&req);
        assert_eq!(pdu.len(), 64 + 49);
        assert_eq!(&pdu[64..72], &[49, 0, 0x50, 0, 0, 0, 1, 0]);
        assert_eq!(ReadRequest::decode(&pdu).unwrap(), req);
        let with_info = ReadRequest {
            channel: channel::RDMA_V1,
            channel_info: &[1, 2, 3, 4],
            ..req
        };
        let pdu = encode_pdu(&with_info);
        assert_eq!(&pdu[64 + 44..64 + 48], &[0x70, 0, 4, 0]);
        assert_eq!(ReadRequest::decode(&pdu).unwrap(), with_info);
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let pdu = pdu_with_body(&body);
            let _ = ReadRequest::decode(&pdu);
            let _ = ReadResponse::decode(&pdu);
        }
    }
}
