//! The meeting point of a supervisor and one child's task.
//!
//! When an incarnation of the child ends, its task parks here with the exit reason and waits
//! for the supervisor's decision ([`Resume`]). The supervisor learns about spontaneous exits
//! from a `ChildExited` message, and about exits it caused itself (stopping siblings for a
//! group restart, shutting down) by waiting on the slot directly, so it never depends on the
//! order of its mailbox. A slot whose supervisor is gone is abandoned: the child then stops
//! for good instead of waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use tokio::sync::{oneshot, Notify};

use crate::actor::{ActorId, ExitReason, Parent, Resume};

/// The supervisor as a slot sees it. A trait rather than the actor's ref, so that the
/// supervisor, which creates slots, depends on this file and not the other way round.
pub(crate) trait ExitListener: Send + Sync + 'static {
    /// `child` has parked and waits for a decision. Must not wait: the child's task calls
    /// it, and the supervisor's mailbox may be full.
    fn child_exited(&self, child: ActorId);
}

enum SlotState {
    Running,
    Parked {
        reason: ExitReason,
        resume: oneshot::Sender<Resume>,
    },
    Abandoned,
}

pub(crate) struct ChildSlot {
    state: Mutex<SlotState>,
    parked: Notify,
    supervisor: Box<dyn ExitListener>,
}

/// A parked child, taken out of its slot by the supervisor, which must answer it.
pub(crate) struct Parked {
    pub(crate) reason: ExitReason,
    resume: oneshot::Sender<Resume>,
}

impl Parked {
    pub(crate) fn finish(self, reason: ExitReason) {
        let _ = self.resume.send(Resume::Finish(reason));
    }

    /// Restarts the child and waits for its `started` hook; `Err` carries why it failed.
    pub(crate) async fn restart(self) -> Result<(), ExitReason> {
        let (tx, rx) = oneshot::channel();
        if self.resume.send(Resume::Restart(tx)).is_err() {
            return Err(ExitReason::NoProc);
        }
        rx.await.unwrap_or(Err(ExitReason::Killed))
    }
}

impl ChildSlot {
    pub(crate) fn new(supervisor: Box<dyn ExitListener>) -> Self {
        ChildSlot {
            state: Mutex::new(SlotState::Running),
            parked: Notify::new(),
            supervisor,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        crate::lock::lock(&self.state)
    }

    /// Takes the parked child, if it is parked now.
    pub(crate) fn take_parked(&self) -> Option<Parked> {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, SlotState::Running) {
            SlotState::Parked { reason, resume } => Some(Parked { reason, resume }),
            other => {
                *state = other;
                None
            }
        }
    }

    /// Waits until the child parks, then takes it.
    pub(crate) async fn wait_parked(&self) -> Parked {
        loop {
            let notified = self.parked.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(parked) = self.take_parked() {
                return parked;
            }
            notified.await;
        }
    }

    /// The supervisor is gone: a parked child stops now, a running one when it next parks.
    pub(crate) fn abandon(&self) {
        let previous = std::mem::replace(&mut *self.lock(), SlotState::Abandoned);
        if let SlotState::Parked { reason, resume } = previous {
            let _ = resume.send(Resume::Finish(reason));
        }
    }
}

impl Parent for ChildSlot {
    fn park(&self, child: ActorId, reason: ExitReason) -> Pin<Box<dyn Future<Output = Resume> + Send + '_>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            {
                let mut state = self.lock();
                if matches!(*state, SlotState::Abandoned) {
                    return Resume::Finish(reason);
                }
                *state = SlotState::Parked {
                    reason: reason.clone(),
                    resume: tx,
                };
            }
            self.parked.notify_waiters();
            self.supervisor.child_exited(child);
            match rx.await {
                Ok(resume) => resume,
                // The supervisor dropped the decision: it is gone.
                Err(_) => Resume::Finish(reason),
            }
        })
    }
}
