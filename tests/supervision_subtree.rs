//! A supervisor restarted by its parent after an escalation restarts its subtree behind the
//! same refs: ids, mailboxes and registered names stay. One that is not restarted releases
//! its subtree for good.

use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Restart, Strategy, Supervisor, SupervisorSpec};
use distribute_tests::{net_node, poll_until, within, Counter, CounterClient, Gate};

fn counter(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || Counter::new(Gate::new()))
}

/// An inner supervisor that gives up at its second failure in a minute.
fn inner() -> SupervisorSpec {
    SupervisorSpec::new(Strategy::OneForOne)
        .name("inner")
        .intensity(1, Duration::from_secs(60))
}

/// Crashes `actor` twice, each time once it answers again: the second crash exceeds an
/// intensity of one restart.
async fn crash_twice(actor: &ActorRef<Counter>) {
    for _ in 0..2 {
        poll_until("the actor to be up", || actor.is_alive()).await;
        let _ = actor.boom("crash".into()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_registered_by_the_children_of_a_restarted_supervisor_stay_theirs() {
    let node = net_node("a").await;
    let tree = inner()
        .child(counter("leaf"))
        .child(counter("named").registered("named"));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(tree.into_child("inner"))
        .start(&node)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let inner_ref = root
        .child::<Supervisor>("inner")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no inner"));
    let leaf = inner_ref
        .child::<Counter>("leaf")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no leaf"));
    let named = node
        .lookup::<Counter>("named")
        .unwrap_or_else(|error| panic!("{error}"));
    named.add(3).await.unwrap_or_else(|error| panic!("{error}"));

    crash_twice(&leaf).await;
    // The subtree is back, behind the same refs: the named child answers as a fresh
    // incarnation (its count back at zero), and the name never changed hands.
    within("a fresh incarnation behind the named ref", async {
        while named.get().await != Ok(0) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert_eq!(node.lookup::<Counter>("named").map(|r| r.id()), Ok(named.id()));
    assert_eq!(leaf.get().await, Ok(0));
    root.stop(ExitReason::Shutdown).await;
    node.shutdown().await;
}

#[tokio::test]
async fn a_failed_supervisor_that_is_not_restarted_releases_its_children() {
    let node = Node::new();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(counter("kept"))
        .child(
            inner()
                .child(counter("leaf"))
                .child(counter("other"))
                .into_child("inner")
                .restart(Restart::Temporary),
        )
        .start(&node)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let inner_ref = root
        .child::<Supervisor>("inner")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no inner"));
    let leaf = inner_ref
        .child::<Counter>("leaf")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no leaf"));
    let other = inner_ref
        .child::<Counter>("other")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no other"));
    crash_twice(&leaf).await;
    // Temporary: root does not restart it, so its children stop for good.
    assert!(matches!(
        inner_ref.wait_for_stop().await,
        ExitReason::MaxRestartsExceeded { .. }
    ));
    assert_eq!(other.wait_for_stop().await, ExitReason::Shutdown);
    assert!(matches!(leaf.wait_for_stop().await, ExitReason::Panicked(_)));
    poll_until("only root and its other child to run", || node.actor_count() == 2).await;
    root.stop(ExitReason::Shutdown).await;
    assert_eq!(node.actor_count(), 0);
}

#[tokio::test]
async fn a_top_level_supervisor_that_gives_up_stops_its_children_for_good() {
    let node = Node::new();
    let root = inner()
        .child(counter("leaf"))
        .start(&node)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let leaf = root
        .child::<Counter>("leaf")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no leaf"));
    crash_twice(&leaf).await;
    assert!(matches!(
        root.wait_for_stop().await,
        ExitReason::MaxRestartsExceeded { .. }
    ));
    assert!(matches!(leaf.wait_for_stop().await, ExitReason::Panicked(_)));
    assert_eq!(node.actor_count(), 0);
}

#[tokio::test]
async fn a_nested_supervisor_restarted_with_a_failed_sibling_keeps_its_subtree_behind_its_refs() {
    let node = Node::new();
    for strategy in [Strategy::OneForAll, Strategy::RestForOne] {
        let root = SupervisorSpec::new(strategy)
            .child(counter("first"))
            .child(inner().child(counter("leaf")).into_child("inner"))
            .start(&node)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let first = root
            .child::<Counter>("first")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let nested = root
            .child::<Supervisor>("inner")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let leaf = nested
            .child::<Counter>("leaf")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        leaf.add(7).await.unwrap_or_else(|error| panic!("{error}"));
        // `first` fails: both strategies restart the nested supervisor after it.
        let _ = first.boom("crash".into()).await;
        within("a fresh incarnation behind the leaf's ref", async {
            while leaf.get().await != Ok(0) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        let again = nested
            .child::<Counter>("leaf")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(again.id(), leaf.id(), "{strategy:?}: the leaf kept its ref");
        root.stop(ExitReason::Shutdown).await;
        assert_eq!(leaf.wait_for_stop().await, ExitReason::Shutdown);
        assert_eq!(node.actor_count(), 0, "{strategy:?}: nothing kept lingers");
    }
}
