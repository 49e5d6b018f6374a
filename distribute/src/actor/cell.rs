//! The shared part of an actor: what every ref points at.
//!
//! One allocation per actor holds its identity, signal queue, exit state and its mailbox.
//! The task that runs the actor owns everything else (the actor value, links and monitors),
//! so the hot path of a send touches only the mailbox.

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use super::mailbox::{Mailbox, TrySendError};
use super::monitor::{ExitSignal, Watcher};
use super::remote::{self, Incoming, Pending, Undelivered};
use super::runtime::{Node, NodeStats};
use super::signal::{RemotePushError, Signal};
use super::{Actor, ActorId, ExitReason};
use crate::meter::ActorMeters;
use crate::trace::Caller;

/// Untyped state shared by every ref to one actor.
pub(crate) struct Core {
    pub(crate) id: ActorId,
    /// Whether a supervisor owns this actor (and so stops it on shutdown).
    pub(crate) supervised: bool,
    /// Signals, the task's waker, and the dormant actor's starter (see [`Core::wake`]).
    pub(crate) signals: super::signal::SignalQueue,
    /// Set as the first step of exiting; from then on the actor is not alive. Boxed: it is
    /// set once per actor, and a reason inline would cost every live actor 40 bytes more.
    exit: OnceLock<Box<ExitReason>>,
    /// Set as the last step of exiting, once links, monitors and the node were told.
    done: AtomicBool,
    stopped: Notify,
    /// Set by `kill`; the task drops the running incarnation when it sees it (it is woken
    /// through the signal queue's waker).
    kill_requested: AtomicBool,
    /// Whether the actor's task waits to be started by [`Core::wake`].
    is_dormant: AtomicBool,
    /// Whether a supervised actor is between incarnations: its last one ended and the next
    /// one has not finished its `started` hook (its supervisor is deciding, backing off or
    /// restarting it).
    is_restarting: AtomicBool,
    /// Incarnations started after the first behind this id (by a supervisor). Next to the
    /// flags above, it takes room the layout leaves free anyway.
    restarts: AtomicU32,
    /// Messages handled, added by the run loop once per batch (see `run.rs`).
    handled: AtomicU64,
    /// The node's counters and the metric handles of the actor's type there, in one shared
    /// record: one pointer in every cell, as the node's counters alone took before.
    pub(crate) shared: Arc<TypeShared>,
}

/// What a node's actors of one type share: the node's counters and the type's metric
/// handles. Made once per type and node (see `Node::type_shared`).
pub(crate) struct TypeShared {
    pub(crate) stats: Arc<NodeStats>,
    pub(crate) meters: ActorMeters,
}

/// An actor's mailbox at one moment, for introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MailboxProbe {
    /// Messages sent and not yet handed to the actor.
    pub(crate) len: usize,
    pub(crate) capacity: usize,
    /// Whether the actor's task waits for the next message (it is not in a handler).
    pub(crate) receiver_waiting: bool,
}

/// Starts a dormant actor's task.
pub(crate) type Awaken = Box<dyn FnOnce() + Send>;

impl Core {
    pub(crate) fn new(id: ActorId, supervised: bool, shared: Arc<TypeShared>) -> Self {
        shared.stats.cell_created();
        Core {
            id,
            supervised,
            signals: Default::default(),
            exit: OnceLock::new(),
            done: AtomicBool::new(false),
            stopped: Notify::new(),
            kill_requested: AtomicBool::new(false),
            is_dormant: AtomicBool::new(false),
            is_restarting: AtomicBool::new(false),
            restarts: AtomicU32::new(0),
            handled: AtomicU64::new(0),
            shared,
        }
    }

