//! Client caching on one file: the oplock of each open and the leases its opens share, granted and
//! broken under the file node's lock together with the share-mode check they depend on (MS-FSA
//! 2.1.5.1.2 and 2.1.4.12; the rules are in [`crate::oplock`] and [`crate::lease`]).
//!
//! Attaching a new open goes through three steps: expire breaks past their deadline; compute what the
//! new open does to every other open's oplock and every other lease (break and wait, break at once,
//! keep), which also settles whether a sharing violation stands or must wait for a break of handle
//! caching; then grant the new open its oplock or lease.

use super::{conflicts, lock, FileKey, FileNode, Holder, NodeState};
use crate::breaks::{BreakTarget, Notice, NoticeKind};
use crate::lease::{self, Lease, LeaseKey};
use crate::oplock::{self, Held, NewOpen, OplockLevel};
use proto::{Guid, NtStatus};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

/// A lease's identity: ClientGuid and LeaseKey (MS-SMB2 3.3.1.4 LeaseTable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseId {
    pub client: Guid,
    pub key: LeaseKey,
}

/// How an open caches the file.
#[derive(Clone, Copy, Debug)]
pub(super) enum Caching {
    Oplock(Held),
    /// Under the node's lease record with this id.
    Lease(LeaseId),
}

/// A lease granted on this file and shared by its opens.
#[derive(Clone, Debug)]
pub(super) struct LeaseRecord {
    pub id: LeaseId,
    pub lease: Lease,
    /// Its version, fixed when it was granted: responses and breaks use it whatever a later
    /// request's context is (smbtorture smb2.lease.v2_epoch2, v2_epoch3).
    pub v2: bool,
}

/// How the share grants oplocks and leases (`oplocks`, `level2 oplocks`, `oplock break timeout`).
#[derive(Clone, Copy, Debug)]
pub struct OplockPolicy {
    pub enabled: bool,
    pub level2: bool,
    pub break_timeout: Duration,
}

/// A lease asked for by a CREATE (its RqLs context).
#[derive(Clone, Copy, Debug)]
pub struct LeaseRequest {
    pub id: LeaseId,
    pub state: lease::State,
    /// Version 2: the client's epoch.
    pub v2_epoch: Option<u16>,
    /// Version 2: the lease key of the parent directory's lease (ParentLeaseKey, when set).
    pub parent: Option<LeaseKey>,
}

/// An open asking to be attached to its file.
#[derive(Clone, Debug)]
pub struct Opener {
    pub open_id: u64,
    pub access: u32,
    pub share: u32,
    pub oplock: NewOpen,
    pub lease: Option<LeaseRequest>,
    pub target: Option<BreakTarget>,
    pub policy: OplockPolicy,
    /// A directory: only its (version 2) lease is granted, R or RH.
    pub dir: bool,
    /// The open already waited for a break and tries again.
    pub retry: bool,
}

/// What the new open was granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    Oplock(OplockLevel),
    Lease {
        state: lease::State,
        epoch: u16,
        breaking: bool,
        v2: bool,
    },
}

/// Breaks an operation must wait for: until `changed` fires or `deadline`, whichever is first; the
/// notices must be sent first.
#[derive(Debug)]
pub struct Pause {
    pub changed: watch::Receiver<()>,
    pub deadline: Instant,
    pub notices: Vec<Notice>,
}

/// The outcome of attaching; either way the notices must be sent.
#[derive(Debug)]
pub enum Attach {
    /// The open is attached.
    Granted {
        node: Arc<FileNode>,
        grant: Grant,
        notices: Vec<Notice>,
    },
    /// Breaks are outstanding: try again once `changed` fires or at `deadline`, whichever is first.
    Wait {
        changed: watch::Receiver<()>,
        deadline: Instant,
        notices: Vec<Notice>,
    },
}

/// Whether a holder caches anything now.
fn has_caching(st: &NodeState, h: &Holder) -> bool {
    match h.caching {
        Caching::Oplock(held) => held.level > OplockLevel::None,
        Caching::Lease(id) => st.leases.iter().any(|l| l.id == id && l.lease.state != 0),
    }
}

