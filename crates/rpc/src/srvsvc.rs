//! The srvsvc interface (MS-SRVS): NetrShareEnum (opnum 15, 3.1.4.8), NetrShareGetInfo (opnum 16, 3.1.4.10),
//! NetrShareCheck (opnum 20, 3.1.4.15), NetrServerGetInfo (opnum 21, 3.1.4.17) and NetrShareEnumSticky (opnum 36,
//! 3.1.4.9), with the SHARE_INFO and SERVER_INFO levels of MS-SRVS 2.2.4.

use crate::ndr::{Decoder, Encoder, Field, NdrError};
use crate::services::{
    encode_info_response, PLATFORM_ID_NT, WERR_INVALID_LEVEL, WERR_NET_NAME_NOT_FOUND,
};
use crate::{Provider, ServerInfo, ShareInfo};

const OPNUM_NETR_SHARE_ENUM: u16 = 15;
const OPNUM_NETR_SHARE_GET_INFO: u16 = 16;
const OPNUM_NETR_SHARE_CHECK: u16 = 20;
const OPNUM_NETR_SERVER_GET_INFO: u16 = 21;
const OPNUM_NETR_SHARE_ENUM_STICKY: u16 = 36;
/// NERR_DeviceNotShared: no share is on that device (MS-SRVS 3.1.4.15).
const NERR_DEVICE_NOT_SHARED: u32 = 2311;

/// SV_TYPE_WORKSTATION | SV_TYPE_SERVER | SV_TYPE_NT | SV_TYPE_SERVER_NT (MS-SRVS 2.2.2.7).
const SERVER_TYPE: u32 = 0x0000_0001 | 0x0000_0002 | 0x0000_1000 | 0x0000_8000;
/// SHARE_ENUM_UNION arms (MS-SRVS 2.2.3.1 / 2.2.4.38).
const ENUM_LEVELS: [u32; 5] = [0, 1, 2, 501, 502];

/// Runs one srvsvc call; `None` for an operation number this server does not implement.
pub fn call(opnum: u16, stub: &[u8], provider: &dyn Provider) -> Option<Result<Vec<u8>, NdrError>> {
    match opnum {
        OPNUM_NETR_SHARE_ENUM => Some(share_enum(stub, provider, |_| true)),
        // Sticky shares are the ones defined in the configuration: not IPC$ nor other `$` shares.
        OPNUM_NETR_SHARE_ENUM_STICKY => Some(share_enum(stub, provider, |s| {
            s.kind == crate::ShareKind::Disk && !s.name.ends_with('$')
        })),
        OPNUM_NETR_SHARE_GET_INFO => Some(share_get_info(stub, provider)),
        OPNUM_NETR_SHARE_CHECK => Some(share_check(stub)),
        OPNUM_NETR_SERVER_GET_INFO => Some(server_get_info(stub, provider)),
        _ => None,
    }
}

/// The members of SHARE_INFO_0/1/2/501/502/1005 for one share, in wire order. Permissions, flags and the 502
/// reserved field are 0; passwords and security descriptors are null.
fn share_fields(level: u32, share: &ShareInfo) -> Option<Vec<Field<'_>>> {
    let mut fields = vec![Field::Str(&share.name)];
    let typed = [Field::U32(share.share_type()), Field::Str(&share.comment)];
    let detail = [
        Field::U32(0),
        Field::U32(share.max_uses),
        Field::U32(share.current_uses),
        Field::Str(&share.path),
        Field::Null,
    ];
    match level {
        0 => {}
        1 => fields.extend(typed),
        2 => fields.extend(typed.into_iter().chain(detail)),
        501 => fields.extend(typed.into_iter().chain([Field::U32(0)])),
        502 => fields.extend(
            typed
                .into_iter()
                .chain(detail)
                .chain([Field::U32(0), Field::Null]),
        ),
        1005 => return Some(vec![Field::U32(0)]),
        _ => return None,
    }
    Some(fields)
}

