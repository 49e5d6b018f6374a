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
//!
//! Signals from peers are bounded; local ones are not. Local code is trusted and its signals
//! (stops, exits, the runtime's own bookkeeping) must never wait, but a peer could queue
//! link/unlink or monitor/demonitor pairs, which leave no state behind and so never meet the
//! per-peer caps, on an actor busy in a long handler, without limit; and the exits and stops
//! among them carry reasons whose text the peer chooses, up to a frame. So the signals pushed
//! with [`SignalQueue::push_remote`] that wait in one queue take at most
//! [`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`] (counted as the queue slot plus the reason's text: 1 024
//! links or monitors), or are a single signal, however large. Past that the push is refused
//! with the signal handed back, and the network's reader for that peer waits
//! ([`SignalQueue::remote_room`]) before it reads on, which keeps the peer's signals in order
//! and loses none, while the flooding peer only stalls its own connection.
//!
//! The waiting costs the common path nothing: the notifier is allocated only when a pusher
//! finds the queue full, and a pop looks at it only when it takes a signal from a peer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use tokio::sync::Notify;

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

/// The most that signals from peers (links, unlinks, monitors, demonitors, exits, stops) may
/// take in one actor's signal queue: 80 KiB, that is 1 024 links or monitors, each counted as
/// its 80-byte queue slot plus the text of its exit reason, if any. Past it, the reader of
/// the peer whose signal does not fit stops reading until the actor takes signals (and
/// disconnects the peer as [`NodeDownReason::SignalsOverloaded`](crate::NodeDownReason)
/// if the actor takes none within the heartbeat timeout). One signal is always taken into a
/// queue that holds none from peers, so a reason of any size that fits in a frame passes:
/// an actor stuck in a handler holds at most this bound plus one frame of peers' signals.
/// Signals from local code are not counted and never wait.
pub const MAX_PEER_SIGNAL_BYTES_PER_ACTOR: usize = 80 * 1024;

/// A queued signal, and what it counts against the bound on peers' signals (0 if local).
struct Queued {
    signal: Signal,
    remote_bytes: usize,
}

/// What a signal from a peer counts against [`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`]: its slot in
/// the queue and the text its exit reason holds.
fn remote_bytes(signal: &Signal) -> usize {
    let reason = match signal {
        Signal::Stop(reason)
        | Signal::Exit(ExitSignal { reason, .. })
        | Signal::Down(Down { reason, .. }) => reason_bytes(reason),
        _ => 0,
    };
    std::mem::size_of::<Queued>().saturating_add(reason)
}

/// The heap a reason holds: its texts and its chain of links.
fn reason_bytes(mut reason: &ExitReason) -> usize {
    let mut bytes = 0_usize;
    loop {
        match reason {
            ExitReason::Panicked(text) | ExitReason::StartFailed(text) | ExitReason::Error(text) => {
                return bytes.saturating_add(text.capacity())
            }
            ExitReason::MaxRestartsExceeded {
                child, reason: inner, ..
            } => {
                bytes = bytes
                    .saturating_add(child.capacity())
                    .saturating_add(std::mem::size_of::<ExitReason>());
                reason = inner;
            }
            ExitReason::Linked { reason: inner, .. } => {
                bytes = bytes.saturating_add(std::mem::size_of::<ExitReason>());
                reason = inner;
            }
            _ => return bytes,
        }
    }
}

/// Why [`SignalQueue::push_remote`] gave a signal back.
pub(crate) enum RemotePushError {
    /// Signals from peers fill the queue ([`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`]): wait for
    /// [`SignalQueue::remote_room`], then push again.
    Full(Signal),
    /// The actor has exited.
    Closed(Signal),
}

