//! File system information classes returned by QUERY_INFO with InfoType SMB2_0_INFO_FILESYSTEM
//! (MS-FSCC 2.5): volume, size, device, attribute, full size, object id and sector size.

use crate::writer::{len_u32, put_utf16le, utf16le_len};
use bytes::{BufMut, BytesMut};

/// FileFsVolumeInformation (MS-FSCC 2.5.9).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFsVolumeInformation {
    pub volume_creation_time: u64,
    pub volume_serial_number: u32,
    pub supports_objects: bool,
    pub volume_label: String,
}

impl FileFsVolumeInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.volume_creation_time);
        w.put_u32_le(self.volume_serial_number);
        w.put_u32_le(len_u32(utf16le_len(&self.volume_label)));
        w.put_u8(u8::from(self.supports_objects));
        w.put_u8(0);
        put_utf16le(w, &self.volume_label);
    }
}

/// FileFsSizeInformation (MS-FSCC 2.5.8), 24 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileFsSizeInformation {
    pub total_allocation_units: u64,
    pub available_allocation_units: u64,
    pub sectors_per_allocation_unit: u32,
    pub bytes_per_sector: u32,
}

impl FileFsSizeInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.total_allocation_units);
        w.put_u64_le(self.available_allocation_units);
        w.put_u32_le(self.sectors_per_allocation_unit);
        w.put_u32_le(self.bytes_per_sector);
    }
}

/// DeviceType of a disk (MS-FSCC 2.5.10).
pub const FILE_DEVICE_DISK: u32 = 0x0000_0007;

/// Characteristics bits (MS-FSCC 2.5.10).
pub mod device_characteristics {
    pub const REMOVABLE_MEDIA: u32 = 0x0000_0001;
    pub const READ_ONLY_DEVICE: u32 = 0x0000_0002;
    pub const FLOPPY_DISKETTE: u32 = 0x0000_0004;
    pub const WRITE_ONCE_MEDIA: u32 = 0x0000_0008;
    pub const REMOTE_DEVICE: u32 = 0x0000_0010;
    pub const DEVICE_IS_MOUNTED: u32 = 0x0000_0020;
    pub const VIRTUAL_VOLUME: u32 = 0x0000_0040;
    pub const DEVICE_SECURE_OPEN: u32 = 0x0000_0100;
}

/// FileFsDeviceInformation (MS-FSCC 2.5.10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileFsDeviceInformation {
    pub device_type: u32,
    pub characteristics: u32,
}

impl FileFsDeviceInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u32_le(self.device_type);
        w.put_u32_le(self.characteristics);
    }
}

/// FileSystemAttributes bits (MS-FSCC 2.5.1).
pub mod fs_attributes {
    pub const CASE_SENSITIVE_SEARCH: u32 = 0x0000_0001;
    pub const CASE_PRESERVED_NAMES: u32 = 0x0000_0002;
    pub const UNICODE_ON_DISK: u32 = 0x0000_0004;
    pub const PERSISTENT_ACLS: u32 = 0x0000_0008;
    pub const FILE_COMPRESSION: u32 = 0x0000_0010;
    pub const VOLUME_QUOTAS: u32 = 0x0000_0020;
    pub const SUPPORTS_SPARSE_FILES: u32 = 0x0000_0040;
    pub const SUPPORTS_REPARSE_POINTS: u32 = 0x0000_0080;
    pub const SUPPORTS_REMOTE_STORAGE: u32 = 0x0000_0100;
    pub const VOLUME_IS_COMPRESSED: u32 = 0x0000_8000;
    pub const SUPPORTS_OBJECT_IDS: u32 = 0x0001_0000;
    pub const SUPPORTS_ENCRYPTION: u32 = 0x0002_0000;
    pub const NAMED_STREAMS: u32 = 0x0004_0000;
    pub const READ_ONLY_VOLUME: u32 = 0x0008_0000;
    pub const SEQUENTIAL_WRITE_ONCE: u32 = 0x0010_0000;
    pub const SUPPORTS_TRANSACTIONS: u32 = 0x0020_0000;
    pub const SUPPORTS_HARD_LINKS: u32 = 0x0040_0000;
    pub const SUPPORTS_EXTENDED_ATTRIBUTES: u32 = 0x0080_0000;
    pub const SUPPORTS_OPEN_BY_FILE_ID: u32 = 0x0100_0000;
    pub const SUPPORTS_USN_JOURNAL: u32 = 0x0200_0000;
    pub const SUPPORT_INTEGRITY_STREAMS: u32 = 0x0400_0000;
    pub const SUPPORTS_BLOCK_REFCOUNTING: u32 = 0x0800_0000;
    pub const SUPPORTS_SPARSE_VDL: u32 = 0x1000_0000;
}