    /// The actor type's name. Kept with what the type's actors share, not in every cell.
    pub(crate) fn name(&self) -> &'static str {
        self.shared.meters.actor()
    }

    /// Defers the actor's task until the actor is first needed: a message, a signal or a
    /// kill. An idle actor that was never sent anything then costs only its cell. Called once,
    /// before the cell is shared.
    pub(crate) fn sleep_until_needed(&self, awaken: Awaken) {
        self.signals.set_awaken(awaken);
        self.is_dormant.store(true, Ordering::Release);
    }

    /// Starts the actor's task if it has not started yet; one atomic load otherwise. Called
    /// after every message and signal is queued, so the task finds it when it first runs.
    pub(crate) fn wake(&self) {
        if !self.is_dormant.load(Ordering::Acquire) {
            return;
        }
        if let Some(awaken) = self.signals.take_awaken() {
            self.is_dormant.store(false, Ordering::Release);
            awaken();
        }
    }

    /// Queues a signal for the actor; gives it back if the actor has exited.
    pub(crate) fn signal(&self, signal: Signal) -> Result<(), Signal> {
        self.signals.push(signal)?;
        self.wake();
        Ok(())
    }

    /// Queues a signal that came from a peer, within the bound on those
    /// ([`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`](super::MAX_PEER_SIGNAL_BYTES_PER_ACTOR)); gives it
    /// back if the queue is full of them or the actor has exited.
    pub(crate) fn signal_remote(&self, signal: Signal) -> Result<(), RemotePushError> {
        self.signals.push_remote(signal)?;
        self.wake();
        Ok(())
    }

    pub(crate) fn exit_reason(&self) -> Option<&ExitReason> {
        self.exit.get().map(|reason| &**reason)
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.exit.get().is_none()
    }

    /// Whether the actor is between a failure and the end of its restart (see
    /// `is_restarting`); false once it stopped for good too, which `is_alive` tells.
    pub(crate) fn is_restarting(&self) -> bool {
        self.is_restarting.load(Ordering::Acquire)
    }

    pub(crate) fn set_restarting(&self, restarting: bool) {
        self.is_restarting.store(restarting, Ordering::Release);
    }

    /// Counts one more incarnation behind this id.
    pub(crate) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times the actor was restarted behind this id.
    pub(crate) fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Adds a batch of handled messages to the count (the run loop, once per batch).
    pub(crate) fn count_handled(&self, messages: u64) {
        // Release, with `handled`'s Acquire: whoever sees the count sees what the actor did
        // before it (an introspection snapshot, the mailbox state it left).
        self.handled.fetch_add(messages, Ordering::Release);
    }

    /// Messages handled so far.
    pub(crate) fn handled(&self) -> u64 {
        self.handled.load(Ordering::Acquire)
    }

    /// Whether the actor's task has not started yet (it starts with its first message).
    pub(crate) fn is_dormant(&self) -> bool {
        self.is_dormant.load(Ordering::Acquire)
    }

    /// Records the exit reason; returns false if one was already recorded.
    pub(crate) fn begin_exit(&self, reason: ExitReason) -> bool {
        self.exit.set(Box::new(reason)).is_ok()
    }

    pub(crate) fn finish_exit(&self) {
        self.done.store(true, Ordering::Release);
        self.stopped.notify_waiters();
    }

    /// Stops the actor at its next await point, even in the middle of a handler; `stopped`
    /// does not run.
    pub(crate) fn kill(&self) {
        self.kill_requested.store(true, Ordering::Release);
        self.signals.wake_task();
        self.wake();
    }

    /// Whether `kill` was called since the last time this returned true: the kill is
    /// consumed, so a restarted incarnation does not inherit it. A kill requested before the
    /// task first runs counts. One atomic load when there is none.
    pub(crate) fn take_kill(&self) -> bool {
        self.kill_requested.load(Ordering::Acquire) && self.kill_requested.swap(false, Ordering::AcqRel)
    }

    /// Waits until the actor has fully exited and returns its exit reason.
    pub(crate) async fn wait_for_stop(&self) -> ExitReason {
        loop {
            let notified = self.stopped.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.done.load(Ordering::Acquire) {
                return self.exit_reason().cloned().unwrap_or(ExitReason::NoProc);
            }
            notified.await;
        }
    }

    /// Adds a watcher, or answers it at once with the exit reason if the actor is gone.
    pub(crate) fn add_watcher(&self, watcher: Watcher) {
        if let Err(Signal::Monitor(watcher)) = self.signal(Signal::Monitor(watcher)) {
            let reason = self.exit_reason().cloned().unwrap_or(ExitReason::NoProc);
            watcher.deliver(self.id, reason);
        }
    }

    /// Delivers an exit signal from a linked actor; ignored if this actor is gone.
    pub(crate) fn send_exit(&self, from: ActorId, reason: ExitReason) {
        let _ = self.signal(Signal::Exit(ExitSignal { from, reason }));
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.shared.stats.cell_dropped(*self.handled.get_mut());
    }
}

