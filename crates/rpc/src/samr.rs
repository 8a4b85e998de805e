//! The samr interface (MS-SAMR), server and domain part: SamrConnect (opnum 0, 3.1.5.1.4), SamrConnect2 (57,
//! 3.1.5.1.3), SamrConnect4 (62, 3.1.5.1.2), SamrConnect5 (64, 3.1.5.1.1), SamrCloseHandle (1, 3.1.5.13.1),
//! SamrLookupDomainInSamServer (5, 3.1.5.11.1), SamrEnumerateDomainsInSamServer (6, 3.1.5.2.1), SamrOpenDomain
//! (7, 3.1.5.1.5), SamrQueryInformationDomain (8, 3.1.5.5.2) and SamrQueryInformationDomain2 (46, 3.1.5.5.1),
//! SamrEnumerateUsersInDomain (13, 3.1.5.2.5), SamrGetAliasMembership (16, 3.1.5.9.2), SamrLookupNamesInDomain
//! (17, 3.1.5.11.2) and SamrLookupIdsInDomain (18, 3.1.5.11.3). The user operations are in `samr_user`.
//!
//! The server holds two domains: the account domain (the NetBIOS name, the machine SID) and Builtin. Handles
//! are typed: an operation given a handle of another kind answers STATUS_INVALID_HANDLE.

use crate::accounts::{account_control, Directory, Domain, SidNameUse};
use crate::handles::{HandleTable, Object};
use crate::ndr::{old_large_integer, Decoder, Encoder, Field, NdrError};
use crate::ntstatus::{
    lookup_status, INVALID_HANDLE, INVALID_INFO_CLASS, MORE_ENTRIES, NO_SUCH_DOMAIN, SUCCESS,
};
use crate::samr_user;
use crate::services::encode_union_response;
use crate::services::ndr_fault;
use crate::sid::RpcSid;
use crate::sid::{decode_sid_array, Sid};
use crate::Provider;

const OPNUM_CONNECT: u16 = 0;
const OPNUM_CLOSE_HANDLE: u16 = 1;
const OPNUM_QUERY_SECURITY_OBJECT: u16 = 3;
const OPNUM_LOOKUP_DOMAIN_IN_SAM_SERVER: u16 = 5;
const OPNUM_ENUMERATE_DOMAINS_IN_SAM_SERVER: u16 = 6;
const OPNUM_OPEN_DOMAIN: u16 = 7;
const OPNUM_QUERY_INFORMATION_DOMAIN: u16 = 8;
const OPNUM_ENUMERATE_USERS_IN_DOMAIN: u16 = 13;
const OPNUM_GET_ALIAS_MEMBERSHIP: u16 = 16;
const OPNUM_LOOKUP_NAMES_IN_DOMAIN: u16 = 17;
const OPNUM_LOOKUP_IDS_IN_DOMAIN: u16 = 18;
const OPNUM_OPEN_USER: u16 = 34;
const OPNUM_QUERY_INFORMATION_USER: u16 = 36;
const OPNUM_GET_GROUPS_FOR_USER: u16 = 39;
const OPNUM_QUERY_INFORMATION_DOMAIN2: u16 = 46;
const OPNUM_QUERY_INFORMATION_USER2: u16 = 47;
const OPNUM_CONNECT2: u16 = 57;
const OPNUM_CONNECT4: u16 = 62;
const OPNUM_CONNECT5: u16 = 64;

/// The SAM name of the BUILTIN domain.
const BUILTIN_NAME: &str = "Builtin";
/// The most names or RIDs one lookup carries (`[range(0, 1000)] Count`).
const MAX_LOOKUP: usize = 1000;
/// The most SIDs SamrGetAliasMembership takes (SAMPR_PSID_ARRAY range).
const MAX_ALIAS_SIDS: usize = 1024;
/// The most entries one enumeration answer holds, and the bytes each is counted for against the client's
/// PreferedMaximumLength.
const MAX_ENUMERATED: usize = 1000;
const ENUMERATED_ENTRY_BYTES: usize = 32;
/// SAMPR_REVISION_INFO_V1 answered by SamrConnect5: revision 3, no extra features.
const SERVER_REVISION: u32 = 3;

