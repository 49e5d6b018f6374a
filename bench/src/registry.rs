//! Cluster-wide registry benchmarks, on three nodes of this process meshed over loopback TCP.
//!
//! - `register_global` latency, from the node with the highest id: the sequencer is the node
//!   with the lowest id, so every registration crosses the network in a chain of four one-way
//!   hops: the claim to the sequencer, its commit to the third node, that node's
//!   acknowledgement, and the registering node's own commit, its answer. Each sample registers
//!   a fresh name (re-registering a released name right away would race with the release,
//!   which travels on other connections). Besides the raw round trip, the figure from a task
//!   is measured against the same chain in raw tokio (`raw_chain`), its floor on this machine.
//! - `lookup` latency: a local read of the replica, from the sequencer (so the owner is on
//!   another node and the lookup builds a remote ref), timed over batches of lookups.

use std::hint::black_box;
use std::time::{Duration, Instant};

use distribute::prelude::*;

use crate::interleave::{interleave, latency, median, on_worker, report_ratio};
use crate::raw_chain::Chain;
use crate::raw_tcp::Rtt;
use crate::{report, BoxError, Sink};

const COOKIE: &str = "bench-cookie";
/// How long the nodes may take to see each other.
const MESH_TIMEOUT: Duration = Duration::from_secs(10);

/// How much to measure; registrations are per round.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    /// Alternating rounds of registrations and raw round trips.
    pub(crate) rounds: usize,
    /// Unmeasured registrations first.
    pub(crate) warmup: usize,
    /// Measured registrations per round.
    pub(crate) registrations: usize,
    /// Lookups per timed batch.
    pub(crate) lookups: usize,
    /// Timed batches of lookups.
    pub(crate) lookup_batches: usize,
}

async fn start_node(name: &str) -> Result<Node, BoxError> {
    Ok(Node::builder().name(name).cookie(COOKIE).start().await?)
}

/// Waits until every node is connected to the two others.
async fn meshed(nodes: &[&Node]) -> Result<(), BoxError> {
    let all = async {
        for node in nodes {
            let mut events = node.events();
            while node.connected_nodes().len() < nodes.len() - 1 {
                if events.recv().await.is_none() {
                    return Err(BoxError::from("a node stopped while meshing"));
                }
            }
        }
        Ok(())
    };
    tokio::time::timeout(MESH_TIMEOUT, all)
        .await
        .map_err(|_| BoxError::from("timed out waiting for the three nodes to mesh"))?
}

/// Three nodes meshed in this process; the registrations against `rtt`, and the lookups;
/// then shut down.
pub(crate) async fn in_process(plan: Plan, rtt: &mut Rtt) -> Result<(), BoxError> {
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        match start_node(name).await {
            Ok(node) => nodes.push(node),
            Err(error) => {
                for node in &nodes {
                    node.shutdown().await;
                }
                return Err(error);
            }
        }
    }
    let measured = measure(&nodes, plan, rtt).await;
    for node in &nodes {
        node.shutdown().await;
    }
    measured
}

/// The times of `count` sequential registrations of fresh names `{prefix}.{first}`, ...
async fn registrations(
    node: Node,
    sink: ActorRef<Sink>,
    prefix: &'static str,
    first: usize,
    count: usize,
) -> Result<Vec<Duration>, BoxError> {
    let mut samples = Vec::with_capacity(count);
    for i in first..first + count {
        let name = format!("{prefix}.{i}");
        let start = Instant::now();
        node.register_global(&name, &sink).await?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}

/// Rounds of registrations of fresh names by one node, for one actor.
struct Registrant {
    node: Node,
    sink: ActorRef<Sink>,
    per_round: usize,
    /// The number of the next fresh name.
    next: usize,
}

impl Registrant {
    /// One round from the calling task: each registration's time.
    async fn round(&mut self) -> Result<Vec<Duration>, BoxError> {
        let first = self.next;
        self.next += self.per_round;
        registrations(
            self.node.clone(),
            self.sink.clone(),
            "bench",
            first,
            self.per_round,
        )
        .await
    }

    /// One round from a task on a worker.
    async fn round_from_task(&mut self) -> Result<Vec<Duration>, BoxError> {
        let first = self.next;
        self.next += self.per_round;
        let (node, sink) = (self.node.clone(), self.sink.clone());
        on_worker(registrations(node, sink, "bench", first, self.per_round)).await
    }
}

async fn measure(nodes: &[Node], plan: Plan, rtt: &mut Rtt) -> Result<(), BoxError> {
    let addr = nodes[0].listen_addr().ok_or("node a is not networked")?;
    for node in &nodes[1..] {
        node.connect(addr).await?;
    }
    let all: Vec<&Node> = nodes.iter().collect();
    meshed(&all).await?;
    let sequencer = nodes.iter().min_by_key(|node| node.id()).ok_or("no nodes")?;
    let registrant = nodes.iter().max_by_key(|node| node.id()).ok_or("no nodes")?;

    let sink = registrant.spawn(Sink::default()).await?;
    registrations(registrant.clone(), sink.clone(), "warmup", 0, plan.warmup).await?;
    let mut rounds_of = Registrant {
        node: registrant.clone(),
        sink: sink.clone(),
        per_round: plan.registrations,
        next: 0,
    };
    let rounds = interleave(
        plan.rounds,
        async || rtt.round().await,
        async || rounds_of.round().await,
    )
    .await?;
    let mut register = latency(rounds.figure);
    register.report("registry.register_global_3nodes");
    report_ratio(
        "ratio.registry.register_vs_raw_rtt",
        &register.p50s,
        &rounds.baseline,
    );
    let rounds = interleave(
        plan.rounds,
        async || rtt.round_from_task().await,
        async || rounds_of.round_from_task().await,
    )
    .await?;
    let mut register = latency(rounds.figure);
    register.report("registry.register_global_3nodes_from_task");
    report_ratio(
        "ratio.registry.register_from_task_vs_raw_rtt",
        &register.p50s,
        &rounds.baseline,
    );
    let mut chain = Chain::new(plan.warmup.min(plan.registrations), plan.registrations).await?;
    let rounds = interleave(
        plan.rounds,
        async || chain.round_from_task().await,
        async || rounds_of.round_from_task().await,
    )
    .await?;
    chain.report("raw.tcp.chain_4hops");
    report_ratio(
        "ratio.registry.register_from_task_vs_raw_chain",
        &latency(rounds.figure).p50s,
        &rounds.baseline,
    );
    // Every node has the names once `register_global` returned.
    let found = sequencer.lookup::<Sink>("bench.0")?;
    if found.id() != sink.id() || found.is_local() {
        return Err("the sequencer resolved bench.0 to another actor".into());
    }
    lookups(sequencer, plan)
}

/// `registry.lookup.p50`: the median of the batches' mean lookup times.
fn lookups(sequencer: &Node, plan: Plan) -> Result<(), BoxError> {
    let mut lookup_ns = Vec::with_capacity(plan.lookup_batches);
    for _ in 0..plan.lookup_batches {
        let start = Instant::now();
        for _ in 0..plan.lookups {
            black_box(sequencer.lookup::<Sink>(black_box("bench.0"))?);
        }
        lookup_ns.push(start.elapsed().as_secs_f64() * 1e9 / plan.lookups.max(1) as f64);
    }
    report("registry.lookup.p50", median(&lookup_ns) / 1000.0, "us");
    Ok(())
}
