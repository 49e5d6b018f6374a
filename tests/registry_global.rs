//! The cluster-wide registry on three nodes over loopback TCP.

use std::time::Duration;

use distribute::prelude::*;
use distribute::RegistryError;
use distribute_tests::{
    addr, mesh, net_node, poll_until, shutdown, wait_connected, wait_event, within, Counter, CounterClient,
    Gate,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_registered_on_one_node_is_seen_on_all_at_once() {
    let (a, b, c) = mesh().await;
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("counter", &counter).await.expect("register");
    // register_global returned: every node has the name, and lookups are local reads.
    for node in [&a, &b, &c] {
        let found: ActorRef<Counter> = node.lookup("counter").expect("lookup");
        assert_eq!(found.id(), counter.id());
    }
    let from_c: ActorRef<Counter> = c.lookup("counter").expect("lookup");
    from_c.add(4).await.expect("tell");
    assert_eq!(from_c.get().await, Ok(4));
    assert_eq!(b.registered_names(""), vec!["counter".to_string()]);

    // Errors: another owner, not the owner, nothing there, another type, a bad name.
    let other = b.spawn(Counter::new(Gate::new())).await.expect("spawn");
    assert_eq!(
        b.register_global("counter", &other).await,
        Err(RegistryError::AlreadyRegistered {
            name: "counter".into(),
            owner: counter.id()
        })
    );
    assert!(matches!(
        c.unregister_global("counter", other.id()).await,
        Err(RegistryError::NotOwner { .. })
    ));
    assert!(matches!(
        c.unregister_global("nobody", other.id()).await,
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        b.lookup::<distribute::supervision::Supervisor>("counter"),
        Err(RegistryError::TypeMismatch { .. })
    ));
    assert!(matches!(
        a.register_global("bad name", &counter).await,
        Err(RegistryError::InvalidName { .. })
    ));

    // The owner unregisters: gone everywhere.
    a.unregister_global("counter", counter.id())
        .await
        .expect("unregister");
    for node in [&b, &c] {
        poll_until("the name to go", || node.registered_names("").is_empty()).await;
    }
    shutdown(&[&c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_name_have_exactly_one_winner() {
    let (a, b, c) = mesh().await;
    let mut actors = Vec::new();
    for node in [&a, &b, &c] {
        actors.push(node.spawn(Counter::new(Gate::new())).await.expect("spawn"));
    }
    let (ra, rb, rc) = tokio::join!(
        a.register_global("leader", &actors[0]),
        b.register_global("leader", &actors[1]),
        c.register_global("leader", &actors[2]),
    );
    let results = [ra, rb, rc];
    let winners: Vec<usize> = (0..3).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = actors[winners[0]].id();
    for (i, result) in results.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(
                result,
                &Err(RegistryError::AlreadyRegistered {
                    name: "leader".into(),
                    owner: winner
                })
            );
        }
    }
    for node in [&a, &b, &c] {
        assert_eq!(node.lookup::<Counter>("leader").expect("lookup").id(), winner);
    }
    shutdown(&[&c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_go_when_their_actor_stops_or_their_node_goes() {
    let (a, b, c) = mesh().await;
    let first = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("first", &first).await.expect("register");
    let second = c.spawn(Counter::new(Gate::new())).await.expect("spawn");
    c.register_global("second", &second).await.expect("register");
    assert_eq!(
        b.registered_names(""),
        vec!["first".to_string(), "second".to_string()]
    );

    first.kill();
    for node in [&a, &b, &c] {
        poll_until("the killed actor's name to go", || {
            !node.registered_names("").contains(&"first".into())
        })
        .await;
    }
    // C leaves: its names go on the nodes that remain.
    let mut events = b.events();
    c.shutdown().await;
    wait_event(&mut events, "c down", |e| matches!(e, NodeEvent::NodeDown { .. })).await;
    for node in [&a, &b] {
        poll_until("c's names to go", || node.registered_names("").is_empty()).await;
    }
    shutdown(&[&b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_with_timeout_waits_for_a_registration_or_times_out() {
    let (a, b, _c) = mesh().await;
    assert_eq!(
        b.lookup_with_timeout::<Counter>("late", Duration::ZERO)
            .await
            .err(),
        Some(RegistryError::InvalidTimeout)
    );
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move {
            b.lookup_with_timeout::<Counter>("late", Duration::from_secs(10))
                .await
        })
    };
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("late", &counter).await.expect("register");
    let found = within("the waiting lookup", waiting)
        .await
        .expect("join")
        .expect("found");
    assert_eq!(found.id(), counter.id());
    assert!(matches!(
        b.lookup_with_timeout::<Counter>("never", Duration::from_millis(50))
            .await,
        Err(RegistryError::LookupTimeout { .. })
    ));
    shutdown(&[&_c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_node_gets_the_registry_and_a_healed_partition_keeps_one_owner() {
    // Two sides that cannot see each other: {a, b} and {c}.
    let (a, b, c) = (net_node("a").await, net_node("b").await, net_node("c").await);
    b.connect(addr(&a)).await.expect("connect");
    let left = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let right = c.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("svc", &left)
        .await
        .expect("left side registers");
    c.register_global("svc", &right)
        .await
        .expect("right side registers");
    let only_left = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("only-left", &only_left)
        .await
        .expect("register");

    // Heal: c joins; once `connect` returns, c holds the whole registry.
    let mut events = a.events();
    c.connect(addr(&a)).await.expect("heal");
    assert_eq!(
        c.lookup::<Counter>("only-left").expect("synced").id(),
        only_left.id()
    );
    let winner = left.id().min(right.id());
    let loser = if winner == left.id() { &right } else { &left };
    wait_connected(&c, 2).await;
    for node in [&a, &b, &c] {
        poll_until("one owner everywhere", || {
            node.lookup::<Counter>("svc").map(|r| r.id()) == Ok(winner)
        })
        .await;
    }
    let exit = within("the loser to stop", loser.wait_for_stop()).await;
    assert!(
        matches!(exit, ExitReason::Error(ref text) if text.contains("svc")),
        "{exit:?}"
    );
    let event = wait_event(&mut events, "the conflict", |e| {
        matches!(e, NodeEvent::NameConflict { .. })
    })
    .await;
    assert!(
        matches!(event, NodeEvent::NameConflict { ref name, winner: w, .. } if name == "svc" && w == winner),
        "{event:?}"
    );
    shutdown(&[&c, &b, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_resolver_picks_the_winner_and_losers_can_be_kept() {
    let node = |name: &'static str| async move {
        Node::builder()
            .name(name)
            .cookie(distribute_tests::COOKIE)
            .resolve_conflicts_with(|_, a, b| a.max(b)) // the highest id wins
            .keep_conflict_losers()
            .start()
            .await
            .expect("start")
    };
    let (a, c) = (node("a").await, node("c").await);
    let left = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let right = c.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("svc", &left).await.expect("register on a");
    c.register_global("svc", &right).await.expect("register on c");
    let mut events = a.events();
    c.connect(addr(&a)).await.expect("heal");
    let winner = left.id().max(right.id());
    for node in [&a, &c] {
        poll_until("the highest owner everywhere", || {
            node.lookup::<Counter>("svc").map(|r| r.id()) == Ok(winner)
        })
        .await;
    }
    let event = wait_event(&mut events, "the conflict", |e| {
        matches!(e, NodeEvent::NameConflict { .. })
    })
    .await;
    assert!(
        matches!(event, NodeEvent::NameConflict { winner: w, .. } if w == winner),
        "{event:?}"
    );
    // The loser was told, not stopped.
    assert!(left.is_alive() && right.is_alive());
    shutdown(&[&c, &a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_see_names_come_and_go_and_retries_wait_for_a_free_name() {
    let (a, b, _c) = mesh().await;
    let mut watch = b.watch("svc").expect("watch");
    let first = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_global("svc", &first).await.expect("register");
    let change = within("the registration", watch.next()).await.expect("a change");
    assert_eq!(change.owner, Some(first.id()));

    // A second actor retries while the first holds the name; the first then stops.
    let second = b.spawn(Counter::new(Gate::new())).await.expect("spawn");
    let retrying = {
        let (b, second) = (b.clone(), second.clone());
        tokio::spawn(async move {
            let policy = distribute::registry::RetryPolicy {
                attempts: 20,
                initial: Duration::from_millis(10),
                max: Duration::from_millis(200),
            };
            b.register_with_retry("svc", &second, policy).await
        })
    };
    let plain = b.register_global("svc", &second).await;
    assert!(
        matches!(plain, Err(RegistryError::AlreadyRegistered { .. })),
        "{plain:?}"
    );
    first.stop(ExitReason::Normal).await;
    let released = within("the release", watch.next()).await.expect("a change");
    assert_eq!(released.owner, None);
    within("the retrying registration", retrying)
        .await
        .expect("join")
        .expect("registered after retries");
    let taken = within("the new owner", watch.next()).await.expect("a change");
    assert_eq!(taken.owner, Some(second.id()));
    assert_eq!(a.lookup::<Counter>("svc").expect("lookup").id(), second.id());
    shutdown(&[&_c, &b, &a]).await;
}
