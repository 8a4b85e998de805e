//! Protection of one outgoing message, in one place for responses and for messages the server sends
//! on its own (asynchronous final responses, later oplock and lease breaks): encryption of the whole
//! message for a session that encrypts (MS-SMB2 3.3.4.1.4; encrypted messages are not signed), else
//! signing of each PDU that must be signed (MS-SMB2 3.3.4.1.1).

use crate::encryption;
use crate::session::Session;
use bytes::BytesMut;
use crypto::SigningKey;
use proto::writer::patch_u32;
use proto::HeaderFlags;

/// Where one PDU of a message starts and the key it is signed with, if it must be signed.
pub type Signer = (usize, Option<SigningKey>);

/// Why a message could not be protected; the connection is closed rather than send it in the clear.
#[derive(Debug)]
pub struct Unprotected;

/// Encrypt `out` for `encrypted_for` (its first [`encryption::RESERVED`] bytes are room for the
/// TRANSFORM_HEADER), or sign the PDUs listed in `signers` (in order; each ends where the next begins).
pub fn protect(
    out: &mut BytesMut,
    encrypted_for: Option<&Session>,
    signers: &[Signer],
) -> Result<(), Unprotected> {
    match encrypted_for {
        Some(session) => {
            let key = session.lock().encryption.clone().ok_or(Unprotected)?;
            encryption::seal(out, &key, &session.nonces, session.id).map_err(|_| Unprotected)
        }
        None => {
            sign_all(out, signers);
            Ok(())
        }
    }
}

fn sign_all(out: &mut BytesMut, signers: &[Signer]) {
    for (i, (start, signer)) in signers.iter().enumerate() {
        let Some(key) = signer else { continue };
        let end = signers.get(i + 1).map_or(out.len(), |(next, _)| *next);
        let flags = proto::reader::u32_at(out, *start + 16).unwrap_or(0) | HeaderFlags::SIGNED;
        patch_u32(out, *start + 16, flags);
        if let Some(pdu) = out.get_mut(*start..end) {
            key.sign(pdu);
        }
    }
}
