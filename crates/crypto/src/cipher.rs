//! SMB3 message encryption ciphers (MS-SMB2 2.2.3.1.2 cipher ids, 3.1.4.3 encrypting, 3.2.5.1.1 and
//! 3.3.5.2.1.1 decrypting): AES-128/256-CCM and AES-128/256-GCM with 16-byte tags, working in place.
//!
//! Backends: GCM comes from aws-lc-rs (AES-NI/VAES code paths, DESIGN.md decision 4); CCM comes from
//! RustCrypto `ccm` over `aes`, as no faster CCM is available. Both stay behind [`CipherKey`] so a
//! backend can be swapped without touching callers.

use std::sync::Arc;

use aes::{Aes128, Aes256};
use aws_lc_rs::aead::{self, Aad, LessSafeKey, UnboundKey};
use ccm::aead::generic_array::GenericArray;
use ccm::consts::{U11, U16};
use ccm::{AeadInPlace, Ccm, KeyInit};

/// An SMB3 encryption cipher, by its SMB2_ENCRYPTION_CAPABILITIES Cipher id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    Aes128Ccm,
    Aes128Gcm,
    Aes256Ccm,
    Aes256Gcm,
}

impl Cipher {
    /// Maps a wire Cipher id (1 to 4) to a cipher.
    pub fn from_u16(v: u16) -> Option<Cipher> {
        match v {
            1 => Some(Cipher::Aes128Ccm),
            2 => Some(Cipher::Aes128Gcm),
            3 => Some(Cipher::Aes256Ccm),
            4 => Some(Cipher::Aes256Gcm),
            _ => None,
        }
    }

    /// The wire Cipher id.
    pub fn as_u16(self) -> u16 {
        match self {
            Cipher::Aes128Ccm => 1,
            Cipher::Aes128Gcm => 2,
            Cipher::Aes256Ccm => 3,
            Cipher::Aes256Gcm => 4,
        }
    }

    /// Key length in bytes: 16 for AES-128, 32 for AES-256.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Ccm | Cipher::Aes128Gcm => 16,
            Cipher::Aes256Ccm | Cipher::Aes256Gcm => 32,
        }
    }

    /// Nonce length in bytes: 11 for CCM, 12 for GCM (the leading bytes of the
    /// TRANSFORM_HEADER Nonce field).
    pub fn nonce_len(self) -> usize {
        match self {
            Cipher::Aes128Ccm | Cipher::Aes256Ccm => 11,
            Cipher::Aes128Gcm | Cipher::Aes256Gcm => 12,
        }
    }
}

/// A cryptographic operation failed: wrong key or nonce length, or a tag that does not verify.
#[derive(Debug, PartialEq, Eq)]
pub struct CryptoError;

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cryptographic operation failed")
    }
}

impl std::error::Error for CryptoError {}

type Aes128Ccm = Ccm<Aes128, U16, U11>;
type Aes256Ccm = Ccm<Aes256, U16, U11>;

/// The backend state of one key.
#[derive(Clone)]
enum Engine {
    /// aws-lc keys cannot be cloned, so clones share one.
    Gcm(Arc<LessSafeKey>),
    Ccm128(Box<Aes128Ccm>),
    Ccm256(Box<Aes256Ccm>),
}

/// A cipher together with its expanded key.
#[derive(Clone)]
pub struct CipherKey {
    cipher: Cipher,
    engine: Engine,
}

impl std::fmt::Debug for CipherKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CipherKey")
            .field("cipher", &self.cipher)
            .finish_non_exhaustive()
    }
}

