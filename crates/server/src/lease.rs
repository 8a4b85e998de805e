//! Lease rules (MS-SMB2 3.3.5.9.8 and 3.3.5.9.11 granting, 3.3.4.7 breaking, 3.3.5.22.2 acknowledging;
//! MS-FSA 2.1.5.17 and the lease checks of 2.1.4.12): pure functions over one lease's state, applied
//! by the file node under its lock ([`crate::files`]).
//!
//! The behaviour is Windows' as smbtorture smb2.lease records it:
//! - A lease is R, RH, RW or RWH; a request without R (H, W, HW) is granted nothing. A lease key
//!   names one file; all opens with the same ClientGuid and LeaseKey share its state.
//! - W is granted only while no other open reads or writes the file; H not while another open
//!   holds an oplock. An open asking again under the same key gets its request if that is a
//!   superset of what the lease holds, else the lease stays as it is.
//! - Another open that touches data breaks W (RWH to RH, RW to R); one that overwrites breaks
//!   everything; a sharing conflict breaks only H (RWH to RW: the holder may close its cached
//!   handles), and the open then fails unless the holder closed; an open with delete-on-close
//!   breaks H too.
//! - Breaks from a state with W or H need an acknowledgment; R to none does not. The new open
//!   waits for it only when W or (for a conflict) H goes; an open that already waited once waits
//!   again while the lease is still breaking.
//! - An open that needs more than a break in progress takes away waits for it and is remembered;
//!   after the acknowledgment the rest is broken one step at a time, W first, then H, then R,
//!   keeping the epoch (smbtorture smb2.lease.breaking3 and v2_breaking3: RWH to RH, then RH to R,
//!   then R to none for an overwrite queued behind the first break).
//! - A write, byte-range lock or size change through another lease's open breaks leases to none.

use crate::oplock::NewOpen;
use proto::messages::oplock_break::lease_state::{HANDLE_CACHING, READ_CACHING, WRITE_CACHING};
use proto::NtStatus;
use tokio::time::{Duration, Instant};

pub type LeaseKey = [u8; 16];

/// A lease state (READ_CACHING, HANDLE_CACHING, WRITE_CACHING bits).
pub type State = u32;

pub const R: State = READ_CACHING;
pub const H: State = HANDLE_CACHING;
pub const W: State = WRITE_CACHING;

/// A lease as its file node keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub state: State,
    pub breaking: Option<LeaseBreaking>,
    /// Lease.Epoch (version 2), counted up on every change of state.
    pub epoch: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseBreaking {
    pub to: State,
    pub deadline: Instant,
    /// Where the opens that came while it was in progress need the lease to end up.
    pub then: State,
}

/// A further break started by an acknowledgment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: State,
    pub to: State,
    pub ack_required: bool,
}

/// What a lease must do for a new open or a data change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Keep,
    /// Break to this state and wait for the acknowledgment.
    BreakAndWait(State),
    /// Break to this state; the acknowledgment is required but nobody waits for it.
    BreakAck(State),
    /// Break to this state at once (from R only: no acknowledgment).
    BreakNow(State),
    /// A break is outstanding: it goes on to `then` after its acknowledgment; the open waits for
    /// it when `wait` says so.
    Pending {
        then: State,
        wait: bool,
    },
}

impl Effect {
    /// The open must wait for a break to end.
    pub fn waits(self) -> bool {
        matches!(
            self,
            Effect::BreakAndWait(_) | Effect::Pending { wait: true, .. }
        )
    }
}

/// Only R, RH, RW and RWH are leases; anything else is granted as none.
pub fn valid(state: State) -> State {
    if state & R == 0 {
        0
    } else {
        state & (R | H | W)
    }
}

/// What the open's neighbours allow a new or upgraded lease: no W while another open touches data,
/// no H while another open holds an oplock.
pub fn allowed(others_touch_data: bool, others_hold_oplock: bool) -> State {
    let mut allowed = R | H | W;
    if others_touch_data {
        allowed &= !W;
    }
    if others_hold_oplock {
        allowed &= !H;
    }
    allowed
}

/// "RWH", "RH", "R" or "none", as `rsmbd status` shows a lease state.
pub fn name(state: State) -> String {
    let name: String = [(R, 'R'), (W, 'W'), (H, 'H')]
        .iter()
        .filter(|(bit, _)| state & bit != 0)
        .map(|(_, c)| *c)
        .collect();
    if name.is_empty() {
        "none".into()
    } else {
        name
    }
}

impl Lease {
    pub fn new(state: State, epoch: u16) -> Lease {
        Lease {
            state,
            breaking: None,
            epoch,
        }
    }

    /// A request for `requested` under this lease's key: the lease becomes the request if that is
    /// valid, a strict superset of what it holds and wholly within `allowed` (what the other opens
    /// permit); otherwise it stays as it is (smbtorture smb2.lease.upgrade2, upgrade3). No upgrade
    /// while a break is in progress.
    pub fn upgrade(&mut self, requested: State, allowed: State) {
        let wanted = valid(requested);
        let superset = wanted & self.state == self.state && wanted != self.state;
        if self.breaking.is_none() && superset && wanted & !allowed == 0 {
            self.state = wanted;
            self.epoch = self.epoch.wrapping_add(1);
        }
    }

