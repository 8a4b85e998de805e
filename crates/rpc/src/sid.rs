//! Security identifiers in RPC: the NDR form RPC_SID (MS-DTYP 2.4.2.3, a conformant structure whose
//! conformance is the sub-authority count). The SID itself and its text and binary forms are
//! [`dtyp::Sid`].

use crate::ndr::{Decoder, Encoder, NdrError};
use dtyp::sid::MAX_SUB_AUTHORITIES;
pub use dtyp::Sid;

/// SID_REVISION, the only revision.
const SID_REVISION: u8 = 1;

/// RPC_SID encoding and decoding of a [`Sid`].
pub trait RpcSid: Sized {
    /// Writes an RPC_SID: the conformance (sub-authority count), then the binary form.
    fn encode(&self, e: &mut Encoder);
    /// Reads an RPC_SID; the revision must be 1 and the count at most 15 and equal to the conformance.
    fn decode(d: &mut Decoder<'_>) -> Result<Self, NdrError>;
}

impl RpcSid for Sid {
    fn encode(&self, e: &mut Encoder) {
        e.u32(u32::from(self.count()));
        e.bytes(&self.to_bytes());
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Sid, NdrError> {
        let conformance = d.u32()?;
        let revision = d.u8()?;
        let count = d.u8()?;
        if revision != SID_REVISION
            || u32::from(count) != conformance
            || usize::from(count) > MAX_SUB_AUTHORITIES
        {
            return Err(NdrError);
        }
        let mut authority = [0u8; 8];
        authority
            .get_mut(2..)
            .ok_or(NdrError)?
            .copy_from_slice(d.bytes(6)?);
        let sub_authorities = (0..count)
            .map(|_| d.u32())
            .collect::<Result<Vec<u32>, NdrError>>()?;
        Ok(Sid {
            authority: u64::from_be_bytes(authority),
            sub_authorities,
        })
    }
}

/// Reads an array of SID pointers as LSAPR_SID_ENUM_BUFFER (MS-LSAT) and SAMPR_PSID_ARRAY (MS-SAMR) lay it out: the count, a pointer to the conformant array of SID pointers, then every SID. A null SID
/// pointer or more than `max` entries is a decoding error.
pub fn decode_sid_array(d: &mut Decoder<'_>, max: usize) -> Result<Vec<Sid>, NdrError> {
    let entries = usize::try_from(d.u32()?).map_err(|_| NdrError)?;
    if entries > max {
        return Err(NdrError);
    }
    if d.unique()?.is_none() {
        return if entries == 0 {
            Ok(Vec::new())
        } else {
            Err(NdrError)
        };
    }
    if d.conformance(4)? != entries {
        return Err(NdrError);
    }
    for _ in 0..entries {
        d.unique()?.ok_or(NdrError)?;
    }
    (0..entries).map(|_| Sid::decode(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_ndr_forms() {
        let sid = Sid::parse("S-1-5-32-544").unwrap();
        assert_eq!(
            sid.to_bytes(),
            [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0]
        );
        let mut e = Encoder::new();
        sid.encode(&mut e);
        let bytes = e.into_bytes();
        assert_eq!(&bytes[..4], &[2, 0, 0, 0]);
        assert_eq!(Sid::decode(&mut Decoder::new(&bytes)).unwrap(), sid);
        // count disagreeing with the conformance, bad revision, too many sub-authorities.
        let mut bad = bytes.clone();
        bad[5] = 1;
        assert_eq!(Sid::decode(&mut Decoder::new(&bad)), Err(NdrError));
        let mut bad = bytes.clone();
        bad[4] = 2;
        assert_eq!(Sid::decode(&mut Decoder::new(&bad)), Err(NdrError));
        let big = [16u8, 0, 0, 0, 1, 16, 0, 0, 0, 0, 0, 5];
        assert_eq!(Sid::decode(&mut Decoder::new(&big)), Err(NdrError));
    }
}
