//! Nodes on a network: configuration, connections, node events.
//!
//! A networked node listens on TCP (127.0.0.1 with a port from the OS unless told
//! otherwise). With the membership (the default where the transport has datagrams), the
//! membership says which nodes are in the cluster and when one is dead; a node connects to
//! a member when it first sends it something (a message, a call, a monitor, a registry
//! update), closes a connection idle for the idle timeout, and opens a new one when next
//! needed (see `keeper.rs`). A connection that breaks is not a node down while the member
//! is counted in: calls in flight on it fail with `ConnectionLost`, and what is queued waits
//! for the next connection, which also carries the monitors and links again. Without a
//! membership, a node keeps one connection to every node it knows, a full mesh as in
//! Erlang: when two nodes connect they introduce the other nodes they know, and connect to
//! those.
//! Each connection starts with the handshake (`crate::transport::handshake`), which proves on
//! both sides that the peer holds the cluster's cookie without sending it, then carries
//! length-prefixed frames (`crate::transport::frame`):
//!
//! - one queue per peer, bounded in bytes: senders of messages wait when it is full, so a
//!   slow peer backpressures them instead of growing memory;
//! - one writer per connection that sends everything queued since its last write in one
//!   syscall, and a heartbeat when it has had nothing to send for a while;
//! - one reader per connection that delivers messages in order (FIFO per pair of nodes)
//!   and closes the connection, with a typed and logged reason, at the first malformed or
//!   oversize frame, or when the peer has been silent longer than the heartbeat timeout;
//! - two nodes that connect to each other at the same moment keep the connection opened
//!   by the node with the lower id, on both sides, without losing what was sent on the
//!   other;
//! - a node down (declared by the membership; without one, a lost connection) fails the
//!   calls waiting on it with `NodeDown` at once, fires monitors and links with
//!   [`ExitReason::NodeDown`](crate::ExitReason::NodeDown) and emits
//!   [`NodeEvent::NodeDown`]; without a membership the connection is re-established with
//!   exponential backoff.
//!
//! Every peer may be hostile, cookie or not, so everything a peer can make a node keep has
//! a bound (configured on the [`NodeBuilder`](crate::NodeBuilder)):
//!
//! - everything queued for a peer (messages, calls, replies, control and registry frames)
//!   counts against its one byte bound; past it (plus a frame) the node stops reading from
//!   the peer, and past a hard ceiling it disconnects it as
//!   [`NodeDownReason::Overloaded`] (see `queue.rs`);
//! - a peer speaks only for its own actors: a link, exit, monitor or DOWN naming another
//!   node's actor as the peer's is ignored and counted; the links and monitors a peer's
//!   actors hold on ours are capped per peer and dropped when it goes;
//! - no state is kept for a node id a peer merely mentions: a slot for a node this node is
//!   not connected to lives only as long as a ref to it; introductions dial a few new nodes
//!   per frame, a bounded number at a time (see `introduce.rs`);
//! - pending handshakes are capped per listener, the oldest dropped to make room, so idle
//!   sockets cannot lock real peers out (see `pending.rs`);
//! - a connection announcing the id of a node known under another name, or of a node
//!   connected for longer than a simultaneous connect takes, is refused
//!   ([`ConnectError::IdInUse`]); a second connection this node dials to a connected node
//!   is closed and the existing one kept.

mod connection;
mod control;
mod dispatch;
mod error;
mod events;
mod handshake;
mod introduce;
mod keeper;
mod peer;
mod pending;
mod queue;
mod reader;
mod reconnect;
mod remote;
mod stats;
mod stopped;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
pub(crate) mod wire;
mod writer;

pub(crate) use dispatch::{FrameHandler, FrameHandlers};
pub use error::{ConnectError, StartError};
pub use events::{NodeDownReason, NodeEvent, NodeEvents, PeerInfo};
pub(crate) use peer::PeerSlot;
pub use reconnect::Reconnect;
pub use stats::NetStats;
pub(crate) use stats::PeerTraffic;
#[cfg(feature = "tls")]
pub(crate) use tls::TlsTransport;
pub use transport::{
    Accepted, Connection, DatagramSocket, Listener, MemoryTransport, ReadHalf, TcpTransport, Transport,
    TransportError, TransportFuture,
};
pub(crate) use wire::FoundActor;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::actor::{NodeId, WeakNode};
use crate::lock::lock;

