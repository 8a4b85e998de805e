//! NTLM authentication protocol, server side (MS-NLMP): message formats (2.2), NTLMv2 response
//! verification and key derivation (3.3.2, 3.4.5), and the session-security signature used by the
//! SPNEGO mechListMIC (3.4.4.2).

pub(crate) mod messages;
pub(crate) mod signing;
pub(crate) mod v2;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;

/// NEGOTIATE flags (MS-NLMP 2.2.2.5) this implementation reads or sets.
pub(crate) mod flags {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const OEM: u32 = 0x0000_0002;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const SIGN: u32 = 0x0000_0010;
    pub const SEAL: u32 = 0x0000_0020;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const VERSION: u32 = 0x0200_0000;
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    pub const KEY_EXCH: u32 = 0x4000_0000;
    pub const NEGOTIATE_56: u32 = 0x8000_0000;
}

/// NT one-way function v1: MD4 of the UTF-16LE password (MS-NLMP 3.3.1).
pub fn nt_hash(password: &str) -> [u8; 16] {
    Md4::digest(utf16le(password)).into()
}

/// UTF-16LE encoding of a string, as NTLM carries names when NTLMSSP_NEGOTIATE_UNICODE is set.
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// HMAC-MD5 keyed with a 16-byte key over the concatenation of `parts`.
pub(crate) fn hmac_md5(key: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC pads a short key with zeros to the block size, so a padded 64-byte key is the same
    // key and makes construction infallible.
    let mut block = [0u8; 64];
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    let mut mac = <Hmac<Md5> as KeyInit>::new(&block.into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// RC4 with a 16-byte key applied to `data` in place (MS-NLMP 3.4.5 key exchange and sealing).
pub(crate) fn rc4(key: &[u8; 16], data: &mut [u8]) {
    use rc4::{consts::U16, KeyInit as _, Rc4, StreamCipher};
    Rc4::<U16>::new(key.into()).apply_keystream(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nt_hash_of_password_matches_ms_nlmp_4_2_2_1_2() {
        // MS-NLMP 4.2.2.1.2 NTOWFv1("Password").
        let expected = [
            0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca, 0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f,
            0xd8, 0x52,
        ];
        assert_eq!(nt_hash("Password"), expected);
    }

    #[test]
    fn hmac_md5_rfc2202_case_1() {
        // RFC 2202 test case 1 uses a 16-byte key of 0x0b and "Hi There".
        let out = hmac_md5(&[0x0b; 16], &[b"Hi ", b"There"]);
        let expected = [
            0x92, 0x94, 0x72, 0x7a, 0x36, 0x38, 0xbb, 0x1c, 0x13, 0xf4, 0x8e, 0xf8, 0x15, 0x8b,
            0xfc, 0x9d,
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn rc4_is_its_own_inverse() {
        let mut data = *b"sixteen byte key";
        rc4(&[1; 16], &mut data);
        assert_ne!(&data, b"sixteen byte key");
        rc4(&[1; 16], &mut data);
        assert_eq!(&data, b"sixteen byte key");
    }
}
