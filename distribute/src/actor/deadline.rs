//! The deadlines of calls, kept without a timer per call.
//!
//! Every [`ask`](crate::ActorRef::ask) has a timeout, and most asks finish in a microsecond
//! or two. A tokio timer per call puts an entry in the runtime's timer wheel and takes it out
//! again, under the wheel's lock, and when the wheel was empty the insert wakes the thread
//! that parks on the timer driver: a system call and a thread wake-up per call. In a
//! benchmark of sequential asks from a task, that was two thirds of the time of an ask.
//!
//! So a runtime's calls share one *watcher*: a task that sleeps until the earliest deadline
//! of the calls waiting on that runtime, wakes the calls whose deadline passed, and sleeps
//! again, a [`LINGER`] at most. A call that has to wait puts its deadline and waker in a
//! slab (one uncontended lock), and takes them out when it ends (another); the watcher is
//! told only when a call's deadline is earlier than the watcher's next wake-up, which calls
//! with the same timeout, or one longer than a [`LINGER`], never are. With no call waiting,
//! the watcher still wakes once more a [`LINGER`] later (so that a stream of short calls,
//! each gone before the next comes, does not tell it each time), then ends, until a call
//! needs it again: it outlives the last call by one or two [`LINGER`]s.
//!
//! Time is tokio's ([`tokio::time::Instant`]), so paused and simulated clocks work as with
//! tokio's own timers; the watcher of a runtime runs on that runtime, keyed by its
//! [`Id`](tokio::runtime::Id), so each call is measured on its own runtime's clock. The
//! bookkeeping ([`Calls`]) is a plain state machine, tested without a clock or a runtime.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::runtime::{Handle, Id};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::lock::lock;

/// How long the watcher stays after the last call it saw ended, before it ends.
const LINGER: Duration = Duration::from_secs(1);

/// A slab this large with no call in it is given back to the allocator.
const SHRINK_ABOVE: usize = 1024;