/// The target of a lease's breaks: its oldest open ([`crate::breaks::send`] sends them to the client's
/// oldest connection when no encryption ties them to this open's).
fn lease_target(holders: &[Holder], id: LeaseId) -> Option<&BreakTarget> {
    holders
        .iter()
        .find(|h| lease_of(h) == Some(id))
        .and_then(|h| h.target.as_ref())
}

/// The lease of a holder, if it has one.
pub(super) fn lease_of(h: &Holder) -> Option<LeaseId> {
    match h.caching {
        Caching::Lease(id) => Some(id),
        Caching::Oplock(_) => None,
    }
}

impl NodeState {
    /// Take every break past its deadline to where it was going (MS-SMB2 3.3.6.1).
    fn expire(&mut self, now: Instant) {
        for h in self.holders.iter_mut() {
            if let Caching::Oplock(held) = &mut h.caching {
                held.expire(now);
            }
        }
        for l in self.leases.iter_mut() {
            l.lease.expire(now);
        }
    }

    /// The earliest deadline of the breaks in progress.
    fn next_deadline(&self) -> Option<Instant> {
        let oplocks = self.holders.iter().filter_map(|h| match h.caching {
            Caching::Oplock(held) => held.breaking.map(|b| b.deadline),
            Caching::Lease(_) => None,
        });
        let leases = self
            .leases
            .iter()
            .filter_map(|l| l.lease.breaking.map(|b| b.deadline));
        oplocks.chain(leases).min()
    }

    fn lease_mut(&mut self, id: LeaseId) -> Option<&mut LeaseRecord> {
        self.leases.iter_mut().find(|l| l.id == id)
    }
}

/// What a new open's breaks decided.
#[derive(Default)]
struct Breaks {
    notices: Vec<Notice>,
    wait: bool,
    violation: bool,
}

impl FileNode {
    pub(super) fn attach(self: Arc<Self>, o: Opener, now: Instant) -> Result<Attach, NtStatus> {
        let mut st = lock(&self.state);
        if st.delete_pending {
            return Err(NtStatus::DELETE_PENDING);
        }
        st.expire(now);
        let b = break_for_open(&mut st, &o, now);
        if b.wait {
            return Ok(Attach::Wait {
                changed: self.changed.subscribe(),
                deadline: st.next_deadline().unwrap_or(now + o.policy.break_timeout),
                notices: b.notices,
            });
        }
        if b.violation {
            return Err(NtStatus::SHARING_VIOLATION);
        }
        let grant = grant(&mut st, &o);
        drop(st);
        Ok(Attach::Granted {
            node: self,
            grant,
            notices: b.notices,
        })
    }

    /// A write, byte-range lock or size change through open `by`: level II oplocks break to none
    /// (the writer's own included, as Windows does) and so do the leases other than the writer's;
    /// those that need an acknowledgment get `timeout` for it.
    pub fn data_changed(&self, by: u64, timeout: Duration) -> Vec<Notice> {
        let mut notices = Vec::new();
        let mut st = lock(&self.state);
        let now = Instant::now();
        let writer = st
            .holders
            .iter()
            .find(|h| h.open_id == by)
            .and_then(lease_of);
        for h in st.holders.iter_mut() {
            if let Caching::Oplock(held) = &mut h.caching {
                let effect = held.effect_of_data_change();
                oplock_apply(
                    held,
                    h.target.as_ref(),
                    effect,
                    now,
                    Duration::ZERO,
                    &mut notices,
                );
            }
        }
        break_leases(
            &mut st,
            |id| Some(*id) != writer,
            now,
            timeout,
            &mut notices,
        );
        notices
    }

