//! The NTSTATUS values lsarpc and samr return (MS-ERREF 2.3.1).

pub const SUCCESS: u32 = 0;
/// More entries are available: call again with the returned enumeration context.
pub const MORE_ENTRIES: u32 = 0x0000_0105;
/// Some of the names or SIDs were translated.
pub const SOME_NOT_MAPPED: u32 = 0x0000_0107;
pub const INVALID_INFO_CLASS: u32 = 0xC000_0003;
/// An unknown or closed context handle, or one of the wrong kind.
pub const INVALID_HANDLE: u32 = 0xC000_0008;
pub const INVALID_PARAMETER: u32 = 0xC000_000D;
pub const ACCESS_DENIED: u32 = 0xC000_0022;
pub const NO_SUCH_USER: u32 = 0xC000_0064;
/// None of the names or SIDs were translated.
pub const NONE_MAPPED: u32 = 0xC000_0073;
/// The per-pipe handle table is full.
pub const INSUFFICIENT_RESOURCES: u32 = 0xC000_009A;
pub const NO_SUCH_DOMAIN: u32 = 0xC000_00DF;

/// SUCCESS, SOME_NOT_MAPPED or NONE_MAPPED for a lookup that translated `mapped` of `total` entries.
pub fn lookup_status(mapped: usize, total: usize) -> u32 {
    if mapped == total {
        SUCCESS
    } else if mapped == 0 {
        NONE_MAPPED
    } else {
        SOME_NOT_MAPPED
    }
}
