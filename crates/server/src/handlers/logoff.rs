//! LOGOFF (MS-SMB2 3.3.5.6): ends the session, closing its opens and tree connects.

use super::HandlerResult;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::logoff::LogoffResponse;
use proto::messages::Body;
use proto::NtStatus;

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    let session = ctx.session()?.clone();
    crate::lifecycle::logoff(ctx.conn, &session).await;
    LogoffResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