/// The environment variable a node reads its cookie from when none is given.
pub const COOKIE_ENV: &str = "DISTRIBUTE_COOKIE";

/// Default bound of a peer's send queue: 8 MiB of encoded frames.
pub const DEFAULT_SEND_QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// Default interval between heartbeats on an idle connection.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// Default silence after which a peer is declared down.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default bound on connecting and completing the handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a member's connection that was cut by membership may still bring the peer's
/// goodbye before it is reported as declared down.
const GOODBYE_GRACE: Duration = Duration::from_millis(500);

/// Default time a member's connection may carry nothing before it is closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default cap on the links one peer's actors may hold on this node's actors.
pub const DEFAULT_MAX_LINKS_PER_PEER: usize = 10_000;

/// Default cap on the monitors one peer's actors may hold on this node's actors.
pub const DEFAULT_MAX_MONITORS_PER_PEER: usize = 10_000;

/// Default cap on the incoming connections of a listener that have not finished their
/// handshake.
pub const DEFAULT_MAX_PENDING_HANDSHAKES: usize = 256;

/// The per-peer and per-listener caps of a node, set on the
/// [`NodeBuilder`](crate::NodeBuilder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerLimits {
    /// Links a peer's actors may hold on ours; past it a link is answered with an exit.
    pub(crate) max_links: usize,
    /// Monitors a peer's actors may hold on ours; past it a monitor is answered with a DOWN.
    pub(crate) max_monitors: usize,
    /// Incoming connections still in their handshake; past it the oldest is dropped.
    pub(crate) max_pending_handshakes: usize,
}

impl Default for PeerLimits {
    fn default() -> Self {
        PeerLimits {
            max_links: DEFAULT_MAX_LINKS_PER_PEER,
            max_monitors: DEFAULT_MAX_MONITORS_PER_PEER,
            max_pending_handshakes: DEFAULT_MAX_PENDING_HANDSHAKES,
        }
    }
}

#[derive(Clone)]
pub(crate) struct NetConfig {
    pub(crate) name: String,
    pub(crate) cookie: Vec<u8>,
    pub(crate) max_frame: usize,
    pub(crate) send_queue_bytes: usize,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) reconnect: Option<Reconnect>,
    pub(crate) limits: PeerLimits,
    /// The address told to peers, if not the one bound (port 0: the bound port).
    pub(crate) advertise: Option<SocketAddr>,
    /// How long a member's connection may carry nothing before it is closed (reopened when
    /// next needed); `None`: never.
    pub(crate) idle_timeout: Option<Duration>,
}

/// Answers a peer's question "which actor holds this name here?" from the node's own names.
pub(crate) type Whereis = Box<dyn Fn(&str) -> Option<FoundActor> + Send + Sync>;

/// What the node plugs into its network: the transport, the handlers of the frame kinds the
/// network does not own, and its node-local names.
pub(crate) struct Wiring {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) handlers: FrameHandlers,
    pub(crate) whereis: Whereis,
}

