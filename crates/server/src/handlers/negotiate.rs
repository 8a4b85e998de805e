//! NEGOTIATE (MS-SMB2 3.3.5.3 and 3.3.5.4), including the SMB1 multi-protocol negotiate of 3.3.5.3.1.

use super::HandlerResult;
use crate::conn::{Conn, Negotiated};
use crate::dispatch::{Ctx, Outcome};
use crate::state::ServerSettings;
use bytes::BytesMut;
use crypto::{Cipher, SigningAlgorithm};
use proto::messages::negotiate::*;
use proto::messages::Body;
use proto::negotiate_context::{self as nc, NegotiateContext};
use proto::smb1::{self, Smb1Offer};
use proto::{Command, Header, HeaderFlags, NtStatus};
use std::sync::Arc;

/// Dialects rsmbd implements, best first.
const SUPPORTED: [u16; 5] = [SMB3_1_1, SMB3_0_2, SMB3_0, SMB2_1, SMB2_0_2];

pub fn pick_dialect(conn: &Conn, offered: &[u16]) -> Option<u16> {
    let s = &conn.server.settings;
    SUPPORTED
        .into_iter()
        .find(|d| *d >= s.min_dialect && *d <= s.max_dialect && offered.contains(d))
}

fn now_filetime() -> u64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    vfs::unix_to_filetime(i64::try_from(d.as_secs()).unwrap_or(0), d.subsec_nanos())
}

fn security_mode(conn: &Conn) -> u16 {
    SIGNING_ENABLED
        | if conn.server.settings.require_signing {
            SIGNING_REQUIRED
        } else {
            0
        }
}

/// Capabilities of the NEGOTIATE response. CAP_ENCRYPTION is only announced for 3.0/3.0.2, where it is
/// how encryption is agreed; 3.1.1 agrees through the encryption context (MS-SMB2 3.3.5.4).
fn capabilities(dialect: u16, cipher: bool, settings: &crate::ServerSettings) -> u32 {
    let mtu = if dialect >= SMB2_1 { CAP_LARGE_MTU } else { 0 };
    // Leasing exists from SMB 2.1 on (MS-SMB2 3.3.5.4), when `smb2 leases` is on.
    let leases = settings.leases;
    let leasing = match dialect {
        // Directory leases are SMB 3.x's (MS-SMB2 3.3.5.4).
        d if settings.directory_leases && d >= SMB3_0 => CAP_LEASING | CAP_DIRECTORY_LEASING,
        d if leases && d >= SMB2_1 => CAP_LEASING,
        _ => 0,
    };
    let encryption = if cipher && dialect < SMB3_1_1 {
        CAP_ENCRYPTION
    } else {
        0
    };
    let multi_channel = if settings.multi_channel && dialect >= SMB3_0 {
        CAP_MULTI_CHANNEL
    } else {
        0
    };
    mtu | encryption | leasing | multi_channel
}

/// Encode the response body for `dialect` with the given 3.1.1 contexts.
fn encode_response(
    conn: &Conn,
    dialect: u16,
    negotiated_caps: u32,
    contexts: Vec<NegotiateContext<'_>>,
    out: &mut BytesMut,
    start: usize,
) {
    let s = &conn.server.settings;
    let small = dialect == SMB2_0_2 || dialect == SMB2_WILDCARD;
    let cap = |v: u32| if small { v.min(65536) } else { v };
    let token = auth::negotiate_token(s.kerberos.is_some(), !s.ntlm_disabled);
    NegotiateResponse {
        security_mode: security_mode(conn),
        dialect_revision: dialect,
        server_guid: s.server_guid,
        capabilities: negotiated_caps,
        max_transact_size: cap(s.max_trans),
        max_read_size: cap(s.max_read),
        max_write_size: cap(s.max_write),
        system_time: now_filetime(),
        server_start_time: 0,
        security_buffer: &token,
        contexts,
    }
    .encode(out, start);
}

