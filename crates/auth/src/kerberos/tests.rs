//! The acceptor against AP-REQs built here the way a KDC and a client build them (RFC 4120 5.3-5.5.1):
//! a ticket sealed with the service key, an authenticator sealed with the ticket's session key.

use super::*;
use picky_asn1::bit_string::BitString;
use picky_asn1::date::Date;
use picky_asn1::restricted_string::Ia5String;
use picky_asn1::wrapper::{
    Asn1SequenceOf, BitStringAsn1, ExplicitContextTag2, ExplicitContextTag3, ExplicitContextTag4,
    ExplicitContextTag5, ExplicitContextTag6, ExplicitContextTag7, GeneralStringAsn1,
    GeneralizedTimeAsn1, Optional,
};
use picky_krb::data_types::{
    AuthenticatorInner, Checksum, EncTicketPartInner, EncryptionKey, Ticket, TicketInner,
    TransitedEncoding,
};
use picky_krb::messages::ApReqInner;

const SERVICE_KEY: [u8; 32] = [0x11; 32];
const TICKET_KEY: [u8; 32] = [0x22; 32];
const SUBKEY: [u8; 32] = [0x33; 32];
const REALM: &str = "RSMBD.TEST";

fn int(v: u32) -> IntegerAsn1 {
    IntegerAsn1::from_bytes_be_unsigned(v.to_be_bytes().to_vec())
}

fn kstr(s: &str) -> GeneralStringAsn1 {
    GeneralStringAsn1::from(Ia5String::from_string(s.to_string()).unwrap())
}

fn principal(parts: &[&str]) -> PrincipalName {
    PrincipalName {
        name_type: ExplicitContextTag0::from(int(1)),
        name_string: ExplicitContextTag1::from(Asn1SequenceOf::from(
            parts.iter().map(|p| kstr(p)).collect::<Vec<_>>(),
        )),
    }
}

/// Unix seconds as a KerberosTime.
fn ktime(secs: i64) -> KerberosTime {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (inverse of days_from_civil).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = Date::new(
        y as u16,
        m as u8,
        d as u8,
        (rem / 3600) as u8,
        (rem / 60 % 60) as u8,
        (rem % 60) as u8,
    )
    .unwrap();
    GeneralizedTimeAsn1::from(date)
}

fn key(k: &[u8]) -> EncryptionKey {
    EncryptionKey {
        key_type: ExplicitContextTag0::from(int(18)),
        key_value: ExplicitContextTag1::from(OctetStringAsn1::from(k.to_vec())),
    }
}

fn seal(k: &[u8], usage: i32, plain: &[u8], kvno: Option<u32>) -> EncryptedData {
    let cipher = CipherSuite::Aes256CtsHmacSha196
        .cipher()
        .encrypt(k, usage, plain)
        .unwrap();
    EncryptedData {
        etype: ExplicitContextTag0::from(int(18)),
        kvno: Optional::from(kvno.map(|v| ExplicitContextTag1::from(int(v)))),
        cipher: ExplicitContextTag2::from(OctetStringAsn1::from(cipher)),
    }
}

/// What to build; each test changes one thing.
struct Req {
    now: i64,
    ticket_client: &'static str,
    auth_client: &'static str,
    ticket_end: i64,
    ctime: i64,
    service_key: [u8; 32],
    flags: u32,
}

impl Req {
    fn new(now: i64) -> Req {
        Req {
            now,
            ticket_client: "alice",
            auth_client: "alice",
            ticket_end: now + 36_000,
            ctime: now,
            service_key: SERVICE_KEY,
            flags: gss::FLAG_MUTUAL | 0x3c,
        }
    }

