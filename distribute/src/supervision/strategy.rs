//! The supervisor's decisions, as plain functions of their inputs: which exits restart a
//! child, which siblings a failure takes down with it, and whether one more restart still
//! fits the intensity. Nothing here touches an actor, a clock or a runtime, so every OTP
//! rule is unit-tested on its own, and the supervisor actor only carries the decisions out.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::actor::ExitReason;

/// When a child is restarted, as OTP's restart types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, whatever the reason it stopped.
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit (not [`ExitReason::Normal`] or `Shutdown`).
    Transient,
    /// Never restarted; removed from the supervisor when it stops.
    Temporary,
}

impl Restart {
    /// Whether a child with this restart type is restarted after exiting with `reason`.
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_normal(),
            Restart::Temporary => false,
        }
    }

    /// Whether a child that the supervisor stopped because a sibling failed starts again
    /// with its group. Its own exit was a `Shutdown`, which `restarts_after` would deny a
    /// transient child; OTP restarts it all the same, since it did nothing wrong.
    pub(crate) fn rejoins_group(self) -> bool {
        !matches!(self, Restart::Temporary)
    }

    /// Whether a child that stopped for good stays listed, terminated, so that
    /// `restart_child` can start it again; a temporary child is removed instead.
    pub(crate) fn kept_when_stopped(self) -> bool {
        !matches!(self, Restart::Temporary)
    }
}

/// Which children are restarted when one fails, as OTP's supervisor strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only the failed child.
    #[default]
    OneForOne,
    /// Every child: the others are stopped (in reverse order), then all start again in order.
    OneForAll,
    /// The failed child and those started after it.
    RestForOne,
}

impl Strategy {
    /// The siblings that a failure of the child at index `failed`, among `count` children
    /// in start order, takes down with it, in start order. The failed child itself is not
    /// listed: it has stopped already.
    pub(crate) fn siblings_affected(self, failed: usize, count: usize) -> Vec<usize> {
        match self {
            Strategy::OneForOne => Vec::new(),
            Strategy::OneForAll => (0..count).filter(|&i| i != failed).collect(),
            Strategy::RestForOne => (failed.saturating_add(1)..count).collect(),
        }
    }
}

/// Restart intensity: at most `max_restarts` restarts within `within`. One more and the
/// supervisor stops its children and fails with [`ExitReason::MaxRestartsExceeded`], which
/// its own supervisor then handles (escalation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// Restarts allowed within the window.
    pub max_restarts: u32,
    /// The sliding window.
    pub within: Duration,
}

impl Default for Intensity {
    /// Three restarts within five seconds.
    fn default() -> Self {
        Intensity {
            max_restarts: 3,
            within: Duration::from_secs(5),
        }
    }
}

impl Intensity {
    /// Whether a restart at `now` fits, given `history`, the times of earlier restarts,
    /// oldest first. If it fits it is recorded; if not, `history` keeps only the restarts
    /// still within the window, and the caller escalates.
    pub(crate) fn admit(self, history: &mut VecDeque<Instant>, now: Instant) -> bool {
        while history
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > self.within)
        {
            history.pop_front();
        }
        if history.len() >= self.max_restarts as usize {
            return false;
        }
        history.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_RESTARTS: [Restart; 3] = [Restart::Permanent, Restart::Transient, Restart::Temporary];

    fn exits() -> Vec<ExitReason> {
        vec![
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::Killed,
            ExitReason::error("boom"),
        ]
    }

    #[test]
    fn permanent_children_restart_after_every_exit() {
        for reason in exits() {
            assert!(Restart::Permanent.restarts_after(&reason), "{reason}");
        }
    }

    #[test]
    fn transient_children_restart_only_after_abnormal_exits() {
        for reason in exits() {
            assert_eq!(
                Restart::Transient.restarts_after(&reason),
                !matches!(reason, ExitReason::Normal | ExitReason::Shutdown),
                "{reason}"
            );
        }
    }

