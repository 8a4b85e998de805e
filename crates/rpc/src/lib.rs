//! rsmbd-rpc: connection-oriented DCE/RPC over SMB named pipes (C706 chapter 12, MS-RPCE) with the services
//! share browsing and account lookups need.
//!
//! The server opens a [`Pipe`] with [`open_pipe`] when a client creates `\PIPE\<name>` on IPC$, feeds it the
//! bytes of SMB2 WRITE / FSCTL_PIPE_TRANSCEIVE and drains responses with SMB2 READ. Everything the services
//! report about the server and its accounts comes from a [`Provider`].
//!
//! | pipe | interface | operations (opnum) |
//! |---|---|---|
//! | srvsvc | MS-SRVS 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0 | NetrShareEnum (15), NetrShareGetInfo (16), NetrServerGetInfo (21) |
//! | wkssvc | MS-WKST 6bffd098-a112-3610-9833-46c3f87e345a v1.0 | NetrWkstaGetInfo (0) |
//! | lsarpc, lsass | MS-LSAD / MS-LSAT 12345778-1234-abcd-ef00-0123456789ab v0.0 | LsarClose (0), LsarOpenPolicy (6), LsarQueryInformationPolicy (7; classes 3, 5, 12), LsarLookupNames (14), LsarLookupSids (15), LsarOpenPolicy2 (44), LsarGetUserName (45), LsarQueryInformationPolicy2 (46), LsarLookupSids2 (57), LsarLookupNames3 (68), LsarLookupSids3 (76), LsarLookupNames4 (77) |
//! | samr | MS-SAMR 12345778-1234-abcd-ef00-0123456789ac v1.0 | SamrConnect (0), SamrCloseHandle (1), SamrQuerySecurityObject (3), SamrLookupDomainInSamServer (5), SamrEnumerateDomainsInSamServer (6), SamrOpenDomain (7), SamrQueryInformationDomain (8; classes 1, 2, 3, 8, 12), SamrEnumerateUsersInDomain (13), SamrGetAliasMembership (16), SamrLookupNamesInDomain (17), SamrLookupIdsInDomain (18), SamrOpenUser (34), SamrQueryInformationUser (36; classes 1, 2, 3, 5, 16, 21), SamrGetGroupsForUser (39), SamrQueryInformationDomain2 (46), SamrQueryInformationUser2 (47), SamrConnect2 (57), SamrConnect4 (62), SamrConnect5 (64) |
//!
//! Other opnums fault with nca_s_op_rng_error, stubs that do not decode with RPC_X_BAD_STUB_DATA. lsarpc and
//! samr keep their context handles per pipe (at most 64). Accounts map to SIDs algorithmically: see the
//! `accounts` module (user RID = 1000 + 2 * uid, group RID = 1001 + 2 * gid, the domain is the NetBIOS name with
//! the provider's machine SID, BUILTIN is S-1-5-32).
#![forbid(unsafe_code)]

mod accounts;
mod bind;
mod handles;
mod lsa_lookup;
mod lsarpc;
pub mod ndr;
mod ntstatus;
pub mod pdu;
mod pipe;
mod samr;
mod samr_user;
mod services;
mod sid;
mod srvsvc;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lsa;
#[cfg(test)]
mod tests_samr;
mod wkssvc;

use std::sync::Arc;

pub use accounts::user_rid;
pub use pipe::{Pipe, MAX_BUFFERED};
pub use sid::{RpcSid, Sid};

/// What the services need to know about the server itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    pub netbios_name: String,
    pub workgroup: String,
    /// The "server string" shown as the server's comment.
    pub comment: String,
    /// 10 for Windows 10 / Server 2016 and later.
    pub version_major: u32,
    pub version_minor: u32,
}

/// One share as srvsvc reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareInfo {
    pub name: String,
    pub comment: String,
    pub kind: ShareKind,
    /// Local path shown at levels 2 and 502; the server may leave it empty for non-administrators.
    pub path: String,
    /// 0xFFFFFFFF means unlimited.
    pub max_uses: u32,
    pub current_uses: u32,
}

/// The share type (MS-SRVS 2.2.2.4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShareKind {
    Disk,
    Ipc,
}

/// STYPE_SPECIAL (MS-SRVS 2.2.2.4): set for administrative and hidden shares, whose names end in '$'.
const STYPE_SPECIAL: u32 = 0x8000_0000;

impl ShareInfo {
    /// The `shi*_type` value: STYPE_DISKTREE (0) or STYPE_IPC (3), plus STYPE_SPECIAL for names ending in '$'.
    pub fn share_type(&self) -> u32 {
        let base = match self.kind {
            ShareKind::Disk => 0,
            ShareKind::Ipc => 3,
        };
        if self.name.ends_with('$') {
            base | STYPE_SPECIAL
        } else {
            base
        }
    }
}

/// One account of the password database, as lsarpc and samr report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    /// The Unix uid; the account's RID is 1000 + 2 * uid.
    pub uid: u32,
    pub disabled: bool,
}

/// The server's view of itself, of the shares the calling user may see (the server does the filtering) and of
/// its accounts.
pub trait Provider: Send + Sync {
    fn server(&self) -> ServerInfo;
    fn shares(&self) -> Vec<ShareInfo>;
    /// The machine domain SID (S-1-5-21-x-y-z), stable across restarts; the server stores it.
    fn domain_sid(&self) -> Sid;
    /// Accounts of the password database.
    fn users(&self) -> Vec<UserInfo>;
    /// The account name of the authenticated caller, for LsarGetUserName; `None` (the default) makes that call
    /// fail with STATUS_ACCESS_DENIED.
    fn caller(&self) -> Option<String> {
        None
    }
}

/// Why the pipe cannot go on; the server answers STATUS_INVALID_PARAMETER and may close the pipe.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RpcError {
    /// A PDU that is not well formed (bad version, lengths that do not add up, fragments out of order).
    Malformed,
    /// More than [`MAX_BUFFERED`] bytes would be buffered.
    TooLarge,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RpcError::Malformed => "malformed DCE/RPC PDU",
            RpcError::TooLarge => "DCE/RPC input too large",
        })
    }
}

impl std::error::Error for RpcError {}

/// Opens a named pipe by name (case-insensitive, without the `\PIPE\` prefix): "srvsvc", "wkssvc", "lsarpc" (or
/// "lsass") or "samr". Any other name returns `None` (the server answers STATUS_OBJECT_NAME_NOT_FOUND).
pub fn open_pipe(name: &str, provider: Arc<dyn Provider>) -> Option<Pipe> {
    let interface = services::Interface::from_pipe_name(name)?;
    Some(Pipe::new(interface, provider))
}

/// Whether [`open_pipe`] knows the pipe `name`.
pub fn pipe_exists(name: &str) -> bool {
    services::Interface::from_pipe_name(name).is_some()
}
