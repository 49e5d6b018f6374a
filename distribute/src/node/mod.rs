//! The facade: [`Node`] as users see it, built from the layers below and wired together.
//!
//! A node needs no configuration: `Node::new()` inside a tokio runtime is enough to spawn
//! actors (the local runtime, in `crate::actor`). [`Node::builder`] makes a networked node:
//! the builder ([`builder`]) owns the configuration of the network and of the registry, starts
//! the network layer and registers the registry's frame handler with it. The cluster's
//! methods of `Node` are all in this module: connecting, peers, events and node-local names
//! here, the cluster-wide registry and process groups in `registry.rs`; the local runtime's
//! (spawning, counting, shutting down actors) are the actor layer's.

mod builder;
mod introspect;
mod outbox;
// The introspection wire format, for the fuzz entry point.
pub(crate) use introspect::wire as introspect_wire;
mod registry;
pub(crate) mod remote_child;
pub(crate) mod spawn;

use std::any::Any;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use crate::actor::{Node, NodeStats, SpawnOptions, DEFAULT_SHUTDOWN_TIMEOUT};
pub use builder::NodeBuilder;

use crate::actor::{
    Actor, ActorEntry, ActorId, ActorRef, BoxFuture, Message, NodeId, NodeServices, RemotePeer, WeakNode,
};
use crate::membership::gossip::Gossip;
use crate::membership::MemberInfo;
use crate::net::wire::{Control, FoundActor};
use crate::net::{ConnectError, Net, NetStats, NodeEvents, PeerInfo};
use crate::registry::{validate_name, LocalNames, RegistryDriver, RegistryError, RegistryHost};

/// What a node has beyond its local runtime: its names, its part of the cluster-wide
/// registry, and its network, once started.
pub(crate) struct Services {
    names: LocalNames,
    registry: RegistryDriver,
    /// Registry frames paced behind a replica going out in parts.
    outbox: Arc<outbox::Outbox>,
    net: OnceLock<Arc<Net>>,
    /// The cluster's membership as this node runs it, if it does.
    gossip: OnceLock<Arc<Gossip>>,
    /// The actor types peers may start here, and this node's spawn requests to peers.
    spawn: Arc<spawn::SpawnService>,
    /// Whether peers may introspect this node, their requests, and this node's requests.
    introspect: Arc<introspect::IntrospectService>,
    /// The node these services belong to, for the registry's host (stopping a conflict's
    /// loser); set once, right after the node is made.
    node: OnceLock<WeakNode>,
}

impl Services {
    /// The services of node `id`; the registry reaches the network and the actors through
    /// them (its host), which it must not keep alive.
    fn new(id: NodeId, name: &str) -> Arc<Self> {
        Arc::new_cyclic(|me: &std::sync::Weak<Services>| {
            let host: std::sync::Weak<dyn RegistryHost> = me.clone();
            Services {
                names: LocalNames::default(),
                registry: RegistryDriver::new(id, name, host),
                outbox: Arc::default(),
                net: OnceLock::new(),
                gossip: OnceLock::new(),
                spawn: Arc::default(),
                introspect: Arc::default(),
                node: OnceLock::new(),
            }
        })
    }
}

impl NodeServices for Services {
    fn peer(&self, node: NodeId) -> Option<Arc<dyn RemotePeer>> {
        let slot = self.net.get()?.slot(node);
        Some(slot)
    }

    fn actor_exited(&self, id: ActorId) {
        self.names.forget_owner(id);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn register_global(&self, name: String, actor: ActorEntry) -> BoxFuture<'static, Result<(), String>> {
        let node = self.node.get().and_then(WeakNode::upgrade);
        Box::pin(async move {
            let node = node.ok_or("the node is gone")?;
            validate_name(&name).map_err(|error| error.to_string())?;
            registry::check_type_name_of(actor.type_name).map_err(|error| error.to_string())?;
            node.register_entry(&name, registry::entry(actor))
                .await
                .map_err(|error| error.to_string())
        })
    }

