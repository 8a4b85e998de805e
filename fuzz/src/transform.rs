//! Target `transform`: an encrypted message (MS-SMB2 2.2.41, 3.3.5.2.1): the TRANSFORM_HEADER, then its
//! OriginalMessageSize, nonce and tag checked and the payload opened with a fixed key of the cipher the
//! first byte chooses, by the same code the server runs.

use bytes::BytesMut;
use crypto::{Cipher, CipherKey};

const CIPHERS: [Cipher; 4] = [
    Cipher::Aes128Ccm,
    Cipher::Aes128Gcm,
    Cipher::Aes256Ccm,
    Cipher::Aes256Gcm,
];

pub fn run(data: &[u8]) {
    let (pick, msg) = crate::selector(data);
    let Ok(hdr) = proto::transform::TransformHeader::decode(msg) else {
        return;
    };
    let Some(cipher) = CIPHERS.get(usize::from(pick % 4)) else {
        return;
    };
    let key_bytes = [0x5A; 32];
    let Some(Ok(key)) = key_bytes
        .get(..cipher.key_len())
        .map(|k| CipherKey::new(*cipher, k))
    else {
        return;
    };
    let mut frame = BytesMut::from(msg);
    let _ = server::encryption::open_frame(&mut frame, &hdr, &key);
}
