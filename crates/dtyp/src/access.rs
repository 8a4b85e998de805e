//! The access check (MS-DTYP 2.5.3.2) of a token against a security descriptor's DACL, for a desired
//! access or MAXIMUM_ALLOWED: generic rights mapped (2.5.3.2 GenericMapping, MS-FSA's file mapping),
//! the owner's implicit READ_CONTROL and WRITE_DAC unless the DACL has an OWNER RIGHTS ACE, ACEs
//! evaluated in stored order (so non-canonical ACLs behave as stored), inherit-only ACEs skipped. A
//! missing or NULL DACL grants everything; an empty one nothing but the owner's implicit rights.

use crate::ace::{ace_type, Ace};
use crate::sd::SecurityDescriptor;
use crate::sid::{well_known, Sid};

/// Access mask bits (MS-DTYP 2.4.3) with the file and directory rights of MS-SMB2 2.2.13.1.
pub mod mask {
    pub const FILE_READ_DATA: u32 = 0x0000_0001;
    pub const FILE_LIST_DIRECTORY: u32 = FILE_READ_DATA;
    pub const FILE_WRITE_DATA: u32 = 0x0000_0002;
    pub const FILE_ADD_FILE: u32 = FILE_WRITE_DATA;
    pub const FILE_APPEND_DATA: u32 = 0x0000_0004;
    pub const FILE_ADD_SUBDIRECTORY: u32 = FILE_APPEND_DATA;
    pub const FILE_READ_EA: u32 = 0x0000_0008;
    pub const FILE_WRITE_EA: u32 = 0x0000_0010;
    pub const FILE_EXECUTE: u32 = 0x0000_0020;
    pub const FILE_TRAVERSE: u32 = FILE_EXECUTE;
    pub const FILE_DELETE_CHILD: u32 = 0x0000_0040;
    pub const FILE_READ_ATTRIBUTES: u32 = 0x0000_0080;
    pub const FILE_WRITE_ATTRIBUTES: u32 = 0x0000_0100;
    pub const DELETE: u32 = 0x0001_0000;
    pub const READ_CONTROL: u32 = 0x0002_0000;
    pub const WRITE_DAC: u32 = 0x0004_0000;
    pub const WRITE_OWNER: u32 = 0x0008_0000;
    pub const SYNCHRONIZE: u32 = 0x0010_0000;
    pub const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
    pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;
    pub const GENERIC_ALL: u32 = 0x1000_0000;
    pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
    pub const GENERIC_WRITE: u32 = 0x4000_0000;
    pub const GENERIC_READ: u32 = 0x8000_0000;

    /// DELETE | READ_CONTROL | WRITE_DAC | WRITE_OWNER (MS-DTYP 2.4.3 standard rights).
    pub const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;
    /// Every file-specific right plus the standard rights and SYNCHRONIZE.
    pub const FILE_ALL_ACCESS: u32 = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF;
    pub const FILE_GENERIC_READ: u32 =
        READ_CONTROL | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE;
    pub const FILE_GENERIC_WRITE: u32 = READ_CONTROL
        | FILE_WRITE_DATA
        | FILE_WRITE_ATTRIBUTES
        | FILE_WRITE_EA
        | FILE_APPEND_DATA
        | SYNCHRONIZE;
    pub const FILE_GENERIC_EXECUTE: u32 =
        READ_CONTROL | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE;
}

use mask::*;

/// Replaces the GENERIC_* bits of `access` by the file rights they stand for (the generic mapping of
/// file objects). Other bits, MAXIMUM_ALLOWED included, are kept.
pub fn map_generic(access: u32) -> u32 {
    let mut out = access & !(GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ);
    for (generic, specific) in [
        (GENERIC_READ, FILE_GENERIC_READ),
        (GENERIC_WRITE, FILE_GENERIC_WRITE),
        (GENERIC_EXECUTE, FILE_GENERIC_EXECUTE),
        (GENERIC_ALL, FILE_ALL_ACCESS),
    ] {
        if access & generic != 0 {
            out |= specific;
        }
    }
    out
}

/// Who is asking: the user's SID and the groups it belongs to (Everyone and Authenticated Users
/// included by whoever builds it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub user: Sid,
    pub groups: Vec<Sid>,
}

impl Token {
    /// Whether `sid` is the user or one of its groups.
    pub fn has(&self, sid: &Sid) -> bool {
        self.user == *sid || self.groups.contains(sid)
    }
}

