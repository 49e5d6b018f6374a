//! Nodes in one process over the in-memory transport: no sockets, the same protocol above.
//! The mesh forms, calls cross nodes, the registry replicates, a cut connection is a node
//! down, and a node of another network (or an unknown address) cannot be reached.

use distribute::net::MemoryTransport;
use distribute::prelude::*;
use distribute::{ConnectError, NodeDownReason};
use distribute_tests::{
    addr, shutdown, wait_connected, wait_event, within, Counter, CounterClient, Gate, COOKIE,
};

async fn memory_node(name: &str, network: &MemoryTransport) -> Node {
    match Node::builder()
        .name(name)
        .cookie(COOKIE)
        .transport(network.clone())
        .start()
        .await
    {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

/// Nodes `a` and `b` on a fresh in-memory network, and `b`'s ref to a counter on `a`.
async fn counter_across_two_nodes() -> (Node, Node, ActorRef<Counter>) {
    let network = MemoryTransport::new();
    let (a, b) = (memory_node("a", &network).await, memory_node("b", &network).await);
    b.connect(addr(&a)).await.expect("connect");
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote = b.lookup_on(a.id(), "counter").await.expect("lookup");
    (a, b, remote)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_memory_nodes_mesh_call_and_share_names() {
    let network = MemoryTransport::new();
    let (a, b, c) = (
        memory_node("a", &network).await,
        memory_node("b", &network).await,
        memory_node("c", &network).await,
    );
    b.connect(addr(&a)).await.expect("b connects to a");
    c.connect(addr(&b)).await.expect("c connects to b");
    for node in [&a, &b, &c] {
        wait_connected(node, 2).await;
    }

    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("counter", &counter).await.expect("register");
    let from_c: ActorRef<Counter> = within(
        "the name on c",
        c.lookup_with_timeout("counter", distribute_tests::DEADLINE),
    )
    .await
    .expect("lookup on c");
    assert!(!from_c.is_local());
    from_c.add(4).await.expect("tell from c");
    assert_eq!(from_c.get().await, Ok(4));
    let from_b: ActorRef<Counter> = b.lookup("counter").expect("lookup on b");
    assert_eq!(from_b.get().await, Ok(4));
    shutdown(&[&c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_memory_connection_is_a_node_down_with_monitors_fired() {
    let (a, b, remote) = counter_across_two_nodes().await;
    let monitor = remote.monitor();
    let mut events = b.events();
    assert!(b.disconnect(a.id()));
    wait_event(&mut events, "a down on b", |event| {
        matches!(
            event,
            NodeEvent::NodeDown {
                reason: NodeDownReason::Disconnected,
                ..
            }
        )
    })
    .await;
    assert_eq!(within("the monitor", monitor).await.reason, ExitReason::NodeDown);
    assert!(matches!(remote.get().await, Err(CallError::NodeDown { .. })));
    shutdown(&[&b, &a]).await;
}

#[tokio::test]
async fn memory_networks_are_separate_and_unknown_addresses_refuse() {
    let (one, other) = (MemoryTransport::new(), MemoryTransport::new());
    let a = memory_node("a", &one).await;
    let b = memory_node("b", &other).await;
    // Both got the first address of their own network: each is alone on it.
    assert_eq!(addr(&a), addr(&b));
    let refused = b.connect("127.0.0.1:9".parse().expect("address")).await;
    assert!(matches!(refused, Err(ConnectError::Io { .. })), "{refused:?}");
    assert!(b.connected_nodes().is_empty());
    shutdown(&[&b, &a]).await;
}

/// With no sockets, a cluster runs under tokio's paused clock: time moves only when every
/// task waits, so a minute of heartbeats passes at once and the connection stays up.
#[tokio::test(start_paused = true)]
async fn memory_nodes_run_under_a_paused_clock() {
    let (a, b, remote) = counter_across_two_nodes().await;
    let started = tokio::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    assert!(started.elapsed() >= std::time::Duration::from_secs(60));
    assert_eq!(b.connected_nodes().len(), 1, "heartbeats kept the connection up");
    remote.add(1).await.expect("tell after a minute");
    assert_eq!(remote.get().await, Ok(1));
    shutdown(&[&b, &a]).await;
}
