//! Cluster-wide registry benchmarks, on three nodes of this process meshed over loopback TCP.
//!
//! - `register_global` latency, from the node with the highest id: the sequencer is the node
//!   with the lowest id, so every registration crosses the network: the claim to the
//!   sequencer, its decision back and its commit to the third node, which relays it to the
//!   registering node (acknowledgements to the sequencer are off the measured path).
//!   Each sample registers a fresh name (re-registering a released name right away would race
//!   with the release, which travels on other connections).
//! - `lookup` latency: a local read of the replica, from the sequencer (so the owner is on
//!   another node and the lookup builds a remote ref), timed over batches of lookups.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use distribute::prelude::*;

use crate::Sink;

type BoxError = Box<dyn Error>;

const COOKIE: &str = "bench-cookie";
/// How long the nodes may take to see each other.
const MESH_TIMEOUT: Duration = Duration::from_secs(10);

/// How much to measure.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    /// Unmeasured registrations first.
    pub(crate) warmup: usize,
    /// Measured registrations.
    pub(crate) registrations: usize,
    /// Lookups per timed batch.
    pub(crate) lookups: usize,
    /// Timed batches of lookups.
    pub(crate) lookup_batches: usize,
}

/// What one run measured.
pub(crate) struct Measured {
    /// The times of the sequential registrations.
    pub(crate) registrations: Vec<Duration>,
    /// The mean time of one lookup in each batch, in nanoseconds.
    pub(crate) lookup_ns: Vec<f64>,
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

/// Three nodes meshed in this process; the registrations and lookups; then shut down.
pub(crate) async fn in_process(plan: Plan) -> Result<Measured, BoxError> {
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
    let measured = measure(&nodes, plan).await;
    for node in &nodes {
        node.shutdown().await;
    }
    measured
}

async fn measure(nodes: &[Node], plan: Plan) -> Result<Measured, BoxError> {
    let addr = nodes[0].listen_addr().ok_or("node a is not networked")?;
    for node in &nodes[1..] {
        node.connect(addr).await?;
    }
    let all: Vec<&Node> = nodes.iter().collect();
    meshed(&all).await?;
    let sequencer = nodes.iter().min_by_key(|node| node.id()).ok_or("no nodes")?;
    let registrant = nodes.iter().max_by_key(|node| node.id()).ok_or("no nodes")?;

    let sink = registrant.spawn(Sink::default()).await?;
    for i in 0..plan.warmup {
        registrant.register_global(&format!("warmup.{i}"), &sink).await?;
    }
    let mut registrations = Vec::with_capacity(plan.registrations);
    for i in 0..plan.registrations {
        let name = format!("bench.{i}");
        let start = Instant::now();
        registrant.register_global(&name, &sink).await?;
        registrations.push(start.elapsed());
    }
    // Every node has the names once `register_global` returned.
    let found = sequencer.lookup::<Sink>("bench.0")?;
    if found.id() != sink.id() || found.is_local() {
        return Err("the sequencer resolved bench.0 to another actor".into());
    }

    let mut lookup_ns = Vec::with_capacity(plan.lookup_batches);
    for _ in 0..plan.lookup_batches {
        let start = Instant::now();
        for _ in 0..plan.lookups {
            black_box(sequencer.lookup::<Sink>(black_box("bench.0"))?);
        }
        lookup_ns.push(start.elapsed().as_secs_f64() * 1e9 / plan.lookups.max(1) as f64);
    }
    Ok(Measured {
        registrations,
        lookup_ns,
    })
}
