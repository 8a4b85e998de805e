//! A connection as the rest of the server sees it (MS-SMB2 3.3.1.7 Connection, its outbound half): an
//! id, the peer, and the one queue every message to the client goes through, whether it answers a
//! request now (a response) or later (an asynchronous final response, and later oplock and lease
//! breaks). Messages are signed or encrypted before they are queued ([`crate::security`]); the writer
//! task of the connection ([`crate::conn`]) drains the queue to the socket.
//!
//! Parts of the server that outlive a request (pending operations) keep a `Weak<Channel>`: once the
//! connection is gone, sending fails instead of keeping the connection's memory alive.

use crate::inflight::Reservation;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use tokio::sync::mpsc;

/// A message for the socket and the share of the connection's memory budget it holds until written
/// (responses to requests hold the budget their request reserved; asynchronous messages hold none).
pub type Outgoing = (Bytes, Option<Reservation>);

/// Identifies a connection for as long as the server runs (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

pub struct Channel {
    pub id: ConnId,
    pub peer: SocketAddr,
    tx: Mutex<Option<mpsc::Sender<Outgoing>>>,
}

impl Channel {
    pub fn new(id: ConnId, peer: SocketAddr, tx: mpsc::Sender<Outgoing>) -> Channel {
        Channel {
            id,
            peer,
            tx: Mutex::new(Some(tx)),
        }
    }

    fn sender(&self) -> Option<mpsc::Sender<Outgoing>> {
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Queue a finished (signed or encrypted) message. False once the connection is shut.
    pub async fn send(&self, msg: Bytes, budget: Option<Reservation>) -> bool {
        match self.sender() {
            Some(tx) => tx.send((msg, budget)).await.is_ok(),
            None => false,
        }
    }

    /// No more messages: the writer ends once it has written what is queued.
    pub fn shut(&self) {
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}
