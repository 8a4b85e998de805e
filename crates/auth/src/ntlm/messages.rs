//! NTLM message formats (MS-NLMP 2.2.1): parsing NEGOTIATE_MESSAGE and AUTHENTICATE_MESSAGE,
//! building CHALLENGE_MESSAGE, and AV_PAIR lists (2.2.2.1). Every field reference (length and
//! offset) is checked against the message before use.

use super::flags;
use super::utf16le;
use crate::{AuthError, ServerNames};

pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
const NEGOTIATE_TYPE: u32 = 1;
const CHALLENGE_TYPE: u32 = 2;
const AUTHENTICATE_TYPE: u32 = 3;

/// Fixed part of the CHALLENGE_MESSAGE, Version included.
const CHALLENGE_HEADER_LEN: usize = 56;
/// Byte range of the MIC field in an AUTHENTICATE_MESSAGE that carries one.
pub const MIC_RANGE: std::ops::Range<usize> = 72..88;
/// Server Version structure (2.2.2.10): 10.0 build 20348, NTLMSSP_REVISION_W2K3.
const VERSION: [u8; 8] = [10, 0, 0x4c, 0x4f, 0, 0, 0, 0x0f];

/// AV_PAIR identifiers (2.2.2.1) this implementation reads or writes.
pub mod av_id {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER_NAME: u16 = 1;
    pub const NB_DOMAIN_NAME: u16 = 2;
    pub const DNS_COMPUTER_NAME: u16 = 3;
    pub const DNS_DOMAIN_NAME: u16 = 4;
    pub const FLAGS: u16 = 6;
    pub const TIMESTAMP: u16 = 7;
}
/// MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC.
pub const AV_FLAG_MIC_PRESENT: u32 = 0x0000_0002;

fn u16_at(msg: &[u8], at: usize) -> Result<u16, AuthError> {
    let bytes = msg.get(at..at.checked_add(2).ok_or(AuthError::InvalidToken)?);
    bytes
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes)
        .ok_or(AuthError::InvalidToken)
}

fn u32_at(msg: &[u8], at: usize) -> Result<u32, AuthError> {
    let bytes = msg.get(at..at.checked_add(4).ok_or(AuthError::InvalidToken)?);
    bytes
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(AuthError::InvalidToken)
}

/// Checks the signature and MessageType of an NTLM message.
fn check_header(msg: &[u8], message_type: u32) -> Result<(), AuthError> {
    if msg.get(..8) == Some(&SIGNATURE[..]) && u32_at(msg, 8)? == message_type {
        Ok(())
    } else {
        Err(AuthError::InvalidToken)
    }
}

/// The payload a (Len, MaxLen, Offset) field descriptor at `at` points to.
fn payload(msg: &[u8], at: usize) -> Result<&[u8], AuthError> {
    let len = usize::from(u16_at(msg, at)?);
    let offset = usize::try_from(u32_at(msg, at + 4)?).map_err(|_| AuthError::InvalidToken)?;
    let end = offset.checked_add(len).ok_or(AuthError::InvalidToken)?;
    msg.get(offset..end).ok_or(AuthError::InvalidToken)
}

/// Parses a NEGOTIATE_MESSAGE and returns the client's NegotiateFlags.
pub fn parse_negotiate(msg: &[u8]) -> Result<u32, AuthError> {
    check_header(msg, NEGOTIATE_TYPE)?;
    u32_at(msg, 12)
}

/// The flags the server answers with: what it always uses plus the optional ones the client asked for.
pub fn challenge_flags(client: u32) -> u32 {
    let echoed = flags::SIGN
        | flags::SEAL
        | flags::ALWAYS_SIGN
        | flags::EXTENDED_SESSIONSECURITY
        | flags::VERSION
        | flags::NEGOTIATE_128
        | flags::KEY_EXCH
        | flags::NEGOTIATE_56
        | flags::REQUEST_TARGET;
    let charset = if client & flags::UNICODE != 0 {
        flags::UNICODE
    } else {
        flags::OEM
    };
    charset | flags::NTLM | flags::TARGET_TYPE_SERVER | flags::TARGET_INFO | (client & echoed)
}

