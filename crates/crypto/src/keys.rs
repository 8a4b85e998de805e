//! Session key derivation, MS-SMB2 3.3.5.5.3 (server side; the client side in 3.2.5.3.1 mirrors it).
//!
//! 2.0.2 and 2.1 sign with the session key itself. 3.0 and 3.0.2 derive every key with fixed labels
//! and contexts; 3.1.1 uses new labels and the pre-authentication integrity hash as the context.

use crate::dialect::Dialect;
use crate::kdf::kdf_sp800_108;
use crate::signing::{SigningAlgorithm, SigningKey};

/// The keys of one authenticated session.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    pub signing: SigningKey,
    /// Client-to-server cipher key: the server decrypts requests with it. Zero for 2.x.
    pub encryption_c2s: [u8; 16],
    /// Server-to-client cipher key: the server encrypts responses with it. Zero for 2.x.
    pub encryption_s2c: [u8; 16],
    /// Key handed to applications such as RPC over SMB. The session key itself for 2.x.
    pub application: [u8; 16],
}

/// Label and context of each derived key for one dialect family.
struct KeyLabels<'a> {
    signing: (&'a [u8], &'a [u8]),
    c2s: (&'a [u8], &'a [u8]),
    s2c: (&'a [u8], &'a [u8]),
    application: (&'a [u8], &'a [u8]),
}

/// Derives the session's keys from the 16-byte session key (the authentication protocol's
/// exported key) and, for 3.1.1, the session's final pre-authentication hash.
pub fn derive_session_keys(
    dialect: Dialect,
    session_key: &[u8; 16],
    preauth_hash: &[u8; 64],
) -> SessionKeys {
    let labels = match dialect {
        Dialect::Smb202 | Dialect::Smb210 => {
            return SessionKeys {
                signing: SigningKey::new(SigningAlgorithm::HmacSha256, *session_key),
                encryption_c2s: [0; 16],
                encryption_s2c: [0; 16],
                application: *session_key,
            };
        }
        Dialect::Smb300 | Dialect::Smb302 => KeyLabels {
            signing: (b"SMB2AESCMAC\0", b"SmbSign\0"),
            c2s: (b"SMB2AESCCM\0", b"ServerIn \0"),
            s2c: (b"SMB2AESCCM\0", b"ServerOut\0"),
            application: (b"SMB2APP\0", b"SmbRpc\0"),
        },
        Dialect::Smb311 => KeyLabels {
            signing: (b"SMBSigningKey\0", preauth_hash),
            c2s: (b"SMBC2SCipherKey\0", preauth_hash),
            s2c: (b"SMBS2CCipherKey\0", preauth_hash),
            application: (b"SMBAppKey\0", preauth_hash),
        },
    };
    let derive = |(label, context): (&[u8], &[u8])| key16(session_key, label, context);
    SessionKeys {
        signing: SigningKey::new(SigningAlgorithm::AesCmac, derive(labels.signing)),
        encryption_c2s: derive(labels.c2s),
        encryption_s2c: derive(labels.s2c),
        application: derive(labels.application),
    }
}

/// One 128-bit key from the KDF.
fn key16(session_key: &[u8; 16], label: &[u8], context: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, k) in out
        .iter_mut()
        .zip(kdf_sp800_108(session_key, label, context, 16))
    {
        *o = k;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::hex;

    const SESSION_KEY: [u8; 16] = [
        0x27, 0x0e, 0x1b, 0xa8, 0x96, 0x58, 0x5e, 0xeb, 0x7a, 0xf3, 0x47, 0x2d, 0x3b, 0x4c, 0x75,
        0xa7,
    ];

    /// The signing key is private, so keys are compared through the signature of a zero PDU.
    fn signing_bytes(keys: &SessionKeys) -> Vec<u8> {
        keys.signing.compute(&[0u8; 64]).unwrap().to_vec()
    }

    #[test]
    fn smb2_uses_session_key_directly() {
        let keys = derive_session_keys(Dialect::Smb210, &SESSION_KEY, &[0; 64]);
        assert_eq!(keys.signing.algorithm(), SigningAlgorithm::HmacSha256);
        assert_eq!(keys.application, SESSION_KEY);
        assert_eq!(keys.encryption_c2s, [0; 16]);
    }

    #[test]
    fn smb30_keys() {
        let keys = derive_session_keys(Dialect::Smb300, &SESSION_KEY, &[0x55; 64]);
        assert_eq!(keys.signing.algorithm(), SigningAlgorithm::AesCmac);
        assert_eq!(
            keys.encryption_c2s.to_vec(),
            hex("cd25f0bccd79f6add9487f1d8778aaf8")
        );
        assert_eq!(
            keys.encryption_s2c.to_vec(),
            hex("e13c79ad34090979428b6dc42347b8fd")
        );
        assert_eq!(
            keys.application.to_vec(),
            hex("3bbd914bee354539ebcb3d6fac22f2f6")
        );
        let expected = SigningKey::new(
            SigningAlgorithm::AesCmac,
            hex("4eeaf9e6bc024e1adf4a560f01570deb").try_into().unwrap(),
        );
        assert_eq!(
            signing_bytes(&keys),
            expected.compute(&[0u8; 64]).unwrap().to_vec()
        );
        // 3.0.2 derives the same keys; the preauth hash is ignored before 3.1.1.
        let same = derive_session_keys(Dialect::Smb302, &SESSION_KEY, &[0; 64]);
        assert_eq!(same.encryption_c2s, keys.encryption_c2s);
    }

    #[test]
    fn smb311_keys_use_preauth_hash() {
        let preauth: [u8; 64] = std::array::from_fn(|i| i as u8);
        let keys = derive_session_keys(Dialect::Smb311, &SESSION_KEY, &preauth);
        assert_eq!(
            keys.encryption_c2s.to_vec(),
            hex("0d1d3f2c974e31cd87a4be457d1eec4e")
        );
        assert_eq!(
            keys.encryption_s2c.to_vec(),
            hex("c5d86e19e534dfa3f29b173996235e2a")
        );
        assert_eq!(
            keys.application.to_vec(),
            hex("df70319c9d0bf36facf95a81c51047c6")
        );
        let expected = SigningKey::new(
            SigningAlgorithm::AesCmac,
            hex("fa0dcbeacdef1a2ea760aa17d5a0be92").try_into().unwrap(),
        );
        assert_eq!(
            signing_bytes(&keys),
            expected.compute(&[0u8; 64]).unwrap().to_vec()
        );
    }
}
