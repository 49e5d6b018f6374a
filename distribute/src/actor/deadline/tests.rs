use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

use tokio::time::Instant;

use super::{within, Calls, Due, Entry, Slot, LAZY_FROM, LINGER, SHRINK_ABOVE, TICK};

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

/// Enters a call of `timeout` at `now` into `calls`: its key and whether the watcher must
/// be told. Panics (a failed test) unless it waits.
fn enter(calls: &mut Calls, now: Instant, timeout: Duration, waker: &Waker) -> (usize, bool) {
    match calls.insert(timeout, waker, || now) {
        Entry::Waiting { key, tell } => (key, tell),
        other => panic!("the call did not wait: {other:?}"),
    }
}

#[test]
fn the_watcher_is_told_only_of_a_deadline_earlier_than_its_next_wake_up() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    // No watcher yet: nothing to tell; the first call starts one.
    let (_, tell) = enter(&mut calls, t0, ms(5000), Waker::noop());
    assert!(!tell);
    assert_eq!(calls.start_watcher(), Some(1));
    assert_eq!(calls.start_watcher(), None, "one watcher at a time");
    let (expired, next) = calls.scan(t0, 1);
    assert!(expired.is_empty());
    assert_eq!(next, Some(t0 + TICK), "a call came: it looks again a tick later");
    // Calls with a timeout past its next wake-up: the watcher is not told.
    for later in 1..100 {
        let (_, tell) = enter(&mut calls, t0, ms(5000 + later), Waker::noop());
        assert!(!tell);
    }
    // A shorter timeout is.
    let (_, tell) = enter(&mut calls, t0, TICK / 2, Waker::noop());
    assert!(tell);
    let (_, tell) = enter(&mut calls, t0, TICK / 2 + ms(1), Waker::noop());
    assert!(!tell, "the watcher wakes at half a tick already");
}

#[test]
fn a_zero_timeout_has_expired_and_one_past_the_clock_never_does() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    assert_eq!(calls.insert(Duration::ZERO, Waker::noop(), || t0), Entry::Expired);
    assert_eq!(calls.insert(Duration::MAX, Waker::noop(), || t0), Entry::Never);
    assert!(calls.slots.is_empty());
    // Stamped by the watcher, a timeout past the clock waits as long as it takes.
    let (key, _) = enter(&mut calls, t0, ms(5000), Waker::noop());
    let watcher = calls.start_watcher().unwrap_or_default();
    calls.scan(t0, watcher);
    calls.remove(key);
    let (key, _) = enter(&mut calls, t0, Duration::MAX, Waker::noop());
    assert!(matches!(
        calls.slots[key],
        Slot::Waiting {
            due: Due::After(_),
            ..
        }
    ));
    let (expired, _) = calls.scan(t0 + ms(1), watcher);
    assert!(expired.is_empty());
    assert!(matches!(calls.slots[key], Slot::Waiting { due: Due::Never, .. }));
}

