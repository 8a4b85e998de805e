//! Target `create_context`: SMB2_CREATE_CONTEXT chains (MS-SMB2 2.2.13.2) as CREATE hands them to
//! `parse_chain`: Next offsets that loop or run past the buffer, NameLength and DataLength beyond the
//! context, DataOffset 0.

pub fn run(data: &[u8]) {
    let _ = proto::create_context::parse_chain(data);
}
