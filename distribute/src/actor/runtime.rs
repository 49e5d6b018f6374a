//! [`Node`]'s local runtime: the table of the actors a node hosts, and how they are spawned.
//!
//! Every node has one, networked or not. It keeps the live actors (so that a shutdown can
//! stop them all, newest first, and so that messages from other nodes find their target),
//! numbers new actors, and counts cells. What the layers above attach to a node (the
//! network, the registries) reaches this layer only as [`NodeServices`]: how to find the peer
//! that hosts another node's actors, and what to do when an actor exits. The facade in
//! `crate::node` builds nodes and adds the cluster's methods.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use super::cell::{AnyCell, Cell, TypeShared};
use super::endpoint::Endpoint;
use super::remote::RemotePeer;
use super::run::spawn_actor;
use super::signal::Signal;
use super::{Actor, ActorId, ActorRef, ExitReason, NodeId};
use crate::actor::SpawnError;
use crate::lock::lock;
use crate::meter::NodeMeters;

/// How long [`Node::shutdown`] lets each actor run its `stopped` hook before killing it.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Counters kept by a node, readable with [`Node::stats`].
#[derive(Debug, Default)]
pub struct NodeStats {
    cells: AtomicUsize,
    spawned: AtomicU64,
    /// Messages handled by actors whose cell is gone.
    handled_by_gone: AtomicU64,
}

impl NodeStats {
    pub(crate) fn cell_created(&self) {
        self.cells.fetch_add(1, Ordering::Relaxed);
        self.spawned.fetch_add(1, Ordering::Relaxed);
    }

    /// A cell was dropped, whose actor had handled `handled` messages.
    pub(crate) fn cell_dropped(&self, handled: u64) {
        self.cells.fetch_sub(1, Ordering::Relaxed);
        if handled > 0 {
            self.handled_by_gone.fetch_add(handled, Ordering::Relaxed);
        }
    }

    /// Messages handled by actors whose shared state has been freed; add the live actors'
    /// counts for the node's total.
    pub(crate) fn handled_by_gone(&self) -> u64 {
        self.handled_by_gone.load(Ordering::Relaxed)
    }

    /// Actors whose shared state is still allocated: running ones, plus stopped ones that a
    /// ref still points at. Zero once every actor has stopped and every ref was dropped.
    pub fn cells_allocated(&self) -> usize {
        self.cells.load(Ordering::Relaxed)
    }

    /// Actors spawned since the node started.
    pub fn spawned_total(&self) -> u64 {
        self.spawned.load(Ordering::Relaxed)
    }
}

/// Options for [`Node::spawn_with`].
#[derive(Default)]
pub struct SpawnOptions {
    pub(crate) mailbox_capacity: Option<usize>,
    pub(crate) trap_exit: bool,
    pub(crate) links: Vec<Endpoint>,
}

impl SpawnOptions {
    /// Default options: the actor type's mailbox capacity, no links, not trapping exits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mailbox capacity of this instance, overriding the actor type's.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = Some(capacity);
        self
    }

    /// Starts the actor with exits trapped (see [`Context::trap_exit`](crate::Context::trap_exit)).
    pub fn trap_exit(mut self, trap: bool) -> Self {
        self.trap_exit = trap;
        self
    }

    /// Links the new actor to `other` before it runs, so no exit can fall between spawn and
    /// link.
    pub fn link_to<B: Actor>(mut self, other: &ActorRef<B>) -> Self {
        self.links.push(other.endpoint());
        self
    }
}

impl fmt::Debug for SpawnOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnOptions")
            .field("mailbox_capacity", &self.mailbox_capacity)
            .field("trap_exit", &self.trap_exit)
            .field("links", &self.links.iter().map(Endpoint::id).collect::<Vec<_>>())
            .finish()
    }
}

