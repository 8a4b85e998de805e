//! Security identifiers (MS-DTYP 2.4.2): the "S-1-..." string form (2.4.2.1) and the binary form used
//! inside security descriptors (2.4.2.2), plus the well-known SIDs rsmbd uses (2.4.2.4).

use std::fmt;

use crate::bytes::{slice, u8_at};
use crate::Invalid;

/// SID_REVISION, the only revision.
const SID_REVISION: u8 = 1;
/// The most sub-authorities a SID holds (SID_MAX_SUB_AUTHORITIES).
pub const MAX_SUB_AUTHORITIES: usize = 15;
/// The identifier authority is 48 bits.
const MAX_AUTHORITY: u64 = (1 << 48) - 1;
/// Revision, count and the 6-byte authority.
const FIXED_LEN: usize = 8;

/// A security identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    /// The 48-bit identifier authority.
    pub authority: u64,
    /// At most 15 sub-authorities; the last one of an account SID is its RID.
    pub sub_authorities: Vec<u32>,
}

/// Well-known SIDs (MS-DTYP 2.4.2.4).
pub mod well_known {
    use super::Sid;

    /// Everyone, S-1-1-0.
    pub fn world() -> Sid {
        Sid::new(1, &[0])
    }
    /// CREATOR OWNER, S-1-3-0: replaced by the creator in inherited ACEs.
    pub fn creator_owner() -> Sid {
        Sid::new(3, &[0])
    }
    /// CREATOR GROUP, S-1-3-1.
    pub fn creator_group() -> Sid {
        Sid::new(3, &[1])
    }
    /// OWNER RIGHTS, S-1-3-4: when present, replaces the owner's implicit rights.
    pub fn owner_rights() -> Sid {
        Sid::new(3, &[4])
    }
    /// NT AUTHORITY\Authenticated Users, S-1-5-11.
    pub fn authenticated_users() -> Sid {
        Sid::new(5, &[11])
    }
    /// NT AUTHORITY\SYSTEM, S-1-5-18.
    pub fn local_system() -> Sid {
        Sid::new(5, &[18])
    }
    /// BUILTIN\Administrators, S-1-5-32-544.
    pub fn builtin_administrators() -> Sid {
        Sid::new(5, &[32, 544])
    }
    /// BUILTIN\Users, S-1-5-32-545.
    pub fn builtin_users() -> Sid {
        Sid::new(5, &[32, 545])
    }
    /// The Unix user `uid` (Samba's "Unix User" domain S-1-22-1).
    pub fn unix_user(uid: u32) -> Sid {
        Sid::new(22, &[1, uid])
    }
    /// The Unix group `gid` (Samba's "Unix Group" domain S-1-22-2).
    pub fn unix_group(gid: u32) -> Sid {
        Sid::new(22, &[2, gid])
    }
}

impl Sid {
    /// The SID `S-1-<authority>-<subs...>` (at most 15 sub-authorities are kept).
    pub fn new(authority: u64, subs: &[u32]) -> Sid {
        Sid {
            authority: authority & MAX_AUTHORITY,
            sub_authorities: subs.iter().copied().take(MAX_SUB_AUTHORITIES).collect(),
        }
    }

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
        let mut out = Vec::with_capacity(self.len());
        self.write(&mut out);
        out
    }

    /// Appends the binary form to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(SID_REVISION);
        out.push(self.count());
        out.extend_from_slice(self.authority.to_be_bytes().get(2..).unwrap_or_default());
        for sub in self.sub_authorities.iter().take(MAX_SUB_AUTHORITIES) {
            out.extend_from_slice(&sub.to_le_bytes());
        }
    }

    /// The length of the binary form.
    pub fn len(&self) -> usize {
        FIXED_LEN + 4 * usize::from(self.count())
    }

    /// Whether this is the null SID of no sub-authorities under authority 0 (never true of a real
    /// account; present for clippy's `len` convention).
    pub fn is_empty(&self) -> bool {
        self.authority == 0 && self.sub_authorities.is_empty()
    }

    /// The number of sub-authorities (at most 15).
    pub fn count(&self) -> u8 {
        u8::try_from(self.sub_authorities.len().min(MAX_SUB_AUTHORITIES)).unwrap_or(0)
    }

    /// Reads the binary form at the start of `buf`: revision 1, at most 15 sub-authorities, all of it
    /// inside `buf`. Returns the SID and its length.
    pub fn from_binary(buf: &[u8]) -> Result<(Sid, usize), Invalid> {
        let revision = u8_at(buf, 0)?;
        let count = usize::from(u8_at(buf, 1)?);
        if revision != SID_REVISION || count > MAX_SUB_AUTHORITIES {
            return Err(Invalid);
        }
        let len = FIXED_LEN + 4 * count;
        let body = slice(buf, 0, len)?;
        let mut authority = [0u8; 8];
        authority
            .get_mut(2..)
            .ok_or(Invalid)?
            .copy_from_slice(slice(body, 2, 6)?);
        let sub_authorities = slice(body, FIXED_LEN, 4 * count)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(<[u8; 4]>::try_from(c).unwrap_or_default()))
            .collect();
        Ok((
            Sid {
                authority: u64::from_be_bytes(authority),
                sub_authorities,
            },
            len,
        ))
    }
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
    fn binary_form() {
        let sid = Sid::parse("S-1-5-32-544").unwrap();
        let bytes = sid.to_bytes();
        assert_eq!(bytes, [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0]);
        assert_eq!(sid.len(), 16);
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[9, 9]);
        assert_eq!(Sid::from_binary(&longer), Ok((sid, 16)));
        // Truncated, a bad revision, and 16 sub-authorities (ksmbd's num_subauth over-read class).
        assert_eq!(Sid::from_binary(&bytes[..15]), Err(Invalid));
        let mut bad = bytes.clone();
        bad[0] = 2;
        assert_eq!(Sid::from_binary(&bad), Err(Invalid));
        let mut big = vec![1u8, 16, 0, 0, 0, 0, 0, 5];
        big.extend_from_slice(&[0; 64]);
        assert_eq!(Sid::from_binary(&big), Err(Invalid));
        assert_eq!(Sid::from_binary(&[]), Err(Invalid));
    }

    #[test]
    fn well_known_sids() {
        assert_eq!(well_known::world().to_string(), "S-1-1-0");
        assert_eq!(well_known::unix_user(1000).to_string(), "S-1-22-1-1000");
        assert_eq!(well_known::unix_group(100).to_string(), "S-1-22-2-100");
        assert_eq!(well_known::creator_owner().to_string(), "S-1-3-0");
    }
}
