//! [`Pool<A>`]: N supervised workers of one type behind one handle, with routing.
//!
//! A pool is a one-for-one supervisor whose children are the workers `worker-1` ..
//! `worker-N`. A crashed worker is restarted behind the same ref, so the pool keeps its
//! size and its refs. The typed client methods that `#[actor]` generates work on a pool as
//! on a single ref: each call goes to the worker the [`Routing`] picks.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::actor::Node;
use crate::actor::{Actor, ActorRef, Recipient, ReplyTo};
use crate::actor::{CallError, SpawnError};
// From the files that define them, not the `supervision` facade, which also re-exports
// `options`, the layer above this one: imports between the two go one way.
use crate::supervision::builder::SupervisorSpec;
use crate::supervision::info::{ChildError, SupervisorError};
use crate::supervision::spec::ChildSpec;
use crate::supervision::strategy::Strategy;
use crate::supervision::supervisor::Supervisor;

/// How a pool picks the worker for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Routing {
    /// Each worker in turn.
    #[default]
    RoundRobin,
    /// A worker picked at random.
    Random,
    /// The worker with the fewest messages waiting in its mailbox.
    LeastLoaded,
    /// By key: [`Pool::for_key`] sends the same key to the same worker while the pool size is
    /// unchanged. Calls made without a key go round-robin.
    KeyHash,
}

impl Routing {
    /// Every routing, for error messages and docs.
    pub const ALL: [Routing; 4] = [
        Routing::RoundRobin,
        Routing::Random,
        Routing::LeastLoaded,
        Routing::KeyHash,
    ];
}

/// A pool to start: how many workers, how to make one, how to route.
pub struct PoolSpec<A: Actor> {
    size: usize,
    routing: Routing,
    factory: Arc<dyn Fn() -> A + Send + Sync>,
    worker: Arc<dyn Fn(ChildSpec) -> ChildSpec + Send + Sync>,
    supervisor: SupervisorSpec,
    /// The service name its workers register under, if any.
    registered: Option<String>,
}

impl<A: Actor> PoolSpec<A> {
    /// `size` workers made by `factory`, round-robin, permanent, under a one-for-one
    /// supervisor with the default intensity.
    pub fn new(size: usize, factory: impl Fn() -> A + Send + Sync + 'static) -> Self {
        PoolSpec {
            size,
            routing: Routing::RoundRobin,
            factory: Arc::new(factory),
            worker: Arc::new(|spec| spec),
            supervisor: SupervisorSpec::new(Strategy::OneForOne).name(format!("pool of {}", A::NAME)),
            registered: None,
        }
    }

    /// Registers the workers as the service `name`: worker `i` under `name_i` (`name_1` to
    /// `name_N`) in the cluster-wide registry, every worker in the process group `name`, at
    /// start and as [`Pool::resize`] adds workers. A worker removed by `resize` releases its
    /// name and leaves the group as it stops. A name that cannot be registered fails the start
    /// (or the resize) as a failed `started` hook does.
    pub fn registered(mut self, name: impl Into<String>) -> Self {
        self.registered = Some(name.into());
        self
    }

    /// The routing.
    pub fn routing(mut self, routing: Routing) -> Self {
        self.routing = routing;
        self
    }

    /// Adjusts each worker's child spec (restart type, shutdown, mailbox).
    pub fn worker_spec(mut self, adjust: impl Fn(ChildSpec) -> ChildSpec + Send + Sync + 'static) -> Self {
        self.worker = Arc::new(adjust);
        self
    }

    /// Adjusts the pool's supervisor (intensity, backoff, name); its strategy stays
    /// one-for-one.
    pub fn supervisor(mut self, adjust: impl FnOnce(SupervisorSpec) -> SupervisorSpec) -> Self {
        self.supervisor = adjust(self.supervisor);
        self
    }

    fn worker_child(&self, index: usize) -> ChildSpec {
        let factory = Arc::clone(&self.factory);
        let child = (self.worker)(ChildSpec::worker(worker_id(index), move || factory()));
        match &self.registered {
            Some(name) => child
                .registered(format!("{name}_{}", index + 1))
                .join_group(name.clone()),
            None => child,
        }
    }

    fn supervisor_spec(&self) -> SupervisorSpec {
        (0..self.size).fold(self.supervisor.clone(), |spec, i| {
            spec.child(self.worker_child(i))
        })
    }