    /// A rename through open `by` (or, with `by` none, over this file): the leases of other opens
    /// lose handle caching, since a cached handle would keep the name in use (MS-FSA 2.1.5.15.12;
    /// smbtorture smb2.lease.rename_wait, v2_rename). Returns what the rename must wait for.
    pub fn break_handle_caching(
        &self,
        by: Option<u64>,
        now: Instant,
        timeout: Duration,
    ) -> Option<Pause> {
        let mut st = lock(&self.state);
        st.expire(now);
        let own = by.and_then(|id| {
            st.holders
                .iter()
                .find(|h| h.open_id == id)
                .and_then(lease_of)
        });
        let mut notices = Vec::new();
        let mut wait = false;
        let NodeState {
            holders, leases, ..
        } = &mut *st;
        for l in leases
            .iter_mut()
            .filter(|l| Some(l.id) != own && l.lease.state & lease::H != 0)
        {
            let Some(target) = lease_target(holders, l.id) else {
                continue;
            };
            wait = true;
            if l.lease.breaking.is_none() {
                let effect = lease::Effect::BreakAndWait(l.lease.state & !lease::H);
                lease_apply(l, Some(target), effect, now, timeout, &mut notices);
            }
        }
        wait.then(|| Pause {
            changed: self.changed.subscribe(),
            deadline: st.next_deadline().unwrap_or(now + timeout),
            notices,
        })
    }

    /// Something in this directory changed (an entry added, removed or renamed): its leases lose
    /// everything, except the lease named as the changing open's parent lease key (MS-SMB2
    /// 3.3.4.7; smbtorture smb2.lease.v2_request). Nobody waits for the acknowledgments.
    pub fn child_changed(
        &self,
        parent: Option<LeaseKey>,
        now: Instant,
        timeout: Duration,
    ) -> Vec<Notice> {
        let mut notices = Vec::new();
        let mut st = lock(&self.state);
        st.expire(now);
        break_leases(
            &mut st,
            |id| Some(id.key) != parent,
            now,
            timeout,
            &mut notices,
        );
        notices
    }

    /// An oplock break acknowledgment from open `open_id` (MS-SMB2 3.3.5.22.1).
    pub fn acknowledge(
        &self,
        open_id: u64,
        level: Option<OplockLevel>,
        now: Instant,
    ) -> Result<OplockLevel, NtStatus> {
        let mut st = lock(&self.state);
        let h = st
            .holders
            .iter_mut()
            .find(|h| h.open_id == open_id)
            .ok_or(NtStatus::FILE_CLOSED)?;
        let Caching::Oplock(held) = &mut h.caching else {
            // An oplock acknowledgment for an open that holds a lease.
            return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
        };
        held.expire(now);
        let result = held.acknowledge(level);
        drop(st);
        self.changed.send_replace(());
        result
    }

    /// A lease break acknowledgment (MS-SMB2 3.3.5.22.2); returns the state acknowledged and the
    /// notice of the break's next step, if opens that came meanwhile need one.
    pub(super) fn acknowledge_lease(
        &self,
        id: LeaseId,
        state: lease::State,
        now: Instant,
        timeout: Duration,
    ) -> Result<(lease::State, Option<Notice>), NtStatus> {
        let mut st = lock(&self.state);
        let NodeState {
            holders, leases, ..
        } = &mut *st;
        let record = leases
            .iter_mut()
            .find(|l| l.id == id)
            .ok_or(NtStatus::OBJECT_NAME_NOT_FOUND)?;
        record.lease.expire(now);
        let result = record.lease.acknowledge(state, now, timeout);
        let notice = match result {
            Ok((_, Some(step))) => lease_target(holders, id)
                .map(|t| lease_notice(record, t, step.from, step.to, step.ack_required)),
            _ => None,
        };
        drop(st);
        self.changed.send_replace(());
        result.map(|(state, _)| (state, notice))
    }