impl CipherKey {
    /// Expands `key`, which must be exactly `cipher.key_len()` bytes.
    pub fn new(cipher: Cipher, key: &[u8]) -> Result<CipherKey, CryptoError> {
        if key.len() != cipher.key_len() {
            return Err(CryptoError);
        }
        let engine = match cipher {
            Cipher::Aes128Gcm => gcm_engine(&aead::AES_128_GCM, key)?,
            Cipher::Aes256Gcm => gcm_engine(&aead::AES_256_GCM, key)?,
            Cipher::Aes128Ccm => Engine::Ccm128(Box::new(
                Aes128Ccm::new_from_slice(key).map_err(|_| CryptoError)?,
            )),
            Cipher::Aes256Ccm => Engine::Ccm256(Box::new(
                Aes256Ccm::new_from_slice(key).map_err(|_| CryptoError)?,
            )),
        };
        Ok(CipherKey { cipher, engine })
    }

    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// Encrypts `data` in place; `nonce` is `nonce_len` bytes. Returns the 16-byte tag.
    pub fn seal(&self, nonce: &[u8], aad: &[u8], data: &mut [u8]) -> Result<[u8; 16], CryptoError> {
        self.check_nonce(nonce)?;
        match &self.engine {
            Engine::Gcm(key) => {
                let tag = key
                    .seal_in_place_separate_tag(gcm_nonce(nonce)?, Aad::from(aad), data)
                    .map_err(|_| CryptoError)?;
                tag_array(tag.as_ref())
            }
            Engine::Ccm128(key) => ccm_seal(key.as_ref(), nonce, aad, data),
            Engine::Ccm256(key) => ccm_seal(key.as_ref(), nonce, aad, data),
        }
    }

    /// Checks the tag (in constant time) and decrypts `data` in place. On failure the content
    /// of `data` is unspecified.
    pub fn open(
        &self,
        nonce: &[u8],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        self.check_nonce(nonce)?;
        match &self.engine {
            Engine::Gcm(key) => key
                .open_in_place_separate_tag(gcm_nonce(nonce)?, Aad::from(aad), tag, data)
                .map(|_| ())
                .map_err(|_| CryptoError),
            Engine::Ccm128(key) => ccm_open(key.as_ref(), nonce, aad, data, tag),
            Engine::Ccm256(key) => ccm_open(key.as_ref(), nonce, aad, data, tag),
        }
    }

    fn check_nonce(&self, nonce: &[u8]) -> Result<(), CryptoError> {
        if nonce.len() == self.cipher.nonce_len() {
            Ok(())
        } else {
            Err(CryptoError)
        }
    }
}

fn gcm_engine(alg: &'static aead::Algorithm, key: &[u8]) -> Result<Engine, CryptoError> {
    let key = UnboundKey::new(alg, key).map_err(|_| CryptoError)?;
    Ok(Engine::Gcm(Arc::new(LessSafeKey::new(key))))
}

fn gcm_nonce(nonce: &[u8]) -> Result<aead::Nonce, CryptoError> {
    aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError)
}

fn tag_array(tag: &[u8]) -> Result<[u8; 16], CryptoError> {
    tag.try_into().map_err(|_| CryptoError)
}

fn ccm_nonce(nonce: &[u8]) -> Result<GenericArray<u8, U11>, CryptoError> {
    GenericArray::from_exact_iter(nonce.iter().copied()).ok_or(CryptoError)
}

fn ccm_seal<A>(key: &A, nonce: &[u8], aad: &[u8], data: &mut [u8]) -> Result<[u8; 16], CryptoError>
where
    A: AeadInPlace<NonceSize = U11, TagSize = U16>,
{
    let tag = key
        .encrypt_in_place_detached(&ccm_nonce(nonce)?, aad, data)
        .map_err(|_| CryptoError)?;
    tag_array(tag.as_slice())
}

