//! Timers an actor sets on itself: `send_after`, `send_interval`, `stop_after`; cancelling
//! them; and their end with the incarnation that set them (a stop, a supervisor's restart).
//!
//! Every test runs on tokio's paused clock: sleeping advances the clock exactly, once every
//! task is idle, so the times asserted below are the timers' own.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use tokio::time::{sleep, Instant};

/// What every incarnation of an [`Alarm`] shares with the test.
#[derive(Clone, Default)]
struct Shared {
    /// How many incarnations have started.
    started: Arc<AtomicU32>,
    /// Each ring handled: (incarnation, ring number, when).
    rings: Arc<Mutex<Vec<(u32, u32, Instant)>>>,
    /// Every timer set, by any incarnation, in order.
    timers: Arc<Mutex<Vec<TimerHandle>>>,
    /// The actor's ref, as its last incarnation saw it.
    myself: Arc<Mutex<Option<ActorRef<Alarm>>>>,
}

impl Shared {
    /// The ring numbers handled so far, with the incarnation that handled each.
    fn rings(&self) -> Vec<(u32, u32)> {
        let rings = self.rings.lock().unwrap();
        rings.iter().map(|&(inc, n, _)| (inc, n)).collect()
    }

    /// When each ring was handled, relative to `t0`.
    fn ring_times(&self, t0: Instant) -> Vec<Duration> {
        let rings = self.rings.lock().unwrap();
        rings.iter().map(|&(_, _, at)| at - t0).collect()
    }

    fn timer(&self, index: usize) -> TimerHandle {
        self.timers.lock().unwrap()[index].clone()
    }

    fn all_timers(&self) -> Vec<TimerHandle> {
        self.timers.lock().unwrap().clone()
    }
}

/// Sets timers on itself on request and records what they deliver.
#[actor]
struct Alarm {
    incarnation: u32,
    shared: Shared,
}

impl Alarm {
    fn new(shared: &Shared) -> Self {
        Alarm {
            incarnation: shared.started.fetch_add(1, Ordering::SeqCst),
            shared: shared.clone(),
        }
    }

    /// Keeps the handle where the test can reach it; returns its index.
    fn keep(&mut self, timer: TimerHandle) -> usize {
        let mut timers = self.shared.timers.lock().unwrap();
        timers.push(timer);
        timers.len() - 1
    }
}

#[actor]
impl Alarm {
    #[on_start]
    fn begin(&mut self, ctx: &mut Context<Self>) {
        *self.shared.myself.lock().unwrap() = Some(ctx.myself());
    }

    #[message]
    fn ring(&mut self, n: u32) {
        let at = Instant::now();
        self.shared.rings.lock().unwrap().push((self.incarnation, n, at));
    }

    #[message]
    fn ring_after(&mut self, ctx: &mut Context<Self>, ms: u64, n: u32) -> usize {
        let timer = ctx.send_after(Duration::from_millis(ms), AlarmMsg::Ring { n });
        self.keep(timer)
    }

    #[message]
    fn ring_every(&mut self, ctx: &mut Context<Self>, ms: u64, n: u32) -> usize {
        let timer = ctx.send_interval(Duration::from_millis(ms), move || AlarmMsg::Ring { n });
        self.keep(timer)
    }

    #[message]
    fn stop_in(&mut self, ctx: &mut Context<Self>, ms: u64, reason: String) -> usize {
        let timer = ctx.stop_after(Duration::from_millis(ms), ExitReason::error(reason));
        self.keep(timer)
    }

    /// Cancels a timer from inside the actor.
    #[message]
    fn cancel(&mut self, timer: usize) -> bool {
        self.shared.timer(timer).cancel()
    }

    /// Keeps the actor busy for `ms`; answers when done.
    #[message]
    async fn hold(&mut self, ms: u64) -> u32 {
        sleep(Duration::from_millis(ms)).await;
        self.incarnation
    }

