//! TREE_DISCONNECT (MS-SMB2 3.3.5.8): closes the tree connect's opens and forgets it.

use super::{bad_request, HandlerResult};
use crate::dispatch::Ctx;
use bytes::BytesMut;
use proto::messages::tree_disconnect::{TreeDisconnectRequest, TreeDisconnectResponse};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    TreeDisconnectRequest::decode(ctx.pdu).map_err(bad_request)?;
    let tree = ctx.tree()?.clone();
    ctx.session()?.lock().trees.remove(&tree.id);
    super::close::close_matching(ctx.conn, |o| Arc::ptr_eq(&o.tree, &tree)).await;
    ctx.conn
        .pipes
        .remove_matching(|p| Arc::ptr_eq(&p.tree, &tree));
    TreeDisconnectResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
