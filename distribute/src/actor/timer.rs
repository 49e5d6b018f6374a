//! Timers an actor sets on itself: [`Context::send_after`](super::Context::send_after),
//! [`Context::send_interval`](super::Context::send_interval) and
//! [`Context::stop_after`](super::Context::stop_after).
//!
//! Each timer is a small task of its own that sleeps, then delivers through the actor's
//! mailbox (a message) or signal queue (a stop), as any sender would. It holds a weak
//! reference to the actor's cell and upgrades it only to deliver (a one-shot message that
//! waits for room in a full mailbox holds it until the message is in or the actor stops), so
//! a timer never keeps a stopped actor's cell alive.
//!
//! Timers belong to one incarnation, as an Erlang timer belongs to one process: the context
//! keeps the timers of the running incarnation in its cold state (an actor that never sets a
//! timer pays nothing for them) and cancels them all when the incarnation ends. A restarted
//! actor starts with no timers. A message that a timer had already put in the mailbox before
//! the incarnation ended stays there, like any other queued message (see
//! [`supervision`](crate::supervision)).
//!
//! The state of a timer is one atomic: pending, then either fired or cancelled, never both.
//! `cancel` and the timer's task race for it, so `cancel` returning `true` means the message
//! will not be delivered, `false` that it was or is on its way (or that the timer was
//! cancelled already).

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::cell::Cell;
use super::mailbox::TrySendError;
use super::signal::Signal;
use super::{Actor, ExitReason};

/// The shortest period of [`Context::send_interval`](super::Context::send_interval): a
/// shorter one (zero included) is taken as this, the resolution of tokio's timers.
pub const MIN_TIMER_PERIOD: Duration = Duration::from_millis(1);

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// What a timer's task and its handles share.
#[derive(Default)]
pub(crate) struct TimerState {
    state: AtomicU8,
    /// The timer's task, to end it at once when the timer is cancelled. Set right after the
    /// task is spawned, before anyone can cancel.
    task: OnceLock<AbortHandle>,
}

impl TimerState {
    fn is_pending(&self) -> bool {
        self.state.load(Ordering::Acquire) == PENDING
    }

    /// Claims the right to deliver; false if the timer was cancelled first.
    fn fire(&self) -> bool {
        self.state
            .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Cancels the timer if it is pending, and then ends its task; returns whether it was.
    /// A timer that has fired is left to deliver.
    fn cancel(&self) -> bool {
        let was_pending = self
            .state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if was_pending {
            self.abort();
        }
        was_pending
    }

    /// Ends the timer with its incarnation: cancelled if pending, and its task ended either
    /// way, dropping a fired message that still waits for room in a full mailbox (it was
    /// meant for the incarnation that ended).
    fn end(&self) {
        self.cancel();
        self.abort();
    }

    /// Whether the timer's task has ended: it delivered, or was cancelled.
    fn is_done(&self) -> bool {
        self.task.get().is_none_or(|task| task.is_finished())
    }

    fn abort(&self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

/// A timer set with [`Context::send_after`](super::Context::send_after),
/// [`send_interval`](super::Context::send_interval) or
/// [`stop_after`](super::Context::stop_after), to cancel it or ask whether it is pending.
///
/// Dropping a handle does not cancel its timer, as in Erlang, where a timer reference is only
/// a name for the timer: keep the handle only if you may cancel. Clones name the same timer.
/// Every timer of an actor is cancelled when the actor's incarnation ends (it stops, or
/// fails and is restarted), whether or not its handle is still held.
#[derive(Clone)]
pub struct TimerHandle {
    timer: Arc<TimerState>,
}

impl TimerHandle {
    /// Cancels the timer. Returns `true` if it was pending: its message will not be delivered
    /// (an exit timer will not stop the actor). Returns `false` if it had already fired (its
    /// message was delivered or is on its way), had been cancelled, or its actor's incarnation
    /// has ended. An interval timer is pending until it is cancelled.
    pub fn cancel(&self) -> bool {
        self.timer.cancel()
    }

    /// Whether the timer has neither fired nor been cancelled. An interval timer is pending
    /// until it is cancelled or its actor's incarnation ends.
    pub fn is_pending(&self) -> bool {
        self.timer.is_pending()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("pending", &self.is_pending())
            .finish()
    }
}

/// The timers of the running incarnation, kept by its context to cancel them when it ends.
#[derive(Default)]
pub(crate) struct Timers {
    timers: Vec<Arc<TimerState>>,
}

impl Timers {
    /// Keeps `timer`. Timers whose task has ended are dropped whenever the list is full, so
    /// an actor that sets a timer per message keeps those still running (and at most as many
    /// ended ones), not one entry per message it ever handled.
    fn add(&mut self, timer: Arc<TimerState>) {
        if self.timers.len() == self.timers.capacity() {
            self.timers.retain(|t| !t.is_done());
        }
        self.timers.push(timer);
    }

    /// Ends every timer (see [`TimerState::end`]); the list is left empty.
    pub(crate) fn end_all(&mut self) {
        for timer in self.timers.drain(..) {
            timer.end();
        }
    }

    /// Starts `task` as a timer of this incarnation; returns its handle. Without a tokio
    /// runtime (which a running actor always has) the timer is cancelled from the start.
    fn start<F, T>(&mut self, task: T) -> TimerHandle
    where
        T: FnOnce(Arc<TimerState>) -> F,
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let timer = Arc::new(TimerState::default());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let join = runtime.spawn(task(Arc::clone(&timer)));
                let _ = timer.task.set(join.abort_handle());
                self.add(Arc::clone(&timer));
            }
            Err(_) => {
                timer.cancel();
            }
        }
        TimerHandle { timer }
    }

