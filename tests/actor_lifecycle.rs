//! Hooks, start failures, node shutdown and resource accounting.

use std::sync::{Arc, Mutex};

use distribute::prelude::*;
use distribute_tests::{within, Counter, CounterClient, CounterMsg, Gate};

type Journal = Arc<Mutex<Vec<String>>>;

/// Writes every lifecycle event into a shared journal.
#[actor]
struct Lifecycle {
    label: &'static str,
    journal: Journal,
    fail_start: bool,
    panic_start: bool,
}

impl Lifecycle {
    fn new(label: &'static str, journal: &Journal) -> Self {
        Lifecycle {
            label,
            journal: Arc::clone(journal),
            fail_start: false,
            panic_start: false,
        }
    }

    fn log(&self, event: String) {
        self.journal
            .lock()
            .unwrap()
            .push(format!("{}: {event}", self.label));
    }
}

#[actor]
impl Lifecycle {
    #[on_start]
    async fn init(&mut self) -> Result<(), String> {
        if self.panic_start {
            panic!("start panicked");
        }
        if self.fail_start {
            return Err("database unreachable".to_string());
        }
        self.log("started".into());
        Ok(())
    }

    #[on_stop]
    fn done(&mut self, reason: &ExitReason) {
        self.log(format!("stopped ({reason})"));
    }

    #[message]
    fn ping(&self) -> String {
        format!("pong from {}", self.label)
    }
}

fn journal() -> Journal {
    Arc::new(Mutex::new(Vec::new()))
}

#[tokio::test]
async fn started_runs_before_the_first_message_and_stopped_after_the_last() {
    let node = Node::new();
    let log = journal();
    let actor = node.spawn(Lifecycle::new("a", &log)).await.unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        ["a: started"],
        "spawn returns after started"
    );
    assert_eq!(actor.ping().await.unwrap(), "pong from a");
    assert_eq!(actor.stop(ExitReason::Normal).await, ExitReason::Normal);
    assert_eq!(*log.lock().unwrap(), ["a: started", "a: stopped (normal)"]);
}

#[tokio::test]
async fn a_start_error_fails_the_spawn_with_its_reason() {
    let node = Node::new();
    let log = journal();
    let mut actor = Lifecycle::new("b", &log);
    actor.fail_start = true;
    let err = node.spawn(actor).await.unwrap_err();
    assert!(matches!(
        &err,
        SpawnError::StartFailed { reason: ExitReason::StartFailed(text), .. } if text == "database unreachable"
    ));
    assert!(
        log.lock().unwrap().is_empty(),
        "stopped does not run after a failed start"
    );
    assert_eq!(node.actor_count(), 0);
}

#[tokio::test]
async fn a_start_panic_fails_the_spawn() {
    let node = Node::new();
    let mut actor = Lifecycle::new("c", &journal());
    actor.panic_start = true;
    let err = node.spawn(actor).await.unwrap_err();
    assert!(matches!(
        &err,
        SpawnError::StartFailed { reason: ExitReason::Panicked(text), .. } if text == "start panicked"
    ));
}

#[tokio::test]
async fn a_kill_skips_the_stopped_hook() {
    let node = Node::new();
    let log = journal();
    let actor = node.spawn(Lifecycle::new("d", &log)).await.unwrap();
    actor.kill();
    assert_eq!(actor.wait_for_stop().await, ExitReason::Killed);
    assert_eq!(*log.lock().unwrap(), ["d: started"]);
}

#[tokio::test]
async fn node_shutdown_stops_every_actor_newest_first() {
    let node = Node::new();
    let log = journal();
    let first = node.spawn(Lifecycle::new("first", &log)).await.unwrap();
    let second = node.spawn(Lifecycle::new("second", &log)).await.unwrap();
    let third = node.spawn(Lifecycle::new("third", &log)).await.unwrap();
    within("shutdown", node.shutdown()).await;
    assert_eq!(node.actor_count(), 0);
    for actor in [&first, &second, &third] {
        assert_eq!(actor.exit_reason(), Some(ExitReason::Shutdown));
    }
    let stops: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.contains("stopped"))
        .cloned()
        .collect();
    assert_eq!(
        stops,
        [
            "third: stopped (shutdown)",
            "second: stopped (shutdown)",
            "first: stopped (shutdown)"
        ]
    );
    let err = node.spawn(Lifecycle::new("late", &log)).await.unwrap_err();
    assert_eq!(err, SpawnError::NodeShuttingDown);
}

#[tokio::test]
async fn a_zero_mailbox_capacity_is_rejected() {
    let node = Node::new();
    let err = node
        .spawn_with(Counter::new(Gate::new()), SpawnOptions::new().mailbox_capacity(0))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SpawnError::InvalidMailboxCapacity { capacity: 0, .. }
    ));
    assert_eq!(node.actor_count(), 0);
}

#[test]
fn spawning_outside_a_runtime_is_a_typed_error() {
    let node = Node::new();
    let spawn = node.spawn(Counter::new(Gate::new()));
    // Drive the future by hand, with no tokio runtime around.
    let err = futures_lite_block_on(spawn).unwrap_err();
    assert_eq!(err, SpawnError::NoRuntime);
}

