//! The lsarpc interface (MS-LSAD, MS-LSAT): policy handles with LsarClose (opnum 0, MS-LSAD 3.1.4.9.4),
//! LsarOpenPolicy (6, 3.1.4.4.2) and LsarOpenPolicy2 (44, 3.1.4.4.1); LsarQueryInformationPolicy (7, 3.1.4.4.4)
//! and LsarQueryInformationPolicy2 (46, 3.1.4.4.3) at the PolicyPrimaryDomainInformation,
//! PolicyAccountDomainInformation and PolicyDnsDomainInformation classes (MS-LSAD 2.2.4); LsarGetUserName (45,
//! MS-LSAT 3.1.4.4). The name and SID lookups are in `lsa_lookup`.
//!
//! A standalone server is a member of no domain: its primary domain is the workgroup with a null SID, and its
//! account domain is itself (the NetBIOS name and the machine SID).

use crate::handles::{HandleTable, Object};
use crate::lsa_lookup::{self, Form};
use crate::ndr::{Decoder, Encoder, Field, NdrError};
use crate::ntstatus::{ACCESS_DENIED, INVALID_HANDLE, INVALID_PARAMETER, SUCCESS};
use crate::services::encode_union_response;
use crate::services::ndr_fault;
use crate::Provider;

const OPNUM_CLOSE: u16 = 0;
const OPNUM_OPEN_POLICY: u16 = 6;
const OPNUM_QUERY_INFORMATION_POLICY: u16 = 7;
const OPNUM_LOOKUP_NAMES: u16 = 14;
const OPNUM_LOOKUP_SIDS: u16 = 15;
const OPNUM_OPEN_POLICY2: u16 = 44;
const OPNUM_GET_USER_NAME: u16 = 45;
const OPNUM_QUERY_INFORMATION_POLICY2: u16 = 46;
const OPNUM_LOOKUP_SIDS2: u16 = 57;
const OPNUM_LOOKUP_NAMES3: u16 = 68;
const OPNUM_LOOKUP_SIDS3: u16 = 76;
const OPNUM_LOOKUP_NAMES4: u16 = 77;

/// POLICY_INFORMATION_CLASS values (MS-LSAD 2.2.4.1).
const POLICY_PRIMARY_DOMAIN_INFORMATION: u16 = 3;
const POLICY_ACCOUNT_DOMAIN_INFORMATION: u16 = 5;
const POLICY_DNS_DOMAIN_INFORMATION: u16 = 12;

/// Runs one lsarpc call; `None` for an operation number this server does not implement.
pub fn call(
    opnum: u16,
    stub: &[u8],
    provider: &dyn Provider,
    handles: &mut HandleTable,
) -> Option<Result<Vec<u8>, u32>> {
    if opnum == OPNUM_CLOSE {
        return Some(handles.close_call(stub));
    }
    let result = match opnum {
        OPNUM_OPEN_POLICY => open_policy(stub, handles, false),
        OPNUM_OPEN_POLICY2 => open_policy(stub, handles, true),
        OPNUM_QUERY_INFORMATION_POLICY | OPNUM_QUERY_INFORMATION_POLICY2 => {
            query_information_policy(stub, provider, handles)
        }
        OPNUM_GET_USER_NAME => get_user_name(stub, provider),
        OPNUM_LOOKUP_SIDS => lsa_lookup::lookup_sids(stub, provider, handles, Form::ORIGINAL),
        OPNUM_LOOKUP_SIDS2 => lsa_lookup::lookup_sids(stub, provider, handles, Form::EXTENDED),
        OPNUM_LOOKUP_SIDS3 => lsa_lookup::lookup_sids(stub, provider, handles, Form::NO_HANDLE),
        OPNUM_LOOKUP_NAMES => lsa_lookup::lookup_names(stub, provider, handles, Form::ORIGINAL),
        OPNUM_LOOKUP_NAMES3 => lsa_lookup::lookup_names(stub, provider, handles, Form::EXTENDED),
        OPNUM_LOOKUP_NAMES4 => lsa_lookup::lookup_names(stub, provider, handles, Form::NO_HANDLE),
        _ => return None,
    };
    Some(ndr_fault(result))
}

/// Reads a policy handle: whether it is an open policy handle of this pipe.
pub fn read_policy(d: &mut Decoder<'_>, handles: &HandleTable) -> Result<bool, NdrError> {
    Ok(handles
        .read(d, |o| (o == Object::Policy).then_some(()))?
        .is_some())
}

