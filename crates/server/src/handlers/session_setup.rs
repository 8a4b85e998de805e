//! SESSION_SETUP (MS-SMB2 3.3.5.5): SPNEGO/NTLMv2 authentication through the `auth` crate, session key
//! derivation, the 3.1.1 pre-authentication hash, and re-authentication of an existing session.

use super::HandlerResult;
use crate::blocking::run_as;
use crate::conn::Conn;
use crate::dispatch::Ctx;
use crate::session::{AuthInfo, Session};
use auth::{Acceptor, AcceptorPolicy, AuthError, Identity, ServerNames, Step};
use bytes::BytesMut;
use config::SmbEncrypt;
use crypto::{derive_session_keys, Dialect};
use proto::messages::negotiate::{SIGNING_REQUIRED, SMB3_1_1};
use proto::messages::session_setup::*;
use proto::messages::Body;
use proto::NtStatus;
use std::sync::Arc;
use std::time::Instant;

pub(super) fn acceptor(ctx: &Ctx<'_>) -> Acceptor {
    let s = &ctx.conn.server.settings;
    let names = ServerNames {
        netbios_computer: s.netbios_name.clone(),
        netbios_domain: s.workgroup.clone(),
        dns_computer: s.dns_name.clone(),
        dns_domain: String::new(),
    };
    let policy = AcceptorPolicy {
        allow_anonymous: s.allow_anonymous,
        map_unknown_user_to_guest: s.map_unknown_to_guest,
        ntlm_disabled: s.ntlm_disabled,
    };
    let acceptor = Acceptor::new(names, policy);
    match &s.kerberos {
        Some(k) => acceptor.with_kerberos(Arc::clone(k)),
        None => acceptor,
    }
}

/// The password database, and for Kerberos principals without an entry there, the Unix accounts; the
/// principals' names go through `username map` first.
struct Accounts(
    auth::passdb::SmbPasswd,
    Arc<crate::username_map::UsernameMap>,
);

impl auth::UserLookup for Accounts {
    fn lookup(&self, name: &str) -> Option<auth::UserRecord> {
        self.0.lookup(name)
    }

    fn unix_uid(&self, name: &str) -> Option<u32> {
        vfs::Identity::lookup_name(name).map(|i| i.uid)
    }

    fn map_name(&self, name: &str) -> String {
        self.1.map(name)
    }
}

fn auth_status(e: AuthError) -> NtStatus {
    match e {
        AuthError::LogonFailure => NtStatus::LOGON_FAILURE,
        AuthError::AccountDisabled => NtStatus::ACCOUNT_DISABLED,
        AuthError::InvalidToken => NtStatus::INVALID_PARAMETER,
        AuthError::Internal => NtStatus::INTERNAL_ERROR,
    }
}

/// The session this request continues, or a new one.
fn find_or_create(ctx: &mut Ctx<'_>) -> Result<Arc<Session>, NtStatus> {
    if let Some(s) = ctx.session.clone() {
        return Ok(s);
    }
    let max = ctx.conn.server.settings.limits.max_sessions_per_connection;
    let Some(budget) = ctx.conn.server.budgets.authenticating() else {
        tracing::warn!(peer = %ctx.conn.peer, "session setup refused: server max authenticating sessions");
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    };
    let s = Arc::new(Session::new(ctx.conn.server.next_id()));
    s.lock().setup_budget = Some(budget);
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    // `max sessions per connection` (in-progress setups count too, so endless setups stay bounded).
    if !ctx
        .conn
        .server
        .sessions
        .insert(ctx.conn.id, s.id, Arc::clone(&s), max)
    {
        return Err(NtStatus::REQUEST_NOT_ACCEPTED);
    }
    expire_if_unfinished(&ctx.conn.server, &s);
    Ok(s)
}