    /// How open `open_id` caches the file now, as `rsmbd status` shows it.
    pub fn caching(&self, open_id: u64) -> String {
        let st = lock(&self.state);
        match st.holders.iter().find(|h| h.open_id == open_id) {
            Some(Holder {
                caching: Caching::Oplock(held),
                ..
            }) => held.level.name().to_owned(),
            Some(Holder {
                caching: Caching::Lease(id),
                ..
            }) => st
                .leases
                .iter()
                .find(|l| l.id == *id)
                .map_or_else(String::new, |l| {
                    format!("lease {}", lease::name(l.lease.state))
                }),
            None => String::new(),
        }
    }

    /// The oplock level of open `open_id` (none for an open under a lease).
    pub fn oplock(&self, open_id: u64) -> OplockLevel {
        lock(&self.state)
            .holders
            .iter()
            .find(|h| h.open_id == open_id)
            .map_or(OplockLevel::None, |h| match h.caching {
                Caching::Oplock(held) => held.level,
                Caching::Lease(_) => OplockLevel::None,
            })
    }
}

/// Break the leases `which` selects to none, as a change of the data or of a directory's entries
/// does (nobody waits for the acknowledgments).
fn break_leases(
    st: &mut NodeState,
    which: impl Fn(&LeaseId) -> bool,
    now: Instant,
    timeout: Duration,
    notices: &mut Vec<Notice>,
) {
    let NodeState {
        holders, leases, ..
    } = st;
    for l in leases.iter_mut().filter(|l| which(&l.id)) {
        let effect = l.lease.effect_of_data_change();
        let target = lease_target(holders, l.id);
        lease_apply(l, target, effect, now, timeout, notices);
    }
}

/// Apply the new open's effect on every other open's oplock and every other lease.
fn break_for_open(st: &mut NodeState, o: &Opener, now: Instant) -> Breaks {
    let timeout = o.policy.break_timeout;
    let own = o.lease.map(|l| l.id);
    let mut b = Breaks::default();
    let mut lease_conflicts: Vec<LeaseId> = Vec::new();
    for h in st.holders.iter_mut() {
        let conflict = conflicts(h, o.access, o.share);
        match &mut h.caching {
            Caching::Oplock(held) => {
                let effect = held.effect_of_open(&o.oplock, conflict);
                b.violation |= conflict && effect == oplock::Effect::Keep;
                b.wait |= matches!(
                    effect,
                    oplock::Effect::Wait | oplock::Effect::BreakAndWait(_)
                );
                oplock_apply(
                    held,
                    h.target.as_ref(),
                    effect,
                    now,
                    timeout,
                    &mut b.notices,
                );
            }
            Caching::Lease(id) if Some(*id) == own => b.violation |= conflict,
            Caching::Lease(id) => {
                if conflict && !lease_conflicts.contains(id) {
                    lease_conflicts.push(*id);
                }
            }
        }
    }
    let NodeState {
        holders, leases, ..
    } = st;
    for l in leases.iter_mut() {
        let Some(target) = lease_target(holders, l.id) else {
            continue;
        };
        if Some(l.id) == own {
            continue;
        }
        let conflict = lease_conflicts.contains(&l.id);
        let effect = l.lease.effect_of_open(&o.oplock, conflict, o.retry);
        b.violation |= conflict && !effect.waits();
        b.wait |= effect.waits();
        lease_apply(l, Some(target), effect, now, timeout, &mut b.notices);
    }
    b
}

