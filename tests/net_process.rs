//! Nodes in separate OS processes: the other node is the `test-node` binary of this package
//! (`bin/test_node.rs`), so its death is a real one. Killed with SIGKILL, it says nothing:
//! the connection breaks (or falls silent) and this node must see it down, fail the calls
//! waiting on it at once and fire the monitors. Asked to stop, it shuts down in order and
//! this node sees a goodbye.

use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::NodeDownReason;
use distribute_tests::process::NodeProcess;
use distribute_tests::{
    is_node_down_of, poll_until, wait_event, within, Sleeper, SleeperClient, COOKIE, FAST_DETECTION,
};

/// The heartbeat of both nodes: a silent peer is down after 500 ms.
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(500);

/// Starts the `test-node` process `name` and waits until it is ready.
async fn start_child(name: &str) -> NodeProcess {
    NodeProcess::start(env!("CARGO_BIN_EXE_test-node"), name, &[]).await
}

/// This test's node, with the child's cookie and heartbeat.
async fn parent_node() -> Node {
    Node::builder()
        .name("parent")
        .cookie(COOKIE)
        .heartbeat(HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT)
        .start()
        .await
        .expect("start the parent node")
}

/// Connects to the child and looks up its two sleepers; checks a plain call on each.
async fn connect(node: &Node, child: &NodeProcess) -> (NodeId, ActorRef<Sleeper>, ActorRef<Sleeper>) {
    let child_id = within("connect", node.connect(child.addr))
        .await
        .expect("connect to the child");
    let sleeper: ActorRef<Sleeper> = within("lookup", node.lookup_on(child_id, "sleeper"))
        .await
        .expect("look up the sleeper");
    let watcher: ActorRef<Sleeper> = within("lookup", node.lookup_on(child_id, "watcher"))
        .await
        .expect("look up the watcher");
    assert!(!sleeper.is_local());
    assert_eq!(sleeper.id().node(), child_id);
    assert_eq!(sleeper.ping("hello".into()).await, Ok("pong 1: hello".to_owned()));
    assert_eq!(sleeper.ping("again".into()).await, Ok("pong 2: again".to_owned()));
    assert_eq!(watcher.waiting().await, Ok(0));
    (child_id, sleeper, watcher)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_is_seen_down_and_its_calls_fail_at_once() {
    let mut child = start_child("child").await;
    let node = Node::builder()
        .name("parent")
        .cookie(COOKIE)
        .heartbeat(HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT)
        .failure_detection(FAST_DETECTION)
        .start()
        .await
        .expect("start the parent node");
    let (child_id, sleeper, watcher) = connect(&node, &child).await;
    // The child joins the parent's membership: from then on the cluster, not the
    // connection, says when it is dead.
    poll_until("the child to be a member", || {
        node.cluster_members().iter().any(|member| member.id == child_id)
    })
    .await;

    // A call the child will never answer, with a timeout far beyond the test's deadline.
    let pending = tokio::spawn({
        let sleeper = sleeper.clone();
        async move { sleeper.with_timeout(Duration::from_secs(60)).wait_forever().await }
    });
    // Wait until the child is handling it (the blocked sleeper cannot say; its twin can).
    within("the call to reach the child", async {
        while watcher.waiting().await != Ok(1) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let monitor = sleeper.monitor();
    let mut events = node.events();

    let killed_at = Instant::now();
    let status = child.kill();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the child died of SIGKILL: {status:?}");
    }
    #[cfg(not(unix))]
    assert!(!status.success(), "{status:?}");

    // The connection breaks first (the closed socket is seen at once): the call in flight on
    // it fails then, not after its 60 s timeout; it may have run, so it says so.
    let call = within("the pending call to fail", pending)
        .await
        .expect("the call task");
    assert_eq!(call, Err(CallError::ConnectionLost { actor: sleeper.id() }));

    let event = wait_event(&mut events, "NodeDown of the killed child", |e| {
        is_node_down_of(e, child_id)
    })
    .await;
    let elapsed = killed_at.elapsed();
    // Generous: the parent's membership declares a dead member down about 1.5 s after it
    // stops answering (a probe period or two, then the 1 s suspicion).
    assert!(
        elapsed < Duration::from_secs(5),
        "NodeDown came {elapsed:?} after the kill"
    );
    match event {
        NodeEvent::NodeDown { name, reason, .. } => {
            assert_eq!(name, "child");
            assert_eq!(
                reason,
                NodeDownReason::DeclaredDown,
                "declared dead by the cluster"
            );
        }
        other => panic!("unexpected event {other:?}"),
    }
    let down = within("the monitor to fire", monitor).await;
    assert_eq!(down.actor, sleeper.id());
    assert_eq!(down.reason, ExitReason::NodeDown);
    // New calls fail at once.
    assert_eq!(
        within("a call after the kill", sleeper.ping("anyone?".into())).await,
        Err(CallError::NodeDown { actor: sleeper.id() })
    );
    assert!(!sleeper.is_alive());
    assert!(node.connected_nodes().iter().all(|peer| peer.id != child_id));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_shuts_down_cleanly_says_goodbye() {
    let mut child = start_child("child").await;
    let node = parent_node().await;
    let (child_id, sleeper, _watcher) = connect(&node, &child).await;
    let monitor = sleeper.monitor();
    // The call travels behind the monitor request: once it is answered, the child knows.
    assert_eq!(
        sleeper.ping("monitored".into()).await,
        Ok("pong 3: monitored".to_owned())
    );
    let mut events = node.events();

    // Closing its stdin asks the child to call `Node::shutdown` and exit.
    child.close_stdin();
    let event = wait_event(&mut events, "NodeDown of the child", |e| {
        is_node_down_of(e, child_id)
    })
    .await;
    assert!(
        matches!(
            event,
            NodeEvent::NodeDown { reason: NodeDownReason::PeerShutdown, ref name, .. } if name == "child"
        ),
        "an orderly shutdown says goodbye: {event:?}"
    );
    // The child's node stopped its actors before it said goodbye, and told the monitors why.
    let down = within("the monitor to fire", monitor).await;
    assert_eq!(down.actor, sleeper.id());
    assert_eq!(down.reason, ExitReason::Shutdown);
    let status = child.exited().await;
    assert!(status.success(), "the child exits cleanly: {status:?}");

    assert_eq!(
        within("a call after the shutdown", sleeper.ping("anyone?".into())).await,
        Err(CallError::NodeDown { actor: sleeper.id() })
    );
    assert!(node.connected_nodes().iter().all(|peer| peer.id != child_id));
    node.shutdown().await;
}