/// Appends one AV_PAIR.
fn push_av_pair(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

/// The TargetInfo the server sends: names, timestamp (FILETIME), end of list.
fn target_info(names: &ServerNames, filetime: u64) -> Vec<u8> {
    let mut out = Vec::new();
    push_av_pair(
        &mut out,
        av_id::NB_DOMAIN_NAME,
        &utf16le(&names.netbios_domain),
    );
    push_av_pair(
        &mut out,
        av_id::NB_COMPUTER_NAME,
        &utf16le(&names.netbios_computer),
    );
    push_av_pair(
        &mut out,
        av_id::DNS_DOMAIN_NAME,
        &utf16le(&names.dns_domain),
    );
    push_av_pair(
        &mut out,
        av_id::DNS_COMPUTER_NAME,
        &utf16le(&names.dns_computer),
    );
    push_av_pair(&mut out, av_id::TIMESTAMP, &filetime.to_le_bytes());
    push_av_pair(&mut out, av_id::EOL, &[]);
    out
}

/// Builds a CHALLENGE_MESSAGE. TargetName is the NetBIOS computer name (TARGET_TYPE_SERVER).
pub fn build_challenge(
    negotiated: u32,
    server_challenge: &[u8; 8],
    names: &ServerNames,
    filetime: u64,
) -> Vec<u8> {
    let target_name = if negotiated & flags::UNICODE != 0 {
        utf16le(&names.netbios_computer)
    } else {
        names
            .netbios_computer
            .chars()
            .map(|c| u8::try_from(c).unwrap_or(b'?'))
            .collect()
    };
    let info = target_info(names, filetime);
    let name_offset = CHALLENGE_HEADER_LEN;
    let info_offset = name_offset + target_name.len();
    let mut msg = Vec::with_capacity(info_offset + info.len());
    msg.extend_from_slice(SIGNATURE);
    msg.extend_from_slice(&CHALLENGE_TYPE.to_le_bytes());
    push_field(&mut msg, target_name.len(), name_offset);
    msg.extend_from_slice(&negotiated.to_le_bytes());
    msg.extend_from_slice(server_challenge);
    msg.extend_from_slice(&[0; 8]);
    push_field(&mut msg, info.len(), info_offset);
    msg.extend_from_slice(&VERSION);
    msg.extend_from_slice(&target_name);
    msg.extend_from_slice(&info);
    msg
}

/// Appends a (Len, MaxLen, Offset) field descriptor.
fn push_field(msg: &mut Vec<u8>, len: usize, offset: usize) {
    let len = len as u16;
    msg.extend_from_slice(&len.to_le_bytes());
    msg.extend_from_slice(&len.to_le_bytes());
    msg.extend_from_slice(&(offset as u32).to_le_bytes());
}

/// The fields of an AUTHENTICATE_MESSAGE the server uses.
#[derive(Debug)]
pub struct Authenticate<'a> {
    pub lm_response: &'a [u8],
    pub nt_response: &'a [u8],
    pub domain: String,
    pub user: String,
    pub encrypted_session_key: &'a [u8],
    pub flags: u32,
}

/// Parses an AUTHENTICATE_MESSAGE (2.2.1.3).
pub fn parse_authenticate(msg: &[u8]) -> Result<Authenticate<'_>, AuthError> {
    check_header(msg, AUTHENTICATE_TYPE)?;
    let flags = u32_at(msg, 60)?;
    let unicode = flags & flags::UNICODE != 0;
    Ok(Authenticate {
        lm_response: payload(msg, 12)?,
        nt_response: payload(msg, 20)?,
        domain: decode_string(payload(msg, 28)?, unicode)?,
        user: decode_string(payload(msg, 36)?, unicode)?,
        encrypted_session_key: payload(msg, 52)?,
        flags,
    })
}

