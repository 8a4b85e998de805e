//! TREE_DISCONNECT (MS-SMB2 3.3.5.8): closes the tree connect's opens and forgets it.

use super::HandlerResult;
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::tree_disconnect::TreeDisconnectResponse;
use proto::messages::Body;
use proto::NtStatus;

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    let tree = ctx.tree()?.clone();
    let session = ctx.session()?;
    session.lock().trees.remove(&tree.id);
    let session_id = session.id;
    crate::lifecycle::tree_disconnect(ctx.conn, session_id, &tree).await;
    TreeDisconnectResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
