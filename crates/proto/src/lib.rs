//! rsmbd-proto: the SMB2/SMB3 wire format as a pure library (MS-SMB2 section 2, MS-FSCC section 2).
//!
//! Nothing here does I/O or knows about sessions. Every message type has `decode`, which takes the bytes of
//! one PDU (starting at its SMB2 header, so offsets in the message are checked against *this* PDU, not the
//! whole frame of a compound) and returns `Result<T, DecodeError>`, and `encode`, which appends to a `BytesMut`.
#![forbid(unsafe_code)]

pub mod aapl;
pub mod command;
pub mod create_context;
pub mod durable;
pub mod frame;
pub mod fscc;
pub mod header;
pub mod messages;
pub mod negotiate_context;
pub mod reader;
pub mod smb1;
pub mod status;
pub mod transform;
pub mod writer;

pub use command::Command;
pub use header::{Header, HeaderFlags, HEADER_LEN};
pub use reader::{DecodeError, Reader};
pub use status::NtStatus;

/// A 16-byte GUID as carried on the wire (MS-DTYP 2.3.4.2), kept in wire byte order.
pub type Guid = [u8; 16];

/// An SMB2 FileId (MS-SMB2 2.2.14.1): persistent and volatile parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileId {
    pub persistent: u64,
    pub volatile: u64,
}

impl FileId {
    /// The all-ones FileId that means "the file opened by the previous request" in a related compound.
    pub const COMPOUNDED: FileId = FileId {
        persistent: u64::MAX,
        volatile: u64::MAX,
    };

    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FileId {
            persistent: r.u64()?,
            volatile: r.u64()?,
        })
    }

    pub fn encode(&self, w: &mut bytes::BytesMut) {
        use bytes::BufMut;
        w.put_u64_le(self.persistent);
        w.put_u64_le(self.volatile);
    }
}
