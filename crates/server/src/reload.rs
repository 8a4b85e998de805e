//! Applying a reloaded configuration (`rsmbd reload`, SIGHUP): the new shares serve new tree connects at
//! once, and tree connects whose share is gone, whose user or address the new rules refuse, that would
//! lose write access (`read only`, `read list`...) or act as another Unix user (`force user`, `force
//! group`...) are revoked: the tree is forgotten (later requests get STATUS_NETWORK_NAME_DELETED) and
//! its opens closed. A client that reconnects gets the new rules; trees that would only gain rights stay.
//! Settings fixed at start-up (ports, dialects, limits) need a restart.

use crate::conn::Conn;
use crate::session::{AuthInfo, Tree};
use crate::state::{ServerState, ShareEntry};
use std::sync::Arc;

/// Whether `tree` may stay under the shares now configured.
fn still_allowed(state: &ServerState, conn: &Conn, tree: &Tree, auth: &AuthInfo) -> bool {
    let Some(share) = state.share(&tree.share.name) else {
        return false;
    };
    if share.vfs.is_some() != tree.share.vfs.is_some()
        || !share.hosts.permits(conn.peer.ip())
        || !share.allows(auth.user.as_deref(), &auth.unix.groups)
    {
        return false;
    }
    let grant = share.grant_for(auth, state.settings.guest_uid);
    (grant.writable || !tree.writable) && grant.unix == tree.unix
}

/// Installs `shares` and revokes what they no longer allow; returns the number of trees revoked.
pub async fn apply(state: &Arc<ServerState>, shares: Vec<ShareEntry>) -> usize {
    state.replace_shares(shares);
    let mut revoked = 0;
    for conn in state.conns.live() {
        let sessions = conn.sessions();
        for session in sessions {
            let Some(auth) = session.auth() else {
                continue;
            };
            let gone: Vec<Arc<Tree>> = {
                let mut inner = session.lock();
                let ids: Vec<u32> = inner
                    .trees
                    .values()
                    .filter(|t| !still_allowed(state, &conn, t, &auth))
                    .map(|t| t.id)
                    .collect();
                ids.iter().filter_map(|id| inner.trees.remove(id)).collect()
            };
            for tree in gone {
                tracing::info!(peer = %conn.peer, share = %tree.share.name, "reload: tree connect revoked");
                crate::lifecycle::tree_disconnect(&conn, session.id, &tree).await;
                revoked += 1;
            }
        }
    }
    revoked
}
