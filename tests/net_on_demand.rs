//! Connections on demand between members, on real loopback sockets: an idle connection is
//! closed in order and reopened by the next message, a monitor outlives the closes, a
//! connection that breaks is not a node down while the membership counts the node in, and
//! a member the membership declares dead fails what waits on it with `NodeDown` at once,
//! connected or not.

use std::time::Duration;

use distribute::prelude::*;
use distribute::{CallError, ExitReason, NodeDownReason, NodeEvent, NodeEvents, NodeId};
use distribute_tests::{
    converged, crash, on_own_runtime, poll_until, within, Counter, CounterClient, Gate, Sleeper,
    SleeperClient, COOKIE,
};

/// Short enough for a test, long enough for the calls of one step to count as traffic.
const IDLE: Duration = Duration::from_millis(400);

async fn member(name: &str, seed: Option<&Node>) -> Node {
    let mut builder = Node::builder().name(name).cookie(COOKIE).idle_timeout(Some(IDLE));
    if let Some(addr) = seed.and_then(Node::listen_addr) {
        builder = builder.seed(addr.to_string());
    }
    match builder.start().await {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

/// Whether `node` has a connection open to `peer`.
fn connected_to(node: &Node, peer: NodeId) -> bool {
    node.connected_nodes()
        .iter()
        .any(|info| info.id == peer && info.connected)
}

/// Whether `node` counts `peer` up (connected or not).
fn up(node: &Node, peer: NodeId) -> bool {
    node.connected_nodes().iter().any(|info| info.id == peer)
}

/// The events received so far.
async fn drain(events: &mut NodeEvents) -> Vec<NodeEvent> {
    let mut seen = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(5), events.recv()).await {
        seen.push(event);
    }
    seen
}

fn node_downs(events: &[NodeEvent]) -> Vec<&NodeEvent> {
    events
        .iter()
        .filter(|event| matches!(event, NodeEvent::NodeDown { .. }))
        .collect()
}

async fn both_idle(a: &Node, b: &Node) {
    poll_until("the idle connection to close on both sides", || {
        !connected_to(a, b.id()) && !connected_to(b, a.id())
    })
    .await;
}

#[tokio::test]
async fn an_idle_connection_closes_and_the_next_call_reopens_it() {
    let a = member("a", None).await;
    let b = member("b", Some(&a)).await;
    converged(&[&a, &b]).await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote = b.lookup_on::<Counter>(a.id(), "counter").await.expect("lookup");
    let (mut a_events, mut b_events) = (a.events(), b.events());
    remote.add(2).await.expect("add");
    assert_eq!(remote.get().await, Ok(2));
    // b watches the counter through every close and reopening below.
    let down = remote.monitor();

    both_idle(&a, &b).await;
    assert!(
        up(&a, b.id()) && up(&b, a.id()),
        "members stay up without a connection"
    );
    assert_eq!(remote.get().await, Ok(2), "the call reopens a connection");
    assert!(connected_to(&b, a.id()));

    both_idle(&a, &b).await;
    // The DOWN goes back on a connection that a opens for it.
    let stopped = ExitReason::Error("done".into());
    counter.stop(stopped.clone()).await;
    let down = within("the DOWN of the stopped counter", down).await;
    assert_eq!(down.reason, stopped, "the real reason, not a node down");

    let seen = [drain(&mut a_events).await, drain(&mut b_events).await].concat();
    assert!(node_downs(&seen).is_empty(), "no node went down: {seen:?}");
    let ups = seen
        .iter()
        .filter(|event| matches!(event, NodeEvent::NodeUp { .. }))
        .count();
    assert_eq!(ups, 0, "reopening a connection is not a node coming up: {seen:?}");
}

#[tokio::test]
async fn a_broken_connection_is_not_a_node_down_while_the_node_is_a_member() {
    let a = member("a", None).await;
    let b = member("b", Some(&a)).await;
    converged(&[&a, &b]).await;
    let gate = Gate::new();
    let counter = a.spawn(Counter::new(gate.clone())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote = b.lookup_on::<Counter>(a.id(), "counter").await.expect("lookup");
    remote.add(5).await.expect("add");
    let down = remote.monitor();
    let mut b_events = b.events();
    // A call held in the counter when the connection breaks.
    let stats = a.net_stats().expect("a is networked");
    let before = stats.messages_in();
    let held = tokio::spawn({
        let remote = remote.clone();
        async move { remote.hold_then_get().await }
    });
    poll_until("the held call to reach a", || stats.messages_in() > before).await;
    // a cuts the connection without a goodbye: for b, it just broke.
    assert!(a.disconnect(b.id()));
    let lost = within("the held call to fail", held)
        .await
        .expect("the call task");
    assert!(
        matches!(lost, Err(CallError::ConnectionLost { .. })),
        "a call in flight fails at once, and not as a node down: {lost:?}"
    );
    poll_until("b to see the connection gone", || !connected_to(&b, a.id())).await;
    assert!(up(&b, a.id()), "a is still up for b");
    gate.open();
    assert_eq!(remote.get().await, Ok(5), "b reconnects on demand");
    let seen = drain(&mut b_events).await;
    assert!(node_downs(&seen).is_empty(), "b saw no node down: {seen:?}");
    // b's monitor was sent again on the new connection: it still fires for the real exit.
    counter.stop(ExitReason::Normal).await;
    let down = within("the DOWN after the reconnect", down).await;
    assert_eq!(down.reason, ExitReason::Normal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_declared_dead_fails_calls_and_monitors_with_node_down() {
    let a = member("a", None).await;
    let seed = a.listen_addr().unwrap_or_else(|| panic!("a listens"));
    let builder = Node::builder()
        .name("doomed")
        .cookie(COOKIE)
        .idle_timeout(Some(IDLE))
        .seed(seed.to_string());
    let (runtime, victim) = on_own_runtime(builder).await;
    converged(&[&a, &victim]).await;
    let waiting = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    for name in ["idle", "busy"] {
        let sleeper = victim.spawn(Sleeper::new(waiting.clone())).await.expect("spawn");
        victim.register_local(name, &sleeper).expect("register");
    }
    let idle_remote = a.lookup_on::<Sleeper>(victim.id(), "idle").await.expect("lookup");
    let busy_remote = a.lookup_on::<Sleeper>(victim.id(), "busy").await.expect("lookup");
    let watched = idle_remote.monitor();
    // The connection closes as idle: the monitor is held with no connection open.
    poll_until("the idle close", || !connected_to(&a, victim.id())).await;
    // A call that will never be answered, on a reopened connection.
    let in_flight = tokio::spawn({
        let busy = busy_remote.clone();
        async move { busy.with_timeout(Duration::from_secs(120)).wait_forever().await }
    });
    poll_until("the call to be in the sleeper", || {
        waiting.load(std::sync::atomic::Ordering::SeqCst) == 1
    })
    .await;
    let mut events = a.events();
    let victim_id = victim.id();
    crash(runtime).await;
    // The connection breaks first: the call in flight on it fails at once.
    let lost = within("the call in flight to fail", in_flight)
        .await
        .expect("the call task");
    assert!(matches!(lost, Err(CallError::ConnectionLost { .. })), "{lost:?}");
    // A call made now waits for a connection to a member not yet declared dead, and fails
    // with `NodeDown` when it is (within the suspicion time, a few seconds after a probe
    // misses), long before its own timeout.
    assert!(up(&a, victim_id), "not declared dead yet");
    let declared = Duration::from_secs(30);
    let failed = tokio::time::timeout(
        declared,
        busy_remote
            .with_timeout(Duration::from_secs(120))
            .ping("anyone?".into()),
    )
    .await
    .expect("the call failed in time");
    assert!(matches!(failed, Err(CallError::NodeDown { .. })), "{failed:?}");
    let down = tokio::time::timeout(declared, watched)
        .await
        .expect("the monitor fired");
    assert_eq!(down.reason, ExitReason::NodeDown);
    let reason = distribute_tests::wait_node_down(&mut events, "the node down", victim_id).await;
    assert_eq!(
        reason,
        NodeDownReason::DeclaredDown,
        "declared down by the membership, not by the broken connection"
    );
}

/// Bursts of tells with pauses around the idle timeout, so that connections close while
/// the next burst is on its way: the close is in order (each side writes what it holds and
/// reads the other to its end), so every tell arrives, in order of the bursts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tells_racing_idle_closes_all_arrive() {
    let idle = Duration::from_millis(30);
    let start = |name: &'static str, seed: Option<std::net::SocketAddr>| async move {
        let mut builder = Node::builder().name(name).cookie(COOKIE).idle_timeout(Some(idle));
        if let Some(seed) = seed {
            builder = builder.seed(seed.to_string());
        }
        builder.start().await.expect("start")
    };
    let a = start("a", None).await;
    let b = start("b", a.listen_addr()).await;
    converged(&[&a, &b]).await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote = b.lookup_on::<Counter>(a.id(), "counter").await.expect("lookup");
    let mut rng = fastrand::Rng::with_seed(7);
    let (bursts, per_burst) = (40, 25);
    let mut closes_seen = 0;
    for _ in 0..bursts {
        for _ in 0..per_burst {
            remote.add(1).await.expect("tell");
        }
        // Around the idle timeout: sometimes the connection closes first, sometimes not.
        tokio::time::sleep(Duration::from_millis(rng.u64(15..80))).await;
        if !connected_to(&b, a.id()) {
            closes_seen += 1;
        }
    }
    println!("idle closes seen between bursts: {closes_seen} of {bursts}");
    assert!(closes_seen > 0, "no idle close happened between the bursts");
    assert_eq!(
        within("the last call", remote.get()).await,
        Ok(bursts * per_burst),
        "every tell arrived ({closes_seen} idle closes seen)"
    );
}
