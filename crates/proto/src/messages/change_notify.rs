//! SMB2 CHANGE_NOTIFY request and response (MS-SMB2 2.2.35, 2.2.36).

use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 32;

/// Request Flags: watch the whole subtree.
pub const WATCH_TREE: u16 = 0x0001;

/// CompletionFilter bits (MS-SMB2 2.2.35).
pub mod completion_filter {
    pub const FILE_NAME: u32 = 0x0000_0001;
    pub const DIR_NAME: u32 = 0x0000_0002;
    pub const ATTRIBUTES: u32 = 0x0000_0004;
    pub const SIZE: u32 = 0x0000_0008;
    pub const LAST_WRITE: u32 = 0x0000_0010;
    pub const LAST_ACCESS: u32 = 0x0000_0020;
    pub const CREATION: u32 = 0x0000_0040;
    pub const EA: u32 = 0x0000_0080;
    pub const SECURITY: u32 = 0x0000_0100;
    pub const STREAM_NAME: u32 = 0x0000_0200;
    pub const STREAM_SIZE: u32 = 0x0000_0400;
    pub const STREAM_WRITE: u32 = 0x0000_0800;
}

/// SMB2 CHANGE_NOTIFY request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeNotifyRequest {
    pub flags: u16,
    pub output_buffer_length: u32,
    pub file_id: FileId,
    pub completion_filter: u32,
}

/// SMB2 CHANGE_NOTIFY response: FILE_NOTIFY_INFORMATION entries at OutputBufferOffset 72.
pub type ChangeNotifyResponse<'a> = super::query_info::OutputBuffer<'a>;

impl<'a> Body<'a> for ChangeNotifyRequest {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let flags = r.u16()?;
        let output_buffer_length = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        let completion_filter = r.u32()?;
        r.skip(4)?;
        Ok(ChangeNotifyRequest {
            flags,
            output_buffer_length,
            file_id,
            completion_filter,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u16_le(self.flags);
        w.put_u32_le(self.output_buffer_length);
        self.file_id.encode(w);
        w.put_u32_le(self.completion_filter);
        w.put_u32_le(0);
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
        let req = ChangeNotifyRequest {
            flags: WATCH_TREE,
            output_buffer_length: 4096,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            completion_filter: completion_filter::FILE_NAME | completion_filter::DIR_NAME,
        };
        let bytes = roundtrip!(req);
        assert_eq!(bytes.len(), 64 + 32);
        assert_eq!(&bytes[64..72], &[32, 0, 1, 0, 0, 0x10, 0, 0]);
        assert_eq!(&bytes[64 + 24..64 + 28], &[3, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = ChangeNotifyRequest::decode(&pdu_with_body(&body));
        }
    }
}