/// A session whose authentication has not completed within `handshake timeout` is removed, so that
/// half-done SESSION_SETUPs cannot hold the places of `server max authenticating sessions` (or of
/// `max sessions per connection`) for ever.
fn expire_if_unfinished(server: &Arc<crate::state::ServerState>, session: &Arc<Session>) {
    let secs = server.settings.limits.handshake_timeout_secs;
    let (server, weak) = (Arc::downgrade(server), Arc::downgrade(session));
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        let (Some(server), Some(session)) = (server.upgrade(), weak.upgrade()) else {
            return;
        };
        let current = server
            .sessions
            .get_any(session.id)
            .is_some_and(|(_, s)| Arc::ptr_eq(&s, &session));
        // Under the session's lock, so that an authentication completing now cannot be undone.
        let mut inner = session.lock();
        if current && inner.auth.is_none() {
            tracing::info!(
                session = session.id,
                "session setup not completed in time: removed"
            );
            inner.setup_budget = None;
            inner.acceptor = None;
            server.sessions.remove(session.id);
        }
    });
}

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: SessionSetupRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    if req.flags & FLAG_BINDING != 0 {
        return super::session_bind::handle(ctx, req, out).await;
    }
    let neg = ctx.conn.negotiated().ok_or(NtStatus::INVALID_PARAMETER)?;
    let session = find_or_create(ctx)?;
    ctx.resp_session_id = session.id;
    let acc = {
        let mut inner = session.lock();
        if neg.dialect == SMB3_1_1 {
            let base = ctx.conn.preauth().clone();
            inner.preauth.get_or_insert(base).update(ctx.pdu);
        }
        inner.acceptor.take().unwrap_or_else(|| acceptor(ctx))
    };
    let token = req.security_buffer.to_vec();
    let (result, acc) = match authenticate(ctx, acc, token).await {
        Ok(v) => v,
        Err(status) => return fail(ctx.conn, &session, status).await,
    };
    let throttle = &ctx.conn.server.throttle;
    let (ip, now) = (ctx.conn.peer.ip(), Instant::now());
    let claimed = acc.claimed_user().map(str::to_owned);
    match result {
        Ok(Step::Continue(token)) => {
            session.lock().acceptor = Some(acc);
            SessionSetupResponse {
                session_flags: 0,
                security_buffer: &token,
            }
            .encode(out, ctx.resp_start);
            Ok(NtStatus::MORE_PROCESSING_REQUIRED)
        }
        // With the opt-in lockout, attempts from a locked-out address or for a locked-out user fail whatever
        // the password.
        Ok(Step::Done { .. }) if throttle.blocked(ip, claimed.as_deref(), now) => {
            tracing::warn!(peer = %ctx.conn.peer, user = claimed.as_deref().unwrap_or(""), "logon refused: too many failures");
            fail(ctx.conn, &session, NtStatus::LOGON_FAILURE).await
        }
        Ok(Step::Done {
            token,
            identity,
            session_key,
        }) => {
            if let Identity::User { name, .. } = &identity {
                throttle.record_success(name);
            }
            {
                let mut inner = session.lock();
                inner.expires = acc.expires();
                inner.setup_budget = None;
            }
            let flags = match complete(ctx, &session, &req, identity, session_key, neg.dialect) {
                Ok(flags) => flags,
                Err(status) => return fail(ctx.conn, &session, status).await,
            };
            if req.previous_session_id != 0 && req.previous_session_id != session.id {
                end_previous(ctx.conn, req.previous_session_id, &session).await;
            }
            SessionSetupResponse {
                session_flags: flags,
                security_buffer: &token,
            }
            .encode(out, ctx.resp_start);
            Ok(NtStatus::SUCCESS)
        }
        Err(e) => {
            tracing::info!(peer = %ctx.conn.peer, user = claimed.as_deref().unwrap_or(""), "session setup failed: {e}");
            if matches!(e, AuthError::LogonFailure | AuthError::AccountDisabled) {
                let Some(permit) = throttle.record_failure(ip, claimed.as_deref(), now) else {
                    tracing::warn!(peer = %ctx.conn.peer, "too many failed logons waiting: connection ended");
                    ctx.disconnect = true;
                    return fail(ctx.conn, &session, auth_status(e)).await;
                };
                tokio::time::sleep(permit.delay).await;
            }
            fail(ctx.conn, &session, auth_status(e)).await
        }
    }
}

/// One step of the authentication exchange. The password database is read as root; the client's token
/// (SPNEGO, NTLM, Kerberos tickets: untrusted input) is parsed and checked on a thread running as the
/// guest account, so a parser fault could not act with root's rights.
pub(super) async fn authenticate(
    ctx: &Ctx<'_>,
    mut acc: Acceptor,
    token: Vec<u8>,
) -> Result<(Result<Step, AuthError>, Acceptor), NtStatus> {
    let settings = &ctx.conn.server.settings;
    let passdb = settings.passdb_path.clone();
    let map = Arc::clone(&settings.username_map);
    let root = Arc::new(vfs::Identity {
        uid: 0,
        gid: 0,
        groups: Vec::new(),
    });
    let guest_uid = settings.guest_uid;
    let (users, unprivileged) = run_as(&root, move || {
        let users = auth::passdb::SmbPasswd::load(&passdb).map_err(|e| {
            tracing::error!(
                "cannot read the password database {}: {e}",
                passdb.display()
            );
            NtStatus::LOGON_FAILURE
        })?;
        Ok((users, Arc::new(vfs::Identity::lookup_unix(guest_uid))))
    })
    .await?;
    run_as(&unprivileged, move || {
        Ok((acc.step(&token, &Accounts(users, map)), acc))
    })
    .await
}

/// MS-SMB2 3.3.5.5.3: a client that reconnects names its previous session; if the same user holds
/// it, on any connection, it ends (its opens are closed, its pending requests get their cleanup
/// status). Another user's session is left alone.
async fn end_previous(conn: &Conn, previous: u64, session: &Session) {
    let server = &conn.server;
    let Some((owner, old)) = server.sessions.get_any(previous) else {
        return;
    };
    let user = |s: &Session| s.auth().and_then(|a| a.user.clone());
    if user(&old).is_none() || user(&old) != user(session) {
        return;
    }
    tracing::info!(peer = %conn.peer, previous, "previous session of this user ends");
    match server.conns.live().into_iter().find(|c| c.id == owner) {
        Some(c) => crate::lifecycle::logoff(&c, &old).await,
        None => {
            server.sessions.remove(previous);
        }
    }
}

