//! NT ACLs on CREATE (MS-FSA 2.1.5.1, MS-DTYP 2.5.3.2 and 2.5.3.4, MS-SMB2 3.3.5.9 and 2.2.14.2.5):
//! before a missing name is created, the parent's stored DACL must grant FILE_ADD_FILE (or
//! FILE_ADD_SUBDIRECTORY); a new object gets the descriptor it inherits from its parent, merged with
//! the SecD create context's; an existing object's stored DACL decides the desired access
//! (MAXIMUM_ALLOWED included), DELETE also coming from the parent's FILE_DELETE_CHILD,
//! FILE_READ_ATTRIBUTES always granted and FILE_WRITE_DATA needed to overwrite. The granted access
//! never exceeds the share's, and the MxAc context reports what the DACL allows. A named stream has
//! its file's descriptor: a new stream inherits one only for a file that has none yet.

use std::sync::Arc;

use dtyp::access::mask::{
    DELETE, FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, FILE_DELETE_CHILD, FILE_READ_ATTRIBUTES,
    FILE_WRITE_DATA, MAXIMUM_ALLOWED,
};
use dtyp::access::{map_generic, maximal_access, Token};
use dtyp::inherit::{self, Creator};
use dtyp::sid::well_known;
use dtyp::SecurityDescriptor;
use proto::NtStatus;
use vfs::{CreateAction, SmbPath};

use super::{store, stored, synthesize, token, AclPolicy};
use crate::blocking::run_as;
use crate::session::Tree;

/// What the NT check needs to know about one CREATE.
pub struct AclCreate {
    tree: Arc<Tree>,
    path: SmbPath,
    token: Token,
    /// The check is skipped (a share that keeps no ACLs).
    bypass: bool,
    /// The parent's stored descriptor once [`AclCreate::check_add`] has read it (`Some(None)`: it has
    /// none), so a new object's inheritance does not read it again.
    parent: Option<Option<SecurityDescriptor>>,
}

/// What the client asked for and what the share alone would grant it.
pub struct Asked {
    /// DesiredAccess as sent.
    pub desired: u32,
    /// The access the share grants (MAXIMUM_ALLOWED expanded to `share_max`).
    pub share_granted: u32,
    /// The share's maximal access.
    pub share_max: u32,
    /// The SecD create context's descriptor.
    pub explicit: Option<SecurityDescriptor>,
    /// An existing file's data is to be overwritten or superseded.
    pub overwrites: bool,
    /// A named stream is opened: the descriptor is its file's.
    pub stream: bool,
}

/// The result: the access the open is granted and its maximal access (MxAc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    pub access: u32,
    pub maximal: u32,
}

impl AclCreate {
    pub fn new(tree: &Arc<Tree>, path: &SmbPath, domain: &dtyp::Sid) -> AclCreate {
        AclCreate {
            tree: Arc::clone(tree),
            path: path.clone(),
            token: token(domain, &tree.unix),
            bypass: !policy(tree).store,
            parent: None,
        }
    }

    /// Before opening: when the name is missing and `may_create`, the parent's stored DACL must allow
    /// adding it.
    pub async fn check_add(&mut self, may_create: bool, directory: bool) -> Result<(), NtStatus> {
        if self.bypass || !may_create {
            return Ok(());
        }
        let (tree, path, token) = (
            Arc::clone(&self.tree),
            self.path.clone(),
            self.token.clone(),
        );
        self.parent = run_as(&tree.unix.clone(), move || {
            if tree.vfs()?.stat(&path).is_ok() {
                return Ok(None);
            }
            let parent = parent_sd(&tree, &path, false);
            let needed = if directory {
                FILE_ADD_SUBDIRECTORY
            } else {
                FILE_ADD_FILE
            };
            match &parent {
                Some(sd) if maximal_access(sd, &token) & needed != needed => {
                    Err(NtStatus::ACCESS_DENIED)
                }
                _ => Ok(Some(parent)),
            }
        })
        .await?;
        Ok(())
    }

