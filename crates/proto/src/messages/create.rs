//! SMB2 CREATE request and response (MS-SMB2 2.2.13, 2.2.14), with the access mask bits
//! (MS-SMB2 2.2.13.1, MS-DTYP 2.4.3) and their generic mapping for files.

use super::{body_reader, Body};
use crate::create_context::{encode_chain, parse_chain, OwnedCreateContext};
use crate::reader::{DecodeError, Reader};
use crate::writer::{len_u16, len_u32, patch_u32};
use crate::FileId;
use bytes::{BufMut, BytesMut};

const REQUEST_SIZE: u16 = 57;
const RESPONSE_SIZE: u16 = 89;

/// Access mask bits for files, directories and pipes (MS-SMB2 2.2.13.1.1 and 2.2.13.1.2), kept with
/// the rest of the security types in `dtyp`.
pub mod access {
    pub use dtyp::access::map_generic;
    pub use dtyp::access::mask::*;
}

/// RequestedOplockLevel / OplockLevel values (MS-SMB2 2.2.13).
pub mod oplock_level {
    pub const NONE: u8 = 0x00;
    pub const II: u8 = 0x01;
    pub const EXCLUSIVE: u8 = 0x08;
    pub const BATCH: u8 = 0x09;
    pub const LEASE: u8 = 0xFF;
}

/// ImpersonationLevel values (MS-SMB2 2.2.13).
pub mod impersonation {
    pub const ANONYMOUS: u32 = 0;
    pub const IDENTIFICATION: u32 = 1;
    pub const IMPERSONATION: u32 = 2;
    pub const DELEGATE: u32 = 3;
}

/// ShareAccess bits (MS-SMB2 2.2.13).
pub mod share_access {
    pub const READ: u32 = 0x1;
    pub const WRITE: u32 = 0x2;
    pub const DELETE: u32 = 0x4;
}

/// CreateDisposition values (MS-SMB2 2.2.13).
pub mod disposition {
    pub const SUPERSEDE: u32 = 0;
    pub const OPEN: u32 = 1;
    pub const CREATE: u32 = 2;
    pub const OPEN_IF: u32 = 3;
    pub const OVERWRITE: u32 = 4;
    pub const OVERWRITE_IF: u32 = 5;
}

/// CreateOptions bits (MS-SMB2 2.2.13).
pub mod create_options {
    pub const DIRECTORY_FILE: u32 = 0x0000_0001;
    pub const WRITE_THROUGH: u32 = 0x0000_0002;
    pub const SEQUENTIAL_ONLY: u32 = 0x0000_0004;
    pub const NO_INTERMEDIATE_BUFFERING: u32 = 0x0000_0008;
    pub const SYNCHRONOUS_IO_ALERT: u32 = 0x0000_0010;
    pub const SYNCHRONOUS_IO_NONALERT: u32 = 0x0000_0020;
    pub const NON_DIRECTORY_FILE: u32 = 0x0000_0040;
    pub const COMPLETE_IF_OPLOCKED: u32 = 0x0000_0100;
    pub const NO_EA_KNOWLEDGE: u32 = 0x0000_0200;
    pub const OPEN_REMOTE_INSTANCE: u32 = 0x0000_0400;
    pub const RANDOM_ACCESS: u32 = 0x0000_0800;
    pub const DELETE_ON_CLOSE: u32 = 0x0000_1000;
    pub const OPEN_BY_FILE_ID: u32 = 0x0000_2000;
    pub const OPEN_FOR_BACKUP_INTENT: u32 = 0x0000_4000;
    pub const NO_COMPRESSION: u32 = 0x0000_8000;
    pub const OPEN_REQUIRING_OPLOCK: u32 = 0x0001_0000;
    pub const DISALLOW_EXCLUSIVE: u32 = 0x0002_0000;
    pub const RESERVE_OPFILTER: u32 = 0x0010_0000;
    pub const OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    pub const OPEN_NO_RECALL: u32 = 0x0040_0000;
    pub const OPEN_FOR_FREE_SPACE_QUERY: u32 = 0x0080_0000;
}