    /// The effect of another open on this lease; `conflict` says whether their share modes conflict,
    /// `retry` whether the open already waited for a break. The open waits only for what it needs:
    /// dirty data flushed (W taken away) or a cached handle closed (H taken away for a conflict);
    /// other breaks go out while it proceeds.
    pub fn effect_of_open(&self, new: &NewOpen, conflict: bool, retry: bool) -> Effect {
        // A sharing conflict only takes handle caching (the open fails unless the holder closes);
        // an open that goes ahead takes write caching, or everything when it overwrites.
        let to = if conflict {
            self.state & !H
        } else if new.overwrite {
            0
        } else {
            let mut to = self.state;
            if new.lease_data {
                to &= !W;
            }
            if new.delete_on_close {
                // smbtorture smb2.lease.unlink: RH to R, so the last close can delete the file.
                to &= !H;
            }
            to
        };
        let loses = self.state & !to;
        let wait = loses & W != 0 || (conflict && loses & H != 0);
        match self.breaking {
            Some(b) => Effect::Pending {
                then: b.then & to,
                wait: wait || retry,
            },
            None => self.break_to(to, wait),
        }
    }

    /// The effect of a write, byte-range lock or size change through an open of another lease:
    /// the lease loses everything (smbtorture smb2.lease.lock1, complex1); nobody waits.
    pub fn effect_of_data_change(&self) -> Effect {
        if self.breaking.is_none() && self.state != 0 {
            self.break_to(0, false)
        } else {
            Effect::Keep
        }
    }

    fn break_to(&self, to: State, wait: bool) -> Effect {
        if to == self.state {
            Effect::Keep
        } else if self.state & (H | W) == 0 {
            Effect::BreakNow(to)
        } else if wait {
            Effect::BreakAndWait(to)
        } else {
            Effect::BreakAck(to)
        }
    }

    /// Apply `effect`; the lease's epoch counts the change (MS-SMB2 3.3.4.7: NewEpoch).
    pub fn apply(&mut self, effect: Effect, now: Instant, timeout: Duration) {
        match effect {
            Effect::BreakAndWait(to) | Effect::BreakAck(to) => {
                self.breaking = Some(LeaseBreaking {
                    to,
                    deadline: now + timeout,
                    then: to,
                });
                self.epoch = self.epoch.wrapping_add(1);
            }
            Effect::BreakNow(to) => {
                self.state = to;
                self.epoch = self.epoch.wrapping_add(1);
            }
            Effect::Pending { then, .. } => {
                if let Some(b) = &mut self.breaking {
                    b.then = then;
                }
            }
            Effect::Keep => {}
        }
    }

    /// A break not acknowledged by its deadline leaves the lease with nothing (smbtorture
    /// smb2.lease.timeout: the late acknowledgment is STATUS_UNSUCCESSFUL and the state is none).
    pub fn expire(&mut self, now: Instant) -> bool {
        match self.breaking {
            Some(b) if b.deadline <= now => {
                self.state = 0;
                self.breaking = None;
                true
            }
            _ => false,
        }
    }