    fn join_group(&self, group: &str, actor: ActorEntry) -> Result<(), String> {
        let node = self
            .node
            .get()
            .and_then(WeakNode::upgrade)
            .ok_or("the node is gone")?;
        validate_name(group).map_err(|error| error.to_string())?;
        registry::check_type_name_of(actor.type_name).map_err(|error| error.to_string())?;
        let cell = node.local_cell(actor.id).ok_or("the actor has stopped")?;
        let (monitor, watcher) = crate::actor::Monitor::new(actor.id);
        cell.core().add_watcher(watcher);
        node.join_entry(group, registry::entry(actor), monitor)
            .map_err(|error| error.to_string())
    }
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
        let services = Services::new(id, &name);
        let node = Node::with_services(id, name, Arc::clone(&services) as Arc<dyn NodeServices>);
        let _ = services.node.set(node.downgrade());
        node
    }

    /// What this module attached to the node. Every node is made by this module with its
    /// `Services`; the detached fallback exists only so that no path can panic.
    fn attached(&self) -> &Services {
        static DETACHED: OnceLock<Arc<Services>> = OnceLock::new();
        self.services()
            .as_any()
            .downcast_ref::<Services>()
            .unwrap_or_else(|| DETACHED.get_or_init(|| Services::new(self.id(), self.name())))
    }

    /// Stops every actor, newest first, each with [`ExitReason::Shutdown`](crate::ExitReason::Shutdown)
    /// and up to [`DEFAULT_SHUTDOWN_TIMEOUT`] to run its `stopped` hook before it is killed.
    /// Supervised actors are left to their supervisors, which stop them in their own order.
    /// New spawns fail from the moment this is called. A networked node then says goodbye to
    /// its peers and closes its connections.
    pub async fn shutdown(&self) {
        self.shutdown_timeout(DEFAULT_SHUTDOWN_TIMEOUT).await;
    }

    /// Like [`Node::shutdown`] with a custom per-actor timeout.
    pub async fn shutdown_timeout(&self, timeout: Duration) {
        self.stop_actors(timeout).await;
        if let Some(net) = self.net() {
            net.close().await;
        }
    }

    /// Registers `actor` under `name` on this node. The name is released when the actor stops
    /// for good (not on a supervised restart, which keeps the ref).
    ///
    /// Fails with [`RegistryError::InvalidName`], [`RegistryError::AlreadyRegistered`] (with
    /// the current owner) or [`RegistryError::ActorStopped`].
    pub fn register_local<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        self.attached().names.register(name, actor)
    }

    /// The actor registered under `name` on this node, as an `A`: [`RegistryError::NotFound`]
    /// if there is none, [`RegistryError::TypeMismatch`] if it is of another type.
    pub fn lookup_local<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, RegistryError> {
        self.attached().names.lookup(name)
    }

    /// Releases `name`, which `owner` must hold ([`RegistryError::NotOwner`] otherwise).
    pub fn unregister_local(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        self.attached().names.unregister(name, owner)
    }

    /// Every name registered on this node, sorted.
    pub fn local_names(&self) -> Vec<String> {
        self.attached().names.names()
    }

    // ---- networking ----

    /// A builder for a networked node: name, listen address, cookie, peers.
    pub fn builder() -> NodeBuilder {
        NodeBuilder::default()
    }

    pub(crate) fn attach_net(&self, net: Arc<Net>) {
        let _ = self.attached().net.set(net);
    }

    pub(crate) fn attach_gossip(&self, gossip: Arc<Gossip>) {
        let _ = self.attached().gossip.set(gossip);
    }

    /// The other nodes the cluster's membership counts in, by id: those that joined and
    /// have not left nor been declared down (they answered no probe, directly or through
    /// other members, for the suspicion time). Empty for a node without membership (one
    /// without networking, or whose transport has no datagrams, or built with
    /// [`membership(false)`](crate::NodeBuilder::membership)).
    pub fn cluster_members(&self) -> Vec<MemberInfo> {
        self.attached()
            .gossip
            .get()
            .map(|gossip| gossip.members())
            .unwrap_or_default()
    }

    /// Membership packets this node refused: not sealed with the cluster's key, malformed
    /// or oversize.
    pub fn membership_packets_refused(&self) -> u64 {
        self.attached().gossip.get().map_or(0, |gossip| gossip.refused())
    }

    /// This node's remote spawns.
    pub(crate) fn spawner(&self) -> &Arc<spawn::SpawnService> {
        &self.attached().spawn
    }

    pub(crate) fn net(&self) -> Option<Arc<Net>> {
        self.attached().net.get().cloned()
    }

    /// Where this node listens; `None` for a node without networking (`Node::new`).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.attached().net.get().map(|net| net.listen)
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
        net.connect(addr).await
    }

    /// The nodes up now, sorted by id: those connected, and with a membership, every member
    /// (connected on demand; [`PeerInfo::connected`] says whether a connection is open).
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
                        connected: slot.has_connection(),
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
        let answer = crate::actor::deadline::within(timeout, rx).await;
        slot.forget_lookup(request);
        let found = match answer {
            Some(Ok(found)) => found,
            Some(Err(_)) => return Err(RegistryError::NodeDown { node }),
            None => return Err(RegistryError::Timeout { node, timeout }),
        };
        let found = found.ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })?;
        let expected = <A::Msg as Message>::FINGERPRINT;
        if found.fingerprint != expected {
            let found_name =
                crate::registry::found_type((&found.type_name, found.fingerprint), (A::NAME, expected));
            return Err(RegistryError::TypeMismatch {
                name: name.to_owned(),
                expected: A::NAME,
                found: found_name,
            });
        }
        Ok(ActorRef::remote(found.id, slot))
    }

    /// What the node-local registry holds under `name`, as told to other nodes.
    pub(crate) fn whereis_local(&self, name: &str) -> Option<FoundActor> {
        self.attached().names.whereis(name)
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new()
    }
}
