//! Partitions that heal with the same global name registered on both sides, on the
//! deterministic simulator: a thousand seeds, and the seeds that found the bugs fixed with
//! it, kept as regression tests.

use std::time::Duration;

use distribute::testing::{Report, SimError, Sweep, TestCluster};
use distribute::Node;
use distribute_tests::{Counter, Gate};

const REPLAY: &str = "cargo test -p distribute-tests --test sim_partition --";

async fn counter_on(cluster: &TestCluster, index: usize) -> Result<distribute::ActorRef<Counter>, distribute::BoxError> {
    let spawned = cluster
        .node(index)
        .run(|node: Node| async move { node.spawn(Counter::new(Gate::new())).await })
        .await??;
    Ok(spawned)
}

/// Node 0 registers `counter`, is cut off from nodes 1 and 2, node 1 registers `counter`
/// too, and the links heal: the scenario that found the three bugs below.
fn two_sides(seed: u64, configure: fn(usize, distribute::NodeBuilder) -> distribute::NodeBuilder) -> Result<Report, SimError> {
    TestCluster::builder()
        .nodes(3)
        .seed(seed)
        .configure(configure)
        .run(|cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let first = counter_on(&cluster, 0).await?;
            cluster.node(0).register_global("counter", &first).await?;
            cluster.partition(&[0], &[1, 2]);
            cluster.sleep(Duration::from_secs(2)).await;
            let second = counter_on(&cluster, 1).await?;
            let _ = cluster.node(1).register_global("counter", &second).await;
            cluster.heal();
            cluster.check(Duration::from_secs(5)).await?;
            Ok(())
        })
}

fn as_is(_: usize, builder: distribute::NodeBuilder) -> distribute::NodeBuilder {
    builder
}

fn never_reconnect(_: usize, builder: distribute::NodeBuilder) -> distribute::NodeBuilder {
    builder.reconnect(None)
}

fn replay(seed: u64, scenario: impl Fn(u64) -> Result<Report, SimError>) {
    if let Err(error) = scenario(seed) {
        for line in error.history.trace() {
            println!("{line}");
        }
        panic!("{error}");
    }
}

/// The three nodes join through each other and form a full mesh.
fn mesh(seed: u64, configure: fn(usize, distribute::NodeBuilder) -> distribute::NodeBuilder) -> Result<Report, SimError> {
    TestCluster::builder()
        .nodes(3)
        .seed(seed)
        .configure(configure)
        .run(|cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            Ok(())
        })
}

/// Bug: node 2 joined through node 0 before node 0 knew where node 2 listens, and node 1
/// joined after: node 0 introduced neither to the other, and the mesh never formed (with
/// `reconnect(None)` or not). Fixed by announcing each peer to the others once its address
/// is known (and by retrying an introduced node even under `reconnect(None)`).
#[test]
fn seed_19_a_peer_joining_before_its_address_was_known_is_introduced() {
    replay(19, |seed| mesh(seed, as_is));
    replay(19, |seed| mesh(seed, never_reconnect));
    replay(19, |seed| two_sides(seed, as_is));
}

/// Bug: node 2 reported the conflict twice, once from node 0's snapshot and again from the
/// sequencer's commit. Fixed by reporting each (name, loser) once per node.
#[test]
fn seed_14_a_conflict_is_reported_once_per_node() {
    replay(14, |seed| two_sides(seed, as_is));
}

/// Bug: node 2 held node 1's claim, which lost; node 1 stopped its loser and released the
/// name before node 2 heard from node 0, so node 2 met the winner alone and reported
/// nothing. Fixed by the loser's node announcing its loss to every node.
#[test]
fn seed_2_a_node_that_never_met_the_loser_reports_the_conflict() {
    replay(2, |seed| two_sides(seed, as_is));
}

#[test]
fn two_sides_heal_over_a_thousand_seeds() {
    Sweep::new("two_sides", format!("{REPLAY} two_sides_heal_over_a_thousand_seeds"))
        .run(|seed| two_sides(seed, as_is));
}
