//! The credit sequence window (MS-SMB2 3.3.1.1 CommandSequenceWindow, 3.3.5.2.3, 3.3.1.2 credit granting).
//!
//! The window is the range of MessageIds the client may use: `[low, high)`. A request consumes
//! `CreditCharge` consecutive ids, each at most once; granting credits moves `high`. The bitmap covers at
//! most `max_credits` ids, so memory is bounded by configuration, not by the client.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct CreditWindow {
    /// Lowest id not yet used.
    low: u64,
    /// One past the highest id granted.
    high: u64,
    /// `used[i]` is whether id `low + i` has been consumed (only ids above `low` out of order are true).
    used: VecDeque<bool>,
    max_credits: u16,
}

impl CreditWindow {
    /// A new connection starts with MessageId 0 available (one credit).
    pub fn new(max_credits: u16) -> Self {
        CreditWindow {
            low: 0,
            high: 1,
            used: VecDeque::from([false]),
            max_credits: max_credits.max(1),
        }
    }

    /// Consume ids `[message_id, message_id + charge)`. False if any is outside the window or reused.
    pub fn consume(&mut self, message_id: u64, charge: u16) -> bool {
        let charge = u64::from(charge.max(1));
        let Some(end) = message_id.checked_add(charge) else {
            return false;
        };
        if message_id < self.low || end > self.high {
            return false;
        }
        let (Ok(first), Ok(last)) = (
            usize::try_from(message_id - self.low),
            usize::try_from(end - self.low),
        ) else {
            return false;
        };
        if self.used.range(first..last).any(|u| *u) {
            return false;
        }
        self.used.range_mut(first..last).for_each(|u| *u = true);
        while self.used.front() == Some(&true) {
            self.used.pop_front();
            self.low += 1;
        }
        true
    }

    /// Credits outstanding (granted and not yet used).
    pub fn outstanding(&self) -> u64 {
        self.high - self.low
    }

    /// Grant up to `requested` new credits (at least 1 when the window would otherwise be empty, at most what
    /// keeps the outstanding count within `max_credits`). Returns the number granted.
    pub fn grant(&mut self, requested: u16) -> u16 {
        let room = u64::from(self.max_credits).saturating_sub(self.outstanding());
        let mut n = u64::from(requested.max(1)).min(room);
        if n == 0 && self.outstanding() == 0 {
            n = 1;
        }
        self.high += n;
        self.used
            .extend(std::iter::repeat_n(false, usize::try_from(n).unwrap_or(0)));
        u16::try_from(n).unwrap_or(u16::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_and_reuse() {
        let mut w = CreditWindow::new(10);
        assert!(w.consume(0, 1));
        assert!(!w.consume(0, 1), "id reuse");
        assert!(!w.consume(1, 1), "not granted yet");
        assert_eq!(w.grant(5), 5);
        assert!(w.consume(3, 2), "out of order multi-credit");
        assert!(w.consume(1, 1));
        assert!(w.consume(2, 1));
        assert!(!w.consume(5, 2), "beyond window");
        assert!(w.consume(5, 1));
        assert_eq!(w.outstanding(), 0);
    }

    #[test]
    fn grant_is_bounded_by_max() {
        let mut w = CreditWindow::new(8);
        assert_eq!(w.grant(100), 7);
        assert_eq!(w.grant(100), 0);
        assert!(w.consume(0, 8));
        assert_eq!(w.grant(0), 1);
    }

    #[test]
    fn overflowing_ids_are_rejected() {
        let mut w = CreditWindow::new(8);
        assert!(!w.consume(u64::MAX, 2));
    }
}