/// LsarOpenPolicy: `[in, unique] wchar_t* SystemName` (one character), LsarOpenPolicy2: `[in, unique, string]
/// wchar_t* SystemName`; then `[in] PLSAPR_OBJECT_ATTRIBUTES`, `[in] ACCESS_MASK`, `[out] LSAPR_HANDLE*`.
/// Every caller gets a handle; access is not checked because nothing this server answers is secret.
fn open_policy(
    stub: &[u8],
    handles: &mut HandleTable,
    string_name: bool,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    if string_name {
        d.unique_string()?;
    } else if d.unique()?.is_some() {
        d.u16()?;
    }
    if !object_attributes(&mut d)? {
        return Ok(handles.open_answer(Err(INVALID_PARAMETER)));
    }
    d.u32()?;
    Ok(handles.open_answer(Ok(Object::Policy)))
}

/// LSAPR_OBJECT_ATTRIBUTES (MS-LSAD 2.2.2.4): length, root directory, object name, attributes, security
/// descriptor, quality of service. Clients leave all but the quality of service null and the server ignores them; `false`
/// when one of those is present (STATUS_INVALID_PARAMETER), in which case the rest is not read.
fn object_attributes(d: &mut Decoder<'_>) -> Result<bool, NdrError> {
    d.u32()?;
    let root_directory = d.unique()?;
    let object_name = d.unique()?;
    d.u32()?;
    let security_descriptor = d.unique()?;
    let quality_of_service = d.unique()?;
    if root_directory.is_some() || object_name.is_some() || security_descriptor.is_some() {
        return Ok(false);
    }
    if quality_of_service.is_some() {
        // SECURITY_QUALITY_OF_SERVICE: length, impersonation level, context tracking mode, effective only.
        d.u32()?;
        d.u16()?;
        d.u8()?;
        d.u8()?;
    }
    Ok(true)
}

/// LsarQueryInformationPolicy(2): `[in] LSAPR_HANDLE`, `[in] POLICY_INFORMATION_CLASS`, `[out, switch_is]
/// PLSAPR_POLICY_INFORMATION*`.
fn query_information_policy(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = read_policy(&mut d, handles)?;
    let class = d.u16()?;
    if !valid {
        return Ok(encode_union_response(class, None, INVALID_HANDLE));
    }
    let server = provider.server();
    let sid = provider.domain_sid();
    let fields = match class {
        // LSAPR_POLICY_PRIMARY_DOM_INFO: name, SID.
        POLICY_PRIMARY_DOMAIN_INFORMATION => vec![Field::Unicode(&server.workgroup), Field::Null],
        // LSAPR_POLICY_ACCOUNT_DOM_INFO: domain name, domain SID.
        POLICY_ACCOUNT_DOMAIN_INFORMATION => {
            vec![Field::Unicode(&server.netbios_name), Field::Sid(&sid)]
        }
        // LSAPR_POLICY_DNS_DOMAIN_INFO: name, DNS domain, DNS forest, GUID (zero), SID.
        POLICY_DNS_DOMAIN_INFORMATION => {
            let mut fields = vec![
                Field::Unicode(&server.workgroup),
                Field::Unicode(""),
                Field::Unicode(""),
            ];
            fields.extend([Field::U32(0); 4]);
            fields.push(Field::Null);
            fields
        }
        _ => return Ok(encode_union_response(class, None, INVALID_PARAMETER)),
    };
    Ok(encode_union_response(class, Some(&fields), SUCCESS))
}

/// LsarGetUserName: `[in, unique, string] wchar_t* SystemName`, `[in, out] PRPC_UNICODE_STRING* UserName`,
/// `[in, out, unique] PRPC_UNICODE_STRING* DomainName`. The caller's name comes from [`Provider::caller`]; its
/// domain is the account domain. The domain is returned only when the client passed a place for it.
fn get_user_name(stub: &[u8], provider: &dyn Provider) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    d.unique_string()?;
    if d.unique()?.is_some() {
        d.unicode()?;
    }
    let wants_domain = d.unique()?.is_some();
    if wants_domain && d.unique()?.is_some() {
        d.unicode()?;
    }
    let mut e = Encoder::new();
    let Some(user) = provider.caller() else {
        e.null();
        if wants_domain {
            e.referent();
        }
        e.null();
        e.u32(ACCESS_DENIED);
        return Ok(e.into_bytes());
    };
    let domain = provider.server().netbios_name;
    e.referent();
    e.record(&[Field::Unicode(&user)]);
    if wants_domain {
        e.referent();
        e.referent();
        e.record(&[Field::Unicode(&domain)]);
    } else {
        e.null();
    }
    e.u32(SUCCESS);
    Ok(e.into_bytes())
}
