//! The second half of CREATE (MS-SMB2 3.3.5.9 from the share-mode check on; MS-FSA 2.1.5.1.2): the
//! file is open on disk, and the open now attaches to its file node, which grants an oplock or breaks
//! the oplocks of other opens first. While breaks are outstanding the CREATE waits asynchronously
//! (an interim response, then the final one when the holders acknowledge, close or time out), so the
//! holder's acknowledgment can arrive on the same connection. Then the data are overwritten if asked,
//! the open is registered and the response is built. Everything is owned, so the same code finishes a
//! CREATE at once or from its pending operation.

use crate::blocking::run_as;
use crate::breaks::{self, BreakTarget};
use crate::conn::Conn;
use crate::files::{Attach, FileNode, Grant, LeaseId, LeaseRequest, Opener, OplockPolicy};
use crate::open::Open;
use crate::oplock::NewOpen;
use crate::pending::{CancelReason, Cancelled, Final};
use crate::replay::ReplayEligible;
use crate::session::Tree;
use proto::create_context::{self as cc, LeaseContext, LeaseV2, OwnedCreateContext};
use proto::durable::DurableContext;
use proto::messages::change_notify::completion_filter as cf;
use proto::messages::create::{create_action, CreateResponse};
use proto::messages::Body;
use proto::{FileId, NtStatus};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::time::Instant;
use vfs::CreateAction;

/// A CREATE whose file is open on disk, before it is attached to its file node.
pub struct Opening {
    pub conn: Arc<Conn>,
    pub session_id: u64,
    pub tree: Arc<Tree>,
    pub path: vfs::SmbPath,
    pub file: Arc<vfs::OpenFile>,
    pub action: CreateAction,
    pub stat: vfs::FileStat,
    pub id: u64,
    pub access: u32,
    pub share_access: u32,
    pub disposition: u32,
    pub delete_on_close: bool,
    pub allocation: Result<Option<u64>, NtStatus>,
    /// The EAs of an ExtA context, set on a new or overwritten file.
    pub eas: Option<crate::eas::EaList>,
    pub oplock: NewOpen,
    /// The RqLs context, when a lease was asked for and leasing is on.
    pub lease: Option<LeaseContext>,
    /// The connection's ClientGuid (a lease is named by it and its key).
    pub client_guid: proto::Guid,
    /// The connection negotiated directory leasing (SMB2_GLOBAL_CAP_DIRECTORY_LEASING).
    pub dir_leasing: bool,
    pub target: BreakTarget,
    /// Create contexts answered with the response (MxAc, QFid).
    pub contexts: Vec<OwnedCreateContext>,
    /// The durable handle context (DHnQ or DH2Q), when asked for.
    pub durable: Option<proto::durable::DurableContext>,
    /// The AppInstanceId context (MS-SMB2 3.3.5.9.13), when given.
    pub app_instance: Option<crate::app_instance::AppInstance>,
}

/// Attached to the file node, or waiting for breaks to end.
pub enum Step {
    Attached(Arc<FileNode>, Grant),
    Wait(watch::Receiver<()>, Instant),
}

impl Opening {
    pub fn file_id(&self) -> FileId {
        FileId {
            persistent: self.id,
            volatile: self.id,
        }
    }

    /// Try to attach (`retry`: again, after waiting for breaks); the break notifications this
    /// causes are sent at once. Disconnected durable opens in the way are closed first.
    pub async fn attach(&self, retry: bool) -> Result<Step, NtStatus> {
        let opener = self.opener(retry);
        let key = crate::files::key_of(&self.stat);
        self.clear_the_way().await;
        match self.conn.server.files.attach(key, opener, Instant::now())? {
            Attach::Granted {
                node,
                grant,
                notices,
            } => {
                breaks::send(&self.conn.server, notices);
                Ok(Step::Attached(node, grant))
            }
            Attach::Wait {
                changed,
                deadline,
                notices,
            } => {
                breaks::send(&self.conn.server, notices);
                Ok(Step::Wait(changed, deadline))
            }
        }
    }

    /// Close the disconnected durable opens in this open's way; true if that deleted the file (the
    /// file this CREATE opened is then gone and must be opened again).
    pub async fn clear_the_way(&self) -> bool {
        let key = crate::files::key_of(&self.stat);
        crate::durable::clear_the_way(&self.conn.server, key, &self.opener(false)).await
    }

