//! Signatures taken out of a received frame before it is shared (MS-SMB2 3.1.5.1, 3.3.5.2.4).
//!
//! A signature is computed over the PDU with its Signature field zeroed. AES-GMAC (aws-lc) takes the
//! message as one contiguous slice, so verifying a PDU whose field is still set means copying the whole
//! PDU (an 8 MiB WRITE included). While the frame is still mutable, this module moves each signed PDU's
//! signature aside and zeroes the field, so verification runs over the frame in place.
//!
//! SESSION_SETUP requests keep their signature: on SMB 3.1.1 the preauthentication hash covers them as
//! sent (MS-SMB2 3.3.5.5), and they are small.

use crypto::SIGNATURE_OFFSET;
use proto::{Command, Header, HeaderFlags, HEADER_LEN};

/// The signatures of a frame's signed PDUs, by the PDU's offset in the frame. Empty (no allocation) for
/// a frame without signed PDUs.
#[derive(Debug, Default)]
pub struct Detached(Vec<(usize, [u8; 16])>);

impl Detached {
    /// Walks the compound chain of `frame` as far as it is well formed (the dispatcher rejects the rest)
    /// and detaches the signature of every signed PDU but SESSION_SETUP.
    pub fn take(frame: &mut [u8]) -> Detached {
        let mut taken = Vec::new();
        let mut pos = 0usize;
        while let Some(rest) = frame.get_mut(pos..) {
            let Ok(hdr) = Header::decode(rest) else {
                break;
            };
            if hdr.flags.has(HeaderFlags::SIGNED) && hdr.command != Command::SessionSetup as u16 {
                if let Some(field) = rest.get_mut(SIGNATURE_OFFSET..HEADER_LEN) {
                    let mut sig = [0u8; 16];
                    sig.copy_from_slice(field);
                    field.fill(0);
                    taken.push((pos, sig));
                }
            }
            let next = usize::try_from(hdr.next_command).unwrap_or(0);
            if next < HEADER_LEN || next > rest.len() {
                break;
            }
            pos += next;
        }
        Detached(taken)
    }

    /// The signature detached from the PDU at offset `pos`, if any.
    pub fn at(&self, pos: usize) -> Option<&[u8; 16]> {
        self.0.iter().find(|(p, _)| *p == pos).map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdu(command: u16, flags: u32, next: u32, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len];
        p[..4].copy_from_slice(b"\xfeSMB");
        p[4..6].copy_from_slice(&64u16.to_le_bytes());
        p[12..14].copy_from_slice(&command.to_le_bytes());
        p[16..20].copy_from_slice(&flags.to_le_bytes());
        p[20..24].copy_from_slice(&next.to_le_bytes());
        p[48..64].fill(0xAB);
        p
    }

    #[test]
    fn detaches_signed_pdus_of_a_compound_but_not_session_setup() {
        let signed = HeaderFlags::SIGNED;
        let mut frame = pdu(Command::Read as u16, signed, 72, 72);
        frame.extend(pdu(Command::Close as u16, 0, 72, 72));
        frame.extend(pdu(Command::Write as u16, signed, 0, 80));
        let detached = Detached::take(&mut frame);
        assert_eq!(detached.at(0), Some(&[0xAB; 16]));
        assert_eq!(detached.at(72), None);
        assert_eq!(detached.at(144), Some(&[0xAB; 16]));
        assert_eq!(&frame[48..64], &[0u8; 16]);
        assert_eq!(&frame[72 + 48..72 + 64], &[0xAB; 16]);
        assert_eq!(&frame[144 + 48..144 + 64], &[0u8; 16]);

        let mut setup = pdu(Command::SessionSetup as u16, signed, 0, 72);
        assert_eq!(Detached::take(&mut setup).at(0), None);
        assert_eq!(&setup[48..64], &[0xAB; 16]);
    }

    #[test]
    fn stops_at_a_malformed_chain() {
        let signed = HeaderFlags::SIGNED;
        let mut frame = pdu(Command::Read as u16, signed, 4000, 72);
        let detached = Detached::take(&mut frame);
        assert_eq!(detached.at(0), Some(&[0xAB; 16]));
        assert!(Detached::take(&mut [0u8; 10]).at(0).is_none());
    }
}
