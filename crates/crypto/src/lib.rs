//! rsmbd-crypto: the SMB2/SMB3 cryptographic building blocks that hold no protocol state.
//!
//! * [`kdf_sp800_108`]: NIST SP800-108 counter-mode KDF with HMAC-SHA256 (MS-SMB2 3.1.4.2).
//! * [`SigningKey`]: SMB2 message signing and verification, HMAC-SHA256, AES-CMAC and AES-GMAC
//!   (MS-SMB2 3.1.4.1).
//! * [`CipherKey`]: SMB3 message encryption with AES-128/256-CCM/GCM (MS-SMB2 3.1.4.3).
//! * [`derive_session_keys`]: per-session key derivation (MS-SMB2 3.3.5.5.3, 3.2.5.3.1).
//! * [`PreauthHash`]: SMB 3.1.1 pre-authentication integrity hash (MS-SMB2 3.3.5.4, 3.3.5.5).
#![forbid(unsafe_code)]

mod cipher;
mod ct;
mod dialect;
mod kdf;
mod keys;
mod preauth;
mod signing;

pub use cipher::{Cipher, CipherKey, CryptoError};
pub use ct::ct_eq;
pub use dialect::Dialect;
pub use kdf::kdf_sp800_108;
pub use keys::{derive_session_keys, SessionKeys};
pub use preauth::PreauthHash;
pub use signing::{SigningAlgorithm, SigningKey, SIGNATURE_OFFSET};

#[cfg(test)]
mod ms_examples;

#[cfg(test)]
pub(crate) mod test_util {
    /// Decodes a hex string (whitespace ignored) for test vectors.
    pub fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }
}
