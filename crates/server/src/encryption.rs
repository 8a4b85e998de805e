//! SMB3 encryption of whole messages (MS-SMB2 3.3.4.1.4 encrypting a response, 3.3.5.2.1 decrypting a
//! request): the TRANSFORM_HEADER, in-place AES-CCM/GCM through the `crypto` crate, and nonces that never
//! repeat under one key.

use crate::session::Session;
use bytes::BytesMut;
use crypto::{CipherKey, CryptoError};
use proto::transform::{TransformHeader, AAD_RANGE, FLAG_ENCRYPTED, TRANSFORM_HEADER_LEN};
use std::sync::atomic::{AtomicU64, Ordering};

/// Generates response nonces for one session key: a 64-bit counter, so a nonce is never reused before
/// 2^64 messages (the key is discarded with the session long before that).
#[derive(Debug, Default)]
pub struct NonceCounter(AtomicU64);

impl NonceCounter {
    /// The next 16-byte Nonce field; only the cipher's nonce length (11 or 12 bytes) is used by the cipher.
    fn next(&self) -> [u8; 16] {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&n.to_le_bytes());
        nonce
    }
}

/// Why an encrypted request is refused; each one closes the connection (MS-SMB2 3.3.5.2.1.1).
#[derive(Debug, PartialEq, Eq)]
pub enum DecryptError {
    BadHeader,
    NoSession,
    BadMessage,
}

/// Decrypt a TRANSFORM_HEADER frame in place. Returns the session it was encrypted for and leaves `frame`
/// holding only the plaintext SMB2 message(s).
pub fn decrypt(
    frame: &mut BytesMut,
    lookup: impl Fn(u64) -> Option<std::sync::Arc<Session>>,
) -> Result<std::sync::Arc<Session>, DecryptError> {
    let hdr = TransformHeader::decode(frame).map_err(|_| DecryptError::BadHeader)?;
    if hdr.flags != FLAG_ENCRYPTED {
        return Err(DecryptError::BadHeader);
    }
    let session = lookup(hdr.session_id).ok_or(DecryptError::NoSession)?;
    let key = session
        .lock()
        .decryption
        .clone()
        .ok_or(DecryptError::NoSession)?;
    open_frame(frame, &hdr, &key)?;
    Ok(session)
}

/// Check and decrypt the message behind the TRANSFORM_HEADER `hdr` (already decoded from `frame`) with
/// `key`, then drop the header so `frame` holds only the plaintext.
pub fn open_frame(
    frame: &mut BytesMut,
    hdr: &TransformHeader,
    key: &CipherKey,
) -> Result<(), DecryptError> {
    let payload_len = frame.len().saturating_sub(TRANSFORM_HEADER_LEN);
    if usize::try_from(hdr.original_message_size).ok() != Some(payload_len) || payload_len == 0 {
        return Err(DecryptError::BadMessage);
    }
    let nonce = hdr
        .nonce
        .get(..key.cipher().nonce_len())
        .ok_or(DecryptError::BadHeader)?;
    let (head, body) = frame.split_at_mut(TRANSFORM_HEADER_LEN);
    let aad = head.get(AAD_RANGE).ok_or(DecryptError::BadHeader)?;
    key.open(nonce, aad, body, &hdr.signature)
        .map_err(|_| DecryptError::BadMessage)?;
    let _ = frame.split_to(TRANSFORM_HEADER_LEN);
    Ok(())
}

/// Space to leave at the front of a response buffer that [`seal`] will fill.
pub const RESERVED: usize = TRANSFORM_HEADER_LEN;

/// Encrypt the response in `out[RESERVED..]` in place and write its TRANSFORM_HEADER in front of it.
pub fn seal(
    out: &mut BytesMut,
    key: &CipherKey,
    nonces: &NonceCounter,
    session_id: u64,
) -> Result<(), CryptoError> {
    let len = out.len().checked_sub(RESERVED).ok_or(CryptoError)?;
    let nonce = nonces.next();
    let mut hdr = TransformHeader {
        signature: [0; 16],
        nonce,
        original_message_size: u32::try_from(len).map_err(|_| CryptoError)?,
        flags: FLAG_ENCRYPTED,
        session_id,
    };
    let mut head = BytesMut::with_capacity(TRANSFORM_HEADER_LEN);
    hdr.encode(&mut head);
    let (dst_head, body) = out.split_at_mut(RESERVED);
    let aad = head.get(AAD_RANGE).ok_or(CryptoError)?;
    let cipher_nonce = nonce.get(..key.cipher().nonce_len()).ok_or(CryptoError)?;
    hdr.signature = key.seal(cipher_nonce, aad, body)?;
    head.clear();
    hdr.encode(&mut head);
    dst_head.copy_from_slice(&head);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::Cipher;
    use std::sync::Arc;

    fn session_with(cipher: Cipher, key: &[u8]) -> Arc<Session> {
        let s = Arc::new(Session::new(9));
        let k = CipherKey::new(cipher, key).unwrap();
        s.lock().decryption = Some(k.clone());
        s.lock().encryption = Some(k);
        s
    }

    #[test]
    fn seal_then_decrypt_roundtrip_every_cipher() {
        for cipher in [
            Cipher::Aes128Ccm,
            Cipher::Aes128Gcm,
            Cipher::Aes256Ccm,
            Cipher::Aes256Gcm,
        ] {
            let key = vec![7u8; cipher.key_len()];
            let s = session_with(cipher, &key);
            let nonces = NonceCounter::default();
            let mut out = BytesMut::new();
            out.extend_from_slice(&[0u8; RESERVED]);
            out.extend_from_slice(b"\xfeSMB a message body");
            seal(&mut out, s.lock().encryption.as_ref().unwrap(), &nonces, 9).unwrap();
            assert_ne!(&out[RESERVED..], b"\xfeSMB a message body");
            let got = decrypt(&mut out, |_| Some(Arc::clone(&s))).unwrap();
            assert_eq!(got.id, 9);
            assert_eq!(&out[..], b"\xfeSMB a message body");
        }
    }

    #[test]
    fn tampering_is_rejected() {
        let s = session_with(Cipher::Aes128Gcm, &[1u8; 16]);
        let nonces = NonceCounter::default();
        let mut out = BytesMut::new();
        out.extend_from_slice(&[0u8; RESERVED]);
        out.extend_from_slice(b"\xfeSMB payload");
        seal(&mut out, s.lock().encryption.as_ref().unwrap(), &nonces, 9).unwrap();
        for pos in [4usize, 30, 44, RESERVED + 2] {
            let mut bad = out.clone();
            bad[pos] ^= 1;
            assert!(
                decrypt(&mut bad, |_| Some(Arc::clone(&s))).is_err(),
                "flip at {pos}"
            );
        }
        let mut truncated = out.clone();
        truncated.truncate(RESERVED + 3);
        assert_eq!(
            decrypt(&mut truncated, |_| Some(Arc::clone(&s))).err(),
            Some(DecryptError::BadMessage)
        );
        assert_eq!(
            decrypt(&mut out.clone(), |_| None).err(),
            Some(DecryptError::NoSession)
        );
    }

    #[test]
    fn nonces_do_not_repeat() {
        let n = NonceCounter::default();
        let a = n.next();
        let b = n.next();
        assert_ne!(a, b);
    }
}
