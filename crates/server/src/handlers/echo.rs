//! ECHO (MS-SMB2 3.3.5.4... 3.3.5.13 Receiving an SMB2 ECHO Request).

use super::HandlerResult;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::echo::EchoResponse;
use proto::messages::Body;
use proto::NtStatus;

pub fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    EchoResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
