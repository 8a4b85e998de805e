//! SMB2 command handlers, one file per command (MS-SMB2 3.3.5.3 to 3.3.5.22).
//!
//! A handler takes its request decoded once by [`run`], appends its response body to `out` (behind the header
//! the dispatcher reserved) and returns `Ok(status)` for a response with a body (usually SUCCESS) or
//! `Err(status)` for an error response, whose body the dispatcher writes.

use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::Request;
use proto::{Command, NtStatus};

pub mod cancel;
pub mod change_notify;
pub mod close;
pub mod create;
pub mod echo;
pub mod flush;
pub mod ioctl;
pub mod lock;
pub mod logoff;
pub mod negotiate;
pub mod oplock_break;
pub mod query_directory;
pub mod query_info;
pub mod read;
pub mod session_bind;
pub mod session_setup;
pub mod set_info;
pub mod tree_connect;
pub mod tree_disconnect;
pub mod write;

pub type HandlerResult = Result<NtStatus, NtStatus>;

/// Decode failures of a request body are STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.2.6).
pub fn bad_request(_: proto::DecodeError) -> NtStatus {
    NtStatus::INVALID_PARAMETER
}

/// Decode the request once (after the session, tree and signature checks of the dispatcher) and run the
/// handler of its command.
pub async fn run(cmd: Command, ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    if cmd == Command::Negotiate {
        negotiate::refuse_second(ctx)?;
    }
    let pdu = ctx.pdu;
    match Request::decode(cmd, pdu).map_err(bad_request)? {
        Request::Negotiate(req) => negotiate::handle(ctx, req, out),
        Request::SessionSetup(req) => session_setup::handle(ctx, req, out).await,
        Request::Logoff => logoff::handle(ctx, out).await,
        Request::TreeConnect(req) => tree_connect::handle(ctx, req, out),
        Request::TreeDisconnect => tree_disconnect::handle(ctx, out).await,
        Request::Create(req) => create::handle(ctx, req, out).await,
        Request::Close(req) => close::handle(ctx, req, out).await,
        Request::Flush(req) => flush::handle(ctx, req, out).await,
        Request::Read(req) => read::handle(ctx, req, out).await,
        Request::Write(req) => write::handle(ctx, req, out).await,
        Request::Lock(req) => lock::handle(ctx, req, out),
        Request::Ioctl(req) => ioctl::handle(ctx, req, out).await,
        Request::Echo => echo::handle(ctx, out),
        Request::QueryDirectory(req) => query_directory::handle(ctx, req, out).await,
        Request::ChangeNotify(req) => change_notify::handle(ctx, req, out).await,
        Request::QueryInfo(req) => query_info::handle(ctx, req, out).await,
        Request::SetInfo(req) => set_info::handle(ctx, req, out).await,
        Request::OplockBreak(req) => oplock_break::handle(ctx, req, out),
        // CANCEL never reaches a handler that responds; the dispatcher handles it.
        Request::Cancel => Err(NtStatus::INVALID_PARAMETER),
    }
}

/// Work that needs the finished response PDU: the 3.1.1 pre-authentication hash.
pub fn after_response(ctx: &mut Ctx<'_>, cmd: Command, status: NtStatus, resp: &[u8]) {
    match cmd {
        Command::Negotiate => negotiate::after_response(ctx, status, resp),
        Command::SessionSetup => session_setup::after_response(ctx, status, resp),
        _ => {}
    }
}