/// What the layers above the local runtime attach to a node.
pub(crate) trait NodeServices: Send + Sync + 'static {
    /// The peer that hosts node `node`'s actors; `None` on a node without networking.
    fn peer(&self, node: NodeId) -> Option<Arc<dyn RemotePeer>>;

    /// Called once for each actor that exits for good, after its links and monitors were told.
    fn actor_exited(&self, id: ActorId);

    /// The services as `Any`, so that the layer that attached them finds its own type again.
    fn as_any(&self) -> &dyn Any;

    /// Registers the local actor `actor` (of type `type_name`, whose messages have
    /// `fingerprint`) under `name` in the cluster-wide registry: what a supervisor does for a
    /// registered child. `Err` says why not.
    fn register_global(&self, name: String, actor: ActorEntry) -> Registering;

    /// Adds the local actor to the process group `group`, as [`NodeServices::register_global`]
    /// names it.
    fn join_group(&self, group: &str, actor: ActorEntry) -> Result<(), String>;
}

/// The registration [`NodeServices::register_global`] starts: `Err` says why it failed.
pub(crate) type Registering = super::BoxFuture<'static, Result<(), String>>;

/// An actor as the registry records it, without its type: what the layers above the actor
/// layer need to register a supervisor's child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActorEntry {
    pub(crate) id: ActorId,
    pub(crate) fingerprint: u64,
    pub(crate) type_name: &'static str,
}

pub(crate) struct NodeInner {
    id: NodeId,
    name: String,
    next_local: AtomicU64,
    actors: Mutex<BTreeMap<u64, Arc<dyn AnyCell>>>,
    shutting_down: AtomicBool,
    stats: Arc<NodeStats>,
    meters: NodeMeters,
    /// What the actors of each type spawned here share; one entry per type, so a short
    /// list searched by the name's address.
    types: Mutex<Vec<Arc<TypeShared>>>,
    services: Arc<dyn NodeServices>,
    /// The runtime of the node's first dormant actor: the starters of later dormant actors
    /// of that runtime need not carry a handle of their own (see `spawn_actor`).
    home: OnceLock<tokio::runtime::Handle>,
}

/// A runtime instance hosting actors. Cheap to clone; clones share the node.
///
/// ```
/// use distribute::prelude::*;
///
/// #[actor]
/// #[derive(Default)]
/// struct Counter { n: u64 }
///
/// #[actor]
/// impl Counter {
///     #[message] fn add(&mut self, by: u64) { self.n += by }
///     #[message] fn get(&self) -> u64 { self.n }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = Node::new();
/// let counter = node.spawn(Counter::default()).await?;
/// counter.add(5).await?;
/// assert_eq!(counter.get().await?, 5);
/// node.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    inner: Arc<NodeInner>,
}

impl Node {
    /// A node with identity `id` and `name`, and what the layers above attach to it.
    pub(crate) fn with_services(id: NodeId, name: String, services: Arc<dyn NodeServices>) -> Self {
        let meters = NodeMeters::new(&name);
        Node {
            inner: Arc::new(NodeInner {
                id,
                name,
                next_local: AtomicU64::new(1),
                actors: Mutex::new(BTreeMap::new()),
                shutting_down: AtomicBool::new(false),
                stats: Arc::new(NodeStats::default()),
                meters,
                types: Mutex::default(),
                services,
                home: OnceLock::new(),
            }),
        }
    }

