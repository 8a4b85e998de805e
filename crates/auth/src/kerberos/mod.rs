//! The Kerberos 5 acceptor (RFC 4120 3.2.3 receipt of KRB_AP_REQ, RFC 4121 the GSS-API mechanism,
//! MS-KILE 3.4.5 for what SMB takes from it): verifies a client's AP-REQ with a key from the server's
//! keytab, answers with an AP-REP for mutual authentication, and yields the client principal, the
//! session key SMB signing and encryption derive from, and when the ticket expires.
//!
//! The Kerberos messages are decoded and the AES encryption types (17 and 18, RFC 3962) computed by the
//! `picky-krb` crate (pure Rust, so the parser that sees untrusted tickets is memory-safe; see
//! ARCHITECTURE.md for the choice); the keytab, the GSS framing, the checks and the replay cache are
//! ours. RC4-HMAC and DES keys are not accepted.
//!
//! Checks, in order: the token is an AP-REQ for Kerberos 5; a keytab key of the ticket's service
//! principal, encryption type (and key version, when one matches) decrypts the ticket; the ticket is
//! valid now (within the clock skew); the authenticator decrypts with the ticket's session key, names
//! the ticket's client, is recent and has not been seen before. Any failure is a logon failure.

mod gss;
pub mod keytab;
mod replay;

pub use gss::{KRB5_OID, MS_KRB5_OID};

use crate::AuthError;
use keytab::KeytabEntry;
use picky_asn1::wrapper::{ExplicitContextTag0, ExplicitContextTag1, IntegerAsn1, OctetStringAsn1};
use picky_krb::crypto::{ChecksumSuite, CipherSuite};
use picky_krb::data_types::{
    Authenticator, EncApRepPart, EncApRepPartInner, EncTicketPart, EncryptedData, KerberosTime,
    PrincipalName,
};
use picky_krb::messages::{ApRep, ApRepInner, ApReq};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Allowed difference between the client's clock and ours (RFC 4120's customary five minutes).
const CLOCK_SKEW_SECS: i64 = 300;
/// RFC 4120 key usages.
const USAGE_TICKET: i32 = 2;
const USAGE_AUTHENTICATOR: i32 = 11;
const USAGE_AP_REP: i32 = 12;
/// AP-REP message fields.
const PVNO: u8 = 5;
const MSG_TYPE_AP_REP: u8 = 15;

/// The server's Kerberos side: its keys and its replay cache. One per server, shared by every logon.
pub struct KerberosService {
    keys: Vec<KeytabEntry>,
    /// The realm clients must belong to (`realm`); None accepts the realm of the service principal.
    realm: Option<String>,
    replay: replay::ReplayCache,
}

impl std::fmt::Debug for KerberosService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KerberosService")
            .field("keys", &self.keys)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// A verified AP-REQ.
pub struct Accepted {
    /// The client principal's name components and realm.
    pub client: Vec<String>,
    pub client_realm: String,
    /// The context key: the authenticator's subkey, or the ticket's session key without one.
    pub key: Vec<u8>,
    pub suite: CipherSuite,
    /// The AP-REP to send (GSS-framed), when the client asked for mutual authentication.
    pub ap_rep: Option<Vec<u8>>,
    /// Our first sequence number (sent in the AP-REP), for our MIC tokens.
    pub acceptor_seq: u32,
    /// When the ticket ends.
    pub expires: SystemTime,
}

impl Accepted {
    /// The SMB session key: the first 16 bytes of the context key (MS-SMB2 3.3.5.5.3).
    pub fn session_key(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        for (d, s) in k.iter_mut().zip(&self.key) {
            *d = *s;
        }
        k
    }

    /// A MIC token over `message` from us (RFC 4121 4.2.6.1).
    pub fn acceptor_mic(&self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        let header = gss::mic_header(true, u64::from(self.acceptor_seq));
        let sum = self.checksum(gss::USAGE_ACCEPTOR_SIGN, &gss::mic_input(message, &header))?;
        Ok([&header[..], &sum].concat())
    }

    fn checksum(&self, usage: i32, data: &[u8]) -> Result<Vec<u8>, AuthError> {
        let suite = match self.suite {
            CipherSuite::Aes256CtsHmacSha196 => ChecksumSuite::HmacSha196Aes256,
            CipherSuite::Aes128CtsHmacSha196 => ChecksumSuite::HmacSha196Aes128,
            CipherSuite::Des3CbcSha1Kd => return Err(AuthError::LogonFailure),
        };
        suite
            .hasher()
            .checksum(&self.key, usage, data)
            .map_err(|_| AuthError::LogonFailure)
    }
}

impl KerberosService {
    pub fn new(keys: Vec<KeytabEntry>, realm: Option<String>) -> KerberosService {
        KerberosService {
            keys,
            realm,
            replay: Default::default(),
        }
    }

