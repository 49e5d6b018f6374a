//! Membership convergence: `n` nodes of this process on loopback (TCP connections, SWIM over
//! UDP), each started with the first node as its seed; the time from the last start until
//! every node counts every other in, for 10, 50 and 100 nodes. There is no raw baseline for
//! a protocol's convergence; what bounds it is printed beside it: the join round (a node
//! announces itself to the nodes it is connected to once a second) and the probe period.
//! Beside it, the connections a node holds: at convergence (the registry's greeting to
//! every member opens one to each), and once they have been idle for the idle timeout
//! (members are connected on demand; idle connections close).

use std::time::{Duration, Instant};

use distribute::Node;

use crate::{report, BoxError};

const COOKIE: &str = "bench-cookie";

/// How long a cluster may take to converge before the run gives up.
const LIMIT: Duration = Duration::from_secs(60);

/// The idle timeout of the bench's nodes.
const IDLE: Duration = Duration::from_secs(2);

/// What one cluster size gave.
struct Converged {
    took: Duration,
    /// The most connections a node held at convergence.
    at_convergence: usize,
    /// The most a node held after three idle timeouts without traffic.
    after_idle: usize,
}

/// The most connections open on any of `nodes`.
fn most_connections(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|node| {
            node.connected_nodes()
                .iter()
                .filter(|peer| peer.connected)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Starts `n` nodes, all seeded with the first; returns once every node counts the others
/// in, with the time that took after the last start and the connections nodes held.
async fn converge(n: usize) -> Result<Converged, BoxError> {
    let first = Node::builder()
        .name("m0")
        .cookie(COOKIE)
        .idle_timeout(Some(IDLE))
        .start()
        .await?;
    let seed = first
        .listen_addr()
        .ok_or("the first node does not listen")?
        .to_string();
    let mut nodes = vec![first];
    for index in 1..n {
        let node = Node::builder()
            .name(format!("m{index}"))
            .cookie(COOKIE)
            .idle_timeout(Some(IDLE))
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
    let at_convergence = most_connections(&nodes);
    tokio::time::sleep(IDLE * 3).await;
    let after_idle = most_connections(&nodes);
    for node in &nodes {
        node.shutdown().await;
    }
    Ok(Converged {
        took,
        at_convergence,
        after_idle,
    })
}

/// The membership suite: convergence of `sizes` nodes.
pub(crate) async fn membership(sizes: &[usize]) -> Result<(), BoxError> {
    report("membership.join_round", 1000.0, "ms");
    report("membership.probe_period", 1000.0, "ms");
    for &n in sizes {
        let converged = converge(n).await?;
        report(
            &format!("membership.converge_{n}"),
            converged.took.as_secs_f64() * 1e3,
            "ms",
        );
        report(
            &format!("membership.connections_per_node_{n}"),
            converged.at_convergence as f64,
            "connections",
        );
        report(
            &format!("membership.connections_per_node_{n}_idle"),
            converged.after_idle as f64,
            "connections",
        );
    }
    Ok(())
}
