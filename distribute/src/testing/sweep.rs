//! [`Sweep`]: one scenario over many seeds, on every core, with the command that replays a
//! failing seed.
//!
//! `DISTRIBUTE_SEED=<n>` in the environment runs seed `n` alone and prints its trace;
//! `DISTRIBUTE_SEEDS=<count>` changes how many seeds a sweep runs (for a longer hunt).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::cluster::{Report, SimError};
use crate::lock::lock;

/// The environment variable that replays one seed.
pub const SEED_ENV: &str = "DISTRIBUTE_SEED";

/// The environment variable that sets how many seeds a sweep runs.
pub const SEEDS_ENV: &str = "DISTRIBUTE_SEEDS";

/// How many failing seeds a sweep lists.
const LISTED: usize = 10;

/// Runs one scenario for many seeds; see the [module](crate::testing) docs.
#[derive(Debug, Clone)]
#[must_use = "a sweep does nothing until `run` is called"]
pub struct Sweep {
    name: String,
    seeds: Range<u64>,
    replay: String,
    threads: usize,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct Swept {
    /// How many seeds ran.
    pub seeds: u64,
    /// How long they took, in real time.
    pub took: Duration,
    /// Simulated time, summed over the seeds.
    pub simulated: Duration,
}

impl Sweep {
    /// A sweep of the scenario `name` over seeds `0..1000`, replayed (when a seed fails) by
    /// `replay` with the seed in `DISTRIBUTE_SEED`: for example
    /// `cargo test -p my-crate --test cluster -- partition_heals`.
    pub fn new(name: impl Into<String>, replay: impl Into<String>) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Sweep {
            name: name.into(),
            seeds: 0..1000,
            replay: replay.into(),
            threads,
        }
    }

    /// The seeds to run (default `0..1000`); `DISTRIBUTE_SEEDS` overrides the count.
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = seeds;
        self
    }

    /// How many threads run seeds at once (default: one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Runs `scenario` for every seed (or the one in `DISTRIBUTE_SEED`). Fails with the
    /// failing seeds, the first one's trace, and the command that replays it; a test that
    /// returns `Result<(), SweepFailed>` prints all of it when it fails:
    ///
    /// ```ignore
    /// #[test]
    /// fn partitions_heal() -> Result<(), SweepFailed> {
    ///     Sweep::new("partitions_heal", "cargo test --test cluster -- partitions_heal")
    ///         .run(scenario)?;
    ///     Ok(())
    /// }
    /// ```
    pub fn run(
        self,
        scenario: impl Fn(u64) -> Result<Report, SimError> + Sync,
    ) -> Result<Swept, SweepFailed> {
        if let Some(seed) = env_u64(SEED_ENV) {
            return self.replay_one(seed, &scenario);
        }
        let seeds = match env_u64(SEEDS_ENV) {
            Some(count) => self.seeds.start..self.seeds.start.saturating_add(count),
            None => self.seeds.clone(),
        };
        let started = Instant::now();
        let next = AtomicU64::new(seeds.start);
        let failures: Mutex<Vec<SimError>> = Mutex::new(Vec::new());
        let simulated = Mutex::new(Duration::ZERO);
        std::thread::scope(|scope| {
            for _ in 0..self.threads {
                scope.spawn(|| loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= seeds.end {
                        return;
                    }
                    match scenario(seed) {
                        Ok(report) => *lock(&simulated) += report.elapsed,
                        Err(error) => lock(&failures).push(error),
                    }
                });
            }
        });
        let mut failures = failures
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.sort_by_key(|failure| failure.seed);
        if !failures.is_empty() {
            let report = self.failure_report(&failures, seeds.end - seeds.start);
            return Err(SweepFailed { report, failures });
        }
        let swept = Swept {
            seeds: seeds.end - seeds.start,
            took: started.elapsed(),
            simulated: simulated
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        };
        println!(
            "{}: {} seeds passed in {:.1?} ({:.0?} simulated)",
            self.name, swept.seeds, swept.took, swept.simulated
        );
        Ok(swept)
    }

    fn replay_one(
        &self,
        seed: u64,
        scenario: &impl Fn(u64) -> Result<Report, SimError>,
    ) -> Result<Swept, SweepFailed> {
        let started = Instant::now();
        match scenario(seed) {
            Ok(report) => {
                for line in report.history.trace() {
                    println!("{line}");
                }
                println!("{}: seed {seed} passed", self.name);
                Ok(Swept {
                    seeds: 1,
                    took: started.elapsed(),
                    simulated: report.elapsed,
                })
            }
            Err(error) => Err(SweepFailed {
                report: self.failure_report(std::slice::from_ref(&error), 1),
                failures: vec![error],
            }),
        }
    }

    fn failure_report(&self, failures: &[SimError], ran: u64) -> String {
        let mut text = String::new();
        if let Some(first) = failures.first() {
            text.push_str(&format!("trace of seed {}:\n", first.seed));
            for line in first.history.trace() {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text.push_str(&format!(
            "{}: {} of {ran} seeds failed:\n",
            self.name,
            failures.len()
        ));
        for failure in failures.iter().take(LISTED) {
            text.push_str(&format!("  seed {}: {}\n", failure.seed, failure.message));
        }
        if let Some(first) = failures.first() {
            text.push_str(&format!(
                "replay with: {SEED_ENV}={} {}\n",
                first.seed, self.replay
            ));
        }
        text
    }
}

/// The seeds of a sweep that failed, and the report that says how to replay them.
#[derive(Clone, thiserror::Error)]
#[error("{report}")]
pub struct SweepFailed {
    /// The first failing seed's trace, the failing seeds (up to ten) with what went wrong,
    /// and the command that replays the first.
    pub report: String,
    /// Every seed that failed, in order.
    pub failures: Vec<SimError>,
}

/// The report itself, so that a test returning `Result<(), SweepFailed>` prints it whole.
impl std::fmt::Debug for SweepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.report)
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::History;

    fn odd_seeds_fail(seed: u64) -> Result<Report, SimError> {
        match seed % 2 {
            0 => Ok(Report {
                seed,
                elapsed: Duration::from_secs(1),
                history: History::default(),
            }),
            _ => Err(SimError {
                seed,
                message: format!("seed {seed} is odd"),
                history: History::default(),
            }),
        }
    }

    #[test]
    fn a_sweep_reports_every_failing_seed_and_how_to_replay_the_first() {
        let failed = Sweep::new("odd", "cargo test odd --")
            .seeds(10..20)
            .threads(2)
            .run(odd_seeds_fail)
            .err()
            .map(|failed| {
                failed
                    .failures
                    .iter()
                    .map(|failure| failure.seed)
                    .collect::<Vec<_>>()
            });
        assert_eq!(failed, Some(vec![11, 13, 15, 17, 19]));
        let report = Sweep::new("odd", "cargo test odd --")
            .seeds(10..20)
            .run(odd_seeds_fail)
            .err()
            .map(|failed| format!("{failed:?}"))
            .unwrap_or_default();
        assert!(report.contains("5 of 10 seeds failed"), "{report}");
        assert!(
            report.contains("replay with: DISTRIBUTE_SEED=11 cargo test odd --"),
            "{report}"
        );
    }

    #[test]
    fn a_sweep_of_passing_seeds_counts_them() {
        let swept = Sweep::new("even", "-").seeds(0..1).run(odd_seeds_fail);
        assert_eq!(
            swept.map(|swept| (swept.seeds, swept.simulated)).ok(),
            Some((1, Duration::from_secs(1)))
        );
    }
}
