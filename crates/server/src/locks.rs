//! Byte-range locks of one file (MS-FSA 2.1.5.7 "Server Requests a Byte-Range Lock", 2.1.5.8 unlock,
//! 2.1.4.10 "Algorithm to Check for an Access Conflict with Byte-Range Locks").
//!
//! The list is per file and shared by every open of it; each lock remembers the open that holds it.
//! Zero-length ranges are legal: one at X conflicts only with a range that holds X strictly inside it,
//! and never with another zero-length range (as Windows and smbtorture smb2.lock.zerobytelength
//! expect).

use proto::NtStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRangeLock {
    pub open_id: u64,
    pub offset: u64,
    pub length: u64,
    pub exclusive: bool,
}

impl ByteRangeLock {
    /// Whether this lock's range and `[offset, offset + length)` conflict as ranges.
    fn overlaps(&self, offset: u64, length: u64) -> bool {
        let end = |o: u64, l: u64| u128::from(o) + u128::from(l);
        let inside = |x: u64, o: u64, l: u64| o < x && u128::from(x) < end(o, l);
        match (self.length, length) {
            (0, 0) => false,
            (0, _) => inside(self.offset, offset, length),
            (_, 0) => inside(offset, self.offset, self.length),
            _ => {
                u128::from(self.offset) < end(offset, length)
                    && u128::from(offset) < end(self.offset, self.length)
            }
        }
    }
}

/// MS-SMB2 3.3.5.14: a range whose last byte would lie beyond 2^64 - 1 is STATUS_INVALID_LOCK_RANGE.
pub fn check_range(offset: u64, length: u64) -> Result<(), NtStatus> {
    if length > 0 && offset.checked_add(length - 1).is_none() {
        return Err(NtStatus::INVALID_LOCK_RANGE);
    }
    Ok(())
}

/// Try to add `new`; an exclusive request conflicts with any overlapping lock, a shared one with
/// overlapping exclusive locks held through other opens.
pub fn try_lock(locks: &mut Vec<ByteRangeLock>, new: ByteRangeLock) -> Result<(), NtStatus> {
    let conflict = locks.iter().any(|l| {
        l.overlaps(new.offset, new.length)
            && (new.exclusive || (l.exclusive && l.open_id != new.open_id))
    });
    if conflict {
        return Err(NtStatus::LOCK_NOT_GRANTED);
    }
    locks.push(new);
    Ok(())
}

/// Remove the lock of `open_id` with exactly this range (MS-FSA 2.1.5.8); of several such locks an
/// exclusive one goes first.
pub fn unlock(
    locks: &mut Vec<ByteRangeLock>,
    open_id: u64,
    offset: u64,
    length: u64,
) -> Result<(), NtStatus> {
    let mine = |l: &ByteRangeLock| l.open_id == open_id && l.offset == offset && l.length == length;
    let pos = locks
        .iter()
        .position(|l| mine(l) && l.exclusive)
        .or_else(|| locks.iter().position(mine))
        .ok_or(NtStatus::RANGE_NOT_LOCKED)?;
    locks.remove(pos);
    Ok(())
}

/// MS-FSA 2.1.4.10: a read through `open_id` conflicts with other opens' exclusive locks; a write with
/// any lock of another open and with its own shared locks.
pub fn io_conflicts(
    locks: &[ByteRangeLock],
    open_id: u64,
    offset: u64,
    length: u64,
    write: bool,
) -> bool {
    length > 0
        && locks.iter().any(|l| {
            l.length > 0
                && l.overlaps(offset, length)
                && if write {
                    l.open_id != open_id || !l.exclusive
                } else {
                    l.exclusive && l.open_id != open_id
                }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lk(open_id: u64, offset: u64, length: u64, exclusive: bool) -> ByteRangeLock {
        ByteRangeLock {
            open_id,
            offset,
            length,
            exclusive,
        }
    }

    #[test]
    fn exclusive_and_shared_conflicts() {
        let mut l = Vec::new();
        try_lock(&mut l, lk(1, 0, 10, true)).unwrap();
        assert_eq!(
            try_lock(&mut l, lk(2, 5, 10, false)),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        assert_eq!(
            try_lock(&mut l, lk(1, 5, 1, true)),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        try_lock(&mut l, lk(1, 5, 1, false)).unwrap();
        try_lock(&mut l, lk(2, 10, 5, false)).unwrap();
        try_lock(&mut l, lk(3, 12, 1, false)).unwrap();
    }

    #[test]
    fn zero_length_conflicts_only_strictly_inside() {
        let mut l = Vec::new();
        try_lock(&mut l, lk(1, 0, 10, true)).unwrap();
        assert_eq!(
            try_lock(&mut l, lk(2, 5, 0, true)),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
        try_lock(&mut l, lk(2, 0, 0, true)).unwrap();
        try_lock(&mut l, lk(2, 10, 0, true)).unwrap();
        assert!(!io_conflicts(&l, 2, 5, 0, true));
        // smb2.lock.zerobytelength: a zero-length lock at 10, then ranges around it.
        let mut z = vec![lk(1, 10, 0, true)];
        for (o, len) in [(10, 0), (9, 1), (10, 1), (11, 1), (10, 2)] {
            try_lock(&mut z, lk(2, o, len, true)).unwrap();
            z.pop();
        }
        for (o, len) in [(9, 2), (9, 3)] {
            assert!(try_lock(&mut z, lk(2, o, len, true)).is_err());
        }
    }

    #[test]
    fn unlock_takes_the_exclusive_lock_first() {
        let mut l = Vec::new();
        try_lock(&mut l, lk(1, 10, 10, true)).unwrap();
        try_lock(&mut l, lk(1, 10, 10, false)).unwrap();
        unlock(&mut l, 1, 10, 10).unwrap();
        try_lock(&mut l, lk(2, 10, 10, false)).unwrap();
    }

    #[test]
    fn unlock_needs_exact_range_and_owner() {
        let mut l = vec![lk(1, 0, 10, true)];
        assert_eq!(unlock(&mut l, 2, 0, 10), Err(NtStatus::RANGE_NOT_LOCKED));
        assert_eq!(unlock(&mut l, 1, 0, 9), Err(NtStatus::RANGE_NOT_LOCKED));
        unlock(&mut l, 1, 0, 10).unwrap();
        assert!(l.is_empty());
    }

    #[test]
    fn io_checks() {
        let l = vec![lk(1, 0, 10, true), lk(2, 20, 10, false)];
        assert!(io_conflicts(&l, 2, 5, 1, false));
        assert!(!io_conflicts(&l, 1, 5, 1, false));
        assert!(!io_conflicts(&l, 1, 5, 1, true));
        assert!(io_conflicts(&l, 1, 25, 1, true));
        assert!(io_conflicts(&l, 2, 25, 1, true));
        assert!(!io_conflicts(&l, 1, 25, 1, false));
    }

    #[test]
    fn ranges_at_the_end_of_the_address_space() {
        assert_eq!(check_range(u64::MAX, 2), Err(NtStatus::INVALID_LOCK_RANGE));
        check_range(u64::MAX, 1).unwrap();
        check_range(u64::MAX, 0).unwrap();
        let mut l = Vec::new();
        try_lock(&mut l, lk(1, u64::MAX, 1, true)).unwrap();
        assert_eq!(
            try_lock(&mut l, lk(2, u64::MAX - 1, 2, false)),
            Err(NtStatus::LOCK_NOT_GRANTED)
        );
    }
}
