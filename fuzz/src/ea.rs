//! Target `ea`: FILE_FULL_EA_INFORMATION lists (MS-FSCC 2.4.15), as SET_INFO and the EA create context
//! carry them (NextEntryOffset chains, name and value lengths), and FILE_GET_EA_INFORMATION name lists
//! (MS-FSCC 2.4.15.1) as QUERY_INFO carries them.

pub fn run(data: &[u8]) {
    let _ = proto::fscc::ea::parse_full_ea(data);
    let _ = proto::fscc::ea::parse_get_ea(data);
}
