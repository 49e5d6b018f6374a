//! Measuring a figure against its baseline so that the ratio survives a noisy machine.
//!
//! This machine moves between fast and slow phases (other builds, thread wake-ups that are
//! sometimes quick and sometimes not) over seconds. A figure measured a minute after its
//! baseline can land in another phase; the same figure measured right next to its baseline
//! shares the phase. So [`interleave`] measures the two in alternating rounds, and a ratio is
//! the median of the per-round ratios, with its spread printed beside it. The order within a
//! round alternates too (baseline first in even rounds, figure first in odd ones), so that
//! neither side always runs on what the other left warm.
//!
//! Latencies taken on the runtime's main thread are paired closer still, sample by sample
//! ([`paired_samples`]): one baseline sample, one figure sample, one baseline sample, ...,
//! the side that goes first alternating from pair to pair. That thread's wake-ups drift
//! between fast and slow phases within a round, so two sides measured one after the other,
//! even in the same round, can see different phases; paired sample by sample, both see the
//! same one, and a round's ratio is the p50 of its figure samples over the p50 of the
//! baseline samples taken beside them.
//!
//! Where a figure must be measured from a task on a worker thread rather than from the
//! runtime's main thread, its measuring future runs through [`on_worker`].

use std::future::Future;
use std::time::Duration;

use crate::{percentile, report, BoxError};

/// What the rounds of [`interleave`] returned: one value per round on each side.
pub(crate) struct Rounds<A, B> {
    pub(crate) baseline: Vec<A>,
    pub(crate) figure: Vec<B>,
}

/// Measures `baseline` and `figure` alternately, `rounds` times each (A, B, B, A, A, B, ...),
/// and returns what each round of each returned.
pub(crate) async fn interleave<A, B>(
    rounds: usize,
    mut baseline: impl AsyncFnMut() -> Result<A, BoxError>,
    mut figure: impl AsyncFnMut() -> Result<B, BoxError>,
) -> Result<Rounds<A, B>, BoxError> {
    let mut measured = Rounds {
        baseline: Vec::with_capacity(rounds),
        figure: Vec::with_capacity(rounds),
    };
    for round in 0..rounds {
        if round % 2 == 0 {
            measured.baseline.push(baseline().await?);
            measured.figure.push(figure().await?);
        } else {
            measured.figure.push(figure().await?);
            measured.baseline.push(baseline().await?);
        }
    }
    Ok(measured)
}

/// The samples of [`paired_samples`], by figure: `baseline[k]` holds the baseline samples
/// taken beside the samples `figure[k]` of figure `k`.
pub(crate) struct Paired {
    pub(crate) baseline: Vec<Vec<Duration>>,
    pub(crate) figure: Vec<Vec<Duration>>,
}

/// Takes one pair of samples per entry of `schedule`: one of `baseline` and one of figure
/// `schedule[i]` (`figure(k)` samples figure `k`), back to back. Within each figure's pairs
/// the side that goes first alternates, baseline first in the first pair. A schedule that
/// mixes figures (0, 1, 0, 1, ...) spreads each figure's pairs over the whole window.
pub(crate) async fn paired_samples(
    schedule: &[usize],
    mut baseline: impl AsyncFnMut() -> Result<Duration, BoxError>,
    mut figure: impl AsyncFnMut(usize) -> Result<Duration, BoxError>,
) -> Result<Paired, BoxError> {
    let figures = schedule.iter().max().map_or(0, |k| k + 1);
    let mut paired = Paired {
        baseline: vec![Vec::new(); figures],
        figure: vec![Vec::new(); figures],
    };
    for &k in schedule {
        let (Some(base), Some(fig)) = (paired.baseline.get_mut(k), paired.figure.get_mut(k)) else {
            return Err("a pair scheduled for no figure".into());
        };
        if fig.len() % 2 == 0 {
            base.push(baseline().await?);
            fig.push(figure(k).await?);
        } else {
            fig.push(figure(k).await?);
            base.push(baseline().await?);
        }
    }
    Ok(paired)
}

/// `rounds` rounds of [`paired_samples`] from the calling task, each of `warmup` unmeasured
/// pairs of figure 0, then the pairs of `schedule`: each round's samples.
pub(crate) async fn paired_rounds(
    rounds: usize,
    warmup: usize,
    schedule: &[usize],
    mut baseline: impl AsyncFnMut() -> Result<Duration, BoxError>,
    mut figure: impl AsyncFnMut(usize) -> Result<Duration, BoxError>,
) -> Result<Vec<Paired>, BoxError> {
    let warmup = vec![0; warmup];
    let mut measured = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        paired_samples(&warmup, async || baseline().await, async |k| figure(k).await).await?;
        measured.push(paired_samples(schedule, async || baseline().await, async |k| figure(k).await).await?);
    }
    Ok(measured)
}

/// A schedule of `counts[k]` pairs of each figure `k`, mixed: one of each figure in turn
/// while each has pairs left (0, 1, 0, 1, ..., 0, 0 for counts 4 and 2).
pub(crate) fn mixed_schedule(counts: &[usize]) -> Vec<usize> {
    let longest = counts.iter().copied().max().unwrap_or(0);
    let mut schedule = Vec::with_capacity(counts.iter().sum());
    for i in 0..longest {
        for (k, &count) in counts.iter().enumerate() {
            if i < count {
                schedule.push(k);
            }
        }
    }
    schedule
}