    /// Verifies the GSS-framed AP-REQ `token` (RFC 4120 3.2.3).
    pub fn accept(&self, token: &[u8], now: SystemTime) -> Result<Accepted, AuthError> {
        let (id, msg) = gss::unwrap(token).map_err(|_| AuthError::InvalidToken)?;
        if id != gss::TOK_AP_REQ {
            return Err(AuthError::InvalidToken);
        }
        let ap_req: ApReq = from_der(msg).ok_or(AuthError::InvalidToken)?;
        let now_secs = unix_secs(now);
        let ticket = &ap_req.0.ticket.0 .0;
        let service = names(&ticket.sname.0);
        let service_realm = ticket.realm.0.to_string();
        let enc_ticket: EncTicketPart =
            self.decrypt_ticket(&service, &service_realm, &ticket.enc_part.0)?;
        let t = &enc_ticket.0;
        let start = t.starttime.0.as_ref().map_or(&t.auth_time.0, |s| &s.0);
        let end = kerberos_secs(&t.endtime.0).ok_or(AuthError::LogonFailure)?;
        let start = kerberos_secs(start).ok_or(AuthError::LogonFailure)?;
        if now_secs + CLOCK_SKEW_SECS < start || now_secs - CLOCK_SKEW_SECS > end {
            return Err(AuthError::LogonFailure);
        }
        let ticket_key = &t.key.0.key_value.0 .0;
        let ticket_suite = suite(&t.key.0.key_type.0)?;
        let auth_bytes = decrypt(
            &ticket_suite,
            ticket_key,
            USAGE_AUTHENTICATOR,
            &ap_req.0.authenticator.0,
        )?;
        let authenticator: Authenticator = from_der(&auth_bytes).ok_or(AuthError::LogonFailure)?;
        let a = &authenticator.0;
        let client = names(&t.cname.0);
        let client_realm = t.crealm.0.to_string();
        if names(&a.cname.0) != client || a.crealm.0.to_string() != client_realm {
            return Err(AuthError::LogonFailure);
        }
        if let Some(realm) = &self.realm {
            if !client_realm.eq_ignore_ascii_case(realm) {
                return Err(AuthError::LogonFailure);
            }
        } else if client_realm != service_realm {
            return Err(AuthError::LogonFailure);
        }
        let ctime = kerberos_secs(&a.ctime.0).ok_or(AuthError::LogonFailure)?;
        if (ctime - now_secs).abs() > CLOCK_SKEW_SECS {
            return Err(AuthError::LogonFailure);
        }
        let fingerprint = fingerprint(&client_realm, &client, &auth_bytes);
        if !self
            .replay
            .check_and_insert(fingerprint, ctime + CLOCK_SKEW_SECS, now_secs)
        {
            return Err(AuthError::LogonFailure);
        }
        let flags = a
            .cksum
            .0
            .as_ref()
            .filter(|c| int_u32(&c.0.cksumtype.0) == Some(gss::GSS_CHECKSUM_TYPE))
            .and_then(|c| gss::checksum_flags(&c.0.checksum.0 .0))
            .unwrap_or(0);
        let (key, suite) = match a.subkey.0.as_ref() {
            Some(sub) => (sub.0.key_value.0 .0.clone(), suite(&sub.0.key_type.0)?),
            None => (ticket_key.clone(), ticket_suite.clone()),
        };
        let mut seq = [0u8; 4];
        getrandom::fill(&mut seq).map_err(|_| AuthError::Internal)?;
        let acceptor_seq = u32::from_be_bytes(seq) & 0x3fff_ffff;
        let ap_rep = (flags & gss::FLAG_MUTUAL != 0)
            .then(|| {
                ap_rep(
                    &ticket_suite,
                    ticket_key,
                    &a.ctime.0,
                    &a.cusec.0,
                    acceptor_seq,
                )
            })
            .transpose()?;
        Ok(Accepted {
            client,
            client_realm,
            key,
            suite,
            ap_rep,
            acceptor_seq,
            expires: UNIX_EPOCH + Duration::from_secs(u64::try_from(end).unwrap_or(0)),
        })
    }

    /// Decrypts the ticket with the first keytab key of its service principal that works.
    fn decrypt_ticket(
        &self,
        service: &[String],
        realm: &str,
        enc: &EncryptedData,
    ) -> Result<EncTicketPart, AuthError> {
        let etype = int_u32(&enc.etype.0).ok_or(AuthError::LogonFailure)?;
        let kvno = enc.kvno.0.as_ref().and_then(|k| int_u32(&k.0));
        let mut candidates: Vec<&KeytabEntry> = self
            .keys
            .iter()
            .filter(|k| k.components == service && k.realm == realm)
            .filter(|k| u32::try_from(k.etype).ok() == Some(etype))
            .collect();
        // The key of the ticket's key version first; others after, for keytabs behind the KDC.
        candidates.sort_by_key(|k| Some(k.kvno) != kvno);
        let suite = suite_of(etype)?;
        for k in candidates {
            if let Ok(plain) = decrypt(&suite, &k.key, USAGE_TICKET, enc) {
                return from_der(&plain).ok_or(AuthError::LogonFailure);
            }
        }
        Err(AuthError::LogonFailure)
    }
}