/// NetrShareEnum and NetrShareEnumSticky: [in, string, unique] ServerName, [in, out] SHARE_ENUM_STRUCT,
/// [in] PreferedMaximumLength, [out] TotalEntries, [in, out, unique] ResumeHandle. Every share for which
/// `listed` holds is returned in one answer.
fn share_enum(
    stub: &[u8],
    provider: &dyn Provider,
    listed: impl Fn(&ShareInfo) -> bool,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    d.unique_string()?;
    let level = d.u32()?;
    if d.u32()? != level {
        return Err(NdrError);
    }
    if d.unique()?.is_some() {
        d.u32()?;
        // Clients send an empty container; a filled one would be an [in] array this server has no use for.
        if d.unique()?.is_some() {
            return Err(NdrError);
        }
    }
    d.u32()?;
    let resume = match d.unique()? {
        Some(_) => Some(d.u32()?),
        None => None,
    };

    let mut shares = provider.shares();
    shares.retain(listed);
    let total = u32::try_from(shares.len()).unwrap_or(u32::MAX);
    let mut e = Encoder::new();
    e.u32(level);
    e.u32(level);
    let status = if ENUM_LEVELS.contains(&level) {
        let records: Vec<Vec<Field<'_>>> = shares
            .iter()
            .filter_map(|s| share_fields(level, s))
            .collect();
        e.referent();
        e.u32(total);
        e.referent();
        e.struct_array(&records);
        0
    } else {
        e.null();
        WERR_INVALID_LEVEL
    };
    e.u32(if status == 0 { total } else { 0 });
    if resume.is_some() {
        e.referent();
        e.u32(0);
    } else {
        e.null();
    }
    e.u32(status);
    Ok(e.into_bytes())
}

/// NetrShareGetInfo: [in, string, unique] ServerName, [in, string] NetName, [in] Level, [out] SHARE_INFO.
fn share_get_info(stub: &[u8], provider: &dyn Provider) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    d.unique_string()?;
    let name = d.string()?;
    let level = d.u32()?;
    if !ENUM_LEVELS.contains(&level) && level != 1005 {
        return Ok(encode_info_response(level, None, WERR_INVALID_LEVEL));
    }
    let wanted = name.to_lowercase();
    let shares = provider.shares();
    Ok(
        match shares
            .iter()
            .find(|s| s.name.to_lowercase() == wanted)
            .and_then(|s| share_fields(level, s))
        {
            Some(fields) => encode_info_response(level, Some(&fields), 0),
            None => encode_info_response(level, None, WERR_NET_NAME_NOT_FOUND),
        },
    )
}

/// NetrShareCheck: [in, string, unique] ServerName, [in, string] Device, [out] Type. rsmbd's shares are
/// directories, not devices, so no device is shared.
fn share_check(stub: &[u8]) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    d.unique_string()?;
    d.string()?;
    let mut e = Encoder::default();
    e.u32(0);
    e.u32(NERR_DEVICE_NOT_SHARED);
    Ok(e.into_bytes())
}

/// NetrServerGetInfo: [in, string, unique] ServerName, [in] Level, [out] SERVER_INFO (levels 100, 101, 102).
fn server_get_info(stub: &[u8], provider: &dyn Provider) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    d.unique_string()?;
    let level = d.u32()?;
    let info = provider.server();
    Ok(match server_fields(level, &info) {
        Some(fields) => encode_info_response(level, Some(&fields), 0),
        None => encode_info_response(level, None, WERR_INVALID_LEVEL),
    })
}

/// SERVER_INFO_100/101/102 members in wire order (MS-SRVS 2.2.4.40-42).
fn server_fields(level: u32, info: &ServerInfo) -> Option<Vec<Field<'_>>> {
    let mut fields = vec![Field::U32(PLATFORM_ID_NT), Field::Str(&info.netbios_name)];
    if level == 100 {
        return Some(fields);
    }
    fields.extend([
        Field::U32(info.version_major),
        Field::U32(info.version_minor),
        Field::U32(SERVER_TYPE),
        Field::Str(&info.comment),
    ]);
    match level {
        101 => Some(fields),
        102 => {
            // users, autodisconnect minutes, not hidden, announce every 240 s +/- 3000 ms, no license limit.
            fields.extend([2048, 15, 0, 240, 3000, 0].map(Field::U32));
            fields.push(Field::Str("C:\\"));
            Some(fields)
        }
        _ => None,
    }
}