/// The networking state of a node.
pub(crate) struct Net {
    pub(crate) config: NetConfig,
    pub(crate) listen: SocketAddr,
    /// Where this node tells peers it listens: the advertised address, or the bound one. An
    /// unspecified IP (bound to every interface, nothing advertised) is completed by each
    /// peer with the IP it sees the node connect from.
    pub(crate) advertised: SocketAddr,
    pub(crate) id: NodeId,
    pub(crate) node: WeakNode,
    transport: Arc<dyn Transport>,
    pub(crate) handlers: FrameHandlers,
    whereis: Whereis,
    /// This `Net`, for the tasks it spawns.
    me: std::sync::Weak<Net>,
    /// The slots of the nodes that connected and have not gone (or are being reconnected).
    peers: Mutex<HashMap<NodeId, Arc<PeerSlot>>>,
    /// Slots of other nodes, kept alive only by the refs (and reconnect loops) that hold them.
    strangers: Mutex<Strangers<PeerSlot>>,
    /// Nodes that peers introduced and this node is dialling.
    pub(crate) dials: Mutex<introduce::Dials>,
    /// The members the node's membership counts in, and where they listen; empty when it
    /// runs none.
    members: Mutex<HashMap<NodeId, SocketAddr>>,
    /// Whether a membership runs: then it, not a connection, says when a member is down.
    membership: std::sync::atomic::AtomicBool,
    events: broadcast::Sender<NodeEvent>,
    pub(crate) stats: Arc<NetStats>,
    next_connection: AtomicU64,
    closing: watch::Sender<bool>,
    /// Writers still running, so that `close` can wait for the goodbyes to be written.
    writers: watch::Sender<usize>,
}

impl Net {
    /// Starts the network of a node: listens with the wiring's transport at `listen`, and
    /// accepts connections until the node closes. Returns the network and where it listens.
    pub(crate) async fn start(
        config: NetConfig,
        listen: SocketAddr,
        node: WeakNode,
        id: NodeId,
        wiring: Wiring,
    ) -> Result<Arc<Net>, StartError> {
        let bind = |error: std::io::Error| StartError::Bind {
            addr: listen,
            error: error.to_string(),
        };
        let listener = wiring.transport.listen(listen).await.map_err(bind)?;
        let bound = listener.local_addr();
        let advertised = match config.advertise {
            Some(addr) if addr.port() == 0 => SocketAddr::new(addr.ip(), bound.port()),
            Some(addr) => addr,
            None => bound,
        };
        let net = Arc::new_cyclic(|me| Net {
            config,
            listen: bound,
            advertised,
            id,
            node,
            transport: wiring.transport,
            handlers: wiring.handlers,
            whereis: wiring.whereis,
            me: me.clone(),
            peers: Mutex::new(HashMap::new()),
            strangers: Mutex::new(Strangers::default()),
            dials: Mutex::new(introduce::Dials::default()),
            members: Mutex::new(HashMap::new()),
            membership: std::sync::atomic::AtomicBool::new(false),
            events: broadcast::channel(1024).0,
            stats: Arc::new(NetStats::default()),
            next_connection: AtomicU64::new(1),
            closing: watch::channel(false).0,
            writers: watch::channel(0).0,
        });
        tokio::spawn(connection::accept_loop(Arc::clone(&net), listener));
        Ok(net)
    }

    fn this(&self) -> Option<Arc<Net>> {
        self.me.upgrade()
    }

