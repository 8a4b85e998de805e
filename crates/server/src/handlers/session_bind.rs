//! SESSION_SETUP with SMB2_SESSION_FLAG_BINDING (MS-SMB2 3.3.5.5.2, 3.3.5.5.3): a client adds this
//! connection as a further channel of a session it established on another connection (multichannel).
//!
//! Refusals, in order, with the statuses Windows and Samba send (smbtorture smb2.session.bind_*):
//! - no such session: STATUS_USER_SESSION_DELETED;
//! - a request not signed with the session's key: STATUS_ACCESS_DENIED (every later answer is signed
//!   with that key);
//! - AES-GMAC signing on one side only: STATUS_NOT_SUPPORTED when this connection signs with GMAC,
//!   STATUS_REQUEST_OUT_OF_SEQUENCE when the session's does;
//! - a connection below SMB 3.0: STATUS_REQUEST_NOT_ACCEPTED (SMB 2 has no binding);
//! - a session of another dialect, or whose connection uses another cipher:
//!   STATUS_INVALID_PARAMETER;
//! - a session with 32 channels already: STATUS_INSUFFICIENT_RESOURCES;
//! - a session already bound here, or another user: STATUS_ACCESS_DENIED.
//!
//! The user authenticates again (NTLMv2 through SPNEGO); the channel's signing key is derived from that
//! authentication's session key (on 3.1.1 with this channel's own preauthentication hash), signs the
//! final response, and verifies and signs everything of the session on this connection.

use super::HandlerResult;
use crate::dispatch::Ctx;
use crate::session::Session;
use auth::{Acceptor, Identity, Step};
use bytes::BytesMut;
use crypto::{derive_session_keys, Dialect, PreauthHash, SigningAlgorithm};
use proto::messages::negotiate::{SMB3_0, SMB3_1_1};
use proto::messages::session_setup::{SessionSetupRequest, SessionSetupResponse};
use proto::messages::Body;
use proto::{HeaderFlags, NtStatus};
use std::sync::Arc;

/// The most channels one session has, its first connection included (Windows' limit; smbtorture
/// smb2.multichannel.generic.num_channels): a bound on what one logon can hold.
const MAX_CHANNELS: usize = 32;

