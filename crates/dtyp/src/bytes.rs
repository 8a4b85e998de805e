//! Little-endian reads from a byte slice that fail instead of reading past it.

use crate::Invalid;

/// `len` bytes of `buf` at `at`.
pub(crate) fn slice(buf: &[u8], at: usize, len: usize) -> Result<&[u8], Invalid> {
    let end = at.checked_add(len).ok_or(Invalid)?;
    buf.get(at..end).ok_or(Invalid)
}

pub(crate) fn u8_at(buf: &[u8], at: usize) -> Result<u8, Invalid> {
    buf.get(at).copied().ok_or(Invalid)
}

pub(crate) fn u16_at(buf: &[u8], at: usize) -> Result<u16, Invalid> {
    let mut out = [0u8; 2];
    out.copy_from_slice(slice(buf, at, 2)?);
    Ok(u16::from_le_bytes(out))
}

pub(crate) fn u32_at(buf: &[u8], at: usize) -> Result<u32, Invalid> {
    let mut out = [0u8; 4];
    out.copy_from_slice(slice(buf, at, 4)?);
    Ok(u32::from_le_bytes(out))
}

/// A length or count that must fit the 16-bit field it is written to.
pub(crate) fn u16_len(n: usize) -> Result<u16, Invalid> {
    u16::try_from(n).map_err(|_| Invalid)
}