    #[message]
    fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// Panics; a call, so that the caller learns of the failure.
    #[message]
    fn boom(&mut self) -> u32 {
        panic!("alarm failed");
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn send_after_delivers_once_after_the_delay() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    let t0 = Instant::now();
    let timer = alarm.ring_after(100, 1).await.unwrap();
    assert!(shared.timer(timer).is_pending());
    sleep(ms(99)).await;
    assert!(shared.rings().is_empty(), "not before the delay");
    sleep(ms(2)).await;
    assert_eq!(shared.rings(), [(0, 1)]);
    let at = shared.ring_times(t0)[0];
    assert!(ms(100) <= at && at <= ms(101), "delivered at {at:?}");
    sleep(ms(1000)).await;
    assert_eq!(shared.rings(), [(0, 1)], "a one-shot timer fires once");
    assert!(!shared.timer(timer).is_pending());
    assert!(
        !shared.timer(timer).cancel(),
        "cancelling a fired timer reports false"
    );
}

#[tokio::test(start_paused = true)]
async fn send_interval_repeats_every_period_until_cancelled() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    let t0 = Instant::now();
    let timer = alarm.ring_every(100, 7).await.unwrap();
    sleep(ms(350)).await;
    assert_eq!(shared.rings(), [(0, 7), (0, 7), (0, 7)]);
    let times = shared.ring_times(t0);
    for (i, at) in times.iter().enumerate() {
        let due = ms(100 * (i as u64 + 1));
        assert!(due <= *at && *at <= due + ms(1), "tick {i} at {at:?}");
    }
    assert!(shared.timer(timer).is_pending(), "an interval stays pending");
    assert!(alarm.cancel(timer).await.unwrap(), "cancelled while pending");
    sleep(ms(1000)).await;
    assert_eq!(shared.rings().len(), 3, "no tick after the cancel");
    assert!(!shared.timer(timer).is_pending());
    assert!(
        !alarm.cancel(timer).await.unwrap(),
        "a second cancel reports false"
    );
}

#[tokio::test(start_paused = true)]
async fn a_zero_period_is_taken_as_the_minimum_period() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    assert_eq!(distribute::MIN_TIMER_PERIOD, ms(1));
    let t0 = Instant::now();
    let timer = alarm.ring_every(0, 1).await.unwrap();
    sleep(ms(10)).await;
    assert!(shared.timer(timer).cancel());
    assert_eq!(shared.ring_times(t0)[..3], [ms(1), ms(2), ms(3)]);
}

#[tokio::test(start_paused = true)]
async fn cancel_before_the_delay_prevents_the_message_and_says_so() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    let outside = alarm.ring_after(100, 1).await.unwrap();
    let inside = alarm.ring_after(100, 2).await.unwrap();
    let fired = alarm.ring_after(10, 3).await.unwrap();
    sleep(ms(50)).await;
    assert!(shared.timer(outside).cancel(), "cancelled by the handle's holder");
    assert!(alarm.cancel(inside).await.unwrap(), "cancelled by the actor");
    assert!(!shared.timer(fired).cancel(), "it had fired already");
    sleep(ms(500)).await;
    assert_eq!(shared.rings(), [(0, 3)], "only the timer that fired delivered");
    assert!(!shared.timer(outside).cancel(), "already cancelled");
    assert!(!shared.timer(inside).is_pending());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_does_not_cancel() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    alarm.ring_after(100, 1).await.unwrap();
    shared.timers.lock().unwrap().clear();
    sleep(ms(150)).await;
    assert_eq!(shared.rings(), [(0, 1)]);
}

