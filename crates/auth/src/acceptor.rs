//! The SESSION_SETUP security acceptor: SPNEGO negotiation (RFC 4178, MS-SPNG 3.2.5) around the
//! NTLM server (MS-NLMP 3.2.5.1), or raw NTLMSSP when the client sends it unwrapped.
//!
//! SPNEGO flow: the client's NegTokenInit either carries the NTLM NEGOTIATE_MESSAGE as its
//! optimistic mechToken (NTLMSSP first in its list) or not, in which case the acceptor first names
//! NTLMSSP as the supported mechanism and waits for the NEGOTIATE_MESSAGE. The CHALLENGE_MESSAGE
//! goes out in a NegTokenResp (accept-incomplete); the AUTHENTICATE_MESSAGE comes back in a
//! NegTokenResp, possibly with a mechListMIC, which is then checked and answered (3.2.5.1).
//!
//! Kerberos (MS-SPNG 3.3.5.1, MS-KILE): when the server has a keytab and the client's preferred
//! mechanism is Kerberos 5 (either OID), its optimistic AP-REQ is verified by [`crate::kerberos`] and
//! answered in one step: accept-completed, the AP-REP, and a mechListMIC. A client that lists Kerberos
//! first without a token is told to send one. With NTLM disabled (`ntlm auth = disabled`) only
//! Kerberos logs on.

use crate::kerberos::{KerberosService, KRB5_OID, MS_KRB5_OID};
use crate::ntlm::messages::{self, Authenticate, AV_FLAG_MIC_PRESENT, MIC_RANGE};
use crate::ntlm::signing::{signature, Direction};
use crate::ntlm::{flags, v2};
use crate::spnego::{self, ClientToken, NegState, NTLMSSP_OID};
use crate::{AcceptorPolicy, AuthError, Identity, ServerNames, Step, UserLookup};
use crypto::ct_eq;
use std::sync::Arc;
use std::time::SystemTime;

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_SECS: u64 = 11_644_473_600;

/// How the NTLM messages travel.
#[derive(Debug)]
enum Framing {
    Raw,
    /// SPNEGO; holds the DER MechTypeList the client sent, the mechListMIC input.
    Spnego {
        mech_types: Vec<u8>,
    },
}

/// Everything the AUTHENTICATE_MESSAGE is checked against.
#[derive(Debug)]
struct Pending {
    framing: Framing,
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
}

#[derive(Debug)]
enum State {
    Start,
    /// SPNEGO chose NTLMSSP without an optimistic token; the NEGOTIATE_MESSAGE comes next.
    AwaitNegotiate {
        mech_types: Vec<u8>,
    },
    AwaitAuthenticate(Pending),
    /// SPNEGO chose Kerberos without an optimistic token; the AP-REQ comes next under that OID.
    AwaitApReq {
        mech_types: Vec<u8>,
        oid: Vec<u8>,
    },
    /// Finished or failed; any further token is out of sequence.
    Closed,
}

/// A successful NTLM logon before SPNEGO wraps it up.
struct Outcome {
    identity: Identity,
    /// ExportedSessionKey and the negotiated flags, for user logons only.
    keys: Option<([u8; 16], u32)>,
}

/// One SESSION_SETUP authentication exchange.
#[derive(Debug)]
pub struct Acceptor {
    names: ServerNames,
    policy: AcceptorPolicy,
    state: State,
    /// The user name the client's AUTHENTICATE message claimed, verified or not (for throttling).
    claimed_user: Option<String>,
    kerberos: Option<Arc<KerberosService>>,
    /// When the credentials of a completed logon expire (the Kerberos ticket's end time).
    expires: Option<SystemTime>,
}

impl Acceptor {
    pub fn new(names: ServerNames, policy: AcceptorPolicy) -> Self {
        Acceptor {
            names,
            policy,
            state: State::Start,
            claimed_user: None,
            kerberos: None,
            expires: None,
        }
    }

    /// Also accepts Kerberos, with `service`'s keys.
    pub fn with_kerberos(mut self, service: Arc<KerberosService>) -> Self {
        self.kerberos = Some(service);
        self
    }

