//! Security descriptors in self-relative form (MS-DTYP 2.4.6 SECURITY_DESCRIPTOR, 2.4.5 ACL, 2.4.4.2
//! ACCESS_ALLOWED_ACE), as QUERY_INFO returns them (MS-SMB2 3.3.5.20.3) and LSA/SAMR carry them.

use crate::Sid;

/// SECURITY_DESCRIPTOR Control bits (MS-DTYP 2.4.6).
pub const SE_DACL_PRESENT: u16 = 0x0004;
pub const SE_SELF_RELATIVE: u16 = 0x8000;
/// ACE types and flags (MS-DTYP 2.4.4.1).
pub const ACCESS_ALLOWED_ACE_TYPE: u8 = 0x00;
pub const OBJECT_INHERIT_ACE: u8 = 0x01;
pub const CONTAINER_INHERIT_ACE: u8 = 0x02;
/// ACL_REVISION (MS-DTYP 2.4.5).
const ACL_REVISION: u8 = 2;
const SD_HEADER_LEN: usize = 20;
const ACL_HEADER_LEN: usize = 8;
const ACE_HEADER_LEN: usize = 8;

/// An ACCESS_ALLOWED_ACE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ace {
    pub ace_type: u8,
    pub flags: u8,
    pub mask: u32,
    pub sid: Sid,
}

/// A security descriptor; `None` parts are absent (their offset is 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityDescriptor {
    pub owner: Option<Sid>,
    pub group: Option<Sid>,
    pub dacl: Option<Vec<Ace>>,
}

impl SecurityDescriptor {
    /// The self-relative encoding: header, owner, group, then the DACL (no SACL).
    pub fn to_self_relative(&self) -> Vec<u8> {
        let owner = self.owner.as_ref().map(Sid::to_bytes);
        let group = self.group.as_ref().map(Sid::to_bytes);
        let dacl = self.dacl.as_deref().map(acl_bytes);
        let mut control = SE_SELF_RELATIVE;
        if dacl.is_some() {
            control |= SE_DACL_PRESENT;
        }
        let mut next = SD_HEADER_LEN;
        let mut place = |part: &Option<Vec<u8>>| match part {
            Some(b) => {
                let at = next;
                next += b.len();
                u32::try_from(at).unwrap_or(0)
            }
            None => 0,
        };
        let (o, g, d) = (place(&owner), place(&group), place(&dacl));
        let mut out = Vec::with_capacity(next);
        out.extend_from_slice(&[1, 0]); // Revision, Sbz1
        out.extend_from_slice(&control.to_le_bytes());
        for off in [o, g, 0, d] {
            out.extend_from_slice(&off.to_le_bytes()); // OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl
        }
        for part in [owner, group, dacl].into_iter().flatten() {
            out.extend_from_slice(&part);
        }
        out
    }
}

fn acl_bytes(aces: &[Ace]) -> Vec<u8> {
    let body: Vec<u8> = aces.iter().flat_map(ace_bytes).collect();
    let size = u16::try_from(ACL_HEADER_LEN + body.len()).unwrap_or(u16::MAX);
    let count = u16::try_from(aces.len()).unwrap_or(u16::MAX);
    let mut out = vec![ACL_REVISION, 0];
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend(body);
    out
}

fn ace_bytes(ace: &Ace) -> Vec<u8> {
    let sid = ace.sid.to_bytes();
    let size = u16::try_from(ACE_HEADER_LEN + sid.len()).unwrap_or(u16::MAX);
    let mut out = vec![ace.ace_type, ace.flags];
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&ace.mask.to_le_bytes());
    out.extend(sid);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_relative_layout() {
        let everyone = Sid::parse("S-1-1-0").unwrap();
        let sd = SecurityDescriptor {
            owner: Sid::parse("S-1-22-1-1000"),
            group: None,
            dacl: Some(vec![Ace {
                ace_type: ACCESS_ALLOWED_ACE_TYPE,
                flags: 0,
                mask: 0x0012_0089,
                sid: everyone.clone(),
            }]),
        };
        let b = sd.to_self_relative();
        // Header: revision 1, control SELF_RELATIVE|DACL_PRESENT, owner at 20, no group, no SACL.
        assert_eq!(b[..4], [1, 0, 0x04, 0x80]);
        assert_eq!(b[4..8], 20u32.to_le_bytes());
        assert_eq!(b[8..16], [0; 8]);
        // The owner SID (authority 22, two sub-authorities) takes 8 + 4 * 2 bytes: the DACL starts at 36.
        assert_eq!(b[16..20], 36u32.to_le_bytes());
        assert_eq!(b[20..22], [1, 2]);
        assert_eq!(b[36..44], [2, 0, 28, 0, 1, 0, 0, 0]);
        assert_eq!(b[44..52], [0, 0, 20, 0, 0x89, 0, 0x12, 0]);
        assert_eq!(&b[52..], &everyone.to_bytes()[..]);
        let empty = SecurityDescriptor::default().to_self_relative();
        assert_eq!(
            empty,
            [1, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
