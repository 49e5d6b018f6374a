//! Remote benchmarks: the `Sink` actor on node `b`, driven from node `a` over loopback TCP,
//! with `b` in this process or in a child process (this binary re-executed with
//! [`REMOTE_NODE_ARG`], see [`remote_node_child`]).

use std::error::Error;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::NodeEvent;

use crate::raw_tcp;
use crate::{Sink, SinkClient};

/// Hidden command-line argument that turns the bench binary into node `b`, serving a `Sink`
/// registered as [`SINK_NAME`] until its stdin closes.
pub(crate) const REMOTE_NODE_ARG: &str = "--remote-node";

const COOKIE: &str = "bench-cookie";
/// How the child process gets the cookie: the variable the node builder reads by itself.
const COOKIE_ENV: &str = "DISTRIBUTE_COOKIE";
const SINK_NAME: &str = "sink";

type BoxError = Box<dyn Error>;

/// What one run measured.
pub(crate) struct Measured {
    /// Tells per second from one task, until the ask behind them was answered.
    pub(crate) tell_tput: f64,
    /// The times of the sequential asks.
    pub(crate) asks: Vec<Duration>,
    /// The times of sequential `spawn_on` calls, from `a` onto `b` (in-process runs only).
    pub(crate) spawns: Vec<Duration>,
}

/// The most actors one run spawns on `b`: under the bound on actors peers may start there.
const MAX_SPAWNS: usize = 5_000;

/// What `a` starts on `b` with `Node::spawn_on`: an actor with no state and no start hook.
#[actor(remote_spawn)]
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Spawned;

#[actor]
impl Spawned {}

/// The latencies of sequential `spawn_on` calls from `a` onto `b`.
async fn spawns(a: &Node, b: NodeId, plan: Plan) -> Result<Vec<Duration>, BoxError> {
    for _ in 0..plan.warmup.min(MAX_SPAWNS / 10) {
        a.spawn_on::<Spawned>(b, Spawned).await?;
    }
    let count = plan.asks.min(MAX_SPAWNS - plan.warmup.min(MAX_SPAWNS / 10));
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let spawned = a.spawn_on::<Spawned>(b, Spawned).await?;
        samples.push(start.elapsed());
        if spawned.is_local() {
            return Err("spawn_on started the actor on the calling node".into());
        }
    }
    Ok(samples)
}

/// How much to measure.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    /// Tells in the throughput run.
    pub(crate) tells: u64,
    /// Unmeasured asks before each measurement.
    pub(crate) warmup: usize,
    /// Measured asks.
    pub(crate) asks: usize,
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

/// The tell throughput, then the ask latencies, against a fresh (remote) sink.
async fn measure(sink: &ActorRef<Sink>, plan: Plan) -> Result<Measured, BoxError> {
    for _ in 0..plan.warmup {
        sink.get().await?;
    }
    let start = Instant::now();
    for i in 0..plan.tells {
        sink.push(i).await?;
    }
    // Tells and asks share the connection, which keeps their order: the reply comes after
    // every tell was handled.
    let sum = sink.get().await?;
    let tell_tput = plan.tells as f64 / start.elapsed().as_secs_f64();
    let expected = (0..plan.tells).fold(0u64, u64::wrapping_add);
    if sum != expected {
        return Err(format!("the sink summed {sum} instead of {expected}: tells were lost").into());
    }

    for _ in 0..plan.warmup {
        sink.get().await?;
    }
    let mut asks = Vec::with_capacity(plan.asks);
    for _ in 0..plan.asks {
        let start = Instant::now();
        sink.get().await?;
        asks.push(start.elapsed());
    }
    Ok(Measured {
        tell_tput,
        asks,
        spawns: Vec::new(),
    })
}

/// Nodes `a` and `b` in this process.
pub(crate) async fn in_process(plan: Plan) -> Result<Measured, BoxError> {
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
        let mut measured = measure(&remote, plan).await?;
        b.allow_remote_spawn::<Spawned>();
        measured.spawns = spawns(&a, b.id(), plan).await?;
        Ok::<_, BoxError>(measured)
    }
    .await;
    a.shutdown().await;
    b.shutdown().await;
    measured
}

/// Node `a` here, node `b` in a child process.
pub(crate) async fn cross_process(plan: Plan) -> Result<Measured, BoxError> {
    // On every early return, dropping `child` kills and reaps it.
    let mut child = raw_tcp::spawn_self_with_env(REMOTE_NODE_ARG, &[(COOKIE_ENV, COOKIE)])?;
    let addr: SocketAddr = child.read_announcement(raw_tcp::ANNOUNCE_TIMEOUT).await?;
    let a = start_node("a").await?;
    let measured = async {
        let remote = remote_sink(&a, addr).await?;
        measure(&remote, plan).await
    }
    .await;
    a.shutdown().await;
    // Closes the child's stdin, on which it exits.
    let finished = child.finish(raw_tcp::EXIT_GRACE).await;
    let measured = measured?;
    finished?;
    Ok(measured)
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