/// FileFsAttributeInformation (MS-FSCC 2.5.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFsAttributeInformation {
    pub file_system_attributes: u32,
    pub maximum_component_name_length: u32,
    pub file_system_name: String,
}

impl FileFsAttributeInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u32_le(self.file_system_attributes);
        w.put_u32_le(self.maximum_component_name_length);
        w.put_u32_le(len_u32(utf16le_len(&self.file_system_name)));
        put_utf16le(w, &self.file_system_name);
    }
}

/// FileFsFullSizeInformation (MS-FSCC 2.5.4), 32 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileFsFullSizeInformation {
    pub total_allocation_units: u64,
    pub caller_available_allocation_units: u64,
    pub actual_available_allocation_units: u64,
    pub sectors_per_allocation_unit: u32,
    pub bytes_per_sector: u32,
}

impl FileFsFullSizeInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.total_allocation_units);
        w.put_u64_le(self.caller_available_allocation_units);
        w.put_u64_le(self.actual_available_allocation_units);
        w.put_u32_le(self.sectors_per_allocation_unit);
        w.put_u32_le(self.bytes_per_sector);
    }
}

/// FileFsObjectIdInformation (MS-FSCC 2.5.6), 64 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileFsObjectIdInformation {
    pub object_id: [u8; 16],
    pub extended_info: [u8; 48],
}

impl FileFsObjectIdInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        w.put_slice(&self.object_id);
        w.put_slice(&self.extended_info);
    }
}

/// FileFsSectorSizeInformation Flags (MS-FSCC 2.5.7).
pub mod sector_size_flags {
    pub const ALIGNED_DEVICE: u32 = 0x0000_0001;
    pub const PARTITION_ALIGNED_ON_DEVICE: u32 = 0x0000_0002;
    pub const NO_SEEK_PENALTY: u32 = 0x0000_0004;
    pub const TRIM_ENABLED: u32 = 0x0000_0008;
}

/// FileFsSectorSizeInformation (MS-FSCC 2.5.7), 28 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileFsSectorSizeInformation {
    pub logical_bytes_per_sector: u32,
    pub physical_bytes_per_sector_for_atomicity: u32,
    pub physical_bytes_per_sector_for_performance: u32,
    pub file_system_effective_physical_bytes_per_sector_for_atomicity: u32,
    pub flags: u32,
    pub byte_offset_for_sector_alignment: u32,
    pub byte_offset_for_partition_alignment: u32,
}

impl FileFsSectorSizeInformation {
    pub fn encode(&self, w: &mut BytesMut) {
        for v in [
            self.logical_bytes_per_sector,
            self.physical_bytes_per_sector_for_atomicity,
            self.physical_bytes_per_sector_for_performance,
            self.file_system_effective_physical_bytes_per_sector_for_atomicity,
            self.flags,
            self.byte_offset_for_sector_alignment,
            self.byte_offset_for_partition_alignment,
        ] {
            w.put_u32_le(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut w = BytesMut::new();
        f(&mut w);
        w.to_vec()
    }

    #[test]
    fn volume_layout() {
        let v = FileFsVolumeInformation {
            volume_creation_time: 1,
            volume_serial_number: 0xAABBCCDD,
            supports_objects: false,
            volume_label: "v".into(),
        };
        assert_eq!(
            bytes(|w| v.encode(w)),
            vec![1, 0, 0, 0, 0, 0, 0, 0, 0xDD, 0xCC, 0xBB, 0xAA, 2, 0, 0, 0, 0, 0, b'v', 0]
        );
    }

    #[test]
    fn attribute_layout() {
        let a = FileFsAttributeInformation {
            file_system_attributes: fs_attributes::CASE_PRESERVED_NAMES
                | fs_attributes::UNICODE_ON_DISK,
            maximum_component_name_length: 255,
            file_system_name: "NTFS".into(),
        };
        let out = bytes(|w| a.encode(w));
        assert_eq!(&out[..12], &[6, 0, 0, 0, 255, 0, 0, 0, 8, 0, 0, 0]);
        assert_eq!(out.len(), 20);
    }

    #[test]
    fn fixed_sizes() {
        assert_eq!(
            bytes(|w| FileFsSizeInformation::default().encode(w)).len(),
            24
        );
        assert_eq!(
            bytes(|w| FileFsFullSizeInformation::default().encode(w)).len(),
            32
        );
        assert_eq!(
            bytes(|w| FileFsSectorSizeInformation::default().encode(w)).len(),
            28
        );
        let d = FileFsDeviceInformation {
            device_type: FILE_DEVICE_DISK,
            characteristics: 0x20,
        };
        assert_eq!(bytes(|w| d.encode(w)), vec![7, 0, 0, 0, 0x20, 0, 0, 0]);
        let o = FileFsObjectIdInformation {
            object_id: [1; 16],
            extended_info: [0; 48],
        };
        assert_eq!(bytes(|w| o.encode(w)).len(), 64);
    }
}
