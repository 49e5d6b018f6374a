//! Supervisors: strategies, restart types, intensity and escalation, ordered lifecycle.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{
    Backoff, ChildCounts, ChildSpec, ChildState, Restart, Strategy, Supervisor, SupervisorError,
    SupervisorSpec,
};
use distribute_tests::{until, within, Gate};

type Journal = Arc<Mutex<Vec<String>>>;

/// A worker that writes its starts and stops into a journal.
#[actor]
struct Worker {
    name: &'static str,
    journal: Journal,
    gate: Gate,
    fail_start: bool,
    n: u64,
}

#[actor]
impl Worker {
    #[on_start]
    fn init(&mut self) -> Result<(), String> {
        if self.fail_start {
            return Err(format!("{} cannot start", self.name));
        }
        self.journal.lock().unwrap().push(format!("start {}", self.name));
        Ok(())
    }

    #[on_stop]
    fn done(&mut self, reason: &ExitReason) {
        let what = if matches!(reason, ExitReason::Panicked(_)) {
            "crash"
        } else {
            "stop"
        };
        self.journal.lock().unwrap().push(format!("{what} {}", self.name));
    }

    #[message]
    fn add(&mut self, by: u64) {
        self.n += by;
    }

    #[message]
    fn get(&self) -> u64 {
        self.n
    }

    #[message]
    fn crash(&mut self) -> u64 {
        panic!("{} crashed", self.name)
    }

    #[message]
    async fn wait_then_crash(&mut self) -> u64 {
        self.gate.wait().await;
        panic!("{} crashed after waiting", self.name)
    }

    #[message]
    async fn hold(&mut self) {
        self.gate.wait().await;
    }

    #[message]
    fn quit(&mut self, ctx: &mut Context<Self>) {
        ctx.stop(ExitReason::Normal);
    }
}

struct Fixture {
    journal: Journal,
    gate: Gate,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            journal: Arc::new(Mutex::new(Vec::new())),
            gate: Gate::new(),
        }
    }

    fn worker(&self, name: &'static str) -> ChildSpec {
        let (journal, gate) = (Arc::clone(&self.journal), self.gate.clone());
        ChildSpec::worker(name, move || Worker {
            name,
            journal: Arc::clone(&journal),
            gate: gate.clone(),
            fail_start: false,
            n: 0,
        })
    }

    fn failing_worker(&self, name: &'static str) -> ChildSpec {
        let journal = Arc::clone(&self.journal);
        ChildSpec::worker(name, move || Worker {
            name,
            journal: Arc::clone(&journal),
            gate: Gate::new(),
            fail_start: true,
            n: 0,
        })
    }

    /// The journal since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.journal.lock().unwrap())
    }

    async fn wait_for(&self, entries: usize) -> Vec<String> {
        within("journal entries", async {
            while self.journal.lock().unwrap().len() < entries {
                tokio::task::yield_now().await;
            }
        })
        .await;
        self.take()
    }
}

async fn tree(fx: &Fixture, strategy: Strategy, node: &Node) -> ActorRef<Supervisor> {
    let supervisor = SupervisorSpec::new(strategy)
        .child(fx.worker("a"))
        .child(fx.worker("b"))
        .child(fx.worker("c"))
        .start(node)
        .await
        .unwrap();
    assert_eq!(
        fx.take(),
        ["start a", "start b", "start c"],
        "children start in order"
    );
    supervisor
}

async fn worker(supervisor: &ActorRef<Supervisor>, id: &str) -> ActorRef<Worker> {
    supervisor.child::<Worker>(id).await.unwrap()
}

#[tokio::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForOne, &node).await;
    let b = worker(&supervisor, "b").await;
    assert_eq!(b.crash().await, Err(CallError::ActorFailed { actor: b.id() }));
    assert_eq!(fx.wait_for(2).await, ["crash b", "start b"]);
    assert_eq!(
        b.get().await.unwrap(),
        0,
        "the same ref reaches the restarted child"
    );
    assert_eq!(worker(&supervisor, "b").await.id(), b.id());
    assert!(fx.take().is_empty());
}

