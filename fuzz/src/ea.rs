//! Target `ea`: FILE_FULL_EA_INFORMATION lists (MS-FSCC 2.4.15), as SET_INFO and the EA create context
//! carry them (NextEntryOffset chains, name and value lengths).

pub fn run(data: &[u8]) {
    let _ = proto::fscc::ea::parse_full_ea(data);
}
