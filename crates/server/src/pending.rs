//! Requests that wait (MS-SMB2 3.3.4.2 "Sending an Interim Response for an Asynchronous Operation",
//! 3.3.5.16 CANCEL, 3.3.1.7 Connection.AsyncCommandList): the per-connection table of pending
//! operations, their cancellation, and the final response sent later through the connection's channel.
//!
//! A handler that must wait returns `NtStatus::PENDING` after giving the request context a [`Parked`]
//! operation: a future that owns everything it needs and is told when to stop ([`Cancelled`]). The
//! dispatcher answers with the interim response, releases what the request held (the handle's busy
//! lock, its admission ticket, its outstanding-request slot) and spawns [`run`], which drives the
//! future and sends the final response signed or encrypted like the request.

use crate::conn::Conn;
use crate::security::{self, Signer};
use crate::session::Session;
use bytes::{BufMut, BytesMut};
use proto::header::encode_error_body;
use proto::{Command, Header, HeaderFlags, NtStatus, HEADER_LEN};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Request.AsyncId: unique among a connection's pending requests, never zero, never reused (it comes
/// from the server-wide id counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AsyncId(pub u64);

/// Why a pending operation must end before it completes on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// CANCEL from the client (STATUS_CANCELLED).
    Cancel,
    /// The open it waits on was closed (CLOSE).
    HandleClosed,
    /// The tree connect of its open went away (TREE_DISCONNECT, reload).
    TreeClosed,
    /// The session that sent it is gone.
    SessionClosed,
    /// The connection is gone: there is nobody to answer.
    ConnectionLost,
}

/// The receiving end of a pending operation's cancellation.
pub struct Cancelled(oneshot::Receiver<CancelReason>);

impl Cancelled {
    /// Waits until the operation is cancelled (a dropped table counts as a lost connection).
    pub async fn reason(&mut self) -> CancelReason {
        (&mut self.0).await.unwrap_or(CancelReason::ConnectionLost)
    }
}

/// The final response of a pending operation: its status and the whole message, starting with room
/// for the SMB2 header.
pub struct Final {
    pub status: NtStatus,
    msg: BytesMut,
}

impl Final {
    /// A response with a body written by `encode(out, pdu_start)`.
    pub fn with_body(status: NtStatus, encode: impl FnOnce(&mut BytesMut, usize)) -> Final {
        let mut msg = BytesMut::with_capacity(HEADER_LEN + 64);
        msg.put_bytes(0, HEADER_LEN);
        encode(&mut msg, 0);
        Final { status, msg }
    }

    /// An error response (MS-SMB2 2.2.2).
    pub fn error(status: NtStatus) -> Final {
        Final::with_body(status, |w, _| encode_error_body(w, &[]))
    }
}

/// What a pending operation does once the interim response is sent; `None` sends nothing (the
/// connection is gone).
pub type Work = Pin<Box<dyn Future<Output = Option<Final>> + Send>>;

/// A request that waits, as a handler hands it to the dispatcher.
pub struct Parked {
    /// The open it waits on (cancelled when that open closes).
    pub open_id: Option<u64>,
    /// What `rsmbd status` shows as its file.
    pub file: String,
    /// In a mutex only so that a request context holding it can be shared across an `.await`.
    work: Mutex<Work>,
    cancel: oneshot::Sender<CancelReason>,
}

impl Parked {
    /// `make` builds the operation's future from its cancellation receiver.
    pub fn new<F>(open_id: Option<u64>, file: String, make: impl FnOnce(Cancelled) -> F) -> Parked
    where
        F: Future<Output = Option<Final>> + Send + 'static,
    {
        let (cancel, rx) = oneshot::channel();
        Parked {
            open_id,
            file,
            work: Mutex::new(Box::pin(make(Cancelled(rx)))),
            cancel,
        }
    }
}

/// One entry of the table, for cancellation and `rsmbd status`.
struct Entry {
    message_id: u64,
    session_id: u64,
    open_id: Option<u64>,
    command: Command,
    file: String,
    since: Instant,
    cancel: oneshot::Sender<CancelReason>,
    /// Its place in the server-wide budget, given back when the entry goes.
    _budget: tokio::sync::OwnedSemaphorePermit,
}

