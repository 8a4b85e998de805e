//! The samr interface, user part (MS-SAMR): SamrOpenUser (opnum 34, 3.1.5.1.9), SamrQueryInformationUser (36,
//! 3.1.5.5.6) and SamrQueryInformationUser2 (47, 3.1.5.5.5) at levels 1, 2, 3, 5, 16 and 21 (MS-SAMR 2.2.6),
//! SamrGetGroupsForUser (39, 3.1.5.9.1), and SamrQuerySecurityObject (3, 3.1.5.12.2) for any samr handle, with
//! a fixed self-relative security descriptor (MS-DTYP 2.4.6).
//!
//! Users have RID 1000 + 2 * uid, primary group 513, account control USER_NORMAL_ACCOUNT (plus
//! USER_ACCOUNT_DISABLED); names are the only strings, times are zero except "never" for PasswordMustChange.

use crate::accounts::{account_control, Directory, Domain, RID_NONE};
use crate::handles::{HandleTable, Object};
use crate::ndr::{old_large_integer, Decoder, Encoder, Field, NdrError};
use crate::ntstatus::{INVALID_HANDLE, INVALID_INFO_CLASS, NO_SUCH_USER, SUCCESS};
use crate::samr::domain;
use crate::services::encode_union_response;
use crate::sid::Sid;
use crate::{Provider, UserInfo};

/// SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED.
const GROUP_ATTRIBUTES: u32 = 0x0000_0007;
/// The SAMPR_USER_ALL_INFORMATION fields filled in: USER_ALL_USERNAME, FULLNAME, USERID, PRIMARYGROUPID and
/// USERACCOUNTCONTROL (MS-SAMR 2.2.1.8).
const USER_ALL_WHICH_FIELDS: u32 = 0x0010_000F;
/// OWNER_, GROUP_ and DACL_SECURITY_INFORMATION.
const OWNER_SECURITY_INFORMATION: u32 = 0x1;
const GROUP_SECURITY_INFORMATION: u32 = 0x2;
const DACL_SECURITY_INFORMATION: u32 = 0x4;

fn user(object: Object) -> Option<u32> {
    match object {
        Object::SamUser(rid) => Some(rid),
        _ => None,
    }
}

/// SamrOpenUser: `[in] DomainHandle`, `[in] DesiredAccess`, `[in] UserId`, `[out] UserHandle`. Only the users
/// of the account domain can be opened.
pub fn open_user(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &mut HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let domain = handles.read(&mut d, domain)?;
    d.u32()?;
    let rid = d.u32()?;
    let result = match domain {
        None => Err(INVALID_HANDLE),
        Some(Domain::Account) if Directory::new(provider).user(rid).is_some() => {
            Ok(Object::SamUser(rid))
        }
        Some(_) => Err(NO_SUCH_USER),
    };
    Ok(handles.open_answer(result))
}

/// SamrQueryInformationUser(2): `[in] UserHandle`, `[in] USER_INFORMATION_CLASS`, `[out, switch_is]
/// PSAMPR_USER_INFO_BUFFER*`.
pub fn query_information_user(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let rid = handles.read(&mut d, user)?;
    let class = d.u16()?;
    let Some(rid) = rid else {
        return Ok(encode_union_response(class, None, INVALID_HANDLE));
    };
    let directory = Directory::new(provider);
    let Some(info) = directory.user(rid) else {
        return Ok(encode_union_response(class, None, NO_SUCH_USER));
    };
    Ok(match user_fields(class, rid, info) {
        Some(fields) => encode_union_response(class, Some(&fields), SUCCESS),
        None => encode_union_response(class, None, INVALID_INFO_CLASS),
    })
}

