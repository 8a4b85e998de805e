//! Requests and responses of the 19 SMB2 commands (MS-SMB2 2.2.3 to 2.2.42), one file per command.
//!
//! Conventions, the same for every message type:
//! - `decode(pdu)` takes the bytes of one PDU *starting at its 64-byte SMB2 header*; the body starts at
//!   [`HEADER_LEN`]. Offsets inside the message are resolved against this PDU only ([`Reader::at`]).
//! - `encode(w, pdu_start)` appends the body to `w`, whose header was already written at `w[pdu_start..]`;
//!   offsets it writes are `w.len() - pdu_start` at the time the buffer is placed.
//! - Variable-length parts of requests borrow from the PDU (`&'a [u8]`), so decoding allocates nothing.

use crate::header::HEADER_LEN;
use crate::reader::{DecodeError, Reader};
use bytes::BytesMut;

pub use request::Request;

pub mod cancel;
pub mod change_notify;
pub mod close;
pub mod create;
pub mod echo;
pub mod flush;
pub mod ioctl;
pub mod lock;
pub mod logoff;
pub mod negotiate;
pub mod oplock_break;
pub mod query_directory;
pub mod query_info;
pub mod read;
pub mod request;
pub mod session_setup;
pub mod set_info;
pub mod tree_connect;
pub mod tree_disconnect;
pub mod write;

/// One SMB2 message body (request or response).
pub trait Body<'a>: Sized {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError>;
    fn encode(&self, w: &mut BytesMut, pdu_start: usize);
}

/// A reader positioned at the body of `pdu`.
pub fn body_reader(pdu: &[u8]) -> Result<Reader<'_>, DecodeError> {
    Reader::new_at(pdu, HEADER_LEN)
}

/// A body made only of a StructureSize of 4 and a reserved field (ECHO, LOGOFF, TREE_DISCONNECT, CANCEL,
/// the FLUSH response...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Empty;

impl<'a> Body<'a> for Empty {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(4)?;
        r.skip(2)?;
        Ok(Empty)
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        use bytes::BufMut;
        w.put_u16_le(4);
        w.put_u16_le(0);
    }
}

/// Where a variable buffer lands: offset from the PDU start of the next byte to be written.
pub fn offset_here(w: &BytesMut, pdu_start: usize) -> u16 {
    crate::writer::len_u16(w.len().saturating_sub(pdu_start))
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use crate::header::Header;

    /// Encode `body` behind a default header.
    pub fn encode_pdu<'a, T: Body<'a>>(body: &T) -> Vec<u8> {
        let mut w = BytesMut::new();
        Header::default().encode(&mut w);
        body.encode(&mut w, 0);
        w.to_vec()
    }

    /// Encode `body` behind a default header, check that it decodes to an equal value, and return the bytes.
    macro_rules! roundtrip {
        ($body:expr) => {{
            let body = &$body;
            let bytes = $crate::messages::test_util::encode_pdu(body);
            let back = $crate::messages::test_util::decode_like(body, &bytes);
            assert_eq!(*body, back);
            bytes
        }};
    }
    pub(crate) use roundtrip;

    /// Decode `bytes` as the type of `_like` (pins the type for [`roundtrip!`]).
    pub fn decode_like<'a, T: Body<'a>>(_like: &T, bytes: &'a [u8]) -> T {
        T::decode(bytes).unwrap()
    }

    #[test]
    fn empty_body_is_four_bytes() {
        let bytes = roundtrip!(Empty);
        assert_eq!(&bytes[64..], &[4, 0, 0, 0]);
        assert!(Empty::decode(&bytes[..66]).is_err());
    }
}