/// Type-erased access to an actor's [`Core`], for links, monitors and the node's table.
pub(crate) trait AnyCell: Send + Sync + 'static {
    fn core(&self) -> &Core;

    /// The cell as `Any`, to recover its type.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;

    /// The cell as `Any`, to learn its type without taking a reference count.
    fn as_any(&self) -> &dyn Any;

    /// The mailbox as introspection sees it.
    fn mailbox_probe(&self) -> MailboxProbe;

    /// Decodes a message that arrived from the network and delivers it to this actor.
    fn deliver_remote(
        self: Arc<Self>,
        node: &Node,
        incoming: &Incoming<'_>,
    ) -> Result<Option<Pending>, Undelivered>;
}

/// The shared state of an actor of type `A`.
pub(crate) struct Cell<A: Actor> {
    pub(crate) core: Core,
    pub(crate) mailbox: Mailbox<A::Msg>,
}

impl<A: Actor> Cell<A> {
    /// Waits for room in the mailbox, then enqueues; gives the message back if the actor
    /// has stopped. The current span is the caller of the message.
    /// Not an `async fn` of its own: the future is `send_from`'s, without a second state
    /// machine around it.
    #[inline]
    pub(crate) fn send(&self, msg: A::Msg) -> impl Future<Output = Result<(), A::Msg>> + Send + '_ {
        self.send_from(msg, Caller::current())
    }

    /// [`send`](Self::send) for a message from `caller`.
    pub(crate) async fn send_from(&self, msg: A::Msg, caller: Caller) -> Result<(), A::Msg> {
        self.mailbox.send(msg, caller).await?;
        self.core.wake();
        Ok(())
    }

    /// Enqueues if the mailbox has room now. The current span is the caller of the message.
    #[inline]
    pub(crate) fn try_send(&self, msg: A::Msg) -> Result<(), TrySendError<A::Msg>> {
        self.try_send_from(msg, Caller::current())
    }

    /// [`try_send`](Self::try_send) for a message from `caller`.
    #[inline]
    pub(crate) fn try_send_from(&self, msg: A::Msg, caller: Caller) -> Result<(), TrySendError<A::Msg>> {
        self.mailbox.try_send(msg, caller)?;
        self.core.wake();
        Ok(())
    }

    /// The cell of an actor that is gone: what a ref that names a stopped actor of this node
    /// points at. Sends fail with `ActorStopped`, monitors fire at once with `NoProc`.
    pub(crate) fn dead(id: ActorId, stats: Arc<NodeStats>) -> Self {
        let shared = Arc::new(TypeShared {
            stats,
            meters: ActorMeters::detached(A::NAME),
        });
        let core = Core::new(id, false, shared);
        core.begin_exit(ExitReason::NoProc);
        let _ = core.signals.close();
        core.finish_exit();
        Cell {
            core,
            mailbox: Mailbox::closed(),
        }
    }
}

impl<A: Actor> AnyCell for Cell<A> {
    fn core(&self) -> &Core {
        &self.core
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn mailbox_probe(&self) -> MailboxProbe {
        MailboxProbe {
            len: self.mailbox.len(),
            capacity: self.mailbox.capacity(),
            receiver_waiting: self.mailbox.receiver_waiting(),
        }
    }

    fn deliver_remote(
        self: Arc<Self>,
        node: &Node,
        incoming: &Incoming<'_>,
    ) -> Result<Option<Pending>, Undelivered> {
        remote::deliver(self, node, incoming)
    }
}