    /// The file was opened again (the first one was deleted under it): what depends on it follows.
    pub fn reopened(&mut self, file: vfs::OpenFile, action: CreateAction, stat: vfs::FileStat) {
        self.oplock.overwrite =
            matches!(self.disposition, 0 | 4 | 5) && action == CreateAction::Opened;
        self.file = Arc::new(file);
        self.action = action;
        self.stat = stat;
    }

    fn opener(&self, retry: bool) -> Opener {
        let share = &self.tree.share;
        Opener {
            open_id: self.id,
            access: self.access,
            share: self.share_access,
            oplock: self.oplock,
            lease: self.lease.map(|l| LeaseRequest {
                id: LeaseId {
                    client: self.client_guid,
                    key: l.key,
                },
                state: l.state,
                v2_epoch: l.v2.map(|v| v.epoch),
                parent: self.parent_key(),
            }),
            target: Some(self.target.clone()),
            dir: self.stat.is_dir,
            retry,
            policy: OplockPolicy {
                // A directory gets a version 2 lease when directory leasing was negotiated, nothing else.
                enabled: share.oplocks
                    && (!self.stat.is_dir
                        || self.dir_leasing && self.lease.is_some_and(|l| l.v2.is_some()))
                    && !share.names.is_oplock_vetoed(self.path.file_name()),
                level2: share.level2_oplocks,
                break_timeout: self.conn.server.settings.oplock_break_timeout,
            },
        }
    }

    /// The pending CREATE: wait for the breaks to end (or time out), attach, finish. Cancellation
    /// ends it with STATUS_CANCELLED (nothing when the connection is gone).
    pub async fn wait(
        self,
        changed: watch::Receiver<()>,
        deadline: Instant,
        mut cancelled: Cancelled,
    ) -> Option<Final> {
        let server = Arc::clone(&self.conn.server);
        let session_id = self.session_id;
        let work = self.attach_after(changed, deadline);
        tokio::pin!(work);
        let ended = tokio::select! {
            r = &mut work => Ok(r),
            reason = cancelled.reason() => Err(reason),
        };
        let result = match ended {
            Ok(r) => r,
            // Its connection is gone but the session may go on over another channel (multichannel):
            // the open is still made for the session, so a replay on that channel finds it.
            Err(CancelReason::ConnectionLost) => {
                if server.sessions.get_any(session_id).is_some() {
                    let _ = work.await;
                }
                return None;
            }
            Err(_) => Err(NtStatus::CANCELLED),
        };
        Some(match result {
            Ok(resp) => Final::with_body(NtStatus::SUCCESS, |w, start| resp.encode(w, start)),
            Err(status) => Final::error(status),
        })
    }

    /// Wait for the breaks to end (or time out), attach and finish.
    pub async fn attach_after(
        self,
        mut changed: watch::Receiver<()>,
        mut deadline: Instant,
    ) -> Result<CreateResponse, NtStatus> {
        loop {
            // A closed sender means the node went away with its last open: try again at once.
            let _ = tokio::time::timeout_at(deadline, changed.changed()).await;
            match self.attach(true).await? {
                Step::Attached(node, grant) => return self.finish(node, grant).await,
                Step::Wait(c, d) => (changed, deadline) = (c, d),
            }
        }
    }

