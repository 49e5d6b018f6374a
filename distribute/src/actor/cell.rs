//! The shared part of an actor: what every ref points at.
//!
//! One allocation per actor holds its identity, signal queue, exit state and the sending
//! half of its mailbox. The task that runs the actor owns everything else (the actor value,
//! the receiving half, links and monitors), so the hot path of a send touches only the
//! mailbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use super::mailbox::MailboxTx;
use super::monitor::{ExitSignal, Watcher};
use super::signal::Signal;
use super::{Actor, ActorId, ExitReason};
use crate::node::NodeStats;

/// Untyped state shared by every ref to one actor.
pub(crate) struct Core {
    pub(crate) id: ActorId,
    pub(crate) name: &'static str,
    /// Whether a supervisor owns this actor (and so stops it on shutdown).
    pub(crate) supervised: bool,
    pub(crate) signals: super::signal::SignalQueue,
    /// Set as the first step of exiting; from then on the actor is not alive.
    exit: OnceLock<ExitReason>,
    /// Set as the last step of exiting, once links, monitors and the node were told.
    done: AtomicBool,
    stopped: Notify,
    /// Set by `kill`; the task drops the running incarnation when it sees it.
    kill_requested: AtomicBool,
    kill: Notify,
    stats: Arc<NodeStats>,
}

impl Core {
    pub(crate) fn new(id: ActorId, name: &'static str, supervised: bool, stats: Arc<NodeStats>) -> Self {
        stats.cell_created();
        Core {
            id,
            name,
            supervised,
            signals: Default::default(),
            exit: OnceLock::new(),
            done: AtomicBool::new(false),
            stopped: Notify::new(),
            kill_requested: AtomicBool::new(false),
            kill: Notify::new(),
            stats,
        }
    }

    pub(crate) fn exit_reason(&self) -> Option<&ExitReason> {
        self.exit.get()
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.exit.get().is_none()
    }

    /// Records the exit reason; returns false if one was already recorded.
    pub(crate) fn begin_exit(&self, reason: ExitReason) -> bool {
        self.exit.set(reason).is_ok()
    }

    pub(crate) fn finish_exit(&self) {
        self.done.store(true, Ordering::Release);
        self.stopped.notify_waiters();
    }

    /// Stops the actor at its next await point, even in the middle of a handler; `stopped`
    /// does not run.
    pub(crate) fn kill(&self) {
        self.kill_requested.store(true, Ordering::Release);
        self.kill.notify_waiters();
    }

    /// Resolves when `kill` is called. A kill requested before this call counts; it is
    /// consumed, so a restarted incarnation does not inherit it.
    pub(crate) async fn killed(&self) {
        let notified = self.kill.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.kill_requested.swap(false, Ordering::AcqRel) {
            return;
        }
        notified.await;
        self.kill_requested.store(false, Ordering::Release);
    }

    /// Waits until the actor has fully exited and returns its exit reason.
    pub(crate) async fn wait_for_stop(&self) -> ExitReason {
        loop {
            let notified = self.stopped.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.done.load(Ordering::Acquire) {
                return self.exit.get().cloned().unwrap_or(ExitReason::NoProc);
            }
            notified.await;
        }
    }

    /// Adds a watcher, or answers it at once with the exit reason if the actor is gone.
    pub(crate) fn add_watcher(&self, watcher: Watcher) {
        if let Err(Signal::Monitor(watcher)) = self.signals.push(Signal::Monitor(watcher)) {
            let reason = self.exit.get().cloned().unwrap_or(ExitReason::NoProc);
            watcher.deliver(self.id, reason);
        }
    }

    /// Delivers an exit signal from a linked actor; ignored if this actor is gone.
    pub(crate) fn send_exit(&self, from: ActorId, reason: ExitReason) {
        let _ = self.signals.push(Signal::Exit(ExitSignal { from, reason }));
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.stats.cell_dropped();
    }
}

/// Type-erased access to an actor's [`Core`], for links, monitors and the node's table.
pub(crate) trait AnyCell: Send + Sync + 'static {
    fn core(&self) -> &Core;
}

/// The shared state of an actor of type `A`.
pub(crate) struct Cell<A: Actor> {
    pub(crate) core: Core,
    pub(crate) mailbox: MailboxTx<A::Msg>,
}

impl<A: Actor> AnyCell for Cell<A> {
    fn core(&self) -> &Core {
        &self.core
    }
}

/// Links two actors: when one exits abnormally, the other receives its exit signal. Linking
/// to an actor that is already gone sends the other an exit with [`ExitReason::NoProc`].
pub(crate) fn link(a: &Arc<dyn AnyCell>, b: &Arc<dyn AnyCell>) {
    if a.core().id == b.core().id {
        return;
    }
    if a.core().signals.push(Signal::Link(Arc::clone(b))).is_err() {
        b.core().send_exit(a.core().id, ExitReason::NoProc);
        return;
    }
    if b.core().signals.push(Signal::Link(Arc::clone(a))).is_err() {
        a.core().send_exit(b.core().id, ExitReason::NoProc);
    }
}
