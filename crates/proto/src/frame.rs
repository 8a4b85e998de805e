//! Direct-TCP transport framing (MS-SMB2 2.1): a zero byte, then a 24-bit big-endian length, then the message.

use crate::reader::DecodeError;

pub const FRAME_HEADER_LEN: usize = 4;
/// The largest length the 24-bit field can express.
pub const MAX_FRAME_LEN: usize = 0x00FF_FFFF;

/// Parse the 4-byte transport header and return the message length, rejecting anything above `max_len`.
pub fn decode_frame_header(h: [u8; 4], max_len: usize) -> Result<usize, DecodeError> {
    let [zero, a, b, c] = h;
    if zero != 0 {
        return Err(DecodeError::BadValue);
    }
    let len = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
    if len > max_len {
        return Err(DecodeError::TooLarge);
    }
    Ok(len)
}

/// Encode the transport header for a message of `len` bytes.
pub fn encode_frame_header(len: usize) -> Result<[u8; 4], DecodeError> {
    if len > MAX_FRAME_LEN {
        return Err(DecodeError::TooLarge);
    }
    let b = (len as u32).to_be_bytes();
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_roundtrip_and_limits() {
        let h = encode_frame_header(0x12345).unwrap();
        assert_eq!(h, [0, 0x01, 0x23, 0x45]);
        assert_eq!(decode_frame_header(h, 1 << 20).unwrap(), 0x12345);
        assert_eq!(decode_frame_header(h, 0x1000), Err(DecodeError::TooLarge));
        assert_eq!(
            decode_frame_header([1, 0, 0, 0], 100),
            Err(DecodeError::BadValue)
        );
        assert!(encode_frame_header(MAX_FRAME_LEN + 1).is_err());
    }
}
