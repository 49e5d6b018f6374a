//! The reply half of a call.
//!
//! A [`ReplyTo`] travels inside the message to the actor. Dropping it unanswered tells the
//! caller why at once: [`CallError::ActorFailed`](crate::CallError::ActorFailed) when it is
//! dropped because the handler panicked, [`CallError::ActorStopped`](crate::CallError::ActorStopped)
//! when the message was discarded by an actor that stopped before handling it. The caller
//! never waits for its timeout to learn that the actor is gone.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::remote::{CallEnd, RemotePeer};
use super::Wire;
use crate::actor::CallError;
use crate::codec::{Codec, CodecError};

thread_local! {
    /// Set while the runtime drops the state of a handler that panicked, so that the reply
    /// channels dropped with it report `ActorFailed` rather than `ActorStopped`.
    static HANDLER_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Why a reply was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoReply {
    /// The handler of this message panicked.
    Failed,
    /// The actor stopped before it handled this message.
    Stopped,
    /// The call to a remote actor failed on the way (node down, protocol, codec).
    Error(CallError),
}

pub(crate) type ReplyResult<R> = Result<R, NoReply>;

/// Where the answer to a call goes. Created by [`ActorRef::ask`](crate::ActorRef::ask), or
/// by the transport for a call from another node; the generated dispatch code answers it
/// with [`ReplyTo::send`].
#[must_use = "dropping a ReplyTo without sending tells the caller that the actor stopped"]
pub struct ReplyTo<R> {
    to: Target<R>,
}

enum Target<R> {
    Nowhere,
    Local(oneshot::Sender<ReplyResult<R>>),
    /// Boxed: a `ReplyTo` lives inside every message with a reply, which sits in mailboxes,
    /// so it stays two words; only a call from another node pays for the box.
    Remote(Box<RemoteCaller<R>>),
}

/// A caller on another node: the reply is encoded and sent back on its connection.
struct RemoteCaller<R> {
    peer: Arc<dyn RemotePeer>,
    call: u64,
    encode: fn(&R, &mut Vec<u8>) -> Result<(), CodecError>,
}

/// Who waits for the reply of a message decoded from the network: passed to
/// [`Message::decode_body`](crate::Message::decode_body), which turns it into the message's
/// [`ReplyTo`] with [`ReplyTo::attach`]. Opaque; [`ReplySlot::none`] when no one waits.
pub struct ReplySlot {
    caller: Option<(Arc<dyn RemotePeer>, u64)>,
}

impl ReplySlot {
    /// No one waits: the message was a tell, or it is decoded outside the transport.
    pub fn none() -> Self {
        ReplySlot { caller: None }
    }

    pub(crate) fn remote(peer: Arc<dyn RemotePeer>, call: u64) -> Self {
        ReplySlot {
            caller: Some((peer, call)),
        }
    }
}

impl fmt::Debug for ReplySlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplySlot")
            .field("call", &self.caller.as_ref().map(|(_, call)| *call))
            .finish()
    }
}

impl<R> ReplyTo<R> {
    pub(crate) fn new(tx: oneshot::Sender<ReplyResult<R>>) -> Self {
        ReplyTo {
            to: Target::Local(tx),
        }
    }

    /// A reply channel that goes nowhere. Sending on it does nothing.
    pub fn detached() -> Self {
        ReplyTo { to: Target::Nowhere }
    }

    /// Whether a caller is still waiting for this reply (it has not timed out or gone away;
    /// for a caller on another node: its node is still connected).
    pub fn is_waiting(&self) -> bool {
        match &self.to {
            Target::Nowhere => false,
            Target::Local(tx) => !tx.is_closed(),
            Target::Remote(caller) => caller.peer.is_up(),
        }
    }

    /// Answers the call. If the caller has given up (timeout, dropped future), the value is
    /// dropped silently.
    pub fn send(mut self, value: R) {
        match std::mem::replace(&mut self.to, Target::Nowhere) {
            Target::Nowhere => {}
            Target::Local(tx) => {
                let _ = tx.send(Ok(value));
            }
            Target::Remote(caller) => {
                let encode = caller.encode;
                caller
                    .peer
                    .reply(caller.call, CallEnd::Replied, &mut |out| encode(&value, out));
            }
        }
    }
}

/// The caller's end of a call to a remote actor, with the reply type erased: completed by the
/// connection with the reply's bytes (decoded here, with the actor's codec) or with the error
/// that ended the call. Made by [`ReplyTo::erase`] in [`Message::take_reply`](crate::Message::take_reply).
pub struct ErasedReply {
    complete: Box<Completion>,
}

/// Completes a remote call with the reply's bytes or the error that ended it.
type Completion = dyn FnOnce(Result<&[u8], CallError>) + Send;

impl ErasedReply {
    pub(crate) fn complete(self, outcome: Result<&[u8], CallError>) {
        (self.complete)(outcome);
    }
}

impl fmt::Debug for ErasedReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErasedReply").finish_non_exhaustive()
    }
}

impl<R: Wire> ReplyTo<R> {
    /// The reply channel of a message decoded from the network: the reply is encoded with
    /// the codec `C` and sent back to the caller in `slot` (nowhere for [`ReplySlot::none`]).
    pub fn attach<C: Codec>(slot: ReplySlot) -> Self {
        match slot.caller {
            None => ReplyTo::detached(),
            Some((peer, call)) => ReplyTo {
                to: Target::Remote(Box::new(RemoteCaller {
                    peer,
                    call,
                    encode: |value, out| C::default().encode(value, out),
                })),
            },
        }
    }

    /// Takes the local caller out of this reply channel (leaving it detached), as an
    /// [`ErasedReply`] that decodes the reply with codec `C`. `None` if no local caller
    /// waits here.
    pub fn erase<C: Codec>(&mut self) -> Option<ErasedReply> {
        match std::mem::replace(&mut self.to, Target::Nowhere) {
            Target::Local(tx) => Some(ErasedReply {
                complete: Box::new(move |outcome| {
                    let result = match outcome {
                        Ok(bytes) => C::default()
                            .decode::<R>(bytes)
                            .map_err(|error| NoReply::Error(CallError::Decode(error))),
                        Err(error) => Err(NoReply::Error(error)),
                    };
                    let _ = tx.send(result);
                }),
            }),
            other => {
                self.to = other;
                None
            }
        }
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let failed = || std::thread::panicking() || HANDLER_FAILED.with(Cell::get);
        match std::mem::replace(&mut self.to, Target::Nowhere) {
            Target::Nowhere => {}
            Target::Local(tx) => {
                let _ = tx.send(Err(if failed() {
                    NoReply::Failed
                } else {
                    NoReply::Stopped
                }));
            }
            Target::Remote(caller) => {
                let end = if failed() {
                    CallEnd::Failed
                } else {
                    CallEnd::Stopped
                };
                caller.peer.reply(caller.call, end, &mut |_| Ok(()));
            }
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
