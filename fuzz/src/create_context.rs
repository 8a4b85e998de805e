//! Target `create_context`: SMB2_CREATE_CONTEXT chains (MS-SMB2 2.2.13.2) as CREATE hands them to
//! `parse_chain`: Next offsets that loop or run past the buffer, NameLength and DataLength beyond the
//! context, DataOffset 0; and the data of every context as the lease request (RqLs v1 and v2,
//! 2.2.13.2.8 and 2.2.13.2.10), which CREATE decodes next.

use proto::create_context::{parse_chain, LeaseContext};

pub fn run(data: &[u8]) {
    let Ok(contexts) = parse_chain(data) else {
        return;
    };
    for c in contexts {
        let _ = LeaseContext::decode(c.data, true);
        let _ = LeaseContext::decode(c.data, false);
    }
}
