//! The wkssvc interface (MS-WKST): NetrWkstaGetInfo (opnum 0, 3.2.4.1) at levels 100, 101 and 102
//! (WKSTA_INFO_100/101/102, MS-WKST 2.2.5.1-3).

use crate::ndr::{Decoder, Field, NdrError};
use crate::services::{encode_info_response, PLATFORM_ID_NT, WERR_INVALID_LEVEL};
use crate::{Provider, ServerInfo};

const OPNUM_NETR_WKSTA_GET_INFO: u16 = 0;

/// Runs one wkssvc call; `None` for an operation number this server does not implement.
pub fn call(opnum: u16, stub: &[u8], provider: &dyn Provider) -> Option<Result<Vec<u8>, NdrError>> {
    (opnum == OPNUM_NETR_WKSTA_GET_INFO).then(|| wksta_get_info(stub, provider))
}

/// NetrWkstaGetInfo: [in, string, unique] ServerName, [in] Level, [out, switch_is(Level)] WKSTA_INFO.
fn wksta_get_info(stub: &[u8], provider: &dyn Provider) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    d.unique_string()?;
    let level = d.u32()?;
    let info = provider.server();
    Ok(match wksta_fields(level, &info) {
        Some(fields) => encode_info_response(level, Some(&fields), 0),
        None => encode_info_response(level, None, WERR_INVALID_LEVEL),
    })
}

/// WKSTA_INFO members in wire order: platform, computer name, LAN group, version; 101 adds the LAN root (empty),
/// 102 also the number of logged-on users (1).
fn wksta_fields(level: u32, info: &ServerInfo) -> Option<Vec<Field<'_>>> {
    let mut fields = vec![
        Field::U32(PLATFORM_ID_NT),
        Field::Str(&info.netbios_name),
        Field::Str(&info.workgroup),
        Field::U32(info.version_major),
        Field::U32(info.version_minor),
    ];
    match level {
        100 => {}
        101 => fields.push(Field::Str("")),
        102 => fields.extend([Field::Str(""), Field::U32(1)]),
        _ => return None,
    }
    Some(fields)
}