    fn token(&self) -> Vec<u8> {
        let enc_ticket = EncTicketPart::from(EncTicketPartInner {
            flags: ExplicitContextTag0::from(BitStringAsn1::from(BitString::with_len(32))),
            key: ExplicitContextTag1::from(key(&TICKET_KEY)),
            crealm: ExplicitContextTag2::from(kstr(REALM)),
            cname: ExplicitContextTag3::from(principal(&[self.ticket_client])),
            transited: ExplicitContextTag4::from(TransitedEncoding {
                tr_type: ExplicitContextTag0::from(int(1)),
                contents: ExplicitContextTag1::from(OctetStringAsn1::from(Vec::new())),
            }),
            auth_time: ExplicitContextTag5::from(ktime(self.now - 60)),
            starttime: Optional::from(Some(ExplicitContextTag6::from(ktime(self.now - 60)))),
            endtime: ExplicitContextTag7::from(ktime(self.ticket_end)),
            renew_till: Optional::from(None),
            caddr: Optional::from(None),
            authorization_data: Optional::from(None),
        });
        let ticket_plain = picky_asn1_der::to_vec(&enc_ticket).unwrap();
        let ticket = Ticket::from(TicketInner {
            tkt_vno: ExplicitContextTag0::from(int(5)),
            realm: ExplicitContextTag1::from(kstr(REALM)),
            sname: ExplicitContextTag2::from(principal(&["cifs", "nas"])),
            enc_part: ExplicitContextTag3::from(seal(
                &self.service_key,
                USAGE_TICKET,
                &ticket_plain,
                Some(2),
            )),
        });
        let mut gss_checksum = vec![16, 0, 0, 0];
        gss_checksum.extend([0; 16]);
        gss_checksum.extend(self.flags.to_le_bytes());
        let authenticator = Authenticator::from(AuthenticatorInner {
            authenticator_vno: ExplicitContextTag0::from(int(5)),
            crealm: ExplicitContextTag1::from(kstr(REALM)),
            cname: ExplicitContextTag2::from(principal(&[self.auth_client])),
            cksum: Optional::from(Some(ExplicitContextTag3::from(Checksum {
                cksumtype: ExplicitContextTag0::from(int(gss::GSS_CHECKSUM_TYPE)),
                checksum: ExplicitContextTag1::from(OctetStringAsn1::from(gss_checksum)),
            }))),
            cusec: ExplicitContextTag4::from(int(123_456)),
            ctime: ExplicitContextTag5::from(ktime(self.ctime)),
            subkey: Optional::from(Some(ExplicitContextTag6::from(key(&SUBKEY)))),
            seq_number: Optional::from(Some(ExplicitContextTag7::from(int(77)))),
            authorization_data: Optional::from(None),
        });
        let auth_plain = picky_asn1_der::to_vec(&authenticator).unwrap();
        let ap_req = ApReq::from(ApReqInner {
            pvno: ExplicitContextTag0::from(int(5)),
            msg_type: ExplicitContextTag1::from(int(14)),
            ap_options: ExplicitContextTag2::from(BitStringAsn1::from(BitString::with_len(32))),
            ticket: ExplicitContextTag3::from(ticket),
            authenticator: ExplicitContextTag4::from(seal(
                &TICKET_KEY,
                USAGE_AUTHENTICATOR,
                &auth_plain,
                None,
            )),
        });
        gss::wrap(gss::TOK_AP_REQ, &picky_asn1_der::to_vec(&ap_req).unwrap())
    }
}

fn service(realm: Option<&str>) -> KerberosService {
    let entry = |kvno, key: [u8; 32]| KeytabEntry {
        realm: REALM.into(),
        components: vec!["cifs".into(), "nas".into()],
        kvno,
        etype: 18,
        key: key.to_vec(),
    };
    // An older key of the same principal comes first: the right one is still found.
    KerberosService::new(
        vec![entry(1, [0x99; 32]), entry(2, SERVICE_KEY)],
        realm.map(str::to_string),
    )
}

fn now() -> (SystemTime, i64) {
    let t = SystemTime::now();
    (t, unix_secs(t))
}

