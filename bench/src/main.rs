//! Benchmarks: `cargo run --release -p distribute-bench [suite] [--quick]`.
//!
//! Every figure is printed as `name<TAB>value<TAB>unit`, with the raw tokio baselines
//! measured in the same run, so that ratios stay meaningful on a noisy machine.
//! Suites: `raw`, `local`, `restart`, `remote`, `registry`, and `net` (the raw TCP baselines
//! and `remote`); default: all. The `ratio.*` lines compare remote and registry figures with
//! the raw TCP baselines measured in the same invocation, so they appear only when both ran.

mod raw_tcp;
mod registry;
mod remote;

use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use tokio::sync::{mpsc, oneshot};

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

/// Measures restarts from the inside: the crashing handler stamps the time of the panic and
/// the next incarnation's start hook measures how long it took to serve again.
#[actor]
struct Phoenix {
    clock: std::sync::Arc<std::sync::Mutex<(Option<Instant>, Vec<Duration>)>>,
}

#[actor]
impl Phoenix {
    #[on_start]
    fn reborn(&mut self) {
        let mut clock = self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(crashed) = clock.0.take() {
            clock.1.push(crashed.elapsed());
        }
    }

    #[message]
    fn crash(&mut self) -> u64 {
        self.clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0 = Some(Instant::now());
        panic!("benchmark crash")
    }

    #[message]
    fn ping(&self) {}
}

struct Config {
    messages: u64,
    samples: usize,
    actors: usize,
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
}

/// The raw TCP figures the remote ones are compared with.
struct RawTcp {
    tput: f64,
    rtt_p50: f64,
    rtt_xproc_p50: f64,
}

/// The remote figures compared with the raw TCP ones.
struct Remote {
    tell_tput: f64,
    ask_p50: f64,
    ask_xproc_p50: f64,
}

const SUITES: [&str; 6] = ["raw", "local", "restart", "remote", "registry", "net"];

/// Body size of the raw TCP messages.
const TCP_PAYLOAD: usize = 64;

fn report(name: &str, value: f64, unit: &str) {
    println!("{name}\t{value:.3}\t{unit}");
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

async fn raw(cfg: &Config) -> Result<RawTcp, Box<dyn std::error::Error>> {
    let (tx, mut rx) = mpsc::channel::<u64>(1024);
    let consumer = tokio::spawn(async move {
        let mut sum = 0u64;
        while let Some(v) = rx.recv().await {
            sum = sum.wrapping_add(v);
        }
        sum
    });
    let start = Instant::now();
    for i in 0..cfg.messages {
        if tx.send(i).await.is_err() {
            break;
        }
    }
    drop(tx);
    let _ = consumer.await;
    report(
        "raw.mpsc.tput",
        cfg.messages as f64 / start.elapsed().as_secs_f64(),
        "msgs/s",
    );

    let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u64>>(1024);
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(1);
        }
    });
    let mut samples = Vec::with_capacity(cfg.samples);
    for _ in 0..cfg.samples {
        let start = Instant::now();
        let (reply, answer) = oneshot::channel();
        if tx.send(reply).await.is_err() {
            break;
        }
        let _ = answer.await;
        samples.push(start.elapsed());
    }
    report("raw.oneshot_ask.p50", percentile(&mut samples, 0.5), "us");
    report("raw.oneshot_ask.p99", percentile(&mut samples, 0.99), "us");

    raw_tcp_baselines(cfg).await
}

