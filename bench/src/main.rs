//! Benchmarks: `cargo run --release -p distribute-bench [suite] [--quick]`.
//!
//! Every figure is printed as `name<TAB>value<TAB>unit`, with the raw tokio baselines
//! measured in the same run, so that ratios stay meaningful on a noisy machine. Suites:
//! `raw`, `local`, `restart`, `remote`, `registry`, `codec`, `membership`; default: all. A suite compared
//! with a baseline measures that baseline first (once per run), and prints `ratio.*` lines.
//! `--quick` measures less, for a run under a minute.

mod bulk;
mod codec;
mod local;
mod membership;
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

type BoxError = Box<dyn std::error::Error>;

struct Config {
    local: local::Plan,
    /// Panics and restarts measured.
    restarts: usize,
    /// Messages of the raw TCP throughput baseline.
    tcp_messages: u64,
    /// Measured round trips of the TCP ping-pongs and remote asks, after `warmup` unmeasured
    /// ones.
    round_trips: usize,
    warmup: usize,
    /// Tells in the remote throughput runs.
    remote_messages: u64,
    /// Measured registrations of the registry suite (after `warmup` unmeasured ones).
    registrations: usize,
    /// Lookups per timed batch, and timed batches.
    lookups: usize,
    lookup_batches: usize,
    /// Encodings and decodings timed per codec.
    codec_rounds: u64,
}

impl Config {
    fn full() -> Self {
        Config {
            local: local::Plan {
                messages: 2_000_000,
                samples: 50_000,
                actors: 100_000,
                many_actors: 1_000_000,
            },
            restarts: 20_000,
            tcp_messages: 2_000_000,
            round_trips: 20_000,
            warmup: 2_000,
            remote_messages: 1_000_000,
            registrations: 2_000,
            lookups: 100_000,
            lookup_batches: 9,
            codec_rounds: 2_000_000,
        }
    }

    fn quick() -> Self {
        Config {
            local: local::Plan {
                messages: 200_000,
                samples: 5_000,
                actors: 20_000,
                many_actors: 0,
            },
            restarts: 2_000,
            tcp_messages: 200_000,
            round_trips: 2_000,
            warmup: 200,
            remote_messages: 100_000,
            registrations: 200,
            lookups: 100_000,
            lookup_batches: 3,
            codec_rounds: 200_000,
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

/// The raw TCP figures the remote and registry ones are compared with.
struct RawTcp {
    tput: f64,
    rtt_p50: f64,
    rtt_xproc_p50: f64,
}

async fn raw_tcp_baselines(cfg: &Config) -> Result<RawTcp, BoxError> {
    let tput = raw_tcp::throughput(cfg.tcp_messages, TCP_PAYLOAD).await?;
    report("raw.tcp.tput_64B", tput, "msgs/s");

    let mut samples = raw_tcp::rtt_in_process(cfg.warmup, cfg.round_trips, TCP_PAYLOAD).await?;
    let rtt_p50 = percentile(&mut samples, 0.5);
    report("raw.tcp.rtt_64B.p50", rtt_p50, "us");
    report("raw.tcp.rtt_64B.p99", percentile(&mut samples, 0.99), "us");

    let mut samples = raw_tcp::rtt_cross_process(cfg.warmup, cfg.round_trips, TCP_PAYLOAD).await?;
    let rtt_xproc_p50 = percentile(&mut samples, 0.5);
    report("raw.tcp.rtt_64B_xproc.p50", rtt_xproc_p50, "us");
    Ok(RawTcp {
        tput,
        rtt_p50,
        rtt_xproc_p50,
    })
}

async fn remote(cfg: &Config, raw: &RawTcp) -> Result<(), BoxError> {
    let plan = remote::Plan {
        tells: cfg.remote_messages,
        warmup: cfg.warmup,
        asks: cfg.round_trips,
    };
    let mut here = remote::in_process(plan).await?;
    report("remote.tell_tput", here.tell_tput, "msgs/s");
    let ask_p50 = percentile(&mut here.asks, 0.5);
    report("remote.ask.p50", ask_p50, "us");
    report("remote.ask.p99", percentile(&mut here.asks, 0.99), "us");
    let spawn_p50 = percentile(&mut here.spawns, 0.5);
    report("remote.spawn_on.p50", spawn_p50, "us");
    report("remote.spawn_on.p99", percentile(&mut here.spawns, 0.99), "us");

    let mut there = remote::cross_process(plan).await?;
    report("remote.tell_tput_xproc", there.tell_tput, "msgs/s");
    let ask_xproc_p50 = percentile(&mut there.asks, 0.5);
    report("remote.ask_xproc.p50", ask_xproc_p50, "us");

    report(
        "ratio.remote.tell_tput_vs_raw_tcp",
        here.tell_tput / raw.tput,
        "x",
    );
    report("ratio.remote.ask_p50_vs_raw_rtt", ask_p50 / raw.rtt_p50, "x");
    report(
        "ratio.remote.spawn_on_p50_vs_raw_rtt",
        spawn_p50 / raw.rtt_p50,
        "x",
    );
    report(
        "ratio.remote.ask_xproc_p50_vs_raw_rtt_xproc",
        ask_xproc_p50 / raw.rtt_xproc_p50,
        "x",
    );
    Ok(())
}

async fn registry(cfg: &Config, raw: &RawTcp) -> Result<(), BoxError> {
    let plan = registry::Plan {
        warmup: cfg.warmup,
        registrations: cfg.registrations,
        lookups: cfg.lookups,
        lookup_batches: cfg.lookup_batches,
    };
    let mut measured = registry::in_process(plan).await?;
    let register_p50 = percentile(&mut measured.registrations, 0.5);
    report("registry.register_global_3nodes.p50", register_p50, "us");
    report(
        "registry.register_global_3nodes.p99",
        percentile(&mut measured.registrations, 0.99),
        "us",
    );
    // The median of the batches' mean lookup times.
    measured.lookup_ns.sort_unstable_by(f64::total_cmp);
    let median = measured
        .lookup_ns
        .get(measured.lookup_ns.len() / 2)
        .copied()
        .unwrap_or(0.0);
    report("registry.lookup.p50", median / 1000.0, "us");
    report(
        "ratio.registry.register_vs_raw_rtt",
        register_p50 / raw.rtt_p50,
        "x",
    );
    Ok(())
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
        let raw = local::raw(cfg.local).await?;
        if wants("local") {
            local::local(cfg.local, Some(&raw)).await?;
            traced::tell_tput_subscribers(cfg.local.messages).await?;
        }
    }
    if wants("restart") {
        local::restart(cfg.restarts).await?;
    }
    if wants("raw") || wants("remote") || wants("registry") {
        let raw = raw_tcp_baselines(&cfg).await?;
        if wants("remote") {
            remote(&cfg, &raw).await?;
        }
        if wants("registry") {
            registry(&cfg, &raw).await?;
        }
    }
    // Part of the remote suite; `bulk` alone runs only these figures.
    if wants("remote") || suite.as_deref() == Some("bulk") {
        let (messages, rounds) = if quick { (64, 5) } else { (512, 9) };
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
