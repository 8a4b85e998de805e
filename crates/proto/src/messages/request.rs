//! One request PDU decoded once into its typed body (MS-SMB2 2.2.3 to 2.2.42): the dispatcher decodes
//! each PDU of a frame with [`Request::decode`] and hands the handler of its command the typed value.

use super::change_notify::ChangeNotifyRequest;
use super::close::CloseRequest;
use super::create::CreateRequest;
use super::flush::FlushRequest;
use super::ioctl::IoctlRequest;
use super::lock::LockRequest;
use super::negotiate::NegotiateRequest;
use super::oplock_break::BreakAck;
use super::query_directory::QueryDirectoryRequest;
use super::query_info::QueryInfoRequest;
use super::read::ReadRequest;
use super::session_setup::SessionSetupRequest;
use super::set_info::SetInfoRequest;
use super::tree_connect::TreeConnectRequest;
use super::write::WriteRequest;
use super::{Body, Empty};
use crate::command::Command;
use crate::reader::DecodeError;

/// A decoded request body; variable-length parts borrow from the PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Negotiate(NegotiateRequest<'a>),
    SessionSetup(SessionSetupRequest<'a>),
    Logoff,
    TreeConnect(TreeConnectRequest<'a>),
    TreeDisconnect,
    Create(CreateRequest<'a>),
    Close(CloseRequest),
    Flush(FlushRequest),
    Read(ReadRequest<'a>),
    Write(WriteRequest<'a>),
    Lock(LockRequest),
    Ioctl(IoctlRequest<'a>),
    Cancel,
    Echo,
    QueryDirectory(QueryDirectoryRequest<'a>),
    ChangeNotify(ChangeNotifyRequest),
    QueryInfo(QueryInfoRequest<'a>),
    SetInfo(SetInfoRequest<'a>),
    OplockBreak(BreakAck),
}

impl<'a> Request<'a> {
    /// Decode the body of `pdu` (which starts at its SMB2 header) as a request of `command`.
    pub fn decode(command: Command, pdu: &'a [u8]) -> Result<Self, DecodeError> {
        use Command as C;
        Ok(match command {
            C::Negotiate => Request::Negotiate(Body::decode(pdu)?),
            C::SessionSetup => Request::SessionSetup(Body::decode(pdu)?),
            C::Logoff => empty(pdu, Request::Logoff)?,
            C::TreeConnect => Request::TreeConnect(Body::decode(pdu)?),
            C::TreeDisconnect => empty(pdu, Request::TreeDisconnect)?,
            C::Create => Request::Create(Body::decode(pdu)?),
            C::Close => Request::Close(Body::decode(pdu)?),
            C::Flush => Request::Flush(Body::decode(pdu)?),
            C::Read => Request::Read(Body::decode(pdu)?),
            C::Write => Request::Write(Body::decode(pdu)?),
            C::Lock => Request::Lock(Body::decode(pdu)?),
            C::Ioctl => Request::Ioctl(Body::decode(pdu)?),
            C::Cancel => empty(pdu, Request::Cancel)?,
            C::Echo => empty(pdu, Request::Echo)?,
            C::QueryDirectory => Request::QueryDirectory(Body::decode(pdu)?),
            C::ChangeNotify => Request::ChangeNotify(Body::decode(pdu)?),
            C::QueryInfo => Request::QueryInfo(Body::decode(pdu)?),
            C::SetInfo => Request::SetInfo(Body::decode(pdu)?),
            C::OplockBreak => Request::OplockBreak(Body::decode(pdu)?),
        })
    }
}

/// A command whose body is only its StructureSize and a reserved field.
fn empty<'a>(pdu: &[u8], request: Request<'a>) -> Result<Request<'a>, DecodeError> {
    Empty::decode(pdu).map(|_| request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::encode_pdu;

    #[test]
    fn decodes_by_command() {
        let pdu = encode_pdu(&Empty);
        assert_eq!(Request::decode(Command::Echo, &pdu), Ok(Request::Echo));
        assert_eq!(Request::decode(Command::Logoff, &pdu), Ok(Request::Logoff));
        // An empty body is not a valid CLOSE (StructureSize 24).
        assert!(Request::decode(Command::Close, &pdu).is_err());
    }

    #[test]
    fn short_pdu_is_an_error_for_every_command() {
        let pdu = [0u8; 64];
        for c in 0..=18u16 {
            let cmd = Command::from_u16(c).unwrap();
            assert!(Request::decode(cmd, &pdu).is_err(), "{cmd:?}");
        }
    }
}
