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
//! What else a call cost went too. Reading the clock for the deadline was about a sixth of
//! a local ask on a virtual machine: while calls keep coming the watcher looks every
//! [`TICK`], and a call with a timeout of [`LAZY_FROM`] or more enters without a deadline,
//! which the watcher's next look stamps; it times out at most a tick late, never early. A
//! task that calls again is given back the slot its last call freed, with its waker still in
//! it, so the waker is neither cloned nor dropped per call (the watcher lets go of kept
//! wakers at its next look). And the thread keeps its runtime's deadlines for the task that
//! called last, lent to that task's next call and given back when it ends: no lookup of the
//! runtime and no atomic count per call.
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
use tokio::task;
use tokio::time::Instant;

use crate::lock::lock;

/// How long the watcher stays after the last call it saw ended, before it ends.
const LINGER: Duration = Duration::from_secs(1);

/// A slab this large with no call in it is given back to the allocator.
const SHRINK_ABOVE: usize = 1024;

/// How often the watcher looks while calls keep coming. A call with a timeout of at least
/// [`LAZY_FROM`] that enters while it does reads no clock: the watcher's next look stamps
/// its deadline, so it times out at most a `TICK` late (a hundredth of its timeout), never
/// early.
const TICK: Duration = Duration::from_millis(10);

/// The shortest timeout whose deadline may be stamped by the watcher (see [`TICK`]).
const LAZY_FROM: Duration = Duration::from_secs(1);

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
    /// The call's slot.
    Armed(Armed),
}

impl Watch {
    /// Whether the call's deadline passed; otherwise `waker` is woken when it does.
    fn expired(&mut self, timeout: Duration, waker: &Waker) -> bool {
        match self {
            Watch::Never => false,
            Watch::Armed(armed) => armed.poll(waker),
            Watch::Unarmed => {
                let task = task::try_id();
                let Some(deadlines) = Deadlines::lend(task) else {
                    *self = Watch::Never;
                    return false;
                };
                let entry = deadlines.insert(timeout, waker);
                if let Entry::Waiting { key, .. } = entry {
                    *self = Watch::Armed(Armed {
                        deadlines: Some(deadlines),
                        key,
                        task,
                    });
                    return false;
                }
                Deadlines::give_back(task, deadlines);
                if entry == Entry::Never {
                    *self = Watch::Never;
                }
                entry == Entry::Expired
            }
        }
    }
}

/// A waiting call's slot in its runtime's deadlines: `key` there, armed in `task`.
struct Armed {
    /// Always there until the drop, which gives it back to the thread's cache.
    deadlines: Option<Arc<Deadlines>>,
    key: usize,
    task: Option<task::Id>,
}

