//! SMB2 QUERY_DIRECTORY request and response (MS-SMB2 2.2.33, 2.2.34). The entries in the response
//! buffer are built with [`crate::fscc::dir_info`].

use super::create::buffer_after;
use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::writer::len_u16;
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 33;

/// Request Flags (MS-SMB2 2.2.33).
pub const RESTART_SCANS: u8 = 0x01;
pub const RETURN_SINGLE_ENTRY: u8 = 0x02;
pub const INDEX_SPECIFIED: u8 = 0x04;
pub const REOPEN: u8 = 0x10;

/// SMB2 QUERY_DIRECTORY request. `file_name` is the UTF-16LE search pattern.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryDirectoryRequest<'a> {
    pub file_information_class: u8,
    pub flags: u8,
    pub file_index: u32,
    pub file_id: FileId,
    pub file_name: &'a [u8],
    pub output_buffer_length: u32,
}

/// SMB2 QUERY_DIRECTORY response: the entries at OutputBufferOffset 72.
pub type QueryDirectoryResponse<'a> = super::query_info::OutputBuffer<'a>;

impl<'a> Body<'a> for QueryDirectoryRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let file_information_class = r.u8()?;
        let flags = r.u8()?;
        let file_index = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        let name_offset = usize::from(r.u16()?);
        let name_len = usize::from(r.u16()?);
        let output_buffer_length = r.u32()?;
        if !name_len.is_multiple_of(2) {
            return Err(DecodeError::BadValue);
        }
        let file_name = buffer_after(&r, name_offset, name_len, r.position())?;
        Ok(QueryDirectoryRequest {
            file_information_class,
            flags,
            file_index,
            file_id,
            file_name,
            output_buffer_length,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u8(self.file_information_class);
        w.put_u8(self.flags);
        w.put_u32_le(self.file_index);
        self.file_id.encode(w);
        w.put_u16_le(super::offset_here(w, pdu_start).saturating_add(8));
        w.put_u16_le(len_u16(self.file_name.len()));
        w.put_u32_le(self.output_buffer_length);
        w.put_slice(self.file_name);
        if self.file_name.is_empty() {
            w.put_u8(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::{encode_pdu, pdu_with_body};
    use proptest::prelude::*;

    #[test]
    fn request_layout_and_roundtrip() {
        let req = QueryDirectoryRequest {
            file_information_class: 37,
            flags: RESTART_SCANS,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            file_name: &[b'*', 0],
            output_buffer_length: 65536,
            ..Default::default()
        };
        let pdu = encode_pdu(&req);
        assert_eq!(&pdu[64..68], &[33, 0, 37, 1]);
        assert_eq!(&pdu[64 + 24..64 + 28], &[0x60, 0, 2, 0]);
        assert_eq!(&pdu[96..], &[b'*', 0]);
        assert_eq!(QueryDirectoryRequest::decode(&pdu).unwrap(), req);
        let mut odd = pdu.clone();
        odd[64 + 26] = 1;
        assert_eq!(
            QueryDirectoryRequest::decode(&odd),
            Err(DecodeError::BadValue)
        );
    }

    #[test]
    fn response_roundtrip() {
        let resp = QueryDirectoryResponse { buffer: &[0; 16] };
        let pdu = encode_pdu(&resp);
        assert_eq!(&pdu[64..72], &[9, 0, 72, 0, 16, 0, 0, 0]);
        assert_eq!(QueryDirectoryResponse::decode(&pdu).unwrap(), resp);
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = QueryDirectoryRequest::decode(&pdu_with_body(&body));
        }
    }
}
