//! Target `request`: one frame as the client sends it (a single request or a compound chain, MS-SMB2
//! 3.3.5.2.7): each SMB2 header, then the request body its Command names, with the decoder the server
//! uses, following NextCommand as the dispatcher does.

use proto::messages::{self as m, Body};
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
    match command {
        Command::Negotiate => {
            let _ = m::negotiate::NegotiateRequest::decode(pdu);
        }
        Command::SessionSetup => {
            let _ = m::session_setup::SessionSetupRequest::decode(pdu);
        }
        Command::TreeConnect => {
            let _ = m::tree_connect::TreeConnectRequest::decode(pdu);
        }
        Command::Create => {
            if let Ok(req) = m::create::CreateRequest::decode(pdu) {
                let _ = proto::create_context::parse_chain(req.contexts);
            }
        }
        Command::Close => {
            let _ = m::close::CloseRequest::decode(pdu);
        }
        Command::Flush => {
            let _ = m::flush::FlushRequest::decode(pdu);
        }
        Command::Read => {
            let _ = m::read::ReadRequest::decode(pdu);
        }
        Command::Write => {
            let _ = m::write::WriteRequest::decode(pdu);
        }
        Command::Lock => {
            let _ = m::lock::LockRequest::decode(pdu);
        }
        Command::Ioctl => {
            if let Ok(req) = m::ioctl::IoctlRequest::decode(pdu) {
                let _ = m::ioctl::ValidateNegotiateInfoRequest::decode(req.input);
            }
        }
        Command::QueryDirectory => {
            let _ = m::query_directory::QueryDirectoryRequest::decode(pdu);
        }
        Command::ChangeNotify => {
            let _ = m::change_notify::ChangeNotifyRequest::decode(pdu);
        }
        Command::QueryInfo => {
            let _ = m::query_info::QueryInfoRequest::decode(pdu);
        }
        Command::SetInfo => {
            if let Ok(req) = m::set_info::SetInfoRequest::decode(pdu) {
                crate::info_class::decode_set_info(req.file_info_class, req.buffer);
            }
        }
        Command::OplockBreak => {
            let _ = m::oplock_break::BreakAck::decode(pdu);
        }
        Command::Logoff | Command::TreeDisconnect | Command::Cancel | Command::Echo => {
            let _ = m::Empty::decode(pdu);
        }
    }
}
