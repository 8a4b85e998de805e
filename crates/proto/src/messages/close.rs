//! SMB2 CLOSE request and response (MS-SMB2 2.2.15, 2.2.16).

use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::FileId;
use bytes::{BufMut, BytesMut};

/// Flags bit: return the file's attributes in the response.
pub const POSTQUERY_ATTRIB: u16 = 0x0001;

/// SMB2 CLOSE request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloseRequest {
    pub flags: u16,
    pub file_id: FileId,
}

impl<'a> Body<'a> for CloseRequest {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(24)?;
        let flags = r.u16()?;
        r.skip(4)?;
        Ok(CloseRequest {
            flags,
            file_id: FileId::decode(&mut r)?,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(24);
        w.put_u16_le(self.flags);
        w.put_u32_le(0);
        self.file_id.encode(w);
    }
}

/// SMB2 CLOSE response. The attribute fields are zero unless the request asked for POSTQUERY_ATTRIB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloseResponse {
    pub flags: u16,
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub allocation_size: u64,
    pub end_of_file: u64,
    pub file_attributes: u32,
}

impl<'a> Body<'a> for CloseResponse {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(60)?;
        let flags = r.u16()?;
        r.skip(4)?;
        Ok(CloseResponse {
            flags,
            creation_time: r.u64()?,
            last_access_time: r.u64()?,
            last_write_time: r.u64()?,
            change_time: r.u64()?,
            allocation_size: r.u64()?,
            end_of_file: r.u64()?,
            file_attributes: r.u32()?,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(60);
        w.put_u16_le(self.flags);
        w.put_u32_le(0);
        w.put_u64_le(self.creation_time);
        w.put_u64_le(self.last_access_time);
        w.put_u64_le(self.last_write_time);
        w.put_u64_le(self.change_time);
        w.put_u64_le(self.allocation_size);
        w.put_u64_le(self.end_of_file);
        w.put_u32_le(self.file_attributes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::pdu_with_body;
    use crate::messages::test_util::roundtrip;
    use proptest::prelude::*;

    #[test]
    fn request_layout() {
        let req = CloseRequest {
            flags: POSTQUERY_ATTRIB,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
        };
        let bytes = roundtrip!(req);
        assert_eq!(&bytes[64..72], &[24, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(bytes.len(), 64 + 24);
    }

    #[test]
    fn response_is_sixty_bytes() {
        let resp = CloseResponse {
            flags: 1,
            end_of_file: 5,
            file_attributes: 0x20,
            ..Default::default()
        };
        let bytes = roundtrip!(resp);
        assert_eq!(bytes.len(), 64 + 60);
        assert_eq!(&bytes[64 + 56..], &[0x20, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = CloseRequest::decode(&pdu_with_body(&body));
        }
    }
}
