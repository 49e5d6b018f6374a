//! Tells, asks, ordering, backpressure and timeouts on a single node.

use std::time::Duration;

use distribute::prelude::*;
use distribute_tests::{queue_gets, within, Counter, CounterClient, CounterMsg, Gate};

/// Records `(sender, seq)` pairs and checks that each sender's sequence arrives in order.
#[actor(mailbox = 256)]
#[derive(Default)]
struct Sequencer {
    next: Vec<u64>,
    out_of_order: u64,
    received: u64,
}

#[actor]
impl Sequencer {
    #[message]
    fn push(&mut self, sender: usize, seq: u64) {
        if self.next.len() <= sender {
            self.next.resize(sender + 1, 0);
        }
        if self.next[sender] != seq {
            self.out_of_order += 1;
        }
        self.next[sender] = seq + 1;
        self.received += 1;
    }

    #[message]
    fn report(&self) -> (u64, u64) {
        (self.received, self.out_of_order)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_each_sender_arrive_in_order_over_100_000_messages() {
    const SENDERS: usize = 4;
    const PER_SENDER: u64 = 25_000;
    let node = Node::new();
    let seq = node.spawn(Sequencer::default()).await.unwrap();
    let mut tasks = Vec::new();
    for sender in 0..SENDERS {
        let seq = seq.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_SENDER {
                seq.push(sender, i).await.unwrap();
            }
        }));
    }
    for task in tasks {
        within("senders", task).await.unwrap();
    }
    let (received, out_of_order) = within("report", seq.report()).await.unwrap();
    assert_eq!(received, SENDERS as u64 * PER_SENDER);
    assert_eq!(out_of_order, 0);
}

#[tokio::test]
async fn tell_then_ask_sees_the_told_messages() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    for _ in 0..10 {
        counter.add(5).await.unwrap();
    }
    assert_eq!(counter.get().await.unwrap(), 50);
}

#[tokio::test]
async fn a_full_mailbox_makes_tell_wait_and_try_tell_fail() {
    let node = Node::new();
    let gate = Gate::new();
    let counter = node
        .spawn_with(
            Counter::new(gate.clone()),
            SpawnOptions::new().mailbox_capacity(2),
        )
        .await
        .unwrap();
    assert_eq!(counter.mailbox_capacity(), 2);

    // `hold` is in the mailbox once the tell returns; the actor then takes it and blocks.
    counter.hold().await.unwrap();
    within("the actor to take `hold`", async {
        while counter.mailbox_len() != 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // Now fill the mailbox: two tells fit.
    counter.try_tell(CounterMsg::Add { by: 1 }).unwrap();
    counter.add(1).await.unwrap();
    assert_eq!(counter.mailbox_len(), 2);

    // A third does not: try_tell fails and tell waits.
    assert_eq!(
        counter.try_tell(CounterMsg::Add { by: 1 }),
        Err(CallError::MailboxFull { actor: counter.id() })
    );
    let mut waiting = Box::pin(counter.add(1));
    for _ in 0..100 {
        tokio::select! {
            biased;
            _ = &mut waiting => panic!("tell completed while the mailbox was full"),
            () = tokio::task::yield_now() => {}
        }
    }

    // Open the gate: the actor drains, the waiting tell completes, nothing was lost.
    gate.open();
    within("the waiting tell", waiting).await.unwrap();
    assert_eq!(counter.get().await.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_ask_that_gets_no_reply_times_out() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    counter.hold().await.unwrap();
    let timeout = Duration::from_millis(250);
    let started = tokio::time::Instant::now();
    let err = counter.with_timeout(timeout).get().await.unwrap_err();
    assert_eq!(
        err,
        CallError::Timeout {
            actor: counter.id(),
            timeout
        }
    );
    assert_eq!(started.elapsed(), timeout);
}

#[tokio::test(start_paused = true)]
async fn the_default_call_timeout_is_five_seconds() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    counter.hold().await.unwrap();
    let started = tokio::time::Instant::now();
    let err = counter.get().await.unwrap_err();
    assert!(matches!(err, CallError::Timeout { timeout, .. } if timeout == Duration::from_secs(5)));
    assert_eq!(started.elapsed(), distribute::DEFAULT_CALL_TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn calls_to_a_stopped_actor_fail_at_once() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    assert!(counter.is_alive());
    assert_eq!(counter.stop(ExitReason::Normal).await, ExitReason::Normal);
    assert!(!counter.is_alive());
    let started = tokio::time::Instant::now();
    let stopped = CallError::ActorStopped { actor: counter.id() };
    assert_eq!(counter.get().await.unwrap_err(), stopped);
    assert_eq!(counter.add(1).await.unwrap_err(), stopped);
    assert_eq!(counter.try_tell(CounterMsg::Add { by: 1 }).unwrap_err(), stopped);
    assert_eq!(started.elapsed(), Duration::ZERO, "no call waited for a timeout");
}

#[tokio::test(start_paused = true)]
async fn calls_queued_when_an_actor_stops_fail_at_once() {
    let node = Node::new();
    let gate = Gate::new();
    let counter = node.spawn(Counter::new(gate.clone())).await.unwrap();
    counter.hold().await.unwrap();
    let queued = queue_gets(&counter, 0, 3).await;
    let started = tokio::time::Instant::now();
    // The stop is handled right after the blocked message, before the queued calls.
    let stopping = tokio::spawn({
        let counter = counter.clone();
        async move { counter.stop(ExitReason::Normal).await }
    });
    tokio::task::yield_now().await;
    gate.open();
    assert_eq!(stopping.await.unwrap(), ExitReason::Normal);
    for call in queued {
        assert_eq!(
            call.await.unwrap(),
            Err(CallError::ActorStopped { actor: counter.id() })
        );
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
}
