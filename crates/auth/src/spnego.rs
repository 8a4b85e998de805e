//! SPNEGO token encoding and decoding: RFC 4178 section 4.2 (NegTokenInit, NegTokenResp), the
//! RFC 2743 section 3.1 InitialContextToken framing, and MS-SPNG 2.2.1 (NegTokenInit2 with negHints)
//! for the token the server advertises in the SMB2 NEGOTIATE response.

use crate::der::{self, context, DerError, Element};
use crate::kerberos::{KRB5_OID, MS_KRB5_OID};

/// DER contents of the SPNEGO mechanism OID 1.3.6.1.5.5.2.
const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// DER contents of the NTLMSSP mechanism OID 1.3.6.1.4.1.311.2.2.10.
pub const NTLMSSP_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
/// The hintName Windows sends in negHints (MS-SPNG 3.2.5.2).
const HINT_NAME: &[u8] = b"not_defined_in_RFC4178@please_ignore";

/// negState values the acceptor sends (RFC 4178 section 4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegState {
    AcceptCompleted = 0,
    AcceptIncomplete = 1,
}

/// The security buffer for the SMB2 NEGOTIATE response: an InitialContextToken holding a
/// NegTokenInit2 that offers Kerberos (Microsoft's OID first, as Windows does) when the server has a
/// keytab, and NTLMSSP unless NTLM is disabled.
pub fn negotiate_token(kerberos: bool, ntlm: bool) -> Vec<u8> {
    let krb5 = [MS_KRB5_OID, KRB5_OID];
    let offered = krb5
        .iter()
        .filter(|_| kerberos)
        .chain([NTLMSSP_OID].iter().filter(|_| ntlm));
    let oids: Vec<Vec<u8>> = offered.map(|oid| der::encode(der::TAG_OID, oid)).collect();
    let mech_types = der::encode_parts(der::TAG_SEQUENCE, &oids);
    let hint_name = der::encode(context(0), &der::encode(der::TAG_GENERAL_STRING, HINT_NAME));
    let neg_hints = der::encode(der::TAG_SEQUENCE, &hint_name);
    let init2 = der::encode_parts(
        der::TAG_SEQUENCE,
        &[
            der::encode(context(0), &mech_types),
            der::encode(context(3), &neg_hints),
        ],
    );
    let inner = der::encode(context(0), &init2);
    der::encode_parts(
        der::TAG_APPLICATION_0,
        &[der::encode(der::TAG_OID, SPNEGO_OID), inner],
    )
}

/// A client NegTokenInit (RFC 4178 4.2.1); mechListMIC in it is ignored.
#[derive(Debug)]
pub struct NegTokenInit<'a> {
    /// The full DER encoding of the MechTypeList, the input of the mechListMIC.
    pub mech_types_raw: &'a [u8],
    /// Contents octets of each mechanism OID, in the client's order of preference.
    pub mechs: Vec<&'a [u8]>,
    /// Optimistic token for the first mechanism.
    pub mech_token: Option<&'a [u8]>,
}

/// A client NegTokenResp (RFC 4178 4.2.2).
#[derive(Debug)]
pub struct NegTokenResp<'a> {
    pub response_token: Option<&'a [u8]>,
    pub mech_list_mic: Option<&'a [u8]>,
}

/// A token the client sent.
#[derive(Debug)]
pub enum ClientToken<'a> {
    Init(NegTokenInit<'a>),
    Resp(NegTokenResp<'a>),
}

/// Decodes a client SPNEGO token, with or without the InitialContextToken framing.
pub fn parse(token: &[u8]) -> Result<ClientToken<'_>, DerError> {
    let (first, _) = der::read(token)?;
    let choice = if first.tag == der::TAG_APPLICATION_0 {
        let app = der::expect_only(token, der::TAG_APPLICATION_0)?;
        let (oid, rest) = der::expect(app.value, der::TAG_OID)?;
        if oid.value != SPNEGO_OID {
            return Err(DerError);
        }
        der::read(rest)?.0
    } else {
        der::expect_only(token, first.tag)?
    };
    let seq = der::expect_only(choice.value, der::TAG_SEQUENCE)?;
    match choice.tag {
        t if t == context(0) => parse_init(seq.value).map(ClientToken::Init),
        t if t == context(1) => parse_resp(seq.value).map(ClientToken::Resp),
        _ => Err(DerError),
    }
}

