//! Processing of one received frame (MS-SMB2 3.3.5.2): splitting compounds, message-id and credit checks,
//! session/tree lookup, signature verification, running the command handler, and building the
//! (compounded, signed) response.

use crate::conn::Conn;
use crate::encryption;
use crate::handlers;
use crate::open::Open;
use crate::pending::{self, AsyncId, Parked, Work};
use crate::session::{AuthInfo, Session, Tree};
use crate::signatures::Detached;
use bytes::{BufMut, Bytes, BytesMut};
use crypto::SigningKey;
use proto::header::encode_error_body;
use proto::smb1::SMB1_PROTOCOL_ID;
use proto::writer::{pad_to, patch_u32};
use proto::{Command, FileId, Header, HeaderFlags, NtStatus, HEADER_LEN};
use std::sync::Arc;
use tokio::sync::{OwnedMutexGuard, OwnedRwLockReadGuard};

/// What the connection does with the result of a frame.
pub enum Outcome {
    Reply(BytesMut),
    /// Send the reply (holding interim responses), then start the operations that went async: their
    /// final responses must follow their interim responses.
    ReplyThenStart(BytesMut, Vec<Launch>),
    /// Send the reply, then close (e.g. refusing an SMB1-only client).
    ReplyThenClose(BytesMut),
    /// Nothing to send (CANCEL).
    NoReply,
    /// Drop the connection without a response (MS-SMB2 3.3.5.2.6 and friends).
    Disconnect,
}

/// Identifiers carried from one operation of a related compound to the next (MS-SMB2 3.3.5.2.7.2).
/// The commands that act on an already open file through its FileId.
fn works_on_an_open(cmd: Command) -> bool {
    matches!(
        cmd,
        Command::Read
            | Command::Write
            | Command::Ioctl
            | Command::QueryInfo
            | Command::SetInfo
            | Command::Lock
            | Command::Flush
            | Command::QueryDirectory
            | Command::ChangeNotify
            | Command::Close
    )
}

#[derive(Debug, Default)]
pub struct Chain {
    /// Whether the previous operation found (or created) its session; a related operation after one that
    /// did not fails with STATUS_INVALID_PARAMETER.
    pub session_ok: bool,
    pub session_id: Option<u64>,
    pub tree_id: Option<u32>,
    pub file_id: Option<FileId>,
    /// The error of the previous operation, if it failed.
    pub failed: Option<NtStatus>,
}

/// Everything a command handler may use and set.
pub struct Ctx<'a> {
    pub conn: &'a Arc<Conn>,
    pub hdr: &'a Header,
    /// The whole received frame, so payloads can be shared without copying.
    pub frame: &'a Bytes,
    /// The request PDU, starting at its SMB2 header.
    pub pdu: &'a [u8],
    pub related: bool,
    pub chain: &'a mut Chain,
    pub session: Option<Arc<Session>>,
    pub tree: Option<Arc<Tree>>,
    /// Response header fields a handler may change (SESSION_SETUP creates the id, TREE_CONNECT too).
    pub resp_session_id: u64,
    pub resp_tree_id: u32,
    /// SESSION_SETUP sets this to sign its final response with the new session's key.
    pub sign_with: Option<SigningKey>,
    /// ErrorData of the error response when the handler fails (MS-SMB2 2.2.2), e.g. the size a
    /// security descriptor needs.
    pub error_data: Option<Vec<u8>>,
    /// Set by a handler whose response must be followed by closing the connection.
    pub close_after: bool,
    /// Set by a handler that must drop the connection without answering (MS-SMB2 3.3.5.15.12).
    pub disconnect: bool,
    /// Position of this response's header in the output buffer.
    pub resp_start: usize,
    /// The frame's admission ticket (see `conn::serve_stream`), given up once a lone request holds its open.
    pub admission: &'a mut Option<OwnedMutexGuard<()>>,
    /// Whether this PDU is the whole frame (a compound keeps its ticket to the end).
    pub alone: bool,
    /// Whether the request arrived encrypted.
    pub encrypted: bool,
    /// The request's signature if it was detached from the PDU (whose Signature field is then zero).
    pub signature: Option<&'a [u8; 16]>,
    /// Shared holds on the opens this request works on, released when it completes.
    pub in_flight: Vec<OwnedRwLockReadGuard<()>>,
    /// Set by a handler that returns STATUS_PENDING: the operation that goes on asynchronously.
    pub parked: Option<Parked>,
}

