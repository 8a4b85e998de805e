//! Extended attributes over SMB: the FileFullEaInformation lists of SET_INFO and the ExtA create context
//! (MS-FSCC 2.4.15, MS-FSA 2.1.5.15.5, MS-SMB2 2.2.13.2.1) and the FileFullEaInformation query with its
//! scan flags, index and name list (MS-SMB2 2.2.37, 3.3.5.20.1; MS-FSA 2.1.5.12.12). The EAs themselves
//! live in `vfs` (`user.<name>` extended attributes); this runs on the blocking pool as the open's user.

use crate::open::Open;
use bytes::BytesMut;
use proto::fscc::ea::{
    encode_full_ea, full_ea_entry_size, parse_full_ea, parse_get_ea, valid_ea_name, FullEa,
    FILE_NEED_EA,
};
use proto::messages::create::access::{FILE_READ_EA, FILE_WRITE_EA};
use proto::messages::query_info::{SL_INDEX_SPECIFIED, SL_RESTART_SCAN, SL_RETURN_SINGLE_ENTRY};
use proto::NtStatus;
use std::sync::atomic::Ordering;

/// An EA list to set: `(name, value)`, an empty value deleting the EA.
pub type EaList = Vec<(Vec<u8>, Vec<u8>)>;

/// Decode and check a FileFullEaInformation list to set: a malformed chain is STATUS_EA_LIST_INCONSISTENT
/// (as Windows' I/O manager answers), an empty one STATUS_INVALID_PARAMETER, a bad name or a flag other
/// than FILE_NEED_EA STATUS_INVALID_EA_NAME (MS-FSA 2.1.5.15.5).
pub fn decode_set_list(buf: &[u8]) -> Result<EaList, NtStatus> {
    let entries = parse_full_ea(buf).map_err(|_| NtStatus::EA_LIST_INCONSISTENT)?;
    if entries.is_empty() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    entries
        .into_iter()
        .map(|e| {
            if e.flags & !FILE_NEED_EA != 0 || !valid_ea_name(e.name) {
                return Err(NtStatus::INVALID_EA_NAME);
            }
            Ok((e.name.to_vec(), e.value.to_vec()))
        })
        .collect()
}

/// Set the EAs of `list` on `file`.
pub fn set_file(file: &vfs::OpenFile, list: &EaList) -> Result<(), NtStatus> {
    let pairs: Vec<(&[u8], &[u8])> = list
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    file.set_eas(&pairs)
}

/// SET_INFO FileFullEaInformation (MS-SMB2 3.3.5.21.1): FILE_WRITE_EA on the handle, then the list.
pub fn set_info(open: &Open, buf: &[u8]) -> Result<(), NtStatus> {
    if !open.has_access(FILE_WRITE_EA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    set_file(&open.file, &decode_set_list(buf)?)
}

/// The EAs of the ExtA create context (MS-SMB2 2.2.13.2.1), checked before anything is created; a share
/// with `ea support = no` fails such a CREATE with STATUS_EAS_NOT_SUPPORTED.
pub fn create_context(data: Option<&[u8]>, supported: bool) -> Result<Option<EaList>, NtStatus> {
    match data {
        None => Ok(None),
        Some(_) if !supported => Err(NtStatus::EAS_NOT_SUPPORTED),
        Some(buf) => decode_set_list(buf).map(Some),
    }
}

/// What a FileFullEaInformation query asks for (the QUERY_INFO Flags, AdditionalInformation and input).
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    pub flags: u32,
    pub index: u32,
    pub names: &'a [u8],
    pub max: usize,
}

/// One EA to return: its name and, once read, its value.
struct Found {
    name: Vec<u8>,
    value: Vec<u8>,
}

/// QUERY_INFO FileFullEaInformation (MS-FSA 2.1.5.12.12): the encoded list and its status. Values are
/// read only for the entries that fit in `q.max` (at most the server's `smb2 max trans`), so a query
/// never reads more EA bytes from disk than it can send.
pub fn query(open: &Open, q: Query<'_>) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    if !open.has_access(FILE_READ_EA) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let listed = open.file.list_eas()?;
    if !q.names.is_empty() {
        return named(open, q, &listed);
    }
    if listed.is_empty() {
        return Err(NtStatus::NO_EAS_ON_FILE);
    }
    let start = if q.flags & SL_INDEX_SPECIFIED != 0 {
        // The index is 1-based (MS-SMB2 3.2.4.8).
        let i = usize::try_from(q.index).unwrap_or(usize::MAX);
        if i == 0 || i > listed.len() {
            return Err(NtStatus::NONEXISTENT_EA_ENTRY);
        }
        i - 1
    } else if q.flags & SL_RESTART_SCAN != 0 {
        0
    } else {
        open.next_ea.load(Ordering::Relaxed) as usize
    };
    let rest = listed.get(start..).unwrap_or_default();
    if rest.is_empty() {
        return Err(NtStatus::NO_EAS_ON_FILE);
    }
    let single = q.flags & SL_RETURN_SINGLE_ENTRY != 0;
    let mut found = Vec::new();
    let mut used = 0;
    for e in rest {
        if (single && !found.is_empty()) || !fits(used, &e.name, e.value_len, q.max) {
            break;
        }
        let value = open.file.ea_value(&e.name)?;
        if !fits(used, &e.name, value.len(), q.max) {
            break; // grew since it was listed
        }
        used += full_ea_entry_size(e.name.len(), value.len());
        found.push(Found {
            name: e.name.clone(),
            value,
        });
    }
    if found.is_empty() {
        return Err(NtStatus::BUFFER_TOO_SMALL);
    }
    let next = start + found.len();
    open.next_ea
        .store(u32::try_from(next).unwrap_or(u32::MAX), Ordering::Relaxed);
    let status = if next < listed.len() && !single {
        NtStatus::BUFFER_OVERFLOW
    } else {
        NtStatus::SUCCESS
    };
    Ok((encode(&found), status))
}