/// `rounds` rounds of `batches` alternating batches of each side (as [`interleave`] runs
/// them, the figure first in odd rounds), after one unmeasured round that grows what the later ones reuse (the allocator's
/// arenas, the runtime's queues); a round's value on each side is the mean over its batches.
/// For figures whose whole round takes a few milliseconds, as long as a phase of the machine
/// can last: in batches, both sides of a round are spread over the same window.
pub(crate) async fn batched_rounds(
    rounds: usize,
    batches: usize,
    mut baseline: impl AsyncFnMut() -> Result<f64, BoxError>,
    mut figure: impl AsyncFnMut() -> Result<f64, BoxError>,
) -> Result<Rounds<f64, f64>, BoxError> {
    // Odd rounds start with the figure, as in `interleave`.
    let mut round = async |odd: bool| {
        if odd {
            let measured = interleave(batches, async || figure().await, async || baseline().await).await?;
            return Ok::<_, BoxError>((mean(&measured.figure), mean(&measured.baseline)));
        }
        let measured = interleave(batches, async || baseline().await, async || figure().await).await?;
        Ok((mean(&measured.baseline), mean(&measured.figure)))
    };
    round(false).await?;
    let mut measured = Rounds {
        baseline: Vec::with_capacity(rounds),
        figure: Vec::with_capacity(rounds),
    };
    for i in 0..rounds {
        let (baseline, figure) = round(i % 2 == 1).await?;
        measured.baseline.push(baseline);
        measured.figure.push(figure);
    }
    Ok(measured)
}

/// The mean of `values`; zero if there are none.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Runs `measure` on a task of the runtime (a worker thread) and waits for it: the caller of
/// the `*_from_task` figures, as an actor asking an actor is.
pub(crate) async fn on_worker<T, F>(measure: F) -> Result<T, BoxError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BoxError>> + Send + 'static,
{
    tokio::spawn(measure).await?
}

/// The median of `values` (the upper one of an even count); zero if there are none.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// When this environment variable is set, [`report_ratio`] also prints every round's values
/// on stderr, to see where a ratio's spread comes from.
const ROUNDS_ENV: &str = "BENCH_ROUNDS";

/// Prints `name` as the median of the per-round ratios `figure[i] / baseline[i]`, and
/// `name.spread` as their range over that median: `(max - min) / median`. A spread of 0.2
/// means the rounds' ratios lay within a band 20 % of the reported ratio wide.
pub(crate) fn report_ratio(name: &str, figure: &[f64], baseline: &[f64]) {
    let ratios: Vec<f64> = figure
        .iter()
        .zip(baseline)
        .map(|(figure, baseline)| figure / baseline)
        .collect();
    let mid = median(&ratios);
    let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    report(name, mid, "x");
    if std::env::var_os(ROUNDS_ENV).is_some() {
        eprintln!("{name}.rounds\tfigure {figure:.3?}\tbaseline {baseline:.3?}\tratio {ratios:.3?}");
    }
    let spread = if mid > 0.0 { (max - min) / mid } else { 0.0 };
    report(&format!("{name}.spread"), spread, "x");
}

/// The rounds of a latency figure: each round's median, and every sample pooled.
#[derive(Default)]
pub(crate) struct Latency {
    /// The p50 of each round, in microseconds.
    pub(crate) p50s: Vec<f64>,
    pooled: Vec<Duration>,
}

impl Latency {
    /// Adds one round's samples.
    pub(crate) fn add(&mut self, mut samples: Vec<Duration>) {
        self.p50s.push(percentile(&mut samples, 0.5));
        self.pooled.append(&mut samples);
    }

    /// Prints `name.p50`, the median of the rounds' p50s, and `name.p99`, over all samples.
    pub(crate) fn report(&mut self, name: &str) {
        report(&format!("{name}.p50"), median(&self.p50s), "us");
        report(&format!("{name}.p99"), percentile(&mut self.pooled, 0.99), "us");
    }
}

/// Builds a [`Latency`] from rounds of samples.
pub(crate) fn latency(rounds: impl IntoIterator<Item = Vec<Duration>>) -> Latency {
    let mut latency = Latency::default();
    for samples in rounds {
        latency.add(samples);
    }
    latency
}

/// The names under which a figure, its baseline and their ratio are printed.
pub(crate) struct Names<'a> {
    /// Empty when the baseline is printed elsewhere.
    baseline: &'a str,
    figure: &'a str,
    ratio: &'a str,
    unit: &'a str,
}

impl<'a> Names<'a> {
    pub(crate) fn new(baseline: &'a str, figure: &'a str, ratio: &'a str) -> Self {
        Names {
            baseline,
            figure,
            ratio,
            unit: "",
        }
    }

    /// The unit of a figure given as one value per round (latencies print `us`).
    pub(crate) fn unit(self, unit: &'a str) -> Self {
        Names { unit, ..self }
    }

    /// Prints the medians over the rounds, and the ratio when the figure was measured.
    pub(crate) fn report(&self, rounds: &Rounds<f64, f64>, figures: bool) {
        self.report_values(&rounds.baseline, &rounds.figure, figures);
    }

    /// Like [`Names::report`], from the per-round values of each side.
    pub(crate) fn report_values(&self, baseline: &[f64], figure: &[f64], figures: bool) {
        if !self.baseline.is_empty() {
            report(self.baseline, median(baseline), self.unit);
        }
        if figures {
            report(self.figure, median(figure), self.unit);
            report_ratio(self.ratio, figure, baseline);
        }
    }

    /// Prints `.p50` and `.p99` of each side and the ratio of the rounds' p50s.
    pub(crate) fn report_latencies(&self, rounds: Rounds<Vec<Duration>, Vec<Duration>>, figures: bool) {
        let mut baseline = latency(rounds.baseline);
        if !self.baseline.is_empty() {
            baseline.report(self.baseline);
        }
        if figures {
            let mut figure = latency(rounds.figure);
            figure.report(self.figure);
            report_ratio(self.ratio, &figure.p50s, &baseline.p50s);
        }
    }
}