#[tokio::test(start_paused = true)]
async fn an_exit_timer_stops_the_actor_with_its_reason() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    let t0 = Instant::now();
    let timer = alarm.stop_in(100, "deadline".into()).await.unwrap();
    sleep(ms(99)).await;
    assert!(alarm.is_alive(), "not before the delay");
    assert_eq!(alarm.wait_for_stop().await, ExitReason::error("deadline"));
    assert!(t0.elapsed() <= ms(101), "stopped at {:?}", t0.elapsed());
    assert!(!shared.timer(timer).cancel());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_exit_timer_leaves_the_actor_running() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node.spawn(Alarm::new(&shared)).await.unwrap();
    let timer = alarm.stop_in(100, "deadline".into()).await.unwrap();
    assert!(alarm.cancel(timer).await.unwrap());
    sleep(ms(1000)).await;
    assert!(alarm.is_alive());
    assert_eq!(alarm.incarnation().await.unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_interval_skips_the_ticks_at_which_the_mailbox_is_full() {
    let node = Node::new();
    let shared = Shared::default();
    let options = SpawnOptions::new().mailbox_capacity(2);
    let alarm = node.spawn_with(Alarm::new(&shared), options).await.unwrap();
    alarm.ring_every(10, 1).await.unwrap();
    // Busy until 95 ms: the ticks at 10..=90 find room for two messages; seven are skipped.
    alarm.hold(95).await.unwrap();
    assert!(alarm.mailbox_len() <= 2);
    sleep(ms(10)).await;
    // The two queued, then the tick at 100 ms: neither a backlog nor a tick held back.
    assert_eq!(shared.rings().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn stopping_the_actor_cancels_its_timers_and_frees_it() {
    let node = Node::new();
    let shared = Shared::default();
    let alarm = node
        .spawn_with(Alarm::new(&shared), SpawnOptions::new().mailbox_capacity(1))
        .await
        .unwrap();
    alarm.ring_after(3_600_000, 1).await.unwrap();
    alarm.ring_every(50, 2).await.unwrap();
    alarm.stop_in(3_600_000, "late".into()).await.unwrap();
    // A one-shot timer that fires while the mailbox is full waits for room, holding the
    // actor's cell: the stop must end it too.
    alarm.ring_after(10, 3).await.unwrap();
    let busy = tokio::spawn({
        let alarm = alarm.clone();
        async move { alarm.hold(100).await }
    });
    sleep(ms(1)).await;
    alarm.tell(AlarmMsg::Ring { n: 4 }).await.unwrap();
    sleep(ms(20)).await;
    let timers = shared.all_timers();
    assert!(
        !timers[3].is_pending(),
        "the 10 ms timer fired and waits for room"
    );
    alarm.kill();
    assert_eq!(alarm.wait_for_stop().await, ExitReason::Killed);
    let _ = busy.await;
    for (i, timer) in timers.iter().enumerate() {
        assert!(!timer.is_pending(), "timer {i} ended with the actor");
        assert!(!timer.cancel(), "timer {i}: nothing left to cancel");
    }
    sleep(ms(200)).await;
    assert!(shared.rings().is_empty(), "nothing delivered after the stop");
    drop(alarm);
    shared.myself.lock().unwrap().take();
    // A millisecond for the aborted timer tasks to be dropped by the scheduler.
    sleep(ms(1)).await;
    assert_eq!(
        node.stats().cells_allocated(),
        0,
        "no timer keeps the stopped actor's cell"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restarted_child_starts_without_the_failed_incarnations_timers() {
    let node = Node::new();
    let shared = Shared::default();
    let factory = {
        let shared = shared.clone();
        move || Alarm::new(&shared)
    };
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("alarm", factory))
        .start(&node)
        .await
        .unwrap();
    let alarm = shared.myself.lock().unwrap().clone().unwrap();
    alarm.ring_after(100, 1).await.unwrap();
    alarm.ring_every(30, 2).await.unwrap();
    alarm.stop_in(100, "stale exit timer".into()).await.unwrap();
    assert_eq!(
        alarm.boom().await.unwrap_err(),
        CallError::ActorFailed { actor: alarm.id() }
    );
    assert_eq!(
        alarm.incarnation().await.unwrap(),
        1,
        "restarted behind the same ref"
    );
    for (i, timer) in shared.all_timers().iter().enumerate() {
        assert!(!timer.is_pending(), "timer {i} of the failed incarnation ended");
        assert!(!timer.cancel());
    }
    sleep(ms(1000)).await;
    assert!(
        shared.rings().is_empty(),
        "no message from the failed incarnation's timers"
    );
    assert!(
        alarm.is_alive(),
        "its exit timer did not stop the new incarnation"
    );
    // The new incarnation's own timers work.
    alarm.ring_after(10, 3).await.unwrap();
    sleep(ms(20)).await;
    assert_eq!(shared.rings(), [(1, 3)]);
    supervisor.stop(ExitReason::Shutdown).await;
}

#[test]
fn timer_handles_are_send_sync_and_clone() {
    fn send_sync_clone<T: Send + Sync + Clone>() {}
    send_sync_clone::<TimerHandle>();
}