    /// When the credentials of the completed logon expire (Kerberos), if they do.
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires
    }

    fn ntlm_allowed(&self) -> bool {
        !self.policy.ntlm_disabled
    }

    /// The user name the last AUTHENTICATE message claimed, whether or not the logon succeeded. The
    /// server throttles failed logons per user with it.
    pub fn claimed_user(&self) -> Option<&str> {
        self.claimed_user.as_deref()
    }

    /// Feeds the client's SecurityBuffer and returns the reply. After an error the exchange is
    /// over and every further call fails with InvalidToken.
    pub fn step(&mut self, token: &[u8], users: &dyn UserLookup) -> Result<Step, AuthError> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Start if token.is_empty() => {
                self.state = State::Start;
                Ok(Step::Continue(spnego::negotiate_token(
                    self.kerberos.is_some(),
                    self.ntlm_allowed(),
                )))
            }
            State::Start if token.starts_with(messages::SIGNATURE) => {
                if !self.ntlm_allowed() {
                    return Err(AuthError::LogonFailure);
                }
                let (pending, challenge) = self.challenge(Framing::Raw, token)?;
                self.state = State::AwaitAuthenticate(pending);
                Ok(Step::Continue(challenge))
            }
            State::Start => self.spnego_init(token, users),
            State::AwaitApReq { mech_types, oid } => {
                let ap_req = spnego_response_token(token)?.0;
                self.kerberos_logon(ap_req, &oid, &mech_types, users)
            }
            State::AwaitNegotiate { mech_types } => {
                let ntlm = spnego_response_token(token)?.0;
                let (pending, challenge) = self.challenge(Framing::Spnego { mech_types }, ntlm)?;
                self.state = State::AwaitAuthenticate(pending);
                Ok(Step::Continue(spnego::response(
                    NegState::AcceptIncomplete,
                    None,
                    Some(&challenge),
                    None,
                )))
            }
            State::AwaitAuthenticate(pending) => {
                self.claimed_user = claimed_user(&pending.framing, token);
                self.finish(&pending, token, users)
            }
            State::Closed => Err(AuthError::InvalidToken),
        }
    }

    /// Handles the client's NegTokenInit.
    fn spnego_init(&mut self, token: &[u8], users: &dyn UserLookup) -> Result<Step, AuthError> {
        let ClientToken::Init(init) = spnego::parse(token).map_err(|_| AuthError::InvalidToken)?
        else {
            return Err(AuthError::InvalidToken);
        };
        let mech_types = init.mech_types_raw.to_vec();
        let kerberos = |m: &[u8]| m == KRB5_OID || m == MS_KRB5_OID;
        let first_krb5 = init.mechs.first().filter(|m| kerberos(m)).copied();
        if let (Some(oid), Some(ap_req), Some(_)) = (first_krb5, init.mech_token, &self.kerberos) {
            return self.kerberos_logon(ap_req, oid, &mech_types, users);
        }
        let ntlm = self.ntlm_allowed() && init.mechs.contains(&NTLMSSP_OID);
        if !ntlm {
            // Kerberos is all that is left: ask for its token under the client's OID.
            let oid = init
                .mechs
                .iter()
                .find(|m| kerberos(m))
                .filter(|_| self.kerberos.is_some());
            let oid = oid.ok_or(AuthError::LogonFailure)?.to_vec();
            let reply = spnego::response(NegState::AcceptIncomplete, Some(&oid), None, None);
            self.state = State::AwaitApReq { mech_types, oid };
            return Ok(Step::Continue(reply));
        }
        match (init.mechs.first() == Some(&NTLMSSP_OID), init.mech_token) {
            (true, Some(ntlm)) => {
                let (pending, challenge) = self.challenge(Framing::Spnego { mech_types }, ntlm)?;
                self.state = State::AwaitAuthenticate(pending);
                Ok(Step::Continue(spnego::response(
                    NegState::AcceptIncomplete,
                    Some(NTLMSSP_OID),
                    Some(&challenge),
                    None,
                )))
            }
            _ => {
                self.state = State::AwaitNegotiate { mech_types };
                Ok(Step::Continue(spnego::response(
                    NegState::AcceptIncomplete,
                    Some(NTLMSSP_OID),
                    None,
                    None,
                )))
            }
        }
    }

    /// Verifies a Kerberos AP-REQ and completes the logon in one step: accept-completed with the
    /// AP-REP and our mechListMIC over the client's mechanism list.
    fn kerberos_logon(
        &mut self,
        ap_req: &[u8],
        oid: &[u8],
        mech_types: &[u8],
        users: &dyn UserLookup,
    ) -> Result<Step, AuthError> {
        let service = self.kerberos.as_ref().ok_or(AuthError::LogonFailure)?;
        let accepted = service.accept(ap_req, SystemTime::now())?;
        let identity = kerberos_identity(&accepted.client, &accepted.client_realm, users)?;
        self.claimed_user = accepted.client.first().cloned();
        let mic = accepted.acceptor_mic(mech_types)?;
        let token = spnego::response(
            NegState::AcceptCompleted,
            Some(oid),
            accepted.ap_rep.as_deref(),
            Some(&mic),
        );
        self.expires = Some(accepted.expires);
        Ok(Step::Done {
            token,
            identity,
            session_key: Some(accepted.session_key()),
        })
    }

    /// Answers a NEGOTIATE_MESSAGE with a CHALLENGE_MESSAGE.
    fn challenge(
        &self,
        framing: Framing,
        negotiate: &[u8],
    ) -> Result<(Pending, Vec<u8>), AuthError> {
        let client_flags = messages::parse_negotiate(negotiate)?;
        let mut server_challenge = [0u8; 8];
        getrandom::fill(&mut server_challenge).map_err(|_| AuthError::Internal)?;
        let challenge = messages::build_challenge(
            messages::challenge_flags(client_flags),
            &server_challenge,
            &self.names,
            filetime_now(),
        );
        let pending = Pending {
            framing,
            negotiate: negotiate.to_vec(),
            challenge: challenge.clone(),
            server_challenge,
        };
        Ok((pending, challenge))
    }

    /// Handles the AUTHENTICATE_MESSAGE and, under SPNEGO, the mechListMIC exchange.
    fn finish(
        &self,
        pending: &Pending,
        token: &[u8],
        users: &dyn UserLookup,
    ) -> Result<Step, AuthError> {
        let Framing::Spnego { mech_types } = &pending.framing else {
            let outcome = self.authenticate(pending, token, users)?;
            return Ok(done(Vec::new(), outcome));
        };
        let (ntlm, client_mic) = spnego_response_token(token)?;
        let outcome = self.authenticate(pending, ntlm, users)?;
        let server_mic = match (client_mic, outcome.keys) {
            (Some(mic), Some((key, negotiated))) => {
                let expected =
                    signature(&key, negotiated, Direction::ClientToServer, 0, mech_types);
                if !ct_eq(&expected, mic) {
                    return Err(AuthError::LogonFailure);
                }
                Some(signature(
                    &key,
                    negotiated,
                    Direction::ServerToClient,
                    0,
                    mech_types,
                ))
            }
            // Guest and anonymous sessions have no key to check a MIC with.
            _ => None,
        };
        let reply = spnego::response(
            NegState::AcceptCompleted,
            None,
            None,
            server_mic.as_ref().map(|m| &m[..]),
        );
        Ok(done(reply, outcome))
    }

    /// Verifies the AUTHENTICATE_MESSAGE (MS-NLMP 3.2.5.1.2) and maps the user.
    fn authenticate(
        &self,
        pending: &Pending,
        msg: &[u8],
        users: &dyn UserLookup,
    ) -> Result<Outcome, AuthError> {
        let auth = messages::parse_authenticate(msg)?;
        if is_anonymous(&auth) {
            return self.policy_logon(self.policy.allow_anonymous, Identity::Anonymous);
        }
        let response = v2::NtResponse::parse(auth.nt_response).ok_or(AuthError::LogonFailure)?;
        // A client challenge whose AV pairs do not parse is a malformed message, refused before any
        // account is looked at (STATUS_INVALID_PARAMETER, as Windows and Samba answer it).
        let pairs =
            messages::parse_av_pairs(response.av_pairs()).map_err(|_| AuthError::InvalidToken)?;
        let Some(record) = users.lookup(&auth.user) else {
            return self.policy_logon(self.policy.map_unknown_user_to_guest, Identity::Guest);
        };
        let hash = record.nt_hash.ok_or(AuthError::LogonFailure)?;
        let base_key = v2::verify(
            &hash,
            &auth.user,
            &auth.domain,
            &pending.server_challenge,
            &response,
        )
        .ok_or(AuthError::LogonFailure)?;
        let key_exch = auth.flags & flags::KEY_EXCH != 0;
        let exported = v2::exported_session_key(key_exch, &base_key, auth.encrypted_session_key)?;
        check_mic(pending, msg, &pairs, &exported)?;
        if record.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let identity = Identity::User {
            name: record.name,
            domain: auth.domain,
            uid: record.uid,
        };
        Ok(Outcome {
            identity,
            keys: Some((exported, auth.flags)),
        })
    }
}

