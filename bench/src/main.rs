//! Benchmarks: `cargo run --release -p distribute-bench [suite] [--quick]`.
//!
//! Every figure is printed as `name<TAB>value<TAB>unit`, with the raw tokio baselines
//! measured in the same run, so that ratios stay meaningful on a noisy machine. Suites:
//! `raw`, `local`, `restart`, `remote`, `registry`, `codec`, `membership`; default: all.
//! A figure with a baseline is measured in rounds alternating with it (see `interleave`):
//! figures are medians over rounds, `ratio.*` lines the median of the per-round ratios, each
//! followed by its `.spread`. Latencies are measured from the runtime's main thread and, as
//! `*_from_task`, from a task on a worker thread. `--quick` measures less, for a run of about
//! a minute.

mod bulk;
mod codec;
mod interleave;
mod local;
mod membership;
mod raw_chain;
mod raw_tcp;
mod registry;
mod remote;
mod traced;

use std::time::Duration;

use distribute::prelude::*;

#[actor(mailbox = 1024)]
#[derive(Default)]
struct Sink {
    n: u64,
}

#[actor]
impl Sink {
    #[message]
    fn push(&mut self, v: u64) {
        self.n = self.n.wrapping_add(v);
    }

    #[message]
    fn get(&self) -> u64 {
        self.n
    }
}

/// The bench's error type; `Send`, so that a measurement can run on a spawned task.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Config {
    /// Alternating rounds of each figure and its baseline (see `interleave`).
    rounds: usize,
    local: local::Plan,
    /// Panics and restarts measured.
    restarts: usize,
    /// Per round: frames of the raw TCP throughput baseline, tells of the remote one.
    tcp_messages: u64,
    remote_messages: u64,
    /// Per round: measured round trips of the TCP ping-pongs and remote asks, after `warmup`
    /// unmeasured ones.
    round_trips: usize,
    warmup: usize,
    /// Unmeasured registrations first, then measured ones per round.
    registration_warmup: usize,
    registrations: usize,
    /// Lookups per timed batch, and timed batches.
    lookups: usize,
    lookup_batches: usize,
    /// Encodings and decodings timed per codec.
    codec_rounds: u64,
}

impl Config {
    fn full() -> Self {
        let rounds = 15;
        Config {
            rounds,
            local: local::Plan {
                rounds,
                messages: 500_000,
                samples: 5_000,
                actors: 20_000,
                memory_actors: 100_000,
                memory_rounds: 5,
                many_actors: 1_000_000,
            },
            restarts: 20_000,
            tcp_messages: 500_000,
            remote_messages: 200_000,
            round_trips: 2_000,
            warmup: 200,
            registration_warmup: 2_000,
            registrations: 200,
            lookups: 100_000,
            lookup_batches: 9,
            codec_rounds: 2_000_000,
        }
    }

    fn quick() -> Self {
        let rounds = 21;
        Config {
            rounds,
            local: local::Plan {
                rounds,
                messages: 100_000,
                samples: 1_000,
                actors: 5_000,
                memory_actors: 20_000,
                memory_rounds: 3,
                many_actors: 0,
            },
            restarts: 2_000,
            tcp_messages: 100_000,
            remote_messages: 50_000,
            round_trips: 400,
            warmup: 50,
            registration_warmup: 200,
            registrations: 50,
            lookups: 100_000,
            lookup_batches: 3,
            codec_rounds: 200_000,
        }
    }

    fn remote(&self) -> remote::Plan {
        remote::Plan {
            rounds: self.rounds,
            tells: self.remote_messages,
            tcp_messages: self.tcp_messages,
            warmup: self.warmup,
            asks: self.round_trips,
        }
    }
}

const SUITES: [&str; 7] = [
    "raw",
    "local",
    "restart",
    "remote",
    "registry",
    "codec",
    "membership",
];

/// Body size of the raw TCP messages.
const TCP_PAYLOAD: usize = 64;

fn report(name: &str, value: f64, unit: &str) {
    println!("{name}\t{value:.3}\t{unit}");
}