/// `bytes` decoded by picky-asn1-der, once [`crate::der::well_formed`] has checked every length in it
/// (picky's decoder adds lengths without checking for overflow).
fn from_der<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    if !crate::der::well_formed(bytes) {
        return None;
    }
    picky_asn1_der::from_bytes(bytes).ok()
}

/// The AP-REP (RFC 4120 5.5.2): the authenticator's time and our sequence number, encrypted with the
/// ticket's session key. No acceptor subkey: the client's subkey stays the context key.
fn ap_rep(
    suite: &CipherSuite,
    key: &[u8],
    ctime: &KerberosTime,
    cusec: &IntegerAsn1,
    seq: u32,
) -> Result<Vec<u8>, AuthError> {
    let part = EncApRepPart::from(EncApRepPartInner {
        ctime: ExplicitContextTag0::from(ctime.clone()),
        cusec: ExplicitContextTag1::from(cusec.clone()),
        subkey: Default::default(),
        seq_number: picky_asn1::wrapper::Optional::from(Some(
            picky_asn1::wrapper::ExplicitContextTag3::from(IntegerAsn1::from_bytes_be_unsigned(
                seq.to_be_bytes().to_vec(),
            )),
        )),
    });
    let plain = picky_asn1_der::to_vec(&part).map_err(|_| AuthError::Internal)?;
    let cipher = suite
        .cipher()
        .encrypt(key, USAGE_AP_REP, &plain)
        .map_err(|_| AuthError::Internal)?;
    let rep = ApRep::from(ApRepInner {
        pvno: ExplicitContextTag0::from(IntegerAsn1::from_bytes_be_unsigned(vec![PVNO])),
        msg_type: ExplicitContextTag1::from(IntegerAsn1::from_bytes_be_unsigned(vec![
            MSG_TYPE_AP_REP,
        ])),
        enc_part: picky_asn1::wrapper::ExplicitContextTag2::from(EncryptedData {
            etype: ExplicitContextTag0::from(IntegerAsn1::from_bytes_be_unsigned(vec![u8::from(
                suite.clone(),
            )])),
            kvno: Default::default(),
            cipher: picky_asn1::wrapper::ExplicitContextTag2::from(OctetStringAsn1::from(cipher)),
        }),
    });
    let der = picky_asn1_der::to_vec(&rep).map_err(|_| AuthError::Internal)?;
    Ok(gss::wrap(gss::TOK_AP_REP, &der))
}

fn decrypt(
    suite: &CipherSuite,
    key: &[u8],
    usage: i32,
    enc: &EncryptedData,
) -> Result<Vec<u8>, AuthError> {
    if suite_of(int_u32(&enc.etype.0).ok_or(AuthError::LogonFailure)?)? != *suite {
        return Err(AuthError::LogonFailure);
    }
    suite
        .cipher()
        .decrypt(key, usage, &enc.cipher.0 .0)
        .map_err(|_| AuthError::LogonFailure)
}

fn suite(etype: &IntegerAsn1) -> Result<CipherSuite, AuthError> {
    suite_of(int_u32(etype).ok_or(AuthError::LogonFailure)?)
}

/// Only the AES encryption types (RFC 3962) are accepted.
fn suite_of(etype: u32) -> Result<CipherSuite, AuthError> {
    match etype {
        17 => Ok(CipherSuite::Aes128CtsHmacSha196),
        18 => Ok(CipherSuite::Aes256CtsHmacSha196),
        _ => Err(AuthError::LogonFailure),
    }
}

fn names(p: &PrincipalName) -> Vec<String> {
    p.name_string.0 .0.iter().map(|s| s.0.to_string()).collect()
}

/// A non-negative INTEGER that fits 32 bits.
fn int_u32(i: &IntegerAsn1) -> Option<u32> {
    if i.is_negative() {
        return None;
    }
    let bytes = i.as_unsigned_bytes_be();
    if bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0u32, |v, b| (v << 8) | u32::from(*b)))
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A KerberosTime (GeneralizedTime, UTC) as unix seconds.
fn kerberos_secs(t: &KerberosTime) -> Option<i64> {
    let d = &t.0;
    let days = days_from_civil(
        i64::from(d.year()),
        u32::from(d.month()),
        u32::from(d.day()),
    )?;
    Some(
        days * 86_400
            + i64::from(d.hour()) * 3_600
            + i64::from(d.minute()) * 60
            + i64::from(d.second()),
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// What identifies an authenticator in the replay cache.
fn fingerprint(realm: &str, client: &[String], authenticator: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(realm.as_bytes());
    for c in client {
        h.update([0]);
        h.update(c.as_bytes());
    }
    h.update([0]);
    h.update(authenticator);
    h.finalize().into()
}

#[cfg(test)]
mod tests;