/// Runs `work` until it finishes or `timeout` has passed since it first had to wait;
/// `None` on the timeout. `work` is polled first, so a call that is ready at once never
/// touches the clock.
pub(crate) async fn within<F: Future>(timeout: Duration, work: F) -> Option<F::Output> {
    let mut work = pin!(work);
    let mut watch = Watch::Unarmed;
    poll_fn(|cx| {
        if let Poll::Ready(output) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if watch.expired(timeout, cx.waker()) {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    })
    .await
}

/// One call's side: its slot with its runtime's watcher, once it had to wait.
enum Watch {
    /// The call has not waited yet.
    Unarmed,
    /// The timeout cannot be reached (it overflows the clock), or there is no runtime whose
    /// clock could measure it: the call waits as long as it takes.
    Never,
    /// The call's slot in `deadlines`.
    Armed { deadlines: Arc<Deadlines>, key: usize },
}

impl Watch {
    /// Whether the call's deadline passed; otherwise `waker` is woken when it does.
    fn expired(&mut self, timeout: Duration, waker: &Waker) -> bool {
        match self {
            Watch::Never => false,
            Watch::Armed { deadlines, key } => deadlines.poll(*key, waker),
            Watch::Unarmed => {
                let Ok(runtime) = Handle::try_current() else {
                    *self = Watch::Never;
                    return false;
                };
                let now = Instant::now();
                let Some(deadline) = now.checked_add(timeout) else {
                    *self = Watch::Never;
                    return false;
                };
                if deadline <= now {
                    return true;
                }
                let deadlines = Deadlines::of(&runtime);
                let key = deadlines.insert(deadline, waker, &runtime);
                *self = Watch::Armed { deadlines, key };
                false
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Watch::Armed { deadlines, key } = self {
            lock(&deadlines.calls).remove(*key);
        }
    }
}

/// The waiting calls of one runtime and the means to tell its watcher.
#[derive(Default)]
struct Deadlines {
    calls: Mutex<Calls>,
    /// Tells the watcher that a call's deadline is earlier than its next wake-up.
    earlier: Notify,
}

thread_local! {
    /// The deadlines of the runtime this thread last made a call on.
    static LAST: RefCell<Option<(Id, Arc<Deadlines>)>> = const { RefCell::new(None) };
}

/// Every runtime's deadlines, found by the runtime's id; an entry whose runtime is gone (its
/// watcher ended and no call or thread holds it) is dropped when another runtime is added.
static RUNTIMES: Mutex<Vec<(Id, Weak<Deadlines>)>> = Mutex::new(Vec::new());

impl Deadlines {
    /// The deadlines of `runtime`.
    fn of(runtime: &Handle) -> Arc<Deadlines> {
        let id = runtime.id();
        let cached = LAST.try_with(|last| match &*last.borrow() {
            Some((last, deadlines)) if *last == id => Some(Arc::clone(deadlines)),
            _ => None,
        });
        if let Ok(Some(deadlines)) = cached {
            return deadlines;
        }
        let deadlines = Deadlines::shared(id);
        let _ = LAST.try_with(|last| *last.borrow_mut() = Some((id, Arc::clone(&deadlines))));
        deadlines
    }

    /// The deadlines of runtime `id` from the table of all runtimes, added if new.
    fn shared(id: Id) -> Arc<Deadlines> {
        let mut runtimes = lock(&RUNTIMES);
        if let Some(found) = runtimes
            .iter()
            .find(|(known, _)| *known == id)
            .and_then(|(_, deadlines)| deadlines.upgrade())
        {
            return found;
        }
        runtimes.retain(|(known, deadlines)| *known != id && deadlines.strong_count() > 0);
        let deadlines = Arc::new(Deadlines::default());
        runtimes.push((id, Arc::downgrade(&deadlines)));
        deadlines
    }

    /// Adds a call waiting until `deadline`, and starts the watcher on `runtime` if none runs.
    fn insert(self: &Arc<Self>, deadline: Instant, waker: &Waker, runtime: &Handle) -> usize {
        let (key, tell) = {
            let mut calls = lock(&self.calls);
            let (key, tell) = calls.insert(deadline, waker.clone());
            if let Some(watcher) = calls.start_watcher() {
                runtime.spawn(watch(Arc::clone(self), watcher));
            }
            (key, tell)
        };
        if tell {
            self.earlier.notify_one();
        }
        key
    }

    /// Whether call `key` expired; otherwise its waker is `waker` from now on (and a watcher
    /// runs, started on the current runtime if the last one ended).
    fn poll(self: &Arc<Self>, key: usize, waker: &Waker) -> bool {
        let mut calls = lock(&self.calls);
        let (expired, start) = calls.poll(key, waker);
        if let Some(watcher) = start {
            match Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(watch(Arc::clone(self), watcher))),
                // Not on a runtime: the next poll tries again.
                Err(_) => calls.watcher = None,
            }
        }
        expired
    }
}

/// The watcher of `deadlines`, number `me`: wakes the calls whose deadline passed, sleeps
/// until the next one (or until told of an earlier one), and ends once no call came for a
/// [`LINGER`].
async fn watch(deadlines: Arc<Deadlines>, me: u64) {
    let _gone = WatcherGone {
        deadlines: &deadlines,
        me,
    };
    loop {
        let (expired, next) = lock(&deadlines.calls).scan(Instant::now(), me);
        for waker in expired {
            waker.wake();
        }
        let Some(next) = next else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = deadlines.earlier.notified() => {}
        }
    }
}

/// Ends watcher `me` in the books when its task ends, ended by its runtime's shutdown
/// included: the calls still waiting are woken, to start another if they still can.
struct WatcherGone<'a> {
    deadlines: &'a Deadlines,
    me: u64,
}

impl Drop for WatcherGone<'_> {
    fn drop(&mut self) {
        let orphans = lock(&self.deadlines.calls).watcher_ended(self.me);
        for waker in orphans {
            waker.wake();
        }
    }
}

/// A call's slot.
#[derive(Debug)]
enum Slot {
    Free,
    Waiting { deadline: Instant, waker: Waker },
    Expired,
}