#[tokio::test]
async fn one_for_all_restarts_every_child_in_order() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForAll, &node).await;
    let a = worker(&supervisor, "a").await;
    a.add(5).await.unwrap();
    let b = worker(&supervisor, "b").await;
    let _ = b.crash().await;
    assert_eq!(
        fx.wait_for(6).await,
        ["crash b", "stop c", "stop a", "start a", "start b", "start c"]
    );
    assert_eq!(a.get().await.unwrap(), 0, "a was restarted with fresh state");
}

#[tokio::test]
async fn rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::RestForOne, &node).await;
    let a = worker(&supervisor, "a").await;
    a.add(5).await.unwrap();
    let b = worker(&supervisor, "b").await;
    let _ = b.crash().await;
    assert_eq!(fx.wait_for(4).await, ["crash b", "stop c", "start b", "start c"]);
    assert_eq!(a.get().await.unwrap(), 5, "a was left alone");
}

#[tokio::test]
async fn a_killed_child_is_restarted_behind_the_same_ref() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForOne, &node).await;
    let c = worker(&supervisor, "c").await;
    c.kill();
    assert_eq!(fx.wait_for(1).await, ["start c"], "a kill skips the stopped hook");
    assert_eq!(c.get().await.unwrap(), 0);
    assert!(c.is_alive());
}

#[tokio::test]
async fn shutdown_stops_children_in_reverse_order() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForOne, &node).await;
    let children = [worker(&supervisor, "a").await, worker(&supervisor, "b").await];
    assert_eq!(supervisor.stop(ExitReason::Shutdown).await, ExitReason::Shutdown);
    assert_eq!(fx.take(), ["stop c", "stop b", "stop a"]);
    for child in children {
        assert_eq!(child.exit_reason(), Some(ExitReason::Shutdown));
    }
    assert_eq!(node.actor_count(), 0);
}

#[tokio::test]
async fn a_failed_start_stops_the_started_children_and_names_the_culprit() {
    let (fx, node) = (Fixture::new(), Node::new());
    let err = SupervisorSpec::new(Strategy::OneForOne)
        .child(fx.worker("a"))
        .child(fx.failing_worker("bad"))
        .child(fx.worker("c"))
        .start(&node)
        .await
        .unwrap_err();
    let SpawnError::StartFailed {
        reason: ExitReason::StartFailed(text),
        ..
    } = err
    else {
        panic!("unexpected error {err:?}")
    };
    assert!(text.contains("child `bad` failed to start"), "{text}");
    assert!(text.contains("bad cannot start"), "{text}");
    assert_eq!(fx.take(), ["start a", "stop a"], "c never started; a was stopped");
    within("all actors to stop", async {
        while node.actor_count() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn in_flight_callers_get_actor_failed_and_queued_messages_reach_the_restarted_child() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForOne, &node).await;
    let b = worker(&supervisor, "b").await;
    // `hold` blocks the child; behind it: a call whose handler panics, tells, and a call.
    b.hold().await.unwrap();
    until("b to take `hold`", || b.mailbox_len() == 0).await;
    let failing = tokio::spawn({
        let b = b.clone();
        async move { b.wait_then_crash().await }
    });
    until("the failing call to be queued", || b.mailbox_len() >= 1).await;
    for _ in 0..3 {
        b.add(1).await.unwrap();
    }
    let queued_get = tokio::spawn({
        let b = b.clone();
        async move { b.get().await }
    });
    until("all calls to be queued", || b.mailbox_len() >= 5).await;
    let started = tokio::time::Instant::now();
    fx.gate.open();
    assert_eq!(
        failing.await.unwrap(),
        Err(CallError::ActorFailed { actor: b.id() })
    );
    assert_eq!(
        queued_get.await.unwrap(),
        Ok(3),
        "queued messages were delivered after the restart"
    );
    assert_eq!(started.elapsed(), Duration::ZERO, "nobody waited for a timeout");
}

#[tokio::test]
async fn exceeding_the_intensity_stops_the_supervisor_with_a_reason_that_says_so() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(2, Duration::from_secs(60))
        .child(fx.worker("a"))
        .child(fx.worker("b"))
        .start(&node)
        .await
        .unwrap();
    let b = worker(&supervisor, "b").await;
    for _ in 0..2 {
        let _ = b.crash().await;
        b.get().await.unwrap();
    }
    let _ = b.crash().await;
    let reason = within("supervisor to give up", supervisor.wait_for_stop()).await;
    assert_eq!(
        reason,
        ExitReason::MaxRestartsExceeded {
            child: "b".into(),
            reason: Box::new(ExitReason::Panicked("b crashed".into())),
            max_restarts: 2,
            within: Duration::from_secs(60)
        }
    );
    assert!(reason.to_string().contains("restart intensity exceeded"));
    let a = fx.take();
    assert_eq!(
        a.last().map(String::as_str),
        Some("stop a"),
        "the other children were stopped: {a:?}"
    );
    assert_eq!(node.actor_count(), 0);
}

