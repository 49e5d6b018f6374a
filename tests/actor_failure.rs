//! Panics in handlers: caught, turned into exits, isolated from other actors.

use std::time::Duration;

use distribute::prelude::*;
use distribute_tests::{queue_gets, until, within, Counter, CounterClient, Gate};

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_fails_its_caller_and_stops_the_actor() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let started = tokio::time::Instant::now();
    let err = counter.boom("handler exploded".into()).await.unwrap_err();
    assert_eq!(err, CallError::ActorFailed { actor: counter.id() });
    assert_eq!(
        counter.wait_for_stop().await,
        ExitReason::Panicked("handler exploded".into())
    );
    // Later callers learn at once that the actor is gone.
    assert_eq!(
        counter.get().await.unwrap_err(),
        CallError::ActorStopped { actor: counter.id() }
    );
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "no caller waited for a timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn callers_queued_behind_a_panic_get_actor_stopped_at_once() {
    let node = Node::new();
    let gate = Gate::new();
    let counter = node.spawn(Counter::new(gate.clone())).await.unwrap();
    counter.hold().await.unwrap();
    let failing = tokio::spawn({
        let counter = counter.clone();
        async move { counter.boom("late".into()).await }
    });
    until("the failing call to be queued", || counter.mailbox_len() >= 1).await;
    let queued = queue_gets(&counter, 1, 5).await;
    let started = tokio::time::Instant::now();
    gate.open();
    assert_eq!(
        failing.await.unwrap(),
        Err(CallError::ActorFailed { actor: counter.id() })
    );
    for call in queued {
        assert_eq!(
            call.await.unwrap(),
            Err(CallError::ActorStopped { actor: counter.id() })
        );
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_does_not_affect_other_actors_or_the_node() {
    let node = Node::new();
    let victim = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let bystander = node.spawn(Counter::new(Gate::new())).await.unwrap();
    bystander.add(7).await.unwrap();
    for i in 0..10 {
        let doomed = node.spawn(Counter::new(Gate::new())).await.unwrap();
        assert!(doomed.boom(format!("crash {i}")).await.is_err());
        // The caller hears of the failure before the actor has finished exiting.
        within("doomed to stop", doomed.wait_for_stop()).await;
    }
    assert!(victim.boom("crash".into()).await.is_err());
    assert_eq!(
        within("victim stop", victim.wait_for_stop()).await,
        ExitReason::Panicked("crash".into())
    );
    assert!(bystander.is_alive());
    assert_eq!(bystander.get().await.unwrap(), 7);
    let fresh = node.spawn(Counter::new(Gate::new())).await.unwrap();
    assert_eq!(fresh.get().await.unwrap(), 0);
    assert_eq!(node.actor_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_killed_actor_fails_its_pending_callers_at_once() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    counter.hold().await.unwrap();
    let pending = queue_gets(&counter, 0, 3).await;
    let started = tokio::time::Instant::now();
    counter.kill();
    assert_eq!(counter.wait_for_stop().await, ExitReason::Killed);
    for call in pending {
        assert_eq!(
            call.await.unwrap(),
            Err(CallError::ActorStopped { actor: counter.id() })
        );
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(node.actor_count(), 0);
}
