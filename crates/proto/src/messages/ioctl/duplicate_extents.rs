//! Block cloning payload: SMB2_DUPLICATE_EXTENTS_DATA, the input of FSCTL_DUPLICATE_EXTENTS_TO_FILE
//! (MS-FSCC 2.3.7.2; handled as MS-SMB2 3.3.5.15.17 says). The control code has no output.

use crate::reader::{DecodeError, Reader};
use crate::FileId;
use bytes::{BufMut, BytesMut};

/// SMB2_DUPLICATE_EXTENTS_DATA: the bytes `byte_count` long at `source_offset` of the open
/// `source` become the bytes at `target_offset` of the open the request is sent on. The offsets and
/// the count are signed on the wire; they are kept as sent and checked by the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DuplicateExtentsData {
    pub source: FileId,
    pub source_offset: u64,
    pub target_offset: u64,
    pub byte_count: u64,
}

impl DuplicateExtentsData {
    /// The structure's size: anything shorter is refused, bytes after it are ignored.
    pub const SIZE: usize = 40;

    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        Ok(DuplicateExtentsData {
            source: FileId::decode(&mut r)?,
            source_offset: r.u64()?,
            target_offset: r.u64()?,
            byte_count: r.u64()?,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(Self::SIZE);
        self.source.encode(&mut w);
        w.put_u64_le(self.source_offset);
        w.put_u64_le(self.target_offset);
        w.put_u64_le(self.byte_count);
        w.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> DuplicateExtentsData {
        DuplicateExtentsData {
            source: FileId {
                persistent: 0x1122_3344_5566_7788,
                volatile: 9,
            },
            source_offset: 4096,
            target_offset: 1 << 20,
            byte_count: 65536,
        }
    }

    #[test]
    fn layout() {
        let bytes = sample().encode();
        assert_eq!(bytes.len(), DuplicateExtentsData::SIZE);
        assert_eq!(
            &bytes[..8],
            &[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]
        );
        assert_eq!(&bytes[8..16], &[9, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[16..24], &[0, 0x10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[24..32], &[0, 0, 0x10, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[32..], &[0, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(DuplicateExtentsData::decode(&bytes), Ok(sample()));
    }

    #[test]
    fn short_input_is_truncated_and_extra_bytes_are_ignored() {
        let mut bytes = sample().encode();
        for len in 0..DuplicateExtentsData::SIZE {
            assert_eq!(
                DuplicateExtentsData::decode(&bytes[..len]),
                Err(DecodeError::Truncated)
            );
        }
        bytes.extend_from_slice(&[0xff; 8]);
        assert_eq!(DuplicateExtentsData::decode(&bytes), Ok(sample()));
    }

    proptest! {
        #[test]
        fn decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(d) = DuplicateExtentsData::decode(&input) {
                prop_assert_eq!(d.encode(), input[..DuplicateExtentsData::SIZE].to_vec());
            }
        }
    }
}
