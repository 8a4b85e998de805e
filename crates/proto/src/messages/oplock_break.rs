//! SMB2 OPLOCK_BREAK messages (MS-SMB2 2.2.23 to 2.2.25): oplock break notification, acknowledgment and
//! response (all one layout), and lease break notification, acknowledgment and response.

use super::{body_reader, Body};
use crate::reader::DecodeError;
use crate::FileId;
use bytes::{BufMut, BytesMut};

const OPLOCK_SIZE: u16 = 24;
const LEASE_BREAK_NOTIFICATION_SIZE: u16 = 44;
const LEASE_BREAK_ACK_SIZE: u16 = 36;

/// Lease state bits (MS-SMB2 2.2.13.2.8).
pub mod lease_state {
    pub const NONE: u32 = 0x00;
    pub const READ_CACHING: u32 = 0x01;
    pub const HANDLE_CACHING: u32 = 0x02;
    pub const WRITE_CACHING: u32 = 0x04;
}

/// Lease break notification Flags: the client must acknowledge the break.
pub const NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED: u32 = 0x01;

/// Oplock break notification (2.2.23.1), acknowledgment (2.2.24.1) and response (2.2.25.1).
/// `oplock_level` takes the values of [`super::create::oplock_level`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OplockBreak {
    pub oplock_level: u8,
    pub file_id: FileId,
}

pub type OplockBreakNotification = OplockBreak;
pub type OplockBreakAck = OplockBreak;
pub type OplockBreakResponse = OplockBreak;

impl<'a> Body<'a> for OplockBreak {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(OPLOCK_SIZE)?;
        let oplock_level = r.u8()?;
        r.skip(5)?; // Reserved, Reserved2
        Ok(OplockBreak {
            oplock_level,
            file_id: FileId::decode(&mut r)?,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(OPLOCK_SIZE);
        w.put_u8(self.oplock_level);
        w.put_bytes(0, 5);
        self.file_id.encode(w);
    }
}

/// Lease break notification (MS-SMB2 2.2.23.2), sent by the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseBreakNotification {
    pub new_epoch: u16,
    pub flags: u32,
    pub lease_key: [u8; 16],
    pub current_lease_state: u32,
    pub new_lease_state: u32,
}

impl<'a> Body<'a> for LeaseBreakNotification {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(LEASE_BREAK_NOTIFICATION_SIZE)?;
        let n = LeaseBreakNotification {
            new_epoch: r.u16()?,
            flags: r.u32()?,
            lease_key: r.array()?,
            current_lease_state: r.u32()?,
            new_lease_state: r.u32()?,
        };
        r.skip(12)?; // BreakReason, AccessMaskHint, ShareMaskHint
        Ok(n)
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(LEASE_BREAK_NOTIFICATION_SIZE);
        w.put_u16_le(self.new_epoch);
        w.put_u32_le(self.flags);
        w.put_slice(&self.lease_key);
        w.put_u32_le(self.current_lease_state);
        w.put_u32_le(self.new_lease_state);
        w.put_bytes(0, 12);
    }
}

/// Lease break acknowledgment (2.2.24.2) and response (2.2.25.2): one layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseBreak {
    pub flags: u32,
    pub lease_key: [u8; 16],
    pub lease_state: u32,
}

pub type LeaseBreakAck = LeaseBreak;
pub type LeaseBreakResponse = LeaseBreak;

impl<'a> Body<'a> for LeaseBreak {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(LEASE_BREAK_ACK_SIZE)?;
        r.skip(2)?;
        let b = LeaseBreak {
            flags: r.u32()?,
            lease_key: r.array()?,
            lease_state: r.u32()?,
        };
        r.skip(8)?; // LeaseDuration
        Ok(b)
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(LEASE_BREAK_ACK_SIZE);
        w.put_u16_le(0);
        w.put_u32_le(self.flags);
        w.put_slice(&self.lease_key);
        w.put_u32_le(self.lease_state);
        w.put_u64_le(0);
    }
}

/// An OPLOCK_BREAK request from the client: its StructureSize tells which acknowledgment it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakAck {
    Oplock(OplockBreakAck),
    Lease(LeaseBreakAck),
}

impl<'a> Body<'a> for BreakAck {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        match body_reader(pdu)?.u16()? {
            OPLOCK_SIZE => OplockBreak::decode(pdu).map(BreakAck::Oplock),
            LEASE_BREAK_ACK_SIZE => LeaseBreak::decode(pdu).map(BreakAck::Lease),
            _ => Err(DecodeError::BadStructureSize),
        }
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        match self {
            BreakAck::Oplock(o) => o.encode(w, pdu_start),
            BreakAck::Lease(l) => l.encode(w, pdu_start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::oplock_level;
    use crate::messages::create::testing::pdu_with_body;
    use crate::messages::test_util::roundtrip;
    use proptest::prelude::*;

    #[test]
    fn oplock_break_layout() {
        let b = OplockBreak {
            oplock_level: oplock_level::II,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
        };
        let bytes = roundtrip!(b);
        assert_eq!(bytes.len(), 64 + 24);
        assert_eq!(&bytes[64..72], &[24, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(BreakAck::decode(&bytes).unwrap(), BreakAck::Oplock(b));
    }

    #[test]
    fn lease_messages_layout() {
        let n = LeaseBreakNotification {
            new_epoch: 2,
            flags: NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED,
            lease_key: [7; 16],
            current_lease_state: lease_state::READ_CACHING | lease_state::HANDLE_CACHING,
            new_lease_state: lease_state::READ_CACHING,
        };
        let bytes = roundtrip!(n);
        assert_eq!(bytes.len(), 64 + 44);
        assert_eq!(&bytes[64 + 24..64 + 32], &[3, 0, 0, 0, 1, 0, 0, 0]);
        let ack = LeaseBreak {
            flags: 0,
            lease_key: [7; 16],
            lease_state: lease_state::READ_CACHING,
        };
        let bytes = roundtrip!(ack);
        assert_eq!(bytes.len(), 64 + 36);
        assert_eq!(BreakAck::decode(&bytes).unwrap(), BreakAck::Lease(ack));
        roundtrip!(BreakAck::Lease(ack));
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..60)) {
            let _ = BreakAck::decode(&pdu_with_body(&body));
        }
    }
}