/// CreateAction values of the response (MS-SMB2 2.2.14).
pub mod create_action {
    pub const SUPERSEDED: u32 = 0;
    pub const OPENED: u32 = 1;
    pub const CREATED: u32 = 2;
    pub const OVERWRITTEN: u32 = 3;
}

/// Response Flags (MS-SMB2 2.2.14).
pub const FLAG_REPARSEPOINT: u8 = 0x01;

/// SMB2 CREATE request. `name` is the raw UTF-16LE path; `contexts` the raw chain for
/// [`crate::create_context::parse_chain`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateRequest<'a> {
    pub security_flags: u8,
    pub requested_oplock_level: u8,
    pub impersonation_level: u32,
    pub desired_access: u32,
    pub file_attributes: u32,
    pub share_access: u32,
    pub create_disposition: u32,
    pub create_options: u32,
    pub name: &'a [u8],
    pub contexts: &'a [u8],
}

/// A buffer of the variable part: its offset from the PDU start and its length, checked to lie after
/// `fixed_end` (the end of the fixed part) and inside the PDU. Shared by the other messages.
pub(crate) fn buffer_after<'a>(
    r: &Reader<'a>,
    offset: usize,
    len: usize,
    fixed_end: usize,
) -> Result<&'a [u8], DecodeError> {
    if len != 0 && offset < fixed_end {
        return Err(DecodeError::BadOffset);
    }
    r.at(offset, len)
}

impl<'a> Body<'a> for CreateRequest<'a> {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(REQUEST_SIZE)?;
        let security_flags = r.u8()?;
        let requested_oplock_level = r.u8()?;
        let impersonation_level = r.u32()?;
        r.skip(16)?; // SmbCreateFlags, Reserved
        let desired_access = r.u32()?;
        let file_attributes = r.u32()?;
        let share_access = r.u32()?;
        let create_disposition = r.u32()?;
        let create_options = r.u32()?;
        let name_offset = usize::from(r.u16()?);
        let name_len = usize::from(r.u16()?);
        let ctx_offset = r.u32()? as usize;
        let ctx_len = r.u32()? as usize;
        if !name_len.is_multiple_of(2) {
            return Err(DecodeError::BadValue);
        }
        let fixed_end = r.position();
        let name = buffer_after(&r, name_offset, name_len, fixed_end)?;
        let contexts = buffer_after(&r, ctx_offset, ctx_len, fixed_end)?;
        let overlap = name_offset < ctx_offset + ctx_len && ctx_offset < name_offset + name_len;
        if !name.is_empty() && !contexts.is_empty() && overlap {
            return Err(DecodeError::BadOffset);
        }
        Ok(CreateRequest {
            security_flags,
            requested_oplock_level,
            impersonation_level,
            desired_access,
            file_attributes,
            share_access,
            create_disposition,
            create_options,
            name,
            contexts,
        })
    }

    /// Encodes the name right after the fixed part and `contexts` (an already encoded chain) 8-aligned after it.
    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(REQUEST_SIZE);
        w.put_u8(self.security_flags);
        w.put_u8(self.requested_oplock_level);
        w.put_u32_le(self.impersonation_level);
        w.put_bytes(0, 16);
        w.put_u32_le(self.desired_access);
        w.put_u32_le(self.file_attributes);
        w.put_u32_le(self.share_access);
        w.put_u32_le(self.create_disposition);
        w.put_u32_le(self.create_options);
        let name_offset = super::offset_here(w, pdu_start).saturating_add(12);
        w.put_u16_le(name_offset);
        w.put_u16_le(len_u16(self.name.len()));
        let ctx_pos = w.len();
        w.put_u64_le(0); // CreateContextsOffset, CreateContextsLength: patched below
        w.put_slice(self.name);
        if self.name.is_empty() {
            w.put_u8(0);
        }
        if !self.contexts.is_empty() {
            crate::writer::pad_to(w, pdu_start, 8);
            patch_u32(w, ctx_pos, u32::from(super::offset_here(w, pdu_start)));
            patch_u32(w, ctx_pos + 4, len_u32(self.contexts.len()));
            w.put_slice(self.contexts);
        }
    }
}

