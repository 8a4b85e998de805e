//! The descriptor of a new file or directory (MS-DTYP 2.5.3.4, CreateSecurityDescriptor as a file
//! system uses it): the parent's inheritable ACEs (object inherit to files, container inherit to
//! directories, no-propagate, inherit-only), CREATOR OWNER and CREATOR GROUP replaced by the creator's
//! SIDs and generic rights mapped in the ACEs that apply to the new object (an ACE that still has to
//! propagate keeps an inherit-only copy of itself), merged with an explicit descriptor from the SecD
//! create context: its ACEs first, the inherited ones after unless its DACL is protected.

use crate::access::map_generic;
use crate::ace::{ace_flags, Ace};
use crate::acl::Acl;
use crate::sd::{control, SecurityDescriptor};
use crate::sid::{well_known, Sid};

const INHERIT_FLAGS: u8 = ace_flags::OBJECT_INHERIT
    | ace_flags::CONTAINER_INHERIT
    | ace_flags::NO_PROPAGATE_INHERIT
    | ace_flags::INHERIT_ONLY;

/// Who creates what.
#[derive(Clone, Debug)]
pub struct Creator<'a> {
    pub owner: Sid,
    pub group: Sid,
    pub is_container: bool,
    /// The descriptor the client sent with the CREATE (SecD), if any.
    pub explicit: Option<&'a SecurityDescriptor>,
}

/// Whether `parent` has an ACE a new object of this kind would inherit.
pub fn has_inheritable(parent: &SecurityDescriptor, is_container: bool) -> bool {
    let wanted = if is_container {
        ace_flags::OBJECT_INHERIT | ace_flags::CONTAINER_INHERIT
    } else {
        ace_flags::OBJECT_INHERIT
    };
    parent
        .dacl
        .iter()
        .chain(parent.sacl.iter())
        .flat_map(|a| &a.aces)
        .any(|a| a.flags & wanted != 0)
}

/// The new object's descriptor (MS-DTYP 2.5.3.4 with the file system's auto-inheritance: inherited
/// ACEs carry INHERITED_ACE and the new DACL DACL_AUTO_INHERITED when the parent's DACL is
/// auto-inherited), or `None` when it inherits nothing and no explicit descriptor was
/// sent (the object then keeps the one its POSIX owner, group and mode give).
pub fn create(parent: &SecurityDescriptor, c: &Creator<'_>) -> Option<SecurityDescriptor> {
    if c.explicit.is_none() && !has_inheritable(parent, c.is_container) {
        return None;
    }
    let explicit = c.explicit;
    let owner = explicit
        .and_then(|e| e.owner.clone())
        .unwrap_or_else(|| c.owner.clone());
    let group = explicit
        .and_then(|e| e.group.clone())
        .unwrap_or_else(|| c.group.clone());
    let mut sd = SecurityDescriptor {
        control: 0,
        owner: Some(owner.clone()),
        group: Some(group.clone()),
        sacl: None,
        dacl: None,
    };
    let who = (&owner, &group);
    let (dacl, dacl_bits) = combine(
        explicit
            .filter(|e| e.dacl_present())
            .map(|e| (e.dacl.as_ref(), e.control & control::DACL_PROTECTED != 0)),
        parent.dacl.as_ref(),
        parent.control & control::DACL_AUTO_INHERITED,
        c.is_container,
        who,
    );
    sd.dacl = dacl;
    sd.control |= dacl_bits;
    if sd.dacl.is_none() && dacl_bits & control::DACL_PRESENT == 0 {
        // Nothing to inherit into the DACL and none sent: the creator gets full control.
        sd.dacl = Some(Acl::new(vec![Ace::new(
            0,
            0,
            crate::access::mask::FILE_ALL_ACCESS,
            owner.clone(),
        )]));
    }
    let explicit_sacl = explicit
        .filter(|e| e.control & control::SACL_PRESENT != 0)
        .map(|e| (e.sacl.as_ref(), e.control & control::SACL_PROTECTED != 0));
    let (sacl, sacl_bits) = combine(
        explicit_sacl,
        parent.sacl.as_ref(),
        (parent.control & control::SACL_AUTO_INHERITED) >> 1,
        c.is_container,
        who,
    );
    if sacl.as_ref().is_some_and(|a| !a.is_empty()) || explicit_sacl.is_some() {
        sd.sacl = sacl;
        sd.control |= control::SACL_PRESENT;
        for (dacl_bit, sacl_bit) in [
            (control::DACL_AUTO_INHERITED, control::SACL_AUTO_INHERITED),
            (control::DACL_PROTECTED, control::SACL_PROTECTED),
        ] {
            if sacl_bits & dacl_bit != 0 {
                sd.control |= sacl_bit;
            }
        }
    }
    sd.control |= control::DACL_PRESENT;
    Some(sd)
}

