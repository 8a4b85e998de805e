//! Self-relative security descriptors (MS-DTYP 2.4.6): the 20-byte header (Revision, Control,
//! OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl) and the parts it points at. Each part is decoded
//! from its offset to the end of the buffer and must lie wholly inside it; an offset inside the header
//! is refused. A DACL or SACL is read only when its PRESENT bit is set; with the bit and offset 0 it
//! is a NULL ACL. Parts are written owner, group, SACL, DACL (the order Samba writes).

use crate::acl::Acl;
use crate::bytes::{u16_at, u32_at, u8_at};
use crate::sid::Sid;
use crate::Invalid;

/// SECURITY_DESCRIPTOR Control bits (MS-DTYP 2.4.6).
pub mod control {
    pub const OWNER_DEFAULTED: u16 = 0x0001;
    pub const GROUP_DEFAULTED: u16 = 0x0002;
    pub const DACL_PRESENT: u16 = 0x0004;
    pub const DACL_DEFAULTED: u16 = 0x0008;
    pub const SACL_PRESENT: u16 = 0x0010;
    pub const SACL_DEFAULTED: u16 = 0x0020;
    pub const DACL_AUTO_INHERIT_REQ: u16 = 0x0100;
    pub const SACL_AUTO_INHERIT_REQ: u16 = 0x0200;
    pub const DACL_AUTO_INHERITED: u16 = 0x0400;
    pub const SACL_AUTO_INHERITED: u16 = 0x0800;
    pub const DACL_PROTECTED: u16 = 0x1000;
    pub const SACL_PROTECTED: u16 = 0x2000;
    pub const SELF_RELATIVE: u16 = 0x8000;
    /// The bits that describe the DACL and the SACL.
    pub const DACL_BITS: u16 = DACL_PRESENT
        | DACL_DEFAULTED
        | DACL_AUTO_INHERIT_REQ
        | DACL_AUTO_INHERITED
        | DACL_PROTECTED;
    pub const SACL_BITS: u16 = SACL_PRESENT
        | SACL_DEFAULTED
        | SACL_AUTO_INHERIT_REQ
        | SACL_AUTO_INHERITED
        | SACL_PROTECTED;
}

/// SECURITY_INFORMATION bits (MS-DTYP 2.4.7): which parts a query asks for or a set changes.
pub mod security_information {
    pub const OWNER: u32 = 0x0000_0001;
    pub const GROUP: u32 = 0x0000_0002;
    pub const DACL: u32 = 0x0000_0004;
    pub const SACL: u32 = 0x0000_0008;
    pub const LABEL: u32 = 0x0000_0010;
    pub const ATTRIBUTE: u32 = 0x0000_0020;
    pub const SCOPE: u32 = 0x0000_0040;
    pub const BACKUP: u32 = 0x0001_0000;
}

const REVISION: u8 = 1;
const HEADER_LEN: usize = 20;

/// A security descriptor. `control` holds the PRESENT bits: DACL_PRESENT with `dacl == None` is a NULL
/// DACL (everyone may do everything); without DACL_PRESENT the descriptor has no DACL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityDescriptor {
    pub control: u16,
    pub owner: Option<Sid>,
    pub group: Option<Sid>,
    pub sacl: Option<Acl>,
    pub dacl: Option<Acl>,
}

/// The part at `offset`, `None` for offset 0.
fn part<T>(
    buf: &[u8],
    offset: u32,
    decode: impl FnOnce(&[u8]) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    if offset == 0 {
        return Ok(None);
    }
    let at = usize::try_from(offset).map_err(|_| Invalid)?;
    if at < HEADER_LEN {
        return Err(Invalid);
    }
    decode(buf.get(at..).ok_or(Invalid)?).map(Some)
}

impl SecurityDescriptor {
    /// A descriptor with a DACL of `dacl` (DACL_PRESENT set).
    pub fn with_dacl(owner: Option<Sid>, group: Option<Sid>, dacl: Acl) -> SecurityDescriptor {
        SecurityDescriptor {
            control: control::DACL_PRESENT,
            owner,
            group,
            sacl: None,
            dacl: Some(dacl),
        }
    }

