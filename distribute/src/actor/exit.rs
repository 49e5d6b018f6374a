//! Why an actor stopped.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ActorId;

/// The reason an actor stopped, reported to `wait_for_stop`, links, monitors and (later)
/// supervisors. It is serializable so that it can cross the network in DOWN and EXIT signals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ExitReason {
    /// The actor finished its work and stopped on request.
    Normal,
    /// The actor was stopped because its node or supervisor is shutting down.
    Shutdown,
    /// The actor was killed: stopped at once, without running its `stopped` hook.
    Killed,
    /// A handler or hook panicked; the text is the panic message.
    Panicked(String),
    /// The `started` hook returned an error; the text is that error.
    StartFailed(String),
    /// The actor stopped itself, or was stopped, with an error.
    Error(String),
    /// A linked actor exited abnormally and this actor did not trap exits.
    Linked {
        /// The linked actor that exited first.
        from: ActorId,
        /// Why it exited.
        reason: Box<ExitReason>,
    },
    /// The actor did not exist (or had already gone) when it was linked or looked up.
    NoProc,
    /// The actor's node went down, or the connection to it was lost: what a monitor or a
    /// link across nodes reports when it can no longer know the actor's fate.
    NodeDown,
    /// A supervisor gave up: its children needed more restarts than its intensity allows.
    ///
    /// `reason` is why that child's last incarnation ended; when the child is itself a
    /// supervisor that gave up, it is that supervisor's `MaxRestartsExceeded`, so the reason
    /// of a failure deep in a tree reaches whoever watches its root.
    MaxRestartsExceeded {
        /// The child whose failure went over the limit.
        child: String,
        /// Why that child's last incarnation ended.
        reason: Box<ExitReason>,
        /// Restarts allowed within the window.
        max_restarts: u32,
        /// The window.
        within: std::time::Duration,
    },
}

impl ExitReason {
    /// An [`ExitReason::Error`] with the given text.
    pub fn error(text: impl fmt::Display) -> Self {
        ExitReason::Error(text.to_string())
    }

    /// Whether this is a normal exit (`Normal` or `Shutdown`), which links do not propagate
    /// and transient children are not restarted for, as in OTP.
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal | ExitReason::Shutdown)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Panicked(msg) => write!(f, "panicked: {msg}"),
            ExitReason::StartFailed(msg) => write!(f, "start failed: {msg}"),
            ExitReason::Error(msg) => write!(f, "error: {msg}"),
            ExitReason::Linked { from, reason } => write!(f, "linked actor {from} exited ({reason})"),
            ExitReason::NoProc => f.write_str("no such actor"),
            ExitReason::NodeDown => f.write_str("node down or connection lost"),
            ExitReason::MaxRestartsExceeded {
                child,
                reason,
                max_restarts,
                within,
            } => write!(
                f,
                "restart intensity exceeded: child `{child}` failed after {max_restarts} restarts within {within:?} \
                 ({reason})"
            ),
        }
    }
}
