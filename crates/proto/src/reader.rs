//! A bounds-checked cursor over one PDU (DESIGN.md decision 3).
//!
//! `Reader` never indexes past its slice: every read returns `DecodeError::Truncated` instead. Offsets found in
//! messages (buffer offsets, context offsets) are resolved with [`Reader::at`], which is relative to the start of
//! the PDU the reader was created for, so in a compound a request cannot point into its neighbour.

use core::fmt;

/// Why a message could not be decoded. Handlers map every variant to STATUS_INVALID_PARAMETER unless a command
/// documents another status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// An offset/length pair points outside the PDU or overlaps the fixed part.
    BadOffset,
    /// A StructureSize or other constant field has the wrong value.
    BadStructureSize,
    /// A field holds a value the specification does not allow.
    BadValue,
    /// A count or length exceeds what this implementation accepts.
    TooLarge,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DecodeError::Truncated => "message truncated",
            DecodeError::BadOffset => "offset or length outside the message",
            DecodeError::BadStructureSize => "wrong structure size",
            DecodeError::BadValue => "invalid field value",
            DecodeError::TooLarge => "field too large",
        };
        f.write_str(s)
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over one PDU. `pos` starts at 0 (the first byte of the PDU, normally its SMB2 header).
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    pdu: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(pdu: &'a [u8]) -> Self {
        Reader { pdu, pos: 0 }
    }

    /// A reader over the same PDU positioned at `pos` (used to start after the 64-byte header).
    pub fn new_at(pdu: &'a [u8], pos: usize) -> Result<Self, DecodeError> {
        if pos > pdu.len() {
            return Err(DecodeError::Truncated);
        }
        Ok(Reader { pdu, pos })
    }

    /// The current position relative to the start of the PDU.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> usize {
        self.pdu.len().saturating_sub(self.pos)
    }

    /// The whole PDU this reader is confined to.
    pub fn pdu(&self) -> &'a [u8] {
        self.pdu
    }

    /// Take `n` bytes at the cursor.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let s = self.pdu.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    /// Take the rest of the PDU.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.pdu.get(self.pos..).unwrap_or(&[]);
        self.pos = self.pdu.len();
        s
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    /// A sub-reader over the next `len` bytes; the cursor moves past them. The sub-reader's offsets are
    /// relative to its own start, so a structure cannot run past itself.
    pub fn sub(&mut self, len: usize) -> Result<Reader<'a>, DecodeError> {
        Ok(Reader::new(self.take(len)?))
    }

    /// `len` bytes at `offset` from the start of the PDU. An offset of 0 with length 0 is an empty buffer.
    pub fn at(&self, offset: usize, len: usize) -> Result<&'a [u8], DecodeError> {
        if len == 0 {
            return Ok(&[]);
        }
        let end = offset.checked_add(len).ok_or(DecodeError::BadOffset)?;
        self.pdu.get(offset..end).ok_or(DecodeError::BadOffset)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn u16_be(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Check a StructureSize field.
    pub fn structure_size(&mut self, expected: u16) -> Result<(), DecodeError> {
        if self.u16()? == expected {
            Ok(())
        } else {
            Err(DecodeError::BadStructureSize)
        }
    }
}

/// The little-endian u16 at `pos` in `b`, if present.
pub fn u16_at(b: &[u8], pos: usize) -> Option<u16> {
    Reader::new_at(b, pos).ok()?.u16().ok()
}

/// The little-endian u32 at `pos` in `b`, if present.
pub fn u32_at(b: &[u8], pos: usize) -> Option<u32> {
    Reader::new_at(b, pos).ok()?.u32().ok()
}

/// Decode UTF-16LE bytes into a `String`. Odd lengths and unpaired surrogates are errors.
pub fn utf16le_to_string(b: &[u8]) -> Result<String, DecodeError> {
    if !b.len().is_multiple_of(2) {
        return Err(DecodeError::BadValue);
    }
    let units = b.chunks_exact(2).map(|c| {
        c.iter()
            .rev()
            .fold(0u16, |acc, byte| (acc << 8) | u16::from(*byte))
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| DecodeError::BadValue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_stops_at_end() {
        let mut r = Reader::new(&[1, 0, 2, 0, 0, 0]);
        assert_eq!(r.u16().unwrap(), 1);
        assert_eq!(r.u32().unwrap(), 2);
        assert_eq!(r.u8(), Err(DecodeError::Truncated));
    }

    #[test]
    fn at_is_relative_to_pdu_and_checked() {
        let r = Reader::new(&[0, 1, 2, 3]);
        assert_eq!(r.at(1, 2).unwrap(), &[1, 2]);
        assert_eq!(r.at(3, 2), Err(DecodeError::BadOffset));
        assert_eq!(r.at(usize::MAX, 2), Err(DecodeError::BadOffset));
        assert_eq!(r.at(99, 0).unwrap(), &[] as &[u8]);
    }

    #[test]
    fn sub_cannot_run_past_itself() {
        let mut r = Reader::new(&[1, 2, 3, 4]);
        let mut s = r.sub(2).unwrap();
        assert_eq!(s.u16().unwrap(), 0x0201);
        assert!(s.u8().is_err());
        assert_eq!(r.u8().unwrap(), 3);
    }

    #[test]
    fn utf16_decoding() {
        assert_eq!(utf16le_to_string(&[b'a', 0, b'b', 0]).unwrap(), "ab");
        assert!(utf16le_to_string(b"a").is_err());
        assert!(utf16le_to_string(&[0x00, 0xd8]).is_err());
    }
}