/// An operation that went async: started once its interim response is queued.
pub struct Launch {
    id: AsyncId,
    reply: pending::Reply,
    work: Work,
}

impl Launch {
    pub fn start(self, conn: &Arc<Conn>) {
        tokio::spawn(pending::run(
            Arc::downgrade(conn),
            self.id,
            self.reply,
            self.work,
        ));
    }
}

impl Ctx<'_> {
    /// Go asynchronous: the handler then returns `Ok(NtStatus::PENDING)`.
    pub fn park(&mut self, parked: Parked) -> super::handlers::HandlerResult {
        self.parked = Some(parked);
        Ok(NtStatus::PENDING)
    }

    /// A reference-counted handle on part of this request (for WRITE data); `part` comes from `pdu`.
    pub fn frame_slice(&self, part: &[u8]) -> Bytes {
        if part.is_empty() {
            Bytes::new()
        } else {
            self.frame.slice_ref(part)
        }
    }

    pub fn session(&self) -> Result<&Arc<Session>, NtStatus> {
        self.session.as_ref().ok_or(NtStatus::USER_SESSION_DELETED)
    }

    pub fn auth(&self) -> Result<Arc<AuthInfo>, NtStatus> {
        self.session()?.auth().ok_or(NtStatus::USER_SESSION_DELETED)
    }

    pub fn tree(&self) -> Result<&Arc<Tree>, NtStatus> {
        self.tree.as_ref().ok_or(NtStatus::NETWORK_NAME_DELETED)
    }

    /// Resolve a FileId from a request body: the all-ones id in a related compound means the previous
    /// operation's file (MS-SMB2 3.3.5.2.7.2).
    pub fn resolve_file_id(&mut self, fid: FileId) -> Result<FileId, NtStatus> {
        let fid = if self.related && fid == FileId::COMPOUNDED {
            if let Some(status) = self.chain.failed {
                return Err(status);
            }
            self.chain.file_id.ok_or(NtStatus::INVALID_HANDLE)?
        } else {
            fid
        };
        self.chain.file_id = Some(fid);
        Ok(fid)
    }

    /// Look up the open named by a request's FileId and hold it for the rest of the request; it must
    /// belong to this session and tree.
    pub fn open(&mut self, fid: FileId) -> Result<Arc<Open>, NtStatus> {
        let open = self.lookup_open(fid)?;
        // A request on the handle ends its replay eligibility (MS-SMB2 3.3.5.12, 3.3.5.13...).
        open.replay_eligible
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.check_channel_sequence(&open)?;
        self.hold(open).ok_or(NtStatus::FILE_CLOSED)
    }

    /// The open a request names inside its data (FSCTL_DUPLICATE_EXTENTS_TO_FILE's source): one of this
    /// session, on any of its trees (MS-SMB2 Session.OpenTable), held like [`Ctx::open`]'s open but
    /// leaving the compound's FileId alone. STATUS_INVALID_HANDLE when there is none.
    pub fn session_open(&mut self, fid: FileId) -> Result<Arc<Open>, NtStatus> {
        let session = self.session.as_ref().map(|s| s.id);
        let open = self
            .conn
            .open(fid.volatile)
            .filter(|o| o.file_id == fid && Some(o.session_id) == session)
            .ok_or(NtStatus::INVALID_HANDLE)?;
        self.hold(open).ok_or(NtStatus::INVALID_HANDLE)
    }

    /// Holds `open` for the rest of the request (its CLOSE waits); None when it is being closed.
    fn hold(&mut self, open: Arc<Open>) -> Option<Arc<Open>> {
        let hold = Arc::clone(&open.busy).try_read_owned().ok()?;
        self.in_flight.push(hold);
        self.release_admission();
        Some(open)
    }

    /// MS-SMB2 3.3.5.2.10: a ChannelSequence older than the open's (a request from before a channel
    /// failover, arriving late) fails a WRITE, SET_INFO or IOCTL with STATUS_FILE_NOT_AVAILABLE; a
    /// newer one becomes the open's. (Outstanding request counts are not kept: a replay with the
    /// current sequence is always let through.)
    fn check_channel_sequence(&self, open: &Open) -> Result<(), NtStatus> {
        use std::sync::atomic::Ordering;
        let smb3 = self.conn.dialect() >= proto::messages::negotiate::SMB3_0;
        let Some(csn) = proto::reader::u16_at(self.pdu, 8).filter(|_| smb3) else {
            return Ok(());
        };
        let current = open.channel_sequence.load(Ordering::Relaxed);
        if csn == current {
            return Ok(());
        }
        if csn.wrapping_sub(current) <= 0x7FFF {
            open.channel_sequence.store(csn, Ordering::Relaxed);
            return Ok(());
        }
        let guarded = [Command::Write, Command::SetInfo, Command::Ioctl]
            .iter()
            .any(|c| *c as u16 == self.hdr.command);
        if guarded {
            Err(NtStatus::FILE_NOT_AVAILABLE)
        } else {
            Ok(())
        }
    }

    /// For CLOSE: take the open out of the table; [`crate::lifecycle::close`] then waits until the
    /// requests admitted before this one have finished with it.
    pub fn open_for_close(&mut self, fid: FileId) -> Result<Arc<Open>, NtStatus> {
        let open = self.lookup_open(fid)?;
        if self
            .conn
            .server
            .opens
            .remove(open.file_id.volatile)
            .is_none()
        {
            return Err(NtStatus::FILE_CLOSED);
        }
        self.release_admission();
        Ok(open)
    }

    /// Look up a named pipe handle; it must belong to this session and tree.
    pub fn pipe(&mut self, fid: FileId) -> Result<Arc<crate::pipes::PipeOpen>, NtStatus> {
        let fid = self.resolve_file_id(fid)?;
        let p = self
            .conn
            .pipes
            .get(fid.volatile)
            .ok_or(NtStatus::FILE_CLOSED)?;
        let same_session = self.session.as_ref().is_some_and(|s| s.id == p.session_id);
        let same_tree = self.tree.as_ref().is_some_and(|t| Arc::ptr_eq(t, &p.tree));
        if p.file_id != fid || !same_session || !same_tree {
            return Err(NtStatus::FILE_CLOSED);
        }
        Ok(p)
    }

    /// Whether this request is on IPC$ (its handles are named pipes).
    pub fn on_ipc(&self) -> bool {
        self.tree.as_ref().is_some_and(|t| t.is_ipc())
    }

    /// Give up the frame's admission ticket even inside a compound: for a request that waits on
    /// another request of this connection (an oplock break acknowledgment).
    pub fn let_later_frames_pass(&mut self) {
        *self.admission = None;
    }

    fn release_admission(&mut self) {
        if self.alone {
            *self.admission = None;
        }
    }

    fn lookup_open(&mut self, fid: FileId) -> Result<Arc<Open>, NtStatus> {
        let fid = self.resolve_file_id(fid)?;
        let open = self.conn.open(fid.volatile).ok_or(NtStatus::FILE_CLOSED)?;
        let same_session = self
            .session
            .as_ref()
            .is_some_and(|s| s.id == open.session_id);
        let same_tree = self
            .tree
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(t, &open.tree));
        if open.file_id != fid || !same_session || !same_tree {
            return Err(NtStatus::FILE_CLOSED);
        }
        Ok(open)
    }
}

