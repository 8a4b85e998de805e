//! LOCK (MS-SMB2 3.3.5.14): byte-range locks and unlocks through [`crate::locks`]. A request either
//! unlocks ranges or locks them; if one lock of a request fails, the ones it already took are released.
//! The locks a connection holds are bounded by `max byte range locks` (STATUS_INSUFFICIENT_RESOURCES).
//!
//! A blocking lock (one element without SMB2_LOCKFLAG_FAIL_IMMEDIATELY) that conflicts goes async
//! (MS-SMB2 3.3.5.14.2) and waits in the file's queue until its range frees ([`FileNode`]); CANCEL
//! ends it with STATUS_CANCELLED, the close of its handle, tree or session with
//! STATUS_RANGE_NOT_LOCKED (what Windows answers and smbtorture smb2.lock.cancel expects).
//!
//! [`FileNode`]: crate::files::FileNode

use super::HandlerResult;
use crate::conn::Conn;
use crate::dispatch::Ctx;
use crate::locks::{self, ByteRangeLock};
use crate::open::Open;
use crate::pending::{CancelReason, Final, Parked};
use bytes::BytesMut;
use proto::messages::create::access::{FILE_APPEND_DATA, FILE_READ_DATA, FILE_WRITE_DATA};
use proto::messages::lock::*;
use proto::messages::negotiate::CAP_MULTI_CHANNEL;
use proto::messages::Body;
use proto::NtStatus;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};

