//! System signals: stop requests, exits of linked actors, link and monitor bookkeeping.
//!
//! Signals bypass the bounded mailbox, so a full mailbox never delays a stop or an exit, and
//! the actor handles them before its next message. The queue allocates nothing until the
//! first signal arrives. Closing it (when the actor exits) returns what was still queued, so
//! every signal is either handled by the live actor or answered by its exit: a monitor set
//! up in the same instant as the exit still receives its DOWN.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

use super::endpoint::Endpoint;
use super::monitor::{Down, ExitSignal, MonitorRef, Watcher};
use super::{ActorId, ExitReason};

pub(crate) enum Signal {
    /// Stop after the current message, with this reason.
    Stop(ExitReason),
    /// A linked actor exited.
    Exit(ExitSignal),
    /// Another actor linked to this one.
    Link(Endpoint),
    /// Another actor removed its link to this one.
    Unlink(ActorId),
    /// Someone monitors this actor.
    Monitor(Watcher),
    /// A monitor of this actor was removed.
    Demonitor(MonitorRef),
    /// An actor this actor monitors went down.
    Down(Down),
}

#[derive(Default)]
struct QueueState {
    queue: VecDeque<Signal>,
    closed: bool,
}

#[derive(Default)]
pub(crate) struct SignalQueue {
    state: Mutex<QueueState>,
    pending: AtomicBool,
    notify: Notify,
}

impl SignalQueue {
    /// Enqueues a signal and wakes the actor; gives it back if the actor has exited.
    pub(crate) fn push(&self, signal: Signal) -> Result<(), Signal> {
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.closed {
                return Err(signal);
            }
            state.queue.push_back(signal);
            self.pending.store(true, Ordering::Release);
        }
        self.notify.notify_one();
        Ok(())
    }

    /// Whether signals are waiting: one atomic load, checked before every message.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes the oldest signal; clears the pending flag when the queue empties.
    pub(crate) fn pop(&self) -> Option<Signal> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let signal = state.queue.pop_front();
        if state.queue.is_empty() {
            self.pending.store(false, Ordering::Release);
        }
        signal
    }

    /// Refuses further signals and returns those still queued.
    pub(crate) fn close(&self) -> VecDeque<Signal> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut state.queue)
    }

    /// Resolves when a signal may have arrived since the last wake-up.
    pub(crate) async fn notified(&self) {
        self.notify.notified().await;
    }
}
