//! System signals: stop requests, exits of linked actors, link and monitor bookkeeping.
//!
//! Signals bypass the bounded mailbox, so a full mailbox never delays a stop or an exit, and
//! the actor handles them before its next message. The queue allocates nothing until the
//! first signal arrives. Closing it (when the actor exits) returns what was still queued, so
//! every signal is either handled by the live actor or answered by its exit: a monitor set
//! up in the same instant as the exit still receives its DOWN.
//!
//! The queue also holds the waker of the actor's task, registered once when the task first
//! runs and kept until it exits. A signal or a kill wakes the whole task, which checks for
//! both on every poll: no per-wait registration, and no notifier state inside the task.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use super::cell::Awaken;
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
    /// The actor's task, woken by every signal and kill; dropped when the actor exits, so
    /// that the finished task's memory is freed.
    task: Option<Waker>,
    /// Starts a dormant actor's task (see `Core::wake`); kept here to share the lock.
    awaken: Option<Awaken>,
}

#[derive(Default)]
pub(crate) struct SignalQueue {
    state: Mutex<QueueState>,
    pending: AtomicBool,
}

impl SignalQueue {
    /// Enqueues a signal and wakes the actor; gives it back if the actor has exited.
    pub(crate) fn push(&self, signal: Signal) -> Result<(), Signal> {
        let task = {
            let mut state = self.lock();
            if state.closed {
                return Err(signal);
            }
            state.queue.push_back(signal);
            self.pending.store(true, Ordering::Release);
            state.task.clone()
        };
        if let Some(task) = task {
            task.wake();
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Nothing panics while holding the lock; a poisoned lock still holds a valid queue.
        crate::lock::lock(&self.state)
    }

    /// Makes `waker` the one that signals and kills wake. The task calls this when it is
    /// first polled (and again only if its waker changes): whatever is pushed afterwards
    /// wakes it, so checking `has_pending` after registering misses nothing.
    pub(crate) fn register(&self, waker: &Waker) {
        let mut state = self.lock();
        if !state.closed {
            state.task = Some(waker.clone());
        }
    }

    /// Sets what starts the actor's task when it is first needed.
    pub(crate) fn set_awaken(&self, awaken: Awaken) {
        self.lock().awaken = Some(awaken);
    }

    /// Takes what starts the actor's task; `None` once taken.
    pub(crate) fn take_awaken(&self) -> Option<Awaken> {
        self.lock().awaken.take()
    }

    /// Wakes the actor's task, if it runs; for a kill, whose flag is set before this call.
    pub(crate) fn wake_task(&self) {
        let task = self.lock().task.clone();
        if let Some(task) = task {
            task.wake();
        }
    }

    /// Whether signals are waiting: one atomic load, checked before every message.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes the oldest signal; clears the pending flag when the queue empties.
    pub(crate) fn pop(&self) -> Option<Signal> {
        let mut state = self.lock();
        let signal = state.queue.pop_front();
        if state.queue.is_empty() {
            self.pending.store(false, Ordering::Release);
        }
        signal
    }

    /// Refuses further signals, forgets the task's waker and returns the signals still
    /// queued.
    pub(crate) fn close(&self) -> VecDeque<Signal> {
        let (queue, task) = {
            let mut state = self.lock();
            state.closed = true;
            self.pending.store(false, Ordering::Release);
            (std::mem::take(&mut state.queue), state.task.take())
        };
        // Dropped outside the lock: the last waker of a task may free it.
        drop(task);
        queue
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;
    use crate::actor::NodeId;

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn signals_and_kills_wake_the_registered_task_until_the_queue_closes() {
        let queue = SignalQueue::default();
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        queue.register(&waker);
        assert!(queue
            .push(Signal::Unlink(ActorId::new(NodeId::from_u64(1), 1)))
            .is_ok());
        assert!(queue.has_pending());
        queue.wake_task();
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
        assert_eq!(queue.close().len(), 1);
        assert!(!queue.has_pending());
        // The queue no longer holds the task: a finished task's memory can be freed.
        drop(waker);
        assert_eq!(Arc::strong_count(&counter), 1);
        assert!(queue
            .push(Signal::Unlink(ActorId::new(NodeId::from_u64(1), 1)))
            .is_err());
        queue.register(&Waker::from(Arc::clone(&counter)));
        assert_eq!(Arc::strong_count(&counter), 1);
    }
}
