//! FILE_NOTIFY_INFORMATION (MS-FSCC 2.7.1): the change list carried in a CHANGE_NOTIFY response.

use crate::writer::{len_u32, put_utf16le, utf16le_len};
use bytes::{BufMut, BytesMut};

/// Action values (MS-FSCC 2.7.1).
pub mod action {
    pub const ADDED: u32 = 0x0000_0001;
    pub const REMOVED: u32 = 0x0000_0002;
    pub const MODIFIED: u32 = 0x0000_0003;
    pub const RENAMED_OLD_NAME: u32 = 0x0000_0004;
    pub const RENAMED_NEW_NAME: u32 = 0x0000_0005;
    pub const ADDED_STREAM: u32 = 0x0000_0006;
    pub const REMOVED_STREAM: u32 = 0x0000_0007;
    pub const MODIFIED_STREAM: u32 = 0x0000_0008;
    pub const REMOVED_BY_DELETE: u32 = 0x0000_0009;
    pub const ID_NOT_TUNNELLED: u32 = 0x0000_000A;
    pub const TUNNELLED_ID_COLLISION: u32 = 0x0000_000B;
}

/// One change: what happened to which name (relative to the watched directory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileNotifyInformation {
    pub action: u32,
    pub file_name: String,
}

/// Append `changes` as FILE_NOTIFY_INFORMATION entries, each 4-byte aligned.
pub fn encode_notify_list(w: &mut BytesMut, changes: &[FileNotifyInformation]) {
    super::put_linked_entries(w, changes, 4, |w, c| {
        w.put_u32_le(c.action);
        w.put_u32_le(len_u32(utf16le_len(&c.file_name)));
        put_utf16le(w, &c.file_name);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_linked_and_aligned() {
        let mut w = BytesMut::new();
        encode_notify_list(
            &mut w,
            &[
                FileNotifyInformation {
                    action: action::RENAMED_OLD_NAME,
                    file_name: "a".into(),
                },
                FileNotifyInformation {
                    action: action::RENAMED_NEW_NAME,
                    file_name: "bc".into(),
                },
            ],
        );
        // First entry: 12 fixed + 2 name bytes = 14, padded to 16.
        assert_eq!(&w[..14], &[16, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, b'a', 0]);
        assert_eq!(
            &w[16..],
            &[0, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, b'b', 0, b'c', 0]
        );
    }
}
