//! LSA translation between names and SIDs (MS-LSAT): LsarLookupSids (opnum 15, 3.1.4.11), LsarLookupSids2 (57,
//! 3.1.4.10), LsarLookupSids3 (76, 3.1.4.9), LsarLookupNames (14, 3.1.4.8), LsarLookupNames3 (68, 3.1.4.6) and
//! LsarLookupNames4 (77, 3.1.4.5), answered from the [`Directory`].
//!
//! Every answer carries the referenced domain list (MS-LSAT 2.2.12) that the translations index. Entries that do
//! not translate are SidTypeUnknown with domain index -1 (or the index of their domain when a SID's domain is
//! known, the SID's string form as the name); the status is STATUS_SOME_NOT_MAPPED or STATUS_NONE_MAPPED then.

use crate::accounts::{Directory, Domain, Translation};
use crate::handles::HandleTable;
use crate::lsarpc::read_policy;
use crate::ndr::{Decoder, Encoder, Field, NdrError};
use crate::ntstatus::{lookup_status, INVALID_HANDLE};
use crate::sid::{decode_sid_array, Sid};
use crate::Provider;

/// The most SIDs one LsarLookupSids* call carries (LSAPR_SID_ENUM_BUFFER range).
const MAX_SIDS: usize = 20480;
/// The most names one LsarLookupNames* call carries (`[range(0, 1000)] Count`).
const MAX_NAMES: usize = 1000;
/// DomainIndex of a translation without a domain.
const NO_DOMAIN: u32 = u32::MAX;

/// The shape of a lookup call.
#[derive(Clone, Copy, Debug)]
pub struct Form {
    /// The call starts with a policy handle (not LsarLookupSids3 / LsarLookupNames4).
    handle: bool,
    /// The `_EX` / `_EX2` translation records and the LookupOptions / ClientRevision parameters.
    extended: bool,
}

impl Form {
    /// LsarLookupSids, LsarLookupNames.
    pub const ORIGINAL: Form = Form {
        handle: true,
        extended: false,
    };
    /// LsarLookupSids2, LsarLookupNames3.
    pub const EXTENDED: Form = Form {
        handle: true,
        extended: true,
    };
    /// LsarLookupSids3, LsarLookupNames4.
    pub const NO_HANDLE: Form = Form {
        handle: false,
        extended: true,
    };

    /// The policy handle, if this form has one: whether it is valid.
    fn read_handle(self, d: &mut Decoder<'_>, handles: &HandleTable) -> Result<bool, NdrError> {
        if self.handle {
            read_policy(d, handles)
        } else {
            Ok(true)
        }
    }

    /// What follows the translations: `[in] LSAP_LOOKUP_LEVEL`, `[in, out] MappedCount` and, extended, `[in]
    /// LookupOptions` and `[in] ClientRevision`. The translations are `[in, out]` but meaningless on input:
    /// clients send an empty one, anything else is refused.
    fn read_tail(self, d: &mut Decoder<'_>) -> Result<(), NdrError> {
        d.u32()?;
        if d.unique()?.is_some() {
            return Err(NdrError);
        }
        d.u16()?;
        d.u32()?;
        if self.extended {
            d.u32()?;
            d.u32()?;
        }
        Ok(())
    }
}

/// LsarLookupSids*: `[in] PLSAPR_SID_ENUM_BUFFER`, `[out] PLSAPR_REFERENCED_DOMAIN_LIST*`, `[in, out]
/// PLSAPR_TRANSLATED_NAMES(_EX)` (Use, Name, DomainIndex, and Flags when extended).
pub fn lookup_sids(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
    form: Form,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = form.read_handle(&mut d, handles)?;
    let sids = decode_sid_array(&mut d, MAX_SIDS)?;
    form.read_tail(&mut d)?;
    if !valid {
        return Ok(failure(INVALID_HANDLE));
    }
    let directory = Directory::new(provider);
    let translations: Vec<Translation> = sids.iter().map(|s| directory.lookup_sid(s)).collect();
    let mut domains = Referenced::default();
    let records: Vec<Vec<Field<'_>>> = translations
        .iter()
        .map(|t| {
            let mut record = vec![
                Field::U16(t.kind.value()),
                Field::Unicode(&t.name),
                Field::U32(domains.index(t.domain)),
            ];
            if form.extended {
                record.push(Field::U32(0));
            }
            record
        })
        .collect();
    Ok(answer(&directory, &domains, &records, &translations))
}

