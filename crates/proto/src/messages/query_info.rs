//! SMB2 QUERY_INFO request and response (MS-SMB2 2.2.37, 2.2.38). The response layout (StructureSize 9,
//! OutputBufferOffset, OutputBufferLength, Buffer) is shared with QUERY_DIRECTORY and CHANGE_NOTIFY responses.

use super::create::buffer_after;
use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::writer::len_u32;
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 41;
const RESPONSE_SIZE: u16 = 9;

/// InfoType values (MS-SMB2 2.2.37).
pub const INFO_FILE: u8 = 0x01;
pub const INFO_FILESYSTEM: u8 = 0x02;
pub const INFO_SECURITY: u8 = 0x03;
pub const INFO_QUOTA: u8 = 0x04;

/// AdditionalInformation bits for INFO_SECURITY (MS-SMB2 2.2.37; MS-DTYP 2.4.7 SECURITY_INFORMATION).
pub use dtyp::sd::security_information;

/// Flags for INFO_FILE with FileFullEaInformation (MS-SMB2 2.2.37).
pub const SL_RESTART_SCAN: u32 = 0x0000_0001;
pub const SL_RETURN_SINGLE_ENTRY: u32 = 0x0000_0002;
pub const SL_INDEX_SPECIFIED: u32 = 0x0000_0004;

/// SMB2 QUERY_INFO request. `input` is the optional input buffer (quota SIDs, EA names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryInfoRequest<'a> {
    pub info_type: u8,
    pub file_info_class: u8,
    pub output_buffer_length: u32,
    pub input: &'a [u8],
    pub additional_information: u32,
    pub flags: u32,
    pub file_id: FileId,
}

impl<'a> Body<'a> for QueryInfoRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let info_type = r.u8()?;
        let file_info_class = r.u8()?;
        let output_buffer_length = r.u32()?;
        let input_offset = usize::from(r.u16()?);
        r.skip(2)?;
        let input_len = r.u32()? as usize;
        let additional_information = r.u32()?;
        let flags = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        let input = buffer_after(&r, input_offset, input_len, r.position())?;
        Ok(QueryInfoRequest {
            info_type,
            file_info_class,
            output_buffer_length,
            input,
            additional_information,
            flags,
            file_id,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u8(self.info_type);
        w.put_u8(self.file_info_class);
        w.put_u32_le(self.output_buffer_length);
        let input_offset = if self.input.is_empty() {
            0
        } else {
            super::offset_here(w, pdu_start).saturating_add(32)
        };
        w.put_u16_le(input_offset);
        w.put_u16_le(0);
        w.put_u32_le(len_u32(self.input.len()));
        w.put_u32_le(self.additional_information);
        w.put_u32_le(self.flags);
        self.file_id.encode(w);
        w.put_slice(self.input);
        if self.input.is_empty() {
            w.put_u8(0);
        }
    }
}

/// A response made of one output buffer placed right after its 8 fixed bytes (offset 72 from the header).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputBuffer<'a> {
    pub buffer: &'a [u8],
}

/// SMB2 QUERY_INFO response.
pub type QueryInfoResponse<'a> = OutputBuffer<'a>;

impl<'a> Body<'a> for OutputBuffer<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(RESPONSE_SIZE)?;
        let offset = usize::from(r.u16()?);
        let len = r.u32()? as usize;
        Ok(OutputBuffer {
            buffer: buffer_after(&r, offset, len, r.position())?,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(RESPONSE_SIZE);
        w.put_u16_le(super::offset_here(w, pdu_start).saturating_add(6));
        w.put_u32_le(len_u32(self.buffer.len()));
        w.put_slice(self.buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::{encode_pdu, pdu_with_body};
    use proptest::prelude::*;

    #[test]
    fn request_roundtrip_and_layout() {
        let req = QueryInfoRequest {
            info_type: INFO_SECURITY,
            file_info_class: 0,
            output_buffer_length: 4096,
            additional_information: security_information::OWNER | security_information::DACL,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            ..Default::default()
        };
        let pdu = encode_pdu(&req);
        assert_eq!(pdu.len(), 64 + 41);
        assert_eq!(&pdu[64..68], &[41, 0, 3, 0]);
        assert_eq!(QueryInfoRequest::decode(&pdu).unwrap(), req);
        let with_input = QueryInfoRequest {
            input: &[1, 2, 3, 4],
            ..req
        };
        let pdu = encode_pdu(&with_input);
        assert_eq!(&pdu[64 + 8..64 + 10], &[0x68, 0]);
        assert_eq!(QueryInfoRequest::decode(&pdu).unwrap(), with_input);
    }

    #[test]
    fn response_buffer_at_72() {
        let resp = QueryInfoResponse { buffer: &[1, 2, 3] };
        let pdu = encode_pdu(&resp);
        assert_eq!(&pdu[64..], &[9, 0, 72, 0, 3, 0, 0, 0, 1, 2, 3]);
        assert_eq!(QueryInfoResponse::decode(&pdu).unwrap(), resp);
        let mut bad = pdu.clone();
        bad[64 + 2] = 70;
        assert_eq!(QueryInfoResponse::decode(&bad), Err(DecodeError::BadOffset));
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let pdu = pdu_with_body(&body);
            let _ = QueryInfoRequest::decode(&pdu);
            let _ = QueryInfoResponse::decode(&pdu);
        }
    }
}