    /// Decodes a self-relative descriptor.
    pub fn decode(buf: &[u8]) -> Result<SecurityDescriptor, Invalid> {
        let revision = u8_at(buf, 0)?;
        let ctl = u16_at(buf, 2)?;
        if revision != REVISION || ctl & control::SELF_RELATIVE == 0 {
            return Err(Invalid);
        }
        let sid = |b: &[u8]| Sid::from_binary(b).map(|(s, _)| s);
        let owner = part(buf, u32_at(buf, 4)?, sid)?;
        let group = part(buf, u32_at(buf, 8)?, sid)?;
        let sacl = if ctl & control::SACL_PRESENT != 0 {
            part(buf, u32_at(buf, 12)?, Acl::decode)?
        } else {
            None
        };
        let dacl = if ctl & control::DACL_PRESENT != 0 {
            part(buf, u32_at(buf, 16)?, Acl::decode)?
        } else {
            None
        };
        Ok(SecurityDescriptor {
            control: ctl,
            owner,
            group,
            sacl,
            dacl,
        })
    }

    /// Whether the descriptor has a DACL (possibly a NULL one).
    pub fn dacl_present(&self) -> bool {
        self.control & control::DACL_PRESENT != 0
    }

    /// The self-relative encoding; fails only when an ACL is too large for its 16-bit size.
    pub fn encode(&self) -> Result<Vec<u8>, Invalid> {
        let mut ctl = self.control | control::SELF_RELATIVE;
        if self.dacl.is_some() {
            ctl |= control::DACL_PRESENT;
        }
        if self.sacl.is_some() {
            ctl |= control::SACL_PRESENT;
        }
        let mut body = Vec::new();
        let mut offsets = [0u32; 4];
        let mut place = |slot: usize, body: &mut Vec<u8>| -> Result<(), Invalid> {
            let at = u32::try_from(HEADER_LEN + body.len()).map_err(|_| Invalid)?;
            if let Some(o) = offsets.get_mut(slot) {
                *o = at;
            }
            Ok(())
        };
        if let Some(s) = &self.owner {
            place(0, &mut body)?;
            s.write(&mut body);
        }
        if let Some(s) = &self.group {
            place(1, &mut body)?;
            s.write(&mut body);
        }
        if let Some(a) = &self.sacl {
            place(2, &mut body)?;
            a.write(&mut body)?;
        }
        if let Some(a) = &self.dacl {
            place(3, &mut body)?;
            a.write(&mut body)?;
        }
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&[REVISION, 0]);
        out.extend_from_slice(&ctl.to_le_bytes());
        for o in offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out.extend(body);
        Ok(out)
    }

    /// The parts `wanted` (SECURITY_INFORMATION bits) asks for: the others are left out with their
    /// PRESENT bits. LABEL without SACL gives only the SACL's mandatory label ACEs, SACL without LABEL
    /// only the other ones.
    pub fn filtered(&self, wanted: u32) -> SecurityDescriptor {
        use crate::ace::ace_type::SYSTEM_MANDATORY_LABEL;
        use security_information as si;
        let mut out = self.clone();
        if wanted & si::OWNER == 0 {
            out.owner = None;
        }
        if wanted & si::GROUP == 0 {
            out.group = None;
        }
        if wanted & si::DACL == 0 {
            out.control &= !control::DACL_PRESENT;
            out.dacl = None;
        }
        let keep_label = wanted & si::LABEL != 0;
        let keep_audit = wanted & si::SACL != 0;
        match (&mut out.sacl, keep_label, keep_audit) {
            (_, false, false) => {
                out.control &= !control::SACL_PRESENT;
                out.sacl = None;
            }
            (Some(acl), label, audit) if label != audit => acl
                .aces
                .retain(|a| (a.ace_type == SYSTEM_MANDATORY_LABEL) == label),
            _ => {}
        }
        out
    }

    /// The descriptor as SET_INFO stores it (MS-DTYP 2.4.6, 2.5.3.4 as Windows applies them to a
    /// SetSecurity): generic rights in the ACEs that apply to the object mapped to file rights;
    /// DACL_AUTO_INHERIT_REQ (SACL_…) never kept, and with `canonicalize` DACL_AUTO_INHERITED
    /// (SACL_…) kept only when the request bit came with it (Samba's `acl flag inherited
    /// canonicalization`, default yes).
    pub fn prepared_for_set(&self, canonicalize: bool) -> SecurityDescriptor {
        let mut out = self.clone();
        for acl in out.dacl.iter_mut().chain(out.sacl.iter_mut()) {
            for ace in acl.aces.iter_mut().filter(|a| a.applies_to_object()) {
                ace.mask = crate::access::map_generic(ace.mask);
            }
        }
        for (req, inherited) in [
            (control::DACL_AUTO_INHERIT_REQ, control::DACL_AUTO_INHERITED),
            (control::SACL_AUTO_INHERIT_REQ, control::SACL_AUTO_INHERITED),
        ] {
            if canonicalize && self.control & req == 0 {
                out.control &= !inherited;
            }
            out.control &= !req;
        }
        out
    }

    /// `self` with the parts `sent` names replaced by those of `new` (SET_INFO, MS-FSA 2.1.5.16); an
    /// owner or group `new` lacks is left as it is, a DACL sent without DACL_PRESENT is a NULL DACL.
    pub fn merged(&self, new: &SecurityDescriptor, sent: u32) -> SecurityDescriptor {
        use security_information as si;
        let mut out = self.clone();
        if let Some(owner) = new.owner.as_ref().filter(|_| sent & si::OWNER != 0) {
            out.owner = Some(owner.clone());
        }
        if let Some(group) = new.group.as_ref().filter(|_| sent & si::GROUP != 0) {
            out.group = Some(group.clone());
        }
        if sent & si::DACL != 0 {
            // A DACL sent without DACL_PRESENT is a NULL DACL: the result always has one.
            out.dacl = new.dacl.clone();
            out.control = (out.control & !control::DACL_BITS)
                | (new.control & control::DACL_BITS)
                | control::DACL_PRESENT;
        }
        if sent & (si::SACL | si::LABEL) != 0 {
            out.sacl = new.sacl.clone();
            out.control = (out.control & !control::SACL_BITS) | (new.control & control::SACL_BITS);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ace::{ace_type, Ace};
    use crate::sid::well_known;

    fn sample() -> SecurityDescriptor {
        SecurityDescriptor {
            control: control::DACL_PRESENT | control::SACL_PRESENT,
            owner: Some(well_known::unix_user(1000)),
            group: Some(well_known::unix_group(100)),
            sacl: Some(Acl::new(vec![Ace::new(
                ace_type::SYSTEM_AUDIT,
                0x80,
                1,
                well_known::world(),
            )])),
            dacl: Some(Acl::new(vec![Ace::new(
                0,
                0,
                0x0012_0089,
                well_known::world(),
            )])),
        }
    }

    #[test]
    fn self_relative_layout() {
        let sd = SecurityDescriptor::with_dacl(
            Some(well_known::unix_user(1000)),
            None,
            Acl::new(vec![Ace::new(0, 0, 0x0012_0089, well_known::world())]),
        );
        let b = sd.encode().unwrap();
        // Header: revision 1, control SELF_RELATIVE|DACL_PRESENT, owner at 20, no group, no SACL.
        assert_eq!(b[..4], [1, 0, 0x04, 0x80]);
        assert_eq!(b[4..8], 20u32.to_le_bytes());
        assert_eq!(b[8..16], [0; 8]);
        // The owner SID (authority 22, two sub-authorities) takes 16 bytes: the DACL starts at 36.
        assert_eq!(b[16..20], 36u32.to_le_bytes());
        assert_eq!(b[36..44], [2, 0, 28, 0, 1, 0, 0, 0]);
        let back = SecurityDescriptor::decode(&b).unwrap();
        assert_eq!(back.control, control::SELF_RELATIVE | control::DACL_PRESENT);
        assert_eq!((back.owner, back.dacl), (sd.owner, sd.dacl));
        let empty = SecurityDescriptor::default().encode().unwrap();
        assert_eq!(
            empty,
            [1, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn null_dacl_and_absent_dacl() {
        let null = SecurityDescriptor {
            control: control::DACL_PRESENT,
            ..Default::default()
        };
        let b = null.encode().unwrap();
        let back = SecurityDescriptor::decode(&b).unwrap();
        assert!(back.dacl_present() && back.dacl.is_none());
        // Without DACL_PRESENT the offset is not even looked at.
        let mut b = b.clone();
        b[2] = 0;
        b[16] = 0xFF;
        assert!(!SecurityDescriptor::decode(&b).unwrap().dacl_present());
    }

    #[test]
    fn set_maps_generic_rights_and_canonicalizes_flags() {
        use crate::access::mask::{FILE_GENERIC_READ, GENERIC_READ};
        use crate::ace::ace_flags::{INHERIT_ONLY, OBJECT_INHERIT};
        let mut sd = SecurityDescriptor::with_dacl(
            None,
            None,
            Acl::new(vec![
                Ace::new(0, 0, GENERIC_READ, well_known::world()),
                Ace::new(
                    0,
                    OBJECT_INHERIT | INHERIT_ONLY,
                    GENERIC_READ,
                    well_known::world(),
                ),
            ]),
        );
        sd.control |= control::DACL_AUTO_INHERITED;
        let set = sd.prepared_for_set(true);
        let masks: Vec<u32> = set
            .dacl
            .as_ref()
            .unwrap()
            .aces
            .iter()
            .map(|a| a.mask)
            .collect();
        assert_eq!(masks, [FILE_GENERIC_READ, GENERIC_READ]);
        assert_eq!(set.control, control::DACL_PRESENT);
        assert_eq!(sd.prepared_for_set(false).control, sd.control);
        sd.control |= control::DACL_AUTO_INHERIT_REQ;
        assert_eq!(
            sd.prepared_for_set(true).control,
            control::DACL_PRESENT | control::DACL_AUTO_INHERITED
        );
    }

    #[test]
    fn filtering_and_merging() {
        let sd = sample();
        let only_dacl = sd.filtered(security_information::DACL);
        assert_eq!(only_dacl.owner, None);
        assert_eq!(only_dacl.sacl, None);
        assert_eq!(only_dacl.control, control::DACL_PRESENT);
        assert_eq!(
            sd.filtered(security_information::LABEL).sacl.unwrap().aces,
            []
        );
        let new = SecurityDescriptor {
            owner: Some(well_known::world()),
            ..Default::default()
        };
        let merged = sd.merged(
            &new,
            security_information::OWNER | security_information::DACL,
        );
        assert_eq!(merged.owner, Some(well_known::world()));
        assert_eq!(merged.group, sd.group);
        assert!(merged.dacl.is_none() && merged.dacl_present(), "NULL DACL");
    }

    /// Offsets past the buffer or into the header, a truncated header, a descriptor that is not
    /// self-relative, an owner SID with 16 sub-authorities.
    #[test]
    fn hostile_descriptors() {
        let good = sample().encode().unwrap();
        assert_eq!(SecurityDescriptor::decode(&good).unwrap(), {
            let mut s = sample();
            s.control |= control::SELF_RELATIVE;
            s
        });
        for slot in [4, 8, 12, 16] {
            for off in [1u32, 19, good.len() as u32, u32::MAX, good.len() as u32 - 4] {
                let mut b = good.clone();
                b[slot..slot + 4].copy_from_slice(&off.to_le_bytes());
                assert_eq!(
                    SecurityDescriptor::decode(&b),
                    Err(Invalid),
                    "slot {slot} offset {off}"
                );
            }
        }
        assert_eq!(SecurityDescriptor::decode(&good[..19]), Err(Invalid));
        let mut b = good.clone();
        b[3] = 0;
        assert_eq!(SecurityDescriptor::decode(&b), Err(Invalid));
        let mut b = good.clone();
        b[21] = 16;
        assert_eq!(SecurityDescriptor::decode(&b), Err(Invalid));
    }
}
