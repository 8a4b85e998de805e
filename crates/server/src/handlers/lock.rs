//! LOCK (MS-SMB2 3.3.5.14): byte-range locks and unlocks through [`crate::locks`]. A request either
//! unlocks ranges or locks them; if one lock of a request fails, the ones it already took are released.
//! The locks a connection holds are bounded by `max byte range locks` (STATUS_INSUFFICIENT_RESOURCES).
//!
//! Blocking locks (without SMB2_LOCKFLAG_FAIL_IMMEDIATELY) need the asynchronous STATUS_PENDING
//! machinery that comes with a later issue; until then a conflicting blocking lock fails at once with
//! STATUS_LOCK_NOT_GRANTED, so no client waits forever and no data is left unprotected.

use super::{bad_request, HandlerResult};
use crate::dispatch::Ctx;
use crate::locks::{self, ByteRangeLock};
use bytes::BytesMut;
use proto::messages::create::access::{FILE_APPEND_DATA, FILE_READ_DATA, FILE_WRITE_DATA};
use proto::messages::lock::*;
use proto::messages::Body;
use proto::NtStatus;

pub fn handle(ctx: &mut Ctx<'_>, out: &mut BytesMut) -> HandlerResult {
    let req = LockRequest::decode(ctx.pdu).map_err(bad_request)?;
    let open = ctx.open(req.file_id)?;
    if open.is_dir {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !open.has_any_access(FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let unlocking = req
        .locks
        .first()
        .is_some_and(|l| l.flags & LOCKFLAG_UNLOCK != 0);
    let id = open.file_id.volatile;
    let mut table = open.node.locks();
    if unlocking {
        for l in &req.locks {
            if l.flags != LOCKFLAG_UNLOCK {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            locks::unlock(&mut table, id, l.offset, l.length)?;
            ctx.conn.release_locks(1);
        }
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
            ctx.conn.release_locks(req.locks.len());
            return Err(status);
        }
    }
    drop(table);
    LockResponse::default().encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
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