async fn raw_tcp_baselines(cfg: &Config) -> Result<RawTcp, Box<dyn std::error::Error>> {
    let tput = raw_tcp::throughput(cfg.messages, TCP_PAYLOAD).await?;
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

async fn remote(cfg: &Config) -> Result<Remote, Box<dyn std::error::Error>> {
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

    let mut there = remote::cross_process(plan).await?;
    report("remote.tell_tput_xproc", there.tell_tput, "msgs/s");
    let ask_xproc_p50 = percentile(&mut there.asks, 0.5);
    report("remote.ask_xproc.p50", ask_xproc_p50, "us");
    Ok(Remote {
        tell_tput: here.tell_tput,
        ask_p50,
        ask_xproc_p50,
    })
}

fn ratios(raw: &RawTcp, remote: &Remote) {
    report(
        "ratio.remote.tell_tput_vs_raw_tcp",
        remote.tell_tput / raw.tput,
        "x",
    );
    report(
        "ratio.remote.ask_p50_vs_raw_rtt",
        remote.ask_p50 / raw.rtt_p50,
        "x",
    );
    report(
        "ratio.remote.ask_xproc_p50_vs_raw_rtt_xproc",
        remote.ask_xproc_p50 / raw.rtt_xproc_p50,
        "x",
    );
}

/// The registry figures; the p50 of `register_global` is returned for the ratio.
async fn registry(cfg: &Config) -> Result<f64, Box<dyn std::error::Error>> {
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
    report("registry.lookup.p50", median, "ns");
    Ok(register_p50)
}

async fn local(cfg: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let sink = node.spawn(Sink::default()).await?;
    let start = Instant::now();
    for i in 0..cfg.messages {
        sink.push(i).await?;
    }
    sink.get().await?;
    report(
        "local.tell_tput",
        cfg.messages as f64 / start.elapsed().as_secs_f64(),
        "msgs/s",
    );

    let mut samples = Vec::with_capacity(cfg.samples);
    for _ in 0..cfg.samples {
        let start = Instant::now();
        sink.get().await?;
        samples.push(start.elapsed());
    }
    report("local.ask.p50", percentile(&mut samples, 0.5), "us");
    report("local.ask.p99", percentile(&mut samples, 0.99), "us");

    let start = Instant::now();
    let mut refs = Vec::with_capacity(cfg.actors);
    for _ in 0..cfg.actors {
        refs.push(node.spawn(Sink::default()).await?);
    }
    report(
        "local.spawn_per_actor",
        start.elapsed().as_secs_f64() * 1e6 / cfg.actors as f64,
        "us",
    );
    for actor in &refs {
        actor.kill();
    }
    for actor in &refs {
        actor.wait_for_stop().await;
    }
    node.shutdown().await;
    Ok(())
}

async fn restart(cfg: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let clock = std::sync::Arc::new(std::sync::Mutex::new((None, Vec::new())));
    let factory_clock = std::sync::Arc::clone(&clock);
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(u32::MAX, Duration::from_secs(1))
        .child(ChildSpec::worker("phoenix", move || Phoenix {
            clock: std::sync::Arc::clone(&factory_clock),
        }))
        .start(&node)
        .await?;
    let phoenix = supervisor
        .child::<Phoenix>("phoenix")
        .await?
        .ok_or("no phoenix")?;
    for _ in 0..cfg.samples.min(20_000) {
        let _ = phoenix.crash().await;
        phoenix.ping().await?;
    }
    let mut samples = std::mem::take(&mut clock.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1);
    report("local.restart.p50", percentile(&mut samples, 0.5), "us");
    report("local.restart.p99", percentile(&mut samples, 0.99), "us");
    node.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Hidden mode: the child process of the cross-process TCP baseline.
    if std::env::args().skip(1).any(|a| a == raw_tcp::ECHO_SERVER_ARG) {
        return Ok(raw_tcp::echo_server_child().await?);
    }
    // Hidden mode: node `b` of the cross-process remote benchmarks.
    if std::env::args().skip(1).any(|a| a == remote::REMOTE_NODE_ARG) {
        return remote::remote_node_child().await;
    }
    // Panics are the point of the restart suite; keep the default hook's printing out of
    // the measurement.
    std::panic::set_hook(Box::new(|_| {}));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let suite = args.iter().find(|a| !a.starts_with("--")).cloned();
    if let Some(unknown) = suite.as_deref().filter(|s| !SUITES.contains(s)) {
        return Err(format!("unknown suite `{unknown}`; expected one of {SUITES:?}").into());
    }
    let cfg = if quick {
        Config {
            messages: 200_000,
            samples: 5_000,
            actors: 10_000,
            round_trips: 2_000,
            warmup: 200,
            remote_messages: 100_000,
            registrations: 200,
            lookups: 100_000,
            lookup_batches: 3,
        }
    } else {
        Config {
            messages: 2_000_000,
            samples: 50_000,
            actors: 100_000,
            round_trips: 20_000,
            warmup: 2_000,
            remote_messages: 1_000_000,
            registrations: 2_000,
            lookups: 100_000,
            lookup_batches: 9,
        }
    };
    let wants = |name: &str| suite.as_deref().is_none_or(|s| s == name);
    let net = suite.as_deref() == Some("net");
    let mut baselines = None;
    if wants("raw") {
        baselines = Some(raw(&cfg).await?);
    } else if net {
        baselines = Some(raw_tcp_baselines(&cfg).await?);
    }
    if wants("local") {
        local(&cfg).await?;
    }
    if wants("restart") {
        restart(&cfg).await?;
    }
    if wants("remote") || net {
        let remote = remote(&cfg).await?;
        if let Some(baselines) = &baselines {
            ratios(baselines, &remote);
        }
    }
    if wants("registry") {
        let register_p50 = registry(&cfg).await?;
        if let Some(baselines) = &baselines {
            report(
                "ratio.registry.register_vs_raw_rtt",
                register_p50 / baselines.rtt_p50,
                "x",
            );
        }
    }
    Ok(())
}
