//! File information classes returned by QUERY_INFO (MS-FSCC 2.4): encoders the server fills in, and the
//! decoders of the classes that SET_INFO also accepts (basic, position, mode).

use crate::reader::{DecodeError, Reader};
use crate::writer::{len_u32, put_utf16le, utf16le_len};
use bytes::{BufMut, BytesMut};

/// FileBasicInformation (MS-FSCC 2.4.7), 40 bytes. In SET_INFO a time of 0 means "leave unchanged" and
/// u64::MAX (-1) "stop updating it on this handle".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileBasicInformation {
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub file_attributes: u32,
}

impl FileBasicInformation {
    pub const SIZE: usize = 40;

    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.creation_time);
        w.put_u64_le(self.last_access_time);
        w.put_u64_le(self.last_write_time);
        w.put_u64_le(self.change_time);
        w.put_u32_le(self.file_attributes);
        w.put_u32_le(0);
    }

    /// Decode a SET_INFO buffer; shorter than 40 bytes is `Truncated` (STATUS_INFO_LENGTH_MISMATCH).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf).sub(Self::SIZE)?;
        Ok(FileBasicInformation {
            creation_time: r.u64()?,
            last_access_time: r.u64()?,
            last_write_time: r.u64()?,
            change_time: r.u64()?,
            file_attributes: r.u32()?,
        })
    }
}

/// FileStandardInformation (MS-FSCC 2.4.41), 24 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStandardInformation {
    pub allocation_size: u64,
    pub end_of_file: u64,
    pub number_of_links: u32,
    pub delete_pending: bool,
    pub directory: bool,
}

impl FileStandardInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.allocation_size);
        w.put_u64_le(self.end_of_file);
        w.put_u32_le(self.number_of_links);
        w.put_u8(u8::from(self.delete_pending));
        w.put_u8(u8::from(self.directory));
        w.put_u16_le(0);
    }
}

/// A class made of one little-endian integer field: its struct, `encode`, and `decode` of a buffer at
/// least that long.
macro_rules! single_field_class {
    ($(#[$doc:meta])* $name:ident { $field:ident: $ty:ident, $put:ident }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            pub $field: $ty,
        }

        impl $name {
            pub fn encode(&self, w: &mut BytesMut) {
                w.$put(self.$field);
            }

            pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
                Ok($name { $field: Reader::new(buf).$ty()? })
            }
        }
    };
}
pub(crate) use single_field_class;

single_field_class!(
    /// FileInternalInformation (MS-FSCC 2.4.22): the file's 64-bit index number.
    FileInternalInformation { index_number: u64, put_u64_le }
);
single_field_class!(
    /// FileEaInformation (MS-FSCC 2.4.13): size of the file's extended attributes.
    FileEaInformation { ea_size: u32, put_u32_le }
);
single_field_class!(
    /// FileAccessInformation (MS-FSCC 2.4.1): the access granted to the handle.
    FileAccessInformation { access_flags: u32, put_u32_le }
);
single_field_class!(
    /// FilePositionInformation (MS-FSCC 2.4.35): the handle's current byte offset.
    FilePositionInformation { current_byte_offset: u64, put_u64_le }
);
single_field_class!(
    /// FileModeInformation (MS-FSCC 2.4.26): the handle's mode (FILE_WRITE_THROUGH, ... create options).
    FileModeInformation { mode: u32, put_u32_le }
);
single_field_class!(
    /// FileAlignmentInformation (MS-FSCC 2.4.3): buffer alignment required by the device.
    FileAlignmentInformation { alignment_requirement: u32, put_u32_le }
);

/// FileNameInformation (MS-FSCC 2.4.27): FileNameLength and the UTF-16 name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileNameInformation {
    pub file_name: String,
}

/// FileNormalizedNameInformation (MS-FSCC 2.4.30) has the layout of FileNameInformation.
pub type FileNormalizedNameInformation = FileNameInformation;

impl FileNameInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u32_le(len_u32(utf16le_len(&self.file_name)));
        put_utf16le(w, &self.file_name);
    }
}

/// FileAllInformation (MS-FSCC 2.4.2): the basic, standard, internal, EA, access, position, mode,
/// alignment and name classes one after another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileAllInformation {
    pub basic: FileBasicInformation,
    pub standard: FileStandardInformation,
    pub internal: FileInternalInformation,
    pub ea: FileEaInformation,
    pub access: FileAccessInformation,
    pub position: FilePositionInformation,
    pub mode: FileModeInformation,
    pub alignment: FileAlignmentInformation,
    pub name: FileNameInformation,
}

impl FileAllInformation {
    /// Size of everything before the FileName bytes.
    pub const FIXED_SIZE: usize = 100;

    pub fn encode(&self, w: &mut BytesMut) {
        self.basic.encode(w);
        self.standard.encode(w);
        self.internal.encode(w);
        self.ea.encode(w);
        self.access.encode(w);
        self.position.encode(w);
        self.mode.encode(w);
        self.alignment.encode(w);
        self.name.encode(w);
    }
}

/// FileNetworkOpenInformation (MS-FSCC 2.4.34), 56 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileNetworkOpenInformation {
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub allocation_size: u64,
    pub end_of_file: u64,
    pub file_attributes: u32,
}

