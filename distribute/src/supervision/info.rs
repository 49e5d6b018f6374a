//! What a supervisor answers: its children as listed and counted, and why a request
//! failed.

use super::strategy::{Restart, Strategy};
use crate::actor::{ActorId, ExitReason};
use crate::actor::{CallError, SpawnError};

/// Why a supervisor request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// A child with this name already exists.
    #[error("a child named `{child}` already exists")]
    AlreadyPresent {
        /// The name.
        child: String,
    },
    /// No child has this name.
    #[error("no child named `{child}`")]
    NotFound {
        /// The name.
        child: String,
    },
    /// The child is running; the request needs a terminated one.
    #[error("child `{child}` is running")]
    Running {
        /// The name.
        child: String,
    },
    /// The child stopped right after it started.
    #[error("the child is not running")]
    NotRunning,
    /// The child's `started` hook failed.
    #[error("child `{child}` failed to start: {error}")]
    StartFailed {
        /// The name.
        child: String,
        /// Why.
        error: SpawnError,
    },
    /// A pool cannot shrink to zero workers.
    #[error("a pool needs at least one worker")]
    EmptyPool,
    /// The supervisor could not be reached.
    #[error("supervisor unreachable: {0}")]
    Call(CallError),
}

/// Why [`ActorRef::child`](crate::ActorRef::child) found no ref to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChildError {
    /// The supervisor has no child of this name.
    #[error("no child named `{child}`")]
    NoSuchChild {
        /// The name asked for.
        child: String,
    },
    /// The child exists but is not running: it was terminated, or its restart failed.
    #[error("child `{child}` is not running")]
    NotRunning {
        /// The name asked for.
        child: String,
    },
    /// The child runs an actor of another type than the one asked for.
    #[error("child `{child}` is a `{actual}`, not a `{expected}`")]
    WrongType {
        /// The name asked for.
        child: String,
        /// The actor type asked for (its `Actor::NAME`).
        expected: &'static str,
        /// The actor type the child runs (its `Actor::NAME`).
        actual: &'static str,
    },
    /// The supervisor did not answer: it has stopped, or the request timed out.
    #[error("supervisor unreachable: {0}")]
    Unreachable(CallError),
}

/// A child as [`ActorRef::which_children`](crate::ActorRef::which_children) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildInfo {
    /// The child's name.
    pub id: String,
    /// Its actor, while it runs or restarts.
    pub actor: Option<ActorId>,
    /// Running, restarting or terminated.
    pub state: ChildState,
    /// Its restart type.
    pub restart: Restart,
    /// Whether it is a supervisor (or a pool).
    pub is_supervisor: bool,
    /// How many times the supervisor restarted it after an exit (its own failure or, with
    /// `OneForAll` and `RestForOne`, a sibling's). `restart_child` does not count.
    pub restarts: u32,
    /// Which incarnation runs (or ran last): 1 for the first start, one more for every start
    /// since, by the supervisor or by `restart_child`; 0 if it never started.
    pub incarnation: u64,
    /// Why its last incarnation ended; `None` while the first one runs. For a nested
    /// supervisor that gave up, an [`ExitReason::MaxRestartsExceeded`] that names its child
    /// and carries that child's reason.
    pub last_exit: Option<ExitReason>,
}

/// Whether a child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChildState {
    /// Running: its `started` hook returned and it has not exited since.
    Running,
    /// Between an exit and its restart: the supervisor is deciding, backing off or starting
    /// it again. Its ref stays valid; messages wait in its mailbox.
    Restarting,
    /// Stopped for good; `restart_child` can start it again.
    Terminated,
}

/// Child counts, as [`ActorRef::count_children`](crate::ActorRef::count_children) gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    /// All children with a spec.
    pub specs: usize,
    /// Running children ([`ChildState::Running`]), not those being restarted.
    pub active: usize,
    /// Children between an exit and their restart ([`ChildState::Restarting`]).
    pub restarting: usize,
    /// Children that are supervisors.
    pub supervisors: usize,
    /// Children that are workers.
    pub workers: usize,
}

impl ChildCounts {
    pub(crate) fn of(children: &[ChildInfo]) -> Self {
        let in_state = |state| children.iter().filter(|c| c.state == state).count();
        ChildCounts {
            specs: children.len(),
            active: in_state(ChildState::Running),
            restarting: in_state(ChildState::Restarting),
            supervisors: children.iter().filter(|c| c.is_supervisor).count(),
            workers: children.iter().filter(|c| !c.is_supervisor).count(),
        }
    }
}

/// What a supervisor tells introspection about itself.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct SupervisorReport {
    /// Its name in logs (`supervisor`, `pool of Worker`, `Worker supervisor`, or the user's).
    pub(crate) name: String,
    pub(crate) strategy: Strategy,
    pub(crate) children: Vec<ChildInfo>,
}
