//! SMB2 ECHO request and response (MS-SMB2 2.2.28, 2.2.29): a bare StructureSize of 4.

pub type EchoRequest = super::Empty;
pub type EchoResponse = super::Empty;
