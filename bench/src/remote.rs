//! Remote benchmarks: the `Sink` actor on node `b`, driven from node `a` over loopback TCP,
//! with `b` in this process or in a child process (this binary re-executed with
//! [`REMOTE_NODE_ARG`], see [`remote_node_child`]). Throughputs and the latencies from a task
//! are measured in rounds that alternate with their raw TCP baseline (see
//! [`crate::interleave`]); the latencies from the main thread (asks, `spawn_on`) in rounds
//! whose every sample is paired with a raw round trip taken right beside it
//! ([`crate::interleave::paired_samples`]).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::NodeEvent;

use crate::interleave::{
    interleave, latency, mixed_schedule, on_worker, paired_rounds, report_ratio, Latency, Names,
};
use crate::raw_tcp::{self, Rtt};
use crate::{percentile, report, BoxError, Sink, SinkClient, TCP_PAYLOAD};

/// Hidden command-line argument that turns the bench binary into node `b`, serving a `Sink`
/// registered as [`SINK_NAME`] until its stdin closes.
pub(crate) const REMOTE_NODE_ARG: &str = "--remote-node";

const COOKIE: &str = "bench-cookie";
/// How the child process gets the cookie: the variable the node builder reads by itself.
const COOKIE_ENV: &str = "DISTRIBUTE_COOKIE";
const SINK_NAME: &str = "sink";

/// The most actors one run spawns on `b`: under the bound on actors peers may start there.
const MAX_SPAWNS: usize = 5_000;

/// What `a` starts on `b` with `Node::spawn_on`: an actor with no state and no start hook.
#[actor(remote_spawn)]
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Spawned;

#[actor]
impl Spawned {}

/// How much to measure; the counts are per round.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    /// Alternating rounds of each figure and its baseline.
    pub(crate) rounds: usize,
    /// Tells per throughput round, and the raw TCP frames of its baseline.
    pub(crate) tells: u64,
    pub(crate) tcp_messages: u64,
    /// Unmeasured asks before each round.
    pub(crate) warmup: usize,
    /// Measured asks.
    pub(crate) asks: usize,
}

impl Plan {
    /// `spawn_on` calls per round, so that the run stays under [`MAX_SPAWNS`].
    fn spawns(&self) -> usize {
        let warmup = self.warmup.min(MAX_SPAWNS / 10);
        self.asks.min((MAX_SPAWNS - warmup) / self.rounds.max(1))
    }
}

/// Figure 0 of the paired rounds: an ask; figure 1: a `spawn_on`.
const ASK: usize = 0;

/// One sample from the calling task: an ask to `sink` if `figure` is [`ASK`], else the
/// `spawn_on` of an actor from `a` onto `b`.
async fn sample(a: &Node, b: NodeId, sink: &ActorRef<Sink>, figure: usize) -> Result<Duration, BoxError> {
    if figure == ASK {
        return ask_once(sink).await;
    }
    let start = Instant::now();
    let spawned = a.spawn_on::<Spawned>(b, Spawned).await?;
    let elapsed = start.elapsed();
    if spawned.is_local() {
        return Err("spawn_on started the actor on the calling node".into());
    }
    Ok(elapsed)
}

/// The time of one ask to `sink` from the calling task.
async fn ask_once(sink: &ActorRef<Sink>) -> Result<Duration, BoxError> {
    let start = Instant::now();
    sink.get().await?;
    Ok(start.elapsed())
}

/// A latency figure of the paired rounds, and the p50 of the round trips paired with it in
/// each round.
struct PairedLatency {
    figure: Latency,
    baseline_p50s: Vec<f64>,
}

/// `plan.rounds` rounds from the calling task, each of `plan.warmup` unmeasured pairs of a
/// round trip of `rtt` and a sample of figure 0, then `counts[k]` pairs of a round trip and
/// a sample of figure `k` (`sample(k)`), mixed. Every round trip is recorded in `rtt`, one
/// round of it per round.
async fn paired_with_rtt(
    plan: Plan,
    counts: &[usize],
    rtt: &mut Rtt,
    sample: impl AsyncFnMut(usize) -> Result<Duration, BoxError>,
) -> Result<Vec<PairedLatency>, BoxError> {
    let schedule = mixed_schedule(counts);
    let rounds = paired_rounds(
        plan.rounds,
        plan.warmup,
        &schedule,
        async || rtt.ping().await,
        sample,
    )
    .await?;
    let mut figures: Vec<PairedLatency> = counts
        .iter()
        .map(|_| PairedLatency {
            figure: latency([]),
            baseline_p50s: Vec::new(),
        })
        .collect();
    for paired in rounds {
        let mut round_trips = Vec::new();
        let sides = paired.figure.into_iter().zip(paired.baseline);
        for (figure, (samples, mut pings)) in figures.iter_mut().zip(sides) {
            figure.figure.add(samples);
            figure.baseline_p50s.push(percentile(&mut pings, 0.5));
            round_trips.append(&mut pings);
        }
        rtt.record(round_trips);
    }
    Ok(figures)
}

