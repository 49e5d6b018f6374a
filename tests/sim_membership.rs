//! The cluster's membership on the simulator: many nodes converge on one view from a
//! single seed, connections follow need (idle ones close, the next message reopens one),
//! and a crashed node is seen down by all.

use std::time::Duration;

use distribute::testing::{Report, SimError, TestCluster};
use distribute::BoxError;
use distribute_tests::{counter_on, CounterClient};

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

/// The idle timeout of the simulated nodes.
const IDLE: Duration = Duration::from_secs(2);

/// The connections open on each running node.
fn open_connections(cluster: &TestCluster) -> Vec<usize> {
    (0..cluster.len())
        .filter_map(|index| cluster.node(index).get())
        .map(|node| {
            node.connected_nodes()
                .iter()
                .filter(|peer| peer.connected)
                .count()
        })
        .collect()
}

/// `nodes` nodes start together, each joining through the first node that answers: they
/// converge on one view within 5 s of simulated time. Then nothing is sent: within a few
/// idle timeouts no node holds a connection any more, every node still counts every other
/// in, and a call from the last node to the first opens the one connection it needs.
fn converge(nodes: usize, seed: u64) -> Result<Report, SimError> {
    TestCluster::builder()
        .nodes(nodes)
        .seed(seed)
        .time_limit(Duration::from_secs(60))
        .configure(|_, builder| builder.idle_timeout(Some(IDLE)))
        .run(move |cluster| async move {
            let took = converged(&cluster, nodes - 1, Duration::from_secs(5)).await?;
            let mut open = open_connections(&cluster);
            open.sort_unstable();
            let most = open.last().copied().unwrap_or(0);
            let median = open.get(open.len() / 2).copied().unwrap_or(0);
            // The registry talks to its sequencer only: one node (the sequencer) is connected
            // to every other, the others to it, and to the few nodes that took themselves for
            // the sequencer while they knew only part of the cluster (closed once idle).
            if median > nodes / 10 {
                return Err(format!("a node holds {median} connections at convergence (median): {open:?}").into());
            }
            cluster.sleep(IDLE * 4).await;
            let idle = open_connections(&cluster);
            let idle_most = idle.iter().max().copied().unwrap_or(0);
            if idle_most != 0 {
                return Err(format!("connections still open after {:?} idle: {idle:?}", IDLE * 4).into());
            }
            converged(&cluster, nodes - 1, Duration::ZERO).await?;
            let counter = counter_on(&cluster, 0).await?;
            let last = cluster.node(nodes - 1);
            let counter = last.adopt(&counter).await?;
            let got = last
                .run(move |_| async move { counter.get().await })
                .await?;
            if got != Ok(0) {
                return Err(format!("the call across an idle cluster answered {got:?}").into());
            }
            let open = open_connections(&cluster);
            let (first, last) = (open.first().copied(), open.last().copied());
            if first != Some(1) || last != Some(1) || open.iter().sum::<usize>() != 2 {
                return Err(format!("one call, one connection (both ends); open: {open:?}").into());
            }
            cluster.note(format!(
                "converged in {took:?}; {median} connections per node (median), at most {most}, none once idle"
            ));
            println!(
                "sim.membership_converge_{nodes}\t{took:?}\tseed {seed}, {median} connections a node at convergence (median; at most {most}), {idle_most} after {:?} idle, 1 after one call",
                IDLE * 4
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
/// counts it out within its suspicion time and ten probe periods (the simulator's timings:
/// 1 s and 250 ms). SWIM finds a death by probing first (a period, a direct and an indirect
/// try), then suspects it for the suspicion time, then spreads the verdict.
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
            let limit = Duration::from_secs(1) + Duration::from_millis(250) * 10;
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
