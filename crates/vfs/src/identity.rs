//! Per-thread identity switching (DESIGN.md decision 5): when the daemon runs as root, file operations run
//! with the session user's effective uid, gid and groups on the thread that performs them, so the kernel
//! enforces POSIX permissions for that user.
//!
//! Linux credentials are per thread at the system-call level; rustix's `set_thread_*` calls change only the
//! calling thread. Only the *effective* ids change: the real and saved uid stay 0, so the thread can return
//! to root, and other users cannot signal the daemon. The current identity is cached per thread, so
//! repeated operations for the same user make no system calls.

use std::cell::RefCell;
use std::sync::OnceLock;

use proto::NtStatus;
use rustix::process::{Gid, Uid};
use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};

use crate::VfsResult;

/// Upper bound on supplementary groups (the kernel's `NGROUPS_MAX`).
const MAX_GROUPS: usize = 65_536;
/// `(uid_t)-1` / `(gid_t)-1` mean "unchanged" to the kernel and are never valid ids.
const INVALID_ID: u32 = u32::MAX;

/// A Unix user as the kernel sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (the primary group included).
    pub groups: Vec<u32>,
}

impl Identity {
    /// The user `uid` with primary group and supplementary groups from /etc/passwd and /etc/group
    /// (parsed directly, no NSS). An unknown uid gets gid = uid and no other groups.
    pub fn lookup_unix(uid: u32) -> Identity {
        let (passwd, group) = read_databases();
        let user = find_user(&passwd, |u| u.uid == uid);
        identity_for(user, uid, &group)
    }

    /// The user called `name` in /etc/passwd, with its groups; `None` if there is no such user.
    pub fn lookup_name(name: &str) -> Option<Identity> {
        let (passwd, group) = read_databases();
        let user = find_user(&passwd, |u| u.name == name)?;
        Some(identity_for(Some(user), user.uid, &group))
    }
}

/// Runs `f` as `id` when the daemon runs as root; just runs `f` otherwise. The thread keeps `id` afterwards
/// (the next call for the same identity costs nothing). If the kernel refuses the switch, the process aborts
/// rather than run `f` with the wrong credentials; [`try_as_identity`] reports the failure instead.
pub fn as_identity<R>(id: &Identity, f: impl FnOnce() -> R) -> R {
    match switch_thread(Some(id)) {
        Ok(()) => f(),
        Err(status) => {
            tracing::error!(
                ?status,
                uid = id.uid,
                "cannot switch thread credentials, aborting"
            );
            std::process::abort()
        }
    }
}

/// Like [`as_identity`], but a refused switch returns `ACCESS_DENIED` (with the thread back at the daemon's
/// own identity) instead of aborting.
pub fn try_as_identity<R>(id: &Identity, f: impl FnOnce() -> R) -> VfsResult<R> {
    switch_thread(Some(id))?;
    Ok(f())
}

/// Runs `f` with the daemon's own credentials (for work that is not done on behalf of a user).
pub fn as_daemon<R>(f: impl FnOnce() -> R) -> R {
    match switch_thread(None) {
        Ok(()) => f(),
        Err(status) => {
            tracing::error!(?status, "cannot restore thread credentials, aborting");
            std::process::abort()
        }
    }
}

/// Runs `f` with the daemon's own credentials, then puts the thread back at the identity it had.
pub fn as_daemon_briefly<R>(f: impl FnOnce() -> R) -> R {
    let saved = CURRENT.with_borrow(Clone::clone);
    let result = as_daemon(f);
    if let Some(id) = saved {
        as_identity(&id, || ());
    }
    result
}

thread_local! {
    /// The identity this thread runs as; `None` = the daemon's own credentials.
    static CURRENT: RefCell<Option<Identity>> = const { RefCell::new(None) };
}

/// The daemon's credentials, captured before any thread switches.
struct Daemon {
    root: bool,
    gid: Gid,
    groups: Vec<Gid>,
}

fn daemon() -> &'static Daemon {
    static DAEMON: OnceLock<Daemon> = OnceLock::new();
    DAEMON.get_or_init(|| Daemon {
        root: rustix::process::geteuid().is_root(),
        gid: rustix::process::getegid(),
        groups: rustix::process::getgroups().unwrap_or_default(),
    })
}

