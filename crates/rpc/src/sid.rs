//! Security identifiers (MS-DTYP 2.4.2): the "S-1-..." string form (2.4.2.1), the binary form used inside
//! security descriptors (2.4.2.2) and the NDR form RPC_SID (2.4.2.3, a conformant structure whose conformance is
//! the sub-authority count).

use std::fmt;

use crate::ndr::{Decoder, Encoder, NdrError};

/// SID_REVISION, the only revision.
const SID_REVISION: u8 = 1;
/// The most sub-authorities a SID holds (SID_MAX_SUB_AUTHORITIES).
pub const MAX_SUB_AUTHORITIES: usize = 15;
/// The identifier authority is 48 bits.
const MAX_AUTHORITY: u64 = (1 << 48) - 1;

/// A security identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sid {
    /// The 48-bit identifier authority.
    pub authority: u64,
    /// At most 15 sub-authorities; the last one of an account SID is its RID.
    pub sub_authorities: Vec<u32>,
}

impl Sid {
    /// Parses `S-1-<authority>-<sub>-...`: decimal authority (or 0x-prefixed hexadecimal, as MS-DTYP allows
    /// for values of 2^32 and more), then 0 to 15 decimal sub-authorities.
    pub fn parse(text: &str) -> Option<Sid> {
        let mut parts = text.split('-');
        if !parts.next()?.eq_ignore_ascii_case("S") || parts.next()? != "1" {
            return None;
        }
        let authority = parse_authority(parts.next()?)?;
        let sub_authorities = parts
            .map(|p| decimal(p).and_then(|v| u32::try_from(v).ok()))
            .collect::<Option<Vec<u32>>>()?;
        (sub_authorities.len() <= MAX_SUB_AUTHORITIES).then_some(Sid {
            authority,
            sub_authorities,
        })
    }

    /// This SID with one more sub-authority (a domain SID plus a RID); the last one is replaced when the SID is
    /// already full.
    pub fn with_rid(&self, rid: u32) -> Sid {
        let mut sub_authorities = self.sub_authorities.clone();
        sub_authorities.truncate(MAX_SUB_AUTHORITIES - 1);
        sub_authorities.push(rid);
        Sid {
            authority: self.authority,
            sub_authorities,
        }
    }

    /// The domain part and the RID: `Some` when this SID is `domain` plus exactly one sub-authority.
    pub fn rid_in(&self, domain: &Sid) -> Option<u32> {
        let (rid, prefix) = self.sub_authorities.split_last()?;
        (self.authority == domain.authority && prefix == domain.sub_authorities.as_slice())
            .then_some(*rid)
    }

    /// The binary form: revision, count, 6-byte big-endian authority, little-endian sub-authorities.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![SID_REVISION, self.count()];
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for sub in &self.sub_authorities {
            out.extend_from_slice(&sub.to_le_bytes());
        }
        out
    }

    fn count(&self) -> u8 {
        u8::try_from(self.sub_authorities.len().min(MAX_SUB_AUTHORITIES)).unwrap_or(0)
    }

    /// Writes an RPC_SID: the conformance (sub-authority count), then the binary form.
    pub fn encode(&self, e: &mut Encoder) {
        e.u32(u32::from(self.count()));
        e.bytes(&self.to_bytes());
    }

    /// Reads an RPC_SID; the revision must be 1 and the count at most 15 and equal to the conformance.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Sid, NdrError> {
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

fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_authority(text: &str) -> Option<u64> {
    let value = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None => decimal(text)?,
    };
    (value <= MAX_AUTHORITY).then_some(value)
}

/// `S-1-<authority>-<sub>...`, the authority in decimal below 2^32 and in hexadecimal above (MS-DTYP 2.4.2.1).
impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.authority >> 32 == 0 {
            write!(f, "S-1-{}", self.authority)?;
        } else {
            write!(f, "S-1-0x{:012X}", self.authority)?;
        }
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_round_trip() {
        for text in [
            "S-1-5-21-1-2-3",
            "S-1-5-32-544",
            "S-1-1-0",
            "S-1-5",
            "S-1-0x0001FFFFFFFF-7",
        ] {
            assert_eq!(Sid::parse(text).unwrap().to_string(), text);
        }
        let sid = Sid::parse("s-1-5-21-4294967295-2-3").unwrap();
        assert_eq!(sid.authority, 5);
        assert_eq!(sid.sub_authorities, vec![21, u32::MAX, 2, 3]);
        assert_eq!(Sid::parse("S-1-0x10").unwrap().to_string(), "S-1-16");
        assert_eq!(
            Sid::parse("S-1-0x0000FFFFFFFF").unwrap().to_string(),
            "S-1-4294967295"
        );
    }

    #[test]
    fn parse_rejects_bad_text() {
        for text in [
            "",
            "S-1",
            "S-2-5-1",
            "X-1-5",
            "S-1-5-",
            "S-1-5-+1",
            "S-1-5-4294967296",
            "S-1-281474976710656",
            "S-1-0x",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        ] {
            assert_eq!(Sid::parse(text), None, "{text}");
        }
        assert!(Sid::parse("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15").is_some());
    }

    #[test]
    fn with_rid_and_rid_in() {
        let domain = Sid::parse("S-1-5-21-1-2-3").unwrap();
        let user = domain.with_rid(1000);
        assert_eq!(user.to_string(), "S-1-5-21-1-2-3-1000");
        assert_eq!(user.rid_in(&domain), Some(1000));
        assert_eq!(domain.rid_in(&domain), None);
        assert_eq!(user.with_rid(5).rid_in(&domain), None);
    }

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