    /// MS-SMB2 3.3.5.22.2: an acknowledgment to `state`. Without a break in progress it is
    /// STATUS_UNSUCCESSFUL; a state beyond the one offered is STATUS_REQUEST_NOT_ACCEPTED. When
    /// opens that came meanwhile need less than `state`, the next step of the break starts at once
    /// (with a deadline of `timeout`) and is returned, to be sent.
    pub fn acknowledge(
        &mut self,
        state: State,
        now: Instant,
        timeout: Duration,
    ) -> Result<(State, Option<Step>), NtStatus> {
        let b = self.breaking.ok_or(NtStatus::UNSUCCESSFUL)?;
        if state & !b.to != 0 {
            return Err(NtStatus::REQUEST_NOT_ACCEPTED);
        }
        self.state = state;
        self.breaking = None;
        let goes = state & !b.then;
        let to = if goes == 0 {
            return Ok((state, None));
        } else if goes & W != 0 {
            state & !W
        } else if goes & H != 0 {
            state & !H
        } else {
            b.then
        };
        let ack_required = state & (H | W) != 0;
        if ack_required {
            self.breaking = Some(LeaseBreaking {
                to,
                deadline: now + timeout,
                then: b.then,
            });
        } else {
            self.state = to;
        }
        let step = Step {
            from: state,
            to,
            ack_required,
        };
        Ok((state, Some(step)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oplock::OplockLevel;

    const TIMEOUT: Duration = Duration::from_secs(35);

    fn data_open(overwrite: bool) -> NewOpen {
        NewOpen::new(OplockLevel::None, 0x1, overwrite)
    }

    #[test]
    fn only_leases_with_read_caching_are_granted() {
        assert_eq!(valid(H), 0);
        assert_eq!(valid(W), 0);
        assert_eq!(valid(H | W), 0);
        assert_eq!(valid(R | W), R | W);
        assert_eq!(valid(R | H | W | 0x100), R | H | W);
    }

    #[test]
    fn upgrades_only_to_supersets() {
        let mut l = Lease::new(R | H, 1);
        l.upgrade(R | W, R | H | W);
        assert_eq!((l.state, l.epoch), (R | H, 1));
        l.upgrade(R | H | W, R | H | W);
        assert_eq!((l.state, l.epoch), (R | H | W, 2));
        l.upgrade(R, R | H | W);
        assert_eq!(l.state, R | H | W);
        // Another open touches the file: W cannot be had, so nothing changes.
        let mut l = Lease::new(R, 0);
        l.upgrade(R | H | W, allowed(true, false));
        assert_eq!(l.state, R);
        l.upgrade(R | H, allowed(true, false));
        assert_eq!(l.state, R | H);
    }

    #[test]
    fn another_open_breaks_write_caching_and_a_conflict_breaks_handle_caching() {
        let rwh = Lease::new(R | H | W, 0);
        assert_eq!(
            rwh.effect_of_open(&data_open(false), false, false),
            Effect::BreakAndWait(R | H)
        );
        assert_eq!(
            rwh.effect_of_open(&data_open(false), true, false),
            Effect::BreakAndWait(R | W)
        );
        assert_eq!(
            Lease::new(R, 0).effect_of_open(&data_open(true), false, false),
            Effect::BreakNow(0)
        );
        assert_eq!(
            Lease::new(R | H, 0).effect_of_open(&data_open(false), false, false),
            Effect::Keep
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acknowledgment_rules_epochs_and_timeout() {
        let mut l = Lease::new(R | H | W, 4);
        l.apply(Effect::BreakAndWait(R | H), Instant::now(), TIMEOUT);
        assert_eq!(l.epoch, 5);
        assert_eq!(
            l.acknowledge(R | H | W, Instant::now(), TIMEOUT),
            Err(NtStatus::REQUEST_NOT_ACCEPTED)
        );
        assert_eq!(l.acknowledge(R, Instant::now(), TIMEOUT), Ok((R, None)));
        assert_eq!(
            l.acknowledge(R, Instant::now(), TIMEOUT),
            Err(NtStatus::UNSUCCESSFUL)
        );
        l.apply(Effect::BreakAndWait(0), Instant::now(), TIMEOUT);
        tokio::time::advance(TIMEOUT).await;
        assert!(l.expire(Instant::now()));
        assert_eq!((l.state, l.breaking), (0, None));
        // Also from a break that would have kept something.
        let mut l = Lease::new(R | H | W, 0);
        l.apply(Effect::BreakAndWait(R | H), Instant::now(), TIMEOUT);
        tokio::time::advance(TIMEOUT).await;
        assert!(l.expire(Instant::now()));
        assert_eq!(l.state, 0);
    }

    #[test]
    fn writes_break_other_leases_to_none_without_waiting() {
        assert_eq!(
            Lease::new(R, 0).effect_of_data_change(),
            Effect::BreakNow(0)
        );
        assert_eq!(
            Lease::new(R | H, 0).effect_of_data_change(),
            Effect::BreakAck(0)
        );
        assert_eq!(Lease::new(0, 0).effect_of_data_change(), Effect::Keep);
    }

    #[test]
    fn an_overwrite_waits_only_for_write_caching() {
        let overwrite = data_open(true);
        assert_eq!(
            Lease::new(R | H, 0).effect_of_open(&overwrite, false, false),
            Effect::BreakAck(0)
        );
        assert_eq!(
            Lease::new(R | H | W, 0).effect_of_open(&overwrite, false, false),
            Effect::BreakAndWait(0)
        );
    }

    #[test]
    fn an_overwrite_behind_a_break_goes_on_one_step_at_a_time() {
        let now = Instant::now();
        let mut l = Lease::new(R | H | W, 7);
        let first = l.effect_of_open(&data_open(false), false, false);
        assert_eq!(first, Effect::BreakAndWait(R | H));
        l.apply(first, now, TIMEOUT);
        // An overwrite while RWH to RH is in progress waits and wants none in the end.
        let queued = l.effect_of_open(&data_open(true), false, false);
        assert_eq!(
            queued,
            Effect::Pending {
                then: 0,
                wait: true
            }
        );
        l.apply(queued, now, TIMEOUT);
        // The first open, trying again, waits while the lease is breaking.
        let step = Some(Step {
            from: R | H,
            to: R,
            ack_required: true,
        });
        assert_eq!(l.acknowledge(R | H, now, TIMEOUT), Ok((R | H, step)));
        assert!(l.effect_of_open(&data_open(false), false, true).waits());
        let step = Some(Step {
            from: R,
            to: 0,
            ack_required: false,
        });
        assert_eq!(l.acknowledge(R, now, TIMEOUT), Ok((R, step)));
        assert_eq!((l.state, l.breaking, l.epoch), (0, None, 8));
        assert_eq!(
            l.effect_of_open(&data_open(true), false, true),
            Effect::Keep
        );
    }
}
