//! Session key derivation, MS-SMB2 3.3.5.5.3 (server side; the client side in 3.2.5.3.1 mirrors it).
//!
//! 2.0.2 and 2.1 sign with the session key itself. 3.0 and 3.0.2 derive every key with fixed labels
//! and contexts; 3.1.1 uses new labels and the pre-authentication integrity hash as the context.
//! Session.SessionKey is the first 16 bytes of the authentication key, zero-padded if shorter; the
//! AES-256 cipher keys instead derive 256 bits from the full key (Session.FullSessionKey).

use crate::cipher::{Cipher, CipherKey};
use crate::dialect::Dialect;
use crate::kdf::kdf_sp800_108;
use crate::signing::{SigningAlgorithm, SigningKey};

/// The keys of one authenticated session.
#[derive(Clone)]
pub struct SessionKeys {
    pub signing: SigningKey,
    /// Server-to-client cipher key: the server encrypts responses with it. None without encryption.
    pub encryption: Option<CipherKey>,
    /// Client-to-server cipher key: the server decrypts requests with it. None without encryption.
    pub decryption: Option<CipherKey>,
    /// Key handed to applications such as RPC over SMB. The session key itself for 2.x.
    pub application: [u8; 16],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("signing", &self.signing)
            .field("encryption", &self.encryption)
            .field("decryption", &self.decryption)
            .finish_non_exhaustive()
    }
}

/// Label and context of each derived key for one dialect family.
struct KeyLabels<'a> {
    signing: (&'a [u8], &'a [u8]),
    c2s: (&'a [u8], &'a [u8]),
    s2c: (&'a [u8], &'a [u8]),
    application: (&'a [u8], &'a [u8]),
}

/// Derives the session's keys from the authentication protocol's session key and, for 3.1.1, the
/// session's final pre-authentication hash.
///
/// `cipher` is the connection's cipher, None when the session will not encrypt; 3.0 and 3.0.2
/// always use AES-128-CCM. `signing` is the 3.1.1 signing algorithm (HMAC-SHA256 is not a 3.x
/// algorithm and means AES-CMAC there); 3.0 and 3.0.2 always sign with AES-CMAC, 2.x with
/// HMAC-SHA256.
pub fn derive_session_keys(
    dialect: Dialect,
    session_key: &[u8],
    preauth_hash: &[u8; 64],
    cipher: Option<Cipher>,
    signing: SigningAlgorithm,
) -> SessionKeys {
    let short = first16(session_key);
    let (labels, cipher, signing) = match dialect {
        Dialect::Smb202 | Dialect::Smb210 => {
            return SessionKeys {
                signing: SigningKey::new(SigningAlgorithm::HmacSha256, short),
                encryption: None,
                decryption: None,
                application: short,
            };
        }
        Dialect::Smb300 | Dialect::Smb302 => (
            KeyLabels {
                signing: (b"SMB2AESCMAC\0", b"SmbSign\0"),
                c2s: (b"SMB2AESCCM\0", b"ServerIn \0"),
                s2c: (b"SMB2AESCCM\0", b"ServerOut\0"),
                application: (b"SMB2APP\0", b"SmbRpc\0"),
            },
            cipher.map(|_| Cipher::Aes128Ccm),
            SigningAlgorithm::AesCmac,
        ),
        Dialect::Smb311 => (
            KeyLabels {
                signing: (b"SMBSigningKey\0", preauth_hash),
                c2s: (b"SMBC2SCipherKey\0", preauth_hash),
                s2c: (b"SMBS2CCipherKey\0", preauth_hash),
                application: (b"SMBAppKey\0", preauth_hash),
            },
            cipher,
            // SMB2_SIGNING_CAPABILITIES may agree on any of the three (MS-SMB2 2.2.3.1.7).
            signing,
        ),
    };
    let derive = |(label, context): (&[u8], &[u8])| key16(&short, label, context);
    let derive_cipher =
        |label_context| cipher.and_then(|c| cipher_key(c, session_key, &short, label_context));
    SessionKeys {
        signing: SigningKey::new(signing, derive(labels.signing)),
        encryption: derive_cipher(labels.s2c),
        decryption: derive_cipher(labels.c2s),
        application: derive(labels.application),
    }
}

/// Session.SessionKey: the first 16 bytes of the key, right-padded with zeros.
fn first16(session_key: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, k) in out.iter_mut().zip(session_key) {
        *o = *k;
    }
    out
}

/// One 128-bit key from the KDF.
fn key16(session_key: &[u8; 16], label: &[u8], context: &[u8]) -> [u8; 16] {
    first16(&kdf_sp800_108(session_key, label, context, 16))
}