/// Grant the new open its oplock or lease and add it to the holders.
fn grant(st: &mut NodeState, o: &Opener) -> Grant {
    let own = o.lease.map(|l| l.id);
    let others = || {
        st.holders
            .iter()
            .filter(|h| own.is_none() || lease_of(h) != own)
    };
    // Another open that is more than a stat open, or one that caches, shares the file.
    let touch_data = others().any(|h| !oplock::is_stat_open(h.access) || has_caching(st, h));
    let hold_oplock = others()
        .any(|h| matches!(h.caching, Caching::Oplock(held) if held.level > OplockLevel::None));
    let handle_leases = st
        .leases
        .iter()
        .any(|l| Some(l.id) != own && l.lease.state & lease::H != 0);
    let enabled = o.policy.enabled && o.target.is_some();
    let (caching, grant) = match (o.lease, &o.target) {
        (Some(req), Some(_)) if enabled => {
            let mut allowed = lease::allowed(touch_data, hold_oplock);
            if o.dir {
                // A directory's contents are not cached for writing (MS-SMB2 3.3.5.9.11).
                allowed &= !lease::W;
            }
            (Caching::Lease(req.id), lease_record(st, req, allowed))
        }
        _ => {
            let level = if !enabled || handle_leases {
                OplockLevel::None
            } else {
                oplock::grant(&o.oplock, touch_data, o.policy.level2)
            };
            (Caching::Oplock(Held::granted(level)), Grant::Oplock(level))
        }
    };
    st.holders.push(Holder {
        open_id: o.open_id,
        access: o.access,
        share: o.share,
        caching,
        target: o.target.clone(),
        disconnected: false,
    });
    grant
}

/// Create or upgrade the node's record of the requested lease; returns what it now grants.
fn lease_record(st: &mut NodeState, req: LeaseRequest, allowed: lease::State) -> Grant {
    if st.lease_mut(req.id).is_none() {
        // MS-SMB2 3.3.5.9.11: a new version 2 lease starts one past the client's epoch.
        let epoch = req.v2_epoch.map_or(0, |e| e.wrapping_add(1));
        st.leases.push(LeaseRecord {
            id: req.id,
            lease: Lease::new(lease::valid(req.state & allowed), epoch),
            v2: req.v2_epoch.is_some(),
        });
    }
    match st.lease_mut(req.id) {
        Some(record) => {
            record.lease.upgrade(req.state, allowed);
            Grant::Lease {
                state: record.lease.state,
                epoch: record.lease.epoch,
                breaking: record.lease.breaking.is_some(),
                v2: record.v2,
            }
        }
        None => Grant::Oplock(OplockLevel::None),
    }
}

fn oplock_apply(
    held: &mut Held,
    target: Option<&BreakTarget>,
    effect: oplock::Effect,
    now: Instant,
    timeout: Duration,
    out: &mut Vec<Notice>,
) {
    let to = match effect {
        oplock::Effect::BreakAndWait(to) => to,
        oplock::Effect::BreakNow => OplockLevel::None,
        oplock::Effect::Keep | oplock::Effect::Wait => return,
    };
    held.apply(effect, now, timeout);
    if let Some(target) = target {
        out.push(Notice {
            target: target.clone(),
            kind: NoticeKind::Oplock(to),
        });
    }
}

fn lease_apply(
    l: &mut LeaseRecord,
    target: Option<&BreakTarget>,
    effect: lease::Effect,
    now: Instant,
    timeout: Duration,
    out: &mut Vec<Notice>,
) {
    let (to, ack_required) = match effect {
        lease::Effect::BreakAndWait(to) | lease::Effect::BreakAck(to) => (to, true),
        lease::Effect::BreakNow(to) => (to, false),
        lease::Effect::Keep | lease::Effect::Pending { .. } => {
            l.lease.apply(effect, now, timeout);
            return;
        }
    };
    let current = l.lease.state;
    l.lease.apply(effect, now, timeout);
    if let Some(target) = target {
        out.push(lease_notice(l, target, current, to, ack_required));
    }
}

/// The notification of lease `l`'s break from `current` to `new`, with the lease's epoch.
fn lease_notice(
    l: &LeaseRecord,
    target: &BreakTarget,
    current: lease::State,
    new: lease::State,
    ack_required: bool,
) -> Notice {
    Notice {
        target: target.clone(),
        kind: NoticeKind::Lease {
            client: l.id.client,
            key: l.id.key,
            current,
            new,
            epoch: if l.v2 { l.lease.epoch } else { 0 },
            ack_required,
        },
    }
}

