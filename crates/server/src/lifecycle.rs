//! The one place where opens, tree connects, sessions and connections end (MS-SMB2 3.3.5.10 CLOSE,
//! 3.3.5.8 TREE_DISCONNECT, 3.3.5.6 LOGOFF, 3.3.7.1 connection loss; MS-FSA 2.1.5.4 cleanup).
//!
//! Every path follows the same order: take the entries out of the server-wide tables (so no new
//! request can find them), end the pending operations that wait on them (a CHANGE_NOTIFY completes
//! with STATUS_NOTIFY_CLEANUP, a blocking lock with STATUS_CANCELLED or nothing when the connection is
//! gone; see each handler), let the requests already working on a handle finish, then release the
//! open: its byte-range locks, its share access, and the file itself when it was the last open of a
//! delete-pending file.

use crate::blocking::run_as;
use crate::conn::Conn;
use crate::open::Open;
use crate::pending::{CancelReason, Scope};
use crate::session::{Session, Tree};
use crate::state::ServerState;
use std::sync::Arc;

/// CLOSE: `open` has already been taken out of the table by the caller.
pub async fn close(conn: &Conn, open: &Arc<Open>, reason: CancelReason) {
    conn.pending
        .cancel(Scope::Open(open.file_id.volatile), reason);
    // Let requests still working on the handle finish first.
    let _exclusive = Arc::clone(&open.busy).write_owned().await;
    release(&conn.server, open, Some(conn)).await;
}

/// A session with another channel (multichannel) survives the loss of its connection: it and its
/// opens move to that channel.
fn move_to_other_channels(conn: &Conn) {
    let server = &conn.server;
    for session in conn.sessions() {
        let to = {
            let mut inner = session.lock();
            // This connection may itself be a channel the session moved to before.
            inner.channels.remove(&conn.id);
            inner.channels.keys().next().copied()
        };
        let Some(to) = to else {
            continue;
        };
        server.sessions.rehome(session.id, to);
        for open in server.opens.of(conn.id) {
            if open.session_id == session.id {
                server.opens.rehome(open.file_id.volatile, to);
            }
        }
        tracing::info!(peer = %conn.peer, session = session.id, "session goes on over another channel");
    }
}

/// An open whose session or connection ends: kept if durable, else closed. Requests still working on
/// the handle finish first, whichever way it goes.
async fn close_or_keep(conn: &Conn, open: &Arc<Open>) {
    let _exclusive = Arc::clone(&open.busy).write_owned().await;
    if !crate::durable::keep(conn, open) {
        release(&conn.server, open, Some(conn)).await;
    }
}

/// A disconnected durable open ends (its timeout passed, or another open needs the file): closed as by
/// CLOSE. It has been taken out of the durable table by the caller. Returns true if that deleted the
/// file (it was the last open of a delete-pending file).
pub async fn close_disconnected(server: &ServerState, open: &Arc<Open>) -> bool {
    let _exclusive = Arc::clone(&open.busy).write_owned().await;
    release(server, open, None).await
}

/// Close every open of this connection for which `pred` holds.
async fn close_matching(conn: &Conn, reason: CancelReason, pred: impl Fn(&Open) -> bool) {
    for open in conn.server.opens.remove_matching(conn.id, pred) {
        close(conn, &open, reason).await;
    }
}

/// TREE_DISCONNECT (and a tree connect revoked by reload): the tree has been taken out of its session.
/// `conn` may be a further channel of the session `session_id`; see [`home`].
pub async fn tree_disconnect(conn: &Conn, session_id: u64, tree: &Arc<Tree>) {
    let home = home(conn, session_id);
    let home: &Conn = home.as_deref().unwrap_or(conn);
    close_matching(home, CancelReason::TreeClosed, |o| {
        Arc::ptr_eq(&o.tree, tree)
    })
    .await;
    for c in [conn, home] {
        c.pipes.remove_matching(|p| Arc::ptr_eq(&p.tree, tree));
    }
}