impl Acceptor {
    /// A keyless logon (anonymous or guest) that the policy may allow.
    fn policy_logon(&self, allowed: bool, identity: Identity) -> Result<Outcome, AuthError> {
        if allowed {
            Ok(Outcome {
                identity,
                keys: None,
            })
        } else {
            Err(AuthError::LogonFailure)
        }
    }
}

/// The account a Kerberos principal logs on as (MS-KILE 3.4.5.6 leaves the mapping to the server): a
/// one-component principal `name@REALM` is the password database's user of that name, else the Unix
/// account of that name; anything else is refused.
fn kerberos_identity(
    client: &[String],
    realm: &str,
    users: &dyn UserLookup,
) -> Result<Identity, AuthError> {
    let [name] = client else {
        return Err(AuthError::LogonFailure);
    };
    let mapped = users.map_name(name);
    let domain = realm.to_string();
    if let Some(record) = users.lookup(&mapped) {
        if record.disabled {
            return Err(AuthError::AccountDisabled);
        }
        return Ok(Identity::User {
            name: record.name,
            domain,
            uid: record.uid,
        });
    }
    let uid = users.unix_uid(&mapped).ok_or(AuthError::LogonFailure)?;
    Ok(Identity::User {
        name: mapped,
        domain,
        uid,
    })
}