#[derive(Default)]
struct QueueState {
    queue: VecDeque<Queued>,
    /// What the queued signals from peers count against the bound.
    remote: usize,
    /// Woken when a signal from a peer is taken, or the queue closes; present only while a
    /// pusher may be waiting for room.
    room: Option<Arc<Notify>>,
    closed: bool,
    /// The actor's task, woken by every signal and kill; dropped when the actor exits, so
    /// that the finished task's memory is freed.
    task: Option<Waker>,
    /// Starts a dormant actor's task (see `Core::wake`); kept here to share the lock.
    awaken: Option<Awaken>,
}

impl QueueState {
    /// Whether a signal from a peer counting `bytes` fits: within the bound, or alone.
    fn has_room_for(&self, bytes: usize) -> bool {
        self.remote == 0 || self.remote.saturating_add(bytes) <= MAX_PEER_SIGNAL_BYTES_PER_ACTOR
    }
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
            state.queue.push_back(Queued {
                signal,
                remote_bytes: 0,
            });
            self.pending.store(true, Ordering::Release);
            state.task.clone()
        };
        if let Some(task) = task {
            task.wake();
        }
        Ok(())
    }

    /// Enqueues a signal that came from a peer and wakes the actor, unless the signals from
    /// peers already queued leave no room for it ([`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`]) or the
    /// actor has exited: then the signal is handed back.
    pub(crate) fn push_remote(&self, signal: Signal) -> Result<(), RemotePushError> {
        let bytes = remote_bytes(&signal);
        let task = {
            let mut state = self.lock();
            if state.closed {
                return Err(RemotePushError::Closed(signal));
            }
            if !state.has_room_for(bytes) {
                return Err(RemotePushError::Full(signal));
            }
            state.remote = state.remote.saturating_add(bytes);
            state.queue.push_back(Queued {
                signal,
                remote_bytes: bytes,
            });
            self.pending.store(true, Ordering::Release);
            state.task.clone()
        };
        if let Some(task) = task {
            task.wake();
        }
        Ok(())
    }

    /// Waits until the queue would take `signal` from a peer, or is closed (and the push
    /// would fail at once).
    pub(crate) async fn remote_room(&self, signal: &Signal) {
        let bytes = remote_bytes(signal);
        loop {
            let room = {
                let mut state = self.lock();
                if state.closed || state.has_room_for(bytes) {
                    return;
                }
                Arc::clone(state.room.get_or_insert_with(Default::default))
            };
            let notified = room.notified();
            tokio::pin!(notified);
            // Registered before looking again: a pop between the two cannot be missed.
            notified.as_mut().enable();
            {
                let state = self.lock();
                if state.closed || state.has_room_for(bytes) {
                    return;
                }
            }
            notified.await;
        }
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
        let mut room = None;
        let queued = {
            let mut state = self.lock();
            let queued = state.queue.pop_front();
            if state.queue.is_empty() {
                self.pending.store(false, Ordering::Release);
            }
            if let Some(Queued { remote_bytes, .. }) =
                queued.as_ref().filter(|queued| queued.remote_bytes > 0)
            {
                state.remote = state.remote.saturating_sub(*remote_bytes);
                // Whoever waits for room looks again.
                room = state.room.take();
            }
            queued
        };
        if let Some(room) = room {
            room.notify_waiters();
        }
        queued.map(|queued| queued.signal)
    }

    /// Refuses further signals, forgets the task's waker, wakes whoever waits for room (its
    /// push now fails as closed) and returns the signals still queued.
    pub(crate) fn close(&self) -> impl ExactSizeIterator<Item = Signal> {
        let (queue, task, room) = {
            let mut state = self.lock();
            state.closed = true;
            state.remote = 0;
            self.pending.store(false, Ordering::Release);
            (
                std::mem::take(&mut state.queue),
                state.task.take(),
                state.room.take(),
            )
        };
        // Dropped outside the lock: the last waker of a task may free it.
        drop(task);
        if let Some(room) = room {
            room.notify_waiters();
        }
        queue.into_iter().map(|queued| queued.signal)
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

    fn unlink() -> Signal {
        Signal::Unlink(ActorId::new(NodeId::from_u64(1), 1))
    }

    fn stop(text_bytes: usize) -> Signal {
        Signal::Stop(ExitReason::Error("x".repeat(text_bytes)))
    }

    /// Fills the queue with as many links' worth of signals from peers as it takes.
    fn fill(queue: &SignalQueue) -> usize {
        let mut pushed = 0;
        while queue.push_remote(unlink()).is_ok() {
            pushed += 1;
        }
        pushed
    }

    fn has_room(queue: &SignalQueue, signal: &Signal) -> bool {
        queue.lock().has_room_for(remote_bytes(signal))
    }

    #[test]
    fn signals_from_peers_are_bounded_and_local_ones_are_not() {
        let queue = SignalQueue::default();
        assert_eq!(
            fill(&queue),
            MAX_PEER_SIGNAL_BYTES_PER_ACTOR / std::mem::size_of::<Queued>()
        );
        assert!(matches!(
            queue.push_remote(unlink()),
            Err(RemotePushError::Full(_))
        ));
        // Local signals never wait, whatever peers queued.
        for _ in 0..10 {
            assert!(queue.push(unlink()).is_ok());
        }
        // Taking a peer's signal makes room for one more, no more.
        assert!(queue.pop().is_some());
        assert!(queue.push_remote(unlink()).is_ok());
        assert!(matches!(
            queue.push_remote(unlink()),
            Err(RemotePushError::Full(_))
        ));
        let queued = MAX_PEER_SIGNAL_BYTES_PER_ACTOR / std::mem::size_of::<Queued>() + 10;
        assert_eq!(queue.close().len(), queued);
        assert!(matches!(
            queue.push_remote(unlink()),
            Err(RemotePushError::Closed(_))
        ));
    }

    #[test]
    fn reasons_count_their_text_and_a_lone_signal_always_fits() {
        let queue = SignalQueue::default();
        // Larger than the whole bound, but alone: taken.
        assert!(queue
            .push_remote(stop(MAX_PEER_SIGNAL_BYTES_PER_ACTOR * 4))
            .is_ok());
        assert!(matches!(
            queue.push_remote(unlink()),
            Err(RemotePushError::Full(_))
        ));
        assert!(queue.pop().is_some());
        assert!(queue
            .push_remote(stop(MAX_PEER_SIGNAL_BYTES_PER_ACTOR / 2))
            .is_ok());
        assert!(!has_room(&queue, &stop(MAX_PEER_SIGNAL_BYTES_PER_ACTOR / 2)));
        assert!(has_room(&queue, &unlink()));
        assert!(matches!(
            queue.push_remote(stop(MAX_PEER_SIGNAL_BYTES_PER_ACTOR / 2)),
            Err(RemotePushError::Full(_))
        ));
    }

    #[tokio::test]
    async fn a_pop_wakes_whoever_waits_for_room() {
        let queue = Arc::new(SignalQueue::default());
        // Room at once while below the bound.
        queue.remote_room(&unlink()).await;
        fill(&queue);
        let waiter = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.remote_room(&unlink()).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        // Local signals taken make no room.
        assert!(queue.push(unlink()).is_ok());
        assert!(!has_room(&queue, &unlink()));
        assert!(queue.pop().is_some());
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("the waiter was not woken by room")
            .expect("the waiter failed");
        assert!(queue.push_remote(unlink()).is_ok());
        // The notifier exists only while someone may wait.
        assert!(queue.lock().room.is_none());
    }

    #[tokio::test]
    async fn closing_wakes_whoever_waits_for_room() {
        let queue = Arc::new(SignalQueue::default());
        let filled = fill(&queue);
        let waiter = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move {
                queue.remote_room(&unlink()).await;
                queue.push_remote(unlink())
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert_eq!(queue.close().len(), filled);
        let pushed = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("the waiter was not woken by the close")
            .expect("the waiter failed");
        assert!(matches!(pushed, Err(RemotePushError::Closed(_))));
    }
}