/// The members of the SAMPR_USER_* structure of one information class, in wire order.
fn user_fields(class: u16, rid: u32, user: &UserInfo) -> Option<Vec<Field<'_>>> {
    let name = Field::Unicode(&user.name);
    let empty = Field::Unicode("");
    let control = Field::U32(account_control(user));
    let ids = [Field::U32(rid), Field::U32(RID_NONE)];
    let zero_time = old_large_integer(0);
    let never = old_large_integer(i64::MAX);
    // SAMPR_LOGON_HOURS without restrictions: no units, null bit field.
    let logon_hours = [Field::U16(0), Field::Null];
    let counts = [Field::U16(0), Field::U16(0)];
    let mut f = Vec::new();
    match class {
        // SAMPR_USER_GENERAL_INFORMATION: name, full name, primary group, admin comment, user comment.
        1 => f.extend([name, empty, Field::U32(RID_NONE), empty, empty]),
        // SAMPR_USER_PREFERENCES_INFORMATION: user comment, reserved, country code, code page.
        2 => f.extend([empty, empty, Field::U16(0), Field::U16(0)]),
        // SAMPR_USER_LOGON_INFORMATION.
        3 => {
            f.extend([name, empty]);
            f.extend(ids);
            f.extend([empty; 5]);
            for _ in 0..4 {
                f.extend(zero_time);
            }
            f.extend(never);
            f.extend(logon_hours);
            f.extend(counts);
            f.push(control);
        }
        // SAMPR_USER_ACCOUNT_INFORMATION.
        5 => {
            f.extend([name, empty]);
            f.extend(ids);
            f.extend([empty; 6]);
            f.extend(zero_time);
            f.extend(zero_time);
            f.extend(logon_hours);
            f.extend(counts);
            f.extend(zero_time);
            f.extend(zero_time);
            f.push(control);
        }
        // USER_CONTROL_INFORMATION.
        16 => f.push(control),
        // SAMPR_USER_ALL_INFORMATION.
        21 => {
            for _ in 0..5 {
                f.extend(zero_time);
            }
            f.extend(never);
            f.push(name);
            f.extend([empty; 9]);
            // LM and NT OWF passwords: empty RPC_SHORT_BLOBs.
            for _ in 0..2 {
                f.extend([Field::U16(0), Field::U16(0), Field::Null]);
            }
            // PrivateData, then an empty SAMPR_SR_SECURITY_DESCRIPTOR.
            f.extend([empty, Field::U32(0), Field::Null]);
            f.extend(ids);
            f.extend([control, Field::U32(USER_ALL_WHICH_FIELDS)]);
            f.extend(logon_hours);
            f.extend(counts);
            // country code, code page, then four BOOLEANs (no LM or NT password present, not expired, no
            // sensitive private data).
            f.extend([Field::U16(0), Field::U16(0)]);
            f.extend([Field::U8(0); 4]);
        }
        _ => return None,
    }
    Some(f)
}

/// SamrGetGroupsForUser: `[in] UserHandle`, `[out] PSAMPR_GET_GROUPS_BUFFER*`: every user is in its primary
/// group 513 only.
pub fn get_groups_for_user(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let rid = handles.read(&mut d, user)?;
    let status = match rid {
        None => INVALID_HANDLE,
        Some(rid) if Directory::new(provider).user(rid).is_none() => NO_SUCH_USER,
        Some(_) => SUCCESS,
    };
    let mut e = Encoder::new();
    if status == SUCCESS {
        // MembershipCount, pointer, conformant array of GROUP_MEMBERSHIP (RID, attributes).
        e.referent();
        e.u32(1);
        e.referent();
        e.u32(1);
        e.u32(RID_NONE);
        e.u32(GROUP_ATTRIBUTES);
    } else {
        e.null();
    }
    e.u32(status);
    Ok(e.into_bytes())
}

/// Access masks granted to Everyone (read and execute) and to Administrators (all access) by object type:
/// SAM_SERVER_*, DOMAIN_* and USER_* of MS-SAMR 2.2.1.
fn access_masks(object: Object) -> Option<(u32, u32)> {
    match object {
        Object::SamServer => Some((0x0002_0031, 0x000F_003F)),
        Object::SamDomain(_) => Some((0x0002_0385, 0x000F_07FF)),
        Object::SamUser(_) => Some((0x0002_035B, 0x000F_07FF)),
        Object::Policy => None,
    }
}

