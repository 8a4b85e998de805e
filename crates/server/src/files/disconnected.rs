//! The file node's side of durable handles ([`crate::durable`]): which opens keep caching that makes
//! them durable, marking an open disconnected and reconnected, and finding the disconnected opens a
//! new open would have to break or conflicts with.

use super::caching::{lease_of, Caching};
use super::{conflicts, lock, FileKey, FileNode, FileTable};
use crate::breaks::BreakTarget;
use crate::files::{Grant, LeaseId, Opener};
use crate::lease;
use crate::oplock::{self, OplockLevel};

impl FileNode {
    /// Whether open `open_id` holds a batch oplock or a lease with handle caching (MS-SMB2 3.3.5.9.6:
    /// what a durable open needs).
    pub fn caches_handle(&self, open_id: u64) -> bool {
        let st = lock(&self.state);
        st.holders
            .iter()
            .find(|h| h.open_id == open_id)
            .is_some_and(|h| match h.caching {
                Caching::Oplock(held) => held.level == OplockLevel::Batch,
                Caching::Lease(id) => st
                    .leases
                    .iter()
                    .any(|l| l.id == id && l.lease.state & lease::H != 0),
            })
    }

    /// The lease open `open_id` holds, if any.
    pub fn lease_of(&self, open_id: u64) -> Option<LeaseId> {
        lock(&self.state)
            .holders
            .iter()
            .find(|h| h.open_id == open_id)
            .and_then(lease_of)
    }

    /// What open `open_id` holds now, as a CREATE response reports it.
    pub fn held(&self, open_id: u64) -> Grant {
        let st = lock(&self.state);
        let Some(h) = st.holders.iter().find(|h| h.open_id == open_id) else {
            return Grant::Oplock(OplockLevel::None);
        };
        match h.caching {
            Caching::Oplock(held) => Grant::Oplock(held.level),
            Caching::Lease(id) => st.leases.iter().find(|l| l.id == id).map_or(
                Grant::Oplock(OplockLevel::None),
                |l| Grant::Lease {
                    state: l.lease.state,
                    epoch: l.lease.epoch,
                    breaking: l.lease.breaking.is_some(),
                    v2: l.v2,
                },
            ),
        }
    }

    /// Open `open_id` lost its connection but is kept.
    pub fn disconnect(&self, open_id: u64) {
        self.set_connection(open_id, None);
    }

    /// Open `open_id` was reclaimed; its breaks now go to `target`.
    pub fn reconnect(&self, open_id: u64, target: BreakTarget) {
        self.set_connection(open_id, Some(target));
    }

    /// Opens waiting for a break of this open look again: one that lost its connection will never
    /// acknowledge, and is now closed by whoever needs it out of the way.
    fn set_connection(&self, open_id: u64, target: Option<BreakTarget>) {
        let mut st = lock(&self.state);
        if let Some(h) = st.holders.iter_mut().find(|h| h.open_id == open_id) {
            h.disconnected = target.is_none();
            if target.is_some() {
                h.target = target;
            }
        }
        drop(st);
        self.changed.send_replace(());
    }

    /// The disconnected opens `o` conflicts with or would break.
    fn disconnected_in_the_way(&self, o: &Opener) -> Vec<u64> {
        let st = lock(&self.state);
        let own = o.lease.map(|l| l.id);
        st.holders
            .iter()
            .filter(|h| h.disconnected)
            .filter(|h| {
                conflicts(h, o.access, o.share)
                    || match h.caching {
                        Caching::Oplock(held) => {
                            held.effect_of_open(&o.oplock, false) != oplock::Effect::Keep
                        }
                        Caching::Lease(id) => {
                            Some(id) != own
                                && st.leases.iter().any(|l| {
                                    l.id == id
                                        && l.lease.effect_of_open(&o.oplock, false, false)
                                            != lease::Effect::Keep
                                })
                        }
                    }
            })
            .map(|h| h.open_id)
            .collect()
    }
}

impl Grant {
    /// A batch oplock or a lease with handle caching: what a durable open needs.
    pub fn caches_handle(&self) -> bool {
        match *self {
            Grant::Oplock(level) => level == OplockLevel::Batch,
            Grant::Lease { state, .. } => state & lease::H != 0,
        }
    }
}

impl FileTable {
    /// The disconnected opens of file `key` that `o` conflicts with or would break.
    pub fn disconnected_in_the_way(&self, key: FileKey, o: &Opener) -> Vec<u64> {
        self.node(key)
            .map(|n| n.disconnected_in_the_way(o))
            .unwrap_or_default()
    }
}
