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

/// Length of every SMB3 authentication tag (the TRANSFORM_HEADER Signature field).
pub const TAG_LEN: usize = 16;

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
            Cipher::Aes128Ccm => {
                Engine::Ccm128(Box::new(Aes128Ccm::new_from_slice(key).map_err(|_| CryptoError)?))
            }
            Cipher::Aes256Ccm => {
                Engine::Ccm256(Box::new(Aes256Ccm::new_from_slice(key).map_err(|_| CryptoError)?))
            }
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
