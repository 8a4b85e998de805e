//! Memory in flight (DESIGN.md decision 9): what requests being processed and their responses not yet
//! written may hold, counted twice, in 64 KiB units (one unit per credit): against the connection's
//! budget (32 MiB, so one client cannot take everyone's share) and against the server's (`server max
//! memory in flight`, so 1,024 connections cannot add up to more than the machine holds). A frame
//! reserves the larger of its own size and the CreditCharge of its requests (a READ's response is as
//! large as its charge); the reservation is held until its response is written. When either budget is
//! used up the connection's reader stops reading, and TCP flow control holds the client back.
//!
//! No deadlock: a reservation never waits while it holds units. Growing one (the charge of an encrypted
//! request is known only once it is decrypted) takes the extra units only if they are free at once;
//! otherwise it gives back what it holds and waits for the whole amount in one acquisition. Tokio's
//! semaphore serves waiters in order, and held units come back as responses are written, so every wait
//! ends.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One unit of memory budget: the payload one credit covers (MS-SMB2 3.3.5.2.5).
pub const UNIT: usize = 65536;

/// A connection's budget: 32 MiB.
pub const CONN_UNITS: usize = 512;

/// The server's budget, shared by every connection.
pub struct ServerMemory {
    units: Arc<Semaphore>,
    capacity: usize,
}

impl ServerMemory {
    pub fn new(bytes: u64) -> ServerMemory {
        let units = usize::try_from(bytes / UNIT as u64)
            .unwrap_or(usize::MAX)
            .clamp(CONN_UNITS, Semaphore::MAX_PERMITS);
        ServerMemory {
            units: Arc::new(Semaphore::new(units)),
            capacity: units,
        }
    }

    /// Units not reserved by any connection now (for tests and `rsmbd status`).
    pub fn available(&self) -> usize {
        self.units.available_permits()
    }

    /// The budget of a new connection, drawing on this one.
    pub fn connection(&self) -> ConnMemory {
        ConnMemory {
            conn: Arc::new(Semaphore::new(CONN_UNITS)),
            server: Arc::clone(&self.units),
            max_units: CONN_UNITS.min(self.capacity),
        }
    }
}

/// One connection's budget, and its share of the server's.
pub struct ConnMemory {
    conn: Arc<Semaphore>,
    server: Arc<Semaphore>,
    max_units: usize,
}

/// Units held for one frame until its response is written.
pub struct Reservation {
    conn: OwnedSemaphorePermit,
    _server: OwnedSemaphorePermit,
}

impl Reservation {
    pub fn units(&self) -> usize {
        self.conn.num_permits()
    }
}

/// The units a plaintext SMB2 frame needs: its size, or what its requests are charged if more.
pub fn frame_units(frame: &[u8]) -> usize {
    units_for(frame.len(), credit_charge(frame))
}

fn units_for(len: usize, charge: usize) -> usize {
    len.div_ceil(UNIT).max(charge).max(1)
}

/// The credits the requests of a (possibly compound) SMB2 frame are charged together: the sum of their
/// CreditCharge fields, each at least 1 (MS-SMB2 3.3.5.2.5), following NextCommand while it stays inside
/// the frame and moves forward.
fn credit_charge(frame: &[u8]) -> usize {
    const NEXT_COMMAND: usize = 20;
    const CREDIT_CHARGE: usize = 6;
    let mut at = 0usize;
    let mut total = 0usize;
    while let Some(charge) = at
        .checked_add(CREDIT_CHARGE)
        .and_then(|o| proto::reader::u16_at(frame, o))
    {
        total = total.saturating_add(usize::from(charge.max(1)));
        let next = at
            .checked_add(NEXT_COMMAND)
            .and_then(|o| proto::reader::u32_at(frame, o))
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        if next == 0 {
            break;
        }
        match at.checked_add(next) {
            Some(n) if n < frame.len() => at = n,
            _ => break,
        }
    }
    total
}

