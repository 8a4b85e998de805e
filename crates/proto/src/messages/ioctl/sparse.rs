//! Sparse-file and compression payloads (MS-FSCC 2.3.64 FILE_SET_SPARSE_BUFFER, 2.3.70
//! FILE_ZERO_DATA_INFORMATION, 2.3.51/2.3.52 FILE_ALLOCATED_RANGE_BUFFER, 2.3.12/2.3.67
//! COMPRESSION_STATE for FSCTL_GET_COMPRESSION and FSCTL_SET_COMPRESSION).

use crate::reader::{DecodeError, Reader};
use bytes::{BufMut, BytesMut};

/// FSCTL_SET_SPARSE's input: SetSparse, a BOOLEAN; without a buffer the file becomes sparse
/// (MS-FSCC 2.3.64). Bytes after the first are ignored, as Windows does.
pub fn decode_set_sparse(input: &[u8]) -> bool {
    input.first().is_none_or(|&b| b != 0)
}

/// FILE_ZERO_DATA_INFORMATION: zero the bytes from `file_offset` up to `beyond_final_zero`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileZeroDataInformation {
    pub file_offset: u64,
    pub beyond_final_zero: u64,
}

impl FileZeroDataInformation {
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        Ok(FileZeroDataInformation {
            file_offset: r.u64()?,
            beyond_final_zero: r.u64()?,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(16);
        w.put_u64_le(self.file_offset);
        w.put_u64_le(self.beyond_final_zero);
        w.to_vec()
    }
}

/// FILE_ALLOCATED_RANGE_BUFFER: a range of a file, the input of FSCTL_QUERY_ALLOCATED_RANGES and
/// each entry of its output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileAllocatedRangeBuffer {
    pub file_offset: u64,
    pub length: u64,
}

impl FileAllocatedRangeBuffer {
    pub const SIZE: usize = 16;

    /// The query's range; bytes after the first entry are ignored, as Windows does.
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        Ok(FileAllocatedRangeBuffer {
            file_offset: r.u64()?,
            length: r.u64()?,
        })
    }

    /// The output: the ranges, back to back.
    pub fn encode_list(ranges: &[FileAllocatedRangeBuffer]) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(ranges.len() * Self::SIZE);
        for r in ranges {
            w.put_u64_le(r.file_offset);
            w.put_u64_le(r.length);
        }
        w.to_vec()
    }
}

/// CompressionFormat values of COMPRESSION_STATE.
pub mod compression_format {
    pub const NONE: u16 = 0x0000;
    pub const DEFAULT: u16 = 0x0001;
    pub const LZNT1: u16 = 0x0002;
}

/// COMPRESSION_STATE: the input of FSCTL_SET_COMPRESSION.
pub fn decode_compression_state(input: &[u8]) -> Result<u16, DecodeError> {
    Reader::new(input).u16()
}

/// COMPRESSION_STATE: the output of FSCTL_GET_COMPRESSION.
pub fn encode_compression_state(format: u16) -> Vec<u8> {
    format.to_le_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn set_sparse_defaults_to_true() {
        assert!(decode_set_sparse(&[]));
        assert!(decode_set_sparse(&[0xff]));
        assert!(decode_set_sparse(&[1, 0, 0]));
        assert!(!decode_set_sparse(&[0]));
        assert!(!decode_set_sparse(&[0; 100]));
    }

    #[test]
    fn zero_data_and_ranges() {
        let z = FileZeroDataInformation {
            file_offset: 4096,
            beyond_final_zero: 8192,
        };
        let bytes = z.encode();
        assert_eq!(&bytes[..8], &[0, 0x10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(FileZeroDataInformation::decode(&bytes).unwrap(), z);
        assert_eq!(
            FileZeroDataInformation::decode(&bytes[..15]),
            Err(DecodeError::Truncated)
        );
        let ranges = [
            FileAllocatedRangeBuffer {
                file_offset: 0,
                length: 5120,
            },
            FileAllocatedRangeBuffer {
                file_offset: 1 << 20,
                length: 1,
            },
        ];
        let out = FileAllocatedRangeBuffer::encode_list(&ranges);
        assert_eq!(out.len(), 32);
        assert_eq!(FileAllocatedRangeBuffer::decode(&out).unwrap(), ranges[0]);
        assert_eq!(
            FileAllocatedRangeBuffer::decode(&out[..8]),
            Err(DecodeError::Truncated)
        );
        assert!(FileAllocatedRangeBuffer::encode_list(&[]).is_empty());
    }

    #[test]
    fn compression_state() {
        assert_eq!(encode_compression_state(compression_format::LZNT1), [2, 0]);
        assert_eq!(decode_compression_state(&[1, 0, 9]), Ok(1));
        assert_eq!(decode_compression_state(&[1]), Err(DecodeError::Truncated));
    }

    proptest! {
        #[test]
        fn decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode_set_sparse(&input);
            if let Ok(z) = FileZeroDataInformation::decode(&input) {
                prop_assert_eq!(z.encode(), input[..16].to_vec());
            }
            if let Ok(r) = FileAllocatedRangeBuffer::decode(&input) {
                prop_assert_eq!(FileAllocatedRangeBuffer::encode_list(&[r]), input[..16].to_vec());
            }
            let _ = decode_compression_state(&input);
        }
    }
}
