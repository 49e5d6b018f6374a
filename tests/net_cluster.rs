//! Nodes in one process over real TCP on 127.0.0.1: the mesh, remote calls, refs inside
//! messages, ordering, remote monitors and links, and the connection's failure paths.

use std::time::Duration;

use distribute::prelude::*;
use distribute::{NodeDownReason, RegistryError};
use distribute_tests::{
    addr, mesh, mesh_node, net_node, shutdown, wait_event, within, Counter, CounterClient, Gate,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_form_a_mesh_and_call_each_other() {
    let (a, b, c) = mesh().await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");

    let from_c: ActorRef<Counter> = c.lookup_on(a.id(), "counter").await.expect("lookup from c");
    assert!(!from_c.is_local());
    assert_eq!(from_c.id(), counter.id());
    from_c.add(2).await.expect("tell from c");
    // Each sender's messages arrive in order: C's call is handled after C's tell.
    assert_eq!(from_c.get().await, Ok(2));
    let from_b: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup from b");
    from_b.add(3).await.expect("tell from b");
    assert_eq!(from_b.get().await, Ok(5));
    assert_eq!(from_c.get().await, Ok(5));
    assert_eq!(counter.get().await, Ok(5));

    let names: Vec<String> = c.connected_nodes().into_iter().map(|p| p.name).collect();
    assert!(
        names.contains(&"a".to_string()) && names.contains(&"b".to_string()),
        "{names:?}"
    );
    shutdown(&[&c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_calls_report_typed_errors() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let gate = Gate::new();
    let counter = a.spawn(Counter::new(gate.clone())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");

    // Lookups: missing name, wrong type, bad name.
    assert!(matches!(
        b.lookup_on::<Counter>(a.id(), "nobody").await,
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        b.lookup_on::<Echo>(a.id(), "counter").await,
        Err(RegistryError::TypeMismatch { .. })
    ));
    assert!(matches!(
        b.lookup_on::<Counter>(a.id(), "no spaces").await,
        Err(RegistryError::InvalidName { .. })
    ));

    // A timeout, then the call that panics the handler, then a dead actor.
    let slow = remote
        .with_timeout(Duration::from_millis(100))
        .hold_then_get()
        .await;
    assert!(matches!(slow, Err(CallError::Timeout { .. })), "{slow:?}");
    gate.open();
    assert_eq!(
        remote.boom("remote boom".into()).await,
        Err(CallError::ActorFailed { actor: counter.id() })
    );
    assert_eq!(
        remote.get().await,
        Err(CallError::ActorStopped { actor: counter.id() })
    );
    shutdown(&[&b, &a]).await;
}

/// Echoes what it is given; its replies carry refs.
#[actor]
#[derive(Default)]
struct Echo {
    stored: Option<ActorRef<Counter>>,
    seen: u64,
    out_of_order: u64,
}

#[actor]
impl Echo {
    #[message]
    fn put(&mut self, counter: ActorRef<Counter>) {
        self.stored = Some(counter);
    }

    #[message]
    fn stored(&self) -> Option<ActorRef<Counter>> {
        self.stored.clone()
    }

    #[message]
    fn sequence(&mut self, n: u64) {
        if n != self.seen {
            self.out_of_order += 1;
        }
        self.seen = n + 1;
    }

    #[message]
    fn report(&self) -> (u64, u64) {
        (self.seen, self.out_of_order)
    }

    #[message]
    fn blob(&mut self, bytes: Vec<u8>) -> usize {
        bytes.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ref_passed_from_a_through_b_is_called_from_c() {
    let (a, b, c) = mesh().await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn counter");
    let echo = b.spawn(Echo::default()).await.expect("spawn echo");
    b.register_local("echo", &echo).expect("register");

    // A hands its local ref to B inside a message.
    let echo_from_a: ActorRef<Echo> = a.lookup_on(b.id(), "echo").await.expect("lookup");
    echo_from_a.put(counter.clone()).await.expect("put");
    // Back on its own node the ref is local again (and the call orders the put before C's).
    let home = echo_from_a.stored().await.expect("stored").expect("a ref");
    assert!(home.is_local());
    // C receives it inside a reply from B and calls A with it.
    let echo_from_c: ActorRef<Echo> = c.lookup_on(b.id(), "echo").await.expect("lookup");
    let on_c = echo_from_c.stored().await.expect("stored").expect("a ref");
    assert!(!on_c.is_local());
    assert_eq!(on_c.id(), counter.id());
    on_c.add(7).await.expect("tell through the passed ref");
    assert_eq!(on_c.get().await, Ok(7));
    assert_eq!(home.get().await, Ok(7));
    shutdown(&[&c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_between_two_nodes_stay_in_order() {
    const N: u64 = 100_000;
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let echo = b.spawn(Echo::default()).await.expect("spawn");
    b.register_local("echo", &echo).expect("register");
    let remote: ActorRef<Echo> = a.lookup_on(b.id(), "echo").await.expect("lookup");
    within("100 000 tells", async {
        for n in 0..N {
            remote.sequence(n).await.expect("tell");
        }
    })
    .await;
    // The call travels behind the tells on the same connection.
    assert_eq!(remote.report().await, Ok((N, 0)));
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_fails_on_the_sender() {
    let a = net_node("a").await;
    let b = distribute::Node::builder()
        .name("b")
        .cookie(distribute_tests::COOKIE)
        .max_frame(64 * 1024)
        .start()
        .await
        .expect("start");
    b.connect(addr(&a)).await.expect("connect");
    let echo = a.spawn(Echo::default()).await.expect("spawn");
    a.register_local("echo", &echo).expect("register");
    let remote: ActorRef<Echo> = b.lookup_on(a.id(), "echo").await.expect("lookup");
    let too_big = remote.blob(vec![7; 100 * 1024]).await;
    assert!(
        matches!(too_big, Err(CallError::PayloadTooLarge { limit, .. }) if limit == 64 * 1024),
        "{too_big:?}"
    );
    // Nothing was lost: the connection still carries calls.
    assert_eq!(remote.blob(vec![7; 1024]).await, Ok(1024));
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_monitors_links_and_pending_calls_see_the_connection_go() {
    let (a, b) = (mesh_node("a").await, mesh_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let gate = Gate::new();
    let held = a.spawn(Counter::new(gate.clone())).await.expect("spawn");
    let doomed = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("held", &held).expect("register");
    a.register_local("doomed", &doomed).expect("register");
    let held_b: ActorRef<Counter> = b.lookup_on(a.id(), "held").await.expect("lookup");
    let doomed_b: ActorRef<Counter> = b.lookup_on(a.id(), "doomed").await.expect("lookup");

    // A monitor across nodes reports the real exit reason.
    let monitor = doomed_b.monitor();
    let _ = doomed_b.boom("down it goes".into()).await;
    let down = within("DOWN across nodes", monitor).await;
    assert!(
        matches!(down.reason, ExitReason::Panicked(ref text) if text == "down it goes"),
        "{down:?}"
    );

    // A local actor on B linked to the held actor on A; a monitor; a call that waits.
    let watcher = b.spawn(Counter::new(Gate::new())).await.expect("spawn watcher");
    watcher.link(&held_b);
    let monitor = held_b.monitor();
    let pending = {
        let held_b = held_b.clone();
        tokio::spawn(async move { held_b.with_timeout(Duration::from_secs(60)).hold_then_get().await })
    };
    let mut events = b.events();
    // Lose the connection: everything fails at once with NodeDown, long before the timeout.
    let started = std::time::Instant::now();
    assert!(b.disconnect(a.id()));
    let event = wait_event(&mut events, "NodeDown", |e| {
        matches!(e, NodeEvent::NodeDown { .. })
    })
    .await;
    assert!(
        matches!(
            event,
            NodeEvent::NodeDown {
                reason: NodeDownReason::Disconnected,
                ..
            }
        ),
        "{event:?}"
    );
    let call = within("the pending call", pending).await.expect("join");
    assert_eq!(call, Err(CallError::NodeDown { actor: held.id() }));
    assert_eq!(within("DOWN", monitor).await.reason, ExitReason::NodeDown);
    let exit = within("the linked actor", watcher.wait_for_stop()).await;
    assert!(
        matches!(exit, ExitReason::Linked { from, ref reason } if from == held.id() && **reason == ExitReason::NodeDown),
        "{exit:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(held_b.get().await, Err(CallError::NodeDown { actor: held.id() }));
    gate.open();
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_link_stops_the_local_actor_when_the_remote_one_fails() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let remote_actor = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("r", &remote_actor).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "r").await.expect("lookup");
    let local = b.spawn(Counter::new(Gate::new())).await.expect("spawn");
    local.link(&remote);
    // The link is in place on A once A answers a call sent after it (same connection, FIFO).
    assert_eq!(remote.get().await, Ok(0));
    let _ = remote.boom("linked failure".into()).await;
    let exit = within("the linked local actor", local.wait_for_stop()).await;
    assert!(
        matches!(exit, ExitReason::Linked { from, .. } if from == remote_actor.id()),
        "{exit:?}"
    );

    // And the other way: the local actor fails, the remote one stops.
    let remote_actor = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("r2", &remote_actor).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "r2").await.expect("lookup");
    let local = b.spawn(Counter::new(Gate::new())).await.expect("spawn");
    local.link(&remote);
    assert_eq!(remote.get().await, Ok(0));
    let _ = local.boom("local failure".into()).await;
    let exit = within("the linked remote actor", remote_actor.wait_for_stop()).await;
    assert!(
        matches!(exit, ExitReason::Linked { from, .. } if from == local.id()),
        "{exit:?}"
    );
    // A remote stop through the ref.
    let victim = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("victim", &victim).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "victim").await.expect("lookup");
    assert_eq!(
        within("remote stop", remote.stop(ExitReason::Normal)).await,
        ExitReason::Normal
    );
    assert!(!victim.is_alive());
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_connects_leave_one_working_connection() {
    for round in 0..10 {
        let (a, b) = (net_node("a").await, net_node("b").await);
        let (mut a_events, mut b_events) = (a.events(), b.events());
        let (ab, ba) = tokio::join!(a.connect(addr(&b)), b.connect(addr(&a)));
        assert_eq!(ab.expect("a connects"), b.id(), "round {round}");
        assert_eq!(ba.expect("b connects"), a.id(), "round {round}");
        wait_event(&mut a_events, "NodeUp on a", |e| {
            matches!(e, NodeEvent::NodeUp { .. })
        })
        .await;
        wait_event(&mut b_events, "NodeUp on b", |e| {
            matches!(e, NodeEvent::NodeUp { .. })
        })
        .await;
        let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
        a.register_local("counter", &counter).expect("register");
        let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");
        for _ in 0..100 {
            remote.add(1).await.expect("tell");
        }
        assert_eq!(remote.get().await, Ok(100), "round {round}");
        assert_eq!(a.connected_nodes().len(), 1);
        assert_eq!(b.connected_nodes().len(), 1);
        shutdown(&[&b, &a]).await;
        // Exactly one NodeUp each: the duplicate connection was dropped quietly.
        let mut later = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(1), a_events.recv()).await {
            later.push(event);
        }
        assert!(
            !later.iter().any(|e| matches!(e, NodeEvent::NodeUp { .. })),
            "second NodeUp on a, round {round}: {later:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_reestablished_and_refs_keep_working() {
    let (a, b) = (mesh_node("a").await, mesh_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");
    remote.add(1).await.expect("tell");
    assert_eq!(remote.get().await, Ok(1));

    let mut events = b.events();
    // B cuts the connection; A, which knows where B listens, reconnects with backoff.
    assert!(b.disconnect(a.id()));
    wait_event(&mut events, "NodeDown", |e| {
        matches!(e, NodeEvent::NodeDown { .. })
    })
    .await;
    let up = wait_event(&mut events, "NodeUp again", |e| {
        matches!(e, NodeEvent::NodeUp { .. })
    })
    .await;
    assert!(
        matches!(up, NodeEvent::NodeUp { node, .. } if node == a.id()),
        "{up:?}"
    );
    // The ref from before the loss works again: it names the node, not the connection.
    remote.add(2).await.expect("tell after reconnect");
    assert_eq!(remote.get().await, Ok(3));
    shutdown(&[&b, &a]).await;
}
