//! NT security descriptors of files and directories (MS-DTYP 2.4.6, MS-SMB2 3.3.5.20.3 / 3.3.5.21.3,
//! MS-FSA 2.1.5.1 and 2.1.5.16): where they come from (the stored `security.NTACL`, else synthesised
//! from POSIX ownership and mode), the user's token they are checked against, and storing them.
//!
//! Only stored descriptors are enforced: a file without one is left to the kernel's POSIX check (file
//! work runs as the user), which the synthesised descriptor only describes. Unlike Samba, root is
//! subject to DACLs too, as an administrator is on Windows; it may only set any owner (Windows'
//! SeRestorePrivilege).

pub mod create;
pub mod set;
mod synthesize;

use dtyp::access::Token;
use dtyp::sid::well_known;
use dtyp::{SecurityDescriptor, Sid};
use proto::NtStatus;

pub use synthesize::synthesize;

/// A share's ACL settings (`nt acl support`, `vfs objects`, `inherit owner`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AclPolicy {
    /// `nt acl support`: descriptors can be set at all.
    pub support: bool,
    /// Descriptors are stored in `security.NTACL` and enforced (acl_xattr).
    pub store: bool,
    /// `inherit owner`: a new object's owner is its parent's.
    pub inherit_owner: bool,
    /// `acl flag inherited canonicalization`: DACL_AUTO_INHERITED is kept on SET_INFO only with
    /// DACL_AUTO_INHERIT_REQ, as Windows does.
    pub canonicalize_inherited: bool,
    /// `hide unreadable`: listings leave out entries the user may not read.
    pub hide_unreadable: bool,
}

/// The token of the Unix user `unix`: its Unix user SID, its Unix groups, its account SID in the
/// server's domain (Samba's algorithmic RID), Everyone and Authenticated Users.
pub fn token(domain: &Sid, unix: &vfs::Identity) -> Token {
    let mut groups: Vec<Sid> = std::iter::once(unix.gid)
        .chain(unix.groups.iter().copied())
        .map(well_known::unix_group)
        .collect();
    groups.dedup();
    groups.extend([well_known::world(), well_known::authenticated_users()]);
    if let Some(rid) = rpc::user_rid(unix.uid) {
        groups.push(domain.with_rid(rid));
    }
    Token {
        user: well_known::unix_user(unix.uid),
        groups,
    }
}

/// Whether `unix` may make any SID the owner (root).
pub fn may_set_any_owner(unix: &vfs::Identity) -> bool {
    unix.uid == 0
}

/// Decodes a descriptor a client sent.
pub fn decode(bytes: &[u8]) -> Result<SecurityDescriptor, NtStatus> {
    SecurityDescriptor::decode(bytes).map_err(|_| NtStatus::INVALID_SECURITY_DESCR)
}

/// The stored descriptor of `file` when the share keeps them and one decodes (blocking).
pub fn stored(policy: AclPolicy, file: &vfs::OpenFile) -> Option<SecurityDescriptor> {
    if !policy.store {
        return None;
    }
    match file.nt_acl() {
        Ok(Some(bytes)) => SecurityDescriptor::decode(&bytes)
            .inspect_err(|_| {
                tracing::info!("ignoring a stored security descriptor that does not decode")
            })
            .ok(),
        Ok(None) => None,
        Err(status) => {
            tracing::debug!(?status, "cannot read security.NTACL");
            None
        }
    }
}

/// The descriptor of `file`: the stored one, else the one its POSIX attributes give (blocking).
pub fn current(
    policy: AclPolicy,
    file: &vfs::OpenFile,
    stat: &vfs::FileStat,
) -> SecurityDescriptor {
    stored(policy, file).unwrap_or_else(|| synthesize(stat))
}

/// Whether the user of `tree` (with `token`) may read `path`: the kernel lets it open the object for
/// reading and its stored DACL, if any, grants FILE_READ_DATA (FILE_LIST_DIRECTORY), FILE_READ_EA and
/// FILE_READ_ATTRIBUTES (blocking; access-based enumeration, `hide unreadable`).
pub fn readable(tree: &crate::session::Tree, token: &Token, path: &vfs::SmbPath) -> bool {
    let request = vfs::CreateRequest {
        read: true,
        kind: vfs::Kind::Any,
        ..vfs::CreateRequest::existing_directory()
    };
    let Ok((file, _)) = tree.vfs().and_then(|share| share.create(path, &request)) else {
        return false;
    };
    !file.is_metadata_only()
        && stored(tree.share.acls, &file).is_none_or(|sd| {
            use dtyp::access::mask::{FILE_READ_ATTRIBUTES, FILE_READ_DATA, FILE_READ_EA};
            let read = FILE_READ_DATA | FILE_READ_EA | FILE_READ_ATTRIBUTES;
            dtyp::access::maximal_access(&sd, token) & read == read
        })
}

/// Stores `sd` as the descriptor of `file` (blocking; the caller has checked the user's rights).
pub fn store(file: &vfs::OpenFile, sd: &SecurityDescriptor) -> Result<(), NtStatus> {
    let bytes = sd.encode().map_err(|_| NtStatus::INVALID_SECURITY_DESCR)?;
    file.set_nt_acl(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_of_a_unix_user() {
        let domain = Sid::parse("S-1-5-21-1-2-3").unwrap();
        let unix = vfs::Identity {
            uid: 1000,
            gid: 100,
            groups: vec![100, 27],
        };
        let t = token(&domain, &unix);
        assert_eq!(t.user.to_string(), "S-1-22-1-1000");
        let groups: Vec<String> = t.groups.iter().map(Sid::to_string).collect();
        assert_eq!(
            groups,
            [
                "S-1-22-2-100",
                "S-1-22-2-27",
                "S-1-1-0",
                "S-1-5-11",
                "S-1-5-21-1-2-3-3000"
            ]
        );
    }

    #[test]
    fn bad_descriptor_status() {
        assert_eq!(decode(&[1, 0]), Err(NtStatus::INVALID_SECURITY_DESCR));
    }
}