pub fn handle(ctx: &mut Ctx<'_>, req: LockRequest, out: &mut BytesMut) -> HandlerResult {
    let open = ctx.open(req.file_id)?;
    if open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !open.has_any_access(FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let sequence = lock_sequence(ctx, &req, &open);
    if let Some((index, number)) = sequence {
        let mut done = open
            .lock_sequences
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = done.get_mut(index) else {
            return Err(NtStatus::INTERNAL_ERROR);
        };
        if *slot == Some(number) {
            // A replay of a LOCK already applied (its response was lost): success, nothing done.
            LockResponse::default().encode(out, ctx.resp_start);
            return Ok(NtStatus::SUCCESS);
        }
        *slot = None;
    }
    let status = apply(ctx, &req, &open, out)?;
    if let Some((index, number)) = sequence.filter(|_| status == NtStatus::SUCCESS) {
        let mut done = open
            .lock_sequences
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = done.get_mut(index) {
            *slot = Some(number);
        }
    }
    Ok(status)
}

/// MS-SMB2 3.3.5.14: for a durable or resilient open, or any open on a connection that may be one
/// channel of several (multichannel, where a LOCK may be replayed on another channel),
/// LockSequenceIndex (1 to 64, as an index into Open.LockSequenceArray) and LockSequenceNumber;
/// other LOCKs are not tracked.
fn lock_sequence(ctx: &Ctx<'_>, req: &LockRequest, open: &Open) -> Option<(usize, u8)> {
    let index = usize::try_from(req.lock_sequence >> 4).ok()?;
    let number = u8::try_from(req.lock_sequence & 0xF).ok()?;
    let multichannel = ctx
        .conn
        .negotiated()
        .is_some_and(|n| n.server_capabilities & CAP_MULTI_CHANNEL != 0);
    let tracked = open.durable.is_some() || open.resilient.load(Ordering::Relaxed) || multichannel;
    (tracked && (1..=64).contains(&index)).then(|| (index - 1, number))
}

/// Take or release the ranges of the request.
fn apply(
    ctx: &mut Ctx<'_>,
    req: &LockRequest,
    open: &Arc<Open>,
    out: &mut BytesMut,
) -> HandlerResult {
    let unlocking = req
        .locks
        .first()
        .is_some_and(|l| l.flags & LOCKFLAG_UNLOCK != 0);
    let id = open.file_id.volatile;
    let mut table = open.node.locks();
    if unlocking {
        let result = req.locks.iter().try_for_each(|l| {
            if l.flags != LOCKFLAG_UNLOCK {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            locks::unlock(&mut table, id, l.offset, l.length)?;
            ctx.conn.release_locks(1);
            Ok(())
        });
        drop(table);
        open.node.grant_waiting_locks();
        result?;
    } else {
        if !ctx.conn.reserve_locks(req.locks.len()) {
            tracing::info!(peer = %ctx.conn.peer, "lock refused: max byte range locks");
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        let taken_before = table.len();
        let result = req.locks.iter().try_for_each(|l| {
            let exclusive = lock_kind(l.flags, req.locks.len())?;
            locks::check_range(l.offset, l.length)?;
            locks::try_lock(
                &mut table,
                ByteRangeLock {
                    open_id: id,
                    offset: l.offset,
                    length: l.length,
                    exclusive,
                },
            )
        });
        if let Err(status) = result {
            // New locks were appended at the end: drop exactly those.
            table.truncate(taken_before);
            drop(table);
            let waits = blocking(req).filter(|_| status == NtStatus::LOCK_NOT_GRANTED);
            if let Some(lock) = waits {
                return wait(ctx, out, open, lock);
            }
            ctx.conn.release_locks(req.locks.len());
            return Err(status);
        }
        drop(table);
        // A byte-range lock ends level II oplocks like a write (smbtorture smb2.oplock.brl3).
        crate::breaks::data_changed(&ctx.conn.server, open);
    }
    LockResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// The one lock of a request that may wait (a single element without FAIL_IMMEDIATELY).
fn blocking(req: &LockRequest) -> Option<&LockElement> {
    match req.locks.as_slice() {
        [l] if l.flags & LOCKFLAG_FAIL_IMMEDIATELY == 0 => Some(l),
        _ => None,
    }
}

/// Queue the lock in the file's waiters and go async (or take it at once if its range freed since).
fn wait(ctx: &mut Ctx<'_>, out: &mut BytesMut, open: &Open, l: &LockElement) -> HandlerResult {
    let (node, open_id) = (Arc::clone(&open.node), open.file_id.volatile);
    let lock = ByteRangeLock {
        open_id,
        offset: l.offset,
        length: l.length,
        exclusive: l.flags & LOCKFLAG_EXCLUSIVE_LOCK != 0,
    };
    let waiter = ctx.conn.server.next_id();
    let granted = match node.lock_or_wait(waiter, lock) {
        Ok(()) => {
            LockResponse::default().encode(out, ctx.resp_start);
            return Ok(NtStatus::SUCCESS);
        }
        Err(rx) => rx,
    };
    let conn = Arc::downgrade(ctx.conn);
    let file = format!("{} [{}+{}]", open.path(), l.offset, l.length);
    ctx.park(Parked::new(
        Some(open_id),
        file,
        move |mut cancelled| async move {
            let mut granted = granted;
            let status = tokio::select! {
                r = &mut granted => if r.is_ok() { NtStatus::SUCCESS } else {
                    give_back(&conn);
                    NtStatus::RANGE_NOT_LOCKED
                },
                reason = cancelled.reason() => {
                    node.withdraw_waiter(waiter);
                    // Withdrawing and granting take the same lock: the lock was granted or never will be.
                    if granted.try_recv().is_ok() {
                        NtStatus::SUCCESS
                    } else {
                        give_back(&conn);
                        cancelled_status(reason)?
                    }
                }
            };
            if status != NtStatus::SUCCESS {
                return Some(Final::error(status));
            }
            Some(Final::with_body(status, |w, start| {
                LockResponse::default().encode(w, start)
            }))
        },
    ))
}

/// How a waiting lock ends when it is cancelled (None: the connection is gone, nothing is sent):
/// CANCEL gives STATUS_CANCELLED, CLOSE of its handle STATUS_RANGE_NOT_LOCKED; a tree disconnect or
/// logoff answers STATUS_SUCCESS, as Windows does (smbtorture smb2.lock.cancel-tdis, cancel-logoff).
fn cancelled_status(reason: CancelReason) -> Option<NtStatus> {
    match reason {
        CancelReason::Cancel => Some(NtStatus::CANCELLED),
        CancelReason::HandleClosed => Some(NtStatus::RANGE_NOT_LOCKED),
        CancelReason::TreeClosed | CancelReason::SessionClosed => Some(NtStatus::SUCCESS),
        CancelReason::ConnectionLost => None,
    }
}

/// A lock that was never taken gives its place under `max byte range locks` back.
fn give_back(conn: &Weak<Conn>) {
    if let Some(c) = conn.upgrade() {
        c.release_locks(1);
    }
}

/// MS-SMB2 3.3.5.14.2: each element is SHARED or EXCLUSIVE, optionally with FAIL_IMMEDIATELY; several
/// elements in one request must all fail immediately.
fn lock_kind(flags: u32, count: usize) -> Result<bool, NtStatus> {
    let immediate = flags & LOCKFLAG_FAIL_IMMEDIATELY != 0;
    if count > 1 && !immediate {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    match flags & !LOCKFLAG_FAIL_IMMEDIATELY {
        LOCKFLAG_SHARED_LOCK => Ok(false),
        LOCKFLAG_EXCLUSIVE_LOCK => Ok(true),
        _ => Err(NtStatus::INVALID_PARAMETER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_flags() {
        assert_eq!(lock_kind(LOCKFLAG_SHARED_LOCK, 1), Ok(false));
        assert_eq!(
            lock_kind(LOCKFLAG_EXCLUSIVE_LOCK | LOCKFLAG_FAIL_IMMEDIATELY, 2),
            Ok(true)
        );
        assert_eq!(
            lock_kind(LOCKFLAG_EXCLUSIVE_LOCK, 2),
            Err(NtStatus::INVALID_PARAMETER)
        );
        assert_eq!(
            lock_kind(LOCKFLAG_SHARED_LOCK | LOCKFLAG_EXCLUSIVE_LOCK, 1),
            Err(NtStatus::INVALID_PARAMETER)
        );
        assert_eq!(lock_kind(0, 1), Err(NtStatus::INVALID_PARAMETER));
    }
}