/// What a 3.1.1 NEGOTIATE settled through its contexts.
struct Choices<'s> {
    contexts: Vec<NegotiateContext<'s>>,
    cipher: Option<Cipher>,
    signing: SigningAlgorithm,
}

/// The type of a context a request may carry at most once (MS-SMB2 3.3.5.4).
fn once_only(c: &NegotiateContext<'_>) -> Option<u16> {
    match c {
        NegotiateContext::PreauthIntegrity { .. } => Some(nc::PREAUTH_INTEGRITY_CAPABILITIES),
        NegotiateContext::Encryption { .. } => Some(nc::ENCRYPTION_CAPABILITIES),
        NegotiateContext::Compression { .. } => Some(nc::COMPRESSION_CAPABILITIES),
        NegotiateContext::Transport { .. } => Some(nc::TRANSPORT_CAPABILITIES),
        NegotiateContext::RdmaTransform { .. } => Some(nc::RDMA_TRANSFORM_CAPABILITIES),
        NegotiateContext::Signing { .. } => Some(nc::SIGNING_CAPABILITIES),
        NegotiateContext::NetName(_) | NegotiateContext::Unknown { .. } => None,
    }
}

/// The negotiate contexts of the response and the algorithms chosen (MS-SMB2 3.3.5.4).
fn negotiate_contexts<'s>(
    settings: &ServerSettings,
    req: &NegotiateRequest<'_>,
    salt: &'s [u8; 32],
) -> Result<Choices<'s>, NtStatus> {
    let mut preauth_ok = false;
    let mut choices = Choices {
        contexts: Vec::new(),
        cipher: None,
        signing: SigningAlgorithm::AesCmac,
    };
    // A repeated context would be answered twice and let the last one silently win.
    let mut seen = Vec::new();
    for t in req.contexts.iter().filter_map(once_only) {
        if seen.contains(&t) {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        seen.push(t);
    }
    for c in &req.contexts {
        match c {
            NegotiateContext::PreauthIntegrity {
                hash_algorithms, ..
            } => {
                if !hash_algorithms.contains(&nc::HASH_SHA512) {
                    return Err(NtStatus::SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP);
                }
                preauth_ok = true;
            }
            NegotiateContext::Encryption { ciphers } => {
                // No common cipher is answered with CipherCount 1 and cipher 0.
                choices.cipher = settings
                    .ciphers
                    .iter()
                    .copied()
                    .find(|c| ciphers.contains(&c.as_u16()));
                let id = choices.cipher.map_or(0, Cipher::as_u16);
                choices
                    .contexts
                    .push(NegotiateContext::Encryption { ciphers: vec![id] });
            }
            NegotiateContext::Signing { algorithms } => {
                // With no common algorithm the server uses AES-CMAC, the 3.x default.
                choices.signing = settings
                    .signing_algorithms
                    .iter()
                    .copied()
                    .find(|a| algorithms.contains(&a.as_u16()))
                    .unwrap_or(SigningAlgorithm::AesCmac);
                choices.contexts.push(NegotiateContext::Signing {
                    algorithms: vec![choices.signing.as_u16()],
                });
            }
            _ => {}
        }
    }
    if !preauth_ok {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    choices.contexts.insert(
        0,
        NegotiateContext::PreauthIntegrity {
            hash_algorithms: vec![nc::HASH_SHA512],
            salt,
        },
    );
    Ok(choices)
}

/// 3.0 and 3.0.2 encrypt with AES-128-CCM when the client says it can (SMB2_GLOBAL_CAP_ENCRYPTION).
fn smb30_choices(dialect: u16, client_caps: u32) -> Choices<'static> {
    let cipher =
        (dialect >= SMB3_0 && client_caps & CAP_ENCRYPTION != 0).then_some(Cipher::Aes128Ccm);
    let signing = if dialect >= SMB3_0 {
        SigningAlgorithm::AesCmac
    } else {
        SigningAlgorithm::HmacSha256
    };
    Choices {
        contexts: Vec::new(),
        cipher,
        signing,
    }
}

