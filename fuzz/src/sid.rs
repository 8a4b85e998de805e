//! Target `sid`: security identifiers (MS-DTYP 2.4.2) in their two encodings: the RPC_SID NDR form the
//! lsarpc and samr pipes read, and the S-1-... text form of configuration and lookups. What decodes
//! must encode back to the same SID. (Security descriptors, which hold SIDs in their binary form,
//! have their own target, `security_descriptor`.)

use rpc::ndr::{Decoder, Encoder};
use rpc::{RpcSid, Sid};

pub fn run(data: &[u8]) {
    if let Ok(sid) = Sid::decode(&mut Decoder::new(data)) {
        let mut e = Encoder::new();
        sid.encode(&mut e);
        let again = Sid::decode(&mut Decoder::new(&e.into_bytes()));
        assert_eq!(again.as_ref(), Ok(&sid), "RPC_SID round trip");
        assert_eq!(Sid::parse(&sid.to_string()), Some(sid), "text round trip");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(sid) = Sid::parse(text) {
            assert_eq!(Sid::parse(&sid.to_string()), Some(sid), "text round trip");
        }
    }
}