/// Process one frame: an SMB1 negotiate, or one SMB2 request or compound chain.
pub async fn process_frame(
    conn: &Arc<Conn>,
    frame: &Bytes,
    admission: Option<OwnedMutexGuard<()>>,
    encrypted_for: Option<Arc<Session>>,
    detached: &Detached,
) -> Outcome {
    let mut admission = admission;
    if frame.starts_with(&SMB1_PROTOCOL_ID) {
        return handlers::negotiate::smb1(conn, frame);
    }
    let mut out = BytesMut::with_capacity(256);
    if encrypted_for.is_some() {
        // Room for the TRANSFORM_HEADER, so the response is encrypted where it is built.
        out.put_bytes(0, encryption::RESERVED);
    }
    let mut chain = Chain::default();
    let mut signers: Vec<(usize, Option<SigningKey>)> = Vec::new();
    let mut launches = Vec::new();
    let mut pos = 0usize;
    let mut close_after = false;
    loop {
        let Some(rest) = frame.get(pos..) else {
            return Outcome::Disconnect;
        };
        let Ok(hdr) = Header::decode(rest) else {
            return Outcome::Disconnect;
        };
        let len = match hdr.next_command {
            0 => rest.len(),
            n => match usize::try_from(n) {
                Ok(n) if n >= HEADER_LEN && n <= rest.len() && n % 8 == 0 => n,
                _ => return Outcome::Disconnect,
            },
        };
        let Some(pdu) = rest.get(..len) else {
            return Outcome::Disconnect;
        };
        if let Some((prev, _)) = signers.last() {
            let prev = *prev;
            pad_to(&mut out, prev, 8);
            let next = proto::writer::len_u32(out.len() - prev);
            patch_u32(&mut out, prev + 20, next);
        }
        // MS-SMB2 3.3.5.2.1.1: an encrypted message may only act for the session it was encrypted for.
        let related = hdr.flags.has(HeaderFlags::RELATED_OPERATIONS);
        if encrypted_for
            .as_ref()
            .is_some_and(|s| s.id != hdr.session_id && !(related && pos > 0))
        {
            return Outcome::Disconnect;
        }
        let request = Request {
            frame,
            hdr: &hdr,
            pdu,
            alone: pos == 0 && hdr.next_command == 0,
            encrypted_for: encrypted_for.as_ref(),
            signature: detached.at(pos),
        };
        match process_pdu(conn, request, &mut chain, &mut out, &mut admission).await {
            Step::Responded {
                start,
                signer,
                close,
                launch,
            } => {
                signers.push((start, signer));
                close_after |= close;
                launches.extend(launch.map(|l| *l));
            }
            Step::NoResponse => {}
            Step::Disconnect => return Outcome::Disconnect,
        }
        if hdr.next_command == 0 {
            break;
        }
        pos += len;
    }
    if signers.is_empty() {
        return Outcome::NoReply;
    }
    if let (Some((last, _)), true) = (signers.last(), pos > 0) {
        // In a compound the last response is padded to 8 bytes too, as Windows does (smbtorture
        // smb2.compound.compound-padding); a lone response is not.
        pad_to(&mut out, *last, 8);
    }
    if crate::security::protect(&mut out, encrypted_for.as_deref(), &signers).is_err() {
        return Outcome::Disconnect;
    }
    match (out.is_empty(), close_after) {
        (true, _) => Outcome::NoReply,
        (false, _) if !launches.is_empty() => Outcome::ReplyThenStart(out, launches),
        (false, false) => Outcome::Reply(out),
        (false, true) => Outcome::ReplyThenClose(out),
    }
}