/// Decodes a name as UTF-16LE or, without NTLMSSP_NEGOTIATE_UNICODE, as 8-bit OEM text (Latin-1).
fn decode_string(bytes: &[u8], unicode: bool) -> Result<String, AuthError> {
    if !unicode {
        return Ok(bytes.iter().map(|b| char::from(*b)).collect());
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(AuthError::InvalidToken);
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .filter_map(|c| <[u8; 2]>::try_from(c).ok())
        .map(u16::from_le_bytes)
        .collect();
    String::from_utf16(&units).map_err(|_| AuthError::InvalidToken)
}

/// Parses an AV_PAIR list up to MsvAvEOL into (AvId, Value) pairs.
pub fn parse_av_pairs(mut data: &[u8]) -> Result<Vec<(u16, &[u8])>, AuthError> {
    let mut pairs = Vec::new();
    loop {
        let id = u16_at(data, 0)?;
        let len = usize::from(u16_at(data, 2)?);
        let value = data.get(4..4 + len).ok_or(AuthError::InvalidToken)?;
        if id == av_id::EOL {
            return Ok(pairs);
        }
        pairs.push((id, value));
        data = data.get(4 + len..).ok_or(AuthError::InvalidToken)?;
    }
}

/// The MsvAvFlags value in an AV_PAIR list, 0 when absent.
pub fn av_flags(pairs: &[(u16, &[u8])]) -> u32 {
    pairs
        .iter()
        .find(|(id, _)| *id == av_id::FLAGS)
        .and_then(|(_, v)| <[u8; 4]>::try_from(*v).ok())
        .map_or(0, u32::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ServerNames {
        ServerNames {
            netbios_computer: "SRV".into(),
            netbios_domain: "DOM".into(),
            dns_computer: "srv.dom.test".into(),
            dns_domain: "dom.test".into(),
        }
    }

    #[test]
    fn challenge_layout() {
        let flags = challenge_flags(
            flags::UNICODE | flags::SIGN | flags::KEY_EXCH | 0x80, /* LM_KEY */
        );
        assert_eq!(
            flags,
            flags::UNICODE
                | flags::NTLM
                | flags::TARGET_TYPE_SERVER
                | flags::TARGET_INFO
                | flags::SIGN
                | flags::KEY_EXCH
        );
        let msg = build_challenge(
            flags,
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &names(),
            0x0102_0304_0506_0708,
        );
        assert_eq!(&msg[..8], SIGNATURE);
        assert_eq!(u32_at(&msg, 8).unwrap(), 2);
        assert_eq!(payload(&msg, 12).unwrap(), &utf16le("SRV")[..]);
        assert_eq!(u32_at(&msg, 20).unwrap(), flags);
        assert_eq!(&msg[24..32], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let pairs = parse_av_pairs(payload(&msg, 40).unwrap()).unwrap();
        let ids: Vec<u16> = pairs.iter().map(|p| p.0).collect();
        assert_eq!(ids, [2, 1, 4, 3, 7]);
        assert_eq!(pairs[0].1, &utf16le("DOM")[..]);
        assert_eq!(pairs[4].1, &0x0102_0304_0506_0708u64.to_le_bytes()[..]);
        assert_eq!(av_flags(&pairs), 0);
    }

    #[test]
    fn oem_challenge_names() {
        let flags = challenge_flags(0);
        assert_eq!(flags & (flags::UNICODE | flags::OEM), flags::OEM);
        let msg = build_challenge(flags, &[0; 8], &names(), 0);
        assert_eq!(payload(&msg, 12).unwrap(), b"SRV");
    }

    #[test]
    fn negotiate_needs_signature_type_and_flags() {
        let mut msg = SIGNATURE.to_vec();
        msg.extend(1u32.to_le_bytes());
        assert_eq!(parse_negotiate(&msg), Err(AuthError::InvalidToken));
        msg.extend(0x1234u32.to_le_bytes());
        assert_eq!(parse_negotiate(&msg), Ok(0x1234));
        msg[8] = 3;
        assert_eq!(parse_negotiate(&msg), Err(AuthError::InvalidToken));
    }

    #[test]
    fn authenticate_fields_are_bounds_checked() {
        let mut msg = SIGNATURE.to_vec();
        msg.extend(3u32.to_le_bytes());
        msg.resize(64, 0);
        msg[60] = 1; // UNICODE
        msg.extend(utf16le("bob"));
        msg[36] = 6; // UserName length
        msg[40] = 64; // UserName offset
        let auth = parse_authenticate(&msg).unwrap();
        assert_eq!(auth.user, "bob");
        assert!(auth.nt_response.is_empty());
        msg[40] = 65; // now past the end
        assert_eq!(
            parse_authenticate(&msg).unwrap_err(),
            AuthError::InvalidToken
        );
        msg[40] = 64;
        msg[36] = 5; // odd UTF-16 length
        assert_eq!(
            parse_authenticate(&msg).unwrap_err(),
            AuthError::InvalidToken
        );
        msg[36] = 6;
        msg[40..44].copy_from_slice(&u32::MAX.to_le_bytes()); // offset + length overflows 32 bits
        assert_eq!(
            parse_authenticate(&msg).unwrap_err(),
            AuthError::InvalidToken
        );
        assert_eq!(
            parse_authenticate(&msg[..63]).unwrap_err(),
            AuthError::InvalidToken
        );
    }

    #[test]
    fn av_pairs_must_end_with_eol_inside_the_buffer() {
        let mut list = Vec::new();
        push_av_pair(&mut list, av_id::FLAGS, &2u32.to_le_bytes());
        assert!(parse_av_pairs(&list).is_err());
        push_av_pair(&mut list, av_id::EOL, &[]);
        let pairs = parse_av_pairs(&list).unwrap();
        assert_eq!(av_flags(&pairs), AV_FLAG_MIC_PRESENT);
        assert!(parse_av_pairs(&[1, 0, 9, 0, 0]).is_err());
    }
}