    fn peers(&self) -> MutexGuard<'_, HashMap<NodeId, Arc<PeerSlot>>> {
        lock(&self.peers)
    }

    /// The slot of node `id`, for a ref to one of its actors: the peer's if it is connected,
    /// else a slot (down) that lives only as long as someone holds it, so that the ids a peer
    /// mentions leave nothing behind. If the node connects while the slot lives, the
    /// connection adopts it and the refs work.
    pub(crate) fn slot(&self, id: NodeId) -> Arc<PeerSlot> {
        // Both locks, in `adopt`'s order, so that a slot is never made twice for one node.
        let peers = self.peers();
        if let Some(slot) = peers.get(&id) {
            return Arc::clone(slot);
        }
        let mut strangers = lock(&self.strangers);
        if let Some(slot) = strangers.get(id) {
            return slot;
        }
        let slot = self.new_slot(id);
        strangers.insert(id, &slot);
        slot
    }

    /// The slot of node `id` for a connection that announced it: kept from now on, until
    /// the peer goes down for good ([`release`](Self::release)).
    pub(crate) fn adopt(&self, id: NodeId) -> Arc<PeerSlot> {
        let mut peers = self.peers();
        if let Some(slot) = peers.get(&id) {
            return Arc::clone(slot);
        }
        let slot = lock(&self.strangers)
            .take(id)
            .unwrap_or_else(|| self.new_slot(id));
        peers.insert(id, Arc::clone(&slot));
        slot
    }

    /// The peer of `slot` went down: its slot is kept only as long as refs (or a reconnect
    /// loop) hold it, unless it came back up in the meantime.
    pub(crate) fn release(&self, slot: &Arc<PeerSlot>) {
        let mut peers = self.peers();
        if slot.has_connection() || !peers.get(&slot.id).is_some_and(|kept| Arc::ptr_eq(kept, slot)) {
            return;
        }
        peers.remove(&slot.id);
        lock(&self.strangers).insert(slot.id, slot);
    }

    fn new_slot(&self, id: NodeId) -> Arc<PeerSlot> {
        Arc::new(PeerSlot::new(
            id,
            self.node.clone(),
            &self.config,
            Arc::clone(&self.stats),
        ))
    }

    /// The slot of node `id` if this node knows it, up or not: frames queued for a peer that
    /// is down are dropped by its closed queue.
    pub(crate) fn known_slot(&self, id: NodeId) -> Option<Arc<PeerSlot>> {
        self.peers().get(&id).cloned()
    }

    pub(crate) fn connected_slot(&self, id: NodeId) -> Option<Arc<PeerSlot>> {
        self.peers().get(&id).filter(|slot| slot.is_up()).cloned()
    }

    pub(crate) fn connected(&self) -> Vec<Arc<PeerSlot>> {
        let mut up: Vec<_> = self
            .peers()
            .values()
            .filter(|slot| slot.is_up())
            .cloned()
            .collect();
        up.sort_by_key(|slot| slot.id);
        up
    }

    /// Whether connecting waits for the peer's greeting: only a handler can complete one.
    fn awaits_greeting(&self) -> bool {
        !self.handlers.is_empty()
    }

    fn whereis(&self, name: &str) -> Option<FoundActor> {
        (self.whereis)(name)
    }

    pub(crate) fn next_connection(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn emit(&self, event: NodeEvent) {
        let _ = self.events.send(event);
    }

    pub(crate) fn subscribe(&self) -> NodeEvents {
        NodeEvents::new(self.events.subscribe())
    }

    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub(crate) fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Counts a writer in until the returned guard is dropped.
    pub(crate) fn writer_started(self: &Arc<Self>) -> WriterGuard {
        self.writers.send_modify(|n| *n += 1);
        WriterGuard(Arc::clone(self))
    }

    /// Says goodbye to every peer, then closes every connection and the listener. Waits (up
    /// to a second) for the writers to flush what is queued, the goodbyes included, so that
    /// peers learn of an orderly shutdown even if the process exits right after.
    pub(crate) async fn close(&self) {
        for slot in self.connected() {
            slot.send_control(&wire::Control::Goodbye);
        }
        self.closing.send_replace(true);
        self.writers_flushed().await;
    }

    /// Waits (up to a second) until every writer has flushed and stopped.
    pub(crate) async fn writers_flushed(&self) {
        let mut writers = self.writers.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(1), writers.wait_for(|n| *n == 0)).await;
    }

    /// Binds a datagram socket at `addr` with the node's transport (for membership gossip).
    pub(crate) async fn bind_datagram(&self, addr: SocketAddr) -> std::io::Result<Box<dyn DatagramSocket>> {
        self.transport.bind_datagram(addr).await
    }

    /// Whether `addr` is where this node listens, as bound or as advertised.
    pub(crate) fn is_me(&self, addr: SocketAddr) -> bool {
        addr == self.listen || addr == self.advertised
    }

    /// From now on a membership says which nodes are up (see [`member_up`](Self::member_up)).
    pub(crate) fn enable_membership(&self) {
        self.membership.store(true, Ordering::Release);
    }

    /// Whether a membership runs on this node.
    pub(crate) fn runs_membership(&self) -> bool {
        self.membership.load(Ordering::Acquire)
    }

    /// Whether the membership counts `id` in.
    pub(crate) fn is_member(&self, id: NodeId) -> bool {
        lock(&self.members).contains_key(&id)
    }

    /// Whether `slot`'s node finds the others through a membership: it said so when it
    /// connected, or this node's membership counts it in (it gossips, then, connected or
    /// not). Such nodes are not introduced to each other: an introduction would open
    /// connections the membership does not need.
    pub(crate) fn gossips(&self, slot: &PeerSlot) -> bool {
        slot.gossips() || self.is_member(slot.id)
    }

    /// Where member `id` listens, as the membership knows it.
    pub(crate) fn member_addr(&self, id: NodeId) -> Option<SocketAddr> {
        lock(&self.members).get(&id).copied()
    }

    /// Whether the peer of `slot` stays up although its connection ended for `reason`: a
    /// connection that broke, closed or fell silent says nothing about a node the membership
    /// still counts in (it says so itself when the node is dead).
    pub(crate) fn holds_through(&self, slot: &PeerSlot, reason: &NodeDownReason) -> bool {
        let soft = matches!(
            reason,
            NodeDownReason::ConnectionClosed
                | NodeDownReason::ConnectionError(_)
                | NodeDownReason::HeartbeatTimeout(_)
        );
        soft && !self.is_closing() && !slot.has_departed() && self.is_member(slot.id)
    }

    /// The connection of member `slot` broke while the membership still counts it in (see
    /// [`holds_through`](Self::holds_through)): the peer stays up for its actors, but the
    /// frame handlers hear it went, since frames of theirs may have been lost with the
    /// connection: the registry then acts as if the peer were away until the next
    /// connection, which tells the handlers of it again and resynchronises them.
    pub(crate) fn connection_broke(&self, slot: &PeerSlot, connection: u64) -> bool {
        if !slot.detach_soft(connection) {
            return false;
        }
        self.handlers.disconnected(slot.id);
        true
    }

    /// The membership counts node `id` in, listening at `addr`: it is up from now on, and
    /// connected to when something is sent to it.
    pub(crate) fn member_up(&self, id: NodeId, addr: SocketAddr) {
        if id == self.id || self.is_closing() {
            return;
        }
        lock(&self.members).insert(id, addr);
        let slot = self.adopt(id);
        if slot.has_departed() {
            return;
        }
        if slot.listen_addr().is_none() {
            slot.set_listen_addr(Some(addr));
        }
        if !slot.is_up() {
            // The handlers hear of it first (as for a connection), then it counts as up.
            slot.queue.open_unattached();
            self.handlers.connected(id);
            slot.mark_up();
            slot.revived.notify_one();
        }
        self.keep(&slot);
    }

    /// The membership counts node `id` out: it is down, and what waits on it fails with
    /// `NodeDown`. A connection still up is cut after a grace period: a node that left in
    /// order said goodbye on it, and the goodbye may still be on its way.
    pub(crate) fn member_down(&self, id: NodeId) {
        lock(&self.members).remove(&id);
        let Some(slot) = self.known_slot(id) else {
            return;
        };
        if slot.has_connection() {
            let net = self.me.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GOODBYE_GRACE).await;
                // Unless it said goodbye meanwhile, or was counted in again.
                let back = net.upgrade().is_some_and(|net| net.is_member(slot.id));
                if slot.is_up() && !back {
                    slot.cut_because(NodeDownReason::DeclaredDown);
                }
            });
        } else if let Some(broken) = slot.declare_down() {
            if !broken {
                self.handlers.disconnected(id);
            }
            self.peer_down(&slot, NodeDownReason::DeclaredDown);
        }
    }

    /// The peer of `slot` is down for `reason` (its slot was just marked down, and the
    /// frame handlers told): its slot is kept only as long as refs hold it, and `NodeDown`
    /// is emitted.
    pub(crate) fn peer_down(&self, slot: &Arc<PeerSlot>, reason: NodeDownReason) {
        // From now on the slot lives only as long as refs (or the reconnect loop) hold it.
        self.release(slot);
        let name = slot.name();
        match &reason {
            NodeDownReason::ProtocolViolation(_)
            | NodeDownReason::ConnectionError(_)
            | NodeDownReason::Overloaded { .. }
            | NodeDownReason::SignalsOverloaded { .. } => {
                crate::trace::trace_event!(warn, node = %self.config.name, peer = %name, %reason, "node down");
            }
            _ => {
                crate::trace::trace_event!(info, node = %self.config.name, peer = %name, %reason, "node down")
            }
        }
        if let Some(meters) = slot.meters() {
            meters.down.increment(1);
        }
        self.emit(NodeEvent::NodeDown {
            node: slot.id,
            name,
            reason,
        });
    }

    /// Has a keeper look after `slot` (when a membership runs): dial when something waits to
    /// be sent, close the connection when idle.
    pub(crate) fn keep(&self, slot: &Arc<PeerSlot>) {
        if self.runs_membership() && slot.start_keeping() {
            tokio::spawn(keeper::keep(self.me.clone(), Arc::clone(slot)));
        }
    }

    /// Connects to the node listening at `addr`; returns its id once both sides are up.
    pub(crate) async fn connect(self: &Arc<Self>, addr: SocketAddr) -> Result<NodeId, ConnectError> {
        connection::connect(self, addr).await
    }
}