enum Step {
    Responded {
        start: usize,
        signer: Option<SigningKey>,
        close: bool,
        launch: Option<Box<Launch>>,
    },
    NoResponse,
    Disconnect,
}

/// Commands that operate on a tree connect (MS-SMB2 3.3.5.2.11).
fn needs_tree(cmd: Command) -> bool {
    !matches!(
        cmd,
        Command::Negotiate
            | Command::SessionSetup
            | Command::Logoff
            | Command::TreeConnect
            | Command::Echo
            | Command::Cancel
    )
}

/// One request PDU of a frame.
struct Request<'a> {
    frame: &'a Bytes,
    hdr: &'a Header,
    pdu: &'a [u8],
    /// The PDU is the whole frame (not part of a compound).
    alone: bool,
    /// The session the frame was encrypted for, if it arrived encrypted.
    encrypted_for: Option<&'a Arc<Session>>,
    /// The PDU's signature, taken out of it before the frame was shared (see `signatures`).
    signature: Option<&'a [u8; 16]>,
}

async fn process_pdu(
    conn: &Arc<Conn>,
    request: Request<'_>,
    chain: &mut Chain,
    out: &mut BytesMut,
    admission: &mut Option<OwnedMutexGuard<()>>,
) -> Step {
    let Request {
        frame,
        hdr,
        pdu,
        alone,
        encrypted_for,
        signature,
    } = request;
    let encrypted = encrypted_for.is_some();
    let Some(cmd) = Command::from_u16(hdr.command) else {
        return Step::Disconnect;
    };
    if hdr.is_response() {
        return Step::Disconnect;
    }
    if cmd != Command::Negotiate && conn.negotiated().is_none() {
        return Step::Disconnect;
    }
    if cmd == Command::Cancel {
        // MS-SMB2 3.3.5.16: CANCEL bypasses the credit window and admission, and gets no response.
        handlers::cancel::handle(conn, hdr);
        return Step::NoResponse;
    }
    if !conn.credits().consume(hdr.message_id, hdr.credit_charge) {
        tracing::debug!(peer = %conn.peer, mid = hdr.message_id, "message id outside the credit window");
        return Step::Disconnect;
    }
    let related = hdr.flags.has(HeaderFlags::RELATED_OPERATIONS);
    let resp_start = out.len();
    out.put_bytes(0, HEADER_LEN);
    let session_id = if related {
        chain.session_id.unwrap_or(u64::MAX)
    } else {
        hdr.session_id
    };
    let tree_id = if related {
        chain.tree_id.unwrap_or(u32::MAX)
    } else {
        hdr.tree_id
    };
    let mut ctx = Ctx {
        conn,
        hdr,
        frame,
        pdu,
        related,
        chain,
        session: None,
        tree: None,
        resp_session_id: session_id,
        resp_tree_id: tree_id,
        sign_with: None,
        error_data: None,
        close_after: false,
        disconnect: false,
        resp_start,
        admission,
        alone,
        encrypted,
        signature,
        in_flight: Vec::new(),
        parked: None,
    };
    let (result, signer) = match prepare(&mut ctx, cmd, session_id, tree_id) {
        Ok(signer) => (handlers::run(cmd, &mut ctx, out).await, signer),
        Err(status) => (Err(status), None),
    };
    if ctx.disconnect {
        return Step::Disconnect;
    }
    let (result, launch) = go_async(&mut ctx, result, &signer, encrypted_for);
    let signer = if launch.is_some() { None } else { signer };
    let status = match result {
        Ok(status) => status,
        Err(status) => {
            tracing::debug!(peer = %conn.peer, mid = hdr.message_id, "{cmd:?} failed: {status}");
            out.truncate(resp_start + HEADER_LEN);
            encode_error_body(out, ctx.error_data.as_deref().unwrap_or(&[]));
            status
        }
    };
    // SESSION_SETUP chooses its own key, and so does a refusal for another connection's session.
    let signer = ctx.sign_with.take().or(signer);
    ctx.chain.session_ok = ctx.session.is_some() || cmd == Command::SessionSetup;
    ctx.chain.session_id = Some(ctx.resp_session_id);
    ctx.chain.tree_id = Some(ctx.resp_tree_id);
    ctx.chain.failed = match status.is_error() {
        false => None,
        // A failure carried over from before keeps carrying; so does any failure except one of an
        // operation on an open file, which leaves the file to the next related operation (Windows:
        // a READ after a refused WRITE still reads, smbtorture smb2.compound.related6).
        true if ctx.chain.failed == Some(status) || !works_on_an_open(cmd) => Some(status),
        true => None,
    };
    let credits = if cmd == Command::Negotiate && hdr.credits == 0 {
        1
    } else {
        hdr.credits
    };
    let granted = conn.credits().grant(credits);
    let resp = match &launch {
        Some(l) => pending::interim_header(&l.reply, l.id, granted),
        None => Header {
            credit_charge: hdr.credit_charge,
            status,
            command: hdr.command,
            credits: granted,
            flags: HeaderFlags(
                HeaderFlags::SERVER_TO_REDIR | (hdr.flags.0 & HeaderFlags::RELATED_OPERATIONS),
            ),
            next_command: 0,
            message_id: hdr.message_id,
            async_id: None,
            process_id: hdr.process_id,
            tree_id: ctx.resp_tree_id,
            session_id: ctx.resp_session_id,
            signature: [0; 16],
        },
    };
    write_header(out, resp_start, &resp);
    handlers::after_response(&mut ctx, cmd, status, out.get(resp_start..).unwrap_or(&[]));
    Step::Responded {
        start: resp_start,
        signer,
        close: ctx.close_after,
        launch: launch.map(Box::new),
    }
}

