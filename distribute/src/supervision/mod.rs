//! Supervision: supervisors restart failed actors, as OTP's supervisors do.
//!
//! A [`Supervisor`] is an actor that starts its children in order (each after the previous
//! one's `started` hook returned), restarts them by [`Strategy`] and [`Restart`] type within
//! an [`Intensity`], and stops them in reverse order, each within its shutdown timeout.
//!
//! # Restarts keep the ref
//!
//! A restarted child runs behind the same [`ActorRef`]: same id, same
//! mailbox. Clients keep their refs; registry names stay valid.
//!
//! - The caller whose message was being handled when the child failed gets
//!   [`CallError::ActorFailed`] at once.
//! - Messages still queued in the mailbox are kept and delivered to the restarted instance,
//!   in order.
//! - Links and monitors follow the ref, not one incarnation: they fire when the child stops
//!   for good, not on a restart. `wait_for_stop` likewise.
//! - When a supervisor is itself restarted (its intensity was exceeded and its parent
//!   restarted it), its subtree starts afresh with new actors: look children up again with
//!   [`ActorRef::child`](crate::ActorRef::child).
//!
//! ```
//! use distribute::prelude::*;
//! use distribute::supervision::{ChildSpec, SupervisorSpec, Strategy};
//!
//! #[actor]
//! #[derive(Default)]
//! struct Worker { jobs: u64 }
//!
//! #[actor]
//! impl Worker {
//!     #[message] fn work(&mut self) -> u64 { self.jobs += 1; self.jobs }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::new();
//! let supervisor = SupervisorSpec::new(Strategy::OneForOne)
//!     .child(ChildSpec::worker("worker", Worker::default))
//!     .start(&node)
//!     .await?;
//! let worker = supervisor.child::<Worker>("worker").await?.expect("running");
//! assert_eq!(worker.work().await?, 1);
//! # Ok(()) }
//! ```

mod options;
mod slot;
mod spec;
mod strategy;
mod supervisor;

use std::sync::Arc;
use std::time::Duration;

pub use crate::backoff::Backoff;
pub use options::{start_pool, start_supervised, Supervised, SupervisionOptions};
pub use spec::{ChildHandle, ChildSpec, DEFAULT_CHILD_SHUTDOWN};
pub use strategy::{Intensity, Restart, Strategy};
pub use supervisor::{Supervisor, SupervisorMsg};

use crate::actor::{ActorId, ActorRef};
use crate::error::{CallError, SpawnError};
use crate::node::Node;
use supervisor::SupervisorConfig;

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
    fn of(children: &[ChildInfo]) -> Self {
        ChildCounts {
            specs: children.len(),
            active: children.iter().filter(|c| c.state == ChildState::Running).count(),
            supervisors: children.iter().filter(|c| c.is_supervisor).count(),
            workers: children.iter().filter(|c| !c.is_supervisor).count(),
        }
    }
}

/// A supervisor to build: a strategy, an intensity, and children added in start order.
/// [`start`](Self::start) runs it; [`into_child`](Self::into_child) nests it in another tree.
#[derive(Debug, Clone)]
pub struct SupervisorSpec {
    config: SupervisorConfig,
}

impl SupervisorSpec {
    /// A supervisor with `strategy`, the default [`Intensity`] (3 restarts in 5 s), no
    /// backoff and no children yet.
    pub fn new(strategy: Strategy) -> Self {
        SupervisorSpec {
            config: SupervisorConfig {
                name: String::from("supervisor"),
                strategy,
                intensity: Intensity::default(),
                backoff: None,
                children: Vec::new(),
            },
        }
    }

    /// The supervisor's name in logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// At most `max_restarts` restarts within `within`; one more escalates.
    pub fn intensity(mut self, max_restarts: u32, within: Duration) -> Self {
        self.config.intensity = Intensity { max_restarts, within };
        self
    }

    /// Pauses before restarts (see [`Backoff`]).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = Some(backoff);
        self
    }

    /// Adds a child; children start in the order they are added.
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.config.children.push(child);
        self
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.config.strategy
    }

    /// The restart intensity.
    pub fn intensity_limit(&self) -> Intensity {
        self.config.intensity
    }

    /// The backoff, if any.
    pub fn backoff_policy(&self) -> Option<Backoff> {
        self.config.backoff
    }

    /// The children, in start order.
    pub fn children(&self) -> &[ChildSpec] {
        &self.config.children
    }

    /// Starts the supervisor and all its children, in order. If a child fails to start, the
    /// ones already started are stopped in reverse order and the error names the child.
    pub async fn start(self, node: &Node) -> Result<ActorRef<Supervisor>, SpawnError> {
        node.spawn(Supervisor::new(Arc::new(self.config))).await
    }

    /// This supervisor as the child `id` of another supervisor (a nested tree). When it
    /// exceeds its intensity, the parent restarts it, and with it its whole subtree.
    pub fn into_child(self, id: impl Into<String>) -> ChildSpec {
        let config = Arc::new(self.config);
        ChildSpec::worker(id, move || Supervisor::new(Arc::clone(&config)))
            .shutdown(Duration::from_secs(60))
            .marked_supervisor()
    }
}