/// SMB2 CREATE response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateResponse {
    pub oplock_level: u8,
    pub flags: u8,
    pub create_action: u32,
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub allocation_size: u64,
    pub end_of_file: u64,
    pub file_attributes: u32,
    pub file_id: FileId,
    pub contexts: Vec<OwnedCreateContext>,
}

impl<'a> Body<'a> for CreateResponse {
    fn decode(pdu: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(pdu)?;
        r.structure_size(RESPONSE_SIZE)?;
        let oplock_level = r.u8()?;
        let flags = r.u8()?;
        let create_action = r.u32()?;
        let creation_time = r.u64()?;
        let last_access_time = r.u64()?;
        let last_write_time = r.u64()?;
        let change_time = r.u64()?;
        let allocation_size = r.u64()?;
        let end_of_file = r.u64()?;
        let file_attributes = r.u32()?;
        r.skip(4)?;
        let file_id = FileId::decode(&mut r)?;
        let ctx_offset = r.u32()? as usize;
        let ctx_len = r.u32()? as usize;
        let chain = buffer_after(&r, ctx_offset, ctx_len, r.position())?;
        let contexts = parse_chain(chain)?
            .iter()
            .map(|c| OwnedCreateContext::new(c.name, c.data))
            .collect();
        Ok(CreateResponse {
            oplock_level,
            flags,
            create_action,
            creation_time,
            last_access_time,
            last_write_time,
            change_time,
            allocation_size,
            end_of_file,
            file_attributes,
            file_id,
            contexts,
        })
    }

    fn encode(&self, w: &mut BytesMut, pdu_start: usize) {
        w.put_u16_le(RESPONSE_SIZE);
        w.put_u8(self.oplock_level);
        w.put_u8(self.flags);
        w.put_u32_le(self.create_action);
        for t in [
            self.creation_time,
            self.last_access_time,
            self.last_write_time,
            self.change_time,
        ] {
            w.put_u64_le(t);
        }
        w.put_u64_le(self.allocation_size);
        w.put_u64_le(self.end_of_file);
        w.put_u32_le(self.file_attributes);
        w.put_u32_le(0);
        self.file_id.encode(w);
        let ctx_pos = w.len();
        w.put_u64_le(0); // CreateContextsOffset, CreateContextsLength: patched below
        let pairs: Vec<(&[u8], &[u8])> = self
            .contexts
            .iter()
            .map(OwnedCreateContext::as_pair)
            .collect();
        let (offset, len) = encode_chain(w, pdu_start, &pairs);
        patch_u32(w, ctx_pos, offset);
        patch_u32(w, ctx_pos + 4, len);
    }
}

/// Helpers shared by the message tests: encode a body behind a default header, or put raw bytes there.
#[cfg(test)]
pub(crate) mod testing {
    use super::Body;
    use crate::header::Header;
    use bytes::BytesMut;

    /// The PDU made of a default header and `body` encoded at offset 0.
    pub fn encode_pdu<'a, T: Body<'a>>(body: &T) -> Vec<u8> {
        let mut w = BytesMut::new();
        Header::default().encode(&mut w);
        body.encode(&mut w, 0);
        w.to_vec()
    }

