//! rsmbd-dtyp: the Windows security data types of MS-DTYP, pure and I/O-free: security identifiers
//! (2.4.2), ACEs (2.4.4), ACLs (2.4.5) and self-relative security descriptors (2.4.6) with every length,
//! offset and count checked on decode; the access check algorithm (2.5.3.2) over a token of SIDs; and
//! the inheritance of a new object's descriptor from its parent's (2.5.3.4).
#![forbid(unsafe_code)]

pub mod access;
pub mod ace;
pub mod acl;
mod bytes;
pub mod inherit;
pub mod sd;
pub mod sid;
#[cfg(test)]
mod tests;

pub use ace::Ace;
pub use acl::Acl;
pub use sd::SecurityDescriptor;
pub use sid::Sid;

/// A security descriptor, ACL, ACE or SID that does not decode: SMB answers it with
/// STATUS_INVALID_SECURITY_DESCR (MS-SMB2 3.3.5.21.3, MS-FSA 2.1.5.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid security descriptor")
    }
}

impl std::error::Error for Invalid {}
