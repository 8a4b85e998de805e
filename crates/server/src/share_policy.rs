//! The per-user rules of a share applied at TREE_CONNECT (Samba's `read list`, `write list`,
//! `admin users`, `force user`, `force group`, `guest only`, `max connections`): whether the tree is
//! writable, and which Unix identity its file operations run as.

use crate::access::in_user_list;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use vfs::Identity;

/// The rules, with `force user` and `force group` resolved to ids when the share is loaded.
#[derive(Clone, Debug, Default)]
pub struct SharePolicy {
    pub read_list: Vec<String>,
    pub write_list: Vec<String>,
    pub admin_users: Vec<String>,
    pub force_user: Option<Arc<Identity>>,
    pub force_group: Option<u32>,
    pub guest_only: bool,
    /// Tree connects at once; 0 = no limit.
    pub max_connections: u32,
}

/// What a tree connect gets.
#[derive(Debug)]
pub struct Grant {
    pub writable: bool,
    pub unix: Arc<Identity>,
}

/// Who is connecting.
pub struct Connecting<'a> {
    /// None for guest and anonymous sessions.
    pub user: Option<&'a str>,
    pub unix: &'a Arc<Identity>,
    pub guest_uid: u32,
}

fn root() -> Arc<Identity> {
    Arc::new(Identity {
        uid: 0,
        gid: 0,
        groups: vec![0],
    })
}

fn with_primary_group(id: &Identity, gid: u32) -> Arc<Identity> {
    let mut groups = id.groups.clone();
    if !groups.contains(&gid) {
        groups.push(gid);
    }
    Arc::new(Identity {
        uid: id.uid,
        gid,
        groups,
    })
}

impl SharePolicy {
    /// Samba's order: `read list` makes a tree read-only, `write list` (and `admin users`) writable again.
    pub fn grant(&self, share_read_only: bool, who: &Connecting<'_>) -> Grant {
        let listed = |list: &[String]| {
            who.user
                .is_some_and(|u| in_user_list(list, u, &who.unix.groups, vfs::group_id))
        };
        let admin = listed(&self.admin_users);
        let writable =
            admin || listed(&self.write_list) || (!share_read_only && !listed(&self.read_list));
        let unix = if admin {
            root()
        } else if self.guest_only {
            Arc::new(Identity::lookup_unix(who.guest_uid))
        } else if let Some(forced) = &self.force_user {
            Arc::clone(forced)
        } else {
            Arc::clone(who.unix)
        };
        let unix = match self.force_group {
            Some(gid) if !admin => with_primary_group(&unix, gid),
            _ => unix,
        };
        Grant { writable, unix }
    }

    /// Takes one of the share's `max connections` places; false when all are taken.
    pub fn claim(&self, trees: &AtomicU32) -> bool {
        let max = self.max_connections;
        trees
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (max == 0 || n < max).then_some(n.saturating_add(1))
            })
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> Arc<Identity> {
        Arc::new(Identity {
            uid: n,
            gid: n,
            groups: vec![n],
        })
    }

    fn who<'a>(user: &'a str, unix: &'a Arc<Identity>) -> Connecting<'a> {
        Connecting {
            user: Some(user),
            unix,
            guest_uid: 65534,
        }
    }

    #[test]
    fn lists_decide_writability() {
        let unix = id(1000);
        let p = SharePolicy {
            read_list: vec!["alice".into(), "bob".into()],
            write_list: vec!["bob".into()],
            ..Default::default()
        };
        assert!(!p.grant(false, &who("alice", &unix)).writable);
        assert!(p.grant(true, &who("bob", &unix)).writable);
        assert!(p.grant(false, &who("carol", &unix)).writable);
        assert!(!p.grant(true, &who("carol", &unix)).writable);
    }

    #[test]
    fn identities() {
        let unix = id(1000);
        let forced = id(2000);
        let p = SharePolicy {
            force_user: Some(Arc::clone(&forced)),
            force_group: Some(50),
            admin_users: vec!["root-ish".into()],
            ..Default::default()
        };
        let g = p.grant(true, &who("alice", &unix));
        assert_eq!((g.unix.uid, g.unix.gid), (2000, 50));
        assert!(g.unix.groups.contains(&50));
        let a = p.grant(true, &who("root-ish", &unix));
        assert!(a.writable && a.unix.uid == 0 && a.unix.gid == 0);
    }

    #[test]
    fn max_connections() {
        let p = SharePolicy {
            max_connections: 2,
            ..Default::default()
        };
        let n = AtomicU32::new(0);
        assert!(p.claim(&n) && p.claim(&n) && !p.claim(&n));
        assert!(SharePolicy::default().claim(&AtomicU32::new(u32::MAX - 1)));
    }
}