/// A binding in progress on one connection.
pub struct Binding {
    session_id: u64,
    acceptor: Acceptor,
    /// 3.1.1: this channel's preauthentication hash.
    preauth: PreauthHash,
    /// The session's signing key, which signs the responses before the last.
    session_key: crypto::SigningKey,
}

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: SessionSetupRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    let neg = ctx.conn.negotiated().ok_or(NtStatus::INVALID_PARAMETER)?;
    let id = ctx.hdr.session_id;
    ctx.resp_session_id = id;
    let server = Arc::clone(&ctx.conn.server);
    let (home, session) = server
        .sessions
        .get_any(id)
        .ok_or(NtStatus::USER_SESSION_DELETED)?;
    // From here on every answer is signed with the session's key, refusals included.
    let key = verify(ctx, &session)?;
    ctx.sign_with = Some(key.clone());
    let home_neg = server
        .conns
        .live()
        .into_iter()
        .find(|c| c.id == home)
        .and_then(|c| c.negotiated())
        .ok_or(NtStatus::USER_SESSION_DELETED)?;
    let gmac = |a: SigningAlgorithm| a == SigningAlgorithm::AesGmac;
    match (
        gmac(home_neg.signing_algorithm),
        gmac(neg.signing_algorithm),
    ) {
        (false, true) => return Err(NtStatus::NOT_SUPPORTED),
        (true, false) => return Err(NtStatus::REQUEST_OUT_OF_SEQUENCE),
        _ => {}
    }
    if neg.dialect < SMB3_0 || !server.settings.multi_channel {
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    }
    if home_neg.dialect != neg.dialect || home_neg.cipher != neg.cipher {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if session.lock().channels.len() + 1 >= MAX_CHANNELS {
        return Err(NtStatus::INSUFFICIENT_RESOURCES);
    }
    if home == ctx.conn.id || session.lock().channels.contains_key(&ctx.conn.id) {
        tracing::info!(peer = %ctx.conn.peer, "session binding refused: already bound here");
        return Err(NtStatus::ACCESS_DENIED);
    }
    let mut binding = take_binding(ctx, id, neg.dialect, key);
    let token = req.security_buffer.to_vec();
    let stepped = super::session_setup::authenticate(ctx, binding.acceptor, token).await;
    let (result, acceptor) = stepped?;
    binding.acceptor = acceptor;
    match result.map_err(|_| NtStatus::LOGON_FAILURE)? {
        Step::Continue(token) => {
            ctx.sign_with = Some(binding.session_key.clone());
            *ctx.conn.binding() = Some(binding);
            SessionSetupResponse {
                session_flags: 0,
                security_buffer: &token,
            }
            .encode(out, ctx.resp_start);
            Ok(NtStatus::MORE_PROCESSING_REQUIRED)
        }
        Step::Done {
            token,
            identity,
            session_key,
        } => {
            let Identity::User { name, .. } = identity else {
                return Err(NtStatus::ACCESS_DENIED);
            };
            let same_user = session
                .auth()
                .and_then(|a| a.user.clone())
                .is_some_and(|u| u.eq_ignore_ascii_case(&name));
            let session_key = session_key.ok_or(NtStatus::ACCESS_DENIED)?;
            if !same_user {
                tracing::info!(peer = %ctx.conn.peer, user = name, "session binding refused: another user");
                return Err(NtStatus::ACCESS_DENIED);
            }
            let dialect = Dialect::from_u16(neg.dialect).ok_or(NtStatus::INTERNAL_ERROR)?;
            let keys = derive_session_keys(
                dialect,
                &session_key,
                binding.preauth.value(),
                neg.cipher,
                neg.signing_algorithm,
            );
            session
                .lock()
                .channels
                .insert(ctx.conn.id, keys.signing.clone());
            server.sessions.add_channel(id, ctx.conn.id);
            ctx.session = Some(Arc::clone(&session));
            ctx.sign_with = Some(keys.signing);
            tracing::info!(peer = %ctx.conn.peer, session = id, "channel bound to session");
            SessionSetupResponse {
                session_flags: 0,
                security_buffer: &token,
            }
            .encode(out, ctx.resp_start);
            Ok(NtStatus::SUCCESS)
        }
    }
}

/// A binding request must be signed with the session's key; returns the key.
fn verify(ctx: &Ctx<'_>, session: &Session) -> Result<crypto::SigningKey, NtStatus> {
    let key = session
        .lock()
        .signing
        .clone()
        .ok_or(NtStatus::ACCESS_DENIED)?;
    let signed = ctx.hdr.flags.has(HeaderFlags::SIGNED);
    if !signed || !key.verify(ctx.pdu) {
        tracing::info!(peer = %ctx.conn.peer, signed, "session binding refused: not signed with the session's key");
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(key)
}

/// The binding of session `id` in progress on this connection, or a new one; on 3.1.1 the request
/// goes into its preauthentication hash.
fn take_binding(ctx: &Ctx<'_>, id: u64, dialect: u16, key: crypto::SigningKey) -> Binding {
    let mut binding = match ctx.conn.binding().take() {
        Some(b) if b.session_id == id => b,
        _ => Binding {
            session_id: id,
            acceptor: super::session_setup::acceptor(ctx),
            preauth: ctx.conn.preauth().clone(),
            session_key: key,
        },
    };
    if dialect == SMB3_1_1 {
        binding.preauth.update(ctx.pdu);
    }
    binding
}

/// 3.1.1: a MORE_PROCESSING_REQUIRED response of a binding goes into the channel's hash as the
/// client receives it: signed with the session's key (signing is deterministic, so this copy is signed
/// exactly as the response will be).
pub fn after_response(ctx: &Ctx<'_>, resp: &[u8]) -> bool {
    match ctx.conn.binding().as_mut() {
        Some(b) if b.session_id == ctx.resp_session_id => {
            let mut signed = BytesMut::from(resp);
            let flags = proto::reader::u32_at(&signed, 16).unwrap_or(0) | HeaderFlags::SIGNED;
            proto::writer::patch_u32(&mut signed, 16, flags);
            b.session_key.sign(&mut signed);
            b.preauth.update(&signed);
            true
        }
        _ => false,
    }
}
