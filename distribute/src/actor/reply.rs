//! The reply half of a call.
//!
//! A [`ReplyTo`] travels inside the message to the actor. Dropping it unanswered tells the
//! caller why at once: [`CallError::ActorFailed`](crate::CallError::ActorFailed) when it is
//! dropped because the handler panicked, [`CallError::ActorStopped`](crate::CallError::ActorStopped)
//! when the message was discarded by an actor that stopped before handling it. The caller
//! never waits for its timeout to learn that the actor is gone.

use std::cell::Cell;
use std::fmt;

use tokio::sync::oneshot;

thread_local! {
    /// Set while the runtime drops the state of a handler that panicked, so that the reply
    /// channels dropped with it report `ActorFailed` rather than `ActorStopped`.
    static HANDLER_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Why a reply was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoReply {
    /// The handler of this message panicked.
    Failed,
    /// The actor stopped before it handled this message.
    Stopped,
}

pub(crate) type ReplyResult<R> = Result<R, NoReply>;

/// Where the answer to a call goes. Created by [`ActorRef::ask`](crate::ActorRef::ask);
/// the generated dispatch code answers it with [`ReplyTo::send`].
#[must_use = "dropping a ReplyTo without sending tells the caller that the actor stopped"]
pub struct ReplyTo<R> {
    tx: Option<oneshot::Sender<ReplyResult<R>>>,
}

impl<R> ReplyTo<R> {
    pub(crate) fn new(tx: oneshot::Sender<ReplyResult<R>>) -> Self {
        ReplyTo { tx: Some(tx) }
    }

    /// A reply channel that goes nowhere: what a decoded message carries until the transport
    /// attaches the remote caller. Sending on it does nothing.
    pub fn detached() -> Self {
        ReplyTo { tx: None }
    }

    /// Whether a caller is still waiting for this reply (it has not timed out or gone away).
    pub fn is_waiting(&self) -> bool {
        self.tx.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    /// Answers the call. If the caller has given up (timeout, dropped future), the value is
    /// dropped silently.
    pub fn send(mut self, value: R) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Ok(value));
        }
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let failed = std::thread::panicking() || HANDLER_FAILED.with(Cell::get);
            let _ = tx.send(Err(if failed { NoReply::Failed } else { NoReply::Stopped }));
        }
    }
}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// Marks the current thread as dropping a failed handler's state until the guard is dropped.
pub(crate) struct FailedHandlerScope {
    previous: bool,
}

impl FailedHandlerScope {
    pub(crate) fn enter() -> Self {
        FailedHandlerScope {
            previous: HANDLER_FAILED.with(|f| f.replace(true)),
        }
    }
}

impl Drop for FailedHandlerScope {
    fn drop(&mut self) {
        HANDLER_FAILED.with(|f| f.set(self.previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_reply_reports_stopped() {
        let (tx, mut rx) = oneshot::channel::<ReplyResult<u8>>();
        drop(ReplyTo::new(tx));
        assert_eq!(rx.try_recv().ok(), Some(Err(NoReply::Stopped)));
    }

    #[test]
    fn reply_dropped_in_failed_scope_reports_failed() {
        let (tx, mut rx) = oneshot::channel::<ReplyResult<u8>>();
        let reply = ReplyTo::new(tx);
        {
            let _scope = FailedHandlerScope::enter();
            drop(reply);
        }
        assert_eq!(rx.try_recv().ok(), Some(Err(NoReply::Failed)));
        assert!(!HANDLER_FAILED.with(Cell::get));
    }

    #[test]
    fn sent_reply_arrives() {
        let (tx, mut rx) = oneshot::channel::<ReplyResult<u8>>();
        ReplyTo::new(tx).send(9);
        assert_eq!(rx.try_recv().ok(), Some(Ok(9)));
    }
}