async fn start_node(name: &str) -> Result<Node, BoxError> {
    Ok(Node::builder().name(name).cookie(COOKIE).start().await?)
}

/// Connects `a` to the node at `addr` and looks up its sink.
async fn remote_sink(a: &Node, addr: SocketAddr) -> Result<ActorRef<Sink>, BoxError> {
    let b = a.connect(addr).await?;
    let sink = a.lookup_on::<Sink>(b, SINK_NAME).await?;
    if sink.is_local() {
        return Err("the looked-up sink is local".into());
    }
    Ok(sink)
}

/// Tells per second to the (remote) sink, until the ask behind them was answered; checks
/// that none was lost. Sent from a task on a worker, as raw TCP's frames are: from the main
/// thread, the figure would measure that thread's wake-ups.
async fn tell_tput(sink: &ActorRef<Sink>, tells: u64) -> Result<f64, BoxError> {
    let sink = sink.clone();
    tokio::spawn(async move { tell_tput_here(&sink, tells).await }).await?
}

/// [`tell_tput`] from the calling task.
async fn tell_tput_here(sink: &ActorRef<Sink>, tells: u64) -> Result<f64, BoxError> {
    let before = sink.get().await?;
    let start = Instant::now();
    for i in 0..tells {
        sink.push(i).await?;
    }
    // Tells and asks share the connection, which keeps their order: the reply comes after
    // every tell was handled.
    let after = sink.get().await?;
    let tput = tells as f64 / start.elapsed().as_secs_f64();
    let expected = (0..tells).fold(0u64, u64::wrapping_add);
    if after.wrapping_sub(before) != expected {
        return Err("the sink's sum is off: tells were lost".into());
    }
    Ok(tput)
}

