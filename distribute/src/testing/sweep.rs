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

    /// Runs `scenario` for every seed (or the one in `DISTRIBUTE_SEED`). On failures, panics
    /// with the failing seeds, the first one's trace, and the command that replays it.
    #[allow(
        clippy::panic,
        reason = "a sweep is a test: a failing seed fails it, as assert! would"
    )]
    pub fn run(self, scenario: impl Fn(u64) -> Result<Report, SimError> + Sync) -> Swept {
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
            panic!("{}", self.failure_report(&failures, seeds.end - seeds.start));
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
        swept
    }

    #[allow(
        clippy::panic,
        reason = "a sweep is a test: a failing seed fails it, as assert! would"
    )]
    fn replay_one(&self, seed: u64, scenario: &impl Fn(u64) -> Result<Report, SimError>) -> Swept {
        let started = Instant::now();
        match scenario(seed) {
            Ok(report) => {
                for line in report.history.trace() {
                    println!("{line}");
                }
                println!("{}: seed {seed} passed", self.name);
                Swept {
                    seeds: 1,
                    took: started.elapsed(),
                    simulated: report.elapsed,
                }
            }
            Err(error) => {
                for line in error.history.trace() {
                    println!("{line}");
                }
                panic!("{}: seed {seed} failed: {}", self.name, error.message);
            }
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

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}
