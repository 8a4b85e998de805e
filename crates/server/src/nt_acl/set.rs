//! SET_INFO of a security descriptor (MS-SMB2 3.3.5.21.3, MS-FSA 2.1.5.16): the parts named by
//! SecurityInformation replace the file's, given the handle's rights for them: WRITE_OWNER for owner,
//! group and label, WRITE_DAC for the DACL, ACCESS_SYSTEM_SECURITY for the SACL. A user may make only
//! itself the owner (STATUS_INVALID_OWNER otherwise), as Windows without SeRestorePrivilege.

use std::sync::Arc;

use dtyp::access::mask::{ACCESS_SYSTEM_SECURITY, WRITE_DAC, WRITE_OWNER};
use dtyp::sd::security_information as si;
use proto::NtStatus;

use super::{current, decode, may_set_any_owner, store, token};
use crate::blocking::run_as;
use crate::open::Open;

/// The rights each part needs.
fn needed(sent: u32) -> u32 {
    let mut access = 0;
    if sent & (si::OWNER | si::GROUP | si::LABEL) != 0 {
        access |= WRITE_OWNER;
    }
    if sent & si::DACL != 0 {
        access |= WRITE_DAC;
    }
    if sent & si::SACL != 0 {
        access |= ACCESS_SYSTEM_SECURITY;
    }
    access
}

/// Sets the parts `sent` of `buf` (a self-relative descriptor) on the open's file.
pub async fn set_security(
    open: &Arc<Open>,
    domain: &dtyp::Sid,
    sent: u32,
    buf: &[u8],
) -> Result<(), NtStatus> {
    if !open.has_access(needed(sent)) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let policy = open.tree.share.acls;
    let new = decode(buf)?.prepared_for_set(policy.canonicalize_inherited);
    if !policy.support {
        return Ok(()); // accepted without effect (`nt acl support = no`)
    }
    if !policy.store {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if let Some(owner) = new.owner.as_ref().filter(|_| sent & si::OWNER != 0) {
        if !may_set_any_owner(&open.unix) && !token(domain, &open.unix).has(owner) {
            return Err(NtStatus::INVALID_OWNER);
        }
    }
    let file = Arc::clone(&open.file);
    run_as(&open.unix, move || {
        let stat = file.stat()?;
        let merged = current(policy, &file, &stat).merged(&new, sent);
        store(&file, &merged)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_per_part() {
        assert_eq!(needed(si::DACL), WRITE_DAC);
        assert_eq!(needed(si::OWNER | si::GROUP), WRITE_OWNER);
        assert_eq!(needed(si::LABEL), WRITE_OWNER);
        assert_eq!(
            needed(si::SACL | si::DACL),
            ACCESS_SYSTEM_SECURITY | WRITE_DAC
        );
        assert_eq!(needed(0), 0);
    }
}