    /// Starts the pool. A pool of zero workers is refused ([`SpawnError::InvalidPoolSize`]).
    pub async fn start(self, node: &Node) -> Result<Pool<A>, SpawnError> {
        if self.size == 0 {
            return Err(SpawnError::InvalidPoolSize);
        }
        let supervisor = self.supervisor_spec().start(node).await?;
        Pool::attach(supervisor, self)
            .await
            .map_err(|e| SpawnError::StartFailed {
                actor: e.0,
                reason: crate::ExitReason::error(e.1),
            })
    }

    /// This pool as the child `id` of a supervision tree; get a [`Pool`] handle from the
    /// tree with [`Pool::attach`].
    pub fn into_child(self, id: impl Into<String>) -> ChildSpec {
        self.supervisor_spec().into_child(id)
    }
}

impl<A: Actor> Clone for PoolSpec<A> {
    fn clone(&self) -> Self {
        PoolSpec {
            size: self.size,
            routing: self.routing,
            factory: Arc::clone(&self.factory),
            worker: Arc::clone(&self.worker),
            supervisor: self.supervisor.clone(),
            registered: self.registered.clone(),
        }
    }
}

fn worker_id(index: usize) -> String {
    format!("worker-{}", index + 1)
}

struct PoolShared<A: Actor> {
    workers: RwLock<Vec<ActorRef<A>>>,
    cursor: AtomicUsize,
}

/// A handle to a running pool. Cheap to clone; clones share the workers and the routing
/// state.
pub struct Pool<A: Actor> {
    supervisor: ActorRef<Supervisor>,
    shared: Arc<PoolShared<A>>,
    spec: PoolSpec<A>,
}

impl<A: Actor> Pool<A> {
    /// A pool handle over a pool supervisor that runs in a tree (see
    /// [`PoolSpec::into_child`]); `spec` must be the spec the child was made from.
    pub async fn attach(
        supervisor: ActorRef<Supervisor>,
        spec: PoolSpec<A>,
    ) -> Result<Self, (crate::ActorId, String)> {
        let id = supervisor.id();
        let children = supervisor
            .which_children()
            .await
            .map_err(|e| (id, e.to_string()))?;
        let mut workers = Vec::with_capacity(children.len());
        for child in children {
            match supervisor.child::<A>(&child.id).await {
                Ok(worker) => workers.push(worker),
                Err(e) => return Err((id, format!("pool worker: {e}"))),
            }
        }
        let shared = PoolShared {
            workers: RwLock::new(workers),
            cursor: AtomicUsize::new(0),
        };
        Ok(Pool {
            supervisor,
            shared: Arc::new(shared),
            spec,
        })
    }

    /// From now on, workers that `resize` adds register as the service `name` (see
    /// [`PoolSpec::registered`]); for a pool whose first workers were registered otherwise.
    pub(crate) fn registered_as(mut self, name: &str) -> Self {
        self.spec.registered = Some(name.to_owned());
        self
    }

