//! Decoders of the file information classes that only SET_INFO carries (MS-FSCC 2.4): end of file,
//! allocation, disposition (and Ex), rename (and Ex) and link. A buffer shorter than the class is
//! `Truncated`, which the server answers with STATUS_INFO_LENGTH_MISMATCH.

use super::file_info::single_field_class;
use crate::reader::{DecodeError, Reader};
use bytes::{BufMut, BytesMut};

single_field_class!(
    /// FileEndOfFileInformation (MS-FSCC 2.4.14): the new end of file.
    FileEndOfFileInformation { end_of_file: u64, put_u64_le }
);
single_field_class!(
    /// FileAllocationInformation (MS-FSCC 2.4.4): the new allocation size.
    FileAllocationInformation { allocation_size: u64, put_u64_le }
);
single_field_class!(
    /// FileDispositionInformationEx (MS-FSCC 2.4.12): [`disposition_flags`] bits.
    FileDispositionInformationEx { flags: u32, put_u32_le }
);

/// FileDispositionInformationEx Flags (MS-FSCC 2.4.12).
pub mod disposition_flags {
    pub const DO_NOT_DELETE: u32 = 0x0000_0000;
    pub const DELETE: u32 = 0x0000_0001;
    pub const POSIX_SEMANTICS: u32 = 0x0000_0002;
    pub const FORCE_IMAGE_SECTION_CHECK: u32 = 0x0000_0004;
    pub const ON_CLOSE: u32 = 0x0000_0008;
    pub const IGNORE_READONLY_ATTRIBUTE: u32 = 0x0000_0010;
}

/// FileDispositionInformation (MS-FSCC 2.4.11): DeletePending, one byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileDispositionInformation {
    pub delete_pending: bool,
}

impl FileDispositionInformation {
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        Ok(FileDispositionInformation {
            delete_pending: Reader::new(buf).u8()? != 0,
        })
    }
}

/// FileRenameInformationEx Flags (MS-FSCC 2.4.38); the plain class's ReplaceIfExists maps to the first bit.
pub mod rename_flags {
    pub const REPLACE_IF_EXISTS: u32 = 0x0000_0001;
    pub const POSIX_SEMANTICS: u32 = 0x0000_0002;
    pub const SUPPRESS_PIN_STATE_INHERITANCE: u32 = 0x0000_0004;
    pub const SUPPRESS_STORAGE_RESERVE_INHERITANCE: u32 = 0x0000_0008;
    pub const NO_INCREASE_AVAILABLE_SPACE: u32 = 0x0000_0010;
    pub const NO_DECREASE_AVAILABLE_SPACE: u32 = 0x0000_0020;
    pub const IGNORE_READONLY_ATTRIBUTE: u32 = 0x0000_0040;
    pub const FORCE_RESIZE_TARGET_SR: u32 = 0x0000_0080;
    pub const FORCE_RESIZE_SOURCE_SR: u32 = 0x0000_0100;
}

/// FileRenameInformation for SMB2 (MS-FSCC 2.4.37.2, the 64-bit form), FileRenameInformationEx
/// (2.4.38) and FileLinkInformation (2.4.23.2), which share one layout: ReplaceIfExists (1 byte, 7
/// reserved) or Flags (4 bytes, 4 reserved), RootDirectory (8), FileNameLength (4), FileName.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileRenameInformation<'a> {
    /// [`rename_flags`] bits; for the plain classes only REPLACE_IF_EXISTS.
    pub flags: u32,
    pub root_directory: u64,
    /// The target name, raw UTF-16LE.
    pub file_name: &'a [u8],
}

/// FileLinkInformation has the layout of FileRenameInformation.
pub type FileLinkInformation<'a> = FileRenameInformation<'a>;

impl<'a> FileRenameInformation<'a> {
    /// Size of the fixed part before FileName.
    pub const FIXED_SIZE: usize = 20;

    /// Decode FileRenameInformation or FileLinkInformation (ReplaceIfExists form).
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_with(buf, |head| u32::from(head & 0xFF != 0))
    }

    /// Decode FileRenameInformationEx (Flags form).
    pub fn decode_ex(buf: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_with(buf, |head| head)
    }

    fn decode_with(buf: &'a [u8], flags: impl Fn(u32) -> u32) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let head = r.u32()?;
        r.skip(4)?;
        let root_directory = r.u64()?;
        let len = r.u32()? as usize;
        if !len.is_multiple_of(2) {
            return Err(DecodeError::BadValue);
        }
        let file_name = r.take(len)?;
        Ok(FileRenameInformation {
            flags: flags(head),
            root_directory,
            file_name,
        })
    }

    /// Encode in the Flags form (which carries ReplaceIfExists in its first byte too).
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u32_le(self.flags);
        w.put_u32_le(0);
        w.put_u64_le(self.root_directory);
        w.put_u32_le(crate::writer::len_u32(self.file_name.len()));
        w.put_slice(self.file_name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_plain_and_ex() {
        let name = [b'n', 0, b'e', 0, b'w', 0];
        let mut buf = vec![1, 0, 0, 0, 0, 0, 0, 0];
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&[6, 0, 0, 0]);
        buf.extend_from_slice(&name);
        let r = FileRenameInformation::decode(&buf).unwrap();
        assert_eq!(
            r,
            FileRenameInformation {
                flags: rename_flags::REPLACE_IF_EXISTS,
                root_directory: 0,
                file_name: &name
            }
        );
        let mut w = BytesMut::new();
        r.encode(&mut w);
        assert_eq!(w.len(), FileRenameInformation::FIXED_SIZE + 6);
        assert_eq!(FileLinkInformation::decode(&w).unwrap(), r);
        buf[0] = 0x42; // ReplaceIfExists is a boolean: any non-zero byte
        buf[1] = 0x01; // reserved byte, ignored by the plain form
        assert_eq!(
            FileRenameInformation::decode(&buf).unwrap().flags,
            rename_flags::REPLACE_IF_EXISTS
        );
        assert_eq!(
            FileRenameInformation::decode_ex(&buf).unwrap().flags,
            0x0142
        );
    }

    #[test]
    fn rename_name_bounds() {
        let mut buf = vec![0; 20];
        buf[16] = 2;
        assert_eq!(
            FileRenameInformation::decode(&buf),
            Err(DecodeError::Truncated)
        );
        buf[16] = 1;
        assert_eq!(
            FileRenameInformation::decode(&buf),
            Err(DecodeError::BadValue)
        );
        assert_eq!(
            FileRenameInformation::decode(&buf[..19]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn small_classes() {
        assert_eq!(
            FileEndOfFileInformation::decode(&[0, 1, 0, 0, 0, 0, 0, 0])
                .unwrap()
                .end_of_file,
            256
        );
        assert_eq!(
            FileAllocationInformation::decode(&[0; 7]),
            Err(DecodeError::Truncated)
        );
        assert!(
            FileDispositionInformation::decode(&[1])
                .unwrap()
                .delete_pending
        );
        assert_eq!(
            FileDispositionInformation::decode(&[]),
            Err(DecodeError::Truncated)
        );
        let ex = FileDispositionInformationEx::decode(&[9, 0, 0, 0]).unwrap();
        assert_eq!(
            ex.flags,
            disposition_flags::DELETE | disposition_flags::ON_CLOSE
        );
    }
}