fn ccm_open<A>(
    key: &A,
    nonce: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CryptoError>
where
    A: AeadInPlace<NonceSize = U11, TagSize = U16>,
{
    let tag = GenericArray::from(*tag);
    key.decrypt_in_place_detached(&ccm_nonce(nonce)?, aad, data, &tag)
        .map_err(|_| CryptoError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ms_examples::{
        Example, SMB300_REQUEST, SMB300_RESPONSE, SMB311_REQUEST, SMB311_RESPONSE,
    };
    use crate::test_util::hex;

    const ALL: [Cipher; 4] = [
        Cipher::Aes128Ccm,
        Cipher::Aes128Gcm,
        Cipher::Aes256Ccm,
        Cipher::Aes256Gcm,
    ];

    fn key_for(cipher: Cipher) -> CipherKey {
        let bytes: Vec<u8> = (0..cipher.key_len() as u8).map(|b| b ^ 0x5c).collect();
        CipherKey::new(cipher, &bytes).unwrap()
    }

    fn nonce_for(cipher: Cipher) -> Vec<u8> {
        (0..cipher.nonce_len() as u8).map(|b| b + 0x40).collect()
    }

    #[test]
    fn cipher_ids_and_sizes() {
        for (id, cipher) in (1u16..=4).zip(ALL) {
            assert_eq!(Cipher::from_u16(id), Some(cipher));
            assert_eq!(cipher.as_u16(), id);
        }
        assert_eq!(Cipher::from_u16(0), None);
        assert_eq!(Cipher::from_u16(5), None);
        let sizes: Vec<(usize, usize)> = ALL.iter().map(|c| (c.key_len(), c.nonce_len())).collect();
        assert_eq!(sizes, [(16, 11), (16, 12), (32, 11), (32, 12)]);
    }

    /// Checks one published example both ways: decrypting the transform gives the message, and
    /// encrypting the message with the same nonce gives the transform's ciphertext and signature.
    fn check_example(cipher: Cipher, example: &Example) {
        let key = CipherKey::new(cipher, &hex(example.key)).unwrap();
        let t = example.transform();
        let nonce = &t.nonce_field[..cipher.nonce_len()];
        let mut data = t.ciphertext.clone();
        key.open(nonce, &t.aad, &mut data, &t.tag).unwrap();
        assert_eq!(data, hex(example.message));
        let tag = key.seal(nonce, &t.aad, &mut data).unwrap();
        assert_eq!(data, t.ciphertext);
        assert_eq!(tag, t.tag);
    }

    #[test]
    fn microsoft_smb300_ccm_examples() {
        check_example(Cipher::Aes128Ccm, &SMB300_REQUEST);
        check_example(Cipher::Aes128Ccm, &SMB300_RESPONSE);
    }

    #[test]
    fn microsoft_smb311_gcm_examples() {
        check_example(Cipher::Aes128Gcm, &SMB311_REQUEST);
        check_example(Cipher::Aes128Gcm, &SMB311_RESPONSE);
    }

    /// McGrew and Viega's GCM test cases 4 (AES-128) and 16 (AES-256), as in the NIST GCM
    /// validation suite: 60-byte plaintext, 20-byte AAD, 96-bit IV.
    #[test]
    fn gcm_known_answers() {
        let k = "feffe9928665731c6d6a8f9467308308";
        let plain = hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let iv = hex("cafebabefacedbaddecaf888");
        let cases = [
            (
                Cipher::Aes128Gcm,
                k.to_string(),
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
                "5bc94fbc3221a5db94fae95ae7121a47",
            ),
            (
                Cipher::Aes256Gcm,
                format!("{k}{k}"),
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
                "76fc6ece0f4e1768cddf8853bb2d551b",
            ),
        ];
        for (cipher, key, ct, tag) in cases {
            let key = CipherKey::new(cipher, &hex(&key)).unwrap();
            let mut data = plain.clone();
            let got = key.seal(&iv, &aad, &mut data).unwrap();
            assert_eq!(data, hex(ct));
            assert_eq!(got.to_vec(), hex(tag));
            key.open(&iv, &aad, &mut data, &got).unwrap();
            assert_eq!(data, plain);
        }
    }

    /// CCM with SMB's parameters (11-byte nonce, 16-byte tag); the published RFC 3610 and SP800-38C
    /// examples use other nonce and tag sizes, so the expected bytes were computed independently
    /// with Python `cryptography`: AESCCM(key, tag_length=16).encrypt(nonce, plain, aad).
    #[test]
    fn ccm_known_answers() {
        let key32: Vec<u8> = (0u8..32).collect();
        let nonce: Vec<u8> = (0x40u8..0x4b).collect();
        let plain = b"The quick brown fox jumps over the lazy dog";
        let cases = [
            (
                Cipher::Aes128Ccm,
                &key32[..16],
                "ad298857f84b57eb418e1dcabf67af85aa69021a4a08ccf274caac3a5940ec405bca5cbcf4c65a3ea2919f
                 2769e9180b1b29ac98a0e4146dbcba2a",
            ),
            (
                Cipher::Aes256Ccm,
                &key32[..],
                "2165168a7a9feb5701f8aaf9eed32410eef49f6a1b113bb9ce7104950a14ef8040713bee0ff066ed5ddbf9
                 40877a2e0c41604c34f6aa9a6e5d2778",
            ),
        ];
        for (cipher, key, expected) in cases {
            let key = CipherKey::new(cipher, key).unwrap();
            let mut data = plain.to_vec();
            let tag = key.seal(&nonce, b"smb3 aad", &mut data).unwrap();
            data.extend_from_slice(&tag); // ciphertext, then the tag
            assert_eq!(data, hex(expected), "{cipher:?}");
        }
    }

    #[test]
    fn round_trips_every_cipher_and_length() {
        for cipher in ALL {
            let key = key_for(cipher);
            let nonce = nonce_for(cipher);
            for len in [0usize, 1, 15, 16, 17, 1000] {
                let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut data = plain.clone();
                let tag = key.seal(&nonce, b"header", &mut data).unwrap();
                if len > 0 {
                    assert_ne!(data, plain, "{cipher:?} {len}");
                }
                key.open(&nonce, b"header", &mut data, &tag).unwrap();
                assert_eq!(data, plain, "{cipher:?} {len}");
            }
        }
    }

    #[test]
    fn tampering_is_detected() {
        for cipher in ALL {
            let key = key_for(cipher);
            let nonce = nonce_for(cipher);
            let mut sealed = b"sixteen byte msg".to_vec();
            let tag = key.seal(&nonce, b"aad", &mut sealed).unwrap();
            let open = |nonce: &[u8], aad: &[u8], data: &[u8], tag: &[u8; 16]| {
                key.open(nonce, aad, &mut data.to_vec(), tag)
            };
            assert_eq!(open(&nonce, b"aad", &sealed, &tag), Ok(()));
            let mut bad_tag = tag;
            bad_tag[15] ^= 1;
            assert_eq!(open(&nonce, b"aad", &sealed, &bad_tag), Err(CryptoError));
            let mut bad_data = sealed.clone();
            bad_data[3] ^= 0x80;
            assert_eq!(open(&nonce, b"aad", &bad_data, &tag), Err(CryptoError));
            assert_eq!(open(&nonce, b"aae", &sealed, &tag), Err(CryptoError));
            assert_eq!(open(&nonce, b"", &sealed, &tag), Err(CryptoError));
            let mut bad_nonce = nonce.clone();
            bad_nonce[0] ^= 1;
            assert_eq!(open(&bad_nonce, b"aad", &sealed, &tag), Err(CryptoError));
            assert_eq!(open(&nonce, b"aad", &sealed[..15], &tag), Err(CryptoError));
            let other = CipherKey::new(cipher, &vec![0u8; cipher.key_len()]).unwrap();
            assert_eq!(
                other.open(&nonce, b"aad", &mut sealed.clone(), &tag),
                Err(CryptoError)
            );
        }
    }

    #[test]
    fn wrong_key_or_nonce_length_is_an_error() {
        for cipher in ALL {
            for len in [0, 15, 17, 24, 31, 33] {
                if len != cipher.key_len() {
                    assert!(
                        CipherKey::new(cipher, &vec![1; len]).is_err(),
                        "{cipher:?} {len}"
                    );
                }
            }
            let key = key_for(cipher);
            assert_eq!(key.cipher(), cipher);
            let mut data = [0u8; 4];
            for len in [0, 8, 11, 12, 13, 16] {
                if len != cipher.nonce_len() {
                    let nonce = vec![0u8; len];
                    assert_eq!(key.seal(&nonce, b"", &mut data), Err(CryptoError));
                    assert_eq!(key.open(&nonce, b"", &mut data, &[0; 16]), Err(CryptoError));
                }
            }
        }
    }

    #[test]
    fn clones_work_and_debug_hides_key() {
        let key = CipherKey::new(Cipher::Aes128Gcm, &[0xAB; 16]).unwrap();
        let copy = key.clone();
        let nonce = [0u8; 12];
        assert_eq!(
            key.seal(&nonce, b"", &mut []),
            copy.seal(&nonce, b"", &mut [])
        );
        let shown = format!("{key:?}");
        assert_eq!(shown, "CipherKey { cipher: Aes128Gcm, .. }");
        fn shareable<T: Send + Sync>() {}
        shareable::<CipherKey>();
    }
}
