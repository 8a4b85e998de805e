//! The 64-byte SMB2 packet header, sync and async forms (MS-SMB2 2.2.1.1 and 2.2.1.2).

use crate::reader::{DecodeError, Reader};
use crate::status::NtStatus;
use bytes::{BufMut, BytesMut};

pub const HEADER_LEN: usize = 64;
pub const PROTOCOL_ID: [u8; 4] = [0xFE, b'S', b'M', b'B'];
/// Byte offset of the Signature field inside the header.
pub const SIGNATURE_OFFSET: usize = 48;

/// SMB2 header Flags (MS-SMB2 2.2.1.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderFlags(pub u32);

impl HeaderFlags {
    pub const SERVER_TO_REDIR: u32 = 0x0000_0001;
    pub const ASYNC_COMMAND: u32 = 0x0000_0002;
    pub const RELATED_OPERATIONS: u32 = 0x0000_0004;
    pub const SIGNED: u32 = 0x0000_0008;
    pub const PRIORITY_MASK: u32 = 0x0000_0070;
    pub const DFS_OPERATIONS: u32 = 0x1000_0000;
    pub const REPLAY_OPERATION: u32 = 0x2000_0000;

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

/// A decoded SMB2 header. `async_id` is set for the async form, `tree_id` for the sync form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub credit_charge: u16,
    /// ChannelSequence/Reserved in requests, Status in responses.
    pub status: NtStatus,
    pub command: u16,
    /// CreditRequest in requests, CreditResponse in responses.
    pub credits: u16,
    pub flags: HeaderFlags,
    pub next_command: u32,
    pub message_id: u64,
    pub async_id: Option<u64>,
    pub process_id: u32,
    pub tree_id: u32,
    pub session_id: u64,
    pub signature: [u8; 16],
}

impl Default for NtStatus {
    fn default() -> Self {
        NtStatus::SUCCESS
    }
}

impl Header {
    /// Decode the header at the start of `pdu`.
    pub fn decode(pdu: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(pdu);
        if r.array::<4>()? != PROTOCOL_ID {
            return Err(DecodeError::BadValue);
        }
        r.structure_size(64)?;
        let credit_charge = r.u16()?;
        let status = NtStatus(r.u32()?);
        let command = r.u16()?;
        let credits = r.u16()?;
        let flags = HeaderFlags(r.u32()?);
        let next_command = r.u32()?;
        let message_id = r.u64()?;
        let (async_id, process_id, tree_id) = if flags.has(HeaderFlags::ASYNC_COMMAND) {
            (Some(r.u64()?), 0, 0)
        } else {
            (None, r.u32()?, r.u32()?)
        };
        let session_id = r.u64()?;
        let signature = r.array()?;
        Ok(Header {
            credit_charge,
            status,
            command,
            credits,
            flags,
            next_command,
            message_id,
            async_id,
            process_id,
            tree_id,
            session_id,
            signature,
        })
    }

    pub fn encode(&self, w: &mut BytesMut) {
        w.put_slice(&PROTOCOL_ID);
        w.put_u16_le(64);
        w.put_u16_le(self.credit_charge);
        w.put_u32_le(self.status.0);
        w.put_u16_le(self.command);
        w.put_u16_le(self.credits);
        let mut flags = self.flags.0 & !HeaderFlags::ASYNC_COMMAND;
        if self.async_id.is_some() {
            flags |= HeaderFlags::ASYNC_COMMAND;
        }
        w.put_u32_le(flags);
        w.put_u32_le(self.next_command);
        w.put_u64_le(self.message_id);
        match self.async_id {
            Some(id) => w.put_u64_le(id),
            None => {
                w.put_u32_le(self.process_id);
                w.put_u32_le(self.tree_id);
            }
        }
        w.put_u64_le(self.session_id);
        w.put_slice(&self.signature);
    }

    pub fn is_response(&self) -> bool {
        self.flags.has(HeaderFlags::SERVER_TO_REDIR)
    }
}

/// The SMB2 ERROR response body (MS-SMB2 2.2.2) with no error context data.
pub fn encode_error_body(w: &mut BytesMut, data: &[u8]) {
    w.put_u16_le(9);
    w.put_u8(0); // ErrorContextCount
    w.put_u8(0);
    w.put_u32_le(crate::writer::len_u32(data.len()));
    if data.is_empty() {
        w.put_u8(0);
    } else {
        w.put_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_header_roundtrip() {
        let h = Header {
            credit_charge: 1,
            status: NtStatus::SUCCESS,
            command: 5,
            credits: 10,
            flags: HeaderFlags(HeaderFlags::SIGNED),
            next_command: 0,
            message_id: 7,
            async_id: None,
            process_id: 0xfeff,
            tree_id: 3,
            session_id: 0x1234,
            signature: [9; 16],
        };
        let mut w = BytesMut::new();
        h.encode(&mut w);
        assert_eq!(w.len(), HEADER_LEN);
        assert_eq!(Header::decode(&w).unwrap(), h);
    }

    #[test]
    fn async_header_roundtrip_sets_flag() {
        let h = Header {
            async_id: Some(42),
            message_id: 1,
            ..Default::default()
        };
        let mut w = BytesMut::new();
        h.encode(&mut w);
        let d = Header::decode(&w).unwrap();
        assert!(d.flags.has(HeaderFlags::ASYNC_COMMAND));
        assert_eq!(d.async_id, Some(42));
    }

    #[test]
    fn rejects_bad_magic_and_short() {
        assert!(Header::decode(&[0xFF, b'S', b'M', b'B']).is_err());
        let mut w = BytesMut::new();
        Header::default().encode(&mut w);
        assert_eq!(Header::decode(&w[..63]), Err(DecodeError::Truncated));
    }
}
