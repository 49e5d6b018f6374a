//! Remote spawn between nodes on real loopback sockets: `Node::spawn_on` starts an actor on
//! another node, for the types that node allows, and every way it can fail is a typed error
//! on the caller while both nodes keep running.

use std::time::Duration;

use distribute::prelude::*;
use distribute::{RemoteSpawnError, SpawnOn};
use distribute_tests::{converged, net_node, poll_until, shutdown, within, COOKIE};
use serde::{Deserialize, Serialize};

/// A counter whose struct travels as its start arguments.
#[actor(remote_spawn)]
#[derive(Serialize, Deserialize)]
struct Tally {
    count: u64,
}

#[actor]
impl Tally {
    #[message]
    fn add(&mut self, n: u64) -> u64 {
        self.count += n;
        self.count
    }

    /// The node the actor runs on.
    #[message]
    fn home(&self, ctx: &mut Context<Self>) -> NodeId {
        ctx.node().id()
    }
}

/// Started from a smaller type than itself.
#[actor(remote_spawn = String)]
struct Greeter {
    greeting: String,
    greeted: u32,
}

impl From<String> for Greeter {
    fn from(greeting: String) -> Self {
        Greeter { greeting, greeted: 0 }
    }
}

#[actor]
impl Greeter {
    #[message]
    fn greet(&mut self, name: String) -> String {
        self.greeted += 1;
        format!("{}, {name} (#{})", self.greeting, self.greeted)
    }
}

/// Refuses to start when asked to.
#[actor(remote_spawn)]
#[derive(Serialize, Deserialize)]
struct Picky {
    refuse: bool,
}

#[actor]
impl Picky {
    #[on_start]
    async fn check(&mut self) -> Result<(), distribute::BoxError> {
        if self.refuse {
            return Err("refused to start".into());
        }
        Ok(())
    }

    #[message]
    fn ping(&self) {}
}

/// Two versions of one actor type: same name, same messages (so the same protocol), but
/// different start arguments, as two releases of a program may have.
mod v1 {
    use super::*;

    #[actor(name = "Versioned", remote_spawn = u8)]
    pub(crate) struct Versioned;

    impl From<u8> for Versioned {
        fn from(_: u8) -> Self {
            Versioned
        }
    }

    #[actor]
    impl Versioned {
        #[message]
        pub(crate) fn ping(&self) {}
    }
}

mod v2 {
    use super::*;

    #[actor(name = "Versioned", remote_spawn = (u64, u64, u64))]
    pub(crate) struct Versioned;

    impl From<(u64, u64, u64)> for Versioned {
        fn from(_: (u64, u64, u64)) -> Self {
            Versioned
        }
    }

    #[actor]
    impl Versioned {
        #[message]
        pub(crate) fn ping(&self) {}
    }
}

/// Another `Tally`: the same name, another protocol.
mod other {
    use super::*;

    #[actor(name = "Tally", remote_spawn)]
    #[derive(Serialize, Deserialize)]
    pub(crate) struct Tally;

    #[actor]
    impl Tally {
        #[message]
        pub(crate) fn reset(&mut self) {}
    }
}

async fn pair() -> (Node, Node) {
    let a = net_node("a").await;
    let b = match Node::builder()
        .name("b")
        .cookie(COOKIE)
        .seed(a.listen_addr().map(|addr| addr.to_string()).unwrap_or_default())
        .start()
        .await
    {
        Ok(node) => node,
        Err(error) => panic!("b did not start: {error}"),
    };
    converged(&[&a, &b]).await;
    (a, b)
}