/// Runs one samr call; `None` for an operation number this server does not implement.
pub fn call(
    opnum: u16,
    stub: &[u8],
    provider: &dyn Provider,
    handles: &mut HandleTable,
) -> Option<Result<Vec<u8>, u32>> {
    if opnum == OPNUM_CLOSE_HANDLE {
        return Some(handles.close_call(stub));
    }
    let result = match opnum {
        OPNUM_CONNECT | OPNUM_CONNECT2 | OPNUM_CONNECT4 | OPNUM_CONNECT5 => {
            connect(opnum, stub, handles)
        }
        OPNUM_QUERY_SECURITY_OBJECT => samr_user::query_security_object(stub, handles),
        OPNUM_LOOKUP_DOMAIN_IN_SAM_SERVER => lookup_domain(stub, provider, handles),
        OPNUM_ENUMERATE_DOMAINS_IN_SAM_SERVER => enumerate_domains(stub, provider, handles),
        OPNUM_OPEN_DOMAIN => open_domain(stub, provider, handles),
        OPNUM_QUERY_INFORMATION_DOMAIN | OPNUM_QUERY_INFORMATION_DOMAIN2 => {
            query_information_domain(stub, provider, handles)
        }
        OPNUM_ENUMERATE_USERS_IN_DOMAIN => enumerate_users(stub, provider, handles),
        OPNUM_GET_ALIAS_MEMBERSHIP => get_alias_membership(stub, handles),
        OPNUM_LOOKUP_NAMES_IN_DOMAIN => lookup_names(stub, provider, handles),
        OPNUM_LOOKUP_IDS_IN_DOMAIN => lookup_ids(stub, provider, handles),
        OPNUM_OPEN_USER => samr_user::open_user(stub, provider, handles),
        OPNUM_QUERY_INFORMATION_USER | OPNUM_QUERY_INFORMATION_USER2 => {
            samr_user::query_information_user(stub, provider, handles)
        }
        OPNUM_GET_GROUPS_FOR_USER => samr_user::get_groups_for_user(stub, provider, handles),
        _ => return None,
    };
    Some(ndr_fault(result))
}

fn server(object: Object) -> Option<()> {
    (object == Object::SamServer).then_some(())
}

pub fn domain(object: Object) -> Option<Domain> {
    match object {
        Object::SamDomain(d) => Some(d),
        _ => None,
    }
}

/// The SAM name of a domain.
fn sam_domain_name(directory: &Directory, domain: Domain) -> &str {
    match domain {
        Domain::Builtin => BUILTIN_NAME,
        _ => directory.domain_name(domain),
    }
}

/// SamrConnect: `[in, unique] PSAMPR_SERVER_NAME` (one character), `[out] SAMPR_HANDLE*`, `[in] DesiredAccess`.
/// SamrConnect2: `[in, unique, string] ServerName`, `[out] handle`, `[in] DesiredAccess`; SamrConnect4 adds
/// `[in] ClientRevision` before the access mask. SamrConnect5: ServerName, DesiredAccess, `[in] InVersion`, `[in,
/// switch_is(InVersion)] SAMPR_REVISION_INFO*` (only version 1), `[out] OutVersion`, `[out] SAMPR_REVISION_INFO*`,
/// `[out] handle`.
fn connect(opnum: u16, stub: &[u8], handles: &mut HandleTable) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    if opnum == OPNUM_CONNECT {
        if d.unique()?.is_some() {
            d.u16()?;
        }
    } else {
        d.unique_string()?;
    }
    if opnum == OPNUM_CONNECT4 {
        d.u32()?;
    }
    d.u32()?;
    if opnum != OPNUM_CONNECT5 {
        return Ok(handles.open_answer(Ok(Object::SamServer)));
    }
    if d.u32()? != 1 || d.u32()? != 1 {
        return Err(NdrError);
    }
    d.u32()?;
    d.u32()?;
    let mut e = Encoder::new();
    // OutVersion 1, SAMPR_REVISION_INFO_V1 (discriminant, revision, supported features), handle, status.
    for v in [1, 1, SERVER_REVISION, 0] {
        e.u32(v);
    }
    let status = handles.open_into(&mut e, Object::SamServer);
    e.u32(status);
    Ok(e.into_bytes())
}

