//! Access control entries (MS-DTYP 2.4.4): the ACE_HEADER (2.4.4.1), the mask, the optional object
//! type GUIDs of the object ACEs (2.4.4.3), the SID and the application data of callback and resource
//! attribute ACEs, kept as bytes so a descriptor round-trips exactly. ACCESS_ALLOWED_COMPOUND_ACE
//! (type 4, reserved) and unknown types do not decode.

use crate::bytes::{slice, u16_at, u16_len, u32_at, u8_at};
use crate::{Invalid, Sid};

/// ACE types (MS-DTYP 2.4.4.1).
pub mod ace_type {
    pub const ACCESS_ALLOWED: u8 = 0x00;
    pub const ACCESS_DENIED: u8 = 0x01;
    pub const SYSTEM_AUDIT: u8 = 0x02;
    pub const SYSTEM_ALARM: u8 = 0x03;
    pub const ACCESS_ALLOWED_COMPOUND: u8 = 0x04;
    pub const ACCESS_ALLOWED_OBJECT: u8 = 0x05;
    pub const ACCESS_DENIED_OBJECT: u8 = 0x06;
    pub const SYSTEM_AUDIT_OBJECT: u8 = 0x07;
    pub const SYSTEM_ALARM_OBJECT: u8 = 0x08;
    pub const ACCESS_ALLOWED_CALLBACK: u8 = 0x09;
    pub const ACCESS_DENIED_CALLBACK: u8 = 0x0A;
    pub const ACCESS_ALLOWED_CALLBACK_OBJECT: u8 = 0x0B;
    pub const ACCESS_DENIED_CALLBACK_OBJECT: u8 = 0x0C;
    pub const SYSTEM_AUDIT_CALLBACK: u8 = 0x0D;
    pub const SYSTEM_ALARM_CALLBACK: u8 = 0x0E;
    pub const SYSTEM_AUDIT_CALLBACK_OBJECT: u8 = 0x0F;
    pub const SYSTEM_ALARM_CALLBACK_OBJECT: u8 = 0x10;
    pub const SYSTEM_MANDATORY_LABEL: u8 = 0x11;
    pub const SYSTEM_RESOURCE_ATTRIBUTE: u8 = 0x12;
    pub const SYSTEM_SCOPED_POLICY_ID: u8 = 0x13;
}

/// ACE flags (MS-DTYP 2.4.4.1).
pub mod ace_flags {
    pub const OBJECT_INHERIT: u8 = 0x01;
    pub const CONTAINER_INHERIT: u8 = 0x02;
    pub const NO_PROPAGATE_INHERIT: u8 = 0x04;
    pub const INHERIT_ONLY: u8 = 0x08;
    pub const INHERITED: u8 = 0x10;
    pub const SUCCESSFUL_ACCESS: u8 = 0x40;
    pub const FAILED_ACCESS: u8 = 0x80;
}

/// ACE_HEADER plus the mask.
const HEADER_LEN: usize = 8;
const GUID_LEN: usize = 16;
/// ACE_OBJECT_TYPE_PRESENT and ACE_INHERITED_OBJECT_TYPE_PRESENT (MS-DTYP 2.4.4.3).
const OBJECT_TYPE_PRESENT: u32 = 0x1;
const INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;
/// The smallest ACE: header, mask and a SID without sub-authorities.
pub const MIN_ACE_LEN: usize = HEADER_LEN + 8;

/// The object part of an object ACE (MS-DTYP 2.4.4.3): Flags and the GUIDs they say are present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectTypes {
    pub object_type: Option<[u8; GUID_LEN]>,
    pub inherited_object_type: Option<[u8; GUID_LEN]>,
}

/// One ACE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ace {
    pub ace_type: u8,
    pub flags: u8,
    pub mask: u32,
    /// Present exactly for the object ACE types.
    pub object: Option<ObjectTypes>,
    pub sid: Sid,
    /// Whatever follows the SID inside AceSize (application data, padding).
    pub data: Vec<u8>,
}

/// Whether `t` is one of the object ACE types, which carry Flags and GUIDs before the SID.
fn is_object_type(t: u8) -> bool {
    use ace_type::*;
    matches!(
        t,
        ACCESS_ALLOWED_OBJECT
            | ACCESS_DENIED_OBJECT
            | SYSTEM_AUDIT_OBJECT
            | SYSTEM_ALARM_OBJECT
            | ACCESS_ALLOWED_CALLBACK_OBJECT
            | ACCESS_DENIED_CALLBACK_OBJECT
            | SYSTEM_AUDIT_CALLBACK_OBJECT
            | SYSTEM_ALARM_CALLBACK_OBJECT
    )
}

impl Ace {
    /// A plain ACE of `ace_type` without object part or data.
    pub fn new(ace_type: u8, flags: u8, mask: u32, sid: Sid) -> Ace {
        Ace {
            ace_type,
            flags,
            mask,
            object: None,
            sid,
            data: Vec::new(),
        }
    }

    /// Whether the ACE takes part in the access check of the object itself (not inherit-only).
    pub fn applies_to_object(&self) -> bool {
        self.flags & ace_flags::INHERIT_ONLY == 0
    }

