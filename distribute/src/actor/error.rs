//! Error types, one per concern.

use std::time::Duration;

use super::{ActorId, ExitReason};
use crate::codec::CodecError;

/// A boxed error, as returned by lifecycle hooks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a tell or a call (ask) did not produce a reply.
///
/// The network variants (`NodeDown`, `Encode`, `Decode`, `PayloadTooLarge`,
/// `ProtocolMismatch`) are produced by remote refs; a local send never serializes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No reply arrived within the call's timeout (5 s unless overridden).
    #[error("call to {actor} timed out after {timeout:?}")]
    Timeout {
        /// The actor that was called.
        actor: ActorId,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The actor had stopped, or stopped before it handled the message.
    #[error("actor {actor} has stopped")]
    ActorStopped {
        /// The actor that was called.
        actor: ActorId,
    },
    /// The actor failed (panicked) while it handled this very message.
    ///
    /// The caller learns it once the panic has unwound to the runtime, after the process's
    /// panic hook ran. With `RUST_BACKTRACE=1` the standard hook first resolves a backtrace,
    /// which delays this error by 100 to 250 ms for the first panic of a debug build;
    /// [`defer_panic_reports`](crate::actor::defer_panic_reports) writes the report after
    /// the caller was answered instead.
    #[error("actor {actor} failed while handling the call")]
    ActorFailed {
        /// The actor that was called.
        actor: ActorId,
    },
    /// The mailbox was full and the send was not allowed to wait (`try_tell`).
    #[error("mailbox of actor {actor} is full")]
    MailboxFull {
        /// The actor whose mailbox is full.
        actor: ActorId,
    },
    /// The node hosting the actor is down (declared dead by the cluster's membership, or,
    /// without one, its connection was lost).
    #[error("node of actor {actor} is down")]
    NodeDown {
        /// The actor that was called.
        actor: ActorId,
    },
    /// The connection that carried the call broke before the reply came, while the node
    /// is still a member of the cluster: the call may or may not have been handled. The
    /// next message to the node opens a new connection; retry if the call is idempotent.
    #[error("the connection to the node of actor {actor} was lost; the call may have run")]
    ConnectionLost {
        /// The actor that was called.
        actor: ActorId,
    },
    /// The message could not be encoded for the wire.
    #[error("cannot encode the message: {0}")]
    Encode(CodecError),
    /// The reply could not be decoded.
    #[error("cannot decode the reply: {0}")]
    Decode(CodecError),
    /// The encoded message exceeds the transport's frame cap.
    #[error("message of {size} bytes exceeds the frame limit of {limit} bytes")]
    PayloadTooLarge {
        /// Encoded size, in bytes.
        size: usize,
        /// The frame cap, in bytes.
        limit: usize,
    },
    /// The remote actor speaks another protocol (different fingerprint or unknown tag).
    #[error("actor {actor} does not understand this message: {detail}")]
    ProtocolMismatch {
        /// The actor that was called.
        actor: ActorId,
        /// What did not match.
        detail: String,
    },
}

impl CallError {
    /// The variant's name in snake case (`"timeout"`, `"actor_stopped"`, `"node_down"`,
    /// ...): the `kind` label of `distribute_call_errors_total` (see [`meter`](crate::meter)).
    ///
    /// ```
    /// # use distribute::prelude::*;
    /// # #[actor] #[derive(Default)] struct Idle { n: u64 }
    /// # #[actor] impl Idle { #[message] fn get(&self) -> u64 { self.n } }
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = Node::new();
    /// let idle = node.spawn(Idle::default()).await?;
    /// let error = CallError::ActorStopped { actor: idle.id() };
    /// assert_eq!(error.kind(), "actor_stopped");
    /// # Ok(()) }
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Timeout { .. } => "timeout",
            CallError::ActorStopped { .. } => "actor_stopped",
            CallError::ActorFailed { .. } => "actor_failed",
            CallError::MailboxFull { .. } => "mailbox_full",
            CallError::NodeDown { .. } => "node_down",
            CallError::ConnectionLost { .. } => "connection_lost",
            CallError::Encode(_) => "encode",
            CallError::Decode(_) => "decode",
            CallError::PayloadTooLarge { .. } => "payload_too_large",
            CallError::ProtocolMismatch { .. } => "protocol_mismatch",
        }
    }
}

/// Why an actor could not be spawned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The `started` hook returned an error or panicked; the actor never served a message.
    #[error("actor {actor} failed to start: {reason}")]
    StartFailed {
        /// The id the actor had.
        actor: ActorId,
        /// Why it stopped (`StartFailed`, `Panicked`, `Killed`, ...).
        reason: ExitReason,
    },
    /// A mailbox capacity of zero, or beyond what the mailbox can count.
    #[error("invalid mailbox capacity {capacity}: it must be between 1 and {max}")]
    InvalidMailboxCapacity {
        /// The capacity asked for.
        capacity: usize,
        /// The largest capacity allowed.
        max: usize,
    },
    /// The node is shutting down and accepts no new actors.
    #[error("the node is shutting down")]
    NodeShuttingDown,
    /// A pool must have at least one worker.
    #[error("a pool needs at least one worker")]
    InvalidPoolSize,
    /// `spawn` was called outside a tokio runtime.
    #[error("no tokio runtime: spawn actors from inside a tokio runtime (e.g. #[tokio::main])")]
    NoRuntime,
}
