//! FileFullEaInformation (MS-FSCC 2.4.15): a chain of extended attributes, used by QUERY_INFO and
//! SET_INFO class 15 and by the ExtA create context; FILE_GET_EA_INFORMATION (2.4.15.1), the names a
//! query asks for; the EA name rules and the EaSize of FileEaInformation (2.4.13).

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
    walk_chain(buf, |r| {
        let flags = r.u8()?;
        let name_len = usize::from(r.u8()?);
        let value_len = usize::from(r.u16()?);
        let name = nul_terminated(r, name_len)?;
        let value = r.take(value_len)?;
        Ok(FullEa { flags, name, value })
    })
}

/// Walks a NextEntryOffset-linked chain (the first field of every entry), decoding each entry's fields
/// after that offset with `entry`.
fn walk_chain<'a, T>(
    buf: &'a [u8],
    entry: impl Fn(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        let mut r = Reader::new(rest);
        let next = r.u32()? as usize;
        out.push(entry(&mut r)?);
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

/// `len` bytes of name followed by a NUL.
fn nul_terminated<'a>(r: &mut Reader<'a>, len: usize) -> Result<&'a [u8], DecodeError> {
    let name = r.take(len)?;
    if r.u8()? != 0 {
        return Err(DecodeError::BadValue);
    }
    Ok(name)
}

/// Characters an EA name must not contain besides control characters (the FAT rules Windows applies to
/// EA names, and Samba with it).
const FORBIDDEN_NAME_CHARS: &[u8] = b"\"*+,/:;<=>?[\\]|";

/// Whether `name` is a well-formed EA name (MS-FSA 2.1.5.15.5): not empty, no control character and no
/// character of `"*+,/:;<=>?[\]|`. The 255-byte limit is the one-byte EaNameLength itself.
pub fn valid_ea_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&c| c >= 0x20 && !FORBIDDEN_NAME_CHARS.contains(&c))
}

/// The bytes one EA takes in a FileFullEaInformation list, padded to the 4-byte alignment of the next
/// entry. The sum over a file's EAs is its EaSize (FileEaInformation, directory listings), the size of
/// the list a query for all of them returns, counting the padding of the last entry too.
pub fn full_ea_entry_size(name_len: usize, value_len: usize) -> usize {
    (8 + name_len + 1 + value_len).next_multiple_of(4)
}

/// Parse a FILE_GET_EA_INFORMATION list (MS-FSCC 2.4.15.1) into the names it asks for, with the same
/// chain rules as [`parse_full_ea`].
pub fn parse_get_ea(buf: &[u8]) -> Result<Vec<&[u8]>, DecodeError> {
    walk_chain(buf, |r| {
        let name_len = usize::from(r.u8()?);
        nul_terminated(r, name_len)
    })
}

/// Append FILE_GET_EA_INFORMATION entries naming `names` (what a client sends; used by tests and fuzzing).
pub fn encode_get_ea(w: &mut BytesMut, names: &[&[u8]]) {
    super::put_linked_entries(w, names, 4, |w, n| {
        w.put_u8(u8::try_from(n.len()).unwrap_or(u8::MAX));
        w.put_slice(n);
        w.put_u8(0);
    });
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

    #[test]
    fn get_ea_list() {
        let mut w = BytesMut::new();
        encode_get_ea(&mut w, &[b"EAONE", b"X"]);
        // 4 + 1 + 5 + 1 = 11, padded to 12.
        assert_eq!(&w[..5], &[12, 0, 0, 0, 5]);
        assert_eq!(parse_get_ea(&w).unwrap(), vec![&b"EAONE"[..], b"X"]);
        let mut bad = w.to_vec();
        bad[0] = 200; // past the buffer
        assert_eq!(parse_get_ea(&bad), Err(DecodeError::BadOffset));
        bad[0] = 13; // misaligned
        assert_eq!(parse_get_ea(&bad), Err(DecodeError::BadOffset));
        let mut bad = w.to_vec();
        bad[4] = 9; // name length past the NUL
        assert!(parse_get_ea(&bad).is_err());
    }

    #[test]
    fn names_and_sizes() {
        assert!(valid_ea_name(b"EAONE"));
        assert!(valid_ea_name(b"user.lower name\x7f"));
        for bad in [
            &b""[..],
            b"a*b",
            b"a:b",
            b"a+b",
            b"a]b",
            b"a\x01b",
            b"a\\b",
            b"a|b",
        ] {
            assert!(!valid_ea_name(bad), "{bad:?}");
        }
        assert_eq!(full_ea_entry_size(5, 6), 20);
        assert_eq!(full_ea_entry_size(3, 0), 12);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_full_ea(&bytes);
            let _ = parse_get_ea(&bytes);
        }

        #[test]
        fn get_ea_roundtrip(names in proptest::collection::vec(
            proptest::collection::vec(1u8..=255, 1..40), 1..8)) {
            let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
            let mut w = BytesMut::new();
            encode_get_ea(&mut w, &refs);
            prop_assert_eq!(parse_get_ea(&w).unwrap(), refs);
        }

        #[test]
        fn full_ea_roundtrip(entries in proptest::collection::vec(
            (any::<u8>(), proptest::collection::vec(1u8..=255, 1..40),
             proptest::collection::vec(any::<u8>(), 0..60)), 1..8)) {
            let eas: Vec<FullEa<'_>> = entries.iter()
                .map(|(f, n, v)| FullEa { flags: *f, name: n, value: v }).collect();
            let mut w = BytesMut::new();
            encode_full_ea(&mut w, &eas);
            prop_assert_eq!(parse_full_ea(&w).unwrap(), eas);
        }
    }
}
