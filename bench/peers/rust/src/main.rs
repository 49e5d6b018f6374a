//! ractor and kameo measured the way distribute-bench measures distribute, each beside the
//! raw tokio baseline it is compared with, in the same run and interleaved: every round
//! measures raw, ractor and kameo one after the other (the order reversed on odd rounds), and
//! each figure printed is the median over rounds. `ratio.*` lines are medians of the per-round
//! ratios, with their spread (largest distance from the median, in percent).
//!
//! `cargo run --release [-- --quick]`; prints `name<TAB>value<TAB>unit` lines.

#![forbid(unsafe_code)]

mod memory;
mod with_kameo;
mod with_ractor;
mod with_tokio;

use std::error::Error;
use std::time::Duration;

/// Errors of the benchmark; `Send` so that a figure can be measured in a spawned task.
type BoxError = Box<dyn Error + Send + Sync>;

/// Mailbox (channel) capacity wherever a runtime lets one choose it.
const MAILBOX: usize = 1024;

/// How much one run measures.
struct Plan {
    rounds: usize,
    /// Unmeasured asks before the measured `samples`, per ask figure and round.
    warmup: usize,
    samples: usize,
    /// Tells per throughput figure and round.
    messages: u64,
    /// Spawns per spawn figure and round.
    spawns: usize,
    /// Actors of the idle-memory probes.
    idle: usize,
}

impl Plan {
    fn full() -> Self {
        Plan {
            rounds: 9,
            warmup: 2_000,
            samples: 20_000,
            messages: 1_000_000,
            spawns: 20_000,
            idle: 100_000,
        }
    }

    fn quick() -> Self {
        Plan {
            rounds: 5,
            warmup: 200,
            samples: 2_000,
            messages: 100_000,
            spawns: 5_000,
            idle: 20_000,
        }
    }
}

/// The contenders of every figure: the raw baseline first.
#[derive(Clone, Copy)]
enum Peer {
    Raw,
    Ractor,
    Kameo,
}

const PEERS: [Peer; 3] = [Peer::Raw, Peer::Ractor, Peer::Kameo];

/// The figures measured in rounds.
#[derive(Clone, Copy)]
enum Figure {
    /// Asks awaited by the runtime's main thread (`block_on`).
    Ask,
    /// Asks awaited by a task spawned on the two-worker runtime.
    AskFromTask,
    /// Tells from one spawned task, until an ask behind them is answered.
    TellTput,
    /// Spawns from the main thread.
    Spawn,
    /// Spawns from a task spawned on the runtime (an actor starting actors).
    SpawnFromTask,
}

const FIGURES: [Figure; 5] = [
    Figure::Ask,
    Figure::AskFromTask,
    Figure::TellTput,
    Figure::Spawn,
    Figure::SpawnFromTask,
];

/// The printed name and unit of a figure for a contender.
fn name(figure: Figure, peer: Peer) -> (&'static str, &'static str) {
    match (figure, peer) {
        (Figure::Ask, Peer::Raw) => ("raw.oneshot_ask.p50", "us"),
        (Figure::Ask, Peer::Ractor) => ("ractor.ask.p50", "us"),
        (Figure::Ask, Peer::Kameo) => ("kameo.ask.p50", "us"),
        (Figure::AskFromTask, Peer::Raw) => ("raw.oneshot_ask_from_task.p50", "us"),
        (Figure::AskFromTask, Peer::Ractor) => ("ractor.ask_from_task.p50", "us"),
        (Figure::AskFromTask, Peer::Kameo) => ("kameo.ask_from_task.p50", "us"),
        (Figure::TellTput, Peer::Raw) => ("raw.mpsc.tput", "msgs/s"),
        (Figure::TellTput, Peer::Ractor) => ("ractor.tell_tput", "msgs/s"),
        (Figure::TellTput, Peer::Kameo) => ("kameo.tell_tput", "msgs/s"),
        (Figure::Spawn, Peer::Raw) => ("raw.spawn_per_task", "us"),
        (Figure::Spawn, Peer::Ractor) => ("ractor.spawn_per_actor", "us"),
        (Figure::Spawn, Peer::Kameo) => ("kameo.spawn_per_actor", "us"),
        (Figure::SpawnFromTask, Peer::Raw) => ("raw.spawn_per_task_from_task", "us"),
        (Figure::SpawnFromTask, Peer::Ractor) => ("ractor.spawn_per_actor_from_task", "us"),
        (Figure::SpawnFromTask, Peer::Kameo) => ("kameo.spawn_per_actor_from_task", "us"),
    }
}

