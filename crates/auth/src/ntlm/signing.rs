//! NTLM session security signatures with extended session security (MS-NLMP 3.4.4.2), with the
//! signing and sealing keys of 3.4.5.2 (SIGNKEY) and 3.4.5.3 (SEALKEY). SPNEGO uses them for the
//! mechListMIC (MS-SPNG 3.2.5.1), always as the first message of its direction (sequence number 0
//! and a fresh RC4 state).

use md5::{Digest, Md5};

use super::{flags, hmac_md5, rc4};

/// Which side sends the signed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

/// NTLMSSP_MESSAGE_SIGNATURE Version field.
const SIGNATURE_VERSION: u32 = 1;

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// SIGNKEY: MD5(ExportedSessionKey || direction magic constant).
fn sign_key(exported: &[u8; 16], dir: Direction) -> [u8; 16] {
    let magic: &[u8] = match dir {
        Direction::ClientToServer => {
            b"session key to client-to-server signing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client signing key magic constant\0"
        }
    };
    md5(&[exported, magic])
}

/// SEALKEY: MD5 of the ExportedSessionKey cut to 128, 56 or 40 bits, and a direction constant.
fn seal_key(exported: &[u8; 16], negotiated: u32, dir: Direction) -> [u8; 16] {
    let len = if negotiated & flags::NEGOTIATE_128 != 0 {
        16
    } else if negotiated & flags::NEGOTIATE_56 != 0 {
        7
    } else {
        5
    };
    let magic: &[u8] = match dir {
        Direction::ClientToServer => {
            b"session key to client-to-server sealing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client sealing key magic constant\0"
        }
    };
    md5(&[exported.get(..len).unwrap_or(exported), magic])
}

/// The 16-byte NTLMSSP_MESSAGE_SIGNATURE of `message` with sequence number `seq_num`.
pub fn signature(
    exported: &[u8; 16],
    negotiated: u32,
    dir: Direction,
    seq_num: u32,
    message: &[u8],
) -> [u8; 16] {
    let seq = seq_num.to_le_bytes();
    let mac = hmac_md5(&sign_key(exported, dir), &[&seq, message]);
    let mut checksum = [0u8; 8];
    for (c, m) in checksum.iter_mut().zip(mac) {
        *c = m;
    }
    if negotiated & flags::KEY_EXCH != 0 {
        rc4(&seal_key(exported, negotiated, dir), &mut checksum);
    }
    let mut out = [0u8; 16];
    let parts = SIGNATURE_VERSION
        .to_le_bytes()
        .into_iter()
        .chain(checksum)
        .chain(seq);
    for (o, b) in out.iter_mut().zip(parts) {
        *o = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_nlmp_4_2_4_4_keys_and_checksum() {
        // MS-NLMP 4.2.4.4 (NTLMv2, extended session security, KEY_EXCH, 128-bit, RandomSessionKey
        // 55 * 16): GSS_WrapEx of UTF-16LE "Plaintext" seals 18 bytes first, so the checksum is
        // encrypted with the RC4 stream advanced by 18 bytes.
        let negotiated = flags::KEY_EXCH | flags::NEGOTIATE_128 | flags::EXTENDED_SESSIONSECURITY;
        let exported = [0x55; 16];
        let plaintext = b"P\0l\0a\0i\0n\0t\0e\0x\0t\0";
        let mac = hmac_md5(
            &sign_key(&exported, Direction::ClientToServer),
            &[&[0; 4], plaintext],
        );
        let mut stream = [0u8; 26];
        stream[..18].copy_from_slice(plaintext);
        stream[18..].copy_from_slice(&mac[..8]);
        rc4(
            &seal_key(&exported, negotiated, Direction::ClientToServer),
            &mut stream,
        );
        let sealed = [
            0x54, 0xe5, 0x01, 0x65, 0xbf, 0x19, 0x36, 0xdc, 0x99, 0x60, 0x20, 0xc1, 0x81, 0x1b,
            0x0f, 0x06, 0xfb, 0x5f,
        ];
        assert_eq!(stream[..18], sealed);
        assert_eq!(
            stream[18..],
            [0x7f, 0xb3, 0x8e, 0xc5, 0xc5, 0x5d, 0x49, 0x76]
        );
        // The mechListMIC form uses a fresh RC4 state: same layout, sequence number 0.
        let sig = signature(
            &exported,
            negotiated,
            Direction::ClientToServer,
            0,
            plaintext,
        );
        assert_eq!(
            (sig[..4].to_vec(), sig[12..].to_vec()),
            (vec![1, 0, 0, 0], vec![0, 0, 0, 0])
        );
        let mut fresh = [0u8; 8];
        fresh.copy_from_slice(&mac[..8]);
        rc4(
            &seal_key(&exported, negotiated, Direction::ClientToServer),
            &mut fresh,
        );
        assert_eq!(sig[4..12], fresh);
    }

    #[test]
    fn directions_and_key_lengths_differ() {
        let all = flags::KEY_EXCH | flags::NEGOTIATE_128;
        let c2s = signature(&[1; 16], all, Direction::ClientToServer, 0, b"m");
        let s2c = signature(&[1; 16], all, Direction::ServerToClient, 0, b"m");
        assert_ne!(c2s, s2c);
        let k56 = signature(
            &[1; 16],
            flags::KEY_EXCH | flags::NEGOTIATE_56,
            Direction::ClientToServer,
            0,
            b"m",
        );
        assert_ne!(c2s, k56);
        let plain = signature(&[1; 16], 0, Direction::ClientToServer, 5, b"m");
        assert_eq!(plain[12..], [5, 0, 0, 0]);
    }
}