fn parse_init(fields: &[u8]) -> Result<NegTokenInit<'_>, DerError> {
    let mut mech_types = None;
    let mut mech_token = None;
    for field in der::children(fields)? {
        match field.tag {
            t if t == context(0) => {
                mech_types = Some(der::expect_only(field.value, der::TAG_SEQUENCE)?)
            }
            t if t == context(2) => mech_token = Some(octet_string(&field)?),
            _ => {}
        }
    }
    let list = mech_types.ok_or(DerError)?;
    let mechs = der::children(list.value)?
        .iter()
        .map(|oid| {
            if oid.tag == der::TAG_OID {
                Ok(oid.value)
            } else {
                Err(DerError)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NegTokenInit {
        mech_types_raw: list.raw,
        mechs,
        mech_token,
    })
}

fn parse_resp(fields: &[u8]) -> Result<NegTokenResp<'_>, DerError> {
    let mut resp = NegTokenResp {
        response_token: None,
        mech_list_mic: None,
    };
    for field in der::children(fields)? {
        match field.tag {
            t if t == context(2) => resp.response_token = Some(octet_string(&field)?),
            t if t == context(3) => resp.mech_list_mic = Some(octet_string(&field)?),
            _ => {}
        }
    }
    Ok(resp)
}

/// The contents of the OCTET STRING that is the whole value of `field`.
fn octet_string<'a>(field: &Element<'a>) -> Result<&'a [u8], DerError> {
    Ok(der::expect_only(field.value, der::TAG_OCTET_STRING)?.value)
}

/// Encodes the acceptor's NegTokenResp. `supported_mech` (first reply only) is the chosen mechanism's
/// OID contents.
pub fn response(
    state: NegState,
    supported_mech: Option<&[u8]>,
    token: Option<&[u8]>,
    mic: Option<&[u8]>,
) -> Vec<u8> {
    let mut fields = vec![der::encode(
        context(0),
        &der::encode(der::TAG_ENUMERATED, &[state as u8]),
    )];
    if let Some(oid) = supported_mech {
        fields.push(der::encode(context(1), &der::encode(der::TAG_OID, oid)));
    }
    if let Some(token) = token {
        fields.push(der::encode(
            context(2),
            &der::encode(der::TAG_OCTET_STRING, token),
        ));
    }
    if let Some(mic) = mic {
        fields.push(der::encode(
            context(3),
            &der::encode(der::TAG_OCTET_STRING, mic),
        ));
    }
    der::encode(context(1), &der::encode_parts(der::TAG_SEQUENCE, &fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_token_bytes() {
        let mut expected = vec![0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
        expected.extend([0xa0, 0x3e, 0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a]);
        expected.extend(NTLMSSP_OID);
        expected.extend([0xa3, 0x2a, 0x30, 0x28, 0xa0, 0x26, 0x1b, 0x24]);
        expected.extend(HINT_NAME);
        assert_eq!(negotiate_token(false, true), expected);
    }

    #[test]
    fn parses_framed_init_with_several_mechs() {
        let krb5 = [0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
        let list = der::encode_parts(
            der::TAG_SEQUENCE,
            &[
                der::encode(der::TAG_OID, &krb5),
                der::encode(der::TAG_OID, NTLMSSP_OID),
            ],
        );
        let init = der::encode_parts(
            der::TAG_SEQUENCE,
            &[
                der::encode(context(0), &list),
                der::encode(context(2), &der::encode(der::TAG_OCTET_STRING, b"tok")),
            ],
        );
        let token = der::encode_parts(
            der::TAG_APPLICATION_0,
            &[
                der::encode(der::TAG_OID, SPNEGO_OID),
                der::encode(context(0), &init),
            ],
        );
        let ClientToken::Init(init) = parse(&token).unwrap() else {
            panic!("not init")
        };
        assert_eq!(init.mechs, vec![&krb5[..], NTLMSSP_OID]);
        assert_eq!(init.mech_types_raw, &list[..]);
        assert_eq!(init.mech_token, Some(&b"tok"[..]));
    }

    #[test]
    fn response_round_trips_through_parser() {
        let resp = response(
            NegState::AcceptIncomplete,
            Some(NTLMSSP_OID),
            Some(b"chal"),
            Some(b"mic"),
        );
        assert_eq!(resp[..7], [0xa1, 0x24, 0x30, 0x22, 0xa0, 0x03, 0x0a]);
        let ClientToken::Resp(parsed) = parse(&resp).unwrap() else {
            panic!("not resp")
        };
        assert_eq!(parsed.response_token, Some(&b"chal"[..]));
        assert_eq!(parsed.mech_list_mic, Some(&b"mic"[..]));
    }

    #[test]
    fn rejects_malformed_tokens() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x60, 0x02, 0x06, 0x00]).is_err());
        assert!(parse(&[0xa0, 0x02, 0x30, 0x00]).is_err()); // no mechTypes
        assert!(parse(&[0xa2, 0x02, 0x30, 0x00]).is_err());
        let full = negotiate_token(true, true);
        for cut in 0..full.len() {
            assert!(parse(&full[..cut]).is_err(), "cut at {cut}");
        }
        // Trailing garbage after the framed token.
        let mut extra = full.clone();
        extra.push(0);
        assert!(parse(&extra).is_err());
    }
}