/// The waiting calls of a runtime and the state of its watcher: what to wake and when.
#[derive(Debug, Default)]
struct Calls {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// The running watcher's number, if one runs.
    watcher: Option<u64>,
    /// The number of the last watcher started.
    started: u64,
    /// When the watcher wakes next, if it sleeps until a time.
    wake_at: Option<Instant>,
    /// Whether a call came since the watcher last looked.
    recent: bool,
}

impl Calls {
    /// Adds a call waiting until `deadline`; its key, and whether the watcher must be told
    /// (the deadline is earlier than its next wake-up).
    fn insert(&mut self, deadline: Instant, waker: Waker) -> (usize, bool) {
        let slot = Slot::Waiting { deadline, waker };
        let key = match self.free.pop() {
            Some(key) => {
                if let Some(free) = self.slots.get_mut(key) {
                    *free = slot;
                }
                key
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.recent = true;
        let earlier = self.wake_at.is_none_or(|at| deadline < at);
        if earlier {
            self.wake_at = Some(deadline);
        }
        (key, earlier && self.watcher.is_some())
    }

    /// The number of a watcher to start, if none runs.
    fn start_watcher(&mut self) -> Option<u64> {
        if self.watcher.is_some() {
            return None;
        }
        self.started += 1;
        self.watcher = Some(self.started);
        Some(self.started)
    }

    /// Call `key` is polled, `waker` its waker from now on: whether it expired, and the
    /// number of a watcher to start if none runs (the last one ended while it waited).
    fn poll(&mut self, key: usize, waker: &Waker) -> (bool, Option<u64>) {
        match self.slots.get_mut(key) {
            Some(Slot::Waiting { waker: kept, .. }) => {
                if !kept.will_wake(waker) {
                    kept.clone_from(waker);
                }
                (false, self.start_watcher())
            }
            Some(Slot::Expired) => (true, None),
            Some(Slot::Free) | None => (false, None),
        }
    }

    /// Takes call `key` out (it ended).
    fn remove(&mut self, key: usize) {
        if let Some(slot) = self.slots.get_mut(key) {
            if !matches!(slot, Slot::Free) {
                *slot = Slot::Free;
                self.free.push(key);
            }
        }
        if self.free.len() == self.slots.len() && self.slots.len() > SHRINK_ABOVE {
            self.slots = Vec::new();
            self.free = Vec::new();
        }
    }

    /// Watcher `me` looks at `now`: the wakers of the calls whose deadline passed, and when
    /// it wakes next: at the earliest deadline, in a [`LINGER`] at the latest (`None`: it
    /// ends, no call is waiting and none came for a [`LINGER`]).
    fn scan(&mut self, now: Instant, me: u64) -> (Vec<Waker>, Option<Instant>) {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        for slot in &mut self.slots {
            if let Slot::Waiting { deadline, .. } = slot {
                if *deadline <= now {
                    if let Slot::Waiting { waker, .. } = std::mem::replace(slot, Slot::Expired) {
                        expired.push(waker);
                    }
                } else {
                    let deadline = *deadline;
                    next = Some(next.map_or(deadline, |next| next.min(deadline)));
                }
            }
        }
        // It looks again at least every [`LINGER`]: most calls end long before their
        // deadline, and a watcher that slept until the first one's would outstay them all.
        let soon = now.checked_add(LINGER);
        next = match (next, soon) {
            (Some(next), Some(soon)) => Some(next.min(soon)),
            (None, soon) if self.recent => soon,
            (next, _) => next,
        };
        self.recent = false;
        self.wake_at = next;
        if next.is_none() && self.watcher == Some(me) {
            self.watcher = None;
        }
        (expired, next)
    }

    /// Watcher `me` ended: if it was the running one, none runs now, and the wakers of the
    /// calls still waiting are returned (each starts a watcher again when polled).
    fn watcher_ended(&mut self, me: u64) -> Vec<Waker> {
        if self.watcher != Some(me) {
            return Vec::new();
        }
        self.watcher = None;
        self.wake_at = None;
        let waiting = self.slots.iter().filter_map(|slot| match slot {
            Slot::Waiting { waker, .. } => Some(waker.clone()),
            Slot::Free | Slot::Expired => None,
        });
        waiting.collect()
    }
}

#[cfg(test)]
mod tests;