/// The `p` quantile of `samples`, in microseconds.
fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// The network suites: remote and registry figures against raw TCP, whose in-process round
/// trips are pooled over both suites and printed after them. The `raw` suite alone measures
/// the baselines in as many rounds, with nothing between them.
async fn network(cfg: &Config, wants: impl Fn(&str) -> bool) -> Result<(), BoxError> {
    let mut rtt = raw_tcp::Rtt::in_process(TCP_PAYLOAD, cfg.warmup, cfg.round_trips).await?;
    let measured = async {
        if wants("remote") {
            remote::in_process(cfg.remote(), &mut rtt).await?;
            remote::cross_process(cfg.remote()).await?;
        }
        if wants("registry") {
            let plan = registry::Plan {
                rounds: cfg.rounds,
                warmup: cfg.registration_warmup,
                registrations: cfg.registrations,
                lookups: cfg.lookups,
                lookup_batches: cfg.lookup_batches,
            };
            registry::in_process(plan, &mut rtt).await?;
        }
        if !wants("remote") && !wants("registry") {
            raw_network(cfg, &mut rtt).await?;
        }
        Ok::<_, BoxError>(())
    }
    .await;
    rtt.report("raw.tcp.rtt_64B");
    let closed = rtt.close().await;
    measured?;
    closed
}

/// The raw TCP baselines alone (the `raw` suite).
async fn raw_network(cfg: &Config, rtt: &mut raw_tcp::Rtt) -> Result<(), BoxError> {
    let mut tputs = Vec::new();
    for _ in 0..cfg.rounds {
        tputs.push(raw_tcp::throughput(cfg.tcp_messages, TCP_PAYLOAD).await?);
        rtt.round().await?;
        rtt.round_from_task().await?;
    }
    report("raw.tcp.tput_64B", interleave::median(&tputs), "msgs/s");
    let mut xproc = raw_tcp::Rtt::cross_process(TCP_PAYLOAD, cfg.warmup, cfg.round_trips).await?;
    for _ in 0..cfg.rounds {
        xproc.round().await?;
    }
    xproc.report("raw.tcp.rtt_64B_xproc");
    xproc.close().await
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Hidden modes: the child processes of the cross-process and memory figures.
    match args.first().map(String::as_str) {
        Some(raw_tcp::ECHO_SERVER_ARG) => return Ok(raw_tcp::echo_server_child().await?),
        Some(remote::REMOTE_NODE_ARG) => return remote::remote_node_child().await,
        Some(local::IDLE_MEMORY_ARG) => return local::idle_memory_child(&args[1..]).await,
        Some(traced::TELL_TPUT_ARG) => return traced::tell_tput_child(&args[1..]).await,
        _ => {}
    }
    // Panics are the point of the restart suite; keep the default hook's printing out of
    // the measurement.
    std::panic::set_hook(Box::new(|_| {}));
    let quick = args.iter().any(|a| a == "--quick");
    let suite = args.iter().find(|a| !a.starts_with("--")).cloned();
    if let Some(unknown) = suite.as_deref().filter(|s| !SUITES.contains(s) && *s != "bulk") {
        return Err(format!("unknown suite `{unknown}`; expected one of {SUITES:?}").into());
    }
    let cfg = if quick { Config::quick() } else { Config::full() };
    let wants = |name: &str| suite.as_deref().is_none_or(|s| s == name);

    if wants("raw") || wants("local") {
        local::local(cfg.local, wants("local")).await?;
        if wants("local") {
            traced::tell_tput_subscribers(cfg.rounds, cfg.local.messages).await?;
        }
    }
    if wants("restart") {
        local::restart(cfg.restarts).await?;
    }
    if wants("raw") || wants("remote") || wants("registry") {
        network(&cfg, wants).await?;
    }
    // Part of the remote suite; `bulk` alone runs only these figures.
    if wants("remote") || suite.as_deref() == Some("bulk") {
        let (messages, rounds) = if quick { (384, 21) } else { (1024, 11) };
        bulk::bulk(bulk::Plan { messages, rounds }).await?;
    }
    if wants("codec") {
        codec::codecs(cfg.codec_rounds)?;
    }
    if wants("membership") {
        let sizes: &[usize] = if quick { &[10, 50] } else { &[10, 50, 100] };
        membership::membership(sizes).await?;
    }
    Ok(())
}
