//! SMB2 message signing (MS-SMB2 3.1.4.1): HMAC-SHA256 truncated to 16 bytes for 2.0.2/2.1,
//! AES-128-CMAC for 3.x and AES-128-GMAC when 3.1.1 negotiated it (SMB2_SIGNING_CAPABILITIES,
//! 2.2.3.1.7). The signature covers the whole PDU with its Signature field (header bytes 48..64)
//! taken as zero.

use aes::Aes128;
use cmac::Cmac;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cipher::{Cipher, CipherKey};
use crate::ct::ct_eq;

/// Length of the SMB2 header that starts every PDU.
const HEADER_LEN: usize = 64;
/// Offset of the 16-byte Signature field in the SMB2 header (MS-SMB2 2.2.1).
pub const SIGNATURE_OFFSET: usize = 48;
const SIGNATURE_LEN: usize = 16;
/// Offsets of the Command, Flags and MessageId header fields (MS-SMB2 2.2.1).
const COMMAND_OFFSET: usize = 12;
const FLAGS_OFFSET: usize = 16;
const MESSAGE_ID_OFFSET: usize = 24;
const SMB2_FLAGS_SERVER_TO_REDIR: u32 = 0x0000_0001;
const SMB2_CANCEL: u16 = 0x000C;

/// The MAC used to sign SMB2 messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256, dialects 2.0.2 and 2.1.
    HmacSha256,
    /// AES-128-CMAC, dialects 3.0 and later.
    AesCmac,
    /// AES-128-GMAC, 3.1.1 when SMB2_SIGNING_CAPABILITIES selected it.
    AesGmac,
}

impl SigningAlgorithm {
    /// Maps a SigningAlgorithmId (MS-SMB2 2.2.3.1.7) to an algorithm: 0 HMAC-SHA256,
    /// 1 AES-CMAC, 2 AES-GMAC.
    pub fn from_u16(v: u16) -> Option<Self> {
        match v {
            0 => Some(SigningAlgorithm::HmacSha256),
            1 => Some(SigningAlgorithm::AesCmac),
            2 => Some(SigningAlgorithm::AesGmac),
            _ => None,
        }
    }

    /// The SigningAlgorithmId on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            SigningAlgorithm::HmacSha256 => 0,
            SigningAlgorithm::AesCmac => 1,
            SigningAlgorithm::AesGmac => 2,
        }
    }
}

/// A signing algorithm together with its 16-byte key.
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlgorithm,
    key: [u8; 16],
    /// The expanded AES-128-GCM key, for AesGmac only.
    gmac: Option<CipherKey>,
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
        let gmac = match alg {
            SigningAlgorithm::AesGmac => CipherKey::new(Cipher::Aes128Gcm, &key).ok(),
            SigningAlgorithm::HmacSha256 | SigningAlgorithm::AesCmac => None,
        };
        SigningKey { alg, key, gmac }
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
            SigningAlgorithm::AesGmac => {
                let nonce = gmac_nonce(pdu)?;
                let key = self.gmac.as_ref()?;
                // GMAC is GCM over an empty plaintext with the message as AAD. aws-lc-rs takes the AAD as
                // one slice: a PDU whose Signature field is already zero (every response being signed) is
                // used as it is; otherwise (verifying a request) it is copied once with the field zeroed.
                // aws-lc's GHASH is several times faster than a block-at-a-time one, which outweighs
                // the copy (measured with bench/run.sh).
                if pdu.get(SIGNATURE_OFFSET..HEADER_LEN)? == zero {
                    key.seal(&nonce, pdu, &mut []).ok()
                } else {
                    key.seal(&nonce, &parts.concat(), &mut []).ok()
                }
            }
        }
    }

    /// Writes the signature into the Signature field. The caller has already set
    /// SMB2_FLAGS_SIGNED; a PDU shorter than a header is left untouched.
    pub fn sign(&self, pdu: &mut [u8]) {
        // A zero Signature field lets GMAC run over the PDU in place.
        if let Some(field) = pdu.get_mut(SIGNATURE_OFFSET..HEADER_LEN) {
            field.fill(0);
        }
        if let Some(sig) = self.compute(pdu) {
            if let Some(field) = pdu.get_mut(SIGNATURE_OFFSET..HEADER_LEN) {
                field.copy_from_slice(&sig);
            }
        }
    }

    /// Checks the PDU's Signature field against the computed signature in constant time.
    pub fn verify(&self, pdu: &[u8]) -> bool {
        pdu.get(SIGNATURE_OFFSET..HEADER_LEN)
            .is_some_and(|found| self.verify_detached(pdu, found))
    }

    /// Checks a signature taken out of the PDU beforehand. With the PDU's Signature field already zeroed,
    /// AES-GMAC runs over the PDU in place instead of over a copy (see `compute`).
    pub fn verify_detached(&self, pdu: &[u8], signature: &[u8]) -> bool {
        self.compute(pdu)
            .is_some_and(|expected| ct_eq(&expected, signature))
    }
}

