//! SMB2 FLUSH request and response (MS-SMB2 2.2.17, 2.2.18).

use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::FileId;
use bytes::{BufMut, BytesMut};

/// SMB2 FLUSH request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlushRequest {
    pub file_id: FileId,
}

/// The FLUSH response is a bare StructureSize of 4.
pub type FlushResponse = super::Empty;

impl<'a> Body<'a> for FlushRequest {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(24)?;
        r.skip(6)?; // Reserved1, Reserved2
        Ok(FlushRequest {
            file_id: FileId::decode(&mut r)?,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(24);
        w.put_bytes(0, 6);
        self.file_id.encode(w);
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
        let bytes = roundtrip!(FlushRequest {
            file_id: FileId {
                persistent: 3,
                volatile: 4,
            },
        });
        assert_eq!(bytes.len(), 64 + 24);
        assert_eq!(&bytes[64 + 8..64 + 10], &[3, 0]);
        assert_eq!(&bytes[64 + 16..64 + 18], &[4, 0]);
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = FlushRequest::decode(&pdu_with_body(&body));
        }
    }
}
