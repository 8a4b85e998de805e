//! Target `header`: the transport frame header (MS-SMB2 2.1), the SMB2 header (2.2.1) and the SMB1
//! NEGOTIATE a client may open with (MS-SMB2 3.3.5.3.1).

pub fn run(data: &[u8]) {
    if let Some(h) = data.first_chunk::<4>() {
        let _ = proto::frame::decode_frame_header(*h, 1 << 24);
    }
    let _ = proto::Header::decode(data);
    let _ = proto::smb1::parse_negotiate(data);
}