/// One cipher key: AES-256 ciphers derive L = 256 bits from the full session key, AES-128 ciphers
/// 128 bits from Session.SessionKey. (Construction cannot fail: the length matches the cipher.)
fn cipher_key(
    cipher: Cipher,
    full_key: &[u8],
    short: &[u8; 16],
    (label, context): (&[u8], &[u8]),
) -> Option<CipherKey> {
    let ki = if cipher.key_len() == 32 {
        full_key
    } else {
        short
    };
    CipherKey::new(cipher, &kdf_sp800_108(ki, label, context, cipher.key_len())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ms_examples::{
        Example, SMB300_REQUEST, SMB300_RESPONSE, SMB311_REQUEST, SMB311_RESPONSE,
    };
    use crate::test_util::hex;

    const SESSION_KEY: [u8; 16] = [
        0x27, 0x0e, 0x1b, 0xa8, 0x96, 0x58, 0x5e, 0xeb, 0x7a, 0xf3, 0x47, 0x2d, 0x3b, 0x4c, 0x75,
        0xa7,
    ];

    /// The signing key is private, so keys are compared through the signature of a zero PDU.
    fn assert_signing_key(keys: &SessionKeys, alg: SigningAlgorithm, expected: &str) {
        assert_eq!(keys.signing.algorithm(), alg);
        let expected = SigningKey::new(alg, hex(expected).try_into().unwrap());
        assert_eq!(
            keys.signing.compute(&[0u8; 64]),
            expected.compute(&[0u8; 64])
        );
    }

    /// Cipher keys are private too: compare the cipher and one encryption.
    fn assert_cipher_key(key: &Option<CipherKey>, cipher: Cipher, expected: &str) {
        let key = key.as_ref().unwrap();
        assert_eq!(key.cipher(), cipher);
        let expected = CipherKey::new(cipher, &hex(expected)).unwrap();
        let nonce = vec![3u8; cipher.nonce_len()];
        let (mut a, mut b) = ([9u8; 20], [9u8; 20]);
        assert_eq!(
            key.seal(&nonce, b"a", &mut a),
            expected.seal(&nonce, b"a", &mut b)
        );
        assert_eq!(a, b);
    }

    #[test]
    fn smb2_uses_session_key_directly() {
        let keys = derive_session_keys(
            Dialect::Smb210,
            &SESSION_KEY,
            &[0; 64],
            Some(Cipher::Aes128Gcm),
            SigningAlgorithm::AesGmac,
        );
        assert_signing_key(
            &keys,
            SigningAlgorithm::HmacSha256,
            "270e1ba896585eeb7af3472d3b4c75a7",
        );
        assert_eq!(keys.application, SESSION_KEY);
        assert!(keys.encryption.is_none() && keys.decryption.is_none());
    }

    #[test]
    fn session_key_is_truncated_or_zero_padded_to_16_bytes() {
        let long: Vec<u8> = (1u8..=32).collect();
        let keys = derive_session_keys(
            Dialect::Smb202,
            &long,
            &[0; 64],
            None,
            SigningAlgorithm::HmacSha256,
        );
        assert_eq!(keys.application.to_vec(), long[..16].to_vec());
        let keys = derive_session_keys(
            Dialect::Smb202,
            &[7; 5],
            &[0; 64],
            None,
            SigningAlgorithm::HmacSha256,
        );
        assert_eq!(
            keys.application,
            [7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn smb30_keys() {
        // 3.0 always uses AES-128-CCM and AES-CMAC, whatever the caller passes.
        let keys = derive_session_keys(
            Dialect::Smb300,
            &SESSION_KEY,
            &[0x55; 64],
            Some(Cipher::Aes256Gcm),
            SigningAlgorithm::AesGmac,
        );
        assert_cipher_key(
            &keys.decryption,
            Cipher::Aes128Ccm,
            "cd25f0bccd79f6add9487f1d8778aaf8",
        );
        assert_cipher_key(
            &keys.encryption,
            Cipher::Aes128Ccm,
            "e13c79ad34090979428b6dc42347b8fd",
        );
        assert_eq!(
            keys.application.to_vec(),
            hex("3bbd914bee354539ebcb3d6fac22f2f6")
        );
        assert_signing_key(
            &keys,
            SigningAlgorithm::AesCmac,
            "4eeaf9e6bc024e1adf4a560f01570deb",
        );
        // 3.0.2 derives the same keys; the preauth hash is ignored before 3.1.1.
        let same = derive_session_keys(
            Dialect::Smb302,
            &SESSION_KEY,
            &[0; 64],
            Some(Cipher::Aes128Ccm),
            SigningAlgorithm::AesCmac,
        );
        assert_cipher_key(
            &same.decryption,
            Cipher::Aes128Ccm,
            "cd25f0bccd79f6add9487f1d8778aaf8",
        );
        assert_eq!(same.application, keys.application);
    }

    #[test]
    fn no_cipher_means_no_cipher_keys() {
        for dialect in [Dialect::Smb300, Dialect::Smb311] {
            let keys = derive_session_keys(
                dialect,
                &SESSION_KEY,
                &[0; 64],
                None,
                SigningAlgorithm::AesCmac,
            );
            assert!(keys.encryption.is_none() && keys.decryption.is_none());
        }
    }

    #[test]
    fn smb311_keys_use_preauth_hash() {
        let preauth: [u8; 64] = std::array::from_fn(|i| i as u8);
        let keys = derive_session_keys(
            Dialect::Smb311,
            &SESSION_KEY,
            &preauth,
            Some(Cipher::Aes128Gcm),
            SigningAlgorithm::AesGmac,
        );
        assert_cipher_key(
            &keys.decryption,
            Cipher::Aes128Gcm,
            "0d1d3f2c974e31cd87a4be457d1eec4e",
        );
        assert_cipher_key(
            &keys.encryption,
            Cipher::Aes128Gcm,
            "c5d86e19e534dfa3f29b173996235e2a",
        );
        assert_eq!(
            keys.application.to_vec(),
            hex("df70319c9d0bf36facf95a81c51047c6")
        );
        assert_signing_key(
            &keys,
            SigningAlgorithm::AesGmac,
            "fa0dcbeacdef1a2ea760aa17d5a0be92",
        );
        // A 3.1.1 connection may also agree on HMAC-SHA256, with the same derived key.
        let hmac = derive_session_keys(
            Dialect::Smb311,
            &SESSION_KEY,
            &preauth,
            None,
            SigningAlgorithm::HmacSha256,
        );
        assert_signing_key(
            &hmac,
            SigningAlgorithm::HmacSha256,
            "fa0dcbeacdef1a2ea760aa17d5a0be92",
        );
    }

    /// Microsoft's published 3.1.1 example ("SMB 3.1.1 Pre-authentication integrity in Windows
    /// 10"): the final hash of its NEGOTIATE/SESSION_SETUP exchange and the resulting signing key.
    #[test]
    fn microsoft_smb311_signing_key() {
        let preauth: [u8; 64] = hex(
            "0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79
             28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01",
        )
        .try_into()
        .unwrap();
        let keys = derive_session_keys(
            Dialect::Smb311,
            &SESSION_KEY,
            &preauth,
            None,
            SigningAlgorithm::AesCmac,
        );
        assert_signing_key(
            &keys,
            SigningAlgorithm::AesCmac,
            "73FE7A9A77BEF0BDE49C650D8CCB5F76",
        );
    }

    /// The keys of Microsoft's published encryption examples (see ms_examples): the client's
    /// request is decrypted with the server's decryption key, the response encrypted with its
    /// encryption key.
    #[test]
    fn microsoft_example_keys() {
        let check = |dialect, cipher, request: &Example, response: &Example| {
            let mut preauth = [0u8; 64];
            if !request.preauth_hash.is_empty() {
                preauth.copy_from_slice(&hex(request.preauth_hash));
            }
            let keys = derive_session_keys(
                dialect,
                &hex(request.session_key),
                &preauth,
                Some(cipher),
                SigningAlgorithm::AesCmac,
            );
            assert!(request.client_to_server && !response.client_to_server);
            assert_cipher_key(&keys.decryption, cipher, request.key);
            assert_cipher_key(&keys.encryption, cipher, response.key);
        };
        check(
            Dialect::Smb300,
            Cipher::Aes128Ccm,
            &SMB300_REQUEST,
            &SMB300_RESPONSE,
        );
        check(
            Dialect::Smb311,
            Cipher::Aes128Gcm,
            &SMB311_REQUEST,
            &SMB311_RESPONSE,
        );
    }

    /// AES-256 ciphers derive 256-bit keys (L = 256) from the full session key; signing and
    /// application keys still come from its first 16 bytes. Expected values computed
    /// independently with Python hmac/hashlib (SP800-108 counter mode, as in kdf.rs).
    #[test]
    fn aes256_keys_use_full_session_key() {
        let full: Vec<u8> = (0xa0u8..0xc0).collect();
        let preauth: [u8; 64] = std::array::from_fn(|i| i as u8);
        for cipher in [Cipher::Aes256Gcm, Cipher::Aes256Ccm] {
            let keys = derive_session_keys(
                Dialect::Smb311,
                &full,
                &preauth,
                Some(cipher),
                SigningAlgorithm::AesCmac,
            );
            assert_cipher_key(
                &keys.decryption,
                cipher,
                "a253d326dfe56e02044d82f1087e646a2366b6c0c605efeb0a13831584990627",
            );
            assert_cipher_key(
                &keys.encryption,
                cipher,
                "e7be6041c9f4fbbc93dcb9c68753e5a5f5c3056a6a47e47bd1f08fbc8e2c09c7",
            );
            assert_signing_key(
                &keys,
                SigningAlgorithm::AesCmac,
                "a01a759cd15aac7f2ef33698a0d8785d",
            );
            assert_eq!(
                keys.application.to_vec(),
                hex("50876fea186b43755f4754084cb5fd6d")
            );
        }
        // A 16-byte (NTLM) session key with an AES-256 cipher: 256 bits from those 16 bytes.
        let keys = derive_session_keys(
            Dialect::Smb311,
            &SESSION_KEY,
            &preauth,
            Some(Cipher::Aes256Gcm),
            SigningAlgorithm::AesGmac,
        );
        assert_cipher_key(
            &keys.decryption,
            Cipher::Aes256Gcm,
            "c273f0de35671e766ef5106b605054d70385f9237f1327662763de8ac2444317",
        );
    }
}