/// How an ACE takes part in the check: allow, deny or not at all.
enum Effect {
    Allow(u32),
    Deny(u32),
    Skip,
}

fn effect(ace: &Ace, token: &Token, is_owner: bool) -> Effect {
    let matches = token.has(&ace.sid) || (is_owner && ace.sid == well_known::owner_rights());
    if !ace.applies_to_object() || !matches {
        return Effect::Skip;
    }
    let m = map_generic(ace.mask);
    match ace.ace_type {
        ace_type::ACCESS_ALLOWED => Effect::Allow(m),
        // A deny ACE whose condition rsmbd cannot evaluate still denies (the safe reading of 2.5.3.2).
        ace_type::ACCESS_DENIED | ace_type::ACCESS_DENIED_CALLBACK => Effect::Deny(m),
        _ => Effect::Skip,
    }
}

/// The rights `token` holds on an object with descriptor `sd` (MAXIMUM_ALLOWED's answer, and the MxAc
/// create context's).
pub fn maximal_access(sd: &SecurityDescriptor, token: &Token) -> u32 {
    let Some(dacl) = dacl_to_check(sd) else {
        return FILE_ALL_ACCESS;
    };
    let is_owner = owns(sd, token);
    let (mut allowed, mut denied) = (owner_rights(sd, token), 0u32);
    for ace in &dacl.aces {
        match effect(ace, token, is_owner) {
            Effect::Allow(m) => allowed |= m & !denied,
            Effect::Deny(m) => denied |= m & !allowed,
            Effect::Skip => {}
        }
    }
    allowed
}

/// The access check for `desired` (generic bits and MAXIMUM_ALLOWED allowed): the granted rights, or
/// `None` when something asked for is denied or nothing at all would be granted.
pub fn check(sd: &SecurityDescriptor, token: &Token, desired: u32) -> Option<u32> {
    let desired = map_generic(desired);
    let wanted = desired & !MAXIMUM_ALLOWED;
    if desired & MAXIMUM_ALLOWED != 0 {
        let max = maximal_access(sd, token);
        return (wanted & !max == 0 && max | wanted != 0).then_some(max | wanted);
    }
    let Some(dacl) = dacl_to_check(sd) else {
        return Some(wanted);
    };
    let is_owner = owns(sd, token);
    let mut remaining = wanted & !owner_rights(sd, token);
    for ace in &dacl.aces {
        if remaining == 0 {
            break;
        }
        match effect(ace, token, is_owner) {
            Effect::Allow(m) => remaining &= !m,
            Effect::Deny(m) if m & remaining != 0 => return None,
            _ => {}
        }
    }
    (remaining == 0).then_some(wanted)
}

/// The DACL to evaluate: `None` when there is none or it is NULL (everything is granted).
fn dacl_to_check(sd: &SecurityDescriptor) -> Option<&crate::Acl> {
    if sd.dacl_present() {
        sd.dacl.as_ref()
    } else {
        None
    }
}

/// Whether the token holds the descriptor's owner SID (OWNER RIGHTS ACEs then apply to it).
fn owns(sd: &SecurityDescriptor, token: &Token) -> bool {
    sd.owner.as_ref().is_some_and(|o| token.has(o))
}

