//! Directory entries returned by QUERY_DIRECTORY (MS-FSCC 2.4.10 FileDirectoryInformation, 2.4.14
//! FileFullDirectoryInformation, 2.4.8 FileBothDirectoryInformation, 2.4.17 FileIdBothDirectoryInformation,
//! 2.4.18 FileIdFullDirectoryInformation, 2.4.20 FileIdExtdDirectoryInformation, 2.4.28 FileNamesInformation).
//!
//! [`encode_dir_entry`] writes one entry with NextEntryOffset 0; the server aligns entries to 8 bytes and
//! patches the previous entry's NextEntryOffset. [`entry_len`] gives the unpadded size to check space first.

use super::*;
use crate::reader::DecodeError;
use crate::writer::{len_u32, put_utf16le, utf16le_len};
use bytes::{BufMut, BytesMut};

/// Bytes of the ShortName field (12 UTF-16 code units).
const SHORT_NAME_SIZE: usize = 24;

/// What the server knows about one directory entry. Names are UTF-8 and encoded as UTF-16LE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirEntryInfo<'n> {
    pub file_index: u32,
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub end_of_file: u64,
    pub allocation_size: u64,
    pub file_attributes: u32,
    pub ea_size: u32,
    pub file_id: u64,
    /// 8.3 name for the "Both" classes; empty when there is none. Cut to 12 code units.
    pub short_name: &'n str,
    pub name: &'n str,
    /// Finder information for a macOS client that negotiated AAPL READ_DIR_ATTR; carried in the
    /// "Both" classes instead of EaSize, the short name and Reserved2.
    pub apple: Option<AppleDirInfo>,
}

/// The AAPL READ_DIR_ATTR enrichment of a directory entry (Apple's SMB extension, as smbtorture's
/// vfs.fruit reads it): EaSize holds the maximal access, ShortNameLength is 24 and ShortName holds the
/// resource fork's length (u64) and the first 16 bytes of FinderInfo, Reserved2 the Unix mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppleDirInfo {
    pub max_access: u32,
    pub rfork_len: u64,
    pub finder_info: [u8; 16],
    pub unix_mode: u16,
}

/// Size of the fixed part of an entry of `class`, or None for a class that is not a directory class.
fn fixed_len(class: u8) -> Option<usize> {
    Some(match class {
        FILE_DIRECTORY_INFORMATION => 64,
        FILE_FULL_DIRECTORY_INFORMATION => 68,
        FILE_BOTH_DIRECTORY_INFORMATION => 94,
        FILE_ID_BOTH_DIRECTORY_INFORMATION => 104,
        FILE_ID_FULL_DIRECTORY_INFORMATION => 80,
        FILE_ID_EXTD_DIRECTORY_INFORMATION => 88,
        FILE_NAMES_INFORMATION => 12,
        _ => return None,
    })
}

/// Unpadded size of the entry for `name` in `class`; None if `class` is not a directory class.
pub fn entry_len(class: u8, name: &str) -> Option<usize> {
    fixed_len(class)?.checked_add(utf16le_len(name))
}

/// Append one entry of `class` for `e` with NextEntryOffset 0. A class that is not a directory class is
/// `BadValue` (STATUS_INVALID_INFO_CLASS) and writes nothing.
pub fn encode_dir_entry(
    class: u8,
    e: &DirEntryInfo<'_>,
    w: &mut BytesMut,
) -> Result<(), DecodeError> {
    fixed_len(class).ok_or(DecodeError::BadValue)?;
    w.put_u32_le(0);
    w.put_u32_le(e.file_index);
    if class != FILE_NAMES_INFORMATION {
        put_times_and_sizes(e, w);
    }
    w.put_u32_le(len_u32(utf16le_len(e.name)));
    match class {
        FILE_FULL_DIRECTORY_INFORMATION => w.put_u32_le(e.ea_size),
        FILE_BOTH_DIRECTORY_INFORMATION => put_ea_and_short_name(e, w),
        FILE_ID_BOTH_DIRECTORY_INFORMATION => {
            put_ea_and_short_name(e, w);
            w.put_u16_le(e.apple.map_or(0, |a| a.unix_mode));
            w.put_u64_le(e.file_id);
        }
        FILE_ID_FULL_DIRECTORY_INFORMATION => {
            w.put_u32_le(e.ea_size);
            w.put_u32_le(0);
            w.put_u64_le(e.file_id);
        }
        FILE_ID_EXTD_DIRECTORY_INFORMATION => {
            w.put_u32_le(e.ea_size);
            w.put_u32_le(0); // ReparsePointTag
            w.put_u64_le(e.file_id);
            w.put_u64_le(0); // high half of the 128-bit FileId
        }
        _ => {}
    }
    put_utf16le(w, e.name);
    Ok(())
}

