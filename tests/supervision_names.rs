//! Names in child specs: `ChildSpec::registered` registers a supervised child in the
//! cluster-wide registry at each start (OTP's `{global, Name}`), keeps the name through
//! restarts, releases it when the child stops for good, and fails a start whose name is
//! taken; `join_group` does the same for process groups.

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use distribute::RegistryError;
use distribute_tests::{net_node, poll_until, within, Counter, CounterClient, Gate};

fn counter_child(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || Counter::new(Gate::new()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_child_keeps_its_name_through_restarts_and_releases_it_when_it_stops() {
    let node = net_node("a").await;
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(
            counter_child("counter")
                .registered("counter")
                .join_group("counters"),
        )
        .start(&node)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let counter = node
        .lookup::<Counter>("counter")
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(node.members::<Counter>("counters").len(), 1);
    assert_eq!(counter.add(1).await, Ok(()));
    assert_eq!(counter.get().await, Ok(1));

    // A crash restarts it behind the same ref: the name still leads to it.
    counter.kill();
    within("a fresh incarnation behind the ref", async {
        while counter.get().await != Ok(0) {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    })
    .await;
    let found = node.lookup::<Counter>("counter").map(|r| r.id());
    assert_eq!(found, Ok(counter.id()));
    assert_eq!(node.members::<Counter>("counters").len(), 1);

    // Stopped for good: the name and the membership go.
    supervisor
        .terminate_child("counter")
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    poll_until("the name to be released", || {
        matches!(
            node.lookup::<Counter>("counter"),
            Err(RegistryError::NotFound { .. })
        ) && node.members::<Counter>("counters").is_empty()
    })
    .await;
    // Started again, it registers again.
    supervisor
        .restart_child("counter")
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(node.lookup::<Counter>("counter").is_ok());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_whose_name_is_taken_fails_to_start_and_is_not_left_running() {
    let node = net_node("a").await;
    let squatter = node
        .spawn(Counter::new(Gate::new()))
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    node.register_global("counter", &squatter)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let before = node.actor_count();
    let started = SupervisorSpec::new(Strategy::OneForOne)
        .child(counter_child("counter").registered("counter"))
        .start(&node)
        .await;
    match started {
        Err(SpawnError::StartFailed { reason, .. }) => {
            assert!(reason.to_string().contains("counter"), "{reason}");
        }
        other => panic!("expected a failed start, got {:?}", other.map(|s| s.id())),
    }
    poll_until("nothing of the failed tree to run", || {
        node.actor_count() == before
    })
    .await;
    assert_eq!(
        node.lookup::<Counter>("counter").map(|r| r.id()),
        Ok(squatter.id())
    );

    // Added to a running supervisor, the same child fails the same way.
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .start(&node)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let added = supervisor
        .start_child(counter_child("counter").registered("counter"))
        .await;
    assert!(added.is_err(), "{added:?}");
    assert!(supervisor
        .which_children()
        .await
        .is_ok_and(|children| children.is_empty()));
    node.shutdown().await;
}

#[tokio::test]
async fn a_pool_spec_registers_its_workers_at_start_and_on_resize() {
    let node = Node::new();
    let pool = distribute::PoolSpec::new(2, || Counter::new(Gate::new()))
        .registered("counters")
        .start(&node)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(node.registered_names("counters_"), ["counters_1", "counters_2"]);
    pool.resize(3).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        node.registered_names("counters_"),
        ["counters_1", "counters_2", "counters_3"]
    );
    assert_eq!(node.members::<Counter>("counters").len(), 3);
    pool.resize(1).await.unwrap_or_else(|error| panic!("{error}"));
    poll_until("the removed workers to release their names", || {
        node.registered_names("counters_") == ["counters_1"] && node.members::<Counter>("counters").len() == 1
    })
    .await;
    pool.stop().await;
}
