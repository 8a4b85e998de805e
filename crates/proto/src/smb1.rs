//! The one SMB1 message rsmbd understands: SMB_COM_NEGOTIATE (MS-CIFS 2.2.4.52, MS-SMB2 3.3.5.3.1), used by
//! clients to start a multi-protocol negotiate. No other SMB1 command is ever processed.

use crate::reader::{DecodeError, Reader};
use bytes::{BufMut, BytesMut};

pub const SMB1_PROTOCOL_ID: [u8; 4] = [0xFF, b'S', b'M', b'B'];
const SMB_COM_NEGOTIATE: u8 = 0x72;
const SMB1_HEADER_LEN: usize = 32;
const MAX_DIALECTS: usize = 64;

/// What an SMB1 NEGOTIATE offers in terms of SMB2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smb1Offer {
    /// "SMB 2.???": the client can continue with an SMB2 NEGOTIATE for any SMB2+ dialect.
    Smb2Wildcard,
    /// Only "SMB 2.002".
    Smb202Only,
    /// No SMB2 dialect at all.
    Smb1Only,
}

/// Parse an SMB1 NEGOTIATE request and report which SMB2 dialects it offers.
pub fn parse_negotiate(msg: &[u8]) -> Result<Smb1Offer, DecodeError> {
    let mut r = Reader::new(msg);
    if r.array::<4>()? != SMB1_PROTOCOL_ID {
        return Err(DecodeError::BadValue);
    }
    if r.u8()? != SMB_COM_NEGOTIATE {
        return Err(DecodeError::BadValue);
    }
    r.skip(SMB1_HEADER_LEN - 5)?;
    let word_count = r.u8()?;
    r.skip(usize::from(word_count) * 2)?;
    let byte_count = r.u16()?;
    let bytes = r.take(usize::from(byte_count))?;
    let mut offer = Smb1Offer::Smb1Only;
    for entry in bytes
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .take(MAX_DIALECTS)
    {
        match entry {
            [0x02, rest @ ..] if rest == b"SMB 2.???" => return Ok(Smb1Offer::Smb2Wildcard),
            [0x02, rest @ ..] if rest == b"SMB 2.002" => offer = Smb1Offer::Smb202Only,
            _ => {}
        }
    }
    Ok(offer)
}

/// An SMB1 NEGOTIATE response that selects no dialect (DialectIndex 0xFFFF), the clean refusal of an
/// SMB1-only client (MS-CIFS 2.2.4.52.2).
pub fn encode_no_dialect_response(w: &mut BytesMut) {
    w.put_slice(&SMB1_PROTOCOL_ID);
    w.put_u8(SMB_COM_NEGOTIATE);
    w.put_u32_le(0); // Status
    w.put_u8(0x88); // Flags: reply, case-insensitive
    w.put_u16_le(0xC001); // Flags2: unicode, NT status, long names
    w.put_bytes(0, 12); // PIDHigh, SecurityFeatures, Reserved
    w.put_u16_le(0); // TID
    w.put_u16_le(0); // PIDLow
    w.put_u16_le(0); // UID
    w.put_u16_le(0); // MID
    w.put_u8(1); // WordCount
    w.put_u16_le(0xFFFF); // DialectIndex
    w.put_u16_le(0); // ByteCount
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(dialects: &[&str]) -> Vec<u8> {
        let mut w = BytesMut::new();
        w.put_slice(&SMB1_PROTOCOL_ID);
        w.put_u8(SMB_COM_NEGOTIATE);
        w.put_bytes(0, 27);
        w.put_u8(0);
        let mut b = Vec::new();
        for d in dialects {
            b.push(2);
            b.extend_from_slice(d.as_bytes());
            b.push(0);
        }
        w.put_u16_le(b.len() as u16);
        w.put_slice(&b);
        w.to_vec()
    }

    #[test]
    fn detects_offers() {
        assert_eq!(
            parse_negotiate(&negotiate(&["NT LM 0.12", "SMB 2.002", "SMB 2.???"])),
            Ok(Smb1Offer::Smb2Wildcard)
        );
        assert_eq!(
            parse_negotiate(&negotiate(&["NT LM 0.12", "SMB 2.002"])),
            Ok(Smb1Offer::Smb202Only)
        );
        assert_eq!(
            parse_negotiate(&negotiate(&["NT LM 0.12"])),
            Ok(Smb1Offer::Smb1Only)
        );
    }

    #[test]
    fn rejects_truncated_and_other_commands() {
        let m = negotiate(&["SMB 2.???"]);
        assert!(parse_negotiate(&m[..m.len() - 3]).is_err());
        let mut other = m.clone();
        other[4] = 0x73;
        assert!(parse_negotiate(&other).is_err());
    }

    #[test]
    fn refusal_is_a_well_formed_smb1_reply() {
        let mut w = BytesMut::new();
        encode_no_dialect_response(&mut w);
        assert_eq!(w.len(), 32 + 1 + 2 + 2);
        assert_eq!(&w[33..35], &[0xFF, 0xFF]);
    }
}