#[test]
fn a_long_call_entering_while_the_watcher_ticks_reads_no_clock_and_is_never_early() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let no_clock = || -> Instant { panic!("the clock was read") };
    // The watcher does not tick yet: the first call reads the clock.
    let (first, _) = enter(&mut calls, t0, ms(5000), Waker::noop());
    let watcher = calls.start_watcher().unwrap_or_default();
    let (_, next) = calls.scan(t0 + ms(1), watcher);
    assert_eq!(next, Some(t0 + ms(1) + TICK));
    calls.remove(first);
    // Now it ticks: a long call reads none; a short one still does.
    let long = match calls.insert(ms(5000), Waker::noop(), no_clock) {
        Entry::Waiting { key, tell } => {
            assert!(!tell, "the watcher looks within a tick anyway");
            key
        }
        other => panic!("the call did not wait: {other:?}"),
    };
    let (short, tell) = enter(&mut calls, t0 + ms(2), LAZY_FROM - ms(1), Waker::noop());
    assert!(!tell);
    assert!(matches!(
        calls.slots[short],
        Slot::Waiting { due: Due::At(_), .. }
    ));
    // The next look stamps the long call from the look's time: later than it entered
    // (never early), at most a tick late.
    let look = t0 + ms(1) + TICK;
    let (expired, next) = calls.scan(look, watcher);
    assert!(expired.is_empty());
    assert_eq!(next, Some(look + TICK));
    assert!(matches!(
        calls.slots[long],
        Slot::Waiting { due: Due::At(at), .. } if at == look + ms(5000)
    ));
    let (expired, _) = calls.scan(look + ms(5000) - ms(1), watcher);
    assert_eq!(expired.len(), 1, "only the short call's deadline passed");
    let (expired, _) = calls.scan(look + ms(5000), watcher);
    assert_eq!(expired.len(), 1);
    assert_eq!(calls.poll(long, Waker::noop()), (true, None));
}

#[test]
fn the_watcher_stops_ticking_when_calls_stop_coming() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (key, _) = enter(&mut calls, t0, ms(5000), Waker::noop());
    let watcher = calls.start_watcher().unwrap_or_default();
    calls.scan(t0, watcher);
    assert!(calls.ticking);
    // No call came since: it looks again a linger later (a call still waits), and a new
    // call reads the clock again.
    let (_, next) = calls.scan(t0 + TICK, watcher);
    assert_eq!(next, Some(t0 + TICK + LINGER));
    assert!(!calls.ticking);
    calls.remove(key);
    let mut read = false;
    let _ = calls.insert(ms(5000), Waker::noop(), || {
        read = true;
        t0 + TICK
    });
    assert!(read);
}

#[test]
fn a_task_calling_again_gets_its_waker_back_until_the_watcher_looks() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (count, waker) = counted();
    let (key, _) = enter(&mut calls, t0, ms(5000), &waker);
    assert_eq!(
        Arc::strong_count(&count),
        3,
        "the test's, the waker's, the slot's"
    );
    calls.remove(key);
    assert_eq!(Arc::strong_count(&count), 3, "the free slot keeps it");
    let (again, _) = enter(&mut calls, t0, ms(5000), &waker);
    assert_eq!(again, key);
    assert_eq!(Arc::strong_count(&count), 3, "reused, not cloned");
    // Another task's call in that slot gets its own waker.
    calls.remove(again);
    let (other_count, other) = counted();
    let (third, _) = enter(&mut calls, t0, ms(5000), &other);
    assert_eq!(third, key);
    assert_eq!(Arc::strong_count(&count), 2, "the first task's waker is let go");
    assert_eq!(Arc::strong_count(&other_count), 3);
    // A look lets go of the wakers kept in free slots.
    calls.remove(third);
    let watcher = calls.start_watcher().unwrap_or_default();
    calls.scan(t0, watcher);
    assert_eq!(Arc::strong_count(&other_count), 2);
}

