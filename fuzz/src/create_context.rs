//! Target `create_context`: SMB2_CREATE_CONTEXT chains (MS-SMB2 2.2.13.2) as CREATE hands them to
//! `parse_chain`: Next offsets that loop or run past the buffer, NameLength and DataLength beyond the
//! context, DataOffset 0; the data of every context as the lease request (RqLs v1 and v2,
//! 2.2.13.2.8 and 2.2.13.2.10), which CREATE decodes next; and the chain's durable handle contexts
//! (DHnQ, DHnC, DH2Q, DH2C and their combinations, 2.2.13.2.3/.4/.11/.12); and every context's data as
//! Apple's AAPL server query, whose reply is then encoded.

use proto::aapl::{AaplQuery, AaplReply};
use proto::create_context::{parse_chain, LeaseContext};
use proto::durable::durable_context;

pub fn run(data: &[u8]) {
    let Ok(contexts) = parse_chain(data) else {
        return;
    };
    let _ = durable_context(&contexts, true);
    let _ = durable_context(&contexts, false);
    for c in contexts {
        let _ = LeaseContext::decode(c.data, true);
        let _ = LeaseContext::decode(c.data, false);
        if let Ok(q) = AaplQuery::decode(c.data) {
            let reply = AaplReply {
                reply_bitmap: q.request_bitmap,
                server_caps: q.client_caps,
                volume_caps: 0,
                model: "MacSamba".into(),
            };
            let _ = reply.encode();
        }
    }
}