impl Armed {
    /// Whether the call expired; otherwise `waker` is woken when it does.
    fn poll(&self, waker: &Waker) -> bool {
        self.deadlines
            .as_ref()
            .is_some_and(|deadlines| deadlines.poll(self.key, waker))
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        if let Some(deadlines) = self.deadlines.take() {
            lock(&deadlines.calls).remove(self.key);
            Deadlines::give_back(self.task, deadlines);
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
    /// The task that last made a call on this thread, and its runtime's deadlines: a task
    /// that calls again (an actor asking another, again and again) finds them without
    /// looking up its runtime, which clones and drops the runtime's handle.
    static LAST_TASK: RefCell<Option<(task::Id, Arc<Deadlines>)>> = const { RefCell::new(None) };
}

/// Every runtime's deadlines, found by the runtime's id; an entry whose runtime is gone (its
/// watcher ended and no call or thread holds it) is dropped when another runtime is added.
static RUNTIMES: Mutex<Vec<(Id, Weak<Deadlines>)>> = Mutex::new(Vec::new());

impl Deadlines {
    /// The deadlines of the current runtime, if there is one, for a call of `task`: lent from
    /// the thread's cache if `task` made the last call here (moved out, so that neither an
    /// atomic count nor a lookup of the runtime is paid), a new reference otherwise. Give it
    /// back with [`give_back`](Self::give_back) when the call ends.
    fn lend(task: Option<task::Id>) -> Option<Arc<Deadlines>> {
        if let Some(task) = task {
            let lent = LAST_TASK.try_with(|last| {
                let mut last = last.borrow_mut();
                match &*last {
                    Some((last_task, _)) if *last_task == task => last.take().map(|(_, lent)| lent),
                    _ => None,
                }
            });
            if let Ok(Some(deadlines)) = lent {
                return Some(deadlines);
            }
        }
        Some(Deadlines::of(&Handle::try_current().ok()?))
    }

    /// Ends a call of `task` that used `deadlines`: they become the thread's cache for the
    /// task's next call, if the call ends in the task that made it (a task stays on its
    /// runtime; a call's future moved to another task might not).
    fn give_back(task: Option<task::Id>, deadlines: Arc<Deadlines>) {
        let Some(task) = task.filter(|&task| task::try_id() == Some(task)) else {
            return;
        };
        let _ = LAST_TASK.try_with(|last| *last.borrow_mut() = Some((task, deadlines)));
    }

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

    /// Adds a call that may wait `timeout`, and starts the watcher if none runs.
    fn insert(self: &Arc<Self>, timeout: Duration, waker: &Waker) -> Entry {
        let entry = {
            let mut calls = lock(&self.calls);
            let entry = calls.insert(timeout, waker, Instant::now);
            if matches!(entry, Entry::Waiting { .. }) {
                if let Some(watcher) = calls.start_watcher() {
                    self.spawn_watcher(&mut calls, watcher);
                }
            }
            entry
        };
        if let Entry::Waiting { tell: true, .. } = entry {
            self.earlier.notify_one();
        }
        entry
    }

    /// Whether call `key` expired; otherwise its waker is `waker` from now on (and a watcher
    /// runs, started on the current runtime if the last one ended).
    fn poll(self: &Arc<Self>, key: usize, waker: &Waker) -> bool {
        let mut calls = lock(&self.calls);
        let (expired, start) = calls.poll(key, waker);
        if let Some(watcher) = start {
            self.spawn_watcher(&mut calls, watcher);
        }
        expired
    }

    /// Spawns watcher number `watcher` on the current runtime; if there is none, the next
    /// call, or the next poll of a waiting one, tries again.
    fn spawn_watcher(self: &Arc<Self>, calls: &mut Calls, watcher: u64) {
        match Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(watch(Arc::clone(self), watcher))),
            Err(_) => calls.watcher = None,
        }
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

/// How a call entered: waiting in a slot, or already past its deadline (a zero timeout), or
/// with a deadline beyond the clock's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// In slot `key`; `tell`: its deadline is earlier than the watcher's next look.
    Waiting {
        key: usize,
        tell: bool,
    },
    Expired,
    Never,
}

/// A call's slot.
#[derive(Debug)]
enum Slot {
    /// Free. It keeps the waker of the call that last used it until the watcher's next look:
    /// a task that calls again is likely given this slot back, and keeping its waker saves a
    /// clone and a drop of it per call.
    Free(Option<Waker>),
    Waiting {
        due: Due,
        waker: Waker,
    },
    Expired,
}

/// When a waiting call times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    At(Instant),
    /// This long after the watcher's next look, which stamps it (see [`TICK`]).
    After(Duration),
    /// Beyond the clock's range.
    Never,
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
    /// When the watcher last saw that a call had come.
    active_at: Option<Instant>,
    /// Whether the watcher looks again within a [`TICK`] (it does while calls keep coming).
    ticking: bool,
}

impl Calls {
    /// Adds a call that may wait `timeout`, reading the clock with `now` unless the watcher
    /// ticks and the timeout is long enough to be stamped at its next look (see [`TICK`]).
    /// A call whose slot was last used by the same task keeps that task's waker.
    fn insert(&mut self, timeout: Duration, waker: &Waker, now: impl FnOnce() -> Instant) -> Entry {
        let due = if self.ticking && timeout >= LAZY_FROM {
            Due::After(timeout)
        } else {
            let now = now();
            match now.checked_add(timeout) {
                None => return Entry::Never,
                Some(deadline) if deadline <= now => return Entry::Expired,
                Some(deadline) => Due::At(deadline),
            }
        };
        let key = self.place(due, waker);
        self.recent = true;
        let Due::At(deadline) = due else {
            return Entry::Waiting { key, tell: false };
        };
        let earlier = self.wake_at.is_none_or(|at| deadline < at);
        if earlier {
            self.wake_at = Some(deadline);
        }
        let tell = earlier && self.watcher.is_some();
        Entry::Waiting { key, tell }
    }

