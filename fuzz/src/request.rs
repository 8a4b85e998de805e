//! Target `request`: one frame as the client sends it (a single request or a compound chain, MS-SMB2
//! 3.3.5.2.7): each SMB2 header, then the request body its Command names, with the decoder the server
//! uses ([`Request::decode`]), following NextCommand as the dispatcher does.

use proto::messages::ioctl::ValidateNegotiateInfoRequest;
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
        Ok(Request::Ioctl(req)) => {
            let _ = ValidateNegotiateInfoRequest::decode(req.input);
        }
        Ok(Request::SetInfo(req)) => {
            crate::info_class::decode_set_info(req.file_info_class, req.buffer);
        }
        _ => {}
    }
}