    /// After opening: the granted and maximal access of the open of `file`, which `action` says was
    /// created or found.
    pub async fn after_open(
        &self,
        file: &Arc<vfs::OpenFile>,
        stat: &vfs::FileStat,
        action: CreateAction,
        asked: Asked,
    ) -> Result<Granted, NtStatus> {
        let Asked {
            desired,
            share_granted,
            share_max,
            explicit,
            overwrites,
            stream,
        } = asked;
        let as_share = Granted {
            access: share_granted,
            maximal: share_max,
        };
        if self.bypass && explicit.is_none() {
            return Ok(as_share);
        }
        let (tree, path, token) = (
            Arc::clone(&self.tree),
            self.path.clone(),
            self.token.clone(),
        );
        let (file, stat, bypass) = (Arc::clone(file), stat.clone(), self.bypass);
        let parent = self.parent.clone();
        run_as(&tree.unix.clone(), move || {
            let stored_sd = stored(policy(&tree), &file);
            // A new stream of a file that already has a descriptor keeps that one.
            if action == CreateAction::Created && !(stream && stored_sd.is_some()) {
                let parent = parent.unwrap_or_else(|| parent_sd(&tree, &path, false));
                let sd = inherit_new(
                    &tree,
                    &path,
                    &token,
                    &file,
                    &stat,
                    explicit.as_ref(),
                    parent,
                );
                return Ok(Granted {
                    maximal: match sd {
                        Some(sd) if !bypass => maximal_access(&sd, &token) & share_max,
                        _ => share_max,
                    },
                    ..as_share
                });
            }
            let Some(sd) = stored_sd.filter(|_| !bypass) else {
                return Ok(as_share);
            };
            // FILE_READ_ATTRIBUTES is never refused (as Samba); DELETE may come from the parent.
            let mut maximal = maximal_access(&sd, &token) | FILE_READ_ATTRIBUTES;
            if maximal & DELETE == 0 && parent_grants_delete(&tree, &path, &token) {
                maximal |= DELETE;
            }
            let wanted = map_generic(desired) & !MAXIMUM_ALLOWED;
            // Overwriting or superseding the data needs FILE_WRITE_DATA (MS-FSA 2.1.5.1.2).
            let required = wanted | if overwrites { FILE_WRITE_DATA } else { 0 };
            if required & !maximal != 0 {
                return Err(NtStatus::ACCESS_DENIED);
            }
            let access = if desired & MAXIMUM_ALLOWED != 0 {
                (maximal & share_max) | wanted
            } else {
                wanted
            };
            if access == 0 {
                return Err(NtStatus::ACCESS_DENIED);
            }
            Ok(Granted {
                access,
                maximal: maximal & share_max,
            })
        })
        .await
    }
}

fn policy(tree: &Tree) -> AclPolicy {
    tree.share.acls
}

/// The parent directory's stored descriptor (or, with `synthesized`, the one its mode gives when none
/// is stored); `None` for the share root or a parent that cannot be opened (blocking).
fn parent_sd(tree: &Tree, path: &SmbPath, synthesized: bool) -> Option<SecurityDescriptor> {
    let (parent, _) = path.parent_and_name()?;
    let request = vfs::CreateRequest::existing_directory();
    let (dir, _) = tree.vfs().ok()?.create(&parent, &request).ok()?;
    match stored(policy(tree), &dir) {
        Some(sd) => Some(sd),
        None if synthesized => dir.stat().ok().map(|st| synthesize(&st)),
        None => None,
    }
}

/// Whether the parent grants FILE_DELETE_CHILD (MS-FSA 2.1.5.1.2.1): DELETE on a child then follows.
fn parent_grants_delete(tree: &Tree, path: &SmbPath, token: &Token) -> bool {
    parent_sd(tree, path, true)
        .is_some_and(|sd| maximal_access(&sd, token) & FILE_DELETE_CHILD != 0)
}

/// Gives a new object the descriptor it inherits from its parent's stored one, `parent` (with `explicit`
/// merged in), and stores it; returns it, or `None` when it inherits nothing (it then shows its POSIX
/// permissions). A descriptor that cannot be stored is logged: the object exists by now.
fn inherit_new(
    tree: &Tree,
    path: &SmbPath,
    token: &Token,
    file: &vfs::OpenFile,
    stat: &vfs::FileStat,
    explicit: Option<&SecurityDescriptor>,
    parent: Option<SecurityDescriptor>,
) -> Option<SecurityDescriptor> {
    let p = policy(tree);
    if !p.store {
        return None;
    }
    let parent = parent.unwrap_or_default();
    let owner = parent
        .owner
        .clone()
        .filter(|_| p.inherit_owner)
        .unwrap_or_else(|| token.user.clone());
    let creator = Creator {
        owner,
        group: well_known::unix_group(stat.gid),
        is_container: stat.is_dir,
        explicit,
    };
    let sd = inherit::create(&parent, &creator)?;
    if let Err(status) = store(file, &sd) {
        tracing::warn!(?status, path = %path, "cannot store the descriptor of a new object");
    }
    Some(sd)
}
