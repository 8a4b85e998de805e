//! Oplock rules (MS-SMB2 3.3.5.9 "oplock" steps, 3.3.4.6, 3.3.5.22.1; MS-FSA 2.1.5.17, 2.1.5.18 and
//! the oplock checks of 2.1.4.12): the level a new open is granted, the break a new open or a change
//! of data causes to each holder, and a break's deadline. Pure functions over the state the file node
//! keeps per open ([`crate::files`]); the node applies them under its lock, and [`crate::breaks`]
//! sends the notifications.
//!
//! The behaviour is Windows' as smbtorture smb2.oplock records it:
//! - A new open that touches data or existence breaks an exclusive or batch holder to level II (to
//!   none when it overwrites or supersedes) and waits for the acknowledgment, the holder's close or
//!   the break timeout; then it gets level II (if it asked for an oplock) because the file is shared.
//! - A sharing violation against a batch holder is decided after its break (the holder may close its
//!   cached handle); against an exclusive holder it is immediate and breaks nothing.
//! - An attribute-only ("stat") open breaks nothing and gets no oplock while others hold the file.
//! - A write, a truncation or a size change breaks every level II holder to none, the writer's own
//!   handle included, without acknowledgment.
//! - An unacknowledged break past its deadline leaves the holder with no oplock (3.3.6.1).

use proto::messages::create::oplock_level as wire;
use proto::NtStatus;
use tokio::time::{Duration, Instant};

/// An oplock level (MS-SMB2 2.2.13 RequestedOplockLevel), ordered from none to batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum OplockLevel {
    #[default]
    None,
    LevelII,
    Exclusive,
    Batch,
}

impl OplockLevel {
    /// A requested or acknowledged level; `None` for values that are not an oplock level (the
    /// lease value 0xFF included).
    pub fn from_wire(v: u8) -> Option<OplockLevel> {
        Some(match v {
            wire::NONE => OplockLevel::None,
            wire::II => OplockLevel::LevelII,
            wire::EXCLUSIVE => OplockLevel::Exclusive,
            wire::BATCH => OplockLevel::Batch,
            _ => return None,
        })
    }

    pub fn to_wire(self) -> u8 {
        match self {
            OplockLevel::None => wire::NONE,
            OplockLevel::LevelII => wire::II,
            OplockLevel::Exclusive => wire::EXCLUSIVE,
            OplockLevel::Batch => wire::BATCH,
        }
    }

    /// Exclusive and batch oplocks cache writes: another opener must wait for them to be flushed.
    fn is_exclusive(self) -> bool {
        self >= OplockLevel::Exclusive
    }

    /// The name `rsmbd status` shows.
    pub fn name(self) -> &'static str {
        match self {
            OplockLevel::None => "none",
            OplockLevel::LevelII => "level II",
            OplockLevel::Exclusive => "exclusive",
            OplockLevel::Batch => "batch",
        }
    }
}

/// SYNCHRONIZE, FILE_READ_ATTRIBUTES and FILE_WRITE_ATTRIBUTES.
const STAT_ACCESS: u32 = 0x0010_0000 | 0x80 | 0x100;
/// READ_CONTROL: reading the security descriptor does not disturb a lease (smb2.lease.statopen4).
const READ_CONTROL: u32 = 0x0002_0000;

/// An open asking for nothing beyond attributes ("stat open") neither breaks nor blocks an oplock
/// (smbtorture smb2.oplock.statopen1: even FILE_READ_EA counts as more).
pub fn is_stat_open(access: u32) -> bool {
    access & !STAT_ACCESS == 0
}

/// The same for leases, which also let READ_CONTROL through.
pub fn is_lease_stat_open(access: u32) -> bool {
    access & !(STAT_ACCESS | READ_CONTROL) == 0
}

/// What a new open asks for and does, as far as oplocks are concerned.
#[derive(Clone, Copy, Debug)]
pub struct NewOpen {
    pub requested: OplockLevel,
    /// It asks for more than attributes (not an [`is_stat_open`]).
    pub data: bool,
    /// The same in the sense of leases (not an [`is_lease_stat_open`]).
    pub lease_data: bool,
    /// Its disposition overwrites or supersedes the file.
    pub overwrite: bool,
    /// It opens with FILE_DELETE_ON_CLOSE: cached handles would keep the file from going away.
    pub delete_on_close: bool,
}

impl NewOpen {
    /// An open asking for `requested` with `access`; `overwrite` when its disposition overwrites or
    /// supersedes an existing file.
    pub fn new(requested: OplockLevel, access: u32, overwrite: bool) -> NewOpen {
        NewOpen {
            requested,
            data: !is_stat_open(access),
            lease_data: !is_lease_stat_open(access),
            overwrite,
            delete_on_close: false,
        }
    }

