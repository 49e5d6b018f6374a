//! The bounded mailbox behind every actor.
//!
//! A thin wrapper over tokio's bounded MPSC channel: FIFO per sender, `send` waits for room,
//! `try_send` fails at once when full. The wrapper keeps the channel an implementation
//! detail, so the runtime can swap it for a leaner queue without touching the API.

use tokio::sync::mpsc;

use crate::error::SpawnError;

/// Mailbox capacity used when neither `#[actor(mailbox = N)]` nor `SpawnOptions` sets one.
///
/// 1024 messages: large enough that a burst of tells from a few senders rarely waits, small
/// enough that a stalled actor pushes back on its senders quickly. Capacity costs no memory
/// up front; the queue grows in blocks as messages arrive.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 1024;

/// The largest mailbox capacity the runtime accepts.
pub const MAX_MAILBOX_CAPACITY: usize = tokio::sync::Semaphore::MAX_PERMITS;

/// The sending half, held by the actor's cell (and so by every ref).
pub(crate) struct MailboxTx<M> {
    tx: mpsc::Sender<M>,
}

/// The receiving half, owned by the actor's task.
pub(crate) struct MailboxRx<M> {
    rx: mpsc::Receiver<M>,
}

/// Why `try_send` failed; the message is handed back.
pub(crate) enum TrySendError<M> {
    Full(M),
    Closed(M),
}

pub(crate) fn mailbox<M>(capacity: usize) -> Result<(MailboxTx<M>, MailboxRx<M>), SpawnError> {
    if capacity == 0 || capacity > MAX_MAILBOX_CAPACITY {
        return Err(SpawnError::InvalidMailboxCapacity {
            capacity,
            max: MAX_MAILBOX_CAPACITY,
        });
    }
    let (tx, rx) = mpsc::channel(capacity);
    Ok((MailboxTx { tx }, MailboxRx { rx }))
}

/// The mailbox of an actor that is already gone: every send fails with `Closed`.
pub(crate) fn closed_mailbox<M>() -> MailboxTx<M> {
    let (tx, _rx) = mpsc::channel(1);
    MailboxTx { tx }
}

impl<M> MailboxTx<M> {
    /// Waits for room, then enqueues. Gives the message back if the actor has stopped.
    pub(crate) async fn send(&self, msg: M) -> Result<(), M> {
        self.tx.send(msg).await.map_err(|e| e.0)
    }

    pub(crate) fn try_send(&self, msg: M) -> Result<(), TrySendError<M>> {
        self.tx.try_send(msg).map_err(|e| match e {
            mpsc::error::TrySendError::Full(m) => TrySendError::Full(m),
            mpsc::error::TrySendError::Closed(m) => TrySendError::Closed(m),
        })
    }

    /// Messages waiting in the mailbox.
    pub(crate) fn len(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }
}

impl<M> MailboxRx<M> {
    pub(crate) async fn recv(&mut self) -> Option<M> {
        self.rx.recv().await
    }

    pub(crate) fn try_recv(&mut self) -> Option<M> {
        self.rx.try_recv().ok()
    }

    /// Refuses new messages and drops the queued ones (their reply channels then report
    /// `ActorStopped` to their callers).
    pub(crate) fn close_and_drain(&mut self) {
        self.rx.close();
        while self.rx.try_recv().is_ok() {}
    }
}