#[tokio::test]
async fn an_actor_spawned_on_a_peer_runs_there_and_answers_like_a_local_one() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<Tally>();
    let before = b.actor_count();
    let tally = within("spawn_on", a.spawn_on::<Tally>(b.id(), Tally { count: 40 }))
        .await
        .unwrap_or_else(|error| panic!("spawn_on failed: {error}"));
    assert_eq!(tally.id().node(), b.id());
    assert!(!tally.is_local());
    assert_eq!(b.actor_count(), before + 1);
    assert_eq!(tally.add(2).await.ok(), Some(42));
    assert_eq!(tally.home().await.ok(), Some(b.id()));
    // Stopping it from a stops it on b.
    tally.stop(ExitReason::Shutdown).await;
    poll_until("the actor to stop on b", || b.actor_count() == before).await;
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn start_arguments_may_be_another_type_the_actor_is_made_from() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<Greeter>();
    let greeter = a
        .spawn_on::<Greeter>(b.id(), "Hello".to_owned())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        greeter.greet("Ada".into()).await.ok().as_deref(),
        Some("Hello, Ada (#1)")
    );
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn a_type_the_target_does_not_allow_is_a_typed_error() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<Greeter>();
    let before = b.actor_count();
    let error = a.spawn_on::<Tally>(b.id(), Tally { count: 0 }).await.err();
    assert_eq!(
        error,
        Some(RemoteSpawnError::UnknownType {
            node: b.id(),
            actor_type: "Tally"
        })
    );
    assert!(error.is_some_and(|e| e.to_string().contains("allow_remote_spawn::<Tally>()")));
    assert_eq!(b.actor_count(), before);
    // The connection and both nodes are fine: an allowed type still starts.
    assert!(a.spawn_on::<Greeter>(b.id(), "Hi".into()).await.is_ok());
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn a_type_of_the_same_name_with_another_protocol_is_refused() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<other::Tally>();
    match a.spawn_on::<Tally>(b.id(), Tally { count: 0 }).await {
        Err(RemoteSpawnError::ProtocolMismatch {
            node,
            actor_type,
            expected,
            found,
        }) => {
            assert_eq!((node, actor_type), (b.id(), "Tally"));
            assert_ne!(expected, found);
        }
        other => panic!("expected a protocol mismatch, got {other:?}"),
    }
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn arguments_that_do_not_decode_on_the_target_are_refused_and_start_nothing() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<v2::Versioned>();
    let before = b.actor_count();
    match a.spawn_on::<v1::Versioned>(b.id(), 7).await {
        Err(RemoteSpawnError::BadArgs { actor_type, .. }) => assert_eq!(actor_type, "Versioned"),
        other => panic!("expected BadArgs, got {other:?}"),
    }
    assert_eq!(b.actor_count(), before);
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn a_failed_start_hook_reaches_the_caller_with_its_reason() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<Picky>();
    match a.spawn_on::<Picky>(b.id(), Picky { refuse: true }).await {
        Err(RemoteSpawnError::StartFailed { node, reason }) => {
            assert_eq!(node, b.id());
            assert!(reason.to_string().contains("refused to start"), "{reason}");
        }
        other => panic!("expected StartFailed, got {other:?}"),
    }
    let picky = a.spawn_on::<Picky>(b.id(), Picky { refuse: false }).await;
    assert!(picky.is_ok());
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn a_spawned_actor_can_be_registered_by_name_from_its_own_node() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<Tally>();
    let options = SpawnOn::new()
        .register_global("tally")
        .timeout(Duration::from_secs(5));
    let tally = a
        .spawn_on_with::<Tally>(b.id(), Tally { count: 1 }, options)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    // The name is b's actor's, seen from both nodes.
    let found = a
        .lookup::<Tally>("tally")
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(found.id(), tally.id());
    assert_eq!(b.lookup::<Tally>("tally").map(|r| r.id()).ok(), Some(tally.id()));
    // A second actor cannot take the name: the spawn fails and the actor it started stops.
    let before = b.actor_count();
    let taken = SpawnOn::new()
        .register_global("tally")
        .timeout(Duration::from_secs(10));
    match a.spawn_on_with::<Tally>(b.id(), Tally { count: 2 }, taken).await {
        Err(RemoteSpawnError::Register { name, .. }) => assert_eq!(name, "tally"),
        other => panic!("expected a registration error, got {other:?}"),
    }
    assert_eq!(b.actor_count(), before);
    // An invalid name is refused before anything starts.
    let bad = SpawnOn::new().register_global("not a name!");
    assert!(matches!(
        a.spawn_on_with::<Tally>(b.id(), Tally { count: 3 }, bad).await,
        Err(RemoteSpawnError::Register { .. })
    ));
    assert_eq!(b.actor_count(), before);
    shutdown(&[&a, &b]).await;
}

#[tokio::test]
async fn spawning_on_this_node_itself_needs_no_network() {
    let node = Node::new();
    let tally = node
        .spawn_on::<Tally>(node.id(), Tally { count: 9 })
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(tally.is_local());
    assert_eq!(tally.add(1).await.ok(), Some(10));
}

