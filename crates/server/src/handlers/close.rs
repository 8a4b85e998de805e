//! CLOSE (MS-SMB2 3.3.5.10), and the release of opens when a tree, session or connection ends:
//! delete-on-close and delete-pending files are removed when their last open goes (MS-FSA 2.1.5.4).

use super::{bad_request, HandlerResult};
use crate::blocking::run_as;
use crate::conn::Conn;
use crate::dispatch::Ctx;
use crate::open::Open;
use bytes::BytesMut;
use proto::messages::close::{CloseRequest, CloseResponse, POSTQUERY_ATTRIB};
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;

pub async fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    let req = CloseRequest::decode(ctx.pdu).map_err(bad_request)?;
    if ctx.on_ipc() {
        let p = ctx.pipe(req.file_id)?;
        ctx.conn.pipes.remove(p.file_id.volatile);
        CloseResponse::default().encode(out, ctx.resp_start);
        return Ok(NtStatus::SUCCESS);
    }
    let (open, _exclusive) = ctx.open_for_close(req.file_id).await?;
    let stat = if req.flags & POSTQUERY_ATTRIB != 0 {
        let f = Arc::clone(&open.file);
        run_as(&open.unix, move || f.stat()).await.ok()
    } else {
        None
    };
    release(ctx.conn, &open).await;
    let resp = match stat {
        Some(s) => CloseResponse {
            flags: POSTQUERY_ATTRIB,
            creation_time: s.creation_time,
            last_access_time: s.last_access_time,
            last_write_time: s.last_write_time,
            change_time: s.change_time,
            allocation_size: s.alloc_size,
            end_of_file: s.end_of_file(),
            file_attributes: open
                .tree
                .share
                .names
                .attributes(&s, open.path().file_name()),
        },
        None => CloseResponse::default(),
    };
    resp.encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// Drop an open from the file table; if it was the last open of a delete-pending file, delete the file.
pub async fn release(conn: &Conn, open: &Arc<Open>) {
    if open.delete_on_close() {
        open.node.set_delete_pending(true);
    }
    let id = open.file_id.volatile;
    let held = open.node.locks().iter().filter(|l| l.open_id == id).count();
    conn.release_locks(held);
    if !conn.server.files.detach(&open.node, id) {
        return;
    }
    let (tree, path, is_dir) = (Arc::clone(&open.tree), open.path(), open.is_dir);
    let file = Arc::clone(&open.file);
    let res = run_as(&open.unix, move || match tree.share.vfs.as_ref() {
        Some(share) => {
            if is_dir && tree.share.names.delete_veto_files {
                delete_vetoed(share, &tree.share.names, &file, &path);
            }
            share.unlink(&path, is_dir)
        }
        None => Ok(()),
    })
    .await;
    if let Err(status) = res {
        tracing::info!(
            "delete on close of {} failed: {status}",
            open.path().as_unix()
        );
    }
}

/// `delete veto files`: removes the vetoed entries of a directory about to be deleted (best effort; what
/// cannot be removed makes the directory's own removal fail with DIRECTORY_NOT_EMPTY).
fn delete_vetoed(
    share: &vfs::Share,
    names: &crate::names::NameFilter,
    dir: &vfs::OpenFile,
    path: &vfs::SmbPath,
) {
    let Ok(mut entries) = dir.read_dir() else {
        return;
    };
    while let Some(Ok(e)) = entries.next_entry() {
        if e.name != "." && e.name != ".." && names.is_vetoed(&e.name) {
            if let Ok(p) = path.join(&e.name) {
                let _ = share.unlink(&p, e.stat.is_dir);
            }
        }
    }
}

/// Close every open of this connection for which `pred` holds (tree disconnect, logoff, disconnect).
pub async fn close_matching(conn: &Conn, pred: impl Fn(&Open) -> bool) {
    let victims: Vec<Arc<Open>> = {
        let mut opens = conn.opens();
        let ids: Vec<u64> = opens
            .iter()
            .filter(|(_, o)| pred(o))
            .map(|(id, _)| *id)
            .collect();
        ids.iter().filter_map(|id| opens.remove(id)).collect()
    };
    for open in victims {
        // Let requests still working on the handle finish first.
        let _exclusive = Arc::clone(&open.busy).write_owned().await;
        release(conn, &open).await;
    }
}

pub async fn close_all(conn: &Conn) {
    close_matching(conn, |_| true).await;
}
