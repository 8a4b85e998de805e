//! LOGOFF (MS-SMB2 3.3.5.6): ends the session, closing its opens and tree connects.

use super::{bad_request, HandlerResult};
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::logoff::{LogoffRequest, LogoffResponse};
use proto::messages::Body;
use proto::NtStatus;

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    LogoffRequest::decode(ctx.pdu).map_err(bad_request)?;
    let session = ctx.session()?.clone();
    ctx.conn.sessions().remove(&session.id);
    super::close::close_matching(ctx.conn, |o| o.session_id == session.id).await;
    ctx.conn
        .pipes
        .remove_matching(|p| p.session_id == session.id);
    session.lock().trees.clear();
    LogoffResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