/// Whether an entry fits in `max` bytes after `used` (the aligned end of the entries before it); the
/// last entry needs no padding after it.
fn fits(used: usize, name: &[u8], value_len: usize, max: usize) -> bool {
    used + 8 + name.len() + 1 + value_len <= max
}

/// A query naming its EAs (FILE_GET_EA_INFORMATION list): each named EA in the order asked, with an empty
/// value when the file has none of that name; all of them must fit.
fn named(
    open: &Open,
    q: Query<'_>,
    listed: &[vfs::EaEntry],
) -> Result<(Vec<u8>, NtStatus), NtStatus> {
    let names = parse_get_ea(q.names).map_err(|_| NtStatus::EA_LIST_INCONSISTENT)?;
    if names.iter().any(|n| !valid_ea_name(n)) {
        return Err(NtStatus::INVALID_EA_NAME);
    }
    let mut found = Vec::new();
    let mut used = 0usize;
    for name in names {
        let stored = listed.iter().find(|e| e.name.eq_ignore_ascii_case(name));
        let value = match stored {
            Some(e) => open.file.ea_value(&e.name)?,
            None => Vec::new(),
        };
        if !fits(used, name, value.len(), q.max) {
            return Err(NtStatus::BUFFER_TOO_SMALL);
        }
        used += full_ea_entry_size(name.len(), value.len());
        found.push(Found {
            name: stored.map_or_else(|| name.to_vec(), |e| e.name.clone()),
            value,
        });
    }
    Ok((encode(&found), NtStatus::SUCCESS))
}

fn encode(found: &[Found]) -> Vec<u8> {
    let entries: Vec<FullEa<'_>> = found
        .iter()
        .map(|f| FullEa {
            flags: 0,
            name: &f.name,
            value: &f.value,
        })
        .collect();
    let mut w = BytesMut::new();
    encode_full_ea(&mut w, &entries);
    w.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[FullEa<'_>]) -> Vec<u8> {
        let mut w = BytesMut::new();
        encode_full_ea(&mut w, entries);
        w.to_vec()
    }

    fn ea<'a>(flags: u8, name: &'a [u8], value: &'a [u8]) -> FullEa<'a> {
        FullEa { flags, name, value }
    }

    #[test]
    fn set_lists_are_checked() {
        let ok = list(&[ea(0, b"A", b"1"), ea(FILE_NEED_EA, b"B", b"")]);
        assert_eq!(
            decode_set_list(&ok).unwrap(),
            vec![(b"A".to_vec(), b"1".to_vec()), (b"B".to_vec(), Vec::new())]
        );
        assert_eq!(
            decode_set_list(&list(&[ea(0x01, b"A", b"1")])),
            Err(NtStatus::INVALID_EA_NAME)
        );
        assert_eq!(
            decode_set_list(&list(&[ea(0, b"a?b", b"1")])),
            Err(NtStatus::INVALID_EA_NAME)
        );
        assert_eq!(decode_set_list(&[]), Err(NtStatus::INVALID_PARAMETER));
        assert_eq!(
            decode_set_list(&ok[..5]),
            Err(NtStatus::EA_LIST_INCONSISTENT)
        );
    }

    #[test]
    fn create_context_needs_ea_support() {
        let ok = list(&[ea(0, b"A", b"1")]);
        assert_eq!(create_context(None, false), Ok(None));
        assert_eq!(
            create_context(Some(&ok), false),
            Err(NtStatus::EAS_NOT_SUPPORTED)
        );
        assert_eq!(create_context(Some(&ok), true).unwrap().unwrap().len(), 1);
    }

    #[test]
    fn entries_fit_without_trailing_padding() {
        // 8 + 3 + 1 + 1 = 13 bytes: fits in 13, the padding to 16 only counts before a next entry.
        assert!(fits(0, b"ONE", 1, 13));
        assert!(!fits(0, b"ONE", 1, 12));
        assert!(fits(16, b"TWO", 2, 30));
        assert!(!fits(16, b"TWO", 2, 29));
    }
}
