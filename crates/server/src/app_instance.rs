//! Application instance identifiers (MS-SMB2 3.3.5.9.13; the contexts of 2.2.13.2.13 and 2.2.13.2.15).
//!
//! A clustered application (Hyper-V, SQL Server, a failover cluster node) tags its opens with an
//! AppInstanceId. When it reopens a file from another node (another ClientGuid) with the same id, the
//! server closes the earlier open, connected or kept after a disconnect, so the new one is not refused
//! by its share mode or held up by its oplock. On SMB 3.1.1 an AppInstanceVersion no newer than the
//! earlier open's refuses the new open instead (STATUS_FILE_FORCED_CLOSED).

use crate::open::Open;
use crate::pending::CancelReason;
use crate::session::Tree;
use crate::state::ServerState;
use proto::create_context::{self as cc, CreateContext};
use proto::reader::Reader;
use proto::{Guid, NtStatus};
use std::sync::Arc;

/// An open's AppInstanceId, the ClientGuid it came from and its AppInstanceVersion (high, low).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppInstance {
    pub id: Guid,
    pub client_guid: Guid,
    pub version: Option<(u64, u64)>,
}

/// The AppInstanceId (and, on SMB 3.1.1, AppInstanceVersion) a CREATE carries. A context too short
/// for its structure is STATUS_INVALID_PARAMETER.
pub fn requested(
    contexts: &[CreateContext<'_>],
    client_guid: Guid,
    smb311: bool,
) -> Result<Option<AppInstance>, NtStatus> {
    let Some(c) = cc::find(contexts, cc::name::APP_INSTANCE_ID) else {
        return Ok(None);
    };
    let mut r = Reader::new(c.data);
    let bad = |_| NtStatus::INVALID_PARAMETER;
    if r.u16().map_err(bad)? != 20 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    r.skip(2).map_err(bad)?;
    let id: Guid = r.array().map_err(bad)?;
    let version = match cc::find(contexts, cc::name::APP_INSTANCE_VERSION) {
        Some(v) if smb311 => {
            let mut r = Reader::new(v.data);
            if r.u16().map_err(bad)? != 24 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            r.skip(6).map_err(bad)?;
            Some((r.u64().map_err(bad)?, r.u64().map_err(bad)?))
        }
        _ => None,
    };
    Ok(Some(AppInstance {
        id,
        client_guid,
        version,
    }))
}

/// Whether `earlier` is an open the instance `asked` replaces: the same id, file and share, made by
/// another client.
fn replaces(asked: &AppInstance, tree: &Tree, path: &vfs::SmbPath, earlier: &Open) -> bool {
    earlier.app_instance.is_some_and(|a| {
        a.id == asked.id
            && a.client_guid != asked.client_guid
            && earlier.tree.share.name == tree.share.name
            && earlier
                .path()
                .as_unix()
                .eq_ignore_ascii_case(path.as_unix())
    })
}

/// MS-SMB2 3.3.5.9.13: close the earlier opens of this application instance, unless one of them has
/// a version at least as new as the one asked for (STATUS_FILE_FORCED_CLOSED).
pub async fn close_earlier(
    server: &ServerState,
    tree: &Tree,
    path: &vfs::SmbPath,
    asked: &AppInstance,
) -> Result<(), NtStatus> {
    let connected = server.opens.matching(|o| replaces(asked, tree, path, o));
    let disconnected = server.durable.matching(|o| replaces(asked, tree, path, o));
    let newer = |o: &Arc<Open>| {
        let earlier = o.app_instance.and_then(|a| a.version);
        matches!((earlier, asked.version), (Some(e), Some(a)) if e >= a)
    };
    if connected.iter().chain(&disconnected).any(newer) {
        return Err(NtStatus::FILE_FORCED_CLOSED);
    }
    for open in connected {
        let id = open.file_id.volatile;
        let owner = server.opens.get_any(id).map(|(conn, _)| conn);
        if server.opens.remove(id).is_none() {
            continue;
        }
        tracing::info!(path = %open.path(), "open closed for the same application instance");
        match owner.and_then(|c| server.conns.find(c)) {
            Some(conn) => crate::lifecycle::close(&conn, &open, CancelReason::HandleClosed).await,
            None => {
                crate::lifecycle::close_disconnected(server, &open).await;
            }
        }
    }
    for open in disconnected {
        if server.durable.take(open.file_id.persistent).is_some() {
            crate::lifecycle::close_disconnected(server, &open).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(name: &'static [u8], data: &'static [u8]) -> CreateContext<'static> {
        CreateContext { name, data }
    }

    #[test]
    fn contexts_are_checked() {
        let mut id = vec![20u8, 0, 0, 0];
        id.extend_from_slice(&[7; 16]);
        let id: &'static [u8] = Box::leak(id.into_boxed_slice());
        let mut version = vec![24u8, 0, 0, 0, 0, 0, 0, 0];
        version.extend_from_slice(&5u64.to_le_bytes());
        version.extend_from_slice(&6u64.to_le_bytes());
        let version: &'static [u8] = Box::leak(version.into_boxed_slice());
        let both = [
            context(cc::name::APP_INSTANCE_ID, id),
            context(cc::name::APP_INSTANCE_VERSION, version),
        ];
        let got = requested(&both, [1; 16], true).unwrap().unwrap();
        assert_eq!((got.id, got.version), ([7; 16], Some((5, 6))));
        assert_eq!(
            requested(&both, [1; 16], false).unwrap().unwrap().version,
            None
        );
        assert_eq!(requested(&[], [1; 16], true), Ok(None));
        for short in [&id[..19], &id[..0], &[21u8, 0, 0, 0][..]] {
            let short: &'static [u8] = Box::leak(short.to_vec().into_boxed_slice());
            assert_eq!(
                requested(&[context(cc::name::APP_INSTANCE_ID, short)], [1; 16], true),
                Err(NtStatus::INVALID_PARAMETER)
            );
        }
    }
}
