//! One client connection (MS-SMB2 3.3.1.7 Connection): its protocol state (dialect, preauth hash,
//! credits, pending operations), the reader loop and the writer task. Its sessions and opens live in
//! the server-wide tables ([`crate::state::tables`]), bound to the connection's id.

use crate::channel::{Channel, ConnId, Outgoing};
use crate::credits::CreditWindow;
use crate::dispatch::{process_frame, Outcome};
use crate::inflight::{frame_units, ConnMemory, Reservation, CONN_UNITS, UNIT};
use crate::open::Open;
use crate::pending::PendingTable;
use crate::session::Session;
use crate::signatures::Detached;
use crate::state::ServerState;
use bytes::BytesMut;
use crypto::PreauthHash;
use proto::frame::decode_frame_header;
use proto::transform::TRANSFORM_PROTOCOL_ID;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify, OwnedMutexGuard, Semaphore};

/// What NEGOTIATE settled (MS-SMB2 3.3.1.7 Connection.Dialect, ClientGuid, ClientCapabilities...).
#[derive(Clone, Debug)]
pub struct Negotiated {
    pub dialect: u16,
    pub client_guid: [u8; 16],
    pub client_security_mode: u16,
    pub client_capabilities: u32,
    pub server_security_mode: u16,
    pub server_capabilities: u32,
    pub client_dialects: Vec<u16>,
    /// Connection.CipherId: None when no cipher was agreed (2.x, or none in common).
    pub cipher: Option<crypto::Cipher>,
    /// Connection.SigningAlgorithmId.
    pub signing_algorithm: crypto::SigningAlgorithm,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct Conn {
    pub server: Arc<ServerState>,
    pub id: ConnId,
    pub peer: SocketAddr,
    /// The outbound queue every message to this client goes through.
    pub channel: Arc<Channel>,
    /// Requests waiting asynchronously (Connection.AsyncCommandList).
    pub pending: PendingTable,
    /// The writer's end of the outbound queue, until [`serve_stream`] starts the writer.
    outbound: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    /// What this connection's requests and responses in flight may hold ([`crate::inflight`]).
    memory: ConnMemory,
    /// The server address the client connected to.
    pub local: SocketAddr,
    negotiated: Mutex<Option<Negotiated>>,
    /// Set after an SMB1 multi-protocol negotiate answered with the 0x02FF wildcard.
    pub smb1_wildcard: std::sync::atomic::AtomicBool,
    /// What the client negotiated with an AAPL create context (macOS).
    pub apple: crate::fruit::AppleConn,
    /// Connection.PreauthIntegrityHashValue (3.1.1): NEGOTIATE request and response.
    pub preauth: Mutex<PreauthHash>,
    /// Named pipes opened on IPC$.
    pub pipes: crate::pipes::PipeTable,
    pub credits: Mutex<CreditWindow>,
    /// Admission of requests in arrival order (see the reader loop in [`serve_stream`]).
    pub admission: Arc<tokio::sync::Mutex<()>>,
    closing: Notify,
    /// When the connection was accepted.
    pub since: std::time::SystemTime,
    /// A SESSION_SETUP has succeeded (ends the handshake timeout).
    authenticated: std::sync::atomic::AtomicBool,
    /// Byte-range locks held by this connection's opens (`max byte range locks`).
    locks_held: std::sync::atomic::AtomicUsize,
    /// A session binding in progress on this connection (multichannel).
    binding: Mutex<Option<crate::handlers::session_bind::Binding>>,
}

impl Conn {
    pub fn new(server: Arc<ServerState>, peer: SocketAddr, local: SocketAddr) -> Conn {
        let max = server.settings.max_credits;
        let id = ConnId(server.next_id());
        let (tx, rx) = mpsc::channel::<Outgoing>(CONN_UNITS);
        let pending = usize::try_from(server.settings.limits.max_pending_operations);
        Conn {
            id,
            channel: Arc::new(Channel::new(id, peer, tx)),
            pending: PendingTable::new(
                pending.unwrap_or(usize::MAX),
                server.budgets.pending_pool(),
            ),
            outbound: Mutex::new(Some(rx)),
            memory: server.memory.connection(),
            server,
            peer,
            local,
            negotiated: Mutex::new(None),
            smb1_wildcard: Default::default(),
            apple: Default::default(),
            preauth: Mutex::new(PreauthHash::new()),
            pipes: Default::default(),
            credits: Mutex::new(CreditWindow::new(max)),
            admission: Arc::new(tokio::sync::Mutex::new(())),
            closing: Notify::new(),
            since: std::time::SystemTime::now(),
            authenticated: Default::default(),
            locks_held: Default::default(),
            binding: Mutex::new(None),
        }
    }