    /// Reads one ACE at the start of `buf`, which ends where the ACL ends. Returns it and its AceSize.
    pub fn decode(buf: &[u8]) -> Result<(Ace, usize), Invalid> {
        let ace_type = u8_at(buf, 0)?;
        let flags = u8_at(buf, 1)?;
        let size = usize::from(u16_at(buf, 2)?);
        if size < MIN_ACE_LEN
            || ace_type > ace_type::SYSTEM_SCOPED_POLICY_ID
            || ace_type == ace_type::ACCESS_ALLOWED_COMPOUND
        {
            return Err(Invalid);
        }
        // Everything below reads inside this ACE only.
        let body = slice(buf, 0, size)?;
        let mask = u32_at(body, 4)?;
        let mut at = HEADER_LEN;
        let object = if is_object_type(ace_type) {
            let present = u32_at(body, at)?;
            at += 4;
            let mut guid = |bit: u32| -> Result<Option<[u8; GUID_LEN]>, Invalid> {
                if present & bit == 0 {
                    return Ok(None);
                }
                let g =
                    <[u8; GUID_LEN]>::try_from(slice(body, at, GUID_LEN)?).map_err(|_| Invalid)?;
                at += GUID_LEN;
                Ok(Some(g))
            };
            let object_type = guid(OBJECT_TYPE_PRESENT)?;
            let inherited_object_type = guid(INHERITED_OBJECT_TYPE_PRESENT)?;
            Some(ObjectTypes {
                object_type,
                inherited_object_type,
            })
        } else {
            None
        };
        let (sid, sid_len) = Sid::from_binary(body.get(at..).ok_or(Invalid)?)?;
        let data = body.get(at + sid_len..).ok_or(Invalid)?.to_vec();
        Ok((
            Ace {
                ace_type,
                flags,
                mask,
                object,
                sid,
                data,
            },
            size,
        ))
    }

    /// The encoded length (AceSize).
    pub fn len(&self) -> usize {
        let object = self.object.as_ref().map_or(0, |o| {
            4 + GUID_LEN
                * (usize::from(o.object_type.is_some())
                    + usize::from(o.inherited_object_type.is_some()))
        });
        HEADER_LEN + object + self.sid.len() + self.data.len()
    }

    /// Never true: an ACE has at least a header and a SID.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the ACE; fails when it is larger than AceSize can say.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Invalid> {
        let size = u16_len(self.len())?;
        out.extend_from_slice(&[self.ace_type, self.flags]);
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&self.mask.to_le_bytes());
        if let Some(o) = &self.object {
            let present = if o.object_type.is_some() {
                OBJECT_TYPE_PRESENT
            } else {
                0
            } | if o.inherited_object_type.is_some() {
                INHERITED_OBJECT_TYPE_PRESENT
            } else {
                0
            };
            out.extend_from_slice(&present.to_le_bytes());
            for g in [&o.object_type, &o.inherited_object_type]
                .into_iter()
                .flatten()
            {
                out.extend_from_slice(g);
            }
        }
        self.sid.write(out);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// An ACCESS_DENIED_OBJECT_ACE for Everyone with an object type GUID.
    pub(crate) fn object_ace() -> Ace {
        Ace {
            object: Some(ObjectTypes {
                object_type: Some([7; 16]),
                inherited_object_type: None,
            }),
            ..Ace::new(
                ace_type::ACCESS_DENIED_OBJECT,
                0,
                1,
                crate::sid::well_known::world(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::well_known;

    fn encoded(ace: &Ace) -> Vec<u8> {
        let mut out = Vec::new();
        ace.write(&mut out).unwrap();
        out
    }

    #[test]
    fn allowed_ace_layout() {
        let ace = Ace::new(
            ace_type::ACCESS_ALLOWED,
            3,
            0x001F_01FF,
            well_known::world(),
        );
        let b = encoded(&ace);
        assert_eq!(
            b,
            [0, 3, 20, 0, 0xFF, 1, 0x1F, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        assert_eq!(Ace::decode(&b), Ok((ace, 20)));
    }

    #[test]
    fn object_ace_round_trip() {
        let ace = super::tests_support::object_ace();
        let b = encoded(&ace);
        assert_eq!(b.len(), 8 + 4 + 16 + 12);
        assert_eq!(Ace::decode(&b), Ok((ace, 40)));
        // The flags promise a GUID the ACE has no room for.
        let mut short = b.clone();
        short[8] = 3;
        assert_eq!(Ace::decode(&short), Err(Invalid));
    }

    #[test]
    fn callback_data_is_kept() {
        let ace = Ace {
            data: b"artx".to_vec(),
            ..Ace::new(ace_type::ACCESS_ALLOWED_CALLBACK, 0, 1, well_known::world())
        };
        let b = encoded(&ace);
        assert_eq!(Ace::decode(&b), Ok((ace, 24)));
    }

    /// ksmbd's ACE CVE classes: an AceSize smaller than the header or the SID it holds, an AceSize past
    /// the ACL, a SID whose count runs past the ACE.
    #[test]
    fn hostile_sizes() {
        let good = encoded(&Ace::new(0, 0, 1, well_known::world()));
        for size in [0u16, 4, 8, 15, 19] {
            let mut b = good.clone();
            b[2..4].copy_from_slice(&size.to_le_bytes());
            assert_eq!(Ace::decode(&b), Err(Invalid), "size {size}");
        }
        let mut b = good.clone();
        b[2] = 24;
        assert_eq!(Ace::decode(&b), Err(Invalid));
        let mut b = good.clone();
        b[9] = 2; // two sub-authorities in a 20-byte ACE
        assert_eq!(Ace::decode(&b), Err(Invalid));
        let mut b = good.clone();
        b[0] = ace_type::ACCESS_ALLOWED_COMPOUND;
        assert_eq!(Ace::decode(&b), Err(Invalid));
        b[0] = 0x14;
        assert_eq!(Ace::decode(&b), Err(Invalid));
        assert_eq!(Ace::decode(&good[..7]), Err(Invalid));
    }
}
