//! What `ActorRef::is_alive` and `is_node_up` answer, for a ref to an actor on this node
//! (exact) and for one on another node over real TCP on 127.0.0.1 (what this node was told).

use distribute::prelude::*;
use distribute_tests::{net_node, poll_until, shutdown, within, Counter, CounterClient, Gate};

#[tokio::test]
async fn a_local_ref_is_alive_until_its_actor_stops_and_its_node_is_always_up() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    assert!(counter.is_alive() && counter.is_node_up());
    counter.stop(ExitReason::Normal).await;
    assert!(!counter.is_alive(), "a local ref knows at once");
    assert!(counter.is_node_up(), "the node of a local actor is this one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_ref_is_alive_until_its_node_says_the_actor_stopped() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(distribute_tests::addr(&a)).await.expect("connect");
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");
    assert_eq!(remote.get().await, Ok(0));
    assert!(remote.is_alive() && remote.is_node_up());

    // Stopped on its own node: B was not told, and says what it knows.
    counter.stop(ExitReason::Normal).await;
    assert!(remote.is_alive(), "nobody told B");
    // A monitor asks; the DOWN that answers tells B for good.
    let down = within("the DOWN", remote.monitor()).await;
    assert_eq!(
        down.reason,
        ExitReason::NoProc,
        "it was gone when the monitor asked"
    );
    assert!(!remote.is_alive(), "B was told the actor stopped");
    assert!(remote.is_node_up(), "its node is still connected");

    // Stopped through the ref: the stop waits for the DOWN, so B knows at once.
    let second = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("second", &second).expect("register");
    let remote_second: ActorRef<Counter> = b.lookup_on(a.id(), "second").await.expect("lookup");
    assert_eq!(
        within("the remote stop", remote_second.stop(ExitReason::Normal)).await,
        ExitReason::Normal
    );
    assert!(!remote_second.is_alive());
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_ref_is_not_alive_once_its_node_is_gone() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(distribute_tests::addr(&a)).await.expect("connect");
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");
    assert_eq!(remote.get().await, Ok(0));
    assert!(remote.is_alive());
    a.shutdown().await;
    poll_until("B to see A gone", || !remote.is_node_up()).await;
    assert!(!remote.is_alive());
    b.shutdown().await;
}