    /// Overwrite the data if asked, register the open, and build the response.
    pub async fn finish(
        mut self,
        node: Arc<FileNode>,
        grant: Grant,
    ) -> Result<CreateResponse, NtStatus> {
        let level = reply_level(self.lease, grant, &mut self.contexts);
        let server = Arc::clone(&self.conn.server);
        let parent = self.parent_key();
        let overwrite =
            matches!(self.disposition, 0 | 4 | 5) && self.action == CreateAction::Opened;
        let finished = finish_data(&self, overwrite).await;
        let (action, stat) = finished.inspect_err(|_| {
            server.files.detach(&node, self.id);
        })?;
        let file_id = self.file_id();
        let durable = self.durability(grant, stat.is_dir);
        let replay = match self.durable {
            Some(DurableContext::RequestV2 { create_guid, .. }) => Some(ReplayEligible {
                create_guid,
                create_action: action,
            }),
            _ => None,
        };
        if let Some(d) = &durable {
            self.contexts.push(d.response());
        }
        let open = Arc::new(Open {
            file_id,
            session_id: self.session_id,
            tree: Arc::clone(&self.tree),
            unix: Arc::clone(&self.tree.unix),
            is_dir: stat.is_dir,
            file: self.file,
            node,
            path: Mutex::new(self.path.clone()),
            granted_access: self.access,
            delete_on_close: AtomicBool::new(self.delete_on_close),
            position: AtomicU64::new(0),
            mode: AtomicU32::new(0),
            next_ea: AtomicU32::new(0),
            search: Mutex::new(None),
            busy: Arc::new(tokio::sync::RwLock::new(())),
            watch: Mutex::new(None),
            parent_lease: parent,
            written: AtomicBool::new(false),
            durable,
            lock_sequences: Mutex::new([None; 64]),
            resilient: AtomicBool::new(false),
            replay_eligible: AtomicBool::new(replay.is_some()),
            channel_sequence: std::sync::atomic::AtomicU16::new(0),
            resume_secret: std::sync::OnceLock::new(),
            app_instance: self.app_instance,
            replay,
        });
        // The session's connection now: this CREATE's own, unless that was lost meanwhile and the
        // session went on over another channel.
        let session = server.sessions.get_any(self.session_id);
        let home = session.as_ref().map_or(self.conn.id, |(c, _)| *c);
        server
            .opens
            .insert(home, self.id, Arc::clone(&open), usize::MAX);
        let gone = match session.map(|(_, s)| s) {
            None => Some(NtStatus::USER_SESSION_DELETED),
            Some(s)
                if !s
                    .tree(self.tree.id)
                    .is_some_and(|t| Arc::ptr_eq(&t, &self.tree)) =>
            {
                Some(NtStatus::NETWORK_NAME_DELETED)
            }
            Some(_) => None,
        };
        if let Some(status) = gone {
            // The session or tree connect ended while this CREATE waited: the open goes with it.
            if server.opens.remove(self.id).is_some() {
                crate::lifecycle::close(&self.conn, &open, CancelReason::TreeClosed).await;
            }
            return Err(status);
        }
        if stat.is_dir && matches!(grant, Grant::Lease { state, .. } if state != 0) {
            crate::notify::watch_leased_dir(&server, &open);
        }
        match action {
            create_action::CREATED => {
                crate::notify::added(&server, &self.tree, &self.path, stat.is_dir);
                crate::breaks::dir_changed(&server, &self.tree, &self.path, parent);
            }
            create_action::OVERWRITTEN | create_action::SUPERSEDED => {
                crate::notify::modified(&server, &open, cf::SIZE | cf::LAST_WRITE | cf::ATTRIBUTES)
            }
            _ => {}
        }
        Ok(create_response(
            &self.tree,
            &self.path,
            &stat,
            (action, level),
            file_id,
            self.contexts,
        ))
    }
}

impl Opening {
    /// The parent directory's lease key the request names (version 2, PARENT_LEASE_KEY_SET).
    fn parent_key(&self) -> Option<[u8; 16]> {
        parent_key(self.lease)
    }

    /// The durability the CREATE asked for and gets (MS-SMB2 3.3.5.9.6, 3.3.5.9.10).
    fn durability(&self, grant: Grant, is_dir: bool) -> Option<crate::durable::Durability> {
        let asked = self.durable.filter(|_| self.tree.share.durable_handles)?;
        // The session, wherever it is now (its channel may have been lost while this CREATE waited).
        let (_, session) = self.conn.server.sessions.get_any(self.session_id)?;
        let auth = session.lock().auth.clone()?;
        crate::durable::Durability::grant(
            Some(asked),
            &auth,
            is_dir,
            grant.caches_handle(),
            self.conn.server.settings.durable_handle_timeout,
        )
    }
}

/// The parent lease key of a lease request (version 2, PARENT_LEASE_KEY_SET).
fn parent_key(lease: Option<LeaseContext>) -> Option<[u8; 16]> {
    let l = lease?;
    l.v2.filter(|_| l.flags & cc::lease_flags::PARENT_LEASE_KEY_SET != 0)
        .map(|v| v.parent_key)
}

