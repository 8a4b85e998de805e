//! CHANGE_NOTIFY (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.10): waits for changes in a directory through the
//! handle's [`crate::notify::Watch`]. Completes at once when changes are queued, else goes async; the
//! pending request ends with the changes, STATUS_NOTIFY_ENUM_DIR (they did not fit), STATUS_CANCELLED
//! (CANCEL), STATUS_NOTIFY_CLEANUP (the handle, tree or session closed) or STATUS_DELETE_PENDING (the
//! directory is being deleted).

use super::HandlerResult;
use crate::dispatch::Ctx;
use crate::notify::{kernel, Batch, FirstRequest, Watch};
use crate::open::Open;
use crate::pending::{CancelReason, Final, Parked};
use crate::state::ServerState;
use bytes::BytesMut;
use proto::messages::change_notify::{ChangeNotifyRequest, ChangeNotifyResponse, WATCH_TREE};
use proto::messages::create::access::FILE_LIST_DIRECTORY;
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;
use tokio::sync::oneshot;

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: ChangeNotifyRequest,
    out: &mut BytesMut,
) -> HandlerResult {
    if req.output_buffer_length > ctx.conn.server.settings.max_trans {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let open = ctx.open(req.file_id)?;
    if !open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !open.has_access(FILE_LIST_DIRECTORY) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if !open.tree.share.change_notify {
        return Err(NtStatus::NOT_IMPLEMENTED);
    }
    if open.node.delete_pending() {
        return Err(NtStatus::DELETE_PENDING);
    }
    let watch = watch_of(&ctx.conn.server, &open, &req).await?;
    let server = &ctx.conn.server;
    let waiter = server.next_id();
    let len = usize::try_from(req.output_buffer_length).unwrap_or(usize::MAX);
    let mut rx = watch.wait(waiter, len);
    if let Ok(batch) = rx.try_recv() {
        return respond_now(batch, out, ctx.resp_start);
    }
    let file = open.path().to_string();
    ctx.park(Parked::new(
        Some(open.file_id.volatile),
        file,
        move |mut cancelled| async move {
            tokio::select! {
                batch = &mut rx => Some(finish(batch)),
                reason = cancelled.reason() => {
                    watch.withdraw(waiter);
                    ended(reason)
                }
            }
        },
    ))
}

/// The handle's watch; a new one is also watched from the kernel (`kernel change notify`) before the
/// request waits, so no change made on disk after this request can be missed.
async fn watch_of(
    server: &Arc<ServerState>,
    open: &Arc<Open>,
    req: &ChangeNotifyRequest,
) -> Result<Arc<Watch>, NtStatus> {
    let share = open.tree.vfs()?;
    let first = FirstRequest {
        id: server.next_id(),
        filter: req.completion_filter,
        tree: req.flags & WATCH_TREE != 0,
        max_len: usize::try_from(req.output_buffer_length).unwrap_or(usize::MAX),
    };
    let tree = first.tree;
    let (watch, new) = server.notify.watch(open, share.root_path(), first);
    if !new || !server.settings.kernel_change_notify {
        return Ok(watch);
    }
    let Some(k) = server.notify.kernel.get(server) else {
        return Ok(watch);
    };
    watch.set_kernel(Arc::clone(&k));
    let owner = kernel::Owner {
        id: watch.id(),
        unix: Arc::clone(&open.unix),
    };
    let (entry, path, file) = (Arc::clone(&open.tree), open.path(), Arc::clone(&open.file));
    let _ = crate::blocking::run_as(&open.unix, move || {
        let share = entry.vfs()?;
        if tree {
            kernel::add_tree(&k, &[owner], share, &path, Some(&file));
        } else {
            k.add(&owner, share.root_path(), &path, &*file, false);
        }
        Ok(())
    })
    .await;
    Ok(watch)
}

fn respond_now(batch: Batch, out: &mut BytesMut, resp_start: usize) -> HandlerResult {
    let changes = batch?;
    let list = crate::notify::encode(&changes);
    ChangeNotifyResponse { buffer: &list }.encode(out, resp_start);
    Ok(NtStatus::SUCCESS)
}

/// The final response of a request that waited for changes.
fn finish(batch: Result<Batch, oneshot::error::RecvError>) -> Final {
    match batch {
        Ok(Ok(changes)) => {
            let list = crate::notify::encode(&changes);
            Final::with_body(NtStatus::SUCCESS, |w, start| {
                ChangeNotifyResponse { buffer: &list }.encode(w, start)
            })
        }
        Ok(Err(status)) => Final::error(status),
        Err(_) => Final::error(NtStatus::NOTIFY_CLEANUP),
    }
}

/// MS-SMB2 3.3.5.16 and 3.3.4.1: CANCEL ends it with STATUS_CANCELLED, the end of its handle, tree or
/// session with STATUS_NOTIFY_CLEANUP; a lost connection gets nothing.
fn ended(reason: CancelReason) -> Option<Final> {
    match reason {
        CancelReason::Cancel => Some(Final::error(NtStatus::CANCELLED)),
        CancelReason::HandleClosed | CancelReason::TreeClosed | CancelReason::SessionClosed => {
            Some(Final::error(NtStatus::NOTIFY_CLEANUP))
        }
        CancelReason::ConnectionLost => None,
    }
}