/// A failed authentication removes a session that was never established (MS-SMB2 3.3.5.5.3); a
/// failed re-authentication of an established session ends that session as LOGOFF would (its
/// pending requests get their cleanup status), as Windows does.
async fn fail(conn: &Conn, session: &Session, status: NtStatus) -> HandlerResult {
    let established = session.lock().auth.is_some();
    if established {
        if let Some((owner, _)) = conn.server.sessions.get_any(session.id) {
            conn.server.ended_sessions.remember(owner, session);
        }
        crate::lifecycle::logoff(conn, session).await;
    } else {
        conn.server.sessions.remove(session.id);
    }
    Err(status)
}

fn unix_identity(ctx: &Ctx<'_>, identity: &Identity) -> Arc<vfs::Identity> {
    let uid = match identity {
        Identity::User { uid, .. } => *uid,
        Identity::Guest | Identity::Anonymous => ctx.conn.server.settings.guest_uid,
    };
    Arc::new(vfs::Identity::lookup_unix(uid))
}

/// Record the authenticated identity and derive keys. Returns the SessionFlags of the response.
fn complete(
    ctx: &mut Ctx<'_>,
    session: &Session,
    req: &SessionSetupRequest<'_>,
    identity: Identity,
    session_key: Option<[u8; 16]>,
    dialect: u16,
) -> Result<u16, NtStatus> {
    let unix = unix_identity(ctx, &identity);
    let (user, domain) = match &identity {
        Identity::User { name, domain, .. } => (Some(name.clone()), domain.clone()),
        _ => (None, String::new()),
    };
    let is_guest = identity == Identity::Guest;
    let is_anonymous = identity == Identity::Anonymous;
    tracing::info!(peer = %ctx.conn.peer, user = user.as_deref().unwrap_or(if is_guest { "guest" } else { "anonymous" }), "session established");
    let mut inner = session.lock();
    let preauth = inner.preauth.take().unwrap_or_default();
    if let (Some(key), None) = (session_key, &inner.signing) {
        let d = Dialect::from_u16(dialect).ok_or(NtStatus::INTERNAL_ERROR)?;
        let neg = ctx.conn.negotiated().ok_or(NtStatus::INTERNAL_ERROR)?;
        let keys = derive_session_keys(d, &key, preauth.value(), neg.cipher, neg.signing_algorithm);
        inner.signing = Some(keys.signing);
        inner.encryption = keys.encryption;
        inner.decryption = keys.decryption;
        inner.signing_required = ctx.conn.server.settings.require_signing
            || u16::from(req.security_mode) & SIGNING_REQUIRED != 0;
    }
    let signed_request = ctx.hdr.flags.has(proto::HeaderFlags::SIGNED);
    if dialect == SMB3_1_1 || inner.signing_required || signed_request {
        ctx.sign_with = inner.signing.clone();
    }
    // Server-wide encryption (MS-SMB2 3.3.5.5.3): a session that cannot encrypt is refused where
    // encryption is required; one that can is told to encrypt everything.
    let can_encrypt = inner.encryption.is_some();
    let encrypt_flag = match ctx.conn.server.settings.encrypt {
        SmbEncrypt::Required if !can_encrypt => {
            tracing::info!(peer = %ctx.conn.peer, "logon refused: the server requires encryption");
            return Err(NtStatus::ACCESS_DENIED);
        }
        SmbEncrypt::Required => {
            inner.encrypt_required = true;
            SESSION_FLAG_ENCRYPT_DATA
        }
        SmbEncrypt::Desired if can_encrypt => SESSION_FLAG_ENCRYPT_DATA,
        _ => 0,
    };
    inner.auth = Some(Arc::new(AuthInfo {
        user,
        domain,
        is_guest,
        is_anonymous,
        unix,
    }));
    ctx.conn.set_authenticated();
    Ok(if is_guest {
        SESSION_FLAG_IS_GUEST
    } else if is_anonymous {
        SESSION_FLAG_IS_NULL
    } else {
        encrypt_flag
    })
}

/// 3.1.1: every SESSION_SETUP response except the final successful one goes into the session's hash.
pub fn after_response(ctx: &mut Ctx<'_>, status: NtStatus, resp: &[u8]) {
    if status != NtStatus::MORE_PROCESSING_REQUIRED
        || super::session_bind::after_response(ctx, resp)
    {
        return;
    }
    if let Some(s) = ctx.conn.session(ctx.resp_session_id) {
        if let Some(h) = s.lock().preauth.as_mut() {
            h.update(resp);
        }
    }
}
