//! Target `security_descriptor`: self-relative security descriptors (MS-DTYP 2.4.6) as SET_INFO, the
//! SecD create context and a stored `security.NTACL` bring them, with ksmbd's ACL bug classes in mind
//! (offsets past the buffer, ACE counts and sizes that do not fit, too many sub-authorities). The first
//! byte chooses the wrapping: even = a bare descriptor, odd = an `xattr_NTACL` blob around one. What
//! decodes must encode back to the same descriptor, and the access check, the SET_INFO preparation
//! and inheritance must run on it without panicking.

use dtyp::access::{check, maximal_access, Token};
use dtyp::inherit::{self, Creator};
use dtyp::sd::security_information as si;
use dtyp::sid::well_known;
use dtyp::SecurityDescriptor;

pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let unwrapped;
    let bytes = if mode & 1 == 0 {
        rest
    } else {
        match vfs::decode_ntacl(rest) {
            Some(sd) => {
                unwrapped = sd;
                &unwrapped[..]
            }
            None => return,
        }
    };
    let Ok(sd) = SecurityDescriptor::decode(bytes) else {
        return;
    };
    let encoded = sd.encode().expect("a decoded descriptor encodes");
    assert_eq!(
        SecurityDescriptor::decode(&encoded).as_ref(),
        Ok(&sd),
        "round trip"
    );
    let token = Token {
        user: well_known::unix_user(1000),
        groups: vec![well_known::world(), well_known::unix_group(100)],
    };
    let max = maximal_access(&sd, &token);
    if max != 0 {
        assert_eq!(
            check(&sd, &token, max),
            Some(max),
            "MAXIMUM_ALLOWED agrees with the check"
        );
    }
    let set = sd.prepared_for_set(mode & 2 != 0);
    let merged = sd.merged(&set, u32::from(mode >> 2));
    let _ = merged.filtered(si::OWNER | si::DACL).encode();
    let creator = Creator {
        owner: token.user.clone(),
        group: well_known::unix_group(100),
        is_container: mode & 4 != 0,
        explicit: (mode & 8 != 0).then_some(&set),
    };
    if let Some(child) = inherit::create(&sd, &creator) {
        let _ = child.encode();
    }
}
