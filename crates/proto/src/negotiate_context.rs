//! SMB 3.1.1 negotiate contexts (MS-SMB2 2.2.3.1 and 2.2.4.1): parsing every defined type and encoding the
//! ones the server sends.

use crate::reader::{DecodeError, Reader};
use crate::writer::{len_u16, pad_to};
use bytes::{BufMut, BytesMut};

pub const PREAUTH_INTEGRITY_CAPABILITIES: u16 = 0x0001;
pub const ENCRYPTION_CAPABILITIES: u16 = 0x0002;
pub const COMPRESSION_CAPABILITIES: u16 = 0x0003;
pub const NETNAME_NEGOTIATE_CONTEXT_ID: u16 = 0x0005;
pub const TRANSPORT_CAPABILITIES: u16 = 0x0006;
pub const RDMA_TRANSFORM_CAPABILITIES: u16 = 0x0007;
pub const SIGNING_CAPABILITIES: u16 = 0x0008;

pub const HASH_SHA512: u16 = 0x0001;
pub const CIPHER_AES128_CCM: u16 = 0x0001;
pub const CIPHER_AES128_GCM: u16 = 0x0002;
pub const CIPHER_AES256_CCM: u16 = 0x0003;
pub const CIPHER_AES256_GCM: u16 = 0x0004;
pub const SIGNING_HMAC_SHA256: u16 = 0x0000;
pub const SIGNING_AES_CMAC: u16 = 0x0001;
pub const SIGNING_AES_GMAC: u16 = 0x0002;

/// Most contexts a request may carry; real clients send fewer than ten.
pub const MAX_CONTEXTS: usize = 32;

/// One negotiate context. List fields are bounded by the 16-bit DataLength of their context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NegotiateContext<'a> {
    PreauthIntegrity {
        hash_algorithms: Vec<u16>,
        salt: &'a [u8],
    },
    Encryption {
        ciphers: Vec<u16>,
    },
    Compression {
        flags: u32,
        algorithms: Vec<u16>,
    },
    NetName(&'a [u8]),
    Transport {
        flags: u32,
    },
    RdmaTransform {
        transforms: Vec<u16>,
    },
    Signing {
        algorithms: Vec<u16>,
    },
    Unknown {
        context_type: u16,
        data: &'a [u8],
    },
}

fn u16_list(r: &mut Reader<'_>, count: u16) -> Result<Vec<u16>, DecodeError> {
    if usize::from(count) * 2 > r.remaining() {
        return Err(DecodeError::Truncated);
    }
    (0..count).map(|_| r.u16()).collect()
}

impl<'a> NegotiateContext<'a> {
    fn decode_data(context_type: u16, data: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        Ok(match context_type {
            PREAUTH_INTEGRITY_CAPABILITIES => {
                let count = r.u16()?;
                let salt_len = r.u16()?;
                let hash_algorithms = u16_list(&mut r, count)?;
                let salt = r.take(usize::from(salt_len))?;
                NegotiateContext::PreauthIntegrity {
                    hash_algorithms,
                    salt,
                }
            }
            ENCRYPTION_CAPABILITIES => {
                let count = r.u16()?;
                NegotiateContext::Encryption {
                    ciphers: u16_list(&mut r, count)?,
                }
            }
            COMPRESSION_CAPABILITIES => {
                let count = r.u16()?;
                r.skip(2)?;
                let flags = r.u32()?;
                NegotiateContext::Compression {
                    flags,
                    algorithms: u16_list(&mut r, count)?,
                }
            }
            NETNAME_NEGOTIATE_CONTEXT_ID => NegotiateContext::NetName(data),
            TRANSPORT_CAPABILITIES => NegotiateContext::Transport { flags: r.u32()? },
            RDMA_TRANSFORM_CAPABILITIES => {
                let count = r.u16()?;
                r.skip(6)?;
                NegotiateContext::RdmaTransform {
                    transforms: u16_list(&mut r, count)?,
                }
            }
            SIGNING_CAPABILITIES => {
                let count = r.u16()?;
                NegotiateContext::Signing {
                    algorithms: u16_list(&mut r, count)?,
                }
            }
            _ => NegotiateContext::Unknown { context_type, data },
        })
    }

    pub fn context_type(&self) -> u16 {
        match self {
            NegotiateContext::PreauthIntegrity { .. } => PREAUTH_INTEGRITY_CAPABILITIES,
            NegotiateContext::Encryption { .. } => ENCRYPTION_CAPABILITIES,
            NegotiateContext::Compression { .. } => COMPRESSION_CAPABILITIES,
            NegotiateContext::NetName(_) => NETNAME_NEGOTIATE_CONTEXT_ID,
            NegotiateContext::Transport { .. } => TRANSPORT_CAPABILITIES,
            NegotiateContext::RdmaTransform { .. } => RDMA_TRANSFORM_CAPABILITIES,
            NegotiateContext::Signing { .. } => SIGNING_CAPABILITIES,
            NegotiateContext::Unknown { context_type, .. } => *context_type,
        }
    }

