//! Monitors: a DOWN with the exit reason, from outside or inside an actor.

use distribute::prelude::*;
use distribute_tests::{within, Counter, CounterClient, Gate};

#[tokio::test]
async fn a_monitor_receives_down_with_the_exit_reason() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let monitor = counter.monitor();
    let monitor_ref = monitor.monitor_ref();
    let _ = counter.boom("monitored crash".into()).await;
    let down = within("DOWN", monitor).await;
    assert_eq!(
        down,
        Down {
            monitor: monitor_ref,
            actor: counter.id(),
            reason: ExitReason::Panicked("monitored crash".into())
        }
    );
}

#[tokio::test]
async fn monitoring_an_actor_that_is_already_gone_delivers_down_at_once() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    counter.stop(ExitReason::error("done here")).await;
    let down = within("DOWN", counter.monitor()).await;
    assert_eq!(down.actor, counter.id());
    assert_eq!(down.reason, ExitReason::Error("done here".into()));
}

#[tokio::test]
async fn every_monitor_fires_once_for_one_exit() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let monitors: Vec<_> = (0..5).map(|_| counter.monitor()).collect();
    counter.kill();
    for monitor in monitors {
        assert_eq!(within("DOWN", monitor).await.reason, ExitReason::Killed);
    }
}

/// Monitors a counter from inside an actor and records what it hears.
#[actor]
struct Watchdog {
    target: ActorRef<Counter>,
    monitor: Option<MonitorRefCell>,
    downs: Vec<Down>,
}

impl Watchdog {
    fn new(target: &ActorRef<Counter>) -> Self {
        Watchdog {
            target: target.clone(),
            monitor: None,
            downs: Vec::new(),
        }
    }
}

/// The monitor handle, kept in state.
type MonitorRefCell = distribute::MonitorRef;

#[actor]
impl Watchdog {
    #[on_start]
    fn init(&mut self, ctx: &mut Context<Self>) {
        self.monitor = Some(ctx.monitor(&self.target));
    }

    #[on_down]
    async fn target_down(&mut self, down: Down) {
        self.downs.push(down);
    }

    #[message]
    fn downs(&self) -> Vec<Down> {
        self.downs.clone()
    }

    #[message]
    fn stop_watching(&mut self, ctx: &mut Context<Self>) -> bool {
        match self.monitor.take() {
            Some(monitor) => ctx.demonitor(monitor),
            None => false,
        }
    }
}

#[tokio::test]
async fn an_actor_monitoring_another_receives_on_down() {
    let node = Node::new();
    let target = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let watchdog = node.spawn(Watchdog::new(&target)).await.unwrap();
    target.stop(ExitReason::error("target gone")).await;
    let downs = within("on_down", async {
        loop {
            let downs = watchdog.downs().await.unwrap();
            if !downs.is_empty() {
                break downs;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(downs.len(), 1);
    assert_eq!(downs[0].actor, target.id());
    assert_eq!(downs[0].reason, ExitReason::Error("target gone".into()));
    assert!(watchdog.is_alive(), "a DOWN never stops the watcher");
}

#[tokio::test]
async fn after_demonitor_no_down_arrives() {
    let node = Node::new();
    let target = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let watchdog = node.spawn(Watchdog::new(&target)).await.unwrap();
    assert!(watchdog.stop_watching().await.unwrap());
    // A second monitor, from outside, tells us when the target is fully down.
    let outside = target.monitor();
    target.kill();
    within("outside DOWN", outside).await;
    // The watchdog handles any signal before its next message, so this call observes it.
    assert!(watchdog.downs().await.unwrap().is_empty());
    assert!(!watchdog.stop_watching().await.unwrap());
}
