//! Introspection: a node's snapshot of itself (actors, trees, names, groups, counters), and
//! other nodes' snapshots over real loopback TCP, with every way that can fail a typed error.

use std::collections::HashSet;

use distribute::introspect::{ActorState, IntrospectError, IntrospectOptions, NameScope, NodeEntry};
use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use distribute::PoolSpec;
use distribute_tests::introspect::{actor_in, child_ids, child_in, snapshot_showing};
use distribute_tests::{
    addr, mesh, net_node, poll_until, shutdown, wait_connected, within, Counter, CounterClient, Gate, COOKIE,
};

/// Waits in its start hook until its gate opens.
#[actor]
struct SlowStart {
    gate: Gate,
}

#[actor]
impl SlowStart {
    #[on_start]
    async fn wait(&mut self) -> Result<(), distribute::BoxError> {
        self.gate.wait().await;
        Ok(())
    }

    #[message]
    fn ping(&self) {}
}

/// A root supervisor with a worker `counter`, a nested one-for-all supervisor `inner` with a
/// worker `leaf`, and a pool of two `pool`.
async fn tree(node: &Node, gate: &Gate) -> ActorRef<distribute::supervision::Supervisor> {
    let (g1, g2, g3) = (gate.clone(), gate.clone(), gate.clone());
    let inner = SupervisorSpec::new(Strategy::OneForAll)
        .child(ChildSpec::worker("leaf", move || Counter::new(g2.clone())))
        .into_child("inner");
    let pool = PoolSpec::new(2, move || Counter::new(g3.clone())).into_child("pool");
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("counter", move || Counter::new(g1.clone())))
        .child(inner)
        .child(pool)
        .start(node)
        .await;
    match root {
        Ok(root) => root,
        Err(error) => panic!("the tree did not start: {error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_shows_the_tree_with_types_names_groups_and_parents() {
    let node = net_node("a").await;
    let gate = Gate::new();
    let root = tree(&node, &gate).await;
    let counter = root.child::<Counter>("counter").await.unwrap();
    let inner = root
        .child::<distribute::supervision::Supervisor>("inner")
        .await
        .unwrap();
    let leaf = inner.child::<Counter>("leaf").await.unwrap();
    node.register_local("the-counter", &counter).unwrap();
    node.register_global("the-leaf", &leaf).await.unwrap();
    node.join("leaves", &leaf).unwrap();

    let snapshot = node.introspect().await;
    assert_eq!((snapshot.node, snapshot.name.as_str()), (node.id(), "a"));
    assert_eq!(snapshot.listen, node.listen_addr());
    assert!(!snapshot.truncated);
    assert_eq!(snapshot.totals.actors, snapshot.actors.len());

    // The tree: one root, its children in start order, the nested ones with their subtrees.
    assert_eq!(snapshot.trees.len(), 1, "{:#?}", snapshot.trees);
    let top = &snapshot.trees[0];
    assert_eq!(
        (top.supervisor, top.type_name.as_str()),
        (root.id(), "Supervisor")
    );
    assert_eq!(top.strategy, "OneForOne");
    assert_eq!(child_ids(top), ["counter", "inner", "pool"]);
    let inner_tree = child_in(top, "inner")
        .subtree
        .as_deref()
        .expect("inner's subtree");
    assert_eq!(
        (inner_tree.supervisor, inner_tree.strategy.as_str()),
        (inner.id(), "OneForAll")
    );
    assert_eq!(child_ids(inner_tree), ["leaf"]);
    assert_eq!(child_in(inner_tree, "leaf").actor, Some(leaf.id()));
    let pool_tree = child_in(top, "pool")
        .subtree
        .as_deref()
        .expect("the pool's subtree");
    assert_eq!(pool_tree.type_name, "Pool");
    assert_eq!(child_ids(pool_tree), ["worker-1", "worker-2"]);
    let counter_child = child_in(top, "counter");
    assert_eq!(
        (
            counter_child.actor,
            counter_child.state.as_str(),
            counter_child.restarts,
            counter_child.incarnation
        ),
        (Some(counter.id()), "Running", 0, 1)
    );
    assert!(counter_child.subtree.is_none());

    check_actors(&snapshot, &root, &inner, &counter, &leaf);

    // Names and groups.
    let scoped: HashSet<(&str, ActorId, NameScope)> = snapshot
        .names
        .iter()
        .map(|name| (name.name.as_str(), name.actor, name.scope))
        .collect();
    assert!(
        scoped.contains(&("the-counter", counter.id(), NameScope::Local)),
        "{scoped:?}"
    );
    assert!(
        scoped.contains(&("the-leaf", leaf.id(), NameScope::Global)),
        "{scoped:?}"
    );
    let leaves = snapshot
        .groups
        .iter()
        .find(|group| group.name == "leaves")
        .expect("the group");
    assert_eq!(leaves.members, [leaf.id()]);
    shutdown(&[&node]).await;
}

/// The actors of [`tree`] in `snapshot`: types, names, parents, supervisors.
fn check_actors(
    snapshot: &distribute::introspect::NodeSnapshot,
    root: &ActorRef<Supervisor>,
    inner: &ActorRef<Supervisor>,
    counter: &ActorRef<Counter>,
    leaf: &ActorRef<Counter>,
) {
    let listed = actor_in(snapshot, counter.id());
    assert_eq!(listed.type_name, "Counter");
    assert_eq!(listed.names, ["the-counter"]);
    assert_eq!(listed.parent, Some(root.id()));
    assert!(!listed.is_supervisor);
    assert_eq!(listed.mailbox_capacity, distribute::DEFAULT_MAILBOX_CAPACITY);
    assert_eq!(actor_in(snapshot, leaf.id()).parent, Some(inner.id()));
    assert_eq!(actor_in(snapshot, leaf.id()).names, ["the-leaf"]);
    assert!(actor_in(snapshot, inner.id()).is_supervisor);
    assert_eq!(actor_in(snapshot, inner.id()).parent, Some(root.id()));
    assert!(actor_in(snapshot, root.id()).is_supervisor);
    assert_eq!(actor_in(snapshot, root.id()).parent, None);
    let pool_tree = child_in(&snapshot.trees[0], "pool")
        .subtree
        .as_deref()
        .expect("the pool's subtree");
    for worker in &pool_tree.children {
        let worker = actor_in(snapshot, worker.actor.expect("a running worker"));
        assert_eq!(
            (worker.type_name.as_str(), worker.parent),
            ("Counter", Some(pool_tree.supervisor))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_actor_shows_its_queued_messages_and_the_count_of_those_it_handled() {
    let node = Node::new();
    let gate = Gate::new();
    let counter = node.spawn(Counter::new(gate.clone())).await.unwrap();
    counter.add(1).await.unwrap();
    let idle = snapshot_showing(&node, "the first message handled", |s| {
        actor_in(s, counter.id()).messages_handled >= 1
    })
    .await;
    assert_eq!(actor_in(&idle, counter.id()).state, ActorState::Idle);

    counter.hold().await.unwrap();
    poll_until("the actor to take the hold", || counter.mailbox_len() == 0).await;
    for n in 0..5 {
        counter.add(n).await.unwrap();
    }
    let blocked = node.introspect().await;
    let listed = actor_in(&blocked, counter.id());
    assert_eq!(listed.mailbox_len, 5);
    assert_eq!(listed.state, ActorState::Running);

    gate.open();
    let drained = snapshot_showing(&node, "the queued messages handled", |s| {
        let actor = actor_in(s, counter.id());
        actor.mailbox_len == 0 && actor.state == ActorState::Idle && actor.messages_handled == 7
    })
    .await;
    assert!(drained.totals.messages_handled >= 7);
    assert_eq!(counter.get().await.unwrap(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restart_count_rises_when_a_child_panics_or_is_killed() {
    let node = Node::new();
    let gate = Gate::new();
    let root = tree(&node, &gate).await;
    let counter = root.child::<Counter>("counter").await.unwrap();
    assert_eq!(actor_in(&node.introspect().await, counter.id()).restarts, 0);

    assert!(matches!(
        counter.boom("on purpose".into()).await,
        Err(CallError::ActorFailed { .. })
    ));
    // The actor's count and its supervisor's are read at different moments of a snapshot:
    // wait until both show the restart.
    let once = snapshot_showing(&node, "the first restart", |s| {
        let child = child_in(&s.trees[0], "counter");
        actor_in(s, counter.id()).restarts == 1 && child.restarts == 1 && child.state == "Running"
    })
    .await;
    let child = child_in(&once.trees[0], "counter");
    assert_eq!((child.restarts, child.incarnation), (1, 2));
    assert!(
        child
            .last_exit
            .as_deref()
            .is_some_and(|exit| exit.contains("on purpose")),
        "{child:?}"
    );
    // Same id, same parent: a restart keeps the ref.
    assert_eq!(actor_in(&once, counter.id()).parent, Some(root.id()));

    counter.kill();
    snapshot_showing(&node, "the second restart", |s| {
        actor_in(s, counter.id()).restarts == 2 && child_in(&s.trees[0], "counter").restarts == 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_asked_for_fewer_actors_than_the_node_runs_is_truncated() {
    let node = Node::new();
    for _ in 0..5 {
        node.spawn(Counter::new(Gate::new())).await.unwrap();
    }
    let options = IntrospectOptions {
        max_actors: 2,
        ..IntrospectOptions::default()
    };
    let snapshot = node.introspect_with(options).await;
    assert!(snapshot.truncated);
    assert_eq!(snapshot.actors.len(), 2);
    assert_eq!(snapshot.totals.actors, 5);
    assert_eq!(snapshot.totals.spawned, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_answers_with_its_actors_and_both_sides_count_their_traffic() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.unwrap();
    wait_connected(&a, 1).await;
    let gate = Gate::new();
    let root = tree(&b, &gate).await;
    let counter = root.child::<Counter>("counter").await.unwrap();

    let remote = within("b's snapshot", a.introspect_node(b.id())).await.unwrap();
    assert_eq!((remote.node, remote.name.as_str()), (b.id(), "b"));
    assert_eq!(actor_in(&remote, counter.id()).type_name, "Counter");
    assert_eq!(actor_in(&remote, counter.id()).parent, Some(root.id()));
    assert_eq!(remote.trees.len(), 1);
    assert_eq!(child_ids(&remote.trees[0]), ["counter", "inner", "pool"]);
    let a_seen_by_b = remote
        .peers
        .iter()
        .find(|peer| peer.id == a.id())
        .expect("a among b's peers");
    assert!(a_seen_by_b.connected);
    assert_eq!(a_seen_by_b.name, "a");
    assert!(
        a_seen_by_b.bytes_in > 0 && a_seen_by_b.frames_in > 0,
        "{a_seen_by_b:?}"
    );
    assert!(
        a_seen_by_b.bytes_out > 0 && a_seen_by_b.frames_out > 0,
        "{a_seen_by_b:?}"
    );

    // The answer came in: a counts it from b.
    let mine = a.introspect().await;
    let b_seen_by_a = mine
        .peers
        .iter()
        .find(|peer| peer.id == b.id())
        .expect("b among a's peers");
    assert!(
        b_seen_by_a.bytes_in > 0 && b_seen_by_a.frames_in > 0,
        "{b_seen_by_a:?}"
    );
    // A node asked about itself answers without the network.
    assert_eq!(a.introspect_node(a.id()).await.map(|s| s.node), Ok(a.id()));
    shutdown(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_snapshot_of_three_nodes_lists_each_node_once_this_one_first() {
    let (a, b, c) = mesh().await;
    let cluster = within("the cluster snapshot", b.introspect_cluster()).await;
    assert_eq!(cluster.gathered_by, b.id());
    let ids: Vec<NodeId> = cluster
        .nodes
        .iter()
        .map(|entry| match entry {
            NodeEntry::Snapshot(snapshot) => snapshot.node,
            other => panic!("a node did not answer: {other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], b.id());
    assert_eq!(
        ids.iter().copied().collect::<HashSet<_>>(),
        HashSet::from([a.id(), b.id(), c.id()])
    );
    shutdown(&[&a, &b, &c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_does_not_allow_introspection_is_refused_and_unavailable_in_the_cluster() {
    let a = net_node("a").await;
    let private = Node::builder()
        .name("private")
        .cookie(COOKIE)
        .allow_remote_introspection(false)
        .start()
        .await
        .unwrap();
    private.connect(addr(&a)).await.unwrap();
    wait_connected(&a, 1).await;
    assert_eq!(
        a.introspect_node(private.id()).await,
        Err(IntrospectError::Refused { node: private.id() })
    );
    // It may still look at itself, and at others.
    assert_eq!(private.introspect().await.node, private.id());
    assert_eq!(private.introspect_node(a.id()).await.map(|s| s.node), Ok(a.id()));
    let cluster = a.introspect_cluster().await;
    assert_eq!(cluster.nodes.len(), 2);
    match &cluster.nodes[1] {
        NodeEntry::Unavailable { node, name, error } => {
            assert_eq!((*node, name.as_str()), (private.id(), "private"));
            assert!(error.contains("does not allow"), "{error}");
        }
        other => panic!("the private node answered: {other:?}"),
    }
    shutdown(&[&a, &private]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_or_unknown_node_and_a_node_without_network_give_typed_errors() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.unwrap();
    wait_connected(&a, 1).await;
    let gone = b.id();
    b.shutdown().await;
    poll_until("a to see b gone", || a.connected_nodes().is_empty()).await;
    assert_eq!(
        a.introspect_node(gone).await,
        Err(IntrospectError::NodeDown { node: gone })
    );
    let stranger = Node::new();
    assert_eq!(
        a.introspect_node(stranger.id()).await,
        Err(IntrospectError::NodeDown { node: stranger.id() })
    );
    assert_eq!(
        stranger.introspect_node(a.id()).await,
        Err(IntrospectError::NotNetworked)
    );
    // The node that asked keeps running.
    assert_eq!(a.introspect().await.node, a.id());
    shutdown(&[&a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_too_many_requests_in_progress_is_told_busy() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.unwrap();
    wait_connected(&a, 1).await;
    // A supervisor busy starting a child cannot describe itself: b's snapshots wait for it
    // (up to their supervisor timeout), so requests stay in progress.
    let supervisor = SupervisorSpec::new(Strategy::OneForOne).start(&b).await.unwrap();
    let before = b.actor_count();
    let gate = Gate::new();
    let start_gate = gate.clone();
    let starting = tokio::spawn(async move {
        let slow = ChildSpec::worker("slow", move || SlowStart {
            gate: start_gate.clone(),
        });
        supervisor.start_child(slow).await
    });
    // The child's cell exists once its supervisor waits for its start hook.
    poll_until("the slow child to be starting", || b.actor_count() == before + 1).await;
    let asks: Vec<_> = (0..distribute::introspect::MAX_INTROSPECTIONS_PER_PEER + 1)
        .map(|_| {
            let (a, b) = (a.clone(), b.id());
            tokio::spawn(async move { a.introspect_node(b).await })
        })
        .collect();
    let mut busy = 0;
    let mut answered = 0;
    for ask in asks {
        match within("an answer", ask).await.unwrap() {
            Ok(_) => answered += 1,
            Err(IntrospectError::Busy { node, limit }) => {
                assert_eq!(
                    (node, limit as usize),
                    (b.id(), distribute::introspect::MAX_INTROSPECTIONS_PER_PEER)
                );
                busy += 1;
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(
        (answered, busy),
        (distribute::introspect::MAX_INTROSPECTIONS_PER_PEER, 1)
    );
    gate.open();
    within("the slow child", starting).await.unwrap().unwrap();
    shutdown(&[&a, &b]).await;
}