/// Drop holder `open_id`; returns the lease it leaves behind with no open, if any.
pub(super) fn remove_holder(st: &mut NodeState, open_id: u64) -> Option<LeaseId> {
    let index = st.holders.iter().position(|h| h.open_id == open_id)?;
    let h = st.holders.remove(index);
    let id = lease_of(&h)?;
    if st.holders.iter().any(|o| lease_of(o) == Some(id)) {
        return None;
    }
    st.leases.retain(|l| l.id != id);
    Some(id)
}

/// The file a lease was granted on, as the server-wide lease table knows it.
pub(super) type LeaseFiles = std::collections::HashMap<LeaseId, FileKey>;

#[cfg(test)]
mod tests {
    //! The file node's caching decisions, on tokio's paused clock (no real waiting).
    use super::super::FileTable;
    use super::*;
    use proto::FileId;
    use std::sync::Weak;

    const ALL: u32 = 0x001f_01ff;
    const TIMEOUT: Duration = Duration::from_secs(35);

    fn target(id: u64) -> BreakTarget {
        BreakTarget {
            channel: Weak::new(),
            file_id: FileId {
                persistent: id,
                volatile: id,
            },
            encrypt_for: None,
        }
    }

    fn opener(id: u64, requested: OplockLevel, lease: Option<(u8, lease::State)>) -> Opener {
        Opener {
            open_id: id,
            access: ALL,
            share: 7,
            oplock: NewOpen::new(requested, ALL, false),
            lease: lease.map(|(key, state)| LeaseRequest {
                id: LeaseId {
                    client: [key; 16],
                    key: [key; 16],
                },
                state,
                v2_epoch: Some(5),
                parent: None,
            }),
            target: Some(target(id)),
            policy: OplockPolicy {
                enabled: true,
                level2: true,
                break_timeout: TIMEOUT,
            },
            dir: false,
            retry: false,
        }
    }

    fn granted(a: Attach) -> (Arc<FileNode>, Grant, Vec<Notice>) {
        match a {
            Attach::Granted {
                node,
                grant,
                notices,
            } => (node, grant, notices),
            Attach::Wait { .. } => panic!("expected a grant"),
        }
    }

    fn waits(a: Attach) -> (watch::Receiver<()>, Instant, Vec<Notice>) {
        match a {
            Attach::Wait {
                changed,
                deadline,
                notices,
            } => (changed, deadline, notices),
            Attach::Granted { .. } => panic!("expected to wait"),
        }
    }

    const KEY: FileKey = (9, 9, 0);