    /// Sends `msg` to the actor of `cell` after `delay`, waiting for room in its mailbox.
    pub(crate) fn send_after<A: Actor>(
        &mut self,
        cell: &Arc<Cell<A>>,
        delay: Duration,
        msg: A::Msg,
    ) -> TimerHandle {
        let cell = Arc::downgrade(cell);
        self.start(move |timer| async move {
            tokio::time::sleep(delay).await;
            if !timer.fire() {
                return;
            }
            if let Some(cell) = cell.upgrade() {
                // Fails only when the actor has stopped: the message goes with it.
                let _ = cell.send(msg).await;
            }
        })
    }

    /// Sends `make()` to the actor of `cell` every `period`, skipping the ticks at which its
    /// mailbox is full.
    pub(crate) fn send_interval<A, F>(
        &mut self,
        cell: &Arc<Cell<A>>,
        period: Duration,
        make: F,
    ) -> TimerHandle
    where
        A: Actor,
        F: FnMut() -> A::Msg + Send + 'static,
    {
        let period = period.max(MIN_TIMER_PERIOD);
        let cell = Arc::downgrade(cell);
        self.start(move |timer| tick(timer, cell, period, make))
    }

    /// Stops the actor of `cell` with `reason` after `delay`.
    pub(crate) fn stop_after<A: Actor>(
        &mut self,
        cell: &Arc<Cell<A>>,
        delay: Duration,
        reason: ExitReason,
    ) -> TimerHandle {
        let cell = Arc::downgrade(cell);
        self.start(move |timer| async move {
            tokio::time::sleep(delay).await;
            if !timer.fire() {
                return;
            }
            if let Some(cell) = cell.upgrade() {
                // Refused only when the actor has stopped already.
                let _ = cell.core.signal(Signal::Stop(reason));
            }
        })
    }
}

/// The task of an interval timer. The first message is sent one period after the start; a
/// tick the task could not take in time (a busy runtime) is skipped, not made up for, and so
/// is a tick at which the mailbox is full: an actor that cannot keep up gets fewer ticks, and
/// its mailbox never holds more of them than it has room for.
async fn tick<A, F>(timer: Arc<TimerState>, cell: Weak<Cell<A>>, period: Duration, mut make: F)
where
    A: Actor,
    F: FnMut() -> A::Msg + Send + 'static,
{
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if !timer.is_pending() {
            return;
        }
        let Some(cell) = cell.upgrade() else {
            return;
        };
        match cell.try_send(make()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                crate::trace::trace_event!(trace, actor = %cell.core.id, name = A::NAME, "interval tick skipped: mailbox full");
            }
            Err(TrySendError::Closed(_)) => return,
        }
    }
}
