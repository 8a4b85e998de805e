//! SMB2 CANCEL request (MS-SMB2 2.2.30): a bare StructureSize of 4.

pub type CancelRequest = super::Empty;
