use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

use tokio::time::Instant;

use super::{within, Calls, LINGER, SHRINK_ABOVE};

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (Arc::clone(&count), Waker::from(count))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn the_watcher_is_told_only_of_a_deadline_earlier_than_its_next_wake_up() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    // No watcher yet: nothing to tell; the first call starts one.
    let (_, tell) = calls.insert(t0 + ms(5000), Waker::noop().clone());
    assert!(!tell);
    assert_eq!(calls.start_watcher(), Some(1));
    assert_eq!(calls.start_watcher(), None, "one watcher at a time");
    let (expired, next) = calls.scan(t0, 1);
    assert!(expired.is_empty());
    assert_eq!(
        next,
        Some(t0 + LINGER),
        "it looks again a linger later at the latest"
    );
    // Calls with a timeout past its next wake-up: the watcher is not told.
    for later in 1..100 {
        let (_, tell) = calls.insert(t0 + ms(5000 + later), Waker::noop().clone());
        assert!(!tell);
    }
    // A shorter timeout is.
    let (_, tell) = calls.insert(t0 + ms(50), Waker::noop().clone());
    assert!(tell);
    let (_, tell) = calls.insert(t0 + ms(60), Waker::noop().clone());
    assert!(!tell, "the watcher wakes at 50 ms already");
}

#[test]
fn a_scan_expires_the_calls_whose_deadline_passed_and_sleeps_until_the_next() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (early_count, early) = counted();
    let (late_count, late) = counted();
    let (a, _) = calls.insert(t0 + ms(10), early);
    let (b, _) = calls.insert(t0 + ms(30), late);
    let watcher = calls.start_watcher().unwrap_or_default();
    let (expired, next) = calls.scan(t0 + ms(20), watcher);
    assert_eq!(expired.len(), 1);
    assert_eq!(next, Some(t0 + ms(30)));
    expired.into_iter().for_each(Waker::wake);
    assert_eq!(early_count.0.load(Ordering::SeqCst), 1);
    assert_eq!(late_count.0.load(Ordering::SeqCst), 0);
    // The expired call learns it when polled; the other still waits.
    assert_eq!(calls.poll(a, Waker::noop()), (true, None));
    assert_eq!(calls.poll(b, Waker::noop()), (false, None));
    // A deadline exactly now has passed.
    let (expired, _) = calls.scan(t0 + ms(30), watcher);
    assert_eq!(expired.len(), 1);
    assert_eq!(calls.poll(b, Waker::noop()), (true, None));
}

#[test]
fn a_polled_call_keeps_the_latest_waker() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (first_count, first) = counted();
    let (second_count, second) = counted();
    let (key, _) = calls.insert(t0 + ms(10), first);
    let watcher = calls.start_watcher().unwrap_or_default();
    assert_eq!(calls.poll(key, &second), (false, None));
    let (expired, _) = calls.scan(t0 + ms(10), watcher);
    expired.into_iter().for_each(Waker::wake);
    assert_eq!(first_count.0.load(Ordering::SeqCst), 0);
    assert_eq!(second_count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn slots_are_reused_and_a_large_empty_slab_is_given_back() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (a, _) = calls.insert(t0 + ms(10), Waker::noop().clone());
    calls.remove(a);
    calls.remove(a);
    let (b, _) = calls.insert(t0 + ms(10), Waker::noop().clone());
    assert_eq!(a, b);
    assert_eq!(calls.free.len(), 0, "a slot removed twice is freed once");
    let keys: Vec<usize> = (0..SHRINK_ABOVE + 1)
        .map(|_| calls.insert(t0 + ms(10), Waker::noop().clone()).0)
        .collect();
    assert_eq!(calls.slots.len(), SHRINK_ABOVE + 2);
    calls.remove(b);
    keys.into_iter().for_each(|key| calls.remove(key));
    assert!(calls.slots.is_empty() && calls.free.is_empty());
}

#[test]
fn the_watcher_lingers_once_after_the_last_call_then_ends() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (key, _) = calls.insert(t0 + ms(5000), Waker::noop().clone());
    let watcher = calls.start_watcher().unwrap_or_default();
    calls.remove(key);
    // A call came since it last looked: it wakes again a linger later.
    let (_, next) = calls.scan(t0 + ms(1), watcher);
    assert_eq!(next, Some(t0 + ms(1) + LINGER));
    // None came since: it ends, and the next call starts another.
    let (_, next) = calls.scan(t0 + ms(1) + LINGER, watcher);
    assert_eq!(next, None);
    assert_eq!(calls.watcher, None);
    calls.insert(t0 + ms(9000), Waker::noop().clone());
    assert_eq!(calls.start_watcher(), Some(watcher + 1));
}

#[test]
fn the_calls_of_a_watcher_that_was_dropped_start_another_when_polled() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (count, waker) = counted();
    let (key, _) = calls.insert(t0 + ms(10), waker);
    let first = calls.start_watcher().unwrap_or_default();
    // A watcher that is not the running one ending changes nothing.
    assert!(calls.watcher_ended(first + 7).is_empty());
    let orphans = calls.watcher_ended(first);
    assert_eq!(orphans.len(), 1);
    orphans.into_iter().for_each(Waker::wake);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(calls.poll(key, Waker::noop()), (false, Some(first + 1)));
    assert_eq!(calls.poll(key, Waker::noop()), (false, None));
}

#[tokio::test(start_paused = true)]
async fn work_that_outlasts_its_timeout_is_cut_at_the_deadline() {
    let start = Instant::now();
    let never = within(ms(250), std::future::pending::<()>()).await;
    assert_eq!(never, None);
    let took = start.elapsed();
    assert!(took >= ms(250) && took < ms(260), "took {took:?}");
    // Work that finishes first keeps its output; a later call on the same runtime times
    // out on its own deadline.
    let quick = within(ms(250), tokio::time::sleep(ms(100))).await;
    assert_eq!(quick, Some(()));
    let start = Instant::now();
    assert_eq!(within(ms(40), std::future::pending::<()>()).await, None);
    assert!(start.elapsed() < ms(50));
}

#[tokio::test(start_paused = true)]
async fn a_zero_timeout_still_lets_ready_work_through() {
    assert_eq!(within(Duration::ZERO, async { 7 }).await, Some(7));
    assert_eq!(within(Duration::ZERO, std::future::pending::<()>()).await, None);
    assert_eq!(within(Duration::MAX, async { 8 }).await, Some(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_on_many_threads_each_time_out_on_their_own_deadline() {
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        tasks.push(tokio::spawn(async move {
            let timeout = ms(10 + i % 8 * 5);
            let start = std::time::Instant::now();
            let timed_out = within(timeout, std::future::pending::<()>()).await.is_none();
            (timed_out, start.elapsed() >= timeout)
        }));
    }
    for task in tasks {
        assert_eq!(task.await.ok(), Some((true, true)));
    }
}