    /// This node's identity.
    pub fn id(&self) -> NodeId {
        self.inner.id
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Spawns `actor` with default options and waits until its `started` hook has returned.
    ///
    /// An actor without a `started` hook returns at once and starts dormant: its task is
    /// spawned by the first message, signal (stop, link, monitor) or kill it receives, so
    /// spawning is cheap and an actor that is never used holds only its shared state (about
    /// half a kilobyte). Nothing else differs: it is alive, counted, and stopped by
    /// [`Node::shutdown`].
    ///
    /// Fails with [`SpawnError::StartFailed`] if the hook returned an error or panicked,
    /// [`SpawnError::NodeShuttingDown`] during a shutdown, and [`SpawnError::NoRuntime`]
    /// outside a tokio runtime.
    pub async fn spawn<A: Actor>(&self, actor: A) -> Result<ActorRef<A>, SpawnError> {
        self.spawn_with(actor, SpawnOptions::default()).await
    }

    /// Spawns `actor` with `options`; see [`Node::spawn`].
    pub async fn spawn_with<A: Actor>(
        &self,
        actor: A,
        options: SpawnOptions,
    ) -> Result<ActorRef<A>, SpawnError> {
        let span = crate::trace::trace_span!(
            debug,
            "spawn",
            actor_type = A::NAME,
            actor = crate::trace::Empty,
            outcome = crate::trace::Empty
        );
        let spawned = span
            .clone()
            .instrument(self.spawn_started(actor, options, &span))
            .await;
        match &spawned {
            Ok(_) => span.record("outcome", "ok"),
            Err(error) => span.record_display("outcome", error),
        }
        spawned
    }

    /// Spawns `actor` and waits for its `started` hook, if it has one.
    async fn spawn_started<A: Actor>(
        &self,
        actor: A,
        options: SpawnOptions,
        span: &crate::trace::Span,
    ) -> Result<ActorRef<A>, SpawnError> {
        let (cell, started) = spawn_actor(self, actor, options, None)?;
        let actor_ref = ActorRef::from_cell(cell);
        span.record_display("actor", &actor_ref.id());
        if let Some(started) = started {
            let outcome = started.await.unwrap_or(Err(ExitReason::Killed));
            if let Err(reason) = outcome {
                return Err(SpawnError::StartFailed {
                    actor: actor_ref.id(),
                    reason,
                });
            }
        }
        Ok(actor_ref)
    }

    /// How many actors are running on this node.
    pub fn actor_count(&self) -> usize {
        self.actors().len()
    }

    /// The node's counters.
    pub fn stats(&self) -> Arc<NodeStats> {
        Arc::clone(&self.inner.stats)
    }

    /// The node's metric handles.
    pub(crate) fn meters(&self) -> &NodeMeters {
        &self.inner.meters
    }

    /// What this node's actors of type `name` share, made on first use.
    pub(crate) fn type_shared(&self, name: &'static str) -> Arc<TypeShared> {
        let mut types = crate::lock::lock(&self.inner.types);
        // Types are told apart by their name's address first (one comparison), then by
        // the name: two types of the same name share their metrics' labels anyway.
        let found = types
            .iter()
            .find(|shared| std::ptr::eq(shared.meters.actor(), name))
            .or_else(|| types.iter().find(|shared| shared.meters.actor() == name));
        if let Some(shared) = found {
            return Arc::clone(shared);
        }
        let shared = Arc::new(TypeShared {
            stats: Arc::clone(&self.inner.stats),
            meters: self.inner.meters.actor(name),
        });
        types.push(Arc::clone(&shared));
        shared
    }

    /// Whether [`Node::shutdown`] has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    /// Stops every actor, newest first, each with [`ExitReason::Shutdown`] and up to `timeout`
    /// to run its `stopped` hook before it is killed; supervised actors after the others (a
    /// supervisor stops its own children in its order). Spawns fail from now on.
    pub(crate) async fn stop_actors(&self, timeout: Duration) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let actors: Vec<Arc<dyn AnyCell>> = self.actors().values().rev().cloned().collect();
        crate::trace::trace_event!(debug, node = %self.name(), actors = actors.len(), "node shutting down");
        let (roots, supervised): (Vec<_>, Vec<_>) = actors.into_iter().partition(|c| !c.core().supervised);
        for cell in roots.iter().chain(supervised.iter()) {
            let core = cell.core();
            if !core.is_alive() {
                continue;
            }
            let _ = core.signal(Signal::Stop(ExitReason::Shutdown));
            if tokio::time::timeout(timeout, core.wait_for_stop()).await.is_err() {
                crate::trace::trace_event!(warn, actor = %core.id, name = core.name(), "actor did not stop in time; killing it");
                core.kill();
                let _ = tokio::time::timeout(timeout, core.wait_for_stop()).await;
            }
        }
    }

    pub(crate) fn next_actor_id(&self) -> ActorId {
        ActorId::new(
            self.inner.id,
            self.inner.next_local.fetch_add(1, Ordering::Relaxed),
        )
    }

