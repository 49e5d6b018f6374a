//! Supervision seen through the API (issue 17, item 6): each child's restart count,
//! incarnation and last exit reason; a nested supervisor's failure reason in its parent's
//! answers and in the reason its parent gives up with; a pool's count of running workers; and
//! the typed errors of `child`.

use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{
    Backoff, ChildError, ChildSpec, ChildState, Strategy, Supervisor, SupervisorSpec,
};
use distribute::PoolSpec;
use distribute_tests::{until, within, Gate};

#[actor]
#[derive(Default)]
struct Worker {
    jobs: u64,
}

#[actor]
impl Worker {
    #[message]
    fn work(&mut self) -> u64 {
        self.jobs += 1;
        self.jobs
    }

    #[message]
    fn crash(&mut self) {
        panic!("worker crashed")
    }
}

#[actor]
#[derive(Default)]
struct Other;

#[actor]
impl Other {}

/// An actor whose start waits for a gate: starting it keeps its supervisor busy.
#[actor]
struct SlowStart {
    gate: Gate,
}

#[actor]
impl SlowStart {
    #[on_start]
    async fn wait_for_the_gate(&mut self) {
        self.gate.wait().await;
    }
}

fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

fn panicked() -> ExitReason {
    ExitReason::Panicked("worker crashed".into())
}

async fn info(supervisor: &ActorRef<Supervisor>, id: &str) -> distribute::supervision::ChildInfo {
    let children = supervisor.which_children().await.unwrap();
    children
        .into_iter()
        .find(|child| child.id == id)
        .unwrap_or_else(|| panic!("no child `{id}`"))
}

/// Crashes `worker` and waits until it answers again: a message queued behind the crash is
/// kept for the restarted incarnation, which answers it with its fresh state.
async fn crash_and_recover(worker: &ActorRef<Worker>) {
    worker.crash().await.unwrap();
    assert_eq!(within("the restarted worker", worker.work()).await, Ok(1));
}