/// READ_CONTROL | WRITE_DAC for the owner, unless an OWNER RIGHTS ACE decides instead.
fn owner_rights(sd: &SecurityDescriptor, token: &Token) -> u32 {
    let owner_rights_ace = sd.dacl.as_ref().is_some_and(|d| {
        d.aces
            .iter()
            .any(|a| a.applies_to_object() && a.sid == well_known::owner_rights())
    });
    match &sd.owner {
        Some(owner) if token.has(owner) && !owner_rights_ace => READ_CONTROL | WRITE_DAC,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ace::ace_flags::INHERIT_ONLY;
    use crate::Acl;

    fn user(n: u32) -> Sid {
        well_known::unix_user(n)
    }

    fn token() -> Token {
        Token {
            user: user(1000),
            groups: vec![well_known::world(), well_known::unix_group(100)],
        }
    }

    fn sd(owner: u32, aces: Vec<Ace>) -> SecurityDescriptor {
        SecurityDescriptor::with_dacl(Some(user(owner)), None, Acl::new(aces))
    }

    #[test]
    fn deny_before_allow_and_order_as_stored() {
        let deny = Ace::new(ace_type::ACCESS_DENIED, 0, FILE_GENERIC_READ, user(1000));
        let allow = Ace::new(
            ace_type::ACCESS_ALLOWED,
            0,
            FILE_ALL_ACCESS,
            well_known::world(),
        );
        let canonical = sd(0, vec![deny.clone(), allow.clone()]);
        assert_eq!(check(&canonical, &token(), GENERIC_READ), None);
        // FILE_GENERIC_WRITE includes READ_CONTROL and SYNCHRONIZE, which the deny covers.
        assert_eq!(check(&canonical, &token(), FILE_GENERIC_WRITE), None);
        assert_eq!(check(&canonical, &token(), 0x2), Some(0x2));
        assert_eq!(
            maximal_access(&canonical, &token()),
            FILE_ALL_ACCESS & !FILE_GENERIC_READ
        );
        // Allow first: the deny comes too late (a non-canonical ACL is evaluated as stored).
        let reversed = sd(0, vec![allow, deny]);
        assert_eq!(
            check(&reversed, &token(), GENERIC_READ),
            Some(FILE_GENERIC_READ)
        );
        assert_eq!(maximal_access(&reversed, &token()), FILE_ALL_ACCESS);
    }

    #[test]
    fn null_empty_and_owner() {
        let null = SecurityDescriptor {
            control: crate::sd::control::DACL_PRESENT,
            ..Default::default()
        };
        assert_eq!(
            check(&null, &token(), MAXIMUM_ALLOWED),
            Some(FILE_ALL_ACCESS)
        );
        let empty = sd(0, vec![]);
        assert_eq!(check(&empty, &token(), FILE_GENERIC_READ), None);
        assert_eq!(check(&empty, &token(), MAXIMUM_ALLOWED), None);
        let owned = sd(1000, vec![]);
        assert_eq!(
            check(&owned, &token(), READ_CONTROL | WRITE_DAC),
            Some(READ_CONTROL | WRITE_DAC)
        );
        assert_eq!(
            check(&owned, &token(), MAXIMUM_ALLOWED),
            Some(READ_CONTROL | WRITE_DAC)
        );
        assert_eq!(check(&owned, &token(), DELETE), None);
        // OWNER RIGHTS replaces the implicit rights.
        let rights = sd(
            1000,
            vec![Ace::new(
                ace_type::ACCESS_ALLOWED,
                0,
                READ_CONTROL,
                well_known::owner_rights(),
            )],
        );
        assert_eq!(check(&rights, &token(), WRITE_DAC), None);
        assert_eq!(maximal_access(&rights, &token()), READ_CONTROL);
        // OWNER RIGHTS ACEs add to the owner's own ACEs, in ACL order.
        let additive = sd(
            1000,
            vec![
                Ace::new(
                    ace_type::ACCESS_DENIED,
                    0,
                    FILE_READ_DATA,
                    well_known::owner_rights(),
                ),
                Ace::new(ace_type::ACCESS_ALLOWED, 0, FILE_GENERIC_READ, user(1000)),
            ],
        );
        assert_eq!(
            maximal_access(&additive, &token()),
            FILE_GENERIC_READ & !FILE_READ_DATA
        );
        assert_eq!(
            maximal_access(
                &additive,
                &Token {
                    user: user(5),
                    groups: vec![]
                }
            ),
            0
        );
    }

    #[test]
    fn inherit_only_and_other_sids_are_skipped() {
        let io = Ace::new(
            ace_type::ACCESS_ALLOWED,
            INHERIT_ONLY,
            FILE_ALL_ACCESS,
            user(1000),
        );
        let other = Ace::new(ace_type::ACCESS_ALLOWED, 0, FILE_ALL_ACCESS, user(1001));
        let group = Ace::new(
            ace_type::ACCESS_ALLOWED,
            0,
            GENERIC_READ,
            well_known::unix_group(100),
        );
        let d = sd(0, vec![io, other, group]);
        assert_eq!(maximal_access(&d, &token()), FILE_GENERIC_READ);
        assert_eq!(check(&d, &token(), MAXIMUM_ALLOWED | DELETE), None);
    }

    #[test]
    fn generic_mapping() {
        assert_eq!(map_generic(GENERIC_ALL), FILE_ALL_ACCESS);
        assert_eq!(
            map_generic(GENERIC_READ | DELETE),
            FILE_GENERIC_READ | DELETE
        );
    }
}
