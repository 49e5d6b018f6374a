//! What a supervisor answers: its children as listed and counted, and why a request
//! failed.

use super::strategy::Restart;
use crate::actor::ActorId;
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

/// A child as [`ActorRef::which_children`](crate::ActorRef::which_children) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// The child's name.
    pub id: String,
    /// Its actor, while it runs.
    pub actor: Option<ActorId>,
    /// Running or terminated.
    pub state: ChildState,
    /// Its restart type.
    pub restart: Restart,
    /// Whether it is a supervisor (or a pool).
    pub is_supervisor: bool,
}

/// Whether a child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildState {
    /// Running (possibly between a failure and its restart).
    Running,
    /// Stopped for good; `restart_child` can start it again.
    Terminated,
}

/// Child counts, as [`ActorRef::count_children`](crate::ActorRef::count_children) gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    /// All children with a spec.
    pub specs: usize,
    /// Running children.
    pub active: usize,
    /// Children that are supervisors.
    pub supervisors: usize,
    /// Children that are workers.
    pub workers: usize,
}

impl ChildCounts {
    pub(crate) fn of(children: &[ChildInfo]) -> Self {
        ChildCounts {
            specs: children.len(),
            active: children.iter().filter(|c| c.state == ChildState::Running).count(),
            supervisors: children.iter().filter(|c| c.is_supervisor).count(),
            workers: children.iter().filter(|c| !c.is_supervisor).count(),
        }
    }
}