/// A minimal executor for a future that completes without waiting.
fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("spawn outside a runtime must fail at once"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawning_and_stopping_100_000_actors_leaves_nothing_behind() {
    const ACTORS: usize = 100_000;
    let node = Node::new();
    let stats = node.stats();
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let gate = Gate::new();
    let mut refs = Vec::with_capacity(ACTORS);
    for _ in 0..ACTORS {
        refs.push(node.spawn(Counter::new(gate.clone())).await.unwrap());
    }
    assert_eq!(node.actor_count(), ACTORS);
    assert_eq!(stats.cells_allocated(), ACTORS);
    // An actor with no start hook is dormant until it is first needed: no task yet.
    assert_eq!(metrics.num_alive_tasks(), tasks_before);
    // Every actor still answers; a message gives it its task. The first ask that waits
    // starts the runtime's watcher of call deadlines: one task for all calls, which ends a
    // second or two after the last call. An ask answered before its first poll needs no
    // watcher, so this one waits for sure: its handler holds until the gate opens.
    const WATCHER: usize = 1;
    refs[ACTORS / 2].add(1).await.unwrap();
    {
        let mut held = std::pin::pin!(refs[ACTORS / 2].hold_then_get());
        let polled = tokio::time::timeout(std::time::Duration::from_millis(20), &mut held).await;
        assert!(polled.is_err(), "the ask was answered before the gate opened");
        gate.open();
        assert_eq!(within("the held answer", held).await.unwrap(), 1);
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before + 1 + WATCHER);
    for actor in &refs[..1000] {
        actor.get().await.unwrap();
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before + 1001 + WATCHER);

    for (i, actor) in refs.iter().enumerate() {
        if i % 2 == 0 {
            actor.stop(ExitReason::Normal).await;
        } else {
            actor.kill();
            actor.wait_for_stop().await;
        }
    }
    assert_eq!(node.actor_count(), 0);
    drop(refs);
    within("tasks to finish", async {
        while metrics.num_alive_tasks() > tasks_before {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(metrics.num_alive_tasks(), tasks_before);
    assert_eq!(
        stats.cells_allocated(),
        0,
        "no actor state is left once tasks and refs are gone"
    );
    assert_eq!(stats.spawned_total(), ACTORS as u64);
}

/// An actor with no start hook has no task until it is first needed. Every way of needing it
/// (a message, a try_tell, a stop, a kill, a monitor, a link, a node shutdown) must wake it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dormant_actor_wakes_for_every_kind_of_request() {
    let node = Node::new();
    let spawn = || node.spawn(Counter::new(Gate::new()));

    let told = spawn().await.unwrap();
    told.try_tell(CounterMsg::Add { by: 2 }).unwrap();
    assert_eq!(within("a reply", told.get()).await.unwrap(), 2);

    let stopped = spawn().await.unwrap();
    assert_eq!(
        within("the stop", stopped.stop(ExitReason::Normal)).await,
        ExitReason::Normal
    );

    let killed = spawn().await.unwrap();
    killed.kill();
    assert_eq!(
        within("the kill", killed.wait_for_stop()).await,
        ExitReason::Killed
    );

    let monitored = spawn().await.unwrap();
    let down = monitored.monitor();
    tokio::task::yield_now().await;
    monitored.kill();
    assert_eq!(within("the DOWN", down).await.reason, ExitReason::Killed);

    // A link to a dormant actor: its partner's crash must take it down.
    let partner = spawn().await.unwrap();
    let linked = spawn().await.unwrap();
    linked.link(&partner);
    let _ = partner.boom("partner failed".into()).await;
    let reason = within("the linked exit", linked.wait_for_stop()).await;
    assert!(
        matches!(reason, ExitReason::Linked { from, .. } if from == partner.id()),
        "{reason:?}"
    );

    let sleeper = spawn().await.unwrap();
    within("the shutdown", node.shutdown()).await;
    assert_eq!(sleeper.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(node.actor_count(), 0);
}

/// A dormant actor whose node is gone can no longer run: what is sent to it is answered as
/// for a stopped actor, and its stop is observable.
#[tokio::test]
async fn a_dormant_actor_of_a_dropped_node_answers_as_stopped() {
    let node = Node::new();
    let orphan = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let stats = node.stats();
    drop(node);
    let err = within("the answer", orphan.get()).await.unwrap_err();
    assert!(matches!(err, CallError::ActorStopped { .. }), "{err:?}");
    assert_eq!(orphan.wait_for_stop().await, ExitReason::Shutdown);
    assert!(orphan.try_tell(CounterMsg::Add { by: 1 }).is_err());
    drop(orphan);
    assert_eq!(stats.cells_allocated(), 0);
}

/// Says which runtime runs it.
#[actor]
struct Whereabouts;

#[actor]
impl Whereabouts {
    #[message]
    fn runtime(&self) -> String {
        tokio::runtime::Handle::current().id().to_string()
    }
}

/// A node used from two runtimes: a dormant actor starts on the runtime that spawned it,
/// whichever runtime its first message comes from, trapping exits or not.
#[test]
fn a_dormant_actor_starts_on_the_runtime_that_spawned_it() {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    };
    let (home, other) = (runtime(), runtime());
    let node = Node::new();
    let trapping = || SpawnOptions::default().trap_exit(true);
    let at_home = home.block_on(node.spawn(Whereabouts)).unwrap();
    let at_home_trapping = home.block_on(node.spawn_with(Whereabouts, trapping())).unwrap();
    let away = other.block_on(node.spawn(Whereabouts)).unwrap();
    let away_trapping = other.block_on(node.spawn_with(Whereabouts, trapping())).unwrap();
    let ask = |on: &tokio::runtime::Runtime, actor: &ActorRef<Whereabouts>| {
        on.block_on(within("the answer", actor.runtime())).unwrap()
    };
    let (home_id, other_id) = (home.handle().id().to_string(), other.handle().id().to_string());
    assert_eq!(ask(&other, &at_home), home_id);
    assert_eq!(ask(&other, &at_home_trapping), home_id);
    assert_eq!(ask(&home, &away), other_id);
    assert_eq!(ask(&home, &away_trapping), other_id);
    home.block_on(within("the shutdown", node.shutdown()));
}