/// One ACL of the new object from the explicit one (ACL, protected) and the parent's. Returns the ACL
/// and the control bits it brings (DACL_PRESENT; DACL_AUTO_INHERITED / DACL_PROTECTED, shifted for a
/// SACL by the caller). A NULL explicit ACL stays NULL.
fn combine(
    explicit: Option<(Option<&Acl>, bool)>,
    parent: Option<&Acl>,
    parent_auto_inherited: u16,
    is_container: bool,
    who: (&Sid, &Sid),
) -> (Option<Acl>, u16) {
    // Inherited ACEs are marked INHERITED only under an auto-inherited parent ACL.
    let mark = if parent_auto_inherited != 0 {
        ace_flags::INHERITED
    } else {
        0
    };
    let inherited = parent
        .map(|p| inherited_aces(p, is_container, who, mark))
        .unwrap_or_default();
    match explicit {
        Some((None, _)) => (None, control::DACL_PRESENT),
        Some((Some(acl), true)) => (
            Some(Acl::new(explicit_aces(acl, is_container, who))),
            control::DACL_PRESENT | control::DACL_PROTECTED,
        ),
        Some((Some(acl), false)) => {
            let mut aces = explicit_aces(acl, is_container, who);
            aces.extend(inherited);
            (
                Some(Acl::new(aces)),
                control::DACL_PRESENT | auto_inherited(parent_auto_inherited),
            )
        }
        None if inherited.is_empty() => (None, 0),
        None => (
            Some(Acl::new(inherited)),
            control::DACL_PRESENT | auto_inherited(parent_auto_inherited),
        ),
    }
}

fn auto_inherited(parent_bit: u16) -> u16 {
    if parent_bit != 0 {
        control::DACL_AUTO_INHERITED
    } else {
        0
    }
}

/// The ACEs of an explicit ACL: those marked inherited are dropped (they come from the parent), the
/// others are kept, with CREATOR SIDs and generic rights resolved where they apply to the object.
fn explicit_aces(acl: &Acl, is_container: bool, who: (&Sid, &Sid)) -> Vec<Ace> {
    let mut out = Vec::new();
    for ace in acl
        .aces
        .iter()
        .filter(|a| a.flags & ace_flags::INHERITED == 0)
    {
        if ace.applies_to_object() && needs_resolving(ace) {
            out.push(resolved(ace, who, ace.flags & !INHERIT_FLAGS));
            if is_container
                && ace.flags & (ace_flags::OBJECT_INHERIT | ace_flags::CONTAINER_INHERIT) != 0
            {
                out.push(Ace {
                    flags: ace.flags | ace_flags::INHERIT_ONLY,
                    ..ace.clone()
                });
            }
        } else {
            out.push(ace.clone());
        }
    }
    out
}

/// Whether an ACE must be rewritten to apply to the new object: a CREATOR SID or generic rights.
fn needs_resolving(ace: &Ace) -> bool {
    ace.sid == well_known::creator_owner()
        || ace.sid == well_known::creator_group()
        || map_generic(ace.mask) != ace.mask
}

/// `ace` applying to the new object: CREATOR OWNER/GROUP replaced, generic rights mapped, `flags`.
fn resolved(ace: &Ace, (owner, group): (&Sid, &Sid), flags: u8) -> Ace {
    let sid = if ace.sid == well_known::creator_owner() {
        owner.clone()
    } else if ace.sid == well_known::creator_group() {
        group.clone()
    } else {
        ace.sid.clone()
    };
    Ace {
        flags,
        mask: map_generic(ace.mask),
        sid,
        ..ace.clone()
    }
}