/// SamrLookupDomainInSamServer: `[in] ServerHandle`, `[in] PRPC_UNICODE_STRING Name`, `[out] PRPC_SID*`.
fn lookup_domain(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = handles.read(&mut d, server)?.is_some();
    let name = d.unicode()?;
    let mut e = Encoder::new();
    if !valid {
        e.null();
        e.u32(INVALID_HANDLE);
        return Ok(e.into_bytes());
    }
    let directory = Directory::new(provider);
    match directory.domain_named(&name) {
        Some(domain) => {
            e.referent();
            directory.domain_sid(domain).encode(&mut e);
            e.u32(SUCCESS);
        }
        None => {
            e.null();
            e.u32(NO_SUCH_DOMAIN);
        }
    }
    Ok(e.into_bytes())
}

/// `[in, out] EnumerationContext`, `[out] PSAMPR_ENUMERATION_BUFFER*` (EntriesRead, then SAMPR_RID_ENUMERATION:
/// RID and name), `[out] CountReturned`, then the status. The buffer is null when the call failed.
fn encode_enumeration(context: u32, entries: Option<&[(u32, &str)]>, status: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(context);
    let entries = entries.unwrap_or_default();
    let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    if status == SUCCESS || status == MORE_ENTRIES {
        let records: Vec<Vec<Field<'_>>> = entries
            .iter()
            .map(|(rid, name)| vec![Field::U32(*rid), Field::Unicode(name)])
            .collect();
        e.referent();
        e.u32(count);
        if records.is_empty() {
            e.null();
        } else {
            e.referent();
            e.struct_array(&records);
        }
    } else {
        e.null();
    }
    e.u32(count);
    e.u32(status);
    e.into_bytes()
}

/// SamrEnumerateDomainsInSamServer: `[in] ServerHandle`, `[in, out] EnumerationContext`, `[out] Buffer`, `[in]
/// PreferedMaximumLength`, `[out] CountReturned`. Both domains fit in one answer.
fn enumerate_domains(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = handles.read(&mut d, server)?.is_some();
    let context = d.u32()?;
    d.u32()?;
    if !valid {
        return Ok(encode_enumeration(context, None, INVALID_HANDLE));
    }
    let directory = Directory::new(provider);
    let all = Domain::SAM.map(|dom| (0, sam_domain_name(&directory, dom)));
    let start = usize::try_from(context)
        .unwrap_or(usize::MAX)
        .min(all.len());
    let entries = all.get(start..).unwrap_or_default();
    Ok(encode_enumeration(
        u32::try_from(all.len()).unwrap_or(0),
        Some(entries),
        SUCCESS,
    ))
}

/// SamrOpenDomain: `[in] ServerHandle`, `[in] DesiredAccess`, `[in] PRPC_SID DomainId`, `[out] DomainHandle`.
fn open_domain(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &mut HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = handles.read(&mut d, server)?.is_some();
    d.u32()?;
    let sid = Sid::decode(&mut d)?;
    let result = match Directory::new(provider).domain_with_sid(&sid) {
        _ if !valid => Err(INVALID_HANDLE),
        Some(domain) => Ok(Object::SamDomain(domain)),
        None => Err(NO_SUCH_DOMAIN),
    };
    Ok(handles.open_answer(result))
}

/// DOMAIN_INFORMATION_CLASS values answered (MS-SAMR 2.2.3.16).
const DOMAIN_PASSWORD_INFORMATION: u16 = 1;
const DOMAIN_GENERAL_INFORMATION: u16 = 2;
const DOMAIN_LOGOFF_INFORMATION: u16 = 3;
const DOMAIN_MODIFIED_INFORMATION: u16 = 8;
const DOMAIN_LOCKOUT_INFORMATION: u16 = 12;
/// "Never" for a relative time (the most negative delta).
const NEVER: i64 = i64::MIN;
/// 30 minutes as a negative delta in 100 ns units.
const THIRTY_MINUTES: i64 = -30 * 60 * 10_000_000;

