//! The GSS-API Kerberos mechanism's token formats (RFC 4121): the InitialContextToken framing of the
//! AP-REQ and AP-REP (RFC 2743 3.1, RFC 4121 4.1), the authenticator checksum that carries the
//! context flags (RFC 4121 4.1.1), and MIC tokens (RFC 4121 4.2.6.1), which SPNEGO's mechListMIC uses.

use crate::der::{self, DerError};

/// DER contents of the Kerberos 5 mechanism OID 1.2.840.113554.1.2.2.
pub const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// DER contents of Microsoft's Kerberos 5 OID 1.2.840.48018.1.2.2 (MS-KILE 3.1.5.1), which Windows
/// clients list first.
pub const MS_KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
pub const TOK_AP_REQ: [u8; 2] = [0x01, 0x00];
pub const TOK_AP_REP: [u8; 2] = [0x02, 0x00];
const TOK_MIC: [u8; 2] = [0x04, 0x04];

/// The checksum type of the authenticator checksum that carries the GSS flags.
pub const GSS_CHECKSUM_TYPE: u32 = 0x8003;
/// GSS_C_MUTUAL_FLAG: the initiator wants an AP-REP.
pub const FLAG_MUTUAL: u32 = 2;

/// MIC token flags (RFC 4121 4.2.2).
const SENT_BY_ACCEPTOR: u8 = 0x01;
/// Key usage of the acceptor's MIC tokens (RFC 4121 2).
pub const USAGE_ACCEPTOR_SIGN: i32 = 23;

/// Splits an InitialContextToken (or a token after it, which has no framing) into the token id and
/// the Kerberos message.
pub fn unwrap(token: &[u8]) -> Result<([u8; 2], &[u8]), DerError> {
    let app = der::expect_only(token, der::TAG_APPLICATION_0)?;
    let (oid, rest) = der::expect(app.value, der::TAG_OID)?;
    if oid.value != KRB5_OID && oid.value != MS_KRB5_OID {
        return Err(DerError);
    }
    let (id, msg) = rest.split_first_chunk::<2>().ok_or(DerError)?;
    Ok((*id, msg))
}

/// Frames `msg` as the acceptor's context token.
pub fn wrap(id: [u8; 2], msg: &[u8]) -> Vec<u8> {
    let mut inner = id.to_vec();
    inner.extend_from_slice(msg);
    der::encode_parts(
        der::TAG_APPLICATION_0,
        &[der::encode(der::TAG_OID, KRB5_OID), inner],
    )
}

/// The GSS flags of an authenticator checksum of type 0x8003: Lgth (16, little-endian), the channel
/// bindings hash, then the flags; None when the checksum is too short.
pub fn checksum_flags(checksum: &[u8]) -> Option<u32> {
    let flags = checksum.get(20..24)?;
    Some(u32::from_le_bytes(flags.try_into().ok()?))
}

/// The 16-byte MIC token header: TOK_ID, Flags, five 0xFF fillers, SND_SEQ.
pub fn mic_header(by_acceptor: bool, seq: u64) -> [u8; 16] {
    let mut h = [0xffu8; 16];
    h[..2].copy_from_slice(&TOK_MIC);
    h[2] = if by_acceptor { SENT_BY_ACCEPTOR } else { 0 };
    h[8..].copy_from_slice(&seq.to_be_bytes());
    h
}

/// The data a MIC token's checksum covers: the message, then the token header.
pub fn mic_input(message: &[u8], header: &[u8; 16]) -> Vec<u8> {
    let mut data = message.to_vec();
    data.extend_from_slice(header);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trips_and_refuses_other_mechanisms() {
        let token = wrap(TOK_AP_REP, b"msg");
        assert_eq!(token[..2], [0x60, 0x10]);
        assert_eq!(unwrap(&token).unwrap(), (TOK_AP_REP, &b"msg"[..]));
        let ntlm = der::encode_parts(
            der::TAG_APPLICATION_0,
            &[der::encode(der::TAG_OID, &[0x2b, 0x06]), vec![1, 0]],
        );
        assert!(unwrap(&ntlm).is_err());
        for cut in 0..token.len() {
            assert!(unwrap(&token[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn mic_header_layout() {
        let h = mic_header(true, 0x0102);
        assert_eq!(
            h,
            [4, 4, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 2]
        );
        assert_eq!(mic_header(false, 0)[2], 0);
    }

    #[test]
    fn checksum_flags_need_the_whole_prefix() {
        let mut c = vec![16, 0, 0, 0];
        c.extend([0; 16]);
        assert_eq!(checksum_flags(&c), None);
        c.extend(0x3eu32.to_le_bytes());
        assert_eq!(checksum_flags(&c), Some(0x3e));
    }
}