    fn encode_data(&self, w: &mut BytesMut) {
        let list = |w: &mut BytesMut, l: &[u16]| l.iter().for_each(|v| w.put_u16_le(*v));
        match self {
            NegotiateContext::PreauthIntegrity {
                hash_algorithms,
                salt,
            } => {
                w.put_u16_le(len_u16(hash_algorithms.len()));
                w.put_u16_le(len_u16(salt.len()));
                list(w, hash_algorithms);
                w.put_slice(salt);
            }
            NegotiateContext::Encryption { ciphers: l }
            | NegotiateContext::Signing { algorithms: l } => {
                w.put_u16_le(len_u16(l.len()));
                list(w, l);
            }
            NegotiateContext::Compression { flags, algorithms } => {
                w.put_u16_le(len_u16(algorithms.len()));
                w.put_u16_le(0);
                w.put_u32_le(*flags);
                list(w, algorithms);
            }
            NegotiateContext::NetName(d) | NegotiateContext::Unknown { data: d, .. } => {
                w.put_slice(d)
            }
            NegotiateContext::Transport { flags } => w.put_u32_le(*flags),
            NegotiateContext::RdmaTransform { transforms } => {
                w.put_u16_le(len_u16(transforms.len()));
                w.put_bytes(0, 6);
                list(w, transforms);
            }
        }
    }
}

/// Parse `count` contexts starting at `offset` (from the PDU start), each 8-byte aligned relative to the PDU.
pub fn decode_list<'a>(
    pdu: &'a [u8],
    offset: usize,
    count: u16,
) -> Result<Vec<NegotiateContext<'a>>, DecodeError> {
    if usize::from(count) > MAX_CONTEXTS {
        return Err(DecodeError::TooLarge);
    }
    let mut r = Reader::new_at(pdu, offset).map_err(|_| DecodeError::BadOffset)?;
    let mut out = Vec::with_capacity(usize::from(count));
    for i in 0..count {
        if i > 0 {
            let pad = (8 - r.position() % 8) % 8;
            r.skip(pad)?;
        }
        let context_type = r.u16()?;
        let len = r.u16()?;
        r.skip(4)?;
        let data = r.take(usize::from(len))?;
        out.push(NegotiateContext::decode_data(context_type, data)?);
    }
    Ok(out)
}

/// Append contexts, padding before each one to 8 bytes relative to `pdu_start` (the caller pads before the first).
pub fn encode_list(w: &mut BytesMut, pdu_start: usize, contexts: &[NegotiateContext<'_>]) {
    for (i, c) in contexts.iter().enumerate() {
        if i > 0 {
            pad_to(w, pdu_start, 8);
        }
        let mut data = BytesMut::new();
        c.encode_data(&mut data);
        w.put_u16_le(c.context_type());
        w.put_u16_le(len_u16(data.len()));
        w.put_u32_le(0);
        w.put_slice(&data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_roundtrip_with_alignment() {
        let salt = [7u8; 32];
        let list = vec![
            NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![HASH_SHA512],
                salt: &salt,
            },
            NegotiateContext::Encryption {
                ciphers: vec![CIPHER_AES128_GCM, CIPHER_AES128_CCM],
            },
            NegotiateContext::Compression {
                flags: 0,
                algorithms: vec![1, 2],
            },
            NegotiateContext::NetName(&[b'h', 0]),
            NegotiateContext::Transport { flags: 1 },
            NegotiateContext::RdmaTransform {
                transforms: vec![1],
            },
            NegotiateContext::Signing {
                algorithms: vec![SIGNING_AES_GMAC],
            },
            NegotiateContext::Unknown {
                context_type: 0x99,
                data: &[1, 2, 3],
            },
        ];
        let mut w = BytesMut::new();
        w.put_bytes(0, 8);
        encode_list(&mut w, 0, &list);
        let back = decode_list(&w, 8, list.len() as u16).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn spec_layout_of_preauth_context() {
        let salt = [0xAA; 2];
        let mut w = BytesMut::new();
        encode_list(
            &mut w,
            0,
            &[NegotiateContext::PreauthIntegrity {
                hash_algorithms: vec![1],
                salt: &salt,
            }],
        );
        assert_eq!(
            &w[..],
            &[1, 0, 8, 0, 0, 0, 0, 0, 1, 0, 2, 0, 1, 0, 0xAA, 0xAA]
        );
    }

    #[test]
    fn rejects_counts_beyond_data() {
        let mut w = BytesMut::new();
        w.put_u16_le(ENCRYPTION_CAPABILITIES);
        w.put_u16_le(4);
        w.put_u32_le(0);
        w.put_u16_le(100);
        w.put_u16_le(1);
        assert_eq!(decode_list(&w, 0, 1), Err(DecodeError::Truncated));
        assert_eq!(decode_list(&w, 0, 2), Err(DecodeError::Truncated));
        assert_eq!(decode_list(&w, 0, 1000), Err(DecodeError::TooLarge));
        assert_eq!(decode_list(&w, 100, 1), Err(DecodeError::BadOffset));
    }
}