#[tokio::test]
async fn which_children_gives_restarts_incarnation_and_last_exit() {
    quiet_panics();
    let node = Node::new();
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("w", Worker::default))
        .child(ChildSpec::worker("quiet", Worker::default))
        .start(&node)
        .await
        .unwrap();
    let first = info(&supervisor, "w").await;
    assert_eq!(
        (first.state, first.restarts, first.incarnation, first.last_exit),
        (ChildState::Running, 0, 1, None)
    );
    let w = supervisor.child::<Worker>("w").await.unwrap();
    crash_and_recover(&w).await;
    crash_and_recover(&w).await;
    let after = info(&supervisor, "w").await;
    assert_eq!(
        (after.state, after.restarts, after.incarnation, after.last_exit),
        (ChildState::Running, 2, 3, Some(panicked()))
    );
    let quiet = info(&supervisor, "quiet").await;
    assert_eq!((quiet.restarts, quiet.incarnation, quiet.last_exit), (0, 1, None));

    supervisor.terminate_child("w").await.unwrap();
    let terminated = info(&supervisor, "w").await;
    assert_eq!(
        (terminated.state, terminated.last_exit),
        (ChildState::Terminated, Some(ExitReason::Shutdown))
    );
    supervisor.restart_child("w").await.unwrap();
    let restarted = info(&supervisor, "w").await;
    assert_eq!(
        (restarted.restarts, restarted.incarnation),
        (2, 4),
        "restart_child starts a new incarnation but is not counted as a restart"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_group_restart_counts_for_the_siblings_it_restarts() {
    quiet_panics();
    let node = Node::new();
    let supervisor = SupervisorSpec::new(Strategy::OneForAll)
        .child(ChildSpec::worker("a", Worker::default))
        .child(ChildSpec::worker("b", Worker::default))
        .start(&node)
        .await
        .unwrap();
    let a = supervisor.child::<Worker>("a").await.unwrap();
    crash_and_recover(&a).await;
    let (a, b) = (info(&supervisor, "a").await, info(&supervisor, "b").await);
    assert_eq!((a.restarts, a.incarnation, a.last_exit), (1, 2, Some(panicked())));
    assert_eq!(
        (b.restarts, b.incarnation, b.last_exit),
        (1, 2, Some(ExitReason::Shutdown))
    );
    node.shutdown().await;
}

/// The inner supervisor gives up on its worker; the root lists why as the inner child's last
/// exit, and when the root gives up in turn, its reason carries the inner one, which carries
/// the worker's.
#[tokio::test]
async fn a_nested_supervisors_failure_reason_reaches_the_parent_and_its_caller() {
    quiet_panics();
    let node = Node::new();
    let inner = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(0, Duration::from_secs(60))
        .child(ChildSpec::worker("leaf", Worker::default));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(60))
        .child(inner.into_child("inner"))
        .start(&node)
        .await
        .unwrap();
    let inner_gave_up = ExitReason::MaxRestartsExceeded {
        child: "leaf".into(),
        reason: Box::new(panicked()),
        max_restarts: 0,
        within: Duration::from_secs(60),
    };

    let inner_ref = root.child::<Supervisor>("inner").await.unwrap();
    let leaf = inner_ref.child::<Worker>("leaf").await.unwrap();
    let _ = leaf.crash().await;
    within("the root to restart the inner supervisor", async {
        while info(&root, "inner").await.restarts < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let listed = info(&root, "inner").await;
    assert_eq!(listed.last_exit, Some(inner_gave_up.clone()));
    assert!(listed.is_supervisor);

    let leaf = inner_ref.child::<Worker>("leaf").await.unwrap();
    let _ = leaf.crash().await;
    let reason = within("the root to give up", root.wait_for_stop()).await;
    assert_eq!(
        reason,
        ExitReason::MaxRestartsExceeded {
            child: "inner".into(),
            reason: Box::new(inner_gave_up),
            max_restarts: 1,
            within: Duration::from_secs(60),
        }
    );
    assert!(reason.to_string().contains("worker crashed"), "{reason}");
    node.shutdown().await;
}

/// Under a paused clock the supervisor's backoff holds a crashed worker between its failure
/// and its restart for as long as the test wants: the pool counts it out, then in again.
#[tokio::test(start_paused = true)]
async fn a_pool_counts_only_the_workers_running_now() {
    quiet_panics();
    let node = Node::new();
    let backoff = Duration::from_secs(30);
    let pool = PoolSpec::new(3, Worker::default)
        .supervisor(|spec| spec.backoff(Backoff::new(backoff, backoff)))
        .start(&node)
        .await
        .unwrap();
    assert_eq!(pool.running_workers(), 3);
    let worker = pool.worker_refs()[1].clone();
    worker.crash().await.unwrap();
    until("the crashed worker to be counted out", || {
        pool.running_workers() == 2
    })
    .await;
    assert_eq!(pool.size(), 3, "the pool keeps its size");
    tokio::time::sleep(backoff / 2).await;
    assert_eq!(pool.running_workers(), 2, "still backing off");
    tokio::time::sleep(backoff).await;
    within("the restarted worker", worker.work()).await.unwrap();
    assert_eq!(pool.running_workers(), 3);
    let counts = pool.supervisor().count_children().await.unwrap();
    assert_eq!((counts.active, counts.restarting), (3, 0));
    node.shutdown().await;
}

/// A supervisor answers in mailbox order: a `which_children` queued before a worker's exit
/// reaches it is answered while that worker waits for its restart, which it lists as
/// `Restarting`, not `Running`.
#[tokio::test]
async fn which_children_lists_a_child_waiting_for_its_restart_as_restarting() {
    quiet_panics();
    let node = Node::new();
    let pool = PoolSpec::new(2, Worker::default).start(&node).await.unwrap();
    let supervisor = pool.supervisor().clone();
    // Keep the supervisor busy starting a child, and queue a `which_children` behind it.
    let gate = Gate::new();
    let slow_gate = gate.clone();
    let busy = supervisor.clone();
    let starting = tokio::spawn(async move {
        busy.start_child(ChildSpec::worker("slow", move || SlowStart {
            gate: slow_gate.clone(),
        }))
        .await
    });
    until("the supervisor to take the start", || {
        supervisor.mailbox_len() == 0
    })
    .await;
    let asking = supervisor.clone();
    let listing = tokio::spawn(async move { asking.which_children().await });
    until("the request to be queued", || supervisor.mailbox_len() == 1).await;
    // Now a worker fails: its exit is queued behind the request.
    pool.worker_refs()[0].crash().await.unwrap();
    until("the worker to fail", || pool.running_workers() == 1).await;
    gate.open();
    within("the start", starting).await.unwrap().unwrap();
    let children = within("the listing", listing).await.unwrap().unwrap();
    let states: Vec<(&str, ChildState)> = children.iter().map(|c| (c.id.as_str(), c.state)).collect();
    assert_eq!(
        states,
        [
            ("worker-1", ChildState::Restarting),
            ("worker-2", ChildState::Running),
            ("slow", ChildState::Running)
        ]
    );
    within("the restarted worker", pool.worker_refs()[0].work())
        .await
        .unwrap();
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!((counts.active, counts.restarting), (3, 0));
    node.shutdown().await;
}

#[tokio::test]
async fn child_lookups_fail_with_a_typed_error() {
    let node = Node::new();
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("w", Worker::default))
        .start(&node)
        .await
        .unwrap();
    assert_eq!(
        supervisor.child::<Worker>("nobody").await,
        Err(ChildError::NoSuchChild {
            child: "nobody".into()
        })
    );
    assert_eq!(
        supervisor.child::<Other>("w").await,
        Err(ChildError::WrongType {
            child: "w".into(),
            expected: "Other",
            actual: "Worker",
        })
    );
    supervisor.terminate_child("w").await.unwrap();
    assert_eq!(
        supervisor.child::<Worker>("w").await,
        Err(ChildError::NotRunning { child: "w".into() })
    );
    supervisor.stop(ExitReason::Shutdown).await;
    assert!(matches!(
        supervisor.child::<Worker>("w").await,
        Err(ChildError::Unreachable(CallError::ActorStopped { .. }))
    ));
    node.shutdown().await;
}