/// MS-SMB2 3.3.5.3: a second NEGOTIATE on a connection ends it, whatever its body.
pub fn refuse_second(ctx: &mut Ctx<'_>) -> Result<(), NtStatus> {
    if ctx.conn.negotiated().is_some() {
        ctx.close_after = true;
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(())
}

pub fn handle(ctx: &mut Ctx<'_>, req: NegotiateRequest<'_>, out: &mut BytesMut) -> HandlerResult {
    let conn = ctx.conn;
    let dialect = pick_dialect(conn, &req.dialects).ok_or(NtStatus::NOT_SUPPORTED)?;
    let mut salt = [0u8; 32];
    let choices = if dialect == SMB3_1_1 {
        getrandom::fill(&mut salt).map_err(|_| NtStatus::INTERNAL_ERROR)?;
        negotiate_contexts(&conn.server.settings, &req, &salt)?
    } else {
        smb30_choices(dialect, req.capabilities)
    };
    let negotiated = Negotiated {
        dialect,
        client_guid: req.client_guid,
        client_security_mode: req.security_mode,
        client_capabilities: req.capabilities,
        client_dialects: req.dialects.clone(),
        server_security_mode: security_mode(conn),
        server_capabilities: capabilities(dialect, choices.cipher.is_some(), &conn.server.settings),
        cipher: choices.cipher,
        signing_algorithm: choices.signing,
    };
    if !conn.set_negotiated(negotiated) {
        ctx.close_after = true;
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if dialect == SMB3_1_1 {
        conn.preauth().update(ctx.pdu);
    }
    let caps = capabilities(dialect, choices.cipher.is_some(), &conn.server.settings);
    encode_response(conn, dialect, caps, choices.contexts, out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

pub fn after_response(ctx: &mut Ctx<'_>, status: NtStatus, resp: &[u8]) {
    let is_311 = ctx.conn.negotiated().is_some_and(|n| n.dialect == SMB3_1_1);
    if status.is_success() && is_311 {
        ctx.conn.preauth().update(resp);
    }
}

/// An SMB1 NEGOTIATE: answer with an SMB2 NEGOTIATE response if SMB2 is offered (MS-SMB2 3.3.5.3.1),
/// otherwise refuse with an SMB1 "no dialect" reply and close.
pub fn smb1(conn: &Arc<Conn>, frame: &[u8]) -> Outcome {
    if conn.negotiated().is_some()
        || conn
            .smb1_wildcard
            .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        return Outcome::Disconnect;
    }
    let min = conn.server.settings.min_dialect;
    let dialect = match smb1::parse_negotiate(frame) {
        Err(_) => return Outcome::Disconnect,
        Ok(Smb1Offer::Smb2Wildcard) => SMB2_WILDCARD,
        Ok(Smb1Offer::Smb202Only) if min <= SMB2_0_2 => SMB2_0_2,
        Ok(_) => {
            tracing::info!(peer = %conn.peer, "refusing an SMB1-only client");
            let mut out = BytesMut::new();
            smb1::encode_no_dialect_response(&mut out);
            return Outcome::ReplyThenClose(out);
        }
    };
    if dialect == SMB2_0_2 {
        let n = Negotiated {
            dialect,
            client_guid: [0; 16],
            client_security_mode: 0,
            client_capabilities: 0,
            client_dialects: vec![SMB2_0_2],
            server_security_mode: security_mode(conn),
            server_capabilities: 0,
            cipher: None,
            signing_algorithm: SigningAlgorithm::HmacSha256,
        };
        conn.set_negotiated(n);
    }
    let mut credits = conn.credits();
    credits.consume(0, 1);
    let granted = credits.grant(1);
    drop(credits);
    let mut out = BytesMut::new();
    Header {
        command: Command::Negotiate as u16,
        credits: granted,
        flags: HeaderFlags(HeaderFlags::SERVER_TO_REDIR),
        ..Header::default()
    }
    .encode(&mut out);
    encode_response(conn, dialect, 0, Vec::new(), &mut out, 0);
    Outcome::Reply(out)
}
