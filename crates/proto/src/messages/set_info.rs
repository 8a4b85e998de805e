//! SMB2 SET_INFO request and response (MS-SMB2 2.2.39, 2.2.40). The buffer is decoded with
//! [`crate::fscc::set_info`] according to the info type and class.

use super::create::buffer_after;
use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::writer::len_u32;
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 33;
const RESPONSE_SIZE: u16 = 2;

/// SMB2 SET_INFO request. `info_type` takes the values of [`super::query_info`] (INFO_FILE...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetInfoRequest<'a> {
    pub info_type: u8,
    pub file_info_class: u8,
    pub buffer: &'a [u8],
    pub additional_information: u32,
    pub file_id: FileId,
}

impl<'a> Body<'a> for SetInfoRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let info_type = r.u8()?;
        let file_info_class = r.u8()?;
        let len = r.u32()? as usize;
        let offset = usize::from(r.u16()?);
        r.skip(2)?;
        let additional_information = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        let buffer = buffer_after(&r, offset, len, r.position())?;
        Ok(SetInfoRequest {
            info_type,
            file_info_class,
            buffer,
            additional_information,
            file_id,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u8(self.info_type);
        w.put_u8(self.file_info_class);
        w.put_u32_le(len_u32(self.buffer.len()));
        w.put_u16_le(super::offset_here(w, pdu_start).saturating_add(24));
        w.put_u16_le(0);
        w.put_u32_le(self.additional_information);
        self.file_id.encode(w);
        w.put_slice(self.buffer);
        if self.buffer.is_empty() {
            w.put_u8(0);
        }
    }
}

/// SMB2 SET_INFO response: a bare StructureSize of 2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetInfoResponse;

impl<'a> Body<'a> for SetInfoResponse {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        body_reader(pdu)?.structure_size(RESPONSE_SIZE)?;
        Ok(SetInfoResponse)
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(RESPONSE_SIZE);
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
        let req = SetInfoRequest {
            info_type: 1,
            file_info_class: 20,
            buffer: &[0, 16, 0, 0, 0, 0, 0, 0],
            additional_information: 0,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
        };
        let pdu = encode_pdu(&req);
        assert_eq!(&pdu[64..72], &[33, 0, 1, 20, 8, 0, 0, 0]);
        assert_eq!(&pdu[72..74], &[0x60, 0]);
        assert_eq!(&pdu[96..], &[0, 16, 0, 0, 0, 0, 0, 0]);
        assert_eq!(SetInfoRequest::decode(&pdu).unwrap(), req);
        let mut bad = pdu.clone();
        bad[64 + 4] = 9;
        assert_eq!(SetInfoRequest::decode(&bad), Err(DecodeError::BadOffset));
    }

    #[test]
    fn response_is_two_bytes() {
        let bytes = roundtrip!(SetInfoResponse);
        assert_eq!(&bytes[64..], &[2, 0]);
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..60)) {
            let _ = SetInfoRequest::decode(&pdu_with_body(&body));
        }
    }
}