/// One measurement of `figure` for `peer`.
async fn measure(figure: Figure, peer: Peer, plan: &Plan) -> Result<f64, BoxError> {
    let (warmup, samples) = (plan.warmup, plan.samples);
    match figure {
        Figure::Ask => ask_p50(peer, warmup, samples).await,
        Figure::AskFromTask => tokio::spawn(ask_p50(peer, warmup, samples)).await?,
        Figure::TellTput => {
            let messages = plan.messages;
            tokio::spawn(async move {
                match peer {
                    Peer::Raw => with_tokio::tell_tput(messages).await,
                    Peer::Ractor => with_ractor::tell_tput(messages).await,
                    Peer::Kameo => with_kameo::tell_tput(messages).await,
                }
            })
            .await?
        }
        Figure::Spawn => spawn_per_actor(peer, plan.spawns).await,
        Figure::SpawnFromTask => tokio::spawn(spawn_per_actor(peer, plan.spawns)).await?,
    }
}

async fn spawn_per_actor(peer: Peer, count: usize) -> Result<f64, BoxError> {
    match peer {
        Peer::Raw => with_tokio::spawn_per_task(count).await,
        Peer::Ractor => with_ractor::spawn_per_actor(count).await,
        Peer::Kameo => with_kameo::spawn_per_actor(count).await,
    }
}

async fn ask_p50(peer: Peer, warmup: usize, samples: usize) -> Result<f64, BoxError> {
    match peer {
        Peer::Raw => with_tokio::ask_p50(warmup, samples).await,
        Peer::Ractor => with_ractor::ask_p50(warmup, samples).await,
        Peer::Kameo => with_kameo::ask_p50(warmup, samples).await,
    }
}

/// All rounds; `rounds[f][p]` holds the per-round values of figure `f` for peer `p`.
async fn run(plan: &Plan) -> Result<(), BoxError> {
    let mut values = vec![vec![Vec::with_capacity(plan.rounds); PEERS.len()]; FIGURES.len()];
    for round in 0..plan.rounds {
        for (f, &figure) in FIGURES.iter().enumerate() {
            for p in order(round) {
                values[f][p].push(measure(figure, PEERS[p], plan).await?);
            }
        }
    }
    for (f, &figure) in FIGURES.iter().enumerate() {
        for (p, &peer) in PEERS.iter().enumerate() {
            let (name, unit) = name(figure, peer);
            report(name, median(&values[f][p]), unit);
        }
        for (p, &peer) in PEERS.iter().enumerate().skip(1) {
            let ratios: Vec<f64> = values[f][p]
                .iter()
                .zip(&values[f][0])
                .map(|(v, raw)| v / raw)
                .collect();
            report_ratio(name(figure, peer).0, &ratios);
        }
    }
    idle_memory(plan.idle).await
}

/// The contenders' order in a round: reversed every other round, so that a drift of the
/// machine during a round favours nobody.
fn order(round: usize) -> Vec<usize> {
    let forward: Vec<usize> = (0..PEERS.len()).collect();
    if round.is_multiple_of(2) {
        forward
    } else {
        forward.into_iter().rev().collect()
    }
}

/// The idle-memory figures, one child process each (memory does not drift with load).
async fn idle_memory(count: usize) -> Result<(), BoxError> {
    let probes = [
        ("tasks", "raw.idle_task_bytes"),
        ("ractor", "ractor.idle_active_actor_bytes"),
        ("kameo", "kameo.idle_active_actor_bytes"),
    ];
    let mut bytes = Vec::with_capacity(probes.len());
    for (what, name) in probes {
        let per_item = tokio::task::spawn_blocking(move || memory::idle_bytes(what, count)).await??;
        report(name, per_item, "bytes");
        bytes.push(per_item);
    }
    for (i, (_, name)) in probes.iter().enumerate().skip(1) {
        report(&format!("ratio.{name}_vs_raw"), bytes[i] / bytes[0], "x");
    }
    Ok(())
}

fn report(name: &str, value: f64, unit: &str) {
    println!("{name}\t{value:.3}\t{unit}");
}

/// A ratio's median over rounds and its spread: the largest distance of a round's ratio from
/// that median, in percent of it.
fn report_ratio(name: &str, ratios: &[f64]) {
    let mid = median(ratios);
    let spread = ratios
        .iter()
        .map(|r| (r - mid).abs() / mid * 100.0)
        .fold(0.0, f64::max);
    report(&format!("ratio.{name}_vs_raw"), mid, "x");
    report(&format!("ratio.{name}_vs_raw.spread"), spread, "%");
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The median of `samples`, in microseconds.
fn p50(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Two workers, as distribute-bench's runtime has on this 2-core machine.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if args.first().map(String::as_str) == Some(memory::IDLE_MEMORY_ARG) {
        return runtime.block_on(memory::probe(&args[1..]));
    }
    let plan = if args.iter().any(|a| a == "--quick") {
        Plan::quick()
    } else {
        Plan::full()
    };
    runtime.block_on(run(&plan))
}
