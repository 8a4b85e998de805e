//! Target `request`: one frame as the client sends it (a single request or a compound chain, MS-SMB2
//! 3.3.5.2.7): each SMB2 header, then the request body its Command names, with the decoder the server
//! uses ([`Request::decode`]), following NextCommand as the dispatcher does, and the input buffers of
//! the FSCTLs the server decodes (server-side copy, block cloning, sparse files, compression).

use proto::messages::ioctl::copychunk::SrvCopychunkCopy;
use proto::messages::ioctl::duplicate_extents::DuplicateExtentsData;
use proto::messages::ioctl::sparse::{
    decode_compression_state, decode_set_sparse, FileAllocatedRangeBuffer, FileZeroDataInformation,
};
use proto::messages::ioctl::{fsctl, ValidateNegotiateInfoRequest};
use proto::messages::Request;
use proto::{Command, Header};

/// More PDUs than any real compound carries; the loop is bounded even if NextCommand were not checked.
const MAX_PDUS: usize = 64;

pub fn run(data: &[u8]) {
    let mut rest = data;
    for _ in 0..MAX_PDUS {
        let Ok(h) = Header::decode(rest) else {
            return;
        };
        let next = usize::try_from(h.next_command).unwrap_or(usize::MAX);
        let (pdu, after) = if next == 0 || next > rest.len() {
            (rest, &[][..])
        } else {
            rest.split_at(next)
        };
        decode_body(h.command, pdu);
        if next == 0 || after.is_empty() {
            return;
        }
        rest = after;
    }
}

fn decode_body(command: u16, pdu: &[u8]) {
    let Some(command) = Command::from_u16(command) else {
        return;
    };
    match Request::decode(command, pdu) {
        Ok(Request::Create(req)) => {
            let _ = proto::create_context::parse_chain(req.contexts);
        }
        Ok(Request::Ioctl(req)) => decode_fsctl_input(req.ctl_code, req.input),
        Ok(Request::SetInfo(req)) => {
            crate::info_class::decode_set_info(req.file_info_class, req.buffer);
        }
        _ => {}
    }
}

/// The input buffer of the FSCTLs whose input the server decodes, as the handler would.
fn decode_fsctl_input(ctl_code: u32, input: &[u8]) {
    match ctl_code {
        fsctl::SRV_COPYCHUNK | fsctl::SRV_COPYCHUNK_WRITE => {
            if let Ok(copy) = SrvCopychunkCopy::decode(input) {
                // The server checks the count against its limit (256) before decoding the chunks.
                if copy.chunk_count <= 256 {
                    let _ = copy.chunks();
                }
            }
        }
        fsctl::DUPLICATE_EXTENTS_TO_FILE => {
            let _ = DuplicateExtentsData::decode(input);
        }
        fsctl::SET_SPARSE => {
            let _ = decode_set_sparse(input);
        }
        fsctl::SET_ZERO_DATA => {
            let _ = FileZeroDataInformation::decode(input);
        }
        fsctl::QUERY_ALLOCATED_RANGES => {
            let _ = FileAllocatedRangeBuffer::decode(input);
        }
        fsctl::SET_COMPRESSION => {
            let _ = decode_compression_state(input);
        }
        _ => {
            let _ = ValidateNegotiateInfoRequest::decode(input);
        }
    }
}