    #[test]
    fn temporary_children_never_restart() {
        for reason in exits() {
            assert!(!Restart::Temporary.restarts_after(&reason), "{reason}");
        }
    }

    #[test]
    fn only_temporary_children_stay_down_after_a_group_restart_and_disappear_when_stopped() {
        for restart in ALL_RESTARTS {
            let temporary = restart == Restart::Temporary;
            assert_eq!(restart.rejoins_group(), !temporary, "{restart:?}");
            assert_eq!(restart.kept_when_stopped(), !temporary, "{restart:?}");
        }
    }

    #[test]
    fn one_for_one_affects_no_sibling() {
        for count in 1..5 {
            for failed in 0..count {
                assert!(Strategy::OneForOne.siblings_affected(failed, count).is_empty());
            }
        }
    }

    #[test]
    fn one_for_all_affects_every_sibling_in_start_order() {
        assert_eq!(Strategy::OneForAll.siblings_affected(0, 1), Vec::<usize>::new());
        assert_eq!(Strategy::OneForAll.siblings_affected(0, 4), vec![1, 2, 3]);
        assert_eq!(Strategy::OneForAll.siblings_affected(2, 4), vec![0, 1, 3]);
        assert_eq!(Strategy::OneForAll.siblings_affected(3, 4), vec![0, 1, 2]);
    }

    #[test]
    fn rest_for_one_affects_the_siblings_started_after_the_failed_one() {
        assert_eq!(Strategy::RestForOne.siblings_affected(0, 4), vec![1, 2, 3]);
        assert_eq!(Strategy::RestForOne.siblings_affected(2, 4), vec![3]);
        assert_eq!(Strategy::RestForOne.siblings_affected(3, 4), Vec::<usize>::new());
    }

    #[test]
    fn affected_siblings_never_include_the_failed_child_or_leave_the_range() {
        for strategy in [Strategy::OneForOne, Strategy::OneForAll, Strategy::RestForOne] {
            for count in 0..6 {
                for failed in 0..count + 1 {
                    let affected = strategy.siblings_affected(failed, count);
                    assert!(!affected.contains(&failed), "{strategy:?} {failed}/{count}");
                    assert!(
                        affected.iter().all(|&i| i < count),
                        "{strategy:?} {failed}/{count}"
                    );
                    assert!(
                        affected.windows(2).all(|w| w[0] < w[1]),
                        "{strategy:?} {failed}/{count}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_restart_after_the_last_allowed_one_within_the_window_is_refused() {
        let intensity = Intensity {
            max_restarts: 2,
            within: Duration::from_secs(5),
        };
        let t0 = Instant::from_std(std::time::Instant::now());
        let mut history = VecDeque::new();
        assert!(intensity.admit(&mut history, t0));
        assert!(intensity.admit(&mut history, t0 + Duration::from_secs(1)));
        assert!(!intensity.admit(&mut history, t0 + Duration::from_secs(2)));
        assert_eq!(history.len(), 2, "a refused restart is not recorded");
    }

    #[test]
    fn restarts_older_than_the_window_no_longer_count() {
        let intensity = Intensity {
            max_restarts: 2,
            within: Duration::from_secs(5),
        };
        let t0 = Instant::from_std(std::time::Instant::now());
        let mut history = VecDeque::new();
        assert!(intensity.admit(&mut history, t0));
        assert!(intensity.admit(&mut history, t0 + Duration::from_secs(1)));
        // Exactly `within` after the first restart it still counts: the window is closed.
        assert!(!intensity.admit(&mut history, t0 + Duration::from_secs(5)));
        assert!(intensity.admit(&mut history, t0 + Duration::from_millis(5001)));
        assert_eq!(history.len(), 2);
    }

    #[test]
    fn zero_max_restarts_refuses_every_restart() {
        let intensity = Intensity {
            max_restarts: 0,
            within: Duration::from_secs(5),
        };
        let mut history = VecDeque::new();
        assert!(!intensity.admit(&mut history, Instant::from_std(std::time::Instant::now())));
        assert!(history.is_empty());
    }
}
