//! SMB 3.1.1 pre-authentication integrity hash (MS-SMB2 3.3.5.4 and 3.3.5.5): SHA-512 chained over
//! the NEGOTIATE and SESSION_SETUP messages, later used as the KDF context.

use sha2::{Digest, Sha512};

/// The running PreauthIntegrityHashValue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreauthHash(pub [u8; 64]);

impl Default for PreauthHash {
    fn default() -> Self {
        Self::new()
    }
}

impl PreauthHash {
    /// The initial value: 64 zero bytes.
    pub fn new() -> Self {
        PreauthHash([0; 64])
    }

    /// H = SHA-512(H || pdu), for one whole SMB2 message (header included).
    pub fn update(&mut self, pdu: &[u8]) {
        let mut h = Sha512::new();
        h.update(self.0);
        h.update(pdu);
        self.0.copy_from_slice(&h.finalize());
    }

    pub fn value(&self) -> &[u8; 64] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::PreauthHash;
    use crate::test_util::hex;

    #[test]
    fn chains_sha512() {
        let mut h = PreauthHash::new();
        assert_eq!(h.value(), &[0u8; 64]);
        h.update(b"abc");
        // Independent: hashlib.sha512(bytes(64) + b"abc").hexdigest()
        assert_eq!(h.value().to_vec(), hex("7682b6b84c6f692545a896ad210299bcc6f74e189d829e165739b11dd83b6f2c 8cfacf27e812bf064df756d6235ac33c062b89ecb80f8215516dbbb844ce8480"));
        h.update(b"");
        // Independent: hashlib.sha512(previous + b"").hexdigest()
        assert_eq!(h.value().to_vec(), hex("b07d28df56a660224ef928bf43d3b46bdd4396079a6744625df66b2491e3fc7b 585d279b097a9f6aa1be36013a0f3d9656b54227efb2d10f993da84cc8427919"));
    }
}
