//! Durable handle create contexts: the requests (MS-SMB2 2.2.13.2.3 DHnQ, 2.2.13.2.4 DHnC, 2.2.13.2.11
//! DH2Q, 2.2.13.2.12 DH2C), their responses (2.2.14.2.3, 2.2.14.2.12), and which one a CREATE carries
//! when several are present (3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10, 3.3.5.9.12).

use crate::create_context::{find, name, CreateContext};
use crate::reader::{DecodeError, Reader};
use crate::{FileId, Guid};

/// SMB2_DHANDLE_FLAG_PERSISTENT.
pub const FLAG_PERSISTENT: u32 = 0x0000_0002;

/// The durable context of a CREATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurableContext {
    /// DHnQ: make the open durable.
    Request,
    /// DHnC: reconnect to the open with this FileId.
    Reconnect { file_id: FileId },
    /// DH2Q: make the open durable for `timeout_ms` (0: the server's default), under `create_guid`.
    RequestV2 {
        timeout_ms: u32,
        persistent: bool,
        create_guid: Guid,
    },
    /// DH2C: reconnect to the open with this FileId, made under `create_guid`.
    ReconnectV2 {
        file_id: FileId,
        create_guid: Guid,
        persistent: bool,
    },
}

/// The durable context `contexts` carry. `v2_allowed` (SMB 3.x) says whether DH2Q and DH2C count; on
/// SMB 2.x they are ignored. A DHnQ beside a DHnC is ignored (3.3.5.9.7); any other pair of durable
/// contexts, and data of the wrong size, are errors the server answers with STATUS_INVALID_PARAMETER.
pub fn durable_context(
    contexts: &[CreateContext<'_>],
    v2_allowed: bool,
) -> Result<Option<DurableContext>, DecodeError> {
    let v1_request = find(contexts, name::DURABLE_HANDLE_REQUEST);
    let v1_reconnect = find(contexts, name::DURABLE_HANDLE_RECONNECT);
    let v2 = |n| find(contexts, n).filter(|_| v2_allowed);
    let v2_request = v2(name::DURABLE_HANDLE_REQUEST_V2);
    let v2_reconnect = v2(name::DURABLE_HANDLE_RECONNECT_V2);
    let v1 = v1_request.is_some() || v1_reconnect.is_some();
    if (v1 && (v2_request.is_some() || v2_reconnect.is_some()))
        || (v2_request.is_some() && v2_reconnect.is_some())
    {
        return Err(DecodeError::BadValue);
    }
    if let Some(c) = v1_reconnect {
        return Ok(Some(DurableContext::Reconnect {
            file_id: file_id(&mut sized(c.data, 16)?)?,
        }));
    }
    if let Some(c) = v1_request {
        sized(c.data, 16)?;
        return Ok(Some(DurableContext::Request));
    }
    if let Some(c) = v2_request {
        let mut r = sized(c.data, 32)?;
        let timeout_ms = r.u32()?;
        let flags = r.u32()?;
        r.skip(8)?;
        return Ok(Some(DurableContext::RequestV2 {
            timeout_ms,
            persistent: flags & FLAG_PERSISTENT != 0,
            create_guid: r.array()?,
        }));
    }
    if let Some(c) = v2_reconnect {
        let mut r = sized(c.data, 36)?;
        let file_id = file_id(&mut r)?;
        let create_guid = r.array()?;
        let flags = r.u32()?;
        return Ok(Some(DurableContext::ReconnectV2 {
            file_id,
            create_guid,
            persistent: flags & FLAG_PERSISTENT != 0,
        }));
    }
    Ok(None)
}

/// A reader over exactly `len` bytes of context data.
fn sized(data: &[u8], len: usize) -> Result<Reader<'_>, DecodeError> {
    if data.len() == len {
        Ok(Reader::new(data))
    } else {
        Err(DecodeError::BadValue)
    }
}

fn file_id(r: &mut Reader<'_>) -> Result<FileId, DecodeError> {
    Ok(FileId {
        persistent: r.u64()?,
        volatile: r.u64()?,
    })
}

/// SMB2_CREATE_DURABLE_HANDLE_RESPONSE: eight reserved bytes.
pub const RESPONSE_V1: [u8; 8] = [0; 8];

/// SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2: the timeout granted and the flags.
pub fn response_v2(timeout_ms: u32, persistent: bool) -> [u8; 8] {
    let mut out = [0u8; 8];
    let (t, f) = out.split_at_mut(4);
    t.copy_from_slice(&timeout_ms.to_le_bytes());
    let flags = if persistent { FLAG_PERSISTENT } else { 0 };
    f.copy_from_slice(&flags.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(name: &'a [u8], data: &'a [u8]) -> CreateContext<'a> {
        CreateContext { name, data }
    }

    #[test]
    fn each_context_and_the_refused_pairs() {
        let q = [0u8; 16];
        let mut c = [0u8; 16];
        c[0] = 7;
        c[8] = 9;
        let mut q2 = [0u8; 32];
        q2[0] = 0x10; // 16 ms
        q2[4] = 2; // persistent
        q2[16] = 0xAA;
        let c2 = [0u8; 36];
        let dhnq = ctx(name::DURABLE_HANDLE_REQUEST, &q);
        let dhnc = ctx(name::DURABLE_HANDLE_RECONNECT, &c);
        let dh2q = ctx(name::DURABLE_HANDLE_REQUEST_V2, &q2);
        let dh2c = ctx(name::DURABLE_HANDLE_RECONNECT_V2, &c2);
        assert_eq!(
            durable_context(&[dhnq], true),
            Ok(Some(DurableContext::Request))
        );
        let reconnect = DurableContext::Reconnect {
            file_id: FileId {
                persistent: 7,
                volatile: 9,
            },
        };
        assert_eq!(durable_context(&[dhnq, dhnc], true), Ok(Some(reconnect)));
        let mut guid = [0u8; 16];
        guid[0] = 0xAA;
        assert_eq!(
            durable_context(&[dh2q], true),
            Ok(Some(DurableContext::RequestV2 {
                timeout_ms: 16,
                persistent: true,
                create_guid: guid
            }))
        );
        assert_eq!(durable_context(&[dh2q], false), Ok(None));
        for pair in [[dhnq, dh2q], [dhnc, dh2c], [dh2q, dh2c], [dhnq, dh2c]] {
            assert_eq!(durable_context(&pair, true), Err(DecodeError::BadValue));
        }
        let short = ctx(name::DURABLE_HANDLE_REQUEST_V2, &q);
        assert_eq!(durable_context(&[short], true), Err(DecodeError::BadValue));
        assert_eq!(response_v2(60_000, false), [0x60, 0xEA, 0, 0, 0, 0, 0, 0]);
    }
}