    fn workers(&self) -> std::sync::RwLockReadGuard<'_, Vec<ActorRef<A>>> {
        crate::lock::read(&self.shared.workers)
    }

    /// The pool's supervisor.
    pub fn supervisor(&self) -> &ActorRef<Supervisor> {
        &self.supervisor
    }

    /// How many workers the pool has.
    pub fn size(&self) -> usize {
        self.workers().len()
    }

    /// How many workers are running now: [`size`](Self::size) minus those between a failure
    /// and the end of their restart (the supervisor deciding, backing off, or running the new
    /// incarnation's `started` hook) and those stopped for good. Read from the workers
    /// themselves, without asking the supervisor, so it is current even while the supervisor
    /// is busy restarting one.
    pub fn running_workers(&self) -> usize {
        self.workers()
            .iter()
            .filter(|worker| {
                worker
                    .local_cell()
                    .is_some_and(|cell| cell.core.is_alive() && !cell.core.is_restarting())
            })
            .count()
    }

    /// The routing.
    pub fn routing(&self) -> Routing {
        self.spec.routing
    }

    /// Refs to every worker, in order. They stay valid across worker restarts.
    pub fn worker_refs(&self) -> Vec<ActorRef<A>> {
        self.workers().clone()
    }

    /// The worker the routing picks for the next message. `None` only if the pool has no
    /// workers (which `start` and `resize` never allow).
    pub fn pick(&self) -> Option<ActorRef<A>> {
        let workers = self.workers();
        if workers.is_empty() {
            return None;
        }
        let index = match self.spec.routing {
            Routing::RoundRobin | Routing::KeyHash => {
                self.shared.cursor.fetch_add(1, Ordering::Relaxed) % workers.len()
            }
            // fastrand's per-thread generator: no state shared between callers to contend on.
            Routing::Random => fastrand::usize(..workers.len()),
            Routing::LeastLoaded => {
                // Start the scan at a rotating offset so ties spread across workers.
                let start = self.shared.cursor.fetch_add(1, Ordering::Relaxed);
                (0..workers.len())
                    .map(|i| (start + i) % workers.len())
                    .min_by_key(|&i| workers[i].mailbox_len())
                    .unwrap_or(0)
            }
        };
        workers.get(index).cloned()
    }

    /// The worker for `key`: always the same one for the same key while the pool size is
    /// unchanged. Call the generated client methods on it: `pool.for_key(&user).get()`.
    pub fn for_key<K: Hash + ?Sized>(&self, key: &K) -> Option<ActorRef<A>> {
        let workers = self.workers();
        if workers.is_empty() {
            return None;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        workers
            .get((hasher.finish() % workers.len() as u64) as usize)
            .cloned()
    }

    /// Sends the message `make` builds to every worker; returns how many accepted it.
    pub async fn broadcast(&self, make: impl Fn() -> A::Msg) -> usize {
        let mut delivered = 0;
        for worker in self.worker_refs() {
            if worker.tell(make()).await.is_ok() {
                delivered += 1;
            }
        }
        delivered
    }

    /// Grows or shrinks the pool to `size` workers; zero is [`SupervisorError::EmptyPool`]. New workers start
    /// before this returns; removed workers (the newest) are stopped gracefully. In a registered
    /// pool ([`PoolSpec::registered`], `#[registered]` with `pool`), new workers are registered
    /// and join the group before this returns; removed ones release their names and leave the
    /// group as they stop.
    pub async fn resize(&self, size: usize) -> Result<(), SupervisorError> {
        if size == 0 {
            return Err(SupervisorError::EmptyPool);
        }
        let current = self.size();
        for index in current..size {
            self.supervisor.start_child(self.spec.worker_child(index)).await?;
            match self.supervisor.child::<A>(&worker_id(index)).await {
                Ok(worker) => crate::lock::write(&self.shared.workers).push(worker),
                Err(ChildError::Unreachable(error)) => return Err(SupervisorError::Call(error)),
                Err(ChildError::NoSuchChild { child }) => return Err(SupervisorError::NotFound { child }),
                // It stopped right after it started (the spec makes an `A`, so the type
                // matches): the pool goes on without it, as before.
                Err(ChildError::NotRunning { .. } | ChildError::WrongType { .. }) => {}
            }
        }
        for index in (size..current).rev() {
            crate::lock::write(&self.shared.workers).truncate(index);
            self.supervisor.terminate_child(&worker_id(index)).await?;
            self.supervisor.delete_child(&worker_id(index)).await?;
        }
        Ok(())
    }

    /// Stops the pool: its workers, then its supervisor.
    pub async fn stop(&self) {
        self.supervisor.stop(crate::ExitReason::Shutdown).await;
    }
}

impl<A: Actor> Clone for Pool<A> {
    fn clone(&self) -> Self {
        Pool {
            supervisor: self.supervisor.clone(),
            shared: Arc::clone(&self.shared),
            spec: self.spec.clone(),
        }
    }
}

impl<A: Actor> fmt::Debug for Pool<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("actor", &A::NAME)
            .field("size", &self.size())
            .field("routing", &self.spec.routing)
            .finish()
    }
}

impl<A: Actor> Recipient<A> for Pool<A> {
    fn tell(&self, msg: A::Msg) -> impl Future<Output = Result<(), CallError>> + Send {
        let worker = self.pick();
        let supervisor = self.supervisor.id();
        async move {
            match worker {
                Some(worker) => worker.tell(msg).await,
                None => Err(CallError::ActorStopped { actor: supervisor }),
            }
        }
    }

    fn ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        let worker = self.pick();
        let supervisor = self.supervisor.id();
        async move {
            match worker {
                Some(worker) => worker.ask(make).await,
                None => Err(CallError::ActorStopped { actor: supervisor }),
            }
        }
    }

    fn try_tell(&self, msg: A::Msg) -> Result<(), CallError> {
        match self.pick() {
            Some(worker) => worker.try_tell(msg),
            None => Err(CallError::ActorStopped {
                actor: self.supervisor.id(),
            }),
        }
    }

    fn try_ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        let worker = self.pick();
        let supervisor = self.supervisor.id();
        async move {
            match worker {
                Some(worker) => worker.try_ask(make).await,
                None => Err(CallError::ActorStopped { actor: supervisor }),
            }
        }
    }
}
