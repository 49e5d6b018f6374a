//! Declarative supervision, as `#[supervised(...)]` writes it: per-type options, the child
//! spec they imply, and one-call starts.

use std::time::Duration;

use super::builder::SupervisorSpec;
use super::spec::{ChildSpec, DEFAULT_CHILD_SHUTDOWN};
use super::strategy::{Intensity, Restart, Strategy};
use super::supervisor::Supervisor;
use crate::actor::Node;
use crate::actor::SpawnError;
use crate::actor::{Actor, ActorRef};
use crate::backoff::Backoff;
use crate::pool::{Pool, PoolSpec, Routing};

/// How an actor type is supervised: what `#[supervised(...)]` declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SupervisionOptions {
    /// The child's restart type (`restart = permanent|transient|temporary`).
    pub restart: Restart,
    /// The strategy of the supervisor started for it (`strategy = ...`).
    pub strategy: Strategy,
    /// The supervisor's intensity (`max_restarts = N`, `within = "5s"`).
    pub intensity: Intensity,
    /// Time to stop before being killed (`shutdown = "1s"`).
    pub shutdown: Duration,
    /// Pause before restarts (`backoff = "100ms"`: initial pause, doubling up to 30 times it).
    pub backoff: Option<Backoff>,
    /// Run as a pool of this many workers (`pool = N`, or `pool = <expression>`).
    pub pool: Option<PoolSize>,
    /// The pool's routing (`routing = round_robin|random|least_loaded|key_hash`).
    pub routing: Routing,
}

impl SupervisionOptions {
    /// Permanent, one-for-one, 3 restarts in 5 s, 5 s shutdown, no backoff, no pool.
    pub const DEFAULT: SupervisionOptions = SupervisionOptions {
        restart: Restart::Permanent,
        strategy: Strategy::OneForOne,
        intensity: Intensity {
            max_restarts: 3,
            within: Duration::from_secs(5),
        },
        shutdown: DEFAULT_CHILD_SHUTDOWN,
        backoff: None,
        pool: None,
        routing: Routing::RoundRobin,
    };

    /// A backoff starting at `initial` and capped at 30 times it.
    pub const fn backoff_from(initial: Duration) -> Backoff {
        Backoff {
            initial,
            max: initial.saturating_mul(30),
        }
    }
}

impl Default for SupervisionOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How many workers a declared pool runs: a number, or a function called each time the pool
/// starts (`#[supervised(pool = ...)]` with an expression that is not a literal, such as the
/// number of CPUs times two). A computed size of zero fails the start with
/// [`SpawnError::InvalidPoolSize`].
#[derive(Debug, Clone, Copy)]
pub enum PoolSize {
    /// This many workers.
    Fixed(usize),
    /// As many workers as the function says when the pool starts.
    Computed(fn() -> usize),
}

impl PoolSize {
    /// The number of workers, computed now for [`PoolSize::Computed`].
    pub fn get(self) -> usize {
        match self {
            PoolSize::Fixed(size) => size,
            PoolSize::Computed(size) => size(),
        }
    }
}

impl PartialEq for PoolSize {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PoolSize::Fixed(a), PoolSize::Fixed(b)) => a == b,
            (PoolSize::Computed(a), PoolSize::Computed(b)) => std::ptr::fn_addr_eq(*a, *b),
            _ => false,
        }
    }
}

impl Eq for PoolSize {}

impl std::hash::Hash for PoolSize {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            PoolSize::Fixed(size) => size.hash(state),
            PoolSize::Computed(size) => (*size as usize).hash(state),
        }
    }
}

/// An actor type with declared supervision, as `#[supervised(...)]` generates it.
pub trait Supervised: Actor {
    /// The declared options.
    const SUPERVISION: SupervisionOptions;

    /// The child spec these options imply, for a child named `id` made by `factory`.
    fn child_spec(id: impl Into<String>, factory: impl Fn() -> Self + Send + Sync + 'static) -> ChildSpec {
        let options = Self::SUPERVISION;
        ChildSpec::worker(id, factory)
            .restart(options.restart)
            .shutdown(options.shutdown)
    }

    /// The supervisor these options imply, with this actor as its only child `id`.
    fn supervisor_spec(
        id: impl Into<String>,
        factory: impl Fn() -> Self + Send + Sync + 'static,
    ) -> SupervisorSpec {
        let options = Self::SUPERVISION;
        let mut spec = SupervisorSpec::new(options.strategy)
            .name(format!("{} supervisor", Self::NAME))
            .intensity(options.intensity.max_restarts, options.intensity.within)
            .child(Self::child_spec(id, factory));
        if let Some(backoff) = options.backoff {
            spec = spec.backoff(backoff);
        }
        spec
    }

    /// The pool these options imply (`pool = N`; one worker if no size was declared).
    fn pool_spec(factory: impl Fn() -> Self + Send + Sync + 'static) -> PoolSpec<Self> {
        let options = Self::SUPERVISION;
        PoolSpec::new(options.pool.map_or(1, PoolSize::get), factory)
            .routing(options.routing)
            .worker_spec(move |spec| spec.restart(options.restart).shutdown(options.shutdown))
            .supervisor(|spec| {
                let spec = spec.intensity(options.intensity.max_restarts, options.intensity.within);
                match options.backoff {
                    Some(backoff) => spec.backoff(backoff),
                    None => spec,
                }
            })
    }
}

/// Starts `A` under a new supervisor built from its options; returns the supervisor and
/// the actor's ref, which stays valid across restarts.
pub async fn start_supervised<A: Supervised>(
    node: &Node,
    factory: impl Fn() -> A + Send + Sync + 'static,
) -> Result<(ActorRef<Supervisor>, ActorRef<A>), SpawnError> {
    let supervisor = A::supervisor_spec(A::NAME, factory).start(node).await?;
    match supervisor.child::<A>(A::NAME).await {
        Ok(actor) => Ok((supervisor, actor)),
        Err(_) => {
            let actor = supervisor.id();
            supervisor.stop(crate::ExitReason::Shutdown).await;
            Err(SpawnError::StartFailed {
                actor,
                reason: crate::ExitReason::error("the child stopped right after it started"),
            })
        }
    }
}

/// Starts a pool of `A` built from its options.
pub async fn start_pool<A: Supervised>(
    node: &Node,
    factory: impl Fn() -> A + Send + Sync + 'static,
) -> Result<Pool<A>, SpawnError> {
    A::pool_spec(factory).start(node).await
}
