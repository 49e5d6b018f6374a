//! [`Node`]: a runtime instance that hosts actors.
//!
//! A node needs no configuration: `Node::new()` inside a tokio runtime is enough to spawn
//! actors. It keeps a table of its live actors so that [`Node::shutdown`] can stop them all,
//! newest first, and so that tests can count what is left.

mod registry;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::actor::{spawn_actor, Actor, ActorId, ActorRef, AnyCell, Endpoint, ExitReason, NodeId, Signal};
use crate::actor::{Cell, Message};
use crate::error::SpawnError;
use crate::net::wire::{Control, FoundActor};
use crate::net::{ConnectError, Net, NetStats, NodeBuilder, NodeEvents, PeerInfo};
use crate::registry::{validate_name, LocalNames, RegistryDriver, RegistryError};

/// How long [`Node::shutdown`] lets each actor run its `stopped` hook before killing it.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Counters kept by a node, readable with [`Node::stats`].
#[derive(Debug, Default)]
pub struct NodeStats {
    cells: AtomicUsize,
    spawned: AtomicU64,
}

impl NodeStats {
    pub(crate) fn cell_created(&self) {
        self.cells.fetch_add(1, Ordering::Relaxed);
        self.spawned.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cell_dropped(&self) {
        self.cells.fetch_sub(1, Ordering::Relaxed);
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

pub(crate) struct NodeInner {
    id: NodeId,
    name: String,
    net: OnceLock<Arc<Net>>,
    registry: RegistryDriver,
    next_local: AtomicU64,
    actors: Mutex<BTreeMap<u64, Arc<dyn AnyCell>>>,
    shutting_down: AtomicBool,
    stats: Arc<NodeStats>,
    names: LocalNames,
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
    /// A node with the default configuration, named `"local"`. It needs a tokio runtime
    /// only when it spawns.
    pub fn new() -> Self {
        Self::named("local")
    }

    /// A node with the given name (used in logs).
    pub fn named(name: impl Into<String>) -> Self {
        Self::with_identity(NodeId::fresh(), name.into())
    }

    pub(crate) fn with_identity(id: NodeId, name: String) -> Self {
        Node {
            // The registry reaches the network and the actors through the node (its host),
            // which it must not keep alive.
            inner: Arc::new_cyclic(|inner: &Weak<NodeInner>| NodeInner {
                id,
                name,
                net: OnceLock::new(),
                registry: RegistryDriver::new(id, inner.clone()),
                next_local: AtomicU64::new(1),
                actors: Mutex::new(BTreeMap::new()),
                shutting_down: AtomicBool::new(false),
                stats: Arc::new(NodeStats::default()),
                names: LocalNames::default(),
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
        let (cell, started) = spawn_actor(self, actor, options, None)?;
        let actor_ref = ActorRef::from_cell(cell);
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

    /// Stops every actor, newest first, each with [`ExitReason::Shutdown`] and up to
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`] to run its `stopped` hook before it is killed. Supervised
    /// actors are left to their supervisors, which stop them in their own order. New spawns
    /// fail from the moment this is called.
    pub async fn shutdown(&self) {
        self.shutdown_timeout(DEFAULT_SHUTDOWN_TIMEOUT).await;
    }

    /// Like [`Node::shutdown`] with a custom per-actor timeout.
    pub async fn shutdown_timeout(&self, timeout: Duration) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let actors: Vec<Arc<dyn AnyCell>> = self.actors().values().rev().cloned().collect();
        tracing::debug!(node = %self.name(), actors = actors.len(), "node shutting down");
        // Roots first: stopping a supervisor stops its subtree. Then whatever is left (a
        // supervised actor whose supervisor was already gone).
        let (roots, supervised): (Vec<_>, Vec<_>) = actors.into_iter().partition(|c| !c.core().supervised);
        for cell in roots.iter().chain(supervised.iter()) {
            let core = cell.core();
            if !core.is_alive() {
                continue;
            }
            let _ = core.signal(Signal::Stop(ExitReason::Shutdown));
            if tokio::time::timeout(timeout, core.wait_for_stop()).await.is_err() {
                tracing::warn!(actor = %core.id, name = core.name, "actor did not stop in time; killing it");
                core.kill();
                let _ = tokio::time::timeout(timeout, core.wait_for_stop()).await;
            }
        }
        if let Some(net) = self.net() {
            net.close().await;
        }
    }

    /// Whether [`Node::shutdown`] has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
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
        actors.insert(cell.core().id.local(), cell);
        Ok(())
    }

    pub(crate) fn forget(&self, id: ActorId) {
        self.actors().remove(&id.local());
        self.inner.names.forget_owner(id);
    }

    /// Registers `actor` under `name` on this node. The name is released when the actor stops
    /// for good (not on a supervised restart, which keeps the ref).
    ///
    /// Fails with [`RegistryError::InvalidName`], [`RegistryError::AlreadyRegistered`] (with
    /// the current owner) or [`RegistryError::ActorStopped`].
    pub fn register_local<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        self.inner.names.register(name, actor)
    }

    /// The actor registered under `name` on this node, as an `A`: [`RegistryError::NotFound`]
    /// if there is none, [`RegistryError::TypeMismatch`] if it is of another type.
    pub fn lookup_local<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, RegistryError> {
        self.inner.names.lookup(name)
    }

    /// Releases `name`, which `owner` must hold ([`RegistryError::NotOwner`] otherwise).
    pub fn unregister_local(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        self.inner.names.unregister(name, owner)
    }

    /// Every name registered on this node, sorted.
    pub fn local_names(&self) -> Vec<String> {
        self.inner.names.names()
    }

    // ---- networking ----

    /// A builder for a networked node: name, listen address, cookie, peers.
    pub fn builder() -> NodeBuilder {
        NodeBuilder::default()
    }

    pub(crate) fn attach_net(&self, net: Arc<Net>) {
        let _ = self.inner.net.set(net);
    }

    pub(crate) fn net(&self) -> Option<Arc<Net>> {
        self.inner.net.get().cloned()
    }

    pub(crate) fn downgrade(&self) -> WeakNode {
        WeakNode(Arc::downgrade(&self.inner))
    }

    /// Where this node listens; `None` for a node without networking (`Node::new`).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.inner.net.get().map(|net| net.listen)
    }

    /// Connects to the node listening at `addr` and returns its id once the handshake is
    /// done (at once if it is already connected). The two nodes then also connect to the
    /// nodes the other knows.
    pub async fn connect(&self, addr: SocketAddr) -> Result<NodeId, ConnectError> {
        let net = self.net().ok_or(ConnectError::NotNetworked)?;
        if let Some(up) = net
            .connected()
            .into_iter()
            .find(|slot| slot.listen_addr() == Some(addr))
        {
            return Ok(up.id);
        }
        crate::net::connect(&net, addr).await
    }

    /// The nodes connected now, sorted by id.
    pub fn connected_nodes(&self) -> Vec<PeerInfo> {
        self.net()
            .map(|net| {
                net.connected()
                    .into_iter()
                    .map(|slot| PeerInfo {
                        id: slot.id,
                        name: slot.name(),
                        listen: slot.listen_addr(),
                        queued_bytes: slot.queue.queued_bytes(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Cuts the connection to `node` at once, without a goodbye: what the loss of the
    /// network would do. Calls waiting on it fail with `NodeDown`, monitors and links fire,
    /// and a [`NodeEvent::NodeDown`](crate::NodeEvent::NodeDown) with reason `Disconnected`
    /// is emitted; this node does not reconnect by itself (the peer may). Returns false if
    /// `node` was not connected.
    pub fn disconnect(&self, node: NodeId) -> bool {
        self.net()
            .and_then(|net| net.connected_slot(node))
            .is_some_and(|slot| slot.cut())
    }

    /// Subscribes to node events: `NodeUp`, `NodeDown` with its reason, rejected
    /// connections. Events from before the call are not replayed; a node without networking
    /// gives a stream that ends at once.
    pub fn events(&self) -> NodeEvents {
        match self.net() {
            Some(net) => net.subscribe(),
            None => NodeEvents::closed(),
        }
    }

    /// The network counters; `None` for a node without networking.
    pub fn net_stats(&self) -> Option<Arc<NetStats>> {
        self.net().map(|net| Arc::clone(&net.stats))
    }

    /// The actor registered under `name` in the node-local registry of node `node`, as an
    /// `A`, asked over the network (or read here if `node` is this node). Fails with
    /// [`RegistryError::NotFound`], [`RegistryError::TypeMismatch`] (the actor speaks
    /// another protocol), [`RegistryError::NodeDown`] or [`RegistryError::Timeout`] (after
    /// [`DEFAULT_CALL_TIMEOUT`](crate::DEFAULT_CALL_TIMEOUT)).
    pub async fn lookup_on<A: Actor>(&self, node: NodeId, name: &str) -> Result<ActorRef<A>, RegistryError> {
        validate_name(name)?;
        if node == self.id() {
            return self.lookup_local(name);
        }
        let slot = self
            .net()
            .and_then(|net| net.connected_slot(node))
            .ok_or(RegistryError::NodeDown { node })?;
        let request = slot.next_request();
        let rx = slot.register_lookup(request);
        slot.send_control(&Control::Whereis {
            request,
            name: name.to_owned(),
        });
        let timeout = crate::DEFAULT_CALL_TIMEOUT;
        let answer = tokio::time::timeout(timeout, rx).await;
        slot.forget_lookup(request);
        let found = match answer {
            Ok(Ok(found)) => found,
            Ok(Err(_)) => return Err(RegistryError::NodeDown { node }),
            Err(_) => return Err(RegistryError::Timeout { node, timeout }),
        };
        let found = found.ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })?;
        let expected = <A::Msg as Message>::FINGERPRINT;
        if found.fingerprint != expected {
            // Same name, other protocol (another version of the actor): say which.
            let found_name = if found.type_name == A::NAME {
                format!(
                    "{} of another protocol version ({:#018x}, not {expected:#018x})",
                    found.type_name, found.fingerprint
                )
            } else {
                found.type_name
            };
            return Err(RegistryError::TypeMismatch {
                name: name.to_owned(),
                expected: A::NAME,
                found: intern_type_name(found_name),
            });
        }
        Ok(ActorRef::remote(found.id, slot))
    }

    /// What the node-local registry holds under `name`, as told to other nodes.
    pub(crate) fn whereis_local(&self, name: &str) -> Option<FoundActor> {
        self.inner.names.whereis(name)
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

    fn actors(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<dyn AnyCell>>> {
        crate::lock::lock(&self.inner.actors)
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new()
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

/// Type names of remote actors appear in errors as `&'static str`; the few distinct names
/// a node ever sees are interned once.
pub(crate) fn intern_type_name(name: String) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = crate::lock::lock(&NAMES);
    if let Some(known) = names.iter().find(|known| **known == name) {
        return known;
    }
    if names.len() >= 1024 {
        return "<remote actor>";
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.push(leaked);
    leaked
}