/// Puts the calling thread at `target` (`None` = daemon identity), doing nothing if it is already there.
fn switch_thread(target: Option<&Identity>) -> VfsResult<()> {
    let daemon = daemon();
    if !daemon.root || CURRENT.with_borrow(|cur| cur.as_ref() == target) {
        return Ok(());
    }
    let result = match target {
        Some(id) => become_user(id),
        None => become_daemon(daemon),
    };
    match result {
        Ok(()) => {
            CURRENT.set(target.cloned());
            Ok(())
        }
        Err(e) => {
            tracing::warn!(errno = %e, "thread credential switch failed");
            if let Err(e) = become_daemon(daemon) {
                tracing::error!(errno = %e, "cannot restore thread credentials, aborting");
                std::process::abort();
            }
            CURRENT.set(None);
            Err(NtStatus::ACCESS_DENIED)
        }
    }
}

/// Root first (so the group calls are permitted), then groups, gid, and the uid last.
fn become_user(id: &Identity) -> rustix::io::Result<()> {
    if id.uid == INVALID_ID
        || id.gid == INVALID_ID
        || id.groups.contains(&INVALID_ID)
        || id.groups.len() > MAX_GROUPS
    {
        return Err(rustix::io::Errno::INVAL);
    }
    let groups: Vec<Gid> = id
        .groups
        .iter()
        .map(|&g| Gid::from_raw_unchecked(g))
        .collect();
    set_thread_res_uid(None, Some(Uid::ROOT), None)?;
    set_thread_groups(&groups)?;
    set_thread_res_gid(None, Some(Gid::from_raw_unchecked(id.gid)), None)?;
    set_thread_res_uid(None, Some(Uid::from_raw_unchecked(id.uid)), None)
}

fn become_daemon(daemon: &Daemon) -> rustix::io::Result<()> {
    set_thread_res_uid(None, Some(Uid::ROOT), None)?;
    set_thread_groups(&daemon.groups)?;
    set_thread_res_gid(None, Some(daemon.gid), None)
}

/// The gid of the Unix group `name` in /etc/group (for `@group` entries in user lists).
pub fn group_id(name: &str) -> Option<u32> {
    let (_, group) = read_databases();
    group_id_in(&group, name)
}

fn group_id_in(group: &str, name: &str) -> Option<u32> {
    group.lines().find_map(|line| {
        let mut fields = line.split(':');
        let (n, _password, gid) = (fields.next()?, fields.next()?, fields.next()?);
        (n == name).then(|| gid.parse().ok()).flatten()
    })
}

fn read_databases() -> (String, String) {
    let read = |path: &str| {
        std::fs::read_to_string(path).unwrap_or_else(|e| {
            tracing::warn!(path, error = %e, "cannot read user database");
            String::new()
        })
    };
    (read("/etc/passwd"), read("/etc/group"))
}

/// One /etc/passwd record.
#[derive(Clone, Copy)]
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
}

/// The first well-formed passwd record matching `pred` (`name:password:uid:gid:...`).
fn find_user<'a>(
    passwd: &'a str,
    pred: impl Fn(&PasswdEntry<'a>) -> bool,
) -> Option<PasswdEntry<'a>> {
    passwd
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let _password = fields.next()?;
            let uid = fields.next()?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some(PasswdEntry { name, uid, gid })
        })
        .find(|entry| pred(entry))
}

/// The identity of `user` (or of an unknown `uid`): primary group plus every /etc/group membership.
fn identity_for(user: Option<PasswdEntry<'_>>, uid: u32, group: &str) -> Identity {
    let Some(user) = user else {
        return Identity {
            uid,
            gid: uid,
            groups: vec![uid],
        };
    };
    let mut groups = vec![user.gid];
    for line in group.lines() {
        let mut fields = line.split(':');
        let (Some(_name), Some(_password), Some(gid), Some(members)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(gid) = gid.parse::<u32>() else {
            continue;
        };
        if members.split(',').any(|m| m.trim() == user.name)
            && !groups.contains(&gid)
            && groups.len() < MAX_GROUPS
        {
            groups.push(gid);
        }
    }
    Identity {
        uid,
        gid: user.gid,
        groups,
    }
}

#[cfg(test)]
mod tests;