/// SamrQueryInformationDomain(2): `[in] DomainHandle`, `[in] DOMAIN_INFORMATION_CLASS`, `[out, switch_is]
/// PSAMPR_DOMAIN_INFO_BUFFER*`. A password policy without rules, no forced logoff, no lockout.
fn query_information_domain(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let domain = handles.read(&mut d, domain)?;
    let class = d.u16()?;
    let Some(domain) = domain else {
        return Ok(encode_union_response(class, None, INVALID_HANDLE));
    };
    let directory = Directory::new(provider);
    let mut fields = Vec::new();
    match class {
        // DOMAIN_PASSWORD_INFORMATION: minimum length, history length, properties, maximum and minimum age.
        DOMAIN_PASSWORD_INFORMATION => {
            fields.extend([Field::U16(0), Field::U16(0), Field::U32(0)]);
            fields.extend(old_large_integer(NEVER));
            fields.extend(old_large_integer(0));
        }
        // SAMPR_DOMAIN_GENERAL_INFORMATION.
        DOMAIN_GENERAL_INFORMATION => {
            let (users, groups, aliases) = match domain {
                Domain::Account => (directory.users().len(), 1, 0),
                _ => (0, 0, 3),
            };
            fields.extend(old_large_integer(NEVER));
            fields.extend([
                Field::Unicode(""),
                Field::Unicode(sam_domain_name(&directory, domain)),
                Field::Unicode(""),
            ]);
            fields.extend(old_large_integer(1));
            // DomainServerEnabled, DomainServerRolePrimary, no UAS compatibility.
            fields.extend([Field::U32(1), Field::U32(3), Field::U8(0)]);
            fields.extend(
                [users, groups, aliases].map(|n| Field::U32(u32::try_from(n).unwrap_or(u32::MAX))),
            );
        }
        // DOMAIN_LOGOFF_INFORMATION: forced logoff.
        DOMAIN_LOGOFF_INFORMATION => fields.extend(old_large_integer(NEVER)),
        // DOMAIN_MODIFIED_INFORMATION: modification count, creation time.
        DOMAIN_MODIFIED_INFORMATION => {
            fields.extend(old_large_integer(1));
            fields.extend(old_large_integer(0));
        }
        // DOMAIN_LOCKOUT_INFORMATION: duration, observation window (hypers), threshold (0: never locks).
        DOMAIN_LOCKOUT_INFORMATION => fields.extend([
            Field::U64(THIRTY_MINUTES as u64),
            Field::U64(THIRTY_MINUTES as u64),
            Field::U16(0),
        ]),
        _ => return Ok(encode_union_response(class, None, INVALID_INFO_CLASS)),
    }
    Ok(encode_union_response(class, Some(&fields), SUCCESS))
}