    /// The level holders are broken to for this open.
    fn break_to(&self) -> OplockLevel {
        if self.overwrite {
            OplockLevel::None
        } else {
            OplockLevel::LevelII
        }
    }

    /// Whether this open breaks anything at all.
    fn breaks(&self) -> bool {
        self.data || self.overwrite
    }
}

/// A break sent and not yet acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaking {
    pub to: OplockLevel,
    pub deadline: Instant,
}

/// One open's oplock, as its file node keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    pub level: OplockLevel,
    pub breaking: Option<Breaking>,
}

/// What a holder must do for a new open or a data change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    Keep,
    /// A break that needs an acknowledgment: the new open waits for it.
    BreakAndWait(OplockLevel),
    /// A break to none that needs no acknowledgment: the holder's level drops at once.
    BreakNow,
    /// A break sent earlier is still unacknowledged: wait for it.
    Wait,
}

impl Held {
    pub fn granted(level: OplockLevel) -> Held {
        Held {
            level,
            breaking: None,
        }
    }

    /// The effect of `new` on this holder; `conflict` says whether their share modes conflict.
    pub fn effect_of_open(&self, new: &NewOpen, conflict: bool) -> Effect {
        if self.breaking.is_some() {
            return if new.breaks() && (conflict || self.level.is_exclusive()) {
                Effect::Wait
            } else {
                Effect::Keep
            };
        }
        match self.level {
            OplockLevel::Batch if new.breaks() => Effect::BreakAndWait(new.break_to()),
            OplockLevel::Exclusive if new.breaks() && !conflict => {
                Effect::BreakAndWait(new.break_to())
            }
            OplockLevel::LevelII if new.overwrite && !conflict => Effect::BreakNow,
            _ => Effect::Keep,
        }
    }

    /// The effect of a write, truncation or size change (through any handle) on this holder.
    pub fn effect_of_data_change(&self) -> Effect {
        match (self.level, self.breaking) {
            (OplockLevel::LevelII, None) => Effect::BreakNow,
            _ => Effect::Keep,
        }
    }

    /// Apply `effect`, whose break deadline is `now + timeout`.
    pub fn apply(&mut self, effect: Effect, now: Instant, timeout: Duration) {
        match effect {
            Effect::BreakAndWait(to) => {
                self.breaking = Some(Breaking {
                    to,
                    deadline: now + timeout,
                })
            }
            Effect::BreakNow => self.level = OplockLevel::None,
            Effect::Keep | Effect::Wait => {}
        }
    }

    /// MS-SMB2 3.3.6.1: a break not acknowledged by its deadline leaves no oplock. True if it expired.
    pub fn expire(&mut self, now: Instant) -> bool {
        match self.breaking {
            Some(b) if b.deadline <= now => {
                *self = Held::default();
                true
            }
            _ => false,
        }
    }

    /// MS-SMB2 3.3.5.22.1: an acknowledgment to `level`. Without a break in progress, or to a level
    /// above the one the break offered, it fails with STATUS_INVALID_OPLOCK_PROTOCOL (what Windows
    /// answers, smbtorture smb2.oplock.levelii500) and the oplock is gone.
    pub fn acknowledge(&mut self, level: Option<OplockLevel>) -> Result<OplockLevel, NtStatus> {
        let Some(b) = self.breaking else {
            return Err(NtStatus::INVALID_OPLOCK_PROTOCOL);
        };
        *self = Held::default();
        match level {
            Some(l) if l <= b.to => {
                self.level = l;
                Ok(l)
            }
            _ => Err(NtStatus::INVALID_OPLOCK_PROTOCOL),
        }
    }

    /// Whether this holder still keeps a new open waiting.
    pub fn blocks(&self) -> bool {
        self.breaking.is_some()
    }
}