    /// Puts a call due at `due` in a slot, a free one first: the one freed last, whose kept
    /// waker is reused if it wakes the same task as `waker`.
    fn place(&mut self, due: Due, waker: &Waker) -> usize {
        if let Some(key) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(key) {
                let waker = match std::mem::replace(slot, Slot::Expired) {
                    Slot::Free(Some(kept)) if kept.will_wake(waker) => kept,
                    _ => waker.clone(),
                };
                *slot = Slot::Waiting { due, waker };
                return key;
            }
        }
        self.slots.push(Slot::Waiting {
            due,
            waker: waker.clone(),
        });
        self.slots.len() - 1
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
            Some(Slot::Free(_)) | None => (false, None),
        }
    }

    /// Takes call `key` out (it ended); its slot keeps the call's waker.
    fn remove(&mut self, key: usize) {
        if let Some(slot) = self.slots.get_mut(key) {
            let kept = match std::mem::replace(slot, Slot::Free(None)) {
                Slot::Free(kept) => {
                    *slot = Slot::Free(kept);
                    return;
                }
                Slot::Waiting { waker, .. } => Some(waker),
                Slot::Expired => None,
            };
            *slot = Slot::Free(kept);
            self.free.push(key);
        }
        if self.free.len() == self.slots.len() && self.slots.len() > SHRINK_ABOVE {
            self.slots = Vec::new();
            self.free = Vec::new();
        }
    }

    /// Watcher `me` looks at `now`: it stamps the calls that entered since its last look
    /// without a deadline, lets go of the wakers kept in free slots, and returns the wakers
    /// of the calls whose deadline passed and when it looks next (`None`: it ends).
    fn scan(&mut self, now: Instant, me: u64) -> (Vec<Waker>, Option<Instant>) {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        for slot in &mut self.slots {
            let due = match slot {
                Slot::Waiting { due, .. } => due,
                Slot::Free(kept) => {
                    *kept = None;
                    continue;
                }
                Slot::Expired => continue,
            };
            if let Due::After(timeout) = *due {
                *due = now.checked_add(timeout).map_or(Due::Never, Due::At);
            }
            let Due::At(deadline) = *due else { continue };
            if deadline > now {
                next = Some(next.map_or(deadline, |next| next.min(deadline)));
            } else if let Slot::Waiting { waker, .. } = std::mem::replace(slot, Slot::Expired) {
                expired.push(waker);
            }
        }
        next = earliest(next, self.looks_again(now, next.is_some()));
        self.ticking = self.recent && next.is_some();
        if self.recent {
            self.active_at = Some(now);
        }
        self.recent = false;
        self.wake_at = next;
        if next.is_none() && self.watcher == Some(me) {
            self.watcher = None;
        }
        (expired, next)
    }

    /// When the watcher looking at `now` looks again at the latest: within a [`TICK`] while
    /// calls keep coming; within a [`LINGER`] while calls wait (most end long before their
    /// deadline, and a watcher that slept until the first one's would outstay them all);
    /// otherwise a [`LINGER`] after it last saw a call come, or never (it ends).
    fn looks_again(&self, now: Instant, waiting: bool) -> Option<Instant> {
        if self.recent {
            now.checked_add(TICK)
        } else if waiting {
            now.checked_add(LINGER)
        } else {
            let lingered = self.active_at.and_then(|at| at.checked_add(LINGER));
            lingered.filter(|&at| at > now)
        }
    }

    /// Watcher `me` ended: if it was the running one, none runs now, and the wakers of the
    /// calls still waiting are returned (each starts a watcher again when polled).
    fn watcher_ended(&mut self, me: u64) -> Vec<Waker> {
        if self.watcher != Some(me) {
            return Vec::new();
        }
        self.watcher = None;
        self.wake_at = None;
        self.ticking = false;
        let waiting = self.slots.iter().filter_map(|slot| match slot {
            Slot::Waiting { waker, .. } => Some(waker.clone()),
            Slot::Free(_) | Slot::Expired => None,
        });
        waiting.collect()
    }
}

/// The earlier of two optional times; either if only one is known.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