    pub(crate) fn remember(&self, cell: Arc<dyn AnyCell>) -> Result<(), SpawnError> {
        let mut actors = self.actors();
        // Checked under the lock, so shutdown's snapshot contains every actor it must stop.
        if self.is_shutting_down() {
            return Err(SpawnError::NodeShuttingDown);
        }
        cell.core().shared.meters.spawned();
        actors.insert(cell.core().id.local(), cell);
        Ok(())
    }

    pub(crate) fn forget(&self, id: ActorId) {
        let removed = self.actors().remove(&id.local());
        if let Some(cell) = removed {
            cell.core().shared.meters.stopped();
        }
        self.inner.services.actor_exited(id);
    }

    /// What the layers above attached to this node.
    pub(crate) fn services(&self) -> &dyn NodeServices {
        &*self.inner.services
    }

    /// The peer hosting node `node`'s actors; `None` without networking.
    pub(crate) fn peer(&self, node: NodeId) -> Option<Arc<dyn RemotePeer>> {
        self.inner.services.peer(node)
    }

    /// Whether `runtime` is the node's home runtime (see `NodeInner::home`); the first
    /// caller makes its runtime the home.
    pub(crate) fn is_home(&self, runtime: &tokio::runtime::Handle) -> bool {
        self.inner.home.get_or_init(|| runtime.clone()).id() == runtime.id()
    }

    /// The node's home runtime, once [`is_home`](Self::is_home) has set it.
    pub(crate) fn home(&self) -> Option<&tokio::runtime::Handle> {
        self.inner.home.get()
    }

    pub(crate) fn downgrade(&self) -> WeakNode {
        WeakNode(Arc::downgrade(&self.inner))
    }

    /// The cell of the local actor `id`, if it runs on this node.
    pub(crate) fn local_cell(&self, id: ActorId) -> Option<Arc<dyn AnyCell>> {
        if id.node() != self.id() {
            return None;
        }
        self.local_cell_numbered(id.local())
    }

    pub(crate) fn local_cell_numbered(&self, local: u64) -> Option<Arc<dyn AnyCell>> {
        self.actors().get(&local).cloned()
    }

    /// A ref to the local actor `id`, or to a stopped actor if it is gone (or is not an `A`).
    pub(crate) fn local_ref<A: Actor>(&self, id: ActorId) -> ActorRef<A> {
        let typed = self
            .local_cell(id)
            .and_then(|cell| cell.into_any().downcast::<Cell<A>>().ok());
        match typed {
            Some(cell) => ActorRef::from_cell(cell),
            None => ActorRef::from_cell(Arc::new(Cell::<A>::dead(id, self.stats()))),
        }
    }

    /// The cells of the live actors, oldest first, at most `limit` of them, and how many
    /// there are in all.
    pub(crate) fn cells(&self, limit: usize) -> (Vec<Arc<dyn AnyCell>>, usize) {
        let actors = self.actors();
        (actors.values().take(limit).cloned().collect(), actors.len())
    }

    /// The cells of the live actors that `keep` selects, oldest first, at most `limit`.
    /// `keep` runs under the table's lock: it must be quick and must not touch the table.
    pub(crate) fn cells_where(
        &self,
        limit: usize,
        keep: impl Fn(&dyn AnyCell) -> bool,
    ) -> Vec<Arc<dyn AnyCell>> {
        self.actors()
            .values()
            .filter(|cell| keep(&***cell))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Messages handled by the node's actors since it started: those of actors gone, plus
    /// what the live ones have published (each publishes once per batch of messages).
    pub(crate) fn messages_handled(&self) -> u64 {
        let live: u64 = self
            .actors()
            .values()
            .map(|cell| cell.core().handled())
            .fold(0, u64::saturating_add);
        live.saturating_add(self.inner.stats.handled_by_gone())
    }

    fn actors(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<dyn AnyCell>>> {
        lock(&self.inner.actors)
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.inner.id)
            .field("name", &self.inner.name)
            .finish()
    }
}

/// A node that does not keep the node alive, held by its network tasks and peers.
#[derive(Clone)]
pub(crate) struct WeakNode(Weak<NodeInner>);

impl WeakNode {
    pub(crate) fn upgrade(&self) -> Option<Node> {
        self.0.upgrade().map(|inner| Node { inner })
    }
}