/// The AES-GMAC nonce (MS-SMB2 3.1.4.1): the 8-byte MessageId, then 4 bytes whose bit 0 marks a
/// server-to-client message and bit 1 a CANCEL request. None if the PDU is shorter than a header.
fn gmac_nonce(pdu: &[u8]) -> Option<[u8; 12]> {
    let message_id = pdu.get(MESSAGE_ID_OFFSET..MESSAGE_ID_OFFSET + 8)?;
    let command = u16::from_le_bytes(
        pdu.get(COMMAND_OFFSET..COMMAND_OFFSET + 2)?
            .try_into()
            .ok()?,
    );
    let flags = u32::from_le_bytes(pdu.get(FLAGS_OFFSET..FLAGS_OFFSET + 4)?.try_into().ok()?);
    let mut role = 0u32;
    if flags & SMB2_FLAGS_SERVER_TO_REDIR != 0 {
        role |= 1;
    }
    if command == SMB2_CANCEL {
        role |= 2;
    }
    let mut nonce = [0u8; 12];
    let (id, tail) = nonce.split_at_mut(8);
    id.copy_from_slice(message_id);
    tail.copy_from_slice(&role.to_le_bytes());
    Some(nonce)
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
    fn aes_gmac_signature_of_sample_pdu() {
        let key = SigningKey::new(SigningAlgorithm::AesGmac, [0x42; 16]);
        // Independent: AESGCM(b"\x42"*16).encrypt(nonce, b"", pdu_with_zero_sig) (Python
        // "cryptography"), nonce = MessageId (8 bytes LE) || role/cancel bits (4 bytes LE).
        let cases = [
            (0x0d, 0x08, "7c2fc02cff6f0542099455e00bcaba05"), // request: nonce bits 0
            (0x0d, 0x09, "1fc1fc1f5a1878aa58955b200ba0afe5"), // SERVER_TO_REDIR: bit 0
            (0x0c, 0x08, "0c4d37a8c687804dfb2e674c18db5686"), // CANCEL: bit 1
            (0x0c, 0x09, "0dca6806d4785a14b1b25092b8c45be1"), // both
        ];
        for (command, flags, expected) in cases {
            let mut pdu = sample_pdu();
            pdu[12] = command;
            pdu[16] = flags;
            key.sign(&mut pdu);
            assert_eq!(
                pdu[48..64].to_vec(),
                hex(expected),
                "{command:#x} {flags:#x}"
            );
            assert!(key.verify(&pdu));
        }
    }

    #[test]
    fn gmac_nonce_layout() {
        let mut pdu = sample_pdu();
        pdu[24..32].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
        pdu[16] = 0x09;
        pdu[12] = 0x0c;
        assert_eq!(
            gmac_nonce(&pdu).unwrap(),
            [8, 7, 6, 5, 4, 3, 2, 1, 3, 0, 0, 0]
        );
        assert_eq!(gmac_nonce(&pdu[..31]), None);
    }

    #[test]
    fn signing_algorithm_ids() {
        for (id, alg) in [
            (0, SigningAlgorithm::HmacSha256),
            (1, SigningAlgorithm::AesCmac),
            (2, SigningAlgorithm::AesGmac),
        ] {
            assert_eq!(SigningAlgorithm::from_u16(id), Some(alg));
            assert_eq!(alg.as_u16(), id);
        }
        assert_eq!(SigningAlgorithm::from_u16(3), None);
    }

    #[test]
    fn verify_rejects_any_flipped_bit() {
        for alg in [
            SigningAlgorithm::HmacSha256,
            SigningAlgorithm::AesCmac,
            SigningAlgorithm::AesGmac,
        ] {
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
    fn detached_signature_verifies_the_zeroed_pdu() {
        for alg in [
            SigningAlgorithm::HmacSha256,
            SigningAlgorithm::AesCmac,
            SigningAlgorithm::AesGmac,
        ] {
            let key = SigningKey::new(alg, [9; 16]);
            let mut pdu = sample_pdu();
            key.sign(&mut pdu);
            let sig: [u8; 16] = pdu[SIGNATURE_OFFSET..HEADER_LEN].try_into().unwrap();
            pdu[SIGNATURE_OFFSET..HEADER_LEN].fill(0);
            assert!(key.verify_detached(&pdu, &sig), "{alg:?}");
            let mut wrong = sig;
            wrong[15] ^= 0x80;
            assert!(!key.verify_detached(&pdu, &wrong), "{alg:?}");
            assert!(!key.verify_detached(&pdu, &sig[..15]), "{alg:?}");
        }
    }

    #[test]
    fn short_pdu_has_no_signature() {
        for alg in [SigningAlgorithm::AesCmac, SigningAlgorithm::AesGmac] {
            let key = SigningKey::new(alg, [0; 16]);
            assert_eq!(key.compute(&[0u8; 63]), None);
            assert!(!key.verify(&[0u8; 63]));
            let mut short = [1u8; 10];
            key.sign(&mut short);
            assert_eq!(short, [1u8; 10]);
            assert!(key.compute(&[0u8; 64]).is_some());
        }
    }
}