impl FileNetworkOpenInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        for v in [
            self.creation_time,
            self.last_access_time,
            self.last_write_time,
            self.change_time,
            self.allocation_size,
            self.end_of_file,
        ] {
            w.put_u64_le(v);
        }
        w.put_u32_le(self.file_attributes);
        w.put_u32_le(0);
    }
}

/// FileAttributeTagInformation (MS-FSCC 2.4.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileAttributeTagInformation {
    pub file_attributes: u32,
    pub reparse_tag: u32,
}

impl FileAttributeTagInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u32_le(self.file_attributes);
        w.put_u32_le(self.reparse_tag);
    }
}

/// FileCompressionInformation (MS-FSCC 2.4.9), 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCompressionInformation {
    pub compressed_file_size: u64,
    /// COMPRESSION_FORMAT_NONE (0) or COMPRESSION_FORMAT_LZNT1 (2).
    pub compression_format: u16,
    pub compression_unit_shift: u8,
    pub chunk_shift: u8,
    pub cluster_shift: u8,
}

impl FileCompressionInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.compressed_file_size);
        w.put_u16_le(self.compression_format);
        w.put_u8(self.compression_unit_shift);
        w.put_u8(self.chunk_shift);
        w.put_u8(self.cluster_shift);
        w.put_bytes(0, 3);
    }
}

/// One stream of a file, named as on the wire: "::$DATA" for the unnamed data stream, ":name:$DATA" others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamEntry {
    pub name: String,
    pub size: u64,
    pub allocation_size: u64,
}

/// FileStreamInformation (MS-FSCC 2.4.43): 8-byte aligned entries linked by NextEntryOffset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileStreamInformation {
    pub entries: Vec<StreamEntry>,
}

impl FileStreamInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        super::put_linked_entries(w, &self.entries, 8, |w, e| {
            w.put_u32_le(len_u32(utf16le_len(&e.name)));
            w.put_u64_le(e.size);
            w.put_u64_le(e.allocation_size);
            put_utf16le(w, &e.name);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fscc::attributes;

    fn bytes(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut w = BytesMut::new();
        f(&mut w);
        w.to_vec()
    }

    #[test]
    fn basic_roundtrip_and_short_buffer() {
        let b = FileBasicInformation {
            creation_time: 1,
            last_access_time: 2,
            last_write_time: 3,
            change_time: 4,
            file_attributes: attributes::ARCHIVE,
        };
        let out = bytes(|w| b.encode(w));
        assert_eq!(out.len(), FileBasicInformation::SIZE);
        assert_eq!(&out[32..], &[0x20, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(FileBasicInformation::decode(&out).unwrap(), b);
        assert_eq!(
            FileBasicInformation::decode(&out[..36]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn standard_layout() {
        let s = FileStandardInformation {
            allocation_size: 4096,
            end_of_file: 5,
            number_of_links: 1,
            delete_pending: false,
            directory: true,
        };
        assert_eq!(&bytes(|w| s.encode(w))[16..], &[1, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn all_information_layout() {
        let all = FileAllInformation {
            internal: FileInternalInformation { index_number: 0x77 },
            position: FilePositionInformation {
                current_byte_offset: 9,
            },
            name: FileNameInformation {
                file_name: "\\a".into(),
            },
            ..Default::default()
        };
        let out = bytes(|w| all.encode(w));
        assert_eq!(out.len(), FileAllInformation::FIXED_SIZE + 4);
        assert_eq!(out[64], 0x77);
        assert_eq!(out[80], 9);
        assert_eq!(&out[96..], &[4, 0, 0, 0, b'\\', 0, b'a', 0]);
    }

    #[test]
    fn single_field_decoders() {
        assert_eq!(
            FilePositionInformation::decode(&[1, 0, 0, 0, 0, 0, 0, 0])
                .unwrap()
                .current_byte_offset,
            1
        );
        assert_eq!(
            FileModeInformation::decode(&[2, 0, 0]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(FileModeInformation::decode(&[2, 0, 0, 0]).unwrap().mode, 2);
    }

    #[test]
    fn fixed_sizes() {
        let n = FileNetworkOpenInformation::default();
        assert_eq!(bytes(|w| n.encode(w)).len(), 56);
        assert_eq!(
            bytes(|w| FileCompressionInformation::default().encode(w)).len(),
            16
        );
        assert_eq!(
            bytes(|w| FileAttributeTagInformation::default().encode(w)).len(),
            8
        );
    }

    #[test]
    fn streams_are_aligned_and_linked() {
        let s = FileStreamInformation {
            entries: vec![
                StreamEntry {
                    name: "::$DATA".into(),
                    size: 5,
                    allocation_size: 8,
                },
                StreamEntry {
                    name: ":x:$DATA".into(),
                    size: 1,
                    allocation_size: 8,
                },
            ],
        };
        let out = bytes(|w| s.encode(w));
        // First entry: 24 fixed + 14 name bytes = 38, padded to 40.
        assert_eq!(&out[..8], &[40, 0, 0, 0, 14, 0, 0, 0]);
        assert_eq!(&out[40..48], &[0, 0, 0, 0, 16, 0, 0, 0]);
        assert_eq!(out.len(), 40 + 24 + 16);
    }
}
