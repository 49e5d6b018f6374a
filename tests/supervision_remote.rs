//! Supervisors with children on other nodes, on real loopback sockets: a remote child starts
//! where its placement puts it, is restarted where it ran when it fails, moves to another
//! node when its node dies, and its global name follows it. The last test kills a node that
//! is an OS process of its own with SIGKILL, and times the move.

use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::supervision::{ChildState, Strategy, SupervisorSpec};
use distribute::{Placement, RegistryError, RemoteChild};
use distribute_tests::process::NodeProcess;
use distribute_tests::{
    converged, crash, fast_node, on_own_runtime, poll_until, wait_node_down, within, Roamer, RoamerClient,
    COOKIE, FAST_DETECTION,
};

/// A node like `fast_node`, joined through `seed`.
fn joining(name: &str, seed: &Node) -> distribute::NodeBuilder {
    Node::builder()
        .name(name)
        .cookie(COOKIE)
        .failure_detection(FAST_DETECTION)
        .seed(
            seed.listen_addr()
                .map(|addr| addr.to_string())
                .unwrap_or_default(),
        )
}

async fn joined(name: &str, seed: &Node) -> Node {
    match joining(name, seed).start().await {
        Ok(node) => node,
        Err(error) => panic!("{name} did not start: {error}"),
    }
}

/// The supervisor of one remote `Roamer` named `roamer`, registered globally as `roamer`.
async fn supervise(node: &Node, placement: Placement) -> ActorRef<distribute::supervision::Supervisor> {
    let child = distribute::supervision::ChildSpec::remote::<Roamer>("roamer", || Roamer {
        label: "roamer".into(),
        served: 0,
    })
    .placement(placement)
    .register_global("roamer")
    .into_child();
    within(
        "the supervisor to start",
        SupervisorSpec::new(Strategy::OneForOne).child(child).start(node),
    )
    .await
    .unwrap_or_else(|error| panic!("the supervisor did not start: {error}"))
}

/// The node serving `roamer` by name, once it serves from a node other than `not_on`.
async fn served_by_name(node: &Node, not_on: Option<NodeId>) -> (NodeId, u64) {
    within("roamer to answer under its name", async {
        loop {
            if let Ok(roamer) = node.lookup::<Roamer>("roamer") {
                if let Ok((home, served)) = roamer.serve().await {
                    if Some(home) != not_on {
                        return (home, served);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_child_moves_to_a_live_node_when_its_node_dies_and_its_name_follows() {
    let a = fast_node("a").await;
    let (b_runtime, b) = on_own_runtime(joining("b", &a)).await;
    let c = joined("c", &a).await;
    converged(&[&a, &b, &c]).await;
    for node in [&b, &c] {
        node.allow_remote_spawn::<Roamer>();
    }
    let supervisor = supervise(&a, Placement::Home(b.id())).await;
    assert_eq!(served_by_name(&a, None).await, (b.id(), 1));
    // The stand-in gives the same actor.
    let stand_in = supervisor
        .child::<RemoteChild<Roamer>>("roamer")
        .await
        .ok()
        .unwrap_or_else(|| panic!("no stand-in"));
    let current = stand_in.current().await.ok().flatten();
    assert_eq!(current.map(|r| r.id().node()), Some(b.id()));

    let mut events = a.events();
    let b_id = b.id();
    crash(b_runtime).await;
    wait_node_down(&mut events, "b", b_id).await;
    let (home, served) = served_by_name(&a, Some(b_id)).await;
    assert!(home == c.id() || home == a.id(), "moved to {home}");
    assert_eq!(served, 1, "a fresh incarnation");
    let children = supervisor.which_children().await.unwrap_or_default();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].state, ChildState::Running);

    // Stopping the supervisor stops the actor on its node, and its name goes.
    supervisor.stop(ExitReason::Shutdown).await;
    poll_until("the name to go with the actor", || {
        matches!(a.lookup::<Roamer>("roamer"), Err(RegistryError::NotFound { .. }))
    })
    .await;
    a.shutdown().await;
    c.shutdown().await;
}

#[tokio::test]
async fn a_remote_child_that_fails_is_restarted_on_the_node_it_ran_on() {
    let a = fast_node("a").await;
    let b = joined("b", &a).await;
    converged(&[&a, &b]).await;
    b.allow_remote_spawn::<Roamer>();
    let supervisor = supervise(&a, Placement::Home(b.id())).await;
    let first = within("the name", async {
        loop {
            if let Ok(roamer) = a.lookup::<Roamer>("roamer") {
                return roamer;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(first.serve().await.ok(), Some((b.id(), 1)));
    assert!(first.fail().await.is_err());
    // A new incarnation, on b again, under the same name.
    let (home, served) = within("the restarted roamer", async {
        loop {
            if let Ok(roamer) = a.lookup::<Roamer>("roamer") {
                if roamer.id() != first.id() {
                    if let Ok(answer) = roamer.serve().await {
                        return answer;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!((home, served), (b.id(), 1));
    supervisor.stop(ExitReason::Shutdown).await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_placement_that_finds_no_node_fails_the_start_with_its_reason() {
    let node = Node::new();
    let child = distribute::supervision::ChildSpec::remote::<Roamer>("roamer", Roamer::default)
        .placement(Placement::custom(|_| None))
        .into_child();
    let started = SupervisorSpec::new(Strategy::OneForOne)
        .child(child)
        .start(&node)
        .await;
    match started {
        Err(error) => assert!(error.to_string().contains("placement chose no node"), "{error}"),
        Ok(_) => panic!("a supervisor whose child cannot be placed started"),
    }
}

/// The test: a supervisor on this node, its registered worker on node B (an OS
/// process), B killed with SIGKILL; the worker must answer under its name again within the
/// time the cluster takes to see B down plus one second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_a_killed_process_answers_under_its_name_within_detection_plus_one_second() {
    let a = fast_node("a").await;
    let seed = [
        "--seed".to_owned(),
        a.listen_addr().map(|x| x.to_string()).unwrap_or_default(),
    ];
    let args: Vec<String> = seed.into_iter().chain(["--fast-detection".to_owned()]).collect();
    let program = env!("CARGO_BIN_EXE_test-node");
    let mut b = NodeProcess::start(program, "b", &args).await;
    let _c = NodeProcess::start(program, "c", &args).await;
    poll_until("a to count b and c in", || a.cluster_members().len() == 2).await;
    let b_id = a
        .cluster_members()
        .iter()
        .find(|member| member.addr == b.addr)
        .map(|member| member.id)
        .unwrap_or_else(|| panic!("b is not among a's members"));

    let supervisor = supervise(&a, Placement::Home(b_id)).await;
    assert_eq!(served_by_name(&a, None).await.0, b_id);

    let mut events = a.events();
    let killed = Instant::now();
    b.kill();
    wait_node_down(&mut events, "b", b_id).await;
    let detected = killed.elapsed();
    let (home, _) = served_by_name(&a, Some(b_id)).await;
    let answered = killed.elapsed();
    eprintln!(
        "SIGKILL to node down: {detected:?}; to the worker answering under its name on {home}: {answered:?} ({:?} after the node down)",
        answered - detected
    );
    assert_ne!(home, b_id);
    assert!(
        answered <= detected + Duration::from_secs(1),
        "the worker answered {:?} after the node down",
        answered - detected
    );
    supervisor.stop(ExitReason::Shutdown).await;
    a.shutdown().await;
}
