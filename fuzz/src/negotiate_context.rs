//! Target `negotiate_context`: NEGOTIATE context lists (MS-SMB2 2.2.3.1): the first three bytes choose
//! the offset (u16) and count (u8) as a NEGOTIATE request would give them, the rest is the PDU.

pub fn run(data: &[u8]) {
    let Some(([off_lo, off_hi, count], pdu)) = data.split_first_chunk::<3>() else {
        return;
    };
    let offset = usize::from(u16::from_le_bytes([*off_lo, *off_hi]));
    let _ = proto::negotiate_context::decode_list(pdu, offset, u16::from(*count));
}