/// Anonymous per MS-NLMP 3.2.5.1.2: no user name, no NT response, an empty or one-zero LM response.
fn is_anonymous(auth: &Authenticate<'_>) -> bool {
    auth.user.is_empty() && auth.nt_response.is_empty() && matches!(auth.lm_response, [] | [0])
}

/// Checks the AUTHENTICATE_MESSAGE MIC when the client's MsvAvFlags say it is present.
fn check_mic(
    pending: &Pending,
    msg: &[u8],
    pairs: &[(u16, &[u8])],
    exported: &[u8; 16],
) -> Result<(), AuthError> {
    if messages::av_flags(pairs) & AV_FLAG_MIC_PRESENT == 0 {
        return Ok(());
    }
    let mic = msg.get(MIC_RANGE).ok_or(AuthError::LogonFailure)?;
    let mut zeroed = msg.to_vec();
    zeroed
        .get_mut(MIC_RANGE)
        .ok_or(AuthError::LogonFailure)?
        .fill(0);
    let expected = v2::mic(exported, &pending.negotiate, &pending.challenge, &zeroed);
    if ct_eq(&expected, mic) {
        Ok(())
    } else {
        Err(AuthError::LogonFailure)
    }
}

/// Extracts responseToken (required) and mechListMIC from a client NegTokenResp.
fn spnego_response_token(token: &[u8]) -> Result<(&[u8], Option<&[u8]>), AuthError> {
    match spnego::parse(token) {
        Ok(ClientToken::Resp(resp)) => Ok((
            resp.response_token.ok_or(AuthError::InvalidToken)?,
            resp.mech_list_mic,
        )),
        _ => Err(AuthError::InvalidToken),
    }
}

fn done(token: Vec<u8>, outcome: Outcome) -> Step {
    Step::Done {
        token,
        identity: outcome.identity,
        session_key: outcome.keys.map(|(key, _)| key),
    }
}

/// The current time as a FILETIME (100 ns units since 1601).
fn filetime_now() -> u64 {
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since_unix.as_secs() + FILETIME_UNIX_OFFSET_SECS) * 10_000_000
        + u64::from(since_unix.subsec_nanos() / 100)
}

/// The user name in an AUTHENTICATE message (raw or inside a NegTokenResp), if it parses.
fn claimed_user(framing: &Framing, token: &[u8]) -> Option<String> {
    let ntlm = match framing {
        Framing::Raw => token,
        Framing::Spnego { .. } => spnego_response_token(token).ok()?.0,
    };
    messages::parse_authenticate(ntlm).ok().map(|a| a.user)
}

#[cfg(test)]
mod tests;