fn permits(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl ConnMemory {
    /// Waits until `units` (at most the connection's whole budget) are free in both budgets, and
    /// reserves them. None once the budgets are closed (never, in practice).
    pub async fn reserve(&self, units: usize) -> Option<Reservation> {
        let n = permits(units.clamp(1, self.max_units));
        let conn = Arc::clone(&self.conn).acquire_many_owned(n).await.ok()?;
        let server = Arc::clone(&self.server).acquire_many_owned(n).await.ok()?;
        Some(Reservation {
            conn,
            _server: server,
        })
    }

    /// `r` grown to `units`: at once when the extra units are free, otherwise by giving `r` back and
    /// waiting for the whole amount (see the module documentation).
    pub async fn grow(&self, r: Reservation, units: usize) -> Option<Reservation> {
        let units = units.min(self.max_units);
        let extra = units.saturating_sub(r.units());
        if extra == 0 {
            return Some(r);
        }
        let n = permits(extra);
        if let Ok(conn) = Arc::clone(&self.conn).try_acquire_many_owned(n) {
            if let Ok(server) = Arc::clone(&self.server).try_acquire_many_owned(n) {
                let mut r = r;
                r.conn.merge(conn);
                r._server.merge(server);
                return Some(r);
            }
        }
        drop(r);
        self.reserve(units).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_connection_cannot_take_more_than_its_budget() {
        let server = ServerMemory::new(1 << 30);
        let c = server.connection();
        let r = c.reserve(100_000).await.unwrap();
        assert_eq!(r.units(), CONN_UNITS);
        assert_eq!(server.available(), (1 << 30) / UNIT - CONN_UNITS);
        drop(r);
        assert_eq!(server.available(), (1 << 30) / UNIT);
    }

    #[tokio::test]
    async fn connections_together_stop_at_the_server_budget() {
        let server = ServerMemory::new(64 << 20);
        let (a, b, c) = (
            server.connection(),
            server.connection(),
            server.connection(),
        );
        let ra = a.reserve(CONN_UNITS).await.unwrap();
        let _rb = b.reserve(CONN_UNITS).await.unwrap();
        assert_eq!(server.available(), 0);
        let waiting = tokio::time::timeout(Duration::from_millis(50), c.reserve(1)).await;
        assert!(waiting.is_err(), "a third connection must wait");
        drop(ra);
        assert_eq!(c.reserve(1).await.unwrap().units(), 1);
    }

    #[tokio::test]
    async fn connections_growing_at_once_on_a_full_server_all_finish() {
        // Held and waiting for more, the three would wait for each other forever; giving back first,
        // they take turns.
        let server = Arc::new(ServerMemory::new(64 << 20));
        let mut tasks = Vec::new();
        for held in [400, 400, 224] {
            let c = server.connection();
            let r = c.reserve(held).await.unwrap();
            tasks.push(async move { c.grow(r, CONN_UNITS).await.map(|r| r.units()) });
        }
        assert_eq!(server.available(), 0);
        let all = tokio::time::timeout(Duration::from_secs(5), futures_join(tasks)).await;
        assert_eq!(all.unwrap(), vec![Some(CONN_UNITS); 3]);
        assert_eq!(server.available(), 1024);
    }

    async fn futures_join<F: std::future::Future<Output = Option<usize>> + Send + 'static>(
        tasks: Vec<F>,
    ) -> Vec<Option<usize>> {
        let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    fn header(charge: u16, next: u32) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[6..8].copy_from_slice(&charge.to_le_bytes());
        h[20..24].copy_from_slice(&next.to_le_bytes());
        h
    }

    #[test]
    fn a_compound_is_charged_for_all_its_requests() {
        let mut f = header(128, 64);
        f.extend(header(0, 64));
        f.extend(header(100, 0));
        assert_eq!(frame_units(&f), 229);
        // A NextCommand past the end stops the walk.
        let mut f = header(3, 64);
        f.extend(header(4, u32::MAX));
        assert_eq!(frame_units(&f), 7);
        assert_eq!(frame_units(&header(0, 0)[..10]), 1);
        assert_eq!(frame_units(&[]), 1);
    }

    #[test]
    fn units_cover_size_and_charge() {
        assert_eq!(units_for(0, 0), 1);
        assert_eq!(units_for(UNIT + 1, 1), 2);
        assert_eq!(units_for(100, 128), 128);
    }
}