#[tokio::test]
async fn a_node_without_networking_or_a_node_that_is_not_up_is_a_typed_error() {
    let lonely = Node::new();
    let (a, b) = pair().await;
    assert_eq!(
        lonely.spawn_on::<Tally>(a.id(), Tally { count: 0 }).await.err(),
        Some(RemoteSpawnError::NotNetworked)
    );
    let gone = b.id();
    b.shutdown().await;
    poll_until("a to see b gone", || {
        a.connected_nodes().iter().all(|p| p.id != gone)
    })
    .await;
    assert_eq!(
        a.spawn_on::<Tally>(gone, Tally { count: 0 }).await.err(),
        Some(RemoteSpawnError::NodeDown { node: gone })
    );
    a.shutdown().await;
}

#[tokio::test]
async fn what_peers_may_keep_running_on_a_node_is_bounded() {
    let a = net_node("a").await;
    let b = match Node::builder()
        .name("b")
        .cookie(COOKIE)
        .max_remote_spawned(2)
        .seed(a.listen_addr().map(|addr| addr.to_string()).unwrap_or_default())
        .start()
        .await
    {
        Ok(node) => node,
        Err(error) => panic!("b did not start: {error}"),
    };
    converged(&[&a, &b]).await;
    b.allow_remote_spawn::<Tally>();
    let first = a.spawn_on::<Tally>(b.id(), Tally { count: 0 }).await;
    let second = a.spawn_on::<Tally>(b.id(), Tally { count: 0 }).await;
    assert!(first.is_ok() && second.is_ok());
    assert_eq!(
        a.spawn_on::<Tally>(b.id(), Tally { count: 0 }).await.err(),
        Some(RemoteSpawnError::TooMany {
            node: b.id(),
            limit: 2
        })
    );
    // Once one stops, there is room again.
    if let Ok(first) = first {
        first.stop(ExitReason::Shutdown).await;
    }
    let third = a.spawn_on::<Tally>(b.id(), Tally { count: 0 }).await;
    assert!(third.is_ok(), "{third:?}");
    shutdown(&[&a, &b]).await;
}

/// Holds every `Gated` actor in its `started` hook until the test opens it.
static GATE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(0);

/// An actor whose start waits for [`GATE`]: spawn requests for it stay in progress.
#[actor(remote_spawn)]
#[derive(Serialize, Deserialize)]
struct Gated;

#[actor]
impl Gated {
    #[on_start]
    async fn wait_for_the_gate(&mut self) -> Result<(), distribute::BoxError> {
        let permit = GATE.acquire().await?;
        permit.forget();
        Ok(())
    }

    #[message]
    fn ping(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_too_many_requests_in_progress_is_told_it_is_busy() {
    let (a, b) = pair().await;
    b.allow_remote_spawn::<Gated>();
    let limit = distribute::MAX_SPAWN_REQUESTS_PER_PEER;
    let waiting: Vec<_> = (0..limit)
        .map(|_| {
            let a = a.clone();
            let b = b.id();
            tokio::spawn(async move { a.spawn_on::<Gated>(b, Gated).await })
        })
        .collect();
    // Once b holds `limit` requests of a's (all have reached it), the next one is refused
    // at once.
    poll_until("b to hold every request", || b.actor_count() >= limit).await;
    let busy = within("a request past the bound", a.spawn_on::<Gated>(b.id(), Gated)).await;
    let expected = u32::try_from(limit).unwrap_or(u32::MAX);
    assert_eq!(
        busy.err(),
        Some(RemoteSpawnError::Busy {
            node: b.id(),
            limit: expected
        })
    );
    GATE.add_permits(limit);
    for started in waiting {
        let started = within("a gated start", started).await;
        assert!(matches!(started, Ok(Ok(_))), "{started:?}");
    }
    shutdown(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_a_spawn_frame_that_does_not_decode_is_dropped_and_the_node_serves_on() {
    use distribute::transport::FrameKind;
    use distribute_tests::fake_peer::FakePeer;

    let (a, b) = pair().await;
    b.allow_remote_spawn::<Tally>();
    let addr = b.listen_addr().unwrap_or_else(|| panic!("b is networked"));
    let mut mallory = FakePeer::connect(addr, "mallory", COOKIE)
        .await
        .unwrap_or_else(|error| panic!("handshake: {error}"));
    mallory.send_frame(FrameKind::Spawn, &[0xff; 40]).await;
    within("b to drop mallory", async {
        while mallory.next_frame().await.is_some() {}
    })
    .await;
    // b is fine: a still starts actors there.
    let tally = a.spawn_on::<Tally>(b.id(), Tally { count: 1 }).await;
    assert_eq!(tally.map(|_| ()), Ok(()));
    shutdown(&[&a, &b]).await;
}