#[test]
fn a_valid_ap_req_is_accepted_with_the_subkey_and_an_ap_rep() {
    let (t, secs) = now();
    let svc = service(Some("rsmbd.test"));
    let acc = svc.accept(&Req::new(secs).token(), t).unwrap();
    assert_eq!(acc.client, ["alice"]);
    assert_eq!(acc.client_realm, REALM);
    assert_eq!(acc.session_key(), SUBKEY[..16]);
    assert_eq!(unix_secs(acc.expires), secs + 36_000);
    let (id, rep) = gss::unwrap(acc.ap_rep.as_deref().unwrap()).unwrap();
    assert_eq!(id, gss::TOK_AP_REP);
    let rep: ApRep = picky_asn1_der::from_bytes(rep).unwrap();
    let plain = CipherSuite::Aes256CtsHmacSha196
        .cipher()
        .decrypt(&TICKET_KEY, USAGE_AP_REP, &rep.0.enc_part.0.cipher.0 .0)
        .unwrap();
    let part: EncApRepPart = picky_asn1_der::from_bytes(&plain).unwrap();
    assert_eq!(kerberos_secs(&part.0.ctime.0), Some(secs));
    let seq = part.0.seq_number.0.as_ref().map(|s| int_u32(&s.0));
    assert_eq!(seq, Some(Some(acc.acceptor_seq)));
}

#[test]
fn the_acceptor_mic_is_an_rfc_4121_mic_token_over_the_message() {
    let (t, secs) = now();
    let acc = service(None).accept(&Req::new(secs).token(), t).unwrap();
    let mic = acc.acceptor_mic(b"mechlist").unwrap();
    assert_eq!(mic[..8], [4, 4, 1, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(mic[8..16], u64::from(acc.acceptor_seq).to_be_bytes());
    let mut data = b"mechlist".to_vec();
    data.extend(&mic[..16]);
    let sum = ChecksumSuite::HmacSha196Aes256
        .hasher()
        .checksum(&SUBKEY, 23, &data)
        .unwrap();
    assert_eq!(mic[16..], sum[..]);
}

#[test]
fn a_replayed_authenticator_is_refused() {
    let (t, secs) = now();
    let svc = service(None);
    let token = Req::new(secs).token();
    assert!(svc.accept(&token, t).is_ok());
    assert_eq!(svc.accept(&token, t).err(), Some(AuthError::LogonFailure));
}

#[test]
fn without_mutual_authentication_no_ap_rep_is_sent() {
    let (t, secs) = now();
    let mut req = Req::new(secs);
    req.flags = 0x3c;
    assert!(service(None)
        .accept(&req.token(), t)
        .unwrap()
        .ap_rep
        .is_none());
}

#[test]
fn bad_tickets_and_authenticators_are_logon_failures() {
    let (t, secs) = now();
    type Change = Box<dyn Fn(&mut Req)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "unknown service key",
            Box::new(|r| r.service_key = [0x44; 32]),
        ),
        ("expired ticket", Box::new(|r| r.ticket_end = r.now - 3_600)),
        (
            "authenticator from the past",
            Box::new(|r| r.ctime = r.now - 900),
        ),
        (
            "authenticator from the future",
            Box::new(|r| r.ctime = r.now + 900),
        ),
        (
            "authenticator of another client",
            Box::new(|r| r.auth_client = "mallory"),
        ),
    ];
    for (what, change) in cases {
        let mut req = Req::new(secs);
        change(&mut req);
        assert_eq!(
            service(None).accept(&req.token(), t).err(),
            Some(AuthError::LogonFailure),
            "{what}"
        );
    }
}

#[test]
fn clients_of_another_realm_are_refused() {
    let (t, secs) = now();
    let err = service(Some("OTHER.TEST"))
        .accept(&Req::new(secs).token(), t)
        .err();
    assert_eq!(err, Some(AuthError::LogonFailure));
}

#[test]
fn truncated_and_foreign_tokens_fail_cleanly() {
    let (t, secs) = now();
    let svc = service(None);
    let token = Req::new(secs).token();
    for cut in 0..token.len() {
        assert!(svc.accept(&token[..cut], t).is_err(), "cut at {cut}");
    }
    let mut flipped = token.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(svc.accept(&flipped, t).is_err());
    assert_eq!(
        svc.accept(&gss::wrap(gss::TOK_AP_REP, b"x"), t).err(),
        Some(AuthError::InvalidToken)
    );
}

#[test]
fn civil_dates() {
    assert_eq!(days_from_civil(1970, 1, 1), Some(0));
    assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
    assert_eq!(kerberos_secs(&ktime(1_796_625_477)), Some(1_796_625_477));
    assert_eq!(days_from_civil(2026, 13, 1), None);
}