    #[tokio::test(start_paused = true)]
    async fn a_close_racing_the_break_lets_the_waiting_open_through() {
        let t = FileTable::default();
        let now = Instant::now();
        let (node, grant, _) = granted(
            t.attach(KEY, opener(1, OplockLevel::Batch, None), now)
                .unwrap(),
        );
        assert_eq!(grant, Grant::Oplock(OplockLevel::Batch));
        let (mut changed, deadline, notices) = waits(
            t.attach(KEY, opener(2, OplockLevel::Batch, None), now)
                .unwrap(),
        );
        assert_eq!(deadline, now + TIMEOUT);
        assert_eq!(notices.len(), 1);
        // The holder closes (or its connection goes) instead of acknowledging.
        t.detach(&node, 1);
        changed.changed().await.unwrap();
        let (_, grant, _) = granted(
            t.attach(KEY, opener(2, OplockLevel::Batch, None), now)
                .unwrap(),
        );
        assert_eq!(grant, Grant::Oplock(OplockLevel::Batch));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unacknowledged_break_expires_at_its_deadline() {
        let t = FileTable::default();
        let now = Instant::now();
        let (node, _, _) = granted(
            t.attach(KEY, opener(1, OplockLevel::Batch, None), now)
                .unwrap(),
        );
        let (_, deadline, _) = waits(
            t.attach(KEY, opener(2, OplockLevel::None, None), now)
                .unwrap(),
        );
        // Before the deadline the open still waits, without a second notice.
        let (_, _, again) = waits(
            t.attach(KEY, opener(2, OplockLevel::None, None), now)
                .unwrap(),
        );
        assert!(again.is_empty());
        tokio::time::advance(TIMEOUT).await;
        let (_, grant, _) = granted(
            t.attach(KEY, opener(2, OplockLevel::None, None), deadline)
                .unwrap(),
        );
        assert_eq!(grant, Grant::Oplock(OplockLevel::None));
        assert_eq!(node.oplock(1), OplockLevel::None);
        assert_eq!(
            node.acknowledge(1, Some(OplockLevel::LevelII), Instant::now()),
            Err(NtStatus::INVALID_OPLOCK_PROTOCOL)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn two_opens_share_one_lease_broken_once_with_ordered_epochs() {
        let t = FileTable::default();
        let now = Instant::now();
        let rwh = lease::R | lease::H | lease::W;
        let (_, first, _) = granted(
            t.attach(KEY, opener(1, OplockLevel::None, Some((1, lease::R))), now)
                .unwrap(),
        );
        // A new version 2 lease starts one past the client's epoch (5); an upgrade counts one more.
        assert!(matches!(
            first,
            Grant::Lease {
                state: lease::R,
                epoch: 6,
                ..
            }
        ));
        let (_, second, _) = granted(
            t.attach(KEY, opener(2, OplockLevel::None, Some((1, rwh))), now)
                .unwrap(),
        );
        assert!(matches!(second, Grant::Lease { state, epoch: 7, .. } if state == rwh));
        // Another client's open breaks the shared lease once, to RH, with the next epoch.
        let (_, _, notices) = waits(
            t.attach(KEY, opener(3, OplockLevel::None, Some((2, rwh))), now)
                .unwrap(),
        );
        assert_eq!(notices.len(), 1);
        let kind = notices.first().map(|n| n.kind);
        assert!(matches!(
            kind,
            Some(NoticeKind::Lease { current, new, epoch: 8, ack_required: true, .. })
                if current == rwh && new == lease::R | lease::H
        ));
        let id = LeaseId {
            client: [1; 16],
            key: [1; 16],
        };
        assert!(matches!(
            t.acknowledge_lease(id, lease::R | lease::H, now, TIMEOUT),
            Ok((state, None)) if state == lease::R | lease::H
        ));
        let (_, third, _) = granted(
            t.attach(KEY, opener(3, OplockLevel::None, Some((2, rwh))), now)
                .unwrap(),
        );
        assert!(matches!(third, Grant::Lease { state, .. } if state == lease::R | lease::H));
    }

    #[tokio::test(start_paused = true)]
    async fn a_directory_gets_read_handle_leases_broken_by_changes_inside() {
        let t = FileTable::default();
        let now = Instant::now();
        let rwh = lease::R | lease::H | lease::W;
        let dir = Opener {
            dir: true,
            ..opener(1, OplockLevel::None, Some((1, rwh)))
        };
        let (node, grant, _) = granted(t.attach(KEY, dir, now).unwrap());
        assert!(matches!(grant, Grant::Lease { state, .. } if state == lease::R | lease::H));
        assert!(t.has_dir_leases());
        // A change made under the directory's own lease key (the child's parent key) breaks nothing.
        assert!(node.child_changed(Some([1; 16]), now, TIMEOUT).is_empty());
        let notices = node.child_changed(None, now, TIMEOUT);
        assert!(matches!(
            notices.first().map(|n| n.kind),
            Some(NoticeKind::Lease {
                new: 0,
                ack_required: true,
                ..
            })
        ));
        t.detach(&node, 1);
        assert!(!t.has_dir_leases());
    }

    #[test]
    fn a_lease_key_names_one_file() {
        let t = FileTable::default();
        let now = Instant::now();
        granted(
            t.attach(KEY, opener(1, OplockLevel::None, Some((1, lease::R))), now)
                .unwrap(),
        );
        assert_eq!(
            t.attach(
                (1, 1, 0),
                opener(2, OplockLevel::None, Some((1, lease::R))),
                now
            )
            .unwrap_err(),
            NtStatus::INVALID_PARAMETER
        );
    }
}
