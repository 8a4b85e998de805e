//! SMB2 message signing (MS-SMB2 3.1.4.1): HMAC-SHA256 truncated to 16 bytes for 2.0.2/2.1 and
//! AES-128-CMAC for 3.x. The signature covers the whole PDU with its Signature field (header
//! bytes 48..64) taken as zero.

use aes::Aes128;
use cmac::Cmac;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ct::ct_eq;

/// Length of the SMB2 header that starts every PDU.
const HEADER_LEN: usize = 64;
/// Offset of the 16-byte Signature field in the SMB2 header.
const SIGNATURE_OFFSET: usize = 48;
const SIGNATURE_LEN: usize = 16;

/// The MAC used to sign SMB2 messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256, dialects 2.0.2 and 2.1.
    HmacSha256,
    /// AES-128-CMAC, dialects 3.0 and later.
    AesCmac,
    // AES-128-GMAC (SMB2_SIGNING_CAPABILITIES, 3.1.1) will be added here; its nonce comes from the
    // MessageId and the SMB2_FLAGS_SERVER_TO_REDIR/CANCEL flags of the header (MS-SMB2 3.1.4.1).
}

/// A signing algorithm together with its 16-byte key.
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlgorithm,
    key: [u8; 16],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn new(alg: SigningAlgorithm, key: [u8; 16]) -> Self {
        SigningKey { alg, key }
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    /// Computes the signature of one SMB2 PDU (64-byte header first) as if its Signature field
    /// were zero, without copying the PDU. Returns None if the PDU is shorter than a header.
    pub fn compute(&self, pdu: &[u8]) -> Option<[u8; 16]> {
        let head = pdu.get(..SIGNATURE_OFFSET)?;
        let rest = pdu.get(HEADER_LEN..)?;
        let zero = [0u8; SIGNATURE_LEN];
        let parts = [head, &zero[..], rest];
        match self.alg {
            SigningAlgorithm::HmacSha256 => mac_parts::<Hmac<Sha256>>(&self.key, &parts),
            SigningAlgorithm::AesCmac => mac_parts::<Cmac<Aes128>>(&self.key, &parts),
        }
    }

    /// Writes the signature into the Signature field. The caller has already set
    /// SMB2_FLAGS_SIGNED; a PDU shorter than a header is left untouched.
    pub fn sign(&self, pdu: &mut [u8]) {
        if let Some(sig) = self.compute(pdu) {
            if let Some(field) = pdu.get_mut(SIGNATURE_OFFSET..HEADER_LEN) {
                field.copy_from_slice(&sig);
            }
        }
    }

    /// Checks the PDU's Signature field against the computed signature in constant time.
    pub fn verify(&self, pdu: &[u8]) -> bool {
        match (self.compute(pdu), pdu.get(SIGNATURE_OFFSET..HEADER_LEN)) {
            (Some(expected), Some(found)) => ct_eq(&expected, found),
            _ => false,
        }
    }
}

/// Runs a MAC keyed with `key` over the concatenation of `parts`; returns its first 16 bytes.
/// (Both MACs accept a 16-byte key, so None is never returned in practice.)
fn mac_parts<M: Mac + hmac::digest::KeyInit>(key: &[u8; 16], parts: &[&[u8]]) -> Option<[u8; 16]> {
    let mut mac = <M as Mac>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; 16];
    for (o, t) in out.iter_mut().zip(tag.iter()) {
        *o = *t;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::hex;

    fn sample_pdu() -> Vec<u8> {
        // A 64-byte SMB2 header (ECHO request, SIGNED flag) followed by a 4-byte body.
        let mut pdu = vec![0u8; 68];
        pdu[..4].copy_from_slice(b"\xfeSMB");
        pdu[4] = 64;
        pdu[12] = 0x0d; // ECHO
        pdu[16] = 0x08; // SMB2_FLAGS_SIGNED
        pdu[24] = 7; // MessageId
        pdu[40] = 0x11; // SessionId
        pdu[48..64].fill(0xAA); // stale signature that must be ignored
        pdu[64] = 4;
        pdu
    }

    #[test]
    fn aes_cmac_rfc4493_vectors() {
        // RFC 4493 section 4, key 2b7e1516..., examples 1 (empty) and 2 (16 bytes).
        let key: [u8; 16] = hex("2b7e151628aed2a6abf7158809cf4f3c").try_into().unwrap();
        let empty = mac_parts::<Cmac<Aes128>>(&key, &[]).unwrap();
        assert_eq!(empty.to_vec(), hex("bb1d6929e95937287fa37d129b756746"));
        let msg = hex("6bc1bee22e409f96e93d7e117393172a");
        let one = mac_parts::<Cmac<Aes128>>(&key, &[&msg[..7], &msg[7..]]).unwrap();
        assert_eq!(one.to_vec(), hex("070a16b46b4d4144f79bdd9dd04a287c"));
        let msg64 = hex(
            "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
             30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
        );
        let four = mac_parts::<Cmac<Aes128>>(&key, &[&msg64]).unwrap();
        assert_eq!(four.to_vec(), hex("51f0bebf7e3b9d92fc49741779363cfe"));
    }

    #[test]
    fn hmac_sha256_signature_of_sample_pdu() {
        let key = SigningKey::new(SigningAlgorithm::HmacSha256, [0x42; 16]);
        let mut pdu = sample_pdu();
        key.sign(&mut pdu);
        // Independent: hmac.new(b"\x42"*16, pdu_with_zero_sig, hashlib.sha256).digest()[:16]
        assert_eq!(
            pdu[48..64].to_vec(),
            hex("20175228052ae754b0672f8eeca107e7")
        );
        assert!(key.verify(&pdu));
    }

    #[test]
    fn aes_cmac_signature_of_sample_pdu() {
        let key = SigningKey::new(SigningAlgorithm::AesCmac, [0x42; 16]);
        let mut pdu = sample_pdu();
        key.sign(&mut pdu);
        // Independent: AES-CMAC(b"\x42"*16, pdu_with_zero_sig) (Python "cryptography" package).
        assert_eq!(
            pdu[48..64].to_vec(),
            hex("4c1044f7bbf1f8254465acc79f68e169")
        );
        assert!(key.verify(&pdu));
    }

    #[test]
    fn verify_rejects_any_flipped_bit() {
        for alg in [SigningAlgorithm::HmacSha256, SigningAlgorithm::AesCmac] {
            let key = SigningKey::new(alg, [7; 16]);
            let mut pdu = sample_pdu();
            key.sign(&mut pdu);
            for byte in [0, 20, 48, 63, 64, 67] {
                let mut bad = pdu.clone();
                bad[byte] ^= 0x01;
                assert!(!key.verify(&bad), "{alg:?} byte {byte}");
            }
            let other = SigningKey::new(alg, [8; 16]);
            assert!(!other.verify(&pdu));
        }
    }

    #[test]
    fn short_pdu_has_no_signature() {
        let key = SigningKey::new(SigningAlgorithm::AesCmac, [0; 16]);
        assert_eq!(key.compute(&[0u8; 63]), None);
        assert!(!key.verify(&[0u8; 63]));
        let mut short = [1u8; 10];
        key.sign(&mut short);
        assert_eq!(short, [1u8; 10]);
        assert!(key.compute(&[0u8; 64]).is_some());
    }
}