/// A pending operation as `rsmbd status` lists it.
#[derive(Clone, Debug)]
pub struct PendingInfo {
    pub async_id: AsyncId,
    pub message_id: u64,
    pub command: Command,
    pub file: String,
    pub since: Instant,
}

/// Connection.AsyncCommandList, bounded by `max pending operations` and by the server-wide
/// `server max pending operations` it shares with every other connection.
pub struct PendingTable {
    max: usize,
    pool: Arc<tokio::sync::Semaphore>,
    ops: Mutex<HashMap<AsyncId, Entry>>,
    /// MessageIds of CANCELs that found no pending request: the request may still be on its way to
    /// going async (bounded; the oldest is forgotten first).
    early: Mutex<VecDeque<u64>>,
}

/// How many unmatched CANCELs a connection remembers.
const EARLY_CANCELS: usize = 64;

/// Which pending operations a lifecycle event ends.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    Open(u64),
    Session(u64),
    All,
}

impl PendingTable {
    pub fn new(max: usize, pool: Arc<tokio::sync::Semaphore>) -> PendingTable {
        PendingTable {
            max: max.max(1),
            pool,
            ops: Mutex::new(HashMap::new()),
            early: Mutex::new(VecDeque::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<AsyncId, Entry>> {
        self.ops.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Register `parked` under `id`; at the limit nothing is registered and the request fails with
    /// STATUS_INSUFFICIENT_RESOURCES (MS-SMB2 3.3.4.2). The caller sends the interim response, then
    /// spawns [`run`] with the returned work.
    pub fn insert(
        &self,
        id: AsyncId,
        hdr: &Header,
        session_id: u64,
        parked: Parked,
    ) -> Result<Work, NtStatus> {
        let mut ops = self.lock();
        if ops.len() >= self.max {
            return Err(NtStatus::INSUFFICIENT_RESOURCES);
        }
        let budget = Arc::clone(&self.pool)
            .try_acquire_owned()
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)?;
        let Parked {
            open_id,
            file,
            work,
            cancel,
        } = parked;
        let work = work.into_inner().unwrap_or_else(PoisonError::into_inner);
        let command = Command::from_u16(hdr.command).unwrap_or(Command::Cancel);
        if self.take_early(hdr.message_id) {
            let _ = cancel.send(CancelReason::Cancel);
            return Ok(work);
        }
        ops.insert(
            id,
            Entry {
                message_id: hdr.message_id,
                session_id,
                open_id,
                command,
                file,
                since: Instant::now(),
                cancel,
                _budget: budget,
            },
        );
        Ok(work)
    }

    fn remove(&self, id: AsyncId) {
        self.lock().remove(&id);
    }

    fn take_early(&self, message_id: u64) -> bool {
        let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
        let found = early.iter().position(|m| *m == message_id);
        found.and_then(|i| early.remove(i)).is_some()
    }

    /// CANCEL (MS-SMB2 3.3.5.16): by AsyncId when the request was async, else by MessageId (a
    /// MessageId not found is remembered for a request still being processed). Returns whether a
    /// pending operation was found.
    pub fn cancel_request(&self, hdr: &Header) -> bool {
        let mut ops = self.lock();
        let key = match hdr.async_id {
            Some(id) => Some(AsyncId(id)),
            None => ops
                .iter()
                .find(|(_, e)| e.message_id == hdr.message_id)
                .map(|(id, _)| *id),
        };
        match key.and_then(|k| ops.remove(&k)) {
            Some(e) => {
                let _ = e.cancel.send(CancelReason::Cancel);
                true
            }
            None => {
                if hdr.async_id.is_none() {
                    let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
                    if early.len() >= EARLY_CANCELS {
                        early.pop_front();
                    }
                    early.push_back(hdr.message_id);
                }
                false
            }
        }
    }

    /// End every pending operation in `scope` for `reason` (the lifecycle module's first step).
    pub fn cancel(&self, scope: Scope, reason: CancelReason) {
        let mut ops = self.lock();
        let ids: Vec<AsyncId> = ops
            .iter()
            .filter(|(_, e)| match scope {
                Scope::Open(id) => e.open_id == Some(id),
                Scope::Session(id) => e.session_id == id,
                Scope::All => true,
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(e) = ops.remove(&id) {
                let _ = e.cancel.send(reason);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pending operations, oldest first.
    pub fn list(&self) -> Vec<PendingInfo> {
        let mut v: Vec<PendingInfo> = self
            .lock()
            .iter()
            .map(|(id, e)| PendingInfo {
                async_id: *id,
                message_id: e.message_id,
                command: e.command,
                file: e.file.clone(),
                since: e.since,
            })
            .collect();
        v.sort_by_key(|p| p.since);
        v
    }
}

/// How the final response of a parked request is addressed and protected.
pub struct Reply {
    /// The request's header (MessageId, command, credit charge, process, tree and session ids).
    pub hdr: Header,
    pub session_id: u64,
    pub tree_id: u32,
    /// The key to sign the final response with when the request was signed.
    pub signer: Option<crypto::SigningKey>,
    /// The session the request was encrypted for: the final response is encrypted too.
    pub encrypted_for: Option<Arc<Session>>,
}

/// The interim response's header (MS-SMB2 3.3.4.2): STATUS_PENDING, ASYNC_COMMAND, the AsyncId, and
/// the credits granted now; its body is an error body. It is not signed.
pub fn interim_header(reply: &Reply, id: AsyncId, credits: u16) -> Header {
    Header {
        credit_charge: reply.hdr.credit_charge,
        status: NtStatus::PENDING,
        command: reply.hdr.command,
        credits,
        flags: HeaderFlags(
            HeaderFlags::SERVER_TO_REDIR
                | HeaderFlags::ASYNC_COMMAND
                | (reply.hdr.flags.0 & HeaderFlags::RELATED_OPERATIONS),
        ),
        next_command: 0,
        message_id: reply.hdr.message_id,
        async_id: Some(id.0),
        process_id: reply.hdr.process_id,
        tree_id: reply.tree_id,
        session_id: reply.session_id,
        signature: [0; 16],
    }
}

/// Drive a parked request to its end and send its final response through the connection's channel
/// (if the connection is still there). The entry leaves the table either way.
pub async fn run(conn: Weak<Conn>, id: AsyncId, reply: Reply, work: Work) {
    let done = work.await;
    let Some(conn) = conn.upgrade() else {
        return;
    };
    conn.pending.remove(id);
    let Some(done) = done else {
        return;
    };
    if let Some(msg) = final_message(&reply, id, done) {
        conn.channel.send(msg.freeze(), None).await;
    }
}

/// The final response (MS-SMB2 3.3.4.2: same AsyncId, ASYNC_COMMAND; no credits are granted again),
/// signed or encrypted as the request was.
fn final_message(reply: &Reply, id: AsyncId, done: Final) -> Option<BytesMut> {
    let prefix = if reply.encrypted_for.is_some() {
        crate::encryption::RESERVED
    } else {
        0
    };
    // The final response is small (an error body, a lock response or a notify list bounded by the
    // request's output length); copying it behind the transform room keeps `Final` independent of
    // how the request arrived.
    let mut out = BytesMut::with_capacity(prefix + done.msg.len());
    out.put_bytes(0, prefix);
    out.extend_from_slice(&done.msg);
    let mut h = interim_header(reply, id, 0);
    h.status = done.status;
    let mut head = BytesMut::with_capacity(HEADER_LEN);
    h.encode(&mut head);
    out.get_mut(prefix..prefix + HEADER_LEN)?
        .copy_from_slice(&head);
    let signers: [Signer; 1] = [(prefix, reply.signer.clone())];
    security::protect(&mut out, reply.encrypted_for.as_deref(), &signers).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(message_id: u64) -> Header {
        Header {
            credit_charge: 1,
            status: NtStatus::SUCCESS,
            command: Command::Lock as u16,
            credits: 1,
            flags: HeaderFlags(0),
            next_command: 0,
            message_id,
            async_id: None,
            process_id: 0,
            tree_id: 1,
            session_id: 7,
            signature: [0; 16],
        }
    }

    fn park(open: Option<u64>) -> (Parked, oneshot::Receiver<CancelReason>) {
        let (tx, rx) = oneshot::channel();
        let p = Parked::new(open, "f".into(), |mut c| async move {
            let _ = tx.send(c.reason().await);
            None
        });
        (p, rx)
    }

    #[tokio::test]
    async fn cancel_by_message_id_and_async_id() {
        let t = PendingTable::new(8, pool(100));
        let (p1, _) = park(Some(1));
        let (p2, _) = park(Some(2));
        let w1 = t.insert(AsyncId(10), &hdr(5), 7, p1).unwrap();
        let w2 = t.insert(AsyncId(11), &hdr(6), 7, p2).unwrap();
        let j1 = tokio::spawn(w1);
        let j2 = tokio::spawn(w2);
        assert!(t.cancel_request(&hdr(5)));
        let mut by_async = hdr(0);
        by_async.async_id = Some(11);
        assert!(t.cancel_request(&by_async));
        // An unknown AsyncId finds nothing.
        by_async.async_id = Some(99);
        assert!(!t.cancel_request(&by_async));
        assert!(t.is_empty());
        assert!(j1.await.unwrap().is_none());
        assert!(j2.await.unwrap().is_none());
    }

    #[tokio::test]
    async fn limit_and_scopes() {
        let t = PendingTable::new(2, pool(100));
        let (p1, r1) = park(Some(1));
        let (p2, r2) = park(None);
        let (p3, _) = park(None);
        let w1 = t.insert(AsyncId(1), &hdr(1), 7, p1).unwrap();
        let w2 = t.insert(AsyncId(2), &hdr(2), 9, p2).unwrap();
        assert_eq!(
            t.insert(AsyncId(3), &hdr(3), 7, p3).err(),
            Some(NtStatus::INSUFFICIENT_RESOURCES)
        );
        tokio::spawn(w1);
        tokio::spawn(w2);
        t.cancel(Scope::Open(1), CancelReason::HandleClosed);
        assert_eq!(r1.await.unwrap(), CancelReason::HandleClosed);
        assert_eq!(t.len(), 1);
        t.cancel(Scope::Session(9), CancelReason::SessionClosed);
        assert_eq!(r2.await.unwrap(), CancelReason::SessionClosed);
        assert!(t.list().is_empty());
    }

    fn pool(n: usize) -> Arc<tokio::sync::Semaphore> {
        Arc::new(tokio::sync::Semaphore::new(n))
    }

    #[tokio::test]
    async fn the_server_wide_budget_is_shared_by_every_table() {
        let shared = pool(1);
        let (a, b) = (
            PendingTable::new(8, Arc::clone(&shared)),
            PendingTable::new(8, shared),
        );
        let (p1, _) = park(None);
        let (p2, _) = park(None);
        let w = a.insert(AsyncId(1), &hdr(1), 7, p1).unwrap();
        let refused = b.insert(AsyncId(2), &hdr(2), 7, p2).err();
        assert_eq!(refused, Some(NtStatus::INSUFFICIENT_RESOURCES));
        tokio::spawn(w);
        a.cancel(Scope::All, CancelReason::Cancel);
        let (p3, _) = park(None);
        assert!(
            b.insert(AsyncId(3), &hdr(3), 7, p3).is_ok(),
            "the place came back"
        );
    }

    #[tokio::test]
    async fn cancel_before_the_request_went_async() {
        let t = PendingTable::new(2, pool(100));
        assert!(!t.cancel_request(&hdr(42)));
        let (p, r) = park(None);
        let w = t.insert(AsyncId(1), &hdr(42), 7, p).unwrap();
        assert!(t.is_empty());
        tokio::spawn(w);
        assert_eq!(r.await.unwrap(), CancelReason::Cancel);
    }

    #[tokio::test]
    async fn dropped_table_reads_as_connection_lost() {
        let t = PendingTable::new(2, pool(100));
        let (p, r) = park(None);
        let w = t.insert(AsyncId(1), &hdr(1), 7, p).unwrap();
        let j = tokio::spawn(w);
        drop(t);
        assert_eq!(r.await.unwrap(), CancelReason::ConnectionLost);
        j.await.unwrap();
    }
}