/// The times of `warmup + asks` sequential asks, the warm-up left out.
async fn asks(sink: ActorRef<Sink>, warmup: usize, asks: usize) -> Result<Vec<Duration>, BoxError> {
    for _ in 0..warmup {
        sink.get().await?;
    }
    let mut samples = Vec::with_capacity(asks);
    for _ in 0..asks {
        let start = Instant::now();
        sink.get().await?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}

/// Nodes `a` and `b` in this process; their figures against `rtt`, an echo in this process.
pub(crate) async fn in_process(plan: Plan, rtt: &mut Rtt) -> Result<(), BoxError> {
    let b = start_node("b").await?;
    let a = match start_node("a").await {
        Ok(a) => a,
        Err(error) => {
            b.shutdown().await;
            return Err(error);
        }
    };
    let measured = async {
        let sink = b.spawn(Sink::default()).await?;
        b.register_local(SINK_NAME, &sink)?;
        let addr = b.listen_addr().ok_or("node b is not networked")?;
        let remote = remote_sink(&a, addr).await?;
        b.allow_remote_spawn::<Spawned>();
        for _ in 0..plan.warmup.min(MAX_SPAWNS / 10) {
            a.spawn_on::<Spawned>(b.id(), Spawned).await?;
        }
        measure_in_process(&a, b.id(), &remote, plan, rtt).await
    }
    .await;
    a.shutdown().await;
    b.shutdown().await;
    measured
}

/// The in-process figures: tells from a task against raw throughput, in alternating
/// rounds; asks and spawns from the main thread, each sample paired with a raw round trip;
/// then asks from a task against round trips from a task, in alternating rounds.
async fn measure_in_process(
    a: &Node,
    b: NodeId,
    sink: &ActorRef<Sink>,
    plan: Plan,
    rtt: &mut Rtt,
) -> Result<(), BoxError> {
    let rounds = interleave(
        plan.rounds,
        async || Ok(raw_tcp::throughput(plan.tcp_messages, TCP_PAYLOAD).await?),
        async || tell_tput(sink, plan.tells).await,
    )
    .await?;
    Names::new(
        "raw.tcp.tput_64B",
        "remote.tell_tput",
        "ratio.remote.tell_tput_vs_raw_tcp",
    )
    .unit("msgs/s")
    .report(&rounds, true);
    let counts = [plan.asks, plan.spawns()];
    let mut paired = paired_with_rtt(plan, &counts, rtt, async |k| sample(a, b, sink, k).await).await?;
    let names = [
        ("remote.ask", "ratio.remote.ask_p50_vs_raw_rtt"),
        ("remote.spawn_on", "ratio.remote.spawn_on_p50_vs_raw_rtt"),
    ];
    for (figure, (name, ratio)) in paired.iter_mut().zip(names) {
        figure.figure.report(name);
        report_ratio(ratio, &figure.figure.p50s, &figure.baseline_p50s);
    }

    let rounds = interleave(
        plan.rounds,
        async || rtt.round_from_task().await,
        async || on_worker(asks(sink.clone(), plan.warmup, plan.asks)).await,
    )
    .await?;
    let mut ask = latency(rounds.figure);
    ask.report("remote.ask_from_task");
    report_ratio(
        "ratio.remote.ask_from_task_vs_raw_rtt",
        &ask.p50s,
        &rounds.baseline,
    );
    Ok(())
}

/// Node `a` here, node `b` in a child process, against an echo server in another child.
pub(crate) async fn cross_process(plan: Plan) -> Result<(), BoxError> {
    // On every early return, dropping `child` kills and reaps it.
    let mut child = raw_tcp::spawn_self_with_env(REMOTE_NODE_ARG, &[(COOKIE_ENV, COOKIE)])?;
    let addr: SocketAddr = child.read_announcement(raw_tcp::ANNOUNCE_TIMEOUT).await?;
    let mut rtt = Rtt::cross_process(TCP_PAYLOAD, plan.warmup, plan.asks).await?;
    let a = start_node("a").await?;
    let measured = async {
        let remote = remote_sink(&a, addr).await?;
        let mut tputs = Vec::with_capacity(plan.rounds);
        for _ in 0..plan.rounds {
            tputs.push(tell_tput(&remote, plan.tells).await?);
        }
        report(
            "remote.tell_tput_xproc",
            crate::interleave::median(&tputs),
            "msgs/s",
        );
        let counts = [plan.asks];
        let paired = paired_with_rtt(plan, &counts, &mut rtt, async |_| ask_once(&remote).await).await?;
        for mut ask in paired {
            ask.figure.report("remote.ask_xproc");
            report_ratio(
                "ratio.remote.ask_xproc_p50_vs_raw_rtt_xproc",
                &ask.figure.p50s,
                &ask.baseline_p50s,
            );
        }
        Ok::<_, BoxError>(())
    }
    .await;
    a.shutdown().await;
    rtt.report("raw.tcp.rtt_64B_xproc");
    let closed = rtt.close().await;
    // Closes the child's stdin, on which it exits.
    let finished = child.finish(raw_tcp::EXIT_GRACE).await;
    measured?;
    closed?;
    finished?;
    Ok(())
}

/// Entry point of the `--remote-node` child: starts node `b` (cookie from
/// `DISTRIBUTE_COOKIE`), registers a sink, prints the node's address on stdout, and serves
/// until the parent closes our stdin or is gone. Gives up if no node connects in time.
pub(crate) async fn remote_node_child() -> Result<(), BoxError> {
    let node = Node::builder().name("b").reconnect(None).start().await?;
    let served = async {
        let sink = node.spawn(Sink::default()).await?;
        node.register_local(SINK_NAME, &sink)?;
        let addr = node.listen_addr().ok_or("node b is not networked")?;
        let mut events = node.events();
        let parent_gone = raw_tcp::lifeline()?;
        raw_tcp::announce(addr)?;
        let connected = async {
            loop {
                match events.recv().await {
                    Some(NodeEvent::NodeUp { .. }) => return Ok(()),
                    Some(_) => {}
                    None => return Err(BoxError::from("node b stopped before a peer connected")),
                }
            }
        };
        let serve = async {
            tokio::time::timeout(raw_tcp::ACCEPT_TIMEOUT, connected)
                .await
                .map_err(|_| raw_tcp::timed_out("the parent to connect"))??;
            std::future::pending::<Result<(), BoxError>>().await
        };
        tokio::select! {
            served = serve => served,
            _ = parent_gone => Ok(()),
        }
    }
    .await;
    node.shutdown().await;
    served
}
