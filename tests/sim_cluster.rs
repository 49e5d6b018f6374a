//! The simulator itself: one seed, one trace; crashes that take everything on a node at
//! once; restarts as new incarnations; partitions, latency and loss as configured.

use std::time::Duration;

use distribute::testing::{Op, Report, SimError, TestCluster};
use distribute::{CallError, Node, NodeEvent};
use distribute_tests::{Counter, CounterClient, Gate};

/// Registrations, calls, a partition, jitter, loss, a crash and a restart, all chosen by the
/// seed.
fn eventful(seed: u64) -> Result<Report, SimError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    TestCluster::builder()
        .nodes(3)
        .seed(seed)
        .run(move |cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let owner = rng.usize(0..3);
            let counter = cluster
                .node(owner)
                .run(|node: Node| async move { node.spawn(Counter::new(Gate::new())).await })
                .await??;
            cluster.node(owner).register_global("counter", &counter).await?;
            let caller = (owner + 1) % 3;
            let target = cluster.node(caller).adopt(&counter).await?;
            let _ = cluster
                .node(caller)
                .call(counter.id(), Duration::from_secs(5), move |_| async move {
                    target.get().await
                })
                .await;
            cluster
                .set_latency(
                    0,
                    1,
                    Duration::from_millis(2),
                    Duration::from_millis(rng.u64(3..30)),
                )
                .await;
            cluster.set_loss(1, 2, 0.005).await;
            cluster.partition(&[owner], &[(owner + 1) % 3, (owner + 2) % 3]);
            cluster.sleep(Duration::from_millis(rng.u64(100..900))).await;
            cluster.set_loss(1, 2, 0.0).await;
            cluster.heal();
            let victim = rng.usize(0..3);
            cluster.crash(victim).await;
            cluster.sleep(Duration::from_millis(rng.u64(0..800))).await;
            cluster.restart(victim).await;
            cluster.check(Duration::from_secs(5)).await?;
            Ok(())
        })
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    for seed in 0..25 {
        let first = eventful(seed)
            .map_err(|error| error.to_string())
            .map(|report| report.history.trace());
        let second = eventful(seed)
            .map_err(|error| error.to_string())
            .map(|report| report.history.trace());
        let first = first.unwrap_or_else(|error| panic!("{error}"));
        assert!(first.len() > 20, "seed {seed}: a trace of {} lines", first.len());
        assert_eq!(Ok(first), second, "seed {seed} ran differently twice");
    }
}

#[test]
fn different_seeds_give_different_runs() {
    let traces: Vec<Vec<String>> = (0..4)
        .map(|seed| {
            eventful(seed)
                .map(|report| report.history.trace())
                .unwrap_or_default()
        })
        .collect();
    for (i, a) in traces.iter().enumerate() {
        for b in &traces[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn a_crash_takes_the_nodes_actors_at_once_and_a_restart_is_a_new_incarnation() {
    let report = TestCluster::builder()
        .seed(7)
        .run(|cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let before = cluster.node(1).id().ok_or("node 1 runs")?;
            let counter = cluster
                .node(1)
                .run(|node: Node| async move { node.spawn(Counter::new(Gate::new())).await })
                .await??;
            let remote = cluster.node(0).adopt(&counter).await?;
            let asked = cluster
                .node(0)
                .run(move |_| async move { remote.get().await })
                .await?;
            assert_eq!(asked, Ok(0));
            cluster.crash(1).await;
            assert!(cluster.node(1).get().is_none(), "a crashed node is not running");
            assert!(
                cluster.node(1).run(|_| async {}).await.is_err(),
                "nor runs anything"
            );
            // The actor vanished with its runtime: a call to it from another node fails with
            // a typed error and does not hang: `ConnectionLost` if it went out on the
            // connection before the heartbeats timed out on it, `NodeDown` once the
            // membership declared the node dead.
            let remote = cluster.node(0).adopt(&counter).await?;
            let failed = cluster
                .node(0)
                .run(move |_| async move {
                    remote
                        .ask(|reply| distribute_tests::CounterMsg::Get { reply })
                        .await
                })
                .await?;
            assert!(
                matches!(
                    failed,
                    Err(CallError::NodeDown { .. } | CallError::ConnectionLost { .. })
                ),
                "{failed:?}"
            );
            cluster.restart(1).await;
            let after = cluster.node(1).id().ok_or("node 1 runs again")?;
            assert_ne!(before, after, "a restart is a new incarnation");
            cluster.wait_connected(Duration::from_secs(5)).await?;
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{error}"));
    let crashed = report
        .history
        .entries()
        .iter()
        .filter(|entry| entry.op == Op::Crashed)
        .count();
    assert_eq!(crashed, 1);
}

#[test]
fn a_partition_is_seen_as_node_down_and_latency_slows_the_round_trip() {
    TestCluster::builder()
        .seed(3)
        .run(|cluster| async move {
            cluster.wait_connected(Duration::from_secs(5)).await?;
            let counter = cluster
                .node(1)
                .run(|node: Node| async move { node.spawn(Counter::new(Gate::new())).await })
                .await??;
            let counter = cluster.node(0).adopt(&counter).await?;
            let rtt = |counter: distribute::ActorRef<Counter>| {
                let cluster = cluster.clone();
                async move {
                    let started = cluster.elapsed();
                    let _ = cluster
                        .node(0)
                        .run(move |_| async move { counter.get().await })
                        .await;
                    cluster.elapsed() - started
                }
            };
            let fast = rtt(counter.clone()).await;
            cluster
                .set_latency(0, 1, Duration::from_millis(100), Duration::from_millis(100))
                .await;
            let slow = rtt(counter.clone()).await;
            assert!(fast < Duration::from_millis(50), "{fast:?}");
            assert!(
                slow >= Duration::from_millis(200),
                "two crossings of 100 ms: {slow:?}"
            );
            cluster.partition(&[0], &[1, 2]);
            // The membership declares the other side dead within a probe period or two and
            // its suspicion (1 s on the simulator).
            cluster.sleep(Duration::from_secs(3)).await;
            let downs = cluster
                .history()
                .entries()
                .into_iter()
                .filter(|entry| matches!(entry.op, Op::Event(NodeEvent::NodeDown { .. })))
                .count();
            assert_eq!(downs, 4, "each side sees the other's nodes go down");
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn a_scenario_that_outlives_its_time_limit_fails_with_its_seed() {
    let outcome = TestCluster::builder()
        .seed(11)
        .time_limit(Duration::from_secs(2))
        .run(|cluster| async move {
            cluster.sleep(Duration::from_secs(60)).await;
            Ok(())
        });
    let error = outcome.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(error.starts_with("seed 11: "), "{error}");
}
