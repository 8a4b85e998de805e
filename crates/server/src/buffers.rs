//! Reused buffers for large frames and READ responses (DESIGN.md decision 2). A large WRITE's frame and
//! a large READ's response each need a buffer of up to `smb2 max read/write` (8 MiB) plus headers;
//! allocating and freeing one per request costs page faults on every request (the allocator hands such
//! blocks back to the kernel, or keeps them in per-thread arenas for good once it stops doing so). The
//! pool keeps the buffers that come back (a received frame once its requests are done, a response once
//! it is written) and hands them out again.
//!
//! Bounded twice: buffers are only taken for memory the connection reserved from the server-wide
//! budget ([`crate::inflight`]), and the pool keeps at most [`POOL_BYTES`] of idle buffers. Once no
//! buffer has been taken for [`IDLE_TRIM`] the pool frees them all, so memory goes back to the system
//! after a load ends.

use bytes::{Bytes, BytesMut};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Buffers smaller than this come from the allocator as usual (its small-block caches serve them).
pub const POOLED_MIN: usize = 256 << 10;

/// Idle buffers the pool keeps at most: four 8 MiB requests and their responses.
pub const POOL_BYTES: usize = 64 << 20;

/// How long the pool keeps idle buffers after the last one was taken.
pub const IDLE_TRIM: Duration = Duration::from_secs(10);

/// Capacities are rounded up to whole 64 KiB units plus one, so a WRITE frame's buffer fits a READ
/// response of the same payload and its headers, and the other way round.
const GRAIN: usize = 64 << 10;

pub struct BufferPool {
    kept: Mutex<Kept>,
}

struct Kept {
    bufs: Vec<Vec<u8>>,
    bytes: usize,
    last_take: Instant,
}

impl Default for BufferPool {
    fn default() -> BufferPool {
        BufferPool {
            kept: Mutex::new(Kept {
                bufs: Vec::new(),
                bytes: 0,
                last_take: Instant::now(),
            }),
        }
    }
}

fn rounded(len: usize) -> usize {
    len.div_ceil(GRAIN).saturating_add(1).saturating_mul(GRAIN)
}

impl BufferPool {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An empty buffer with room for at least `len` bytes, not zeroed. The caller bounds `len` (by the
    /// frame limit and the memory it reserved).
    pub fn take(&self, len: usize) -> Vec<u8> {
        if len < POOLED_MIN {
            return Vec::with_capacity(len);
        }
        let found = {
            let mut k = self.kept();
            k.last_take = Instant::now();
            // Any kept buffer that fits and is not more than twice as large.
            let fits = |b: &Vec<u8>| b.capacity() >= len && b.capacity() / 2 <= len;
            k.bufs.iter().position(fits).map(|i| {
                let b = k.bufs.swap_remove(i);
                k.bytes -= b.capacity();
                b
            })
        };
        found.unwrap_or_else(|| Vec::with_capacity(rounded(len)))
    }

    /// [`BufferPool::take`] as a `BytesMut`.
    pub fn take_bytes_mut(&self, len: usize) -> BytesMut {
        if len < POOLED_MIN {
            return BytesMut::with_capacity(len);
        }
        into_bytes_mut(self.take(len))
    }

    /// Gives a buffer back; kept if large enough and the pool has room, freed otherwise.
    pub fn give(&self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if cap < POOLED_MIN {
            return;
        }
        buf.clear();
        let mut k = self.kept();
        if k.bytes.saturating_add(cap) <= POOL_BYTES {
            k.bytes += cap;
            k.bufs.push(buf);
        }
    }

    /// Gives back the buffer under `bytes` if nothing else refers to it any more.
    pub fn give_bytes(&self, bytes: Bytes) {
        if bytes.len() < POOLED_MIN {
            return;
        }
        if let Ok(b) = bytes.try_into_mut() {
            self.give_bytes_mut(b);
        }
    }

    pub fn give_bytes_mut(&self, mut b: BytesMut) {
        // Emptied first, the buffer turns back into its Vec without copying.
        b.clear();
        self.give(Vec::from(b));
    }

    /// Frees every kept buffer if none was taken for [`IDLE_TRIM`] before `now`; returns the bytes
    /// freed.
    pub fn trim_if_idle(&self, now: Instant) -> usize {
        let bufs = {
            let mut k = self.kept();
            if now.saturating_duration_since(k.last_take) < IDLE_TRIM {
                return 0;
            }
            k.bytes = 0;
            std::mem::take(&mut k.bufs)
        };
        bufs.iter().map(Vec::capacity).sum()
    }

    /// Bytes kept in idle buffers now.
    pub fn kept_bytes(&self) -> usize {
        self.kept().bytes
    }
}

/// A Vec turns into a uniquely owned Bytes and that into a BytesMut, both without copying.
pub fn into_bytes_mut(v: Vec<u8>) -> BytesMut {
    Bytes::from(v)
        .try_into_mut()
        .unwrap_or_else(|b| BytesMut::from(&b[..]))
}

/// Trims `pool` every few seconds, for as long as the server runs.
pub async fn trim_when_idle(pool: &BufferPool) {
    let mut tick = tokio::time::interval(IDLE_TRIM / 2);
    loop {
        tick.tick().await;
        let freed = pool.trim_if_idle(Instant::now());
        if freed > 0 {
            tracing::debug!("idle: freed {} KiB of pooled buffers", freed / 1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_frame_is_reused_without_copy() {
        let pool = BufferPool::default();
        let mut v = pool.take(8 << 20);
        let ptr = v.as_ptr();
        v.extend_from_slice(&vec![7u8; 8 << 20]);
        // As a received frame goes: BytesMut, frozen, the transform header skipped, given back.
        let mut b = into_bytes_mut(v);
        let _ = b.split_to(52);
        pool.give_bytes(b.freeze());
        assert_eq!(pool.kept_bytes(), rounded(8 << 20));
        let again = pool.take((8 << 20) + 100);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
        assert_eq!(pool.kept_bytes(), 0);
    }

    #[test]
    fn shared_and_small_buffers_are_not_kept() {
        let pool = BufferPool::default();
        let b = Bytes::from(vec![1u8; 1 << 20]);
        let other = b.clone();
        pool.give_bytes(b);
        assert_eq!(pool.kept_bytes(), 0);
        drop(other);
        pool.give(vec![0u8; 1000]);
        assert_eq!(pool.kept_bytes(), 0);
    }

    #[test]
    fn a_much_larger_buffer_is_not_used_for_a_small_request() {
        let pool = BufferPool::default();
        pool.give(Vec::with_capacity(8 << 20));
        assert!(pool.take(300 << 10).capacity() < (8 << 20));
        assert_eq!(pool.kept_bytes(), 8 << 20);
    }

    #[test]
    fn the_pool_is_bounded_and_trimmed_when_idle() {
        let pool = BufferPool::default();
        for _ in 0..20 {
            pool.give(Vec::with_capacity(8 << 20));
        }
        assert_eq!(pool.kept_bytes(), POOL_BYTES);
        let now = Instant::now();
        assert_eq!(pool.trim_if_idle(now), 0, "taken from just now");
        assert_eq!(pool.trim_if_idle(now + IDLE_TRIM), POOL_BYTES);
        assert_eq!(pool.kept_bytes(), 0);
    }
}
