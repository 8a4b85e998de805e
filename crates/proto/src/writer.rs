//! Small helpers for encoding: UTF-16LE strings, alignment padding and back-patching of offsets.

use bytes::{BufMut, BytesMut};

/// Append `s` as UTF-16LE without a terminator.
pub fn put_utf16le(w: &mut BytesMut, s: &str) {
    for u in s.encode_utf16() {
        w.put_u16_le(u);
    }
}

/// Length in bytes of `s` encoded as UTF-16LE.
pub fn utf16le_len(s: &str) -> usize {
    s.encode_utf16().count() * 2
}

/// Pad `w` with zeros until `(w.len() - base)` is a multiple of `align`.
pub fn pad_to(w: &mut BytesMut, base: usize, align: usize) {
    let rel = w.len().saturating_sub(base);
    let pad = (align - rel % align) % align;
    w.put_bytes(0, pad);
}

/// Overwrite a little-endian u16 at `pos` (a position this encoder wrote earlier).
pub fn patch_u16(w: &mut BytesMut, pos: usize, v: u16) {
    if let Some(s) = w.get_mut(pos..pos + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Overwrite a little-endian u32 at `pos` (a position this encoder wrote earlier).
pub fn patch_u32(w: &mut BytesMut, pos: usize, v: u32) {
    if let Some(s) = w.get_mut(pos..pos + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Clamp a length to u32 for a wire field; lengths here are bounded by the PDU size, far below u32::MAX.
pub fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Clamp a length to u16 for a wire field.
pub fn len_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_relative_to_base() {
        let mut w = BytesMut::new();
        w.put_bytes(1, 3);
        pad_to(&mut w, 1, 8);
        assert_eq!(w.len(), 9);
        pad_to(&mut w, 1, 8);
        assert_eq!(w.len(), 9);
    }

    #[test]
    fn utf16_roundtrip() {
        let mut w = BytesMut::new();
        put_utf16le(&mut w, "hé");
        assert_eq!(&w[..], &[b'h', 0, 0xe9, 0]);
        assert_eq!(utf16le_len("hé"), 4);
    }
}
