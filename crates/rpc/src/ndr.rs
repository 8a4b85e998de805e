//! NDR 2.0 transfer syntax (C706 chapter 14, MS-RPCE 2.2.5): little-endian encoder and bounds-checked decoder.
//!
//! Alignment is relative to the start of the stub data. Pointers are written as referent ids (0x00020000, +4 for
//! each further one, as Windows does); embedded pointees are deferred by the caller with [`Field`] lists
//! (inline part first, aligned to the structure's largest member, then every pointee in order). Strings are
//! `[string] wchar_t*`: maximum count, offset, actual count (all counting the terminating NUL), then UTF-16LE
//! code units. Counted strings are RPC_UNICODE_STRING (MS-DTYP 2.3.10): byte Length and MaximumLength, then a
//! pointer to a conformant-varying array of Length/2 code units without a NUL.
//!
//! The decoder never reads past its slice and checks every count against the bytes that remain before it
//! allocates, so no allocation is larger than the input.

use crate::sid::RpcSid;
use crate::sid::Sid;

/// A stub that does not decode (answered with the nca_s_fault_ndr fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdrError;

/// The first referent id Windows uses for non-null pointers.
const FIRST_REFERENT: u32 = 0x0002_0000;

/// Builds NDR-encoded stub data.
#[derive(Debug)]
pub struct Encoder {
    buf: Vec<u8>,
    next_referent: u32,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        Encoder {
            buf: Vec::new(),
            next_referent: FIRST_REFERENT,
        }
    }

    /// Pads with zeros to a multiple of `n` bytes from the start of the stub.
    pub fn align(&mut self, n: usize) {
        let pad = (n - self.buf.len() % n) % n;
        self.buf.resize(self.buf.len() + pad, 0);
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.align(2);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A hyper (8-byte aligned).
    pub fn u64(&mut self, v: u64) {
        self.align(8);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Raw bytes, unaligned.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A non-null unique or full pointer: a fresh referent id. The pointee follows later.
    pub fn referent(&mut self) {
        let id = self.next_referent;
        self.next_referent = self.next_referent.wrapping_add(4);
        self.u32(id);
    }

    /// A null pointer.
    pub fn null(&mut self) {
        self.u32(0);
    }

    /// The pointee of a `[string] wchar_t*`: a conformant-varying array including the terminating NUL.
    pub fn string(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().chain(core::iter::once(0)).collect();
        self.units(&units);
    }

    /// A conformant-varying array of UTF-16 code units: maximum count, offset 0, actual count, the units.
    fn units(&mut self, units: &[u16]) {
        let count = u32::try_from(units.len()).unwrap_or(u32::MAX);
        self.u32(count);
        self.u32(0);
        self.u32(count);
        for unit in units {
            self.buf.extend_from_slice(&unit.to_le_bytes());
        }
    }

    /// The inline part of an RPC_UNICODE_STRING: byte length, maximum byte length, buffer pointer.
    fn unicode_header(&mut self, s: &str) {
        let bytes =
            u16::try_from(s.encode_utf16().count().saturating_mul(2)).unwrap_or(u16::MAX - 1);
        self.align(4);
        self.u16(bytes);
        self.u16(bytes);
        self.referent();
    }

    /// The buffer of an RPC_UNICODE_STRING (no terminating NUL), cut to what a 16-bit byte length can count.
    fn unicode_body(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().take(usize::from(u16::MAX / 2)).collect();
        self.units(&units);
    }

    /// Writes the inline parts of `fields` (referent ids for pointers), aligned to the structure's alignment.
    pub fn inline(&mut self, fields: &[Field<'_>]) {
        self.align(alignment(fields));
        for field in fields {
            match field {
                Field::Str(_) | Field::Sid(_) => self.referent(),
                Field::Unicode(s) => self.unicode_header(s),
                Field::U8(v) => self.u8(*v),
                Field::U16(v) => self.u16(*v),
                Field::U32(v) => self.u32(*v),
                Field::U64(v) => self.u64(*v),
                Field::Null => self.null(),
            }
        }
    }

    /// Writes the deferred pointees of `fields` (strings and SIDs, in order).
    pub fn deferred(&mut self, fields: &[Field<'_>]) {
        for field in fields {
            match field {
                Field::Str(s) => self.string(s),
                Field::Unicode(s) => self.unicode_body(s),
                Field::Sid(sid) => sid.encode(self),
                _ => {}
            }
        }
    }

    /// A whole structure: its inline part, then its pointees.
    pub fn record(&mut self, fields: &[Field<'_>]) {
        self.inline(fields);
        self.deferred(fields);
    }

    /// A conformant array of structures: the maximum count, every inline part, then every pointee.
    pub fn struct_array(&mut self, records: &[Vec<Field<'_>>]) {
        self.u32(u32::try_from(records.len()).unwrap_or(u32::MAX));
        for record in records {
            self.inline(record);
        }
        for record in records {
            self.deferred(record);
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// One member of a flat structure whose only pointers are strings and SIDs: enough for every record the
/// services return (nested structures are written as their members in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// `[string] wchar_t*`, never null.
    Str(&'a str),
    /// RPC_UNICODE_STRING (MS-DTYP 2.3.10).
    Unicode(&'a str),
    /// PRPC_SID (MS-DTYP 2.4.2.3), never null.
    Sid(&'a Sid),
    U8(u8),
    /// A USHORT or an enumeration.
    U16(u16),
    /// A DWORD (or a LONG / BOOL written as its bit pattern).
    U32(u32),
    /// A hyper (LARGE_INTEGER).
    U64(u64),
    /// A null pointer.
    Null,
}

/// The alignment of a structure: that of its largest member (C706 14.2.2).
fn alignment(fields: &[Field<'_>]) -> usize {
    fields
        .iter()
        .map(|f| match f {
            Field::U8(_) => 1,
            Field::U16(_) => 2,
            Field::U64(_) => 8,
            _ => 4,
        })
        .max()
        .unwrap_or(1)
}

/// An OLD_LARGE_INTEGER (MS-SAMR 2.2.2.2): low and high halves as two 4-byte-aligned longs.
pub fn old_large_integer(v: i64) -> [Field<'static>; 2] {
    let bits = v as u64;
    [Field::U32(bits as u32), Field::U32((bits >> 32) as u32)]
}

/// What a full pointer refers to (C706 14.3.11.3): a new pointee follows, or one already seen is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullPointer {
    Null,
    New(u32),
    Seen(u32),
}

/// The most full-pointer referent ids one stub may introduce (bounds the bookkeeping).
const MAX_FULL_POINTERS: usize = 4096;

/// Reads NDR-encoded stub data.
#[derive(Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    seen: Vec<u32>,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder {
            buf,
            pos: 0,
            seen: Vec::new(),
        }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The next `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], NdrError> {
        let end = self.pos.checked_add(n).ok_or(NdrError)?;
        let bytes = self.buf.get(self.pos..end).ok_or(NdrError)?;
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], NdrError> {
        self.bytes(N)?.try_into().map_err(|_| NdrError)
    }

    /// Skips padding to a multiple of `n` from the start of the stub.
    pub fn align(&mut self, n: usize) -> Result<(), NdrError> {
        let pad = (n - self.pos % n) % n;
        self.bytes(pad).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, NdrError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    pub fn u16(&mut self) -> Result<u16, NdrError> {
        self.align(2)?;
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, NdrError> {
        self.align(4)?;
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, NdrError> {
        self.align(8)?;
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A unique pointer: `Some(referent id)` when its pointee follows, `None` when null.
    pub fn unique(&mut self) -> Result<Option<u32>, NdrError> {
        let id = self.u32()?;
        Ok((id != 0).then_some(id))
    }

    /// A full pointer: like a unique pointer, but a referent id seen before carries no new pointee.
    pub fn full(&mut self) -> Result<FullPointer, NdrError> {
        let id = self.u32()?;
        if id == 0 {
            return Ok(FullPointer::Null);
        }
        if self.seen.contains(&id) {
            return Ok(FullPointer::Seen(id));
        }
        if self.seen.len() >= MAX_FULL_POINTERS {
            return Err(NdrError);
        }
        self.seen.push(id);
        Ok(FullPointer::New(id))
    }

    /// The maximum count of a conformant array whose elements take at least `min_size` bytes each; the count is
    /// checked against the bytes left, so callers may size a buffer with it.
    pub fn conformance(&mut self, min_size: usize) -> Result<usize, NdrError> {
        let count = usize::try_from(self.u32()?).map_err(|_| NdrError)?;
        self.check_fits(count, min_size)?;
        Ok(count)
    }

    /// The offset and actual count of a varying array bounded by `max_count`; returns the actual count, checked
    /// against the bytes left for elements of `min_size` bytes.
    pub fn variance(&mut self, max_count: usize, min_size: usize) -> Result<usize, NdrError> {
        let offset = usize::try_from(self.u32()?).map_err(|_| NdrError)?;
        let actual = usize::try_from(self.u32()?).map_err(|_| NdrError)?;
        if offset.checked_add(actual).ok_or(NdrError)? > max_count {
            return Err(NdrError);
        }
        self.check_fits(actual, min_size)?;
        Ok(actual)
    }

    fn check_fits(&self, count: usize, size: usize) -> Result<(), NdrError> {
        if count.checked_mul(size).ok_or(NdrError)? > self.remaining() {
            return Err(NdrError);
        }
        Ok(())
    }

    /// `count` UTF-16LE code units (the caller has checked `count` against the bytes left).
    fn code_units(&mut self, count: usize) -> Result<Vec<u16>, NdrError> {
        let bytes = self.bytes(count.checked_mul(2).ok_or(NdrError)?)?;
        Ok(bytes
            .chunks_exact(2)
            .filter_map(|c| <[u8; 2]>::try_from(c).ok())
            .map(u16::from_le_bytes)
            .collect())
    }

    /// The pointee of a `[string] wchar_t*`, without its terminating NUL.
    pub fn string(&mut self) -> Result<String, NdrError> {
        let max = self.conformance(0)?;
        let actual = self.variance(max, 2)?;
        let mut units = self.code_units(actual)?;
        if units.last() == Some(&0) {
            units.pop();
        }
        String::from_utf16(&units).map_err(|_| NdrError)
    }

    /// A `[string, unique] wchar_t*` at top level: pointer, then (when not null) the string.
    pub fn unique_string(&mut self) -> Result<Option<String>, NdrError> {
        match self.unique()? {
            Some(_) => self.string().map(Some),
            None => Ok(None),
        }
    }

    /// A context handle as NDR carries it (C706 `ndr_context_handle`): 4 bytes of attributes, then a UUID.
    pub fn context_handle(&mut self) -> Result<[u8; 20], NdrError> {
        self.align(4)?;
        self.array()
    }

    /// The inline part of an RPC_UNICODE_STRING: whether its buffer follows.
    pub fn unicode_header(&mut self) -> Result<bool, NdrError> {
        self.align(4)?;
        let length = self.u16()?;
        let maximum = self.u16()?;
        if length > maximum || length % 2 != 0 {
            return Err(NdrError);
        }
        Ok(self.unique()?.is_some())
    }

    /// The buffer of an RPC_UNICODE_STRING whose header said it is present (empty when it is not).
    pub fn unicode_body(&mut self, present: bool) -> Result<String, NdrError> {
        if !present {
            return Ok(String::new());
        }
        let max = self.conformance(0)?;
        let actual = self.variance(max, 2)?;
        String::from_utf16(&self.code_units(actual)?).map_err(|_| NdrError)
    }

    /// An RPC_UNICODE_STRING with its buffer right behind it (a top-level or only member).
    pub fn unicode(&mut self) -> Result<String, NdrError> {
        let present = self.unicode_header()?;
        self.unicode_body(present)
    }

    /// An array of RPC_UNICODE_STRING: `count` headers, then the buffers.
    pub fn unicode_array(&mut self, count: usize) -> Result<Vec<String>, NdrError> {
        let headers = (0..count)
            .map(|_| self.unicode_header())
            .collect::<Result<Vec<bool>, NdrError>>()?;
        headers.into_iter().map(|p| self.unicode_body(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_layout() {
        let mut e = Encoder::new();
        e.u8(1);
        e.string("ab");
        assert_eq!(
            e.into_bytes(),
            [1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, b'a', 0, b'b', 0, 0, 0]
        );
    }

    #[test]
    fn string_round_trip_and_alignment() {
        let mut e = Encoder::new();
        e.string("IPC$");
        e.u32(7);
        e.u64(9);
        let bytes = e.into_bytes();
        // 12 counts + 10 chars = 22, pad 2 to the u32, then 4 + pad 4 to the hyper.
        assert_eq!(bytes.len(), 22 + 2 + 4 + 4 + 8);
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.string().unwrap(), "IPC$");
        assert_eq!(d.u32().unwrap(), 7);
        assert_eq!(d.u64().unwrap(), 9);
        assert_eq!(d.remaining(), 0);
    }

    #[test]
    fn referents_count_up_by_four() {
        let mut e = Encoder::new();
        e.referent();
        e.null();
        e.referent();
        let b = e.into_bytes();
        let mut d = Decoder::new(&b);
        assert_eq!(d.unique().unwrap(), Some(0x20000));
        assert_eq!(d.unique().unwrap(), None);
        assert_eq!(d.unique().unwrap(), Some(0x20004));
    }

    #[test]
    fn full_pointers_track_referents() {
        let b = [4u8, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0];
        let mut d = Decoder::new(&b);
        assert_eq!(d.full().unwrap(), FullPointer::New(4));
        assert_eq!(d.full().unwrap(), FullPointer::Null);
        assert_eq!(d.full().unwrap(), FullPointer::Seen(4));
        assert_eq!(d.full().unwrap(), FullPointer::New(8));
    }

    #[test]
    fn huge_counts_are_rejected() {
        // max count 0x7fffffff, offset 0, actual 0x7fffffff, with only two bytes of data.
        let b = [
            0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0x41, 0,
        ];
        assert_eq!(Decoder::new(&b).string(), Err(NdrError));
        let c = [0xff, 0xff, 0xff, 0xff, 1, 2];
        assert_eq!(Decoder::new(&c).conformance(1), Err(NdrError));
    }

    #[test]
    fn varying_bounds_are_checked() {
        // actual count greater than max count
        let b = [1u8, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x41, 0, 0, 0];
        assert_eq!(Decoder::new(&b).string(), Err(NdrError));
        // offset + actual overflowing
        let c = [1u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0];
        assert_eq!(Decoder::new(&c).string(), Err(NdrError));
    }

    #[test]
    fn truncated_reads_fail() {
        let mut d = Decoder::new(&[1, 2, 3]);
        assert_eq!(d.u32(), Err(NdrError));
        let mut d = Decoder::new(&[1, 0, 0, 0, 0]);
        assert_eq!(d.u32().unwrap(), 1);
        assert_eq!(d.u64(), Err(NdrError));
    }

    #[test]
    fn struct_array_defers_pointees() {
        let records = vec![
            vec![Field::Str("A"), Field::U32(3)],
            vec![Field::Str("B"), Field::Null],
        ];
        let mut e = Encoder::new();
        e.struct_array(&records);
        let b = e.into_bytes();
        let mut d = Decoder::new(&b);
        assert_eq!(d.conformance(8).unwrap(), 2);
        assert_eq!(d.unique().unwrap(), Some(0x20000));
        assert_eq!(d.u32().unwrap(), 3);
        assert_eq!(d.unique().unwrap(), Some(0x20004));
        assert_eq!(d.unique().unwrap(), None);
        assert_eq!(d.string().unwrap(), "A");
        assert_eq!(d.string().unwrap(), "B");
        assert_eq!(d.remaining(), 0);
    }
}
