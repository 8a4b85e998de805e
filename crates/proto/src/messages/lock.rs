//! SMB2 LOCK request and response (MS-SMB2 2.2.26, 2.2.27).

use super::{body_reader, Body};
use crate::reader::{DecodeError, Reader};
use crate::writer::len_u16;
use crate::FileId;
use bytes::{BufMut, BytesMut};

/// Size of one SMB2_LOCK_ELEMENT on the wire.
const ELEMENT_SIZE: usize = 24;

/// SMB2_LOCK_ELEMENT Flags (MS-SMB2 2.2.26.1).
pub const LOCKFLAG_SHARED_LOCK: u32 = 0x0000_0001;
pub const LOCKFLAG_EXCLUSIVE_LOCK: u32 = 0x0000_0002;
pub const LOCKFLAG_UNLOCK: u32 = 0x0000_0004;
pub const LOCKFLAG_FAIL_IMMEDIATELY: u32 = 0x0000_0010;

/// One byte range to lock or unlock (MS-SMB2 2.2.26.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockElement {
    pub offset: u64,
    pub length: u64,
    pub flags: u32,
}

impl LockElement {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let e = LockElement {
            offset: r.u64()?,
            length: r.u64()?,
            flags: r.u32()?,
        };
        r.skip(4)?;
        Ok(e)
    }

    fn encode(&self, w: &mut BytesMut) {
        w.put_u64_le(self.offset);
        w.put_u64_le(self.length);
        w.put_u32_le(self.flags);
        w.put_u32_le(0);
    }
}

/// SMB2 LOCK request. `lock_sequence` holds LockSequenceNumber (low 4 bits) and LockSequenceIndex.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockRequest {
    pub lock_sequence: u32,
    pub file_id: FileId,
    pub locks: Vec<LockElement>,
}

/// The LOCK response is a bare StructureSize of 4.
pub type LockResponse = super::Empty;

impl<'a> Body<'a> for LockRequest {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(48)?;
        let count = usize::from(r.u16()?);
        let lock_sequence = r.u32()?;
        let file_id = FileId::decode(&mut r)?;
        if count == 0 {
            return Err(DecodeError::BadValue);
        }
        // The count is checked against the bytes present before anything is allocated.
        let mut elements = r.sub(
            count
                .checked_mul(ELEMENT_SIZE)
                .ok_or(DecodeError::Truncated)?,
        )?;
        let locks = (0..count)
            .map(|_| LockElement::decode(&mut elements))
            .collect::<Result<_, _>>()?;
        Ok(LockRequest {
            lock_sequence,
            file_id,
            locks,
        })
    }

    fn encode(&self, w: &mut BytesMut, _pdu_start: usize) {
        w.put_u16_le(48);
        w.put_u16_le(len_u16(self.locks.len()));
        w.put_u32_le(self.lock_sequence);
        self.file_id.encode(w);
        for l in &self.locks {
            l.encode(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::create::testing::pdu_with_body;
    use crate::messages::test_util::roundtrip;
    use proptest::prelude::*;

    #[test]
    fn request_layout_and_roundtrip() {
        let req = LockRequest {
            lock_sequence: 0x11,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            locks: vec![
                LockElement {
                    offset: 0,
                    length: 10,
                    flags: LOCKFLAG_EXCLUSIVE_LOCK | LOCKFLAG_FAIL_IMMEDIATELY,
                },
                LockElement {
                    offset: 20,
                    length: 1,
                    flags: LOCKFLAG_UNLOCK,
                },
            ],
        };
        let bytes = roundtrip!(req);
        assert_eq!(bytes.len(), 64 + 24 + 2 * 24);
        assert_eq!(&bytes[64..68], &[48, 0, 2, 0]);
        assert_eq!(&bytes[64 + 24 + 16..64 + 24 + 20], &[0x12, 0, 0, 0]);
    }

    #[test]
    fn count_checked() {
        let req = LockRequest {
            locks: vec![LockElement::default()],
            ..Default::default()
        };
        let mut bytes = roundtrip!(req);
        bytes[66] = 2;
        assert_eq!(LockRequest::decode(&bytes), Err(DecodeError::Truncated));
        bytes[66] = 0;
        assert_eq!(LockRequest::decode(&bytes), Err(DecodeError::BadValue));
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = LockRequest::decode(&pdu_with_body(&body));
        }
    }
}
