//! The `AAPL` create context: Apple's SMB2 extension that macOS clients send on their first CREATE of a
//! connection (documented by Apple in the smbfs sources of its open-source releases, `smb_2.h`, and
//! observed from smbtorture's vfs.fruit). All integers are little-endian.
//!
//! Request: CommandCode (u32, 1 = server query), Reserved (u32), RequestBitmap (u64: which answers the
//! client wants), ClientCapabilities (u64). Response: CommandCode, Reserved, ReplyBitmap (u64), then
//! for each bit of ReplyBitmap in order: ServerCapabilities (u64), VolumeCapabilities (u64), and for the
//! model: Reserved (u32), ModelStringLength (u32, bytes), ModelString (UTF-16LE, no terminator).

use crate::reader::{DecodeError, Reader};

/// CommandCode of the only command a server answers.
pub const SERVER_QUERY: u32 = 1;

/// RequestBitmap / ReplyBitmap bits.
pub mod reply {
    pub const SERVER_CAPS: u64 = 0x1;
    pub const VOLUME_CAPS: u64 = 0x2;
    pub const MODEL_INFO: u64 = 0x4;
}

/// ServerCapabilities bits (client capabilities use the same values).
pub mod server_caps {
    pub const READ_DIR_ATTR: u64 = 0x1;
    pub const OSX_COPYFILE: u64 = 0x2;
    pub const UNIX_BASED: u64 = 0x4;
    pub const NFS_ACE: u64 = 0x8;
}

/// VolumeCapabilities bits.
pub mod volume_caps {
    pub const RESOLVE_ID: u64 = 0x1;
    pub const CASE_SENSITIVE: u64 = 0x2;
    pub const FULL_SYNC: u64 = 0x4;
}

/// The longest model string answered, in UTF-16 code units.
pub const MAX_MODEL_CHARS: usize = 128;

/// A decoded AAPL server query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AaplQuery {
    pub request_bitmap: u64,
    pub client_caps: u64,
}

impl AaplQuery {
    /// Decodes the context data: exactly the 24 bytes of a server query; anything else is refused.
    pub fn decode(data: &[u8]) -> Result<AaplQuery, DecodeError> {
        if data.len() != 24 {
            return Err(DecodeError::Truncated);
        }
        let mut r = Reader::new(data);
        if r.u32()? != SERVER_QUERY {
            return Err(DecodeError::BadValue);
        }
        r.skip(4)?;
        Ok(AaplQuery {
            request_bitmap: r.u64()?,
            client_caps: r.u64()?,
        })
    }
}

/// What the server answers to a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AaplReply {
    pub reply_bitmap: u64,
    pub server_caps: u64,
    pub volume_caps: u64,
    pub model: String,
}

impl AaplReply {
    /// The response context data, holding the parts the reply bitmap names.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + 2 * MAX_MODEL_CHARS);
        out.extend_from_slice(&SERVER_QUERY.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.reply_bitmap.to_le_bytes());
        if self.reply_bitmap & reply::SERVER_CAPS != 0 {
            out.extend_from_slice(&self.server_caps.to_le_bytes());
        }
        if self.reply_bitmap & reply::VOLUME_CAPS != 0 {
            out.extend_from_slice(&self.volume_caps.to_le_bytes());
        }
        if self.reply_bitmap & reply::MODEL_INFO != 0 {
            let model: Vec<u8> = self
                .model
                .encode_utf16()
                .take(MAX_MODEL_CHARS)
                .flat_map(u16::to_le_bytes)
                .collect();
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&crate::writer::len_u32(model.len()).to_le_bytes());
            out.extend_from_slice(&model);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(cmd: u32, bitmap: u64, caps: u64) -> Vec<u8> {
        let mut v = cmd.to_le_bytes().to_vec();
        v.extend_from_slice(&[0; 4]);
        v.extend_from_slice(&bitmap.to_le_bytes());
        v.extend_from_slice(&caps.to_le_bytes());
        v
    }

    #[test]
    fn decodes_a_server_query() {
        let q = AaplQuery::decode(&query(1, 7, 13)).unwrap();
        assert_eq!(
            q,
            AaplQuery {
                request_bitmap: 7,
                client_caps: 13
            }
        );
    }

    #[test]
    fn refuses_other_commands_and_sizes() {
        assert_eq!(
            AaplQuery::decode(&query(2, 7, 0)),
            Err(DecodeError::BadValue)
        );
        let q = query(1, 7, 0);
        assert!(AaplQuery::decode(&q[..23]).is_err());
        assert!(AaplQuery::decode(&[q.clone(), vec![0]].concat()).is_err());
        assert!(AaplQuery::decode(&[]).is_err());
    }

    #[test]
    fn encodes_every_part_the_bitmap_names() {
        let r = AaplReply {
            reply_bitmap: 7,
            server_caps: 0xF,
            volume_caps: 0,
            model: "MacSamba".into(),
        };
        let data = r.encode();
        assert_eq!(data.len(), 40 + 16);
        assert_eq!(&data[0..4], &[1, 0, 0, 0]);
        assert_eq!(&data[16..24], &0xFu64.to_le_bytes());
        assert_eq!(&data[36..40], &16u32.to_le_bytes());
        assert_eq!(&data[40..44], &[b'M', 0, b'a', 0]);
        let only_caps = AaplReply {
            reply_bitmap: 1,
            ..r
        };
        assert_eq!(only_caps.encode().len(), 24);
    }
}
