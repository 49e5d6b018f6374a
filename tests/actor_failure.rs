//! Panics in handlers: caught, turned into exits, isolated from other actors.

use std::time::Duration;

use distribute::prelude::*;
use distribute_tests::{within, Counter, CounterClient, Gate};

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
    while counter.mailbox_len() < 1 {
        tokio::task::yield_now().await;
    }
    let queued: Vec<_> = (0..5)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move { counter.get().await })
        })
        .collect();
    while counter.mailbox_len() < 6 {
        tokio::task::yield_now().await;
    }
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
    let pending: Vec<_> = (0..3)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move { counter.get().await })
        })
        .collect();
    while counter.mailbox_len() < 3 {
        tokio::task::yield_now().await;
    }
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