/// SamrQuerySecurityObject: `[in] ObjectHandle`, `[in] SECURITY_INFORMATION`, `[out]
/// PSAMPR_SR_SECURITY_DESCRIPTOR*` (length, pointer to the bytes).
pub fn query_security_object(stub: &[u8], handles: &HandleTable) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let masks = handles.read(&mut d, access_masks)?;
    let information = d.u32()?;
    let mut e = Encoder::new();
    let Some(masks) = masks else {
        e.null();
        e.u32(INVALID_HANDLE);
        return Ok(e.into_bytes());
    };
    let descriptor = security_descriptor(masks, information);
    let len = u32::try_from(descriptor.len()).unwrap_or(u32::MAX);
    e.referent();
    e.u32(len);
    e.referent();
    e.u32(len);
    e.bytes(&descriptor);
    e.u32(SUCCESS);
    Ok(e.into_bytes())
}

/// SE_DACL_PRESENT and SE_SELF_RELATIVE (MS-DTYP 2.4.6).
const SE_DACL_PRESENT: u16 = 0x0004;
const SE_SELF_RELATIVE: u16 = 0x8000;
/// The self-relative header: revision, Sbz1, control, four offsets.
const DESCRIPTOR_HEADER_LEN: usize = 20;

/// A self-relative security descriptor with the parts `information` asks for: owner and group BUILTIN\
/// Administrators, a DACL allowing Everyone `read` and Administrators `all`.
fn security_descriptor((read, all): (u32, u32), information: u32) -> Vec<u8> {
    let administrators = Sid::parse("S-1-5-32-544").unwrap_or_else(|| Sid {
        authority: 5,
        sub_authorities: vec![32, 544],
    });
    let everyone = Sid {
        authority: 1,
        sub_authorities: vec![0],
    };
    let wanted = |bit: u32| information & bit != 0;
    let parts = [
        wanted(OWNER_SECURITY_INFORMATION).then(|| administrators.to_bytes()),
        wanted(GROUP_SECURITY_INFORMATION).then(|| administrators.to_bytes()),
        wanted(DACL_SECURITY_INFORMATION)
            .then(|| acl(&[(read, &everyone), (all, &administrators)])),
    ];
    let mut offsets = [0u32; 3];
    let mut next = DESCRIPTOR_HEADER_LEN;
    for (offset, part) in offsets.iter_mut().zip(&parts) {
        if let Some(part) = part {
            *offset = u32::try_from(next).unwrap_or(0);
            next = next.saturating_add(part.len());
        }
    }
    let [owner, group, dacl] = offsets;
    let mut control = SE_SELF_RELATIVE;
    if dacl != 0 {
        control |= SE_DACL_PRESENT;
    }
    let mut out = vec![1, 0];
    out.extend_from_slice(&control.to_le_bytes());
    for offset in [owner, group, 0, dacl] {
        out.extend_from_slice(&offset.to_le_bytes());
    }
    for part in parts.iter().flatten() {
        out.extend_from_slice(part);
    }
    out
}

/// An ACL (MS-DTYP 2.4.5) of ACCESS_ALLOWED_ACEs (2.4.4.2): revision 2, size, count, then type 0, flags 0, size,
/// mask and SID for each.
fn acl(aces: &[(u32, &Sid)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (mask, sid) in aces {
        let sid = sid.to_bytes();
        let size = u16::try_from(8 + sid.len()).unwrap_or(u16::MAX);
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&size.to_le_bytes());
        body.extend_from_slice(&mask.to_le_bytes());
        body.extend_from_slice(&sid);
    }
    let size = u16::try_from(8 + body.len()).unwrap_or(u16::MAX);
    let count = u16::try_from(aces.len()).unwrap_or(u16::MAX);
    let mut out = vec![2, 0];
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend(body);
    out
}
