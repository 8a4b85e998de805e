//! rsmbd-rpc: connection-oriented DCE/RPC over SMB named pipes (C706 chapter 12, MS-RPCE) with the srvsvc
//! (MS-SRVS) and wkssvc (MS-WKST) services that share browsing needs.
//!
//! The server opens a [`Pipe`] with [`open_pipe`] when a client creates `\PIPE\srvsvc` or `\PIPE\wkssvc` on IPC$,
//! feeds it the bytes of SMB2 WRITE / FSCTL_PIPE_TRANSCEIVE and drains responses with SMB2 READ. Everything the
//! services report about the server comes from a [`Provider`].
#![forbid(unsafe_code)]

mod bind;
pub mod ndr;
pub mod pdu;
mod pipe;
mod services;
mod srvsvc;
#[cfg(test)]
mod tests;
mod wkssvc;

use std::sync::Arc;

pub use pipe::{Pipe, MAX_BUFFERED};

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

/// The server's view of itself and of the shares the calling user may see (the server does the filtering).
pub trait Provider: Send + Sync {
    fn server(&self) -> ServerInfo;
    fn shares(&self) -> Vec<ShareInfo>;
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

/// Opens a named pipe by name (case-insensitive, without the `\PIPE\` prefix): "srvsvc" or "wkssvc". Any other
/// name returns `None` (the server answers STATUS_OBJECT_NAME_NOT_FOUND).
pub fn open_pipe(name: &str, provider: Arc<dyn Provider>) -> Option<Pipe> {
    let interface = services::Interface::from_pipe_name(name)?;
    Some(Pipe::new(interface, provider))
}
