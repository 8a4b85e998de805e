//! Target `info_class`: the information-class buffers a client supplies (MS-FSCC 2.4): every class
//! SET_INFO decodes, and the VALIDATE_NEGOTIATE_INFO input of an IOCTL (MS-SMB2 2.2.31.4). The first
//! byte chooses the class, as FileInformationClass does in SET_INFO.

use proto::fscc::file_info::{FileBasicInformation, FileModeInformation, FilePositionInformation};
use proto::fscc::set_info::{
    FileAllocationInformation, FileDispositionInformation, FileDispositionInformationEx,
    FileEndOfFileInformation, FileRenameInformation,
};
use proto::fscc::*;

pub fn run(data: &[u8]) {
    let (class, buf) = crate::selector(data);
    decode_set_info(class, buf);
    let _ = proto::messages::ioctl::ValidateNegotiateInfoRequest::decode(buf);
}

/// Decode `buf` as the SET_INFO buffer of file information class `class`.
pub fn decode_set_info(class: u8, buf: &[u8]) {
    match class {
        FILE_BASIC_INFORMATION => {
            let _ = FileBasicInformation::decode(buf);
        }
        FILE_END_OF_FILE_INFORMATION => {
            let _ = FileEndOfFileInformation::decode(buf);
        }
        FILE_ALLOCATION_INFORMATION => {
            let _ = FileAllocationInformation::decode(buf);
        }
        FILE_DISPOSITION_INFORMATION => {
            let _ = FileDispositionInformation::decode(buf);
        }
        FILE_DISPOSITION_INFORMATION_EX => {
            let _ = FileDispositionInformationEx::decode(buf);
        }
        FILE_POSITION_INFORMATION => {
            let _ = FilePositionInformation::decode(buf);
        }
        FILE_MODE_INFORMATION => {
            let _ = FileModeInformation::decode(buf);
        }
        FILE_RENAME_INFORMATION | FILE_LINK_INFORMATION => {
            let _ = FileRenameInformation::decode(buf);
        }
        FILE_RENAME_INFORMATION_EX => {
            let _ = FileRenameInformation::decode_ex(buf);
        }
        FILE_FULL_EA_INFORMATION => {
            let _ = ea::parse_full_ea(buf);
        }
        _ => {}
    }
}
