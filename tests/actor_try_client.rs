//! The typed `try_` client methods that `#[actor]` generates beside the awaiting ones: a
//! tell's fails at once on a full mailbox instead of waiting for room, an ask's fails at once
//! too but, once sent, waits for the reply. On refs (local, and remote over TCP on 127.0.0.1),
//! `with_timeout` views and pools.

use std::time::Duration;

use distribute::prelude::*;
use distribute::PoolSpec;
use distribute_tests::{addr, net_node, shutdown, until, within, Counter, CounterClient, Gate};

/// A counter with a mailbox of two, blocked in `hold` with an empty mailbox.
async fn blocked_counter(node: &Node, gate: &Gate) -> ActorRef<Counter> {
    let counter = node
        .spawn_with(
            Counter::new(gate.clone()),
            SpawnOptions::new().mailbox_capacity(2),
        )
        .await
        .unwrap();
    counter.try_hold().unwrap();
    until("the actor to take `hold`", || counter.mailbox_len() == 0).await;
    counter
}

#[tokio::test]
async fn a_try_tell_method_fails_at_once_on_a_full_mailbox() {
    let node = Node::new();
    let gate = Gate::new();
    let counter = blocked_counter(&node, &gate).await;
    counter.try_add(1).unwrap();
    counter.try_add(2).unwrap();
    assert_eq!(counter.mailbox_len(), 2);
    assert_eq!(
        counter.try_add(4),
        Err(CallError::MailboxFull { actor: counter.id() })
    );
    gate.open();
    assert_eq!(
        within("the reply", counter.get()).await,
        Ok(3),
        "the refused message was dropped"
    );
    counter.stop(ExitReason::Normal).await;
    assert_eq!(
        counter.try_add(1),
        Err(CallError::ActorStopped { actor: counter.id() })
    );
}

#[tokio::test]
async fn a_try_ask_method_fails_at_once_on_a_full_mailbox_and_otherwise_waits_for_the_reply() {
    let node = Node::new();
    let gate = Gate::new();
    let counter = blocked_counter(&node, &gate).await;
    counter.try_add(5).unwrap();
    // Room for one more: the ask goes in, and its reply waits for the gate.
    let mut answer = Box::pin(counter.try_hold_then_get());
    for _ in 0..100 {
        tokio::select! {
            biased;
            _ = &mut answer => panic!("the ask was answered while the actor was blocked"),
            () = tokio::task::yield_now() => {}
        }
    }
    assert_eq!(counter.mailbox_len(), 2);
    // Full now: the next one fails without waiting, even with the actor blocked.
    assert_eq!(
        within("a refused ask", counter.try_get()).await,
        Err(CallError::MailboxFull { actor: counter.id() })
    );
    assert_eq!(
        within(
            "a refused ask",
            counter.with_timeout(Duration::from_secs(60)).try_get()
        )
        .await,
        Err(CallError::MailboxFull { actor: counter.id() })
    );
    gate.open();
    assert_eq!(within("the reply", answer).await, Ok(5));
    assert_eq!(within("a reply", counter.try_get()).await, Ok(5));
}

#[tokio::test(start_paused = true)]
async fn a_try_ask_method_on_a_with_timeout_view_uses_its_timeout() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    counter.try_hold().unwrap();
    let timeout = Duration::from_millis(250);
    let started = tokio::time::Instant::now();
    assert_eq!(
        counter.with_timeout(timeout).try_get().await,
        Err(CallError::Timeout {
            actor: counter.id(),
            timeout
        })
    );
    assert_eq!(started.elapsed(), timeout);
}

#[tokio::test]
async fn try_methods_work_on_a_pool() {
    let node = Node::new();
    let gate = Gate::new();
    let factory_gate = gate.clone();
    let pool = PoolSpec::new(2, move || Counter::new(factory_gate.clone()))
        .worker_spec(|spec| spec.mailbox_capacity(1))
        .start(&node)
        .await
        .unwrap();
    // Round-robin: each worker gets one `hold` and blocks on it, its mailbox empty.
    pool.try_hold().unwrap();
    pool.try_hold().unwrap();
    let workers = pool.worker_refs();
    until("both workers to block", || {
        workers.iter().all(|w| w.mailbox_len() == 0)
    })
    .await;
    pool.try_add(1).unwrap();
    pool.try_add(2).unwrap();
    let refused = pool.try_add(4).unwrap_err();
    assert!(matches!(refused, CallError::MailboxFull { .. }), "{refused:?}");
    assert!(matches!(
        within("a refused ask", pool.try_get()).await,
        Err(CallError::MailboxFull { .. })
    ));
    gate.open();
    let mut total = 0;
    for worker in &workers {
        total += within("a worker's count", worker.get()).await.unwrap();
    }
    assert_eq!(total, 3);
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_methods_work_on_a_remote_ref() {
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(addr(&a)).await.expect("connect");
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");
    remote.try_add(2).expect("room in the send queue");
    // Same connection, same order: the ask is handled after the tell.
    assert_eq!(within("the remote reply", remote.try_get()).await, Ok(2));
    counter.stop(ExitReason::Normal).await;
    assert!(matches!(
        within("the remote reply", remote.try_get()).await,
        Err(CallError::ActorStopped { .. })
    ));
    shutdown(&[&b, &a]).await;
}
