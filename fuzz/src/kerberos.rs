//! Target `kerberos`: the Kerberos 5 acceptor (RFC 4120 3.2.3, RFC 4121) and the keytab reader. The first
//! byte chooses:
//! - 0: the rest is a whole GSS token (InitialContextToken around an AP-REQ) for the acceptor;
//! - 1: the rest is two [`crate::chunks`], the plaintexts of the ticket's and the authenticator's
//!   encrypted parts, which are sealed here with the keys the service knows, so that the decoders behind
//!   the decryption (EncTicketPart, Authenticator) see arbitrary bytes too;
//! - 2: the rest is a keytab file.

use auth::kerberos::keytab::{self, KeytabEntry};
use auth::kerberos::KerberosService;
use picky_asn1::bit_string::BitString;
use picky_asn1::restricted_string::Ia5String;
use picky_asn1::wrapper::{
    Asn1SequenceOf, BitStringAsn1, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, GeneralStringAsn1, IntegerAsn1, OctetStringAsn1,
    Optional,
};
use picky_krb::crypto::CipherSuite;
use picky_krb::data_types::{EncryptedData, PrincipalName, Ticket, TicketInner};
use picky_krb::messages::{ApReq, ApReqInner};

const SERVICE_KEY: [u8; 32] = [0x11; 32];
/// The ticket session key the fuzzer's EncTicketPart would name (its authenticator is sealed with it).
const TICKET_KEY: [u8; 32] = [0x22; 32];
const KRB5_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];

fn service() -> KerberosService {
    let entry = KeytabEntry {
        realm: "FUZZ.TEST".into(),
        components: vec!["cifs".into(), "fuzz".into()],
        kvno: 2,
        etype: 18,
        key: SERVICE_KEY.to_vec(),
    };
    KerberosService::new(vec![entry], None)
}

pub fn run(data: &[u8]) {
    let (mode, rest) = crate::selector(data);
    match mode % 3 {
        0 => drop(service().accept(rest, std::time::SystemTime::now())),
        1 => {
            let mut parts = crate::chunks(rest);
            let (Some(ticket), Some(authenticator)) = (parts.next(), parts.next()) else {
                return;
            };
            if let Some(token) = sealed_ap_req(ticket, authenticator) {
                drop(service().accept(&token, std::time::SystemTime::now()));
            }
        }
        _ => drop(keytab::parse(rest)),
    }
}

fn int(v: u8) -> IntegerAsn1 {
    IntegerAsn1::from_bytes_be_unsigned(vec![v])
}

fn seal(key: &[u8], usage: i32, plain: &[u8]) -> Option<EncryptedData> {
    let cipher = CipherSuite::Aes256CtsHmacSha196
        .cipher()
        .encrypt(key, usage, plain)
        .ok()?;
    Some(EncryptedData {
        etype: ExplicitContextTag0::from(int(18)),
        kvno: Optional::from(Some(ExplicitContextTag1::from(int(2)))),
        cipher: ExplicitContextTag2::from(OctetStringAsn1::from(cipher)),
    })
}

fn kstr(s: &str) -> Option<GeneralStringAsn1> {
    Some(GeneralStringAsn1::from(
        Ia5String::from_string(s.into()).ok()?,
    ))
}

/// An AP-REQ for cifs/fuzz@FUZZ.TEST whose encrypted parts hold the given plaintexts.
fn sealed_ap_req(ticket_plain: &[u8], authenticator_plain: &[u8]) -> Option<Vec<u8>> {
    let sname = PrincipalName {
        name_type: ExplicitContextTag0::from(int(2)),
        name_string: ExplicitContextTag1::from(Asn1SequenceOf::from(vec![
            kstr("cifs")?,
            kstr("fuzz")?,
        ])),
    };
    let ticket = Ticket::from(TicketInner {
        tkt_vno: ExplicitContextTag0::from(int(5)),
        realm: ExplicitContextTag1::from(kstr("FUZZ.TEST")?),
        sname: ExplicitContextTag2::from(sname),
        enc_part: ExplicitContextTag3::from(seal(&SERVICE_KEY, 2, ticket_plain)?),
    });
    let ap_req = ApReq::from(ApReqInner {
        pvno: ExplicitContextTag0::from(int(5)),
        msg_type: ExplicitContextTag1::from(int(14)),
        ap_options: ExplicitContextTag2::from(BitStringAsn1::from(BitString::with_len(32))),
        ticket: ExplicitContextTag3::from(ticket),
        authenticator: ExplicitContextTag4::from(seal(&TICKET_KEY, 11, authenticator_plain)?),
    });
    let mut inner = KRB5_OID.to_vec();
    inner.extend([0x01, 0x00]);
    inner.extend(picky_asn1_der::to_vec(&ap_req).ok()?);
    // [APPLICATION 0] with a long-form length: the inner token is always over 127 bytes.
    let len = u16::try_from(inner.len()).ok()?;
    let mut token = vec![0x60, 0x82];
    token.extend(len.to_be_bytes());
    token.extend(inner);
    Some(token)
}