/// The connection that holds session `session_id`'s opens (the one that established it, or the one it
/// moved to) when that is not `conn`, a further channel of it (multichannel).
fn home(conn: &Conn, session_id: u64) -> Option<Arc<Conn>> {
    let (owner, _) = conn.server.sessions.get_any(session_id)?;
    (owner != conn.id)
        .then(|| conn.server.conns.find(owner))
        .flatten()
}

/// LOGOFF (and a session ended by its client's reconnect): the session's pending operations, opens,
/// pipes and tree connects end with it, but the durable opens, which are kept for their client to
/// reclaim from a new session, as Windows does (smbtorture smb2.durable-open.reopen4).
///
/// `conn` may be a further channel of the session; see [`home`].
pub async fn logoff(conn: &Conn, session: &Session) {
    let server = &conn.server;
    let home = home(conn, session.id);
    server.sessions.remove(session.id);
    let home: &Conn = home.as_deref().unwrap_or(conn);
    for c in [conn, home] {
        c.pending
            .cancel(Scope::Session(session.id), CancelReason::SessionClosed);
        c.pipes.remove_matching(|p| p.session_id == session.id);
    }
    let opens = server
        .opens
        .remove_matching(home.id, |o| o.session_id == session.id);
    for open in opens {
        close_or_keep(home, &open).await;
    }
    session.lock().trees.clear();
}

/// The connection is gone: nothing more is sent; its sessions end, and its opens too, but the durable
/// ones, which are kept for their client to reclaim ([`crate::durable`]).
pub async fn connection_lost(conn: &Conn) {
    conn.pending
        .cancel(Scope::All, CancelReason::ConnectionLost);
    move_to_other_channels(conn);
    for open in conn.server.opens.remove_matching(conn.id, |_| true) {
        close_or_keep(conn, &open).await;
    }
    // Sessions this connection was a further channel of go on without it.
    for id in conn.server.sessions.drop_channels(conn.id) {
        if let Some((_, session)) = conn.server.sessions.get_any(id) {
            session.lock().channels.remove(&conn.id);
        }
    }
    for session in conn.sessions() {
        conn.server.sessions.remove(session.id);
        session.lock().trees.clear();
    }
}