/// The parent's ACEs as the new object inherits them (MS-DTYP 2.5.3.4.2).
fn inherited_aces(parent: &Acl, is_container: bool, who: (&Sid, &Sid), mark: u8) -> Vec<Ace> {
    use ace_flags::*;
    let mut out = Vec::new();
    for ace in &parent.aces {
        let keep = (ace.flags & !(INHERIT_FLAGS | INHERITED)) | mark;
        let (oi, ci, np) = (
            ace.flags & OBJECT_INHERIT != 0,
            ace.flags & CONTAINER_INHERIT != 0,
            ace.flags & NO_PROPAGATE_INHERIT != 0,
        );
        if !is_container {
            if oi {
                out.push(resolved(ace, who, keep));
            }
            continue;
        }
        match (ci, oi, np) {
            (true, _, true) => out.push(resolved(ace, who, keep)),
            (true, _, false) if needs_resolving(ace) => {
                out.push(resolved(ace, who, keep));
                out.push(Ace {
                    flags: (ace.flags & !(NO_PROPAGATE_INHERIT | INHERITED)) | INHERIT_ONLY | mark,
                    ..ace.clone()
                });
            }
            (true, _, false) => out.push(Ace {
                flags: (ace.flags & !(INHERIT_ONLY | INHERITED)) | mark,
                ..ace.clone()
            }),
            (false, true, false) => out.push(Ace {
                flags: (ace.flags & !INHERITED) | INHERIT_ONLY | mark,
                ..ace.clone()
            }),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::mask::*;
    use crate::ace::ace_flags::*;

    fn parent(aces: Vec<Ace>) -> SecurityDescriptor {
        SecurityDescriptor::with_dacl(Some(well_known::unix_user(0)), None, Acl::new(aces))
    }

    fn creator(is_container: bool) -> Creator<'static> {
        Creator {
            owner: well_known::unix_user(1000),
            group: well_known::unix_group(100),
            is_container,
            explicit: None,
        }
    }

    fn flags_and_sids(sd: &SecurityDescriptor) -> Vec<(u8, u32, String)> {
        sd.dacl
            .as_ref()
            .unwrap()
            .aces
            .iter()
            .map(|a| (a.flags, a.mask, a.sid.to_string()))
            .collect()
    }

    #[test]
    fn files_get_object_inherit_aces() {
        let p = parent(vec![
            Ace::new(0, OBJECT_INHERIT, GENERIC_READ, well_known::world()),
            Ace::new(0, CONTAINER_INHERIT, FILE_ALL_ACCESS, well_known::world()),
            Ace::new(0, 0, FILE_ALL_ACCESS, well_known::unix_user(5)),
        ]);
        let sd = create(&p, &creator(false)).unwrap();
        // The parent's DACL is not auto-inherited: no INHERITED_ACE, no DACL_AUTO_INHERITED.
        assert_eq!(
            flags_and_sids(&sd),
            [(0, FILE_GENERIC_READ, "S-1-1-0".into())]
        );
        assert_eq!(sd.control, control::DACL_PRESENT);
        assert_eq!(sd.owner, Some(well_known::unix_user(1000)));
        assert!(sd.dacl_present());
    }

    #[test]
    fn directories_propagate_and_split_creator_owner() {
        let mut p = parent(vec![
            Ace::new(
                0,
                OBJECT_INHERIT | CONTAINER_INHERIT,
                FILE_ALL_ACCESS,
                well_known::creator_owner(),
            ),
            Ace::new(0, OBJECT_INHERIT, FILE_GENERIC_READ, well_known::world()),
            Ace::new(
                0,
                CONTAINER_INHERIT | NO_PROPAGATE_INHERIT,
                FILE_GENERIC_WRITE,
                well_known::world(),
            ),
        ]);
        p.control |= control::DACL_AUTO_INHERITED;
        let sd = create(&p, &creator(true)).unwrap();
        assert_eq!(
            sd.control,
            control::DACL_PRESENT | control::DACL_AUTO_INHERITED
        );
        assert_eq!(
            flags_and_sids(&sd),
            [
                (INHERITED, FILE_ALL_ACCESS, "S-1-22-1-1000".into()),
                (
                    OBJECT_INHERIT | CONTAINER_INHERIT | INHERIT_ONLY | INHERITED,
                    FILE_ALL_ACCESS,
                    "S-1-3-0".into()
                ),
                (
                    OBJECT_INHERIT | INHERIT_ONLY | INHERITED,
                    FILE_GENERIC_READ,
                    "S-1-1-0".into()
                ),
                (INHERITED, FILE_GENERIC_WRITE, "S-1-1-0".into()),
            ]
        );
    }

    #[test]
    fn nothing_inheritable_gives_none() {
        let p = parent(vec![Ace::new(0, 0, FILE_ALL_ACCESS, well_known::world())]);
        assert_eq!(create(&p, &creator(false)), None);
    }

    #[test]
    fn explicit_descriptor_first_then_inherited_unless_protected() {
        let p = parent(vec![Ace::new(
            0,
            OBJECT_INHERIT,
            FILE_GENERIC_READ,
            well_known::world(),
        )]);
        let mut explicit = SecurityDescriptor::with_dacl(
            None,
            None,
            Acl::new(vec![Ace::new(1, 0, DELETE, well_known::unix_user(7))]),
        );
        let c = Creator {
            explicit: Some(&explicit),
            ..creator(false)
        };
        let sd = create(&p, &c).unwrap();
        assert_eq!(sd.dacl.as_ref().unwrap().aces.len(), 2);
        assert_eq!(sd.dacl.as_ref().unwrap().aces[0].ace_type, 1);
        explicit.control |= control::DACL_PROTECTED;
        let c = Creator {
            explicit: Some(&explicit),
            ..creator(false)
        };
        let sd = create(&p, &c).unwrap();
        assert_eq!(sd.dacl.unwrap().aces.len(), 1);
        assert!(sd.control & control::DACL_PROTECTED != 0);
    }
}