/// The level a new open is granted once no break is outstanding: what it asked for when the file is
/// not open elsewhere, else level II for an open that asked for an oplock and touches data, else none.
/// `level2` is `level2 oplocks`.
pub fn grant(new: &NewOpen, opened_elsewhere: bool, level2: bool) -> OplockLevel {
    let level = if !opened_elsewhere {
        new.requested
    } else if new.breaks() && new.requested > OplockLevel::None {
        OplockLevel::LevelII
    } else {
        OplockLevel::None
    };
    if level == OplockLevel::LevelII && !level2 {
        OplockLevel::None
    } else {
        level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(35);

    /// FILE_READ_DATA for an open that touches data, FILE_READ_ATTRIBUTES for a stat open.
    fn open(requested: OplockLevel, data: bool, overwrite: bool) -> NewOpen {
        NewOpen::new(requested, if data { 0x1 } else { 0x80 }, overwrite)
    }

    #[test]
    fn a_second_open_breaks_batch_to_level_ii_and_overwrite_to_none() {
        let batch = Held::granted(OplockLevel::Batch);
        let plain = open(OplockLevel::Batch, true, false);
        assert_eq!(
            batch.effect_of_open(&plain, false),
            Effect::BreakAndWait(OplockLevel::LevelII)
        );
        let overwrite = open(OplockLevel::None, false, true);
        assert_eq!(
            batch.effect_of_open(&overwrite, false),
            Effect::BreakAndWait(OplockLevel::None)
        );
        // Batch is broken even when the share modes conflict: the holder may close.
        assert_eq!(
            batch.effect_of_open(&plain, true),
            Effect::BreakAndWait(OplockLevel::LevelII)
        );
    }

    #[test]
    fn exclusive_with_a_sharing_conflict_and_stat_opens_break_nothing() {
        let excl = Held::granted(OplockLevel::Exclusive);
        assert_eq!(
            excl.effect_of_open(&open(OplockLevel::Batch, true, false), true),
            Effect::Keep
        );
        let stat = open(OplockLevel::Batch, false, false);
        assert_eq!(excl.effect_of_open(&stat, false), Effect::Keep);
        assert_eq!(grant(&stat, true, true), OplockLevel::None);
        assert_eq!(grant(&stat, false, true), OplockLevel::Batch);
    }

    #[test]
    fn level_ii_is_broken_by_data_changes_without_acknowledgment() {
        let mut l2 = Held::granted(OplockLevel::LevelII);
        assert_eq!(
            l2.effect_of_open(&open(OplockLevel::Batch, true, false), false),
            Effect::Keep
        );
        let effect = l2.effect_of_data_change();
        assert_eq!(effect, Effect::BreakNow);
        l2.apply(effect, Instant::now(), TIMEOUT);
        assert_eq!(l2, Held::default());
        assert_eq!(l2.effect_of_data_change(), Effect::Keep);
    }

    #[test]
    fn shared_files_get_level_ii_unless_disabled() {
        let req = open(OplockLevel::Exclusive, true, false);
        assert_eq!(grant(&req, true, true), OplockLevel::LevelII);
        assert_eq!(grant(&req, true, false), OplockLevel::None);
        assert_eq!(grant(&req, false, false), OplockLevel::Exclusive);
        assert_eq!(
            grant(&open(OplockLevel::None, true, false), true, true),
            OplockLevel::None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn break_timeout_and_acknowledgment_after_it() {
        let mut h = Held::granted(OplockLevel::Batch);
        h.apply(
            Effect::BreakAndWait(OplockLevel::LevelII),
            Instant::now(),
            TIMEOUT,
        );
        assert!(h.blocks());
        tokio::time::advance(TIMEOUT - Duration::from_millis(1)).await;
        assert!(!h.expire(Instant::now()));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(h.expire(Instant::now()));
        assert_eq!(h, Held::default());
        // The acknowledgment that arrives after the timeout finds no break in progress.
        assert_eq!(
            h.acknowledge(Some(OplockLevel::LevelII)),
            Err(NtStatus::INVALID_OPLOCK_PROTOCOL)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acknowledgment_levels() {
        let start = |to| {
            let mut h = Held::granted(OplockLevel::Batch);
            h.apply(Effect::BreakAndWait(to), Instant::now(), TIMEOUT);
            h
        };
        let mut h = start(OplockLevel::LevelII);
        assert_eq!(
            h.acknowledge(Some(OplockLevel::None)),
            Ok(OplockLevel::None)
        );
        let mut h = start(OplockLevel::LevelII);
        assert_eq!(
            h.acknowledge(Some(OplockLevel::LevelII)),
            Ok(OplockLevel::LevelII)
        );
        assert!(!h.blocks());
        // Above the offered level, or not an oplock level at all: refused, and the oplock is gone.
        let mut h = start(OplockLevel::None);
        assert_eq!(
            h.acknowledge(Some(OplockLevel::LevelII)),
            Err(NtStatus::INVALID_OPLOCK_PROTOCOL)
        );
        assert_eq!(h, Held::default());
        let mut h = start(OplockLevel::LevelII);
        assert_eq!(h.acknowledge(None), Err(NtStatus::INVALID_OPLOCK_PROTOCOL));
    }
}
