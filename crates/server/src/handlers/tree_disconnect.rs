//! TREE_DISCONNECT (MS-SMB2 3.3.5.8): closes the tree connect's opens and forgets it.

use super::{bad_request, HandlerResult};
use crate::conn::Conn;
use crate::dispatch::Ctx;
use crate::session::Tree;
use bytes::BytesMut;
use proto::messages::tree_disconnect::{TreeDisconnectRequest, TreeDisconnectResponse};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

/// Closes the opens and pipes of a tree that has been taken out of its session.
pub async fn release(conn: &Conn, tree: &Arc<Tree>) {
    super::close::close_matching(conn, |o| Arc::ptr_eq(&o.tree, tree)).await;
    conn.pipes.remove_matching(|p| Arc::ptr_eq(&p.tree, tree));
}

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    TreeDisconnectRequest::decode(ctx.pdu).map_err(bad_request)?;
    let tree = ctx.tree()?.clone();
    ctx.session()?.lock().trees.remove(&tree.id);
    release(ctx.conn, &tree).await;
    TreeDisconnectResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}