/// A handler that returned STATUS_PENDING with a parked operation: register it (or fail it with
/// STATUS_INSUFFICIENT_RESOURCES at `max pending operations`); its interim response carries the
/// status PENDING and an error body (MS-SMB2 3.3.4.2).
fn go_async(
    ctx: &mut Ctx<'_>,
    result: handlers::HandlerResult,
    signer: &Option<SigningKey>,
    encrypted_for: Option<&Arc<Session>>,
) -> (handlers::HandlerResult, Option<Launch>) {
    let Some(parked) = ctx.parked.take() else {
        return (result, None);
    };
    if result != Ok(NtStatus::PENDING) {
        return (result, None);
    }
    if ctx.hdr.next_command != 0 {
        // Only the last request of a compound may go async; Windows fails one in the middle with
        // STATUS_INTERNAL_ERROR (smbtorture smb2.compound.interim2) and so does rsmbd.
        return (Err(NtStatus::INTERNAL_ERROR), None);
    }
    let reply = pending::Reply {
        hdr: ctx.hdr.clone(),
        session_id: ctx.resp_session_id,
        tree_id: ctx.resp_tree_id,
        signer: signer.clone(),
        encrypted_for: encrypted_for.cloned(),
    };
    let id = AsyncId(ctx.conn.server.next_id());
    let open_id = parked.open_id;
    match ctx
        .conn
        .pending
        .insert(id, &reply.hdr, reply.session_id, parked)
    {
        Ok(work) => {
            end_if_gone(ctx.conn, reply.session_id, open_id);
            (Err(NtStatus::PENDING), Some(Launch { id, reply, work }))
        }
        Err(status) => (Err(status), None),
    }
}

