//! FILETIME conversion (MS-DTYP 2.3.3: 100-nanosecond intervals since 1601-01-01 UTC).

/// Seconds between 1601-01-01 and 1970-01-01.
const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
/// FILETIME ticks per second.
const TICKS_PER_SEC: i64 = 10_000_000;
/// Nanoseconds per FILETIME tick.
const NANOS_PER_TICK: u32 = 100;

/// Converts a Unix time to FILETIME; times before 1601 give 0 and times past the FILETIME range saturate.
pub fn unix_to_filetime(secs: i64, nanos: u32) -> u64 {
    let Some(since_1601) = secs.checked_add(EPOCH_DIFF_SECS) else {
        return if secs < 0 { 0 } else { u64::MAX };
    };
    let Ok(since_1601) = u64::try_from(since_1601) else {
        return 0;
    };
    let sub = u64::from(nanos.min(999_999_999) / NANOS_PER_TICK);
    since_1601
        .checked_mul(TICKS_PER_SEC.unsigned_abs())
        .and_then(|t| t.checked_add(sub))
        .unwrap_or(u64::MAX)
}

/// Converts a FILETIME to Unix seconds and nanoseconds (seconds are negative before 1970).
pub fn filetime_to_unix(ft: u64) -> (i64, u32) {
    let ticks = TICKS_PER_SEC.unsigned_abs();
    // ft / 10^7 is below 2^41, so it always fits in i64.
    let secs = i64::try_from(ft / ticks).unwrap_or(i64::MAX) - EPOCH_DIFF_SECS;
    let nanos = u32::try_from(ft % ticks).unwrap_or(0) * NANOS_PER_TICK;
    (secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(unix_to_filetime(0, 0), 116_444_736_000_000_000);
        assert_eq!(filetime_to_unix(116_444_736_000_000_000), (0, 0));
        // 2009-02-13 23:31:30.1234567 UTC
        assert_eq!(
            unix_to_filetime(1_234_567_890, 123_456_789),
            128_790_414_901_234_567
        );
        assert_eq!(
            filetime_to_unix(128_790_414_901_234_567),
            (1_234_567_890, 123_456_700)
        );
        assert_eq!(filetime_to_unix(0), (-EPOCH_DIFF_SECS, 0));
        assert_eq!(unix_to_filetime(-EPOCH_DIFF_SECS, 0), 0);
        assert_eq!(unix_to_filetime(-EPOCH_DIFF_SECS - 1, 0), 0);
        assert_eq!(unix_to_filetime(i64::MIN, 0), 0);
        assert_eq!(unix_to_filetime(i64::MAX, 0), u64::MAX);
    }

    #[test]
    fn round_trip() {
        for ft in [1u64, 10_000_000, 133_000_000_001_234_500, u64::MAX / 2] {
            let (s, n) = filetime_to_unix(ft);
            assert_eq!(unix_to_filetime(s, n), ft);
        }
    }
}