/// LsarLookupNames*: `[in] Count`, `[in, size_is(Count)] PRPC_UNICODE_STRING Names`, `[out]
/// PLSAPR_REFERENCED_DOMAIN_LIST*`, `[in, out] PLSAPR_TRANSLATED_SIDS` (Use, RelativeId, DomainIndex) or, extended,
/// `PLSAPR_TRANSLATED_SIDS_EX2` (Use, Sid, DomainIndex, Flags).
pub fn lookup_names(
    stub: &[u8],
    provider: &dyn Provider,
    handles: &HandleTable,
    form: Form,
) -> Result<Vec<u8>, NdrError> {
    let mut d = Decoder::new(stub);
    let valid = form.read_handle(&mut d, handles)?;
    let count = usize::try_from(d.u32()?).map_err(|_| NdrError)?;
    if count > MAX_NAMES || d.conformance(8)? != count {
        return Err(NdrError);
    }
    let names = d.unicode_array(count)?;
    form.read_tail(&mut d)?;
    if !valid {
        return Ok(failure(INVALID_HANDLE));
    }
    let directory = Directory::new(provider);
    let translations: Vec<Translation> = names.iter().map(|n| directory.lookup_name(n)).collect();
    let sids: Vec<Option<Sid>> = translations
        .iter()
        .map(|t| {
            let domain = directory.domain_sid(t.domain?);
            Some(match t.rid {
                Some(rid) if t.is_mapped() => domain.with_rid(rid),
                _ => domain,
            })
        })
        .collect();
    let mut domains = Referenced::default();
    let records: Vec<Vec<Field<'_>>> = translations
        .iter()
        .zip(&sids)
        .map(|(t, sid)| {
            let index = Field::U32(domains.index(t.domain));
            let kind = Field::U16(t.kind.value());
            if form.extended {
                let sid = sid.as_ref().map_or(Field::Null, Field::Sid);
                vec![kind, sid, index, Field::U32(0)]
            } else {
                vec![kind, Field::U32(t.rid.unwrap_or(0)), index]
            }
        })
        .collect();
    Ok(answer(&directory, &domains, &records, &translations))
}

/// The domains a lookup answer refers to, in the order first referenced.
#[derive(Default)]
struct Referenced(Vec<Domain>);

impl Referenced {
    /// The DomainIndex of `domain`, adding it to the list; -1 for none.
    fn index(&mut self, domain: Option<Domain>) -> u32 {
        let Some(domain) = domain else {
            return NO_DOMAIN;
        };
        let position = self.0.iter().position(|d| *d == domain).unwrap_or_else(|| {
            self.0.push(domain);
            self.0.len() - 1
        });
        u32::try_from(position).unwrap_or(NO_DOMAIN)
    }

    /// `PLSAPR_REFERENCED_DOMAIN_LIST*`: pointer, Entries, Domains (LSAPR_TRUST_INFORMATION: name, SID),
    /// MaxEntries.
    fn encode(&self, e: &mut Encoder, directory: &Directory) {
        let sids: Vec<Sid> = self.0.iter().map(|d| directory.domain_sid(*d)).collect();
        let records: Vec<Vec<Field<'_>>> = self
            .0
            .iter()
            .zip(&sids)
            .map(|(d, sid)| vec![Field::Unicode(directory.domain_name(*d)), Field::Sid(sid)])
            .collect();
        let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        e.referent();
        e.u32(count);
        pointer_to_array(e, &records);
        e.u32(count);
        if !records.is_empty() {
            e.struct_array(&records);
        }
    }
}

/// A pointer to a conformant array of records: null when empty. The array itself is written by the caller.
fn pointer_to_array(e: &mut Encoder, records: &[Vec<Field<'_>>]) {
    if records.is_empty() {
        e.null();
    } else {
        e.referent();
    }
}

/// A lookup answer: referenced domains, the translations (Entries, pointer, array), MappedCount, status.
fn answer(
    directory: &Directory,
    domains: &Referenced,
    records: &[Vec<Field<'_>>],
    translations: &[Translation],
) -> Vec<u8> {
    let mapped = translations.iter().filter(|t| t.is_mapped()).count();
    let mut e = Encoder::new();
    domains.encode(&mut e, directory);
    e.u32(u32::try_from(records.len()).unwrap_or(u32::MAX));
    pointer_to_array(&mut e, records);
    if !records.is_empty() {
        e.struct_array(records);
    }
    e.u32(u32::try_from(mapped).unwrap_or(u32::MAX));
    e.u32(lookup_status(mapped, translations.len()));
    e.into_bytes()
}

/// A failed lookup: no referenced domains, no translations, nothing mapped.
fn failure(status: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.null();
    e.u32(0);
    e.null();
    e.u32(0);
    e.u32(status);
    e.into_bytes()
}