/// Drop an open from the file table; if it was the last open of a delete-pending file, delete the file.
/// `conn`, when the open still has one, gets back the byte-range locks it counted. Returns true if the
/// file was deleted.
async fn release(server: &ServerState, open: &Arc<Open>, conn: Option<&Conn>) -> bool {
    crate::write_time::closing(open).await;
    if open.written.load(std::sync::atomic::Ordering::Relaxed) {
        // smbtorture smb2.lease.v2_request: the close of a written file breaks its directory's
        // leases (what the directory lists has changed), unless it was opened under that lease.
        crate::breaks::dir_changed(server, &open.tree, &open.path(), open.parent_lease);
    }
    if open.delete_on_close() {
        open.node.set_delete_pending(true);
        if open.is_dir {
            server.notify.delete_pending(&open.node);
        }
    }
    let id = open.file_id.volatile;
    let held = open.node.locks().iter().filter(|l| l.open_id == id).count();
    match conn {
        Some(conn) => conn.release_locks(held),
        // A disconnected durable open's locks are counted by the server-wide budget only.
        None => server.budgets.release_locks(held),
    }
    // Drop the watch now: a watcher's own handle closing must not see its directory's removal.
    open.watch().take();
    crate::notify::unwatch_dir(server, open);
    let last_of_deleted = server.files.detach(&open.node, id);
    if held > 0 {
        open.node.grant_waiting_locks();
    }
    let stream = open.file.stream_name().is_some();
    // A stream's own delete removes the stream; its file, deleted while the stream was open, goes
    // with the last of its streams.
    let delete_stream = last_of_deleted && stream;
    let delete_object =
        (last_of_deleted && !stream) || server.files.base_delete_due(open.node.key());
    if !delete_stream && !delete_object {
        return false;
    }
    let (tree, path) = (Arc::clone(&open.tree), open.path());
    let file = Arc::clone(&open.file);
    let res = run_as(&open.unix, move || {
        if delete_stream {
            file.delete_stream()?;
        }
        match tree.share.vfs.as_ref() {
            Some(share) if delete_object => {
                let is_dir = file.object_is_dir();
                if is_dir && tree.share.names.delete_veto_files {
                    delete_vetoed(share, &tree.share.names, &file, &path);
                }
                share.unlink(&path, is_dir)
            }
            _ => Ok(()),
        }
    })
    .await;
    match res {
        Ok(()) if !delete_object => true,
        Ok(()) => {
            let path = open.path();
            crate::notify::removed(server, &open.tree, &path, open.is_dir);
            crate::breaks::dir_changed(server, &open.tree, &path, None);
            true
        }
        Err(status) => {
            tracing::info!(
                "delete on close of {} failed: {status}",
                open.path().as_unix()
            );
            false
        }
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

#[cfg(test)]
mod tests {
    //! The runtime's clock is paused (tokio's fake clock): nothing here waits on real time.
    use super::*;
    use crate::locks::ByteRangeLock;
    use crate::testing::Fixture;
    use std::time::Duration;

    fn lock(open: &Open, offset: u64) -> ByteRangeLock {
        ByteRangeLock {
            open_id: open.file_id.volatile,
            offset,
            length: 10,
            exclusive: true,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn close_ends_the_pending_operations_of_that_handle_only() {
        let f = Fixture::new();
        let (a, b) = (f.open("a"), f.open("b"));
        let (on_a, mut on_b) = (f.park(&a), f.park(&b));
        assert_eq!(f.conn.pending.len(), 2);
        f.server().opens.remove(a.file_id.volatile).unwrap();
        close(&f.conn, &a, CancelReason::HandleClosed).await;
        assert_eq!(on_a.await.unwrap(), CancelReason::HandleClosed);
        assert!(
            on_b.try_recv().is_err(),
            "the other handle's operation still waits"
        );
        assert_eq!(f.conn.pending.len(), 1);
        assert!(f.conn.open(b.file_id.volatile).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn connection_lost_while_pending_leaves_nothing_behind() {
        let f = Fixture::new();
        let a = f.open("a");
        a.node.locks().push(lock(&a, 0));
        assert!(f.conn.reserve_locks(1));
        let waits = [f.park(&a), f.park(&f.open("b"))];
        connection_lost(&f.conn).await;
        for w in waits {
            assert_eq!(w.await.unwrap(), CancelReason::ConnectionLost);
        }
        assert!(f.conn.pending.is_empty());
        assert!(f.conn.opens().is_empty());
        assert!(f.conn.sessions().is_empty());
        assert!(
            a.node.locks().is_empty(),
            "the byte-range locks are released"
        );
        assert!(f.session.lock().trees.is_empty());
        // Every lock this connection held was given back to its budget.
        assert!(f.conn.reserve_locks(
            usize::try_from(f.server().settings.limits.max_byte_range_locks).unwrap()
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn closing_the_holder_grants_the_parked_lock() {
        let f = Fixture::new();
        let (holder, waiter) = (f.open("a"), f.open("a"));
        assert!(holder.node.lock_or_wait(1, lock(&holder, 0)).is_ok());
        let granted = holder.node.lock_or_wait(2, lock(&waiter, 5)).unwrap_err();
        f.server().opens.remove(holder.file_id.volatile).unwrap();
        close(&f.conn, &holder, CancelReason::HandleClosed).await;
        granted.await.unwrap();
        let locks = waiter.node.locks();
        assert_eq!(locks.len(), 1);
        assert_eq!(
            locks.first().map(|l| l.open_id),
            Some(waiter.file_id.volatile)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn logoff_ends_the_session_and_its_waits() {
        let f = Fixture::new();
        let waits = f.park(&f.open("a"));
        let before = tokio::time::Instant::now();
        tokio::time::advance(Duration::from_secs(90)).await;
        let listed = f.conn.pending.list();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed.first().map(|p| p.since), Some(before));
        logoff(&f.conn, &f.session).await;
        assert_eq!(waits.await.unwrap(), CancelReason::SessionClosed);
        assert!(f.conn.session(f.session.id).is_none());
        assert!(f.conn.opens().is_empty());
    }
}