    pub fn set_authenticated(&self) {
        self.authenticated
            .store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn is_authenticated(&self) -> bool {
        self.authenticated
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Reserve room for `n` more byte-range locks; false (and nothing reserved) beyond
    /// `max byte range locks` or `server max byte range locks`.
    pub fn reserve_locks(&self, n: usize) -> bool {
        let max =
            usize::try_from(self.server.settings.limits.max_byte_range_locks).unwrap_or(usize::MAX);
        if !self.server.budgets.reserve_locks(n) {
            return false;
        }
        let here = self
            .locks_held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(n).filter(|&total| total <= max)
            })
            .is_ok();
        if !here {
            self.server.budgets.release_locks(n);
        }
        here
    }

    /// Count `n` byte-range locks that came with a reclaimed durable open, beyond the limit if need be
    /// (they exist already; their close gives them back).
    /// (The server-wide budget kept counting them while the open was disconnected.)
    pub fn adopt_locks(&self, n: usize) {
        let _ = self
            .locks_held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_add(n))
            });
    }

    /// Give back `n` byte-range locks reserved with [`Conn::reserve_locks`].
    pub fn release_locks(&self, n: usize) {
        self.server.budgets.release_locks(n);
        let _ = self
            .locks_held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(n))
            });
    }

    pub fn negotiated(&self) -> Option<Negotiated> {
        lock(&self.negotiated).clone()
    }

    /// The negotiated dialect (0 before NEGOTIATE); no copy of the rest.
    pub fn dialect(&self) -> u16 {
        lock(&self.negotiated).as_ref().map_or(0, |n| n.dialect)
    }

    /// Connection.ClientGuid, once negotiated.
    pub fn client_guid(&self) -> Option<[u8; 16]> {
        lock(&self.negotiated).as_ref().map(|n| n.client_guid)
    }

    /// Record the negotiated dialect; false if one was already set (a second NEGOTIATE).
    pub fn set_negotiated(&self, n: Negotiated) -> bool {
        let mut g = lock(&self.negotiated);
        if g.is_some() {
            return false;
        }
        *g = Some(n);
        true
    }

    /// The session `id` if it is bound to this connection.
    pub fn session(&self, id: u64) -> Option<Arc<Session>> {
        self.server.sessions.get(id, self.id)
    }

    /// This connection's sessions, by id.
    pub fn sessions(&self) -> Vec<Arc<Session>> {
        self.server.sessions.of(self.id)
    }

    /// The open with volatile id `volatile` if it was made on this connection or by a session bound to
    /// it (multichannel).
    pub fn open(&self, volatile: u64) -> Option<Arc<Open>> {
        let (home, open) = self.server.opens.get_any(volatile)?;
        let reachable =
            home == self.id || self.server.sessions.get(open.session_id, self.id).is_some();
        reachable.then_some(open)
    }

    /// The session binding in progress on this connection.
    pub fn binding(&self) -> MutexGuard<'_, Option<crate::handlers::session_bind::Binding>> {
        lock(&self.binding)
    }

    /// This connection's opens, by id.
    pub fn opens(&self) -> Vec<Arc<Open>> {
        self.server.opens.of(self.id)
    }

    pub fn credits(&self) -> MutexGuard<'_, CreditWindow> {
        lock(&self.credits)
    }

    pub fn preauth(&self) -> MutexGuard<'_, PreauthHash> {
        lock(&self.preauth)
    }

    /// Ask the reader loop to drop the connection.
    pub fn close(&self) {
        self.closing.notify_one();
    }
}

/// Closes `conn` if no SESSION_SETUP has succeeded within `handshake timeout`.
fn watch_handshake(conn: &Arc<Conn>) {
    let secs = conn.server.settings.limits.handshake_timeout_secs;
    let weak = Arc::downgrade(conn);
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        if let Some(conn) = weak.upgrade().filter(|c| !c.is_authenticated()) {
            tracing::info!(peer = %conn.peer, "handshake timeout: closing the connection");
            conn.close();
        }
    });
}