/// SamrEnumerateUsersInDomain: `[in] DomainHandle`, `[in, out] EnumerationContext`, `[in] UserAccountControl`
/// (a filter: 0 for all, else accounts having one of its bits), `[out] Buffer`, `[in] PreferedMaximumLength`,
/// `[out] CountReturned`. The context is the index of the next user in RID order; STATUS_MORE_ENTRIES says
/// more follow.
fn enumerate_users(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let domain = handles.read(&mut d, domain)?;
    let context = d.u32()?;
    let filter = d.u32()?;
    let preferred = usize::try_from(d.u32()?).unwrap_or(usize::MAX);
    let Some(domain) = domain else {
        return Ok(encode_enumeration(context, None, INVALID_HANDLE));
    };
    let directory = Directory::new(provider);
    let users: Vec<(u32, &str)> = match domain {
        Domain::Account => directory
            .users()
            .iter()
            .filter(|(_, u)| filter == 0 || account_control(u) & filter != 0)
            .map(|(rid, u)| (*rid, u.name.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    let start = usize::try_from(context)
        .unwrap_or(usize::MAX)
        .min(users.len());
    let room = (preferred / ENUMERATED_ENTRY_BYTES).clamp(1, MAX_ENUMERATED);
    let end = start.saturating_add(room).min(users.len());
    let page = users.get(start..end).unwrap_or_default();
    let status = if end < users.len() {
        MORE_ENTRIES
    } else {
        SUCCESS
    };
    Ok(encode_enumeration(
        u32::try_from(end).unwrap_or(u32::MAX),
        Some(page),
        status,
    ))
}

/// SAMPR_ULONG_ARRAY: count, pointer (null when empty), conformant array.
pub fn encode_ulong_array(e: &mut Encoder, values: &[u32]) {
    let count = u32::try_from(values.len()).unwrap_or(u32::MAX);
    e.u32(count);
    if values.is_empty() {
        e.null();
        return;
    }
    e.referent();
    e.u32(count);
    for v in values {
        e.u32(*v);
    }
}

/// SamrGetAliasMembership: `[in] DomainHandle`, `[in] PSAMPR_PSID_ARRAY`, `[out] PSAMPR_ULONG_ARRAY`. No account
/// belongs to an alias this server reports.
fn get_alias_membership(stub: &[u8], handles: &HandleTable) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = handles.read(&mut d, domain)?.is_some();
    decode_sid_array(&mut d, MAX_ALIAS_SIDS)?;
    let mut e = Encoder::new();
    encode_ulong_array(&mut e, &[]);
    e.u32(if valid { SUCCESS } else { INVALID_HANDLE });
    Ok(e.into_bytes())
}

/// The Count and the `[size_is(1000), length_is(Count)]` header of a lookup array whose elements take at least
/// `element_size` bytes: the number of elements that follow.
fn lookup_count(d: &mut Decoder<'_>, element_size: usize) -> Result<usize, NdrError> {
    let count = usize::try_from(d.u32()?).map_err(|_| NdrError)?;
    let max = d.conformance(0)?;
    if count > MAX_LOOKUP || max > MAX_LOOKUP || d.variance(max, element_size)? != count {
        return Err(NdrError);
    }
    Ok(count)
}

/// A lookup on a bad handle: two empty arrays and STATUS_INVALID_HANDLE.
fn lookup_failure() -> Vec<u8> {
    let mut e = Encoder::new();
    encode_ulong_array(&mut e, &[]);
    encode_ulong_array(&mut e, &[]);
    e.u32(INVALID_HANDLE);
    e.into_bytes()
}

/// SamrLookupNamesInDomain: `[in] DomainHandle`, `[in] Count`, `[in] RPC_UNICODE_STRING Names[*]`, `[out]
/// PSAMPR_ULONG_ARRAY RelativeIds`, `[out] PSAMPR_ULONG_ARRAY Use`. Unknown names get RID 0 and SidTypeUnknown.
fn lookup_names(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let domain = handles.read(&mut d, domain)?;
    let count = lookup_count(&mut d, 8)?;
    let names = d.unicode_array(count)?;
    let Some(domain) = domain else {
        return Ok(lookup_failure());
    };
    let directory = Directory::new(provider);
    let accounts: Vec<_> = names
        .iter()
        .map(|n| directory.account_by_name(domain, n))
        .collect();
    let rids: Vec<u32> = accounts
        .iter()
        .map(|a| a.as_ref().map_or(0, |a| a.rid))
        .collect();
    let uses: Vec<u32> = accounts
        .iter()
        .map(|a| u32::from(a.as_ref().map_or(SidNameUse::Unknown, |a| a.kind).value()))
        .collect();
    let mapped = accounts.iter().filter(|a| a.is_some()).count();
    let mut e = Encoder::new();
    encode_ulong_array(&mut e, &rids);
    encode_ulong_array(&mut e, &uses);
    e.u32(lookup_status(mapped, count));
    Ok(e.into_bytes())
}

/// SamrLookupIdsInDomain: `[in] DomainHandle`, `[in] Count`, `[in] unsigned long RelativeIds[*]`, `[out]
/// PSAMPR_RETURNED_USTRING_ARRAY Names`, `[out] PSAMPR_ULONG_ARRAY Use`. Unknown RIDs get an empty name and
/// SidTypeUnknown.
fn lookup_ids(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let domain = handles.read(&mut d, domain)?;
    let count = lookup_count(&mut d, 4)?;
    let rids = (0..count)
        .map(|_| d.u32())
        .collect::<Result<Vec<u32>, NdrError>>()?;
    let Some(domain) = domain else {
        return Ok(lookup_failure());
    };
    let directory = Directory::new(provider);
    let accounts: Vec<_> = rids
        .iter()
        .map(|r| directory.account_by_rid(domain, *r))
        .collect();
    let names: Vec<Vec<Field<'_>>> = accounts
        .iter()
        .map(|a| vec![Field::Unicode(a.as_ref().map_or("", |a| a.name.as_str()))])
        .collect();
    let uses: Vec<u32> = accounts
        .iter()
        .map(|a| u32::from(a.as_ref().map_or(SidNameUse::Unknown, |a| a.kind).value()))
        .collect();
    let mapped = accounts.iter().filter(|a| a.is_some()).count();
    let mut e = Encoder::new();
    e.u32(u32::try_from(count).unwrap_or(u32::MAX));
    if names.is_empty() {
        e.null();
    } else {
        e.referent();
        e.struct_array(&names);
    }
    encode_ulong_array(&mut e, &uses);
    e.u32(lookup_status(mapped, count));
    Ok(e.into_bytes())
}
