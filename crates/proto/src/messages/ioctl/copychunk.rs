//! Server-side copy payloads (MS-SMB2 2.2.31.1 SRV_COPYCHUNK_COPY, 2.2.31.1.1 SRV_COPYCHUNK,
//! 2.2.32.3 SRV_REQUEST_RESUME_KEY response, 2.2.32.4 SRV_COPYCHUNK_RESPONSE).

use crate::reader::{DecodeError, Reader};
use bytes::{BufMut, BytesMut};

/// A resume key: an opaque 24-byte value naming the source open of a copy.
pub type ResumeKey = [u8; 24];

/// Size of one SRV_COPYCHUNK entry.
const CHUNK_SIZE: usize = 24;

/// Size of the SRV_REQUEST_RESUME_KEY response: ResumeKey, ContextLength and a Context that is not
/// used, 4 zero bytes that keep the structure 8-byte aligned (what Windows sends and clients read).
pub const RESUME_KEY_RESPONSE_SIZE: usize = 32;

/// The output of FSCTL_SRV_REQUEST_RESUME_KEY: the key and an empty context (ContextLength 0).
pub fn encode_resume_key_response(key: &ResumeKey) -> Vec<u8> {
    let mut w = BytesMut::with_capacity(RESUME_KEY_RESPONSE_SIZE);
    w.put_slice(key);
    w.put_u32_le(0); // ContextLength
    w.put_u32_le(0); // Context
    w.to_vec()
}

/// One range to copy (SRV_COPYCHUNK).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SrvCopychunk {
    pub source_offset: u64,
    pub target_offset: u64,
    pub length: u32,
}

/// The input of FSCTL_SRV_COPYCHUNK and FSCTL_SRV_COPYCHUNK_WRITE. The chunks are decoded by
/// [`SrvCopychunkCopy::chunks`], once the caller has checked `chunk_count` against its limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SrvCopychunkCopy<'a> {
    pub source_key: ResumeKey,
    pub chunk_count: u32,
    chunk_data: &'a [u8],
}

impl<'a> SrvCopychunkCopy<'a> {
    pub fn decode(input: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(input);
        let source_key = r.array()?;
        let chunk_count = r.u32()?;
        r.skip(4)?; // Reserved
        Ok(SrvCopychunkCopy {
            source_key,
            chunk_count,
            chunk_data: r.rest(),
        })
    }

    /// The `chunk_count` chunks; the input must hold all of them.
    pub fn chunks(&self) -> Result<Vec<SrvCopychunk>, DecodeError> {
        let count = usize::try_from(self.chunk_count).map_err(|_| DecodeError::Truncated)?;
        let len = count
            .checked_mul(CHUNK_SIZE)
            .ok_or(DecodeError::Truncated)?;
        let mut r = Reader::new(self.chunk_data).sub(len)?;
        (0..count)
            .map(|_| {
                let chunk = SrvCopychunk {
                    source_offset: r.u64()?,
                    target_offset: r.u64()?,
                    length: r.u32()?,
                };
                r.skip(4)?; // Reserved
                Ok(chunk)
            })
            .collect()
    }

    /// The request a client sends (for tests and tools).
    pub fn encode(source_key: &ResumeKey, chunks: &[SrvCopychunk]) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(32 + chunks.len() * CHUNK_SIZE);
        w.put_slice(source_key);
        w.put_u32_le(crate::writer::len_u32(chunks.len()));
        w.put_u32_le(0);
        for c in chunks {
            w.put_u64_le(c.source_offset);
            w.put_u64_le(c.target_offset);
            w.put_u32_le(c.length);
            w.put_u32_le(0);
        }
        w.to_vec()
    }
}

/// SRV_COPYCHUNK_RESPONSE: what was copied, or (with STATUS_INVALID_PARAMETER) the server's limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SrvCopychunkResponse {
    pub chunks_written: u32,
    pub chunk_bytes_written: u32,
    pub total_bytes_written: u32,
}

impl SrvCopychunkResponse {
    pub const SIZE: usize = 12;

    pub fn decode(output: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(output);
        Ok(SrvCopychunkResponse {
            chunks_written: r.u32()?,
            chunk_bytes_written: r.u32()?,
            total_bytes_written: r.u32()?,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BytesMut::with_capacity(Self::SIZE);
        w.put_u32_le(self.chunks_written);
        w.put_u32_le(self.chunk_bytes_written);
        w.put_u32_le(self.total_bytes_written);
        w.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn copychunk_copy_roundtrip() {
        let chunks = [
            SrvCopychunk {
                source_offset: 1,
                target_offset: 2,
                length: 3,
            },
            SrvCopychunk {
                source_offset: u64::MAX,
                target_offset: 0,
                length: u32::MAX,
            },
        ];
        let bytes = SrvCopychunkCopy::encode(&[7; 24], &chunks);
        assert_eq!(bytes.len(), 32 + 48);
        assert_eq!(&bytes[24..28], &[2, 0, 0, 0]);
        let req = SrvCopychunkCopy::decode(&bytes).unwrap();
        assert_eq!(req.source_key, [7; 24]);
        assert_eq!(req.chunk_count, 2);
        assert_eq!(req.chunks().unwrap(), chunks);
    }

    #[test]
    fn copychunk_copy_counts_are_checked() {
        assert_eq!(
            SrvCopychunkCopy::decode(&[0; 31]),
            Err(DecodeError::Truncated)
        );
        let mut bytes = SrvCopychunkCopy::encode(&[0; 24], &[SrvCopychunk::default()]);
        bytes[24] = 2;
        let req = SrvCopychunkCopy::decode(&bytes).unwrap();
        assert_eq!(req.chunks(), Err(DecodeError::Truncated));
        bytes[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        let req = SrvCopychunkCopy::decode(&bytes).unwrap();
        assert_eq!(req.chunk_count, u32::MAX);
        assert_eq!(req.chunks(), Err(DecodeError::Truncated));
    }

    #[test]
    fn responses() {
        let out = encode_resume_key_response(&[9; 24]);
        assert_eq!(out.len(), RESUME_KEY_RESPONSE_SIZE);
        assert_eq!(&out[..24], &[9; 24]);
        assert_eq!(&out[24..], &[0; 8]);
        let resp = SrvCopychunkResponse {
            chunks_written: 256,
            chunk_bytes_written: 1 << 20,
            total_bytes_written: 16 << 20,
        };
        let out = resp.encode();
        assert_eq!(out, [0, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1]);
        assert_eq!(SrvCopychunkResponse::decode(&out).unwrap(), resp);
        assert_eq!(
            SrvCopychunkResponse::decode(&out[..11]),
            Err(DecodeError::Truncated)
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(req) = SrvCopychunkCopy::decode(&input) {
                if let Ok(chunks) = req.chunks() {
                    prop_assert_eq!(chunks.len() as u32, req.chunk_count);
                    prop_assert!(input.len() >= 32 + chunks.len() * 24);
                }
            }
            let _ = SrvCopychunkResponse::decode(&input);
        }
    }
}
