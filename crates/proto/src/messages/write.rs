//! SMB2 WRITE request and response (MS-SMB2 2.2.21, 2.2.22). The request's data is borrowed from the
//! receive buffer so the server writes it to disk without a copy.

use super::create::buffer_after;
use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::writer::{len_u16, len_u32};
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 49;
const RESPONSE_SIZE: u16 = 17;

/// Request Flags (MS-SMB2 2.2.21).
pub const WRITEFLAG_WRITE_THROUGH: u32 = 0x0000_0001;
pub const WRITEFLAG_WRITE_UNBUFFERED: u32 = 0x0000_0002;

/// SMB2 WRITE request. `channel` takes the values of [`super::read::channel`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteRequest<'a> {
    pub offset: u64,
    pub file_id: FileId,
    pub channel: u32,
    pub remaining_bytes: u32,
    pub flags: u32,
    pub data: &'a [u8],
    pub channel_info: &'a [u8],
}

impl<'a> Body<'a> for WriteRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let data_offset = usize::from(r.u16()?);
        let length = r.u32()? as usize;
        let offset = r.u64()?;
        let file_id = FileId::decode(&mut r)?;
        let channel = r.u32()?;
        let remaining_bytes = r.u32()?;
        let info_offset = usize::from(r.u16()?);
        let info_len = usize::from(r.u16()?);
        let flags = r.u32()?;
        let fixed_end = r.position();
        let data = buffer_after(&r, data_offset, length, fixed_end)?;
        let channel_info = buffer_after(&r, info_offset, info_len, fixed_end)?;
        Ok(WriteRequest {
            offset,
            file_id,
            channel,
            remaining_bytes,
            flags,
            data,
            channel_info,
        })
    }

    /// Places the data right after the fixed part (DataOffset 0x70) and the channel info after the data.
    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        let fixed_end = super::offset_here(w, pdu_start).saturating_add(48);
        let info_offset = if self.channel_info.is_empty() {
            0
        } else {
            fixed_end.saturating_add(len_u16(self.data.len()))
        };
        w.put_u16_le(REQUEST_SIZE);
        w.put_u16_le(fixed_end);
        w.put_u32_le(len_u32(self.data.len()));
        w.put_u64_le(self.offset);
        self.file_id.encode(w);
        w.put_u32_le(self.channel);
        w.put_u32_le(self.remaining_bytes);
        w.put_u16_le(info_offset);
        w.put_u16_le(len_u16(self.channel_info.len()));
        w.put_u32_le(self.flags);
        w.put_slice(self.data);
        w.put_slice(self.channel_info);
        if self.data.is_empty() && self.channel_info.is_empty() {
            w.put_u8(0);
        }
    }
}

/// SMB2 WRITE response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteResponse {
    pub count: u32,
    pub remaining: u32,
}

impl<'a> Body<'a> for WriteResponse {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(RESPONSE_SIZE)?;
        r.skip(2)?;
        let count = r.u32()?;
        let remaining = r.u32()?;
        r.skip(4)?; // WriteChannelInfoOffset, WriteChannelInfoLength
        Ok(WriteResponse { count, remaining })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(RESPONSE_SIZE);
        w.put_u16_le(0);
        w.put_u32_le(self.count);
        w.put_u32_le(self.remaining);
        w.put_u32_le(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::{encode_pdu, pdu_with_body};
    use crate::messages::test_util::roundtrip;
    use proptest::prelude::*;

    #[test]
    fn request_layout_and_roundtrip() {
        let req = WriteRequest {
            offset: 512,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            flags: WRITEFLAG_WRITE_THROUGH,
            data: b"data",
            ..Default::default()
        };
        let pdu = encode_pdu(&req);
        assert_eq!(&pdu[64..72], &[49, 0, 0x70, 0, 4, 0, 0, 0]);
        assert_eq!(&pdu[64 + 48..], b"data");
        let back = WriteRequest::decode(&pdu).unwrap();
        assert_eq!(back, req);
        // The data is borrowed from the PDU, not copied.
        assert_eq!(back.data.as_ptr(), pdu[112..].as_ptr());
    }

    #[test]
    fn request_data_checked_against_pdu() {
        let mut pdu = encode_pdu(&WriteRequest {
            data: b"data",
            ..Default::default()
        });
        pdu[64 + 4] = 5;
        assert_eq!(WriteRequest::decode(&pdu), Err(DecodeError::BadOffset));
        pdu[64 + 4] = 4;
        pdu[64 + 2] = 0x60;
        assert_eq!(WriteRequest::decode(&pdu), Err(DecodeError::BadOffset));
    }

    #[test]
    fn response_layout() {
        let bytes = roundtrip!(WriteResponse {
            count: 4,
            remaining: 0,
        });
        assert_eq!(
            &bytes[64..],
            &[17, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let pdu = pdu_with_body(&body);
            let _ = WriteRequest::decode(&pdu);
            let _ = WriteResponse::decode(&pdu);
        }
    }
}