/// Serve one TCP connection until the client goes away, a protocol violation, or shutdown.
pub async fn run(server: Arc<ServerState>, stream: TcpStream, peer: SocketAddr) {
    let admission = match crate::conns::ConnRegistry::admit(&server, peer.ip()) {
        Ok(a) => a,
        Err(why) => {
            tracing::warn!(%peer, "connection refused: {why}");
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let (rd, wr) = stream.into_split();
    let conn = Arc::new(Conn::new(server, peer, local));
    admission.attach(&conn);
    serve_stream(conn, rd, wr).await;
    drop(admission);
}

/// The connection's reader loop over any byte stream (a TCP socket in [`run`]; an in-memory stream in
/// the `connection` fuzz target). Returns once the stream ends or the connection closes, after every
/// request read has been answered or dropped and the writer has finished.
pub async fn serve_stream(
    conn: Arc<Conn>,
    mut rd: impl AsyncRead + Unpin,
    wr: impl AsyncWrite + Unpin + Send + 'static,
) {
    watch_handshake(&conn);
    let peer = conn.peer;
    let Some(rx) = lock(&conn.outbound).take() else {
        return;
    };
    let writer = tokio::spawn(crate::writer::write_loop(wr, rx, Arc::clone(&conn)));
    let max_outstanding = max_outstanding(&conn);
    let outstanding = Arc::new(Semaphore::new(max_outstanding));
    loop {
        let max = frame_limit(&conn);
        let frame = tokio::select! {
            r = read_frame(&mut rd, max, &conn) => r,
            () = conn.closing.notified() => break,
        };
        let (frame, reserved) = match frame {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                tracing::debug!(%peer, "connection ends: {e}");
                break;
            }
        };
        if must_run_in_order(&frame) {
            if !respond(&conn, frame, reserved, None).await {
                break;
            }
        } else {
            // Requests are admitted one at a time in arrival order; each gives its ticket up once it has
            // taken hold of its open (see `dispatch::Ctx::open`), so work on different handles overlaps
            // while a CLOSE can never overtake an earlier request on the same handle.
            // `max outstanding requests`: at the limit, stop reading until a request finishes.
            let Ok(slot) = Arc::clone(&outstanding).acquire_owned().await else {
                break;
            };
            let ticket = Arc::clone(&conn.admission).lock_owned().await;
            let conn = Arc::clone(&conn);
            tokio::spawn(async move {
                if !respond(&conn, frame, reserved, Some(ticket)).await {
                    conn.close();
                }
                drop(slot);
            });
        }
    }
    // Let the requests still being processed finish (they answer or drop their responses), then end
    // what the connection leaves behind, then let the writer drain the queue and stop.
    let all = u32::try_from(max_outstanding).unwrap_or(u32::MAX);
    let _ = outstanding.acquire_many(all).await;
    crate::lifecycle::connection_lost(&conn).await;
    conn.channel.shut();
    let _ = writer.await;
}

fn max_outstanding(conn: &Conn) -> usize {
    let n = conn.server.settings.limits.max_outstanding_requests;
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
}

/// NEGOTIATE and SESSION_SETUP feed the pre-authentication hash and change connection state, so they
/// are processed before the next frame is read; everything else runs as its own task.
/// Encrypted frames (which cannot be NEGOTIATE) run as their own tasks too.
fn must_run_in_order(frame: &[u8]) -> bool {
    let cmd = proto::reader::u16_at(frame, 12);
    match frame.get(0..4) {
        Some([0xFE, b'S', b'M', b'B']) => matches!(cmd, Some(0) | Some(1)),
        Some([0xFD, b'S', b'M', b'B']) => false,
        _ => true,
    }
}

/// Process a frame and queue its response. False means the connection must close.
async fn respond(
    conn: &Arc<Conn>,
    frame: BytesMut,
    reserved: Reservation,
    ticket: Option<OwnedMutexGuard<()>>,
) -> bool {
    let Some((frame, encrypted_for)) = unseal(conn, frame) else {
        return false;
    };
    // An encrypted frame's CreditCharge could only be read once decrypted.
    let reserved = match encrypted_for {
        Some(_) => match conn.memory.grow(reserved, frame_units(&frame)).await {
            Some(r) => r,
            None => return false,
        },
        None => reserved,
    };
    match process_unsealed(conn, frame, ticket, encrypted_for).await {
        Outcome::Reply(out) => conn.channel.send(out.freeze(), Some(reserved)).await,
        Outcome::ReplyThenStart(out, launches) => {
            let sent = conn.channel.send(out.freeze(), Some(reserved)).await;
            for l in launches {
                l.start(conn);
            }
            sent
        }
        Outcome::ReplyThenClose(out) => {
            let _ = conn.channel.send(out.freeze(), Some(reserved)).await;
            false
        }
        Outcome::NoReply => true,
        Outcome::Disconnect => false,
    }
}

/// One frame as read from the wire: decrypted first if it carries a TRANSFORM_HEADER (a frame that does
/// not decrypt ends the connection), then processed.
pub async fn process_raw(
    conn: &Arc<Conn>,
    frame: BytesMut,
    ticket: Option<OwnedMutexGuard<()>>,
) -> Outcome {
    match unseal(conn, frame) {
        Some((frame, encrypted_for)) => process_unsealed(conn, frame, ticket, encrypted_for).await,
        None => Outcome::Disconnect,
    }
}

/// The frame decrypted if it carries a TRANSFORM_HEADER, with the session it was encrypted for; None if
/// it does not decrypt (the connection must end).
fn unseal(conn: &Conn, mut frame: BytesMut) -> Option<(BytesMut, Option<Arc<Session>>)> {
    if !frame.starts_with(&TRANSFORM_PROTOCOL_ID) {
        return Some((frame, None));
    }
    match crate::encryption::decrypt(&mut frame, |id| conn.session(id)) {
        Ok(session) => Some((frame, Some(session))),
        Err(e) => {
            tracing::warn!(peer = %conn.peer, "undecryptable message ({e:?}): closing the connection");
            None
        }
    }
}

async fn process_unsealed(
    conn: &Arc<Conn>,
    mut frame: BytesMut,
    ticket: Option<OwnedMutexGuard<()>>,
    encrypted_for: Option<Arc<Session>>,
) -> Outcome {
    // An encrypted frame carries no signatures (its cipher tag authenticates it).
    let detached = if encrypted_for.is_none() {
        Detached::take(&mut frame)
    } else {
        Detached::default()
    };
    let frame = frame.freeze();
    let outcome = process_frame(conn, &frame, ticket, encrypted_for, &detached).await;
    // Nothing refers to a large frame once its requests are done, unless one of them still waits.
    conn.server.buffers.give_bytes(frame);
    outcome
}

/// The largest frame a connection without an authenticated session may send: room for a NEGOTIATE or a
/// SESSION_SETUP with a large Kerberos token, so an anonymous peer cannot make the server wait for, and
/// hold, megabytes.
const PRE_AUTH_MAX_FRAME: usize = 128 * 1024;

/// The frame length the next frame may have: the configured maximum once a SESSION_SETUP has succeeded
/// on this connection (one atomic load per frame, no walk over the sessions).
fn frame_limit(conn: &Conn) -> usize {
    let max = conn.server.settings.max_frame_len;
    if conn.is_authenticated() {
        max
    } else {
        max.min(PRE_AUTH_MAX_FRAME)
    }
}

/// Read one transport frame and reserve its share of the memory budgets ([`crate::inflight`]): the
/// larger of its own size and the CreditCharge of its requests (a READ's response is as large as its
/// charge). `Ok(None)` for a NetBIOS keep-alive (type 0x85), which carries nothing.
async fn read_frame(
    rd: &mut (impl AsyncReadExt + Unpin),
    max: usize,
    conn: &Conn,
) -> std::io::Result<Option<(BytesMut, Reservation)>> {
    let mut h = [0u8; 4];
    rd.read_exact(&mut h).await?;
    if h == [0x85, 0, 0, 0] {
        return Ok(None);
    }
    let len = decode_frame_header(h, max)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let closed = || std::io::Error::other("memory budget closed");
    let reserved = conn
        .memory
        .reserve(len.div_ceil(UNIT))
        .await
        .ok_or_else(closed)?;
    // Bounded by `max` (configuration), checked above, and by the budget just reserved. `read_buf`
    // fills the spare capacity without zeroing it first (a large WRITE's frame is not written twice).
    let mut buf = conn.server.buffers.take_bytes_mut(len);
    while buf.len() < len {
        let want = u64::try_from(len - buf.len()).unwrap_or(u64::MAX);
        if (&mut *rd).take(want).read_buf(&mut buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    let reserved = if buf.starts_with(&TRANSFORM_PROTOCOL_ID) {
        reserved
    } else {
        conn.memory
            .grow(reserved, frame_units(&buf))
            .await
            .ok_or_else(closed)?
    };
    Ok(Some((buf, reserved)))
}