#[tokio::test]
async fn an_escalation_is_handled_by_the_parent_which_restarts_the_subtree_behind_its_refs() {
    let (fx, node) = (Fixture::new(), Node::new());
    let inner = SupervisorSpec::new(Strategy::OneForOne)
        .name("inner")
        .intensity(1, Duration::from_secs(60))
        .child(fx.worker("leaf"))
        .child(fx.worker("other"));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .name("root")
        .child(fx.worker("sibling"))
        .child(inner.into_child("inner"))
        .start(&node)
        .await
        .unwrap();
    assert_eq!(fx.take(), ["start sibling", "start leaf", "start other"]);
    let inner_ref = root.child::<Supervisor>("inner").await.unwrap();
    let leaf = inner_ref.child::<Worker>("leaf").await.unwrap();
    let other = inner_ref.child::<Worker>("other").await.unwrap();
    other.add(5).await.unwrap();
    let _ = leaf.crash().await;
    assert_eq!(fx.wait_for(2).await, ["crash leaf", "start leaf"]);
    leaf.get().await.unwrap();
    // The second crash exceeds the inner intensity: inner gives up, root restarts it, and
    // the subtree restarts behind the same refs, in order.
    let _ = leaf.crash().await;
    assert_eq!(
        fx.wait_for(4).await,
        ["crash leaf", "stop other", "start leaf", "start other"]
    );
    let inner_after = root.child::<Supervisor>("inner").await.unwrap();
    assert_eq!(
        inner_after.id(),
        inner_ref.id(),
        "the inner supervisor kept its ref"
    );
    let leaf_after = inner_after.child::<Worker>("leaf").await.unwrap();
    let other_after = inner_after.child::<Worker>("other").await.unwrap();
    assert_eq!(leaf_after.id(), leaf.id(), "the leaf kept its ref");
    assert_eq!(other_after.id(), other.id(), "so did its sibling");
    assert!(leaf.is_alive() && other.is_alive());
    // Fresh incarnations behind the old refs.
    assert_eq!(leaf.get().await.unwrap(), 0);
    assert_eq!(other.get().await.unwrap(), 0);
    let sibling = worker(&root, "sibling").await;
    assert_eq!(sibling.get().await.unwrap(), 0);
    assert!(fx.take().is_empty(), "the sibling was not restarted");

    // Stopped for good, the tree stops for good: nothing kept lingers.
    root.stop(ExitReason::Shutdown).await;
    assert_eq!(leaf.wait_for_stop().await, ExitReason::Shutdown);
    assert_eq!(node.actor_count(), 0);
}

#[tokio::test]
async fn transient_and_temporary_children_follow_their_restart_type() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(fx.worker("transient").restart(Restart::Transient))
        .child(fx.worker("temporary").restart(Restart::Temporary))
        .start(&node)
        .await
        .unwrap();
    fx.take();
    let transient = worker(&supervisor, "transient").await;
    let _ = transient.crash().await;
    assert_eq!(
        fx.wait_for(2).await,
        ["crash transient", "start transient"],
        "abnormal: restarted"
    );
    transient.quit().await.unwrap();
    assert_eq!(
        transient.wait_for_stop().await,
        ExitReason::Normal,
        "normal: not restarted"
    );

    let temporary = worker(&supervisor, "temporary").await;
    let _ = temporary.crash().await;
    assert!(
        matches!(temporary.wait_for_stop().await, ExitReason::Panicked(_)),
        "never restarted"
    );
    let children = supervisor.which_children().await.unwrap();
    assert_eq!(children.len(), 1, "the temporary child is gone: {children:?}");
    assert_eq!(children[0].id, "transient");
    assert_eq!(children[0].state, ChildState::Terminated);
}

