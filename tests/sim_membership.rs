//! The cluster's membership on the simulator: many nodes converge on one view from a
//! single seed, and a crashed node is seen down by all.

use std::time::Duration;

use distribute::testing::{Report, SimError, TestCluster};
use distribute::BoxError;

/// Waits until every running node counts `expected` others in; the simulated time it took.
async fn converged(cluster: &TestCluster, expected: usize, limit: Duration) -> Result<Duration, BoxError> {
    let started = cluster.elapsed();
    loop {
        let views: Vec<usize> = (0..cluster.len())
            .filter_map(|index| cluster.node(index).get())
            .map(|node| node.cluster_members().len())
            .collect();
        if views.iter().all(|view| *view == expected) {
            return Ok(cluster.elapsed() - started);
        }
        if cluster.elapsed() - started > limit {
            return Err(format!(
                "no single view of {} nodes within {limit:?}: {views:?}",
                expected + 1
            )
            .into());
        }
        cluster.sleep(Duration::from_millis(50)).await;
    }
}

/// `nodes` nodes start together, each joining through the first node that answers: they
/// converge on one view within 5 s of simulated time.
fn converge(nodes: usize, seed: u64) -> Result<Report, SimError> {
    TestCluster::builder()
        .nodes(nodes)
        .seed(seed)
        .time_limit(Duration::from_secs(60))
        .run(move |cluster| async move {
            let took = converged(&cluster, nodes - 1, Duration::from_secs(5)).await?;
            let connections: Vec<usize> = (0..nodes)
                .filter_map(|index| cluster.node(index).get())
                .map(|node| node.connected_nodes().len())
                .collect();
            let most = connections.iter().max().copied().unwrap_or(0);
            cluster.note(format!(
                "converged in {took:?}; at most {most} connections per node"
            ));
            println!(
                "sim.membership_converge_{nodes}\t{took:?}\tseed {seed}, at most {most} connections a node"
            );
            Ok(())
        })
}

#[test]
fn a_hundred_nodes_converge_on_one_view_within_five_simulated_seconds() {
    for seed in 0..2 {
        converge(100, seed).unwrap_or_else(|error| panic!("{error}"));
    }
}

/// Thirty nodes converge; one crashes (a power cut: no goodbye, no leave); every other
/// counts it out within its suspicion time and a few probe periods.
fn crash_one_of_thirty(seed: u64) -> Result<Report, SimError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    TestCluster::builder()
        .nodes(30)
        .seed(seed)
        .time_limit(Duration::from_secs(60))
        .run(move |cluster| async move {
            converged(&cluster, 29, Duration::from_secs(5)).await?;
            let victim = rng.usize(0..30);
            let id = cluster.node(victim).id().ok_or("the victim runs")?;
            cluster.crash(victim).await;
            let started = cluster.elapsed();
            let limit = Duration::from_secs(15);
            loop {
                let counted_out = (0..30)
                    .filter_map(|index| cluster.node(index).get())
                    .all(|node| node.cluster_members().iter().all(|member| member.id != id));
                if counted_out {
                    break;
                }
                if cluster.elapsed() - started > limit {
                    return Err(format!("node {victim} still counted in {limit:?} after its crash").into());
                }
                cluster.sleep(Duration::from_millis(50)).await;
            }
            let took = cluster.elapsed() - started;
            println!("sim.membership_down_30\t{took:?}\tseed {seed}");
            Ok(())
        })
}

#[test]
fn a_crashed_node_is_counted_out_by_all() {
    for seed in 0..3 {
        crash_one_of_thirty(seed).unwrap_or_else(|error| panic!("{error}"));
    }
}