/// The OplockLevel of a CREATE response for `grant`; a lease adds its RqLs response to `contexts`.
pub fn reply_level(
    lease: Option<LeaseContext>,
    grant: Grant,
    contexts: &mut Vec<OwnedCreateContext>,
) -> u8 {
    match grant {
        Grant::Oplock(level) => level.to_wire(),
        Grant::Lease {
            state,
            epoch,
            breaking,
            v2,
        } => {
            contexts.push(lease_response(lease, state, epoch, breaking, v2));
            proto::messages::create::oplock_level::LEASE
        }
    }
}

/// The RqLs response (MS-SMB2 2.2.14.2.10 and .11), in the version of the lease; a parent key is
/// echoed only when the request set it.
fn lease_response(
    lease: Option<LeaseContext>,
    state: u32,
    epoch: u16,
    breaking: bool,
    v2: bool,
) -> OwnedCreateContext {
    let req = lease.unwrap_or_default();
    let parent = parent_key(lease);
    let mut flags = if breaking {
        cc::lease_flags::BREAK_IN_PROGRESS
    } else {
        0
    };
    if parent.is_some() {
        flags |= cc::lease_flags::PARENT_LEASE_KEY_SET;
    }
    let v2 = v2.then(|| LeaseV2 {
        parent_key: parent.unwrap_or_default(),
        epoch,
    });
    let data = LeaseContext {
        key: req.key,
        state,
        flags,
        v2,
    }
    .encode();
    OwnedCreateContext::new(cc::name::REQUEST_LEASE, &data)
}

/// A CREATE response for the file `path` of `tree` as `stat` describes it; `reply` is the
/// CreateAction and OplockLevel.
pub fn create_response(
    tree: &Tree,
    path: &vfs::SmbPath,
    stat: &vfs::FileStat,
    reply: (u32, u8),
    file_id: FileId,
    contexts: Vec<OwnedCreateContext>,
) -> CreateResponse {
    let (create_action, oplock_level) = reply;
    CreateResponse {
        oplock_level,
        flags: 0,
        create_action,
        creation_time: stat.creation_time,
        last_access_time: stat.last_access_time,
        last_write_time: stat.last_write_time,
        change_time: stat.change_time,
        allocation_size: stat.alloc_size,
        end_of_file: stat.end_of_file(),
        file_attributes: tree.share.names.attributes(stat, path.file_name()),
        file_id,
        contexts,
    }
}

/// After the share-mode check passed: overwrite or supersede an existing file, and apply a requested
/// allocation size and the EAs of an ExtA context to a new or overwritten one. Returns the CreateAction
/// code and the file's final stat. A new file whose EAs cannot be set is removed again, so the failed
/// CREATE leaves nothing behind.
async fn finish_data(o: &Opening, overwrite: bool) -> Result<(u32, vfs::FileStat), NtStatus> {
    let (stat, action) = (o.stat.clone(), o.action);
    let fresh = overwrite || action != CreateAction::Opened;
    let allocation = o.allocation?.filter(|_| !stat.is_dir && fresh);
    let eas = o.eas.clone().filter(|_| fresh);
    if !overwrite && allocation.is_none() && eas.is_none() {
        return Ok((action.code(), stat));
    }
    let (f, tree, path) = (Arc::clone(&o.file), Arc::clone(&o.tree), o.path.clone());
    let created = action == CreateAction::Created;
    let stat = run_as(&o.tree.unix, move || {
        if overwrite {
            if f.is_dir() {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            f.overwrite()?;
        }
        if let Some(size) = allocation {
            f.allocate(size)?;
        }
        if let Some(list) = &eas {
            crate::eas::set_file(&f, list).inspect_err(|_| {
                if created {
                    let removed = tree.vfs().and_then(|v| v.unlink(&path, f.is_dir()));
                    if let Err(e) = removed {
                        tracing::warn!(%path, ?e, "cannot remove a new file whose EAs failed");
                    }
                }
            })?;
        }
        f.stat()
    })
    .await?;
    let code = match (overwrite, o.disposition) {
        (false, _) => action.code(),
        (true, 0) => create_action::SUPERSEDED,
        (true, _) => create_action::OVERWRITTEN,
    };
    Ok((code, stat))
}