#[tokio::test]
async fn dynamic_children_can_be_started_listed_terminated_restarted_and_deleted() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .start(&node)
        .await
        .unwrap();
    assert_eq!(supervisor.count_children().await.unwrap(), ChildCounts::default());
    let first = supervisor.start_child(fx.worker("x")).await.unwrap();
    supervisor.start_child(fx.worker("y")).await.unwrap();
    assert_eq!(
        supervisor.start_child(fx.worker("x")).await,
        Err(SupervisorError::AlreadyPresent { child: "x".into() })
    );
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!(
        counts,
        ChildCounts {
            specs: 2,
            active: 2,
            restarting: 0,
            supervisors: 0,
            workers: 2
        }
    );

    supervisor.terminate_child("x").await.unwrap();
    let x = &supervisor.which_children().await.unwrap()[0];
    assert_eq!(
        (x.id.as_str(), x.state, x.actor),
        ("x", ChildState::Terminated, None)
    );
    assert_eq!(
        supervisor.delete_child("y").await,
        Err(SupervisorError::Running { child: "y".into() })
    );
    let second = supervisor.restart_child("x").await.unwrap();
    assert_ne!(second, first, "a terminated child restarts as a new actor");
    assert_eq!(
        supervisor.restart_child("x").await,
        Err(SupervisorError::Running { child: "x".into() })
    );
    supervisor.terminate_child("y").await.unwrap();
    supervisor.delete_child("y").await.unwrap();
    assert_eq!(
        supervisor.terminate_child("y").await,
        Err(SupervisorError::NotFound { child: "y".into() })
    );
    assert_eq!(supervisor.count_children().await.unwrap().specs, 1);
    assert_eq!(fx.take(), ["start x", "start y", "stop x", "start x", "stop y"]);
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_restarts() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(10, Duration::from_secs(600))
        .backoff(Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        })
        .child(fx.worker("w"))
        .start(&node)
        .await
        .unwrap();
    let w = worker(&supervisor, "w").await;
    let started = tokio::time::Instant::now();
    let _ = w.crash().await;
    w.get().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    let started = tokio::time::Instant::now();
    let _ = w.crash().await;
    w.get().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(200), "the pause doubles");
}

#[tokio::test]
async fn killing_a_supervisor_takes_its_children_down() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForOne, &node).await;
    let a = worker(&supervisor, "a").await;
    supervisor.kill();
    assert_eq!(supervisor.wait_for_stop().await, ExitReason::Killed);
    assert_eq!(
        within("child to stop", a.wait_for_stop()).await,
        ExitReason::Killed
    );
    within("all actors to stop", async {
        while node.actor_count() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_crash_restart_cycles_leave_nothing_behind() {
    let (fx, node) = (Fixture::new(), Node::new());
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(2_000, Duration::from_secs(600))
        .child(fx.worker("w"))
        .start(&node)
        .await
        .unwrap();
    let w = worker(&supervisor, "w").await;
    for _ in 0..1_000 {
        assert_eq!(w.crash().await, Err(CallError::ActorFailed { actor: w.id() }));
        w.add(1).await.unwrap();
    }
    assert_eq!(w.get().await.unwrap(), 1, "each restart began from fresh state");
    assert_eq!(fx.take().len(), 1 + 2 * 1_000);
    assert_eq!(node.actor_count(), 2);
    assert_eq!(node.stats().cells_allocated(), 2);
    // The supervisor's and the worker's, and the watcher of call deadlines the asks started
    // (one task for all calls, which ends a second or two after the last).
    assert_eq!(metrics.num_alive_tasks(), tasks_before + 3);
    supervisor.stop(ExitReason::Shutdown).await;
    drop(w);
    within("tasks to finish", async {
        while metrics.num_alive_tasks() > tasks_before {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        node.stats().cells_allocated(),
        1,
        "only the supervisor ref is left"
    );
}

#[tokio::test]
async fn node_shutdown_stops_a_tree_through_its_supervisor() {
    let (fx, node) = (Fixture::new(), Node::new());
    let supervisor = tree(&fx, Strategy::OneForAll, &node).await;
    within("node shutdown", node.shutdown()).await;
    assert_eq!(
        fx.take(),
        ["stop c", "stop b", "stop a"],
        "children stopped once, in reverse order"
    );
    assert_eq!(supervisor.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(node.actor_count(), 0);
}
