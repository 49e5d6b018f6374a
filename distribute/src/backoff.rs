//! [`Backoff`]: the one policy for waiting longer after each failure.
//!
//! Supervisors pause before restarts, nodes before reconnecting to a lost peer, and
//! `register_with_retry` before its next try; all three wait `initial`, then twice as long
//! after each further failure, up to `max`. Supervisors wait exactly that long, so restart
//! timing is predictable; the network's retries add up to a quarter more at random
//! ([`Backoff::jittered`]), so that nodes that lost each other at the same moment do not all
//! knock again at the same moment.

use std::time::Duration;

/// Exponential backoff: `initial`, doubling after each failure, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backoff {
    /// The first pause.
    pub initial: Duration,
    /// The longest pause.
    pub max: Duration,
}

impl Backoff {
    /// A policy from `initial` up to `max`.
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Backoff { initial, max }
    }

    /// The pause after `failures` earlier failures: `initial * 2^failures`, at most `max`.
    pub fn delay(&self, failures: usize) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31) as u32).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// [`delay`](Self::delay) plus up to 25 % more, drawn from `rng`.
    pub fn jittered(&self, failures: usize, rng: &mut fastrand::Rng) -> Duration {
        let delay = self.delay(failures);
        let quarter = u64::try_from(delay.as_micros() / 4).unwrap_or(u64::MAX);
        delay.saturating_add(Duration::from_micros(rng.u64(0..=quarter)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_up_to_the_cap() {
        let backoff = Backoff::new(10 * MS, 70 * MS);
        let delays: Vec<_> = (0..5).map(|n| backoff.delay(n)).collect();
        assert_eq!(delays, [10 * MS, 20 * MS, 40 * MS, 70 * MS, 70 * MS]);
        assert_eq!(backoff.delay(usize::MAX), 70 * MS);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        let backoff = Backoff::new(100 * MS, Duration::from_secs(1));
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seen_more = false;
        for failures in 0..6 {
            for _ in 0..100 {
                let base = backoff.delay(failures);
                let delay = backoff.jittered(failures, &mut rng);
                assert!(
                    delay >= base && delay <= base + base / 4,
                    "{delay:?} for {base:?}"
                );
                seen_more |= delay > base;
            }
        }
        assert!(seen_more, "jitter never added anything");
    }
}