/// The slots of nodes this node is not connected to, held weakly: a ref keeps its slot, and
/// nothing else does. Dead entries are swept whenever the map has doubled since the last
/// sweep, so it stays within twice the live slots (plus a constant).
struct Strangers<T> {
    slots: HashMap<NodeId, std::sync::Weak<T>>,
    sweep_at: usize,
}

impl<T> Default for Strangers<T> {
    fn default() -> Self {
        Strangers {
            slots: HashMap::new(),
            sweep_at: 0,
        }
    }
}

impl<T> Strangers<T> {
    /// Below this many entries, no sweep.
    const MIN_SWEEP: usize = 64;

    fn get(&self, id: NodeId) -> Option<Arc<T>> {
        self.slots.get(&id).and_then(std::sync::Weak::upgrade)
    }

    fn take(&mut self, id: NodeId) -> Option<Arc<T>> {
        self.slots.remove(&id).and_then(|slot| slot.upgrade())
    }

    fn insert(&mut self, id: NodeId, slot: &Arc<T>) {
        self.slots.insert(id, Arc::downgrade(slot));
        if self.slots.len() >= self.sweep_at.max(Self::MIN_SWEEP) {
            self.slots.retain(|_, slot| slot.strong_count() > 0);
            self.slots.shrink_to_fit();
            self.sweep_at = self.slots.len().saturating_mul(2);
        }
    }
}

/// Holds a writer's place in [`Net::writers`].
pub(crate) struct WriterGuard(Arc<Net>);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.0.writers.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Strangers;
    use crate::actor::NodeId;

    #[test]
    fn a_stranger_lives_as_long_as_a_ref_holds_it_and_dead_ones_are_swept() {
        let mut strangers = Strangers::default();
        let held: Vec<_> = (0..10).map(Arc::new).collect();
        for (n, slot) in held.iter().enumerate() {
            strangers.insert(NodeId::from_u64(n as u64), slot);
        }
        // Ids mentioned once and forgotten: their slots die with the last ref.
        for n in 10..100_000u64 {
            strangers.insert(NodeId::from_u64(n), &Arc::new(0));
            assert!(strangers.slots.len() <= 2 * held.len() + Strangers::<i32>::MIN_SWEEP);
        }
        assert_eq!(strangers.get(NodeId::from_u64(3)).as_deref(), Some(&3));
        assert_eq!(strangers.get(NodeId::from_u64(50)), None);
        assert_eq!(strangers.take(NodeId::from_u64(4)).as_deref(), Some(&4));
        assert_eq!(strangers.get(NodeId::from_u64(4)), None);
    }
}
