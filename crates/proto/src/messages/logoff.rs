//! SMB2 LOGOFF request and response (MS-SMB2 2.2.7, 2.2.8): a bare StructureSize of 4.

pub type LogoffRequest = super::Empty;
pub type LogoffResponse = super::Empty;
