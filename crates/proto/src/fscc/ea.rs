//! FileFullEaInformation (MS-FSCC 2.4.15): a chain of extended attributes, used by QUERY_INFO and
//! SET_INFO class 15 and by the ExtA create context.

use crate::reader::{DecodeError, Reader};
use crate::writer::len_u16;
use bytes::{BufMut, BytesMut};

/// Flags: the file cannot be understood without this EA.
pub const FILE_NEED_EA: u8 = 0x80;

/// One extended attribute. `name` is ASCII without its NUL terminator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FullEa<'a> {
    pub flags: u8,
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Parse a FileFullEaInformation chain. NextEntryOffset must be 4-aligned, cover its entry and stay in
/// `buf`; every name must be NUL-terminated.
pub fn parse_full_ea(buf: &[u8]) -> Result<Vec<FullEa<'_>>, DecodeError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        let mut r = Reader::new(rest);
        let next = r.u32()? as usize;
        let flags = r.u8()?;
        let name_len = usize::from(r.u8()?);
        let value_len = usize::from(r.u16()?);
        let name = r.take(name_len)?;
        if r.u8()? != 0 {
            return Err(DecodeError::BadValue);
        }
        let value = r.take(value_len)?;
        out.push(FullEa { flags, name, value });
        if next == 0 {
            break;
        }
        if !next.is_multiple_of(4) || next < r.position() {
            return Err(DecodeError::BadOffset);
        }
        rest = rest.get(next..).ok_or(DecodeError::BadOffset)?;
    }
    Ok(out)
}

/// Append `entries` as a FileFullEaInformation chain with 4-byte aligned entries.
pub fn encode_full_ea(w: &mut BytesMut, entries: &[FullEa<'_>]) {
    super::put_linked_entries(w, entries, 4, |w, e| {
        w.put_u8(e.flags);
        w.put_u8(u8::try_from(e.name.len()).unwrap_or(u8::MAX));
        w.put_u16_le(len_u16(e.value.len()));
        w.put_slice(e.name);
        w.put_u8(0);
        w.put_slice(e.value);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chain_roundtrip() {
        let eas = [
            FullEa {
                flags: 0,
                name: b"USER.A",
                value: b"1",
            },
            FullEa {
                flags: FILE_NEED_EA,
                name: b"B",
                value: b"",
            },
        ];
        let mut w = BytesMut::new();
        encode_full_ea(&mut w, &eas);
        // 8 + 6 + 1 + 1 = 16: already aligned.
        assert_eq!(&w[..8], &[16, 0, 0, 0, 0, 6, 1, 0]);
        assert_eq!(w.len(), 16 + 10);
        assert_eq!(parse_full_ea(&w).unwrap(), eas);
    }

    #[test]
    fn rejects_bad_chains() {
        let mut w = BytesMut::new();
        encode_full_ea(
            &mut w,
            &[
                FullEa {
                    flags: 0,
                    name: b"AB",
                    value: b"xy",
                },
                FullEa::default(),
            ],
        );
        let mut bad = w.to_vec();
        bad[0] = 4; // Next inside its own entry
        assert_eq!(parse_full_ea(&bad), Err(DecodeError::BadOffset));
        bad[0] = 14; // unaligned
        assert_eq!(parse_full_ea(&bad), Err(DecodeError::BadOffset));
        let mut bad = w.to_vec();
        bad[10] = b'!'; // missing NUL after the name
        assert_eq!(parse_full_ea(&bad), Err(DecodeError::BadValue));
        assert_eq!(parse_full_ea(&w[..9]), Err(DecodeError::Truncated));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_full_ea(&bytes);
        }
    }
}