#[test]
fn a_scan_expires_the_calls_whose_deadline_passed_and_sleeps_until_the_next() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (early_count, early) = counted();
    let (late_count, late) = counted();
    let (a, _) = enter(&mut calls, t0, ms(10), &early);
    let (b, _) = enter(&mut calls, t0, ms(30), &late);
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
    let (key, _) = enter(&mut calls, t0, ms(10), &first);
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
    let (a, _) = enter(&mut calls, t0, ms(10), Waker::noop());
    calls.remove(a);
    calls.remove(a);
    let (b, _) = enter(&mut calls, t0, ms(10), Waker::noop());
    assert_eq!(a, b);
    assert_eq!(calls.free.len(), 0, "a slot removed twice is freed once");
    let keys: Vec<usize> = (0..SHRINK_ABOVE + 1)
        .map(|_| enter(&mut calls, t0, ms(10), Waker::noop()).0)
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
    let (key, _) = enter(&mut calls, t0, ms(5000), Waker::noop());
    let watcher = calls.start_watcher().unwrap_or_default();
    calls.remove(key);
    // A call came since it last looked: it looks again a tick later.
    let (_, next) = calls.scan(t0 + ms(1), watcher);
    assert_eq!(next, Some(t0 + ms(1) + TICK));
    // None came since: it stays until a linger after it last saw one come.
    let (_, next) = calls.scan(t0 + ms(1) + TICK, watcher);
    assert_eq!(next, Some(t0 + ms(1) + LINGER));
    // Then it ends, and the next call starts another.
    let (_, next) = calls.scan(t0 + ms(1) + LINGER, watcher);
    assert_eq!(next, None);
    assert_eq!(calls.watcher, None);
    assert!(!calls.ticking);
    enter(&mut calls, t0 + ms(2) + LINGER, ms(9000), Waker::noop());
    assert_eq!(calls.start_watcher(), Some(watcher + 1));
}

#[test]
fn the_calls_of_a_watcher_that_was_dropped_start_another_when_polled() {
    let t0 = Instant::now();
    let mut calls = Calls::default();
    let (count, waker) = counted();
    let (key, _) = enter(&mut calls, t0, ms(10), &waker);
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

#[tokio::test(start_paused = true)]
async fn a_long_call_stamped_by_the_ticking_watcher_times_out_at_most_a_tick_late() {
    // Calls that keep coming make the watcher tick; the pending call then enters without
    // reading the clock, and the watcher's next look stamps its deadline.
    for _ in 0..3 {
        assert_eq!(within(ms(5000), tokio::time::sleep(TICK)).await, Some(()));
    }
    let start = Instant::now();
    assert_eq!(within(LAZY_FROM, std::future::pending::<()>()).await, None);
    let took = start.elapsed();
    assert!(took >= LAZY_FROM && took <= LAZY_FROM + TICK, "took {took:?}");
}

/// The runtime's deadlines the thread keeps for the task that called last: that task's id,
/// and their address.
fn kept() -> Option<(tokio::task::Id, usize)> {
    super::LAST_TASK.with(|last| {
        last.borrow()
            .as_ref()
            .map(|(task, deadlines)| (*task, Arc::as_ptr(deadlines).addr()))
    })
}

#[tokio::test]
async fn a_call_borrows_its_tasks_deadlines_from_the_thread_and_gives_them_back_there() {
    // In a task: the test's body runs outside one.
    let test = tokio::spawn(calls_borrow_and_give_back());
    assert!(test.await.is_ok());
}

async fn calls_borrow_and_give_back() {
    let me = tokio::task::try_id();
    assert!(me.is_some());
    // A call that waited once leaves its runtime's deadlines with the thread, for this task.
    assert_eq!(within(ms(5000), tokio::task::yield_now()).await, Some(()));
    let (task, deadlines) = kept().expect("kept after the first call");
    assert_eq!(Some(task), me);
    // The next call borrows them while it waits, and gives the same ones back.
    let mut call = Box::pin(within(ms(5000), std::future::pending::<()>()));
    std::future::poll_fn(|cx| {
        assert!(call.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    assert_eq!(kept(), None, "lent to the waiting call");
    drop(call);
    assert_eq!(kept(), Some((task, deadlines)));
    // A call whose future ends in another task gives nothing back to that one.
    let mut call = Box::pin(within(ms(5000), std::future::pending::<()>()));
    std::future::poll_fn(|cx| {
        assert!(call.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    let other = tokio::spawn(async move {
        drop(call);
        kept().map(|(task, _)| task)
    });
    assert_eq!(other.await.ok(), Some(None));
    // This task's next call looks its runtime up again, and keeps it once more.
    assert_eq!(within(ms(5000), tokio::task::yield_now()).await, Some(()));
    assert_eq!(kept(), Some((task, deadlines)));
}
