//! SMB2 TREE_DISCONNECT request and response (MS-SMB2 2.2.11, 2.2.12): a bare StructureSize of 4.

pub type TreeDisconnectRequest = super::Empty;
pub type TreeDisconnectResponse = super::Empty;