    /// A default header followed by `body` bytes verbatim.
    pub fn pdu_with_body(body: &[u8]) -> Vec<u8> {
        let mut w = BytesMut::new();
        Header::default().encode(&mut w);
        w.extend_from_slice(body);
        w.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{encode_pdu, pdu_with_body};
    use super::*;
    use crate::create_context::{maximal_access_response, name, CreateContext};
    use crate::messages::test_util::roundtrip;
    use proptest::prelude::*;

    /// A CREATE request body for "f.txt" with an empty MxAc context, laid out by hand from MS-SMB2 2.2.13.
    fn spec_request_body() -> Vec<u8> {
        let mut b = vec![57, 0, 0, 0x09, 2, 0, 0, 0];
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&[0x89, 0x00, 0x12, 0x00]); // DesiredAccess 0x00120089
        b.extend_from_slice(&[0x80, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0x40, 0, 0, 0]);
        b.extend_from_slice(&[0x78, 0, 10, 0, 0x88, 0, 0, 0, 20, 0, 0, 0]);
        b.extend_from_slice(&[
            b'f', 0, b'.', 0, b't', 0, b'x', 0, b't', 0, 0, 0, 0, 0, 0, 0,
        ]);
        b.extend_from_slice(&[0, 0, 0, 0, 16, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(b"MxAc");
        b
    }

    #[test]
    fn decodes_spec_layout_and_reencodes_identically() {
        let pdu = pdu_with_body(&spec_request_body());
        let req = CreateRequest::decode(&pdu).unwrap();
        assert_eq!(req.requested_oplock_level, oplock_level::BATCH);
        assert_eq!(req.impersonation_level, impersonation::IMPERSONATION);
        assert_eq!(req.desired_access, access::FILE_GENERIC_READ);
        assert_eq!(req.share_access, 7);
        assert_eq!(req.create_disposition, disposition::OPEN);
        assert_eq!(req.create_options, create_options::NON_DIRECTORY_FILE);
        assert_eq!(crate::reader::utf16le_to_string(req.name).unwrap(), "f.txt");
        let chain = parse_chain(req.contexts).unwrap();
        assert_eq!(
            chain,
            vec![CreateContext {
                name: name::QUERY_MAXIMAL_ACCESS,
                data: &[]
            }]
        );
        assert_eq!(encode_pdu(&req), pdu);
    }

    #[test]
    fn rejects_odd_name_and_overlaps() {
        let mut body = spec_request_body();
        body[46] = 9; // NameLength odd
        assert_eq!(
            CreateRequest::decode(&pdu_with_body(&body)),
            Err(DecodeError::BadValue)
        );
        let mut body = spec_request_body();
        body[44] = 0x70; // name inside the fixed part
        assert_eq!(
            CreateRequest::decode(&pdu_with_body(&body)),
            Err(DecodeError::BadOffset)
        );
        let mut body = spec_request_body();
        body[48] = 0x80; // contexts start inside the name
        assert_eq!(
            CreateRequest::decode(&pdu_with_body(&body)),
            Err(DecodeError::BadOffset)
        );
        let mut body = spec_request_body();
        body[52] = 21; // contexts run past the PDU
        assert_eq!(
            CreateRequest::decode(&pdu_with_body(&body)),
            Err(DecodeError::BadOffset)
        );
    }

    #[test]
    fn empty_name_request_roundtrips() {
        let req = CreateRequest {
            create_disposition: disposition::OPEN_IF,
            ..Default::default()
        };
        let pdu = encode_pdu(&req);
        assert_eq!(pdu.len(), 64 + 57);
        assert_eq!(CreateRequest::decode(&pdu).unwrap(), req);
    }

    #[test]
    fn response_roundtrips_with_aligned_contexts() {
        let resp = CreateResponse {
            oplock_level: oplock_level::II,
            create_action: create_action::OPENED,
            creation_time: 1,
            change_time: 4,
            end_of_file: 10,
            file_attributes: 0x20,
            file_id: FileId {
                persistent: 1,
                volatile: 2,
            },
            contexts: vec![
                OwnedCreateContext::new(
                    name::QUERY_MAXIMAL_ACCESS,
                    &maximal_access_response(0, access::FILE_ALL_ACCESS),
                ),
                OwnedCreateContext::new(name::QUERY_ON_DISK_ID, &[0; 32]),
            ],
            ..Default::default()
        };
        let bytes = roundtrip!(resp);
        assert_eq!(&bytes[64 + 80..64 + 88], &[0x98, 0, 0, 0, 32 + 56, 0, 0, 0]);
    }

    #[test]
    fn generic_mapping() {
        assert_eq!(access::map_generic(access::GENERIC_ALL), 0x001F_01FF);
        assert_eq!(
            access::map_generic(access::GENERIC_READ | access::DELETE),
            0x0013_0089
        );
        assert_eq!(access::map_generic(access::GENERIC_WRITE), 0x0012_0116);
        assert_eq!(access::map_generic(access::GENERIC_EXECUTE), 0x0012_00A0);
        assert_eq!(
            access::map_generic(access::MAXIMUM_ALLOWED),
            access::MAXIMUM_ALLOWED
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let pdu = pdu_with_body(&body);
            let _ = CreateRequest::decode(&pdu);
            let _ = CreateResponse::decode(&pdu);
        }
    }
}
