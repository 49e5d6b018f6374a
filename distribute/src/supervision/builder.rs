//! [`SupervisorSpec`]: a supervisor described before it runs, started on a node or nested
//! in another tree.

use std::sync::Arc;
use std::time::Duration;

use super::handoff::Handoff;
use super::spec::ChildSpec;
use super::strategy::{Intensity, Strategy};
use super::supervisor::{Supervisor, SupervisorConfig};
use crate::actor::ActorRef;
use crate::actor::Node;
use crate::actor::SpawnError;
use crate::backoff::Backoff;

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
        let handoff: Arc<Handoff> = Arc::default();
        let notice = Arc::clone(&handoff);
        ChildSpec::worker(id, move || {
            Supervisor::with_handoff(Arc::clone(&config), Arc::clone(&handoff))
        })
        .shutdown(Duration::from_secs(60))
        .marked_supervisor()
        .with_restart_notice(notice)
    }
}
