//! SMB2 command handlers, one file per command (MS-SMB2 3.3.5.3 to 3.3.5.22).
//!
//! A handler decodes its request from `ctx.pdu`, appends its response body to `out` (behind the header
//! the dispatcher reserved) and returns `Ok(status)` for a response with a body (usually SUCCESS) or
//! `Err(status)` for an error response, whose body the dispatcher writes.

use crate::dispatch::Ctx;
use bytes::BytesMut;
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

pub async fn run(cmd: Command, ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    match cmd {
        Command::Negotiate => negotiate::handle(ctx, out),
        Command::SessionSetup => session_setup::handle(ctx, out).await,
        Command::Logoff => logoff::handle(ctx, out).await,
        Command::TreeConnect => tree_connect::handle(ctx, out),
        Command::TreeDisconnect => tree_disconnect::handle(ctx, out).await,
        Command::Create => create::handle(ctx, out).await,
        Command::Close => close::handle(ctx, out).await,
        Command::Flush => flush::handle(ctx, out).await,
        Command::Read => read::handle(ctx, out).await,
        Command::Write => write::handle(ctx, out).await,
        Command::Lock => lock::handle(ctx, out),
        Command::Ioctl => ioctl::handle(ctx, out).await,
        Command::Echo => echo::handle(ctx, out),
        Command::QueryDirectory => query_directory::handle(ctx, out).await,
        Command::ChangeNotify => change_notify::handle(ctx, out).await,
        Command::QueryInfo => query_info::handle(ctx, out).await,
        Command::SetInfo => set_info::handle(ctx, out).await,
        Command::OplockBreak => oplock_break::handle(ctx, out),
        // CANCEL never reaches a handler that responds; the dispatcher handles it.
        Command::Cancel => Err(NtStatus::INVALID_PARAMETER),
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
