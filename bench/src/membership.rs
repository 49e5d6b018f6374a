//! Membership convergence: `n` nodes of this process on loopback (TCP connections, SWIM over
//! UDP), each started with the first node as its seed; the time from the last start until
//! every node counts every other in, for 10, 50 and 100 nodes. There is no raw baseline for
//! a protocol's convergence; what bounds it is printed beside it: the join round (a node
//! announces itself to the nodes it is connected to once a second) and the probe period.

use std::error::Error;
use std::time::{Duration, Instant};

use distribute::Node;

use crate::report;

type BoxError = Box<dyn Error>;

const COOKIE: &str = "bench-cookie";

/// How long a cluster may take to converge before the run gives up.
const LIMIT: Duration = Duration::from_secs(60);

/// Starts `n` nodes, all seeded with the first; returns once every node counts the others
/// in, with the time that took after the last start and the most connections a node held.
async fn converge(n: usize) -> Result<(Duration, usize), BoxError> {
    let first = Node::builder().name("m0").cookie(COOKIE).start().await?;
    let seed = first
        .listen_addr()
        .ok_or("the first node does not listen")?
        .to_string();
    let mut nodes = vec![first];
    for index in 1..n {
        let node = Node::builder()
            .name(format!("m{index}"))
            .cookie(COOKIE)
            .seed(seed.clone())
            .start()
            .await?;
        nodes.push(node);
    }
    let started = Instant::now();
    while nodes.iter().any(|node| node.cluster_members().len() < n - 1) {
        if started.elapsed() > LIMIT {
            return Err(format!("{n} nodes did not converge within {LIMIT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    let most = nodes
        .iter()
        .map(|node| node.connected_nodes().len())
        .max()
        .unwrap_or(0);
    for node in &nodes {
        node.shutdown().await;
    }
    Ok((took, most))
}

/// The membership suite: convergence of `sizes` nodes.
pub(crate) async fn membership(sizes: &[usize]) -> Result<(), BoxError> {
    report("membership.join_round", 1000.0, "ms");
    report("membership.probe_period", 1000.0, "ms");
    for &n in sizes {
        let (took, most) = converge(n).await?;
        report(
            &format!("membership.converge_{n}"),
            took.as_secs_f64() * 1e3,
            "ms",
        );
        report(
            &format!("membership.connections_per_node_{n}"),
            most as f64,
            "connections",
        );
    }
    Ok(())
}