/// A LOGOFF, TREE_DISCONNECT or CLOSE that ran while this request was being processed has already
/// cancelled the pending operations it could see; the lifecycle takes entries out of the tables before
/// it cancels, and the new operation was registered before this check, so one of the two sees the other.
fn end_if_gone(conn: &Conn, session_id: u64, open_id: Option<u64>) {
    use crate::pending::{CancelReason, Scope};
    if conn.session(session_id).is_none() {
        conn.pending
            .cancel(Scope::Session(session_id), CancelReason::SessionClosed);
    } else if let Some(id) = open_id.filter(|id| conn.open(*id).is_none()) {
        conn.pending
            .cancel(Scope::Open(id), CancelReason::TreeClosed);
    }
}

fn write_header(out: &mut BytesMut, at: usize, h: &Header) {
    let mut tmp = BytesMut::with_capacity(HEADER_LEN);
    h.encode(&mut tmp);
    if let Some(dst) = out.get_mut(at..at + HEADER_LEN) {
        dst.copy_from_slice(&tmp);
    }
}

/// Look up the session and tree, check the chain and the signature. Returns the key to sign the response
/// with, if it must be signed.
fn prepare(
    ctx: &mut Ctx<'_>,
    cmd: Command,
    session_id: u64,
    tree_id: u32,
) -> Result<Option<SigningKey>, NtStatus> {
    if ctx.related {
        // MS-SMB2 3.3.5.2.7.2: no session from the previous operation (or no previous operation at all)
        // is INVALID_PARAMETER; a failed previous operation's status carries over to what follows.
        if !ctx.chain.session_ok {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        if let Some(status) = ctx.chain.failed {
            if cmd != Command::Create {
                // The session stays known to the rest of the chain.
                ctx.session = ctx.conn.session(session_id);
                return Err(status);
            }
        }
    }
    if matches!(cmd, Command::Negotiate | Command::Echo) && session_id == 0 {
        return Ok(None);
    }
    if cmd == Command::SessionSetup && (session_id == 0 || is_binding(ctx)) {
        // A binding finds its session itself, on whatever connection it lives.
        return Ok(None);
    }
    let Some(session) = ctx.conn.session(session_id) else {
        sign_refusal_for_other_channel(ctx, session_id);
        return Err(NtStatus::USER_SESSION_DELETED);
    };
    let view = SessionView::of(&session, ctx.conn);
    let signer = check_signature(ctx, &view, cmd)?;
    ctx.session = Some(Arc::clone(&session));
    // MS-SMB2 3.3.5.2.9: an expired session still logs off, closes and unlocks; anything else waits
    // for re-authentication.
    if view.expired
        && !matches!(
            cmd,
            Command::SessionSetup | Command::Logoff | Command::Close | Command::Lock
        )
    {
        ctx.sign_with = signer;
        return Err(NtStatus::NETWORK_SESSION_EXPIRED);
    }
    if needs_tree(cmd) {
        let tree = session
            .tree(tree_id)
            .ok_or(NtStatus::NETWORK_NAME_DELETED)?;
        // MS-SMB2 3.3.5.2.11: a tree that must be encrypted refuses plaintext requests.
        if tree.encrypt && !ctx.encrypted {
            return Err(NtStatus::ACCESS_DENIED);
        }
        ctx.tree = Some(tree);
    }
    Ok(signer)
}

/// A request on this connection for a session established on another one and not bound here, or for a
/// session a failed re-authentication ended: it is refused with STATUS_USER_SESSION_DELETED, signed
/// with that session's key when the request was (smbtorture smb2.session.bind_negative_*,
/// bind_invalid_auth: the client checks).
fn sign_refusal_for_other_channel(ctx: &mut Ctx<'_>, session_id: u64) {
    let server = &ctx.conn.server;
    let key = match server.sessions.get_any(session_id) {
        Some((_, session)) => session.lock().signing.clone(),
        None => server.ended_sessions.key(session_id, ctx.conn.id),
    };
    let verifies = |k: &SigningKey| match ctx.signature {
        Some(sig) => k.verify_detached(ctx.pdu, sig),
        None => k.verify(ctx.pdu),
    };
    if let Some(key) = key.filter(|k| ctx.hdr.flags.has(HeaderFlags::SIGNED) && verifies(k)) {
        ctx.sign_with = Some(key);
    }
}

/// A SESSION_SETUP with SMB2_SESSION_FLAG_BINDING (the Flags byte of its body).
fn is_binding(ctx: &Ctx<'_>) -> bool {
    ctx.pdu
        .get(proto::HEADER_LEN + 2)
        .is_some_and(|f| f & proto::messages::session_setup::FLAG_BINDING != 0)
}

/// What a request's checks need of its session, copied out under the session lock once, so the lock
/// is not held while a large PDU's signature is verified.
struct SessionView {
    authenticated: bool,
    encrypt_required: bool,
    signing_required: bool,
    in_setup: bool,
    /// This connection's key when it is a further channel of the session (MS-SMB2 3.3.5.5.3).
    channel_key: Option<SigningKey>,
    session_key: Option<SigningKey>,
    expired: bool,
}

impl SessionView {
    fn of(session: &Session, conn: &Conn) -> SessionView {
        let inner = session.lock();
        SessionView {
            authenticated: inner.auth.is_some(),
            encrypt_required: inner.encrypt_required,
            signing_required: inner.signing_required,
            in_setup: inner.acceptor.is_some(),
            channel_key: inner.channels.get(&conn.id).cloned(),
            session_key: inner.signing.clone(),
            expired: inner
                .expires
                .is_some_and(|t| t <= std::time::SystemTime::now()),
        }
    }
}

/// MS-SMB2 3.3.5.2.4: verify a signed request; reject an unsigned one on a session that requires signing.
fn check_signature(
    ctx: &mut Ctx<'_>,
    view: &SessionView,
    cmd: Command,
) -> Result<Option<SigningKey>, NtStatus> {
    if ctx.encrypted {
        // An encrypted request is authenticated by its cipher tag; it carries no signature (3.3.5.2.4).
        return if !view.authenticated && cmd != Command::SessionSetup {
            Err(NtStatus::USER_SESSION_DELETED)
        } else {
            Ok(None)
        };
    }
    if view.encrypt_required && cmd != Command::SessionSetup {
        // MS-SMB2 3.3.5.2.9: the server rejects unencrypted access to a session that encrypts.
        return Err(NtStatus::ACCESS_DENIED);
    }
    let in_setup = cmd == Command::SessionSetup && view.in_setup;
    if !view.authenticated && cmd != Command::SessionSetup {
        return Err(NtStatus::USER_SESSION_DELETED);
    }
    // A further channel of the session has its own key (MS-SMB2 3.3.5.5.3); a SESSION_SETUP there
    // may also come signed with the session's own (it is then refused, signed with that key).
    let Some(key) = view.channel_key.as_ref().or(view.session_key.as_ref()) else {
        return Ok(None);
    };
    let signed = ctx.hdr.flags.has(HeaderFlags::SIGNED);
    if signed {
        let verifies = |k: &SigningKey| match ctx.signature {
            Some(sig) => k.verify_detached(ctx.pdu, sig),
            None => k.verify(ctx.pdu),
        };
        let valid = verifies(key);
        if let (false, Some(_), Some(main), Command::SessionSetup) = (
            valid,
            view.channel_key.as_ref(),
            view.session_key.as_ref(),
            cmd,
        ) {
            // Re-authentication happens with the channel's key on a further channel.
            if verifies(main) {
                ctx.sign_with = Some(main.clone());
                return Err(NtStatus::ACCESS_DENIED);
            }
        }
        if !valid {
            tracing::warn!(peer = %ctx.conn.peer, "bad signature on {cmd:?}");
            return Err(NtStatus::ACCESS_DENIED);
        }
    } else if view.signing_required && !in_setup && cmd != Command::Echo {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok((signed || view.signing_required).then(|| key.clone()))
}