/// CreationTime .. FileAttributes, common to every class but FileNamesInformation.
fn put_times_and_sizes(e: &DirEntryInfo<'_>, w: &mut BytesMut) {
    for v in [
        e.creation_time,
        e.last_access_time,
        e.last_write_time,
        e.change_time,
        e.end_of_file,
        e.allocation_size,
    ] {
        w.put_u64_le(v);
    }
    w.put_u32_le(e.file_attributes);
}

/// EaSize, ShortNameLength, Reserved and the 24-byte ShortName field.
fn put_ea_and_short_name(e: &DirEntryInfo<'_>, w: &mut BytesMut) {
    if let Some(a) = e.apple {
        w.put_u32_le(a.max_access);
        w.put_u8(len_u8(SHORT_NAME_SIZE));
        w.put_u8(0);
        w.put_u64_le(a.rfork_len);
        w.put_slice(&a.finder_info);
        return;
    }
    w.put_u32_le(e.ea_size);
    let units: Vec<u16> = e
        .short_name
        .encode_utf16()
        .take(SHORT_NAME_SIZE / 2)
        .collect();
    w.put_u8(u8::try_from(units.len() * 2).unwrap_or(0));
    w.put_u8(0);
    for u in &units {
        w.put_u16_le(*u);
    }
    w.put_bytes(0, SHORT_NAME_SIZE - units.len() * 2);
}

/// A length known to fit in a byte.
fn len_u8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> DirEntryInfo<'static> {
        DirEntryInfo {
            file_index: 0,
            creation_time: 1,
            last_access_time: 2,
            last_write_time: 3,
            change_time: 4,
            end_of_file: 5,
            allocation_size: 8,
            file_attributes: attributes::ARCHIVE,
            ea_size: 0,
            file_id: 0x1122,
            short_name: "",
            name: "ab",
            apple: None,
        }
    }

    fn encode(class: u8, e: &DirEntryInfo<'_>) -> Vec<u8> {
        let mut w = BytesMut::new();
        encode_dir_entry(class, e, &mut w).unwrap();
        assert_eq!(Some(w.len()), entry_len(class, e.name));
        w.to_vec()
    }

    #[test]
    fn every_class_matches_entry_len() {
        for class in [1, 2, 3, 12, 37, 38, 60] {
            encode(class, &entry());
        }
        assert_eq!(entry_len(FILE_BASIC_INFORMATION, "ab"), None);
        let mut w = BytesMut::new();
        assert_eq!(
            encode_dir_entry(FILE_BASIC_INFORMATION, &entry(), &mut w),
            Err(DecodeError::BadValue)
        );
        assert!(w.is_empty());
    }

    #[test]
    fn id_both_layout() {
        let e = DirEntryInfo {
            short_name: "AB~1.TXT",
            ..entry()
        };
        let out = encode(FILE_ID_BOTH_DIRECTORY_INFORMATION, &e);
        assert_eq!(&out[8..16], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&out[56..60], &[0x20, 0, 0, 0]);
        assert_eq!(&out[60..64], &[4, 0, 0, 0]); // FileNameLength
        assert_eq!(out[68], 16); // ShortNameLength
        assert_eq!(&out[70..72], &[b'A', 0]);
        assert_eq!(&out[96..98], &[0x22, 0x11]); // FileId
        assert_eq!(&out[104..], &[b'a', 0, b'b', 0]);
    }

    #[test]
    fn names_and_extd_layout() {
        let out = encode(FILE_NAMES_INFORMATION, &entry());
        assert_eq!(
            out,
            vec![0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, b'a', 0, b'b', 0]
        );
        let out = encode(FILE_ID_EXTD_DIRECTORY_INFORMATION, &entry());
        assert_eq!(&out[72..74], &[0x22, 0x11]);
        assert_eq!(&out[80..88], &[0; 8]);
    }

    #[test]
    fn apple_enrichment_replaces_ea_and_short_name() {
        let e = DirEntryInfo {
            name: "a",
            file_id: 7,
            apple: Some(AppleDirInfo {
                max_access: 0x1F01FF,
                rfork_len: 3,
                finder_info: *b"SMB,OLE!\0\0\0\0\0\0\0\0",
                unix_mode: 0o644,
            }),
            ..Default::default()
        };
        let mut w = BytesMut::new();
        encode_dir_entry(FILE_ID_BOTH_DIRECTORY_INFORMATION, &e, &mut w).unwrap();
        assert_eq!(&w[64..68], &0x1F01FFu32.to_le_bytes());
        assert_eq!(w[68], 24);
        assert_eq!(&w[70..78], &3u64.to_le_bytes());
        assert_eq!(&w[78..86], b"SMB,OLE!");
        assert_eq!(&w[94..96], &0o644u16.to_le_bytes());
        assert_eq!(&w[96..104], &7u64.to_le_bytes());
    }

    #[test]
    fn long_short_name_is_cut() {
        let e = DirEntryInfo {
            short_name: "ABCDEFGHIJKLMNOP",
            ..entry()
        };
        let out = encode(FILE_BOTH_DIRECTORY_INFORMATION, &e);
        assert_eq!(out[68], 24);
    }
}
