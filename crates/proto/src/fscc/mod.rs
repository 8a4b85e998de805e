//! MS-FSCC structures carried in QUERY_INFO, SET_INFO and QUERY_DIRECTORY: file information classes
//! (MS-FSCC 2.4), file system information classes (MS-FSCC 2.5) and file attributes (MS-FSCC 2.6).
//!
//! The server builds the query classes with the encoders here and reads the set classes with the decoders.
//! Times are FILETIMEs (100 ns since 1601) carried as `u64`.

pub mod dir_info;
pub mod ea;
pub mod file_info;
pub mod fs_info;
pub mod notify;
pub mod set_info;

use bytes::{BufMut, BytesMut};

pub use dir_info::{encode_dir_entry, entry_len, AppleDirInfo, DirEntryInfo};

/// File information class numbers (MS-FSCC 2.4).
pub const FILE_DIRECTORY_INFORMATION: u8 = 1;
pub const FILE_FULL_DIRECTORY_INFORMATION: u8 = 2;
pub const FILE_BOTH_DIRECTORY_INFORMATION: u8 = 3;
pub const FILE_BASIC_INFORMATION: u8 = 4;
pub const FILE_STANDARD_INFORMATION: u8 = 5;
pub const FILE_INTERNAL_INFORMATION: u8 = 6;
pub const FILE_EA_INFORMATION: u8 = 7;
pub const FILE_ACCESS_INFORMATION: u8 = 8;
pub const FILE_NAME_INFORMATION: u8 = 9;
pub const FILE_RENAME_INFORMATION: u8 = 10;
pub const FILE_LINK_INFORMATION: u8 = 11;
pub const FILE_NAMES_INFORMATION: u8 = 12;
pub const FILE_DISPOSITION_INFORMATION: u8 = 13;
pub const FILE_POSITION_INFORMATION: u8 = 14;
pub const FILE_FULL_EA_INFORMATION: u8 = 15;
pub const FILE_MODE_INFORMATION: u8 = 16;
pub const FILE_ALIGNMENT_INFORMATION: u8 = 17;
pub const FILE_ALL_INFORMATION: u8 = 18;
pub const FILE_ALLOCATION_INFORMATION: u8 = 19;
pub const FILE_END_OF_FILE_INFORMATION: u8 = 20;
pub const FILE_ALTERNATE_NAME_INFORMATION: u8 = 21;
pub const FILE_STREAM_INFORMATION: u8 = 22;
pub const FILE_PIPE_INFORMATION: u8 = 23;
pub const FILE_PIPE_LOCAL_INFORMATION: u8 = 24;
pub const FILE_PIPE_REMOTE_INFORMATION: u8 = 25;
pub const FILE_COMPRESSION_INFORMATION: u8 = 28;
pub const FILE_OBJECT_ID_INFORMATION: u8 = 29;
pub const FILE_QUOTA_INFORMATION: u8 = 32;
pub const FILE_REPARSE_POINT_INFORMATION: u8 = 33;
pub const FILE_NETWORK_OPEN_INFORMATION: u8 = 34;
pub const FILE_ATTRIBUTE_TAG_INFORMATION: u8 = 35;
pub const FILE_ID_BOTH_DIRECTORY_INFORMATION: u8 = 37;
pub const FILE_ID_FULL_DIRECTORY_INFORMATION: u8 = 38;
pub const FILE_VALID_DATA_LENGTH_INFORMATION: u8 = 39;
pub const FILE_SHORT_NAME_INFORMATION: u8 = 40;
pub const FILE_NORMALIZED_NAME_INFORMATION: u8 = 48;
pub const FILE_ID_EXTD_DIRECTORY_INFORMATION: u8 = 60;
pub const FILE_DISPOSITION_INFORMATION_EX: u8 = 64;
pub const FILE_RENAME_INFORMATION_EX: u8 = 65;

/// File system information class numbers (MS-FSCC 2.5).
pub const FILE_FS_VOLUME_INFORMATION: u8 = 1;
pub const FILE_FS_LABEL_INFORMATION: u8 = 2;
pub const FILE_FS_SIZE_INFORMATION: u8 = 3;
pub const FILE_FS_DEVICE_INFORMATION: u8 = 4;
pub const FILE_FS_ATTRIBUTE_INFORMATION: u8 = 5;
pub const FILE_FS_CONTROL_INFORMATION: u8 = 6;
pub const FILE_FS_FULL_SIZE_INFORMATION: u8 = 7;
pub const FILE_FS_OBJECT_ID_INFORMATION: u8 = 8;
pub const FILE_FS_SECTOR_SIZE_INFORMATION: u8 = 11;

/// File attributes (MS-FSCC 2.6).
pub mod attributes {
    pub const READONLY: u32 = 0x0000_0001;
    pub const HIDDEN: u32 = 0x0000_0002;
    pub const SYSTEM: u32 = 0x0000_0004;
    pub const DIRECTORY: u32 = 0x0000_0010;
    pub const ARCHIVE: u32 = 0x0000_0020;
    pub const NORMAL: u32 = 0x0000_0080;
    pub const TEMPORARY: u32 = 0x0000_0100;
    pub const SPARSE_FILE: u32 = 0x0000_0200;
    pub const REPARSE_POINT: u32 = 0x0000_0400;
    pub const COMPRESSED: u32 = 0x0000_0800;
    pub const OFFLINE: u32 = 0x0000_1000;
    pub const NOT_CONTENT_INDEXED: u32 = 0x0000_2000;
    pub const ENCRYPTED: u32 = 0x0000_4000;
    pub const INTEGRITY_STREAM: u32 = 0x0000_8000;
    pub const NO_SCRUB_DATA: u32 = 0x0002_0000;
    pub const RECALL_ON_OPEN: u32 = 0x0004_0000;
    pub const PINNED: u32 = 0x0008_0000;
    pub const UNPINNED: u32 = 0x0010_0000;
    pub const RECALL_ON_DATA_ACCESS: u32 = 0x0040_0000;
}

/// Append `items` as a chain of entries that each start with a u32 NextEntryOffset (the distance to the
/// next entry, 0 on the last). Every entry starts `align`-aligned relative to the first; `put` writes an
/// entry's bytes after its NextEntryOffset. Used by the stream, EA and notify lists and create contexts.
pub fn put_linked_entries<T>(
    w: &mut BytesMut,
    items: &[T],
    align: usize,
    mut put: impl FnMut(&mut BytesMut, &T),
) {
    let Some(first) = items.first() else { return };
    let chain_start = w.len();
    w.put_u32_le(0);
    put(w, first);
    let mut prev = chain_start;
    for item in items.iter().skip(1) {
        crate::writer::pad_to(w, chain_start, align);
        let start = w.len();
        crate::writer::patch_u32(w, prev, crate::writer::len_u32(start - prev));
        prev = start;
        w.put_u32_le(0);
        put(w, item);
    }
}
