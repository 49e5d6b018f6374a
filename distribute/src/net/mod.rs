//! Nodes on a network: configuration, connections, node events.
//!
//! A networked node listens on TCP (127.0.0.1 with a port from the OS unless told
//! otherwise) and keeps one connection to every node it knows, a full mesh as in Erlang:
//! when two nodes connect they introduce the other nodes they know, and connect to those.
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
//! - a lost connection fails the calls waiting on it with `NodeDown` at once, fires
//!   monitors and links with [`ExitReason::NodeDown`](crate::ExitReason::NodeDown), emits
//!   [`NodeEvent::NodeDown`] and is re-established with exponential backoff.

mod connection;
mod control;
mod dispatch;
mod handshake;
mod peer;
mod queue;
mod reader;
mod reconnect;
mod remote;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
pub(crate) mod wire;
mod writer;

pub(crate) use dispatch::{FrameHandler, FrameHandlers};
pub(crate) use peer::PeerSlot;
pub use reconnect::Reconnect;
#[cfg(feature = "tls")]
pub(crate) use tls::TlsTransport;
pub use transport::{
    Accepted, Connection, Listener, MemoryTransport, ReadHalf, TcpTransport, Transport, TransportError,
    TransportFuture,
};
pub(crate) use wire::FoundActor;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::actor::{NodeId, WeakNode};
use crate::lock::lock;
use crate::transport::handshake::HandshakeError;

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

/// Counters of a networked node, readable with [`Node::net_stats`](crate::Node::net_stats).
#[derive(Debug, Default)]
pub struct NetStats {
    pub(crate) messages_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    pub(crate) undecodable: AtomicU64,
    pub(crate) mismatched: AtomicU64,
    pub(crate) dead_letters: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) connections_rejected: AtomicU64,
}

impl NetStats {
    /// Messages from other nodes delivered to local mailboxes.
    pub fn messages_in(&self) -> u64 {
        self.messages_in.load(Ordering::Relaxed)
    }

    /// Messages queued for other nodes.
    pub fn messages_out(&self) -> u64 {
        self.messages_out.load(Ordering::Relaxed)
    }

    /// Messages from other nodes dropped because their arguments did not decode.
    pub fn undecodable(&self) -> u64 {
        self.undecodable.load(Ordering::Relaxed)
    }

    /// Messages from other nodes refused for an unknown tag or a different fingerprint.
    pub fn mismatched(&self) -> u64 {
        self.mismatched.load(Ordering::Relaxed)
    }

    /// Messages from other nodes for actors that no longer run here.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }

    /// Bytes read from connections.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Bytes written to connections.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Connections closed before or during their handshake (wrong cookie, garbage, ...).
    pub fn connections_rejected(&self) -> u64 {
        self.connections_rejected.load(Ordering::Relaxed)
    }
}

/// Why a connection to another node ended or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The TCP connection failed.
    #[error("cannot connect to {addr}: {error}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        error: String,
    },
    /// Connecting and the handshake took longer than the handshake timeout.
    #[error("no handshake with {addr} within {timeout:?}")]
    Timeout {
        /// The address.
        addr: SocketAddr,
        /// The timeout.
        timeout: Duration,
    },
    /// The handshake failed: `AuthFailed` for a wrong cookie, `VersionMismatch` for a peer of
    /// another protocol version, `BadMagic` or `Malformed` for something that is not a node.
    #[error("handshake with {addr} failed: {error}")]
    Handshake {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        error: HandshakeError,
    },
    /// A frame in the handshake was oversize or broken.
    #[error("peer {addr} broke the framing during the handshake: {error}")]
    Framing {
        /// The address.
        addr: SocketAddr,
        /// What was wrong.
        error: crate::transport::FrameError,
    },
    /// The TLS handshake failed.
    #[error("TLS with {addr} failed: {error}")]
    Tls {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        error: String,
    },
    /// The address is this node's own.
    #[error("{addr} is this node itself")]
    SelfConnection {
        /// The address.
        addr: SocketAddr,
    },
    /// The node at this address said goodbye (shut down) while the connection was being made;
    /// a node that shut down never comes back under the same id.
    #[error("the node at {addr} has shut down")]
    PeerDeparted {
        /// The address.
        addr: SocketAddr,
    },
    /// This node has no networking (made with `Node::new`), or is shutting down.
    #[error("this node is not networked or is shutting down")]
    NotNetworked,
}

/// Why a peer went down.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeDownReason {
    /// The peer shut down in an orderly way.
    PeerShutdown,
    /// This node is shutting down.
    LocalShutdown,
    /// The connection closed without a goodbye (the peer's process died, say).
    ConnectionClosed,
    /// Reading or writing failed.
    ConnectionError(String),
    /// Nothing arrived for longer than the heartbeat timeout.
    HeartbeatTimeout(Duration),
    /// The peer sent a malformed or oversize frame, or broke the protocol.
    ProtocolViolation(String),
    /// This node cut the connection ([`Node::disconnect`](crate::Node::disconnect)).
    Disconnected,
}

impl fmt::Display for NodeDownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeDownReason::PeerShutdown => f.write_str("the peer shut down"),
            NodeDownReason::LocalShutdown => f.write_str("this node shut down"),
            NodeDownReason::ConnectionClosed => f.write_str("connection closed"),
            NodeDownReason::ConnectionError(error) => write!(f, "connection error: {error}"),
            NodeDownReason::HeartbeatTimeout(timeout) => write!(f, "no heartbeat for {timeout:?}"),
            NodeDownReason::ProtocolViolation(why) => write!(f, "protocol violation: {why}"),
            NodeDownReason::Disconnected => f.write_str("disconnected by this node"),
        }
    }
}

/// Something that happened to this node's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A node is connected (for the first time, or again).
    NodeUp {
        /// Its id.
        node: NodeId,
        /// Its name.
        name: String,
    },
    /// A node is no longer connected.
    NodeDown {
        /// Its id.
        node: NodeId,
        /// Its name.
        name: String,
        /// Why.
        reason: NodeDownReason,
    },
    /// Two sides of a healed partition had registered the same global name: every node kept
    /// `winner` (the lowest owner id) and the node of `loser` stopped it.
    NameConflict {
        /// The name.
        name: String,
        /// The owner that keeps it.
        winner: crate::ActorId,
        /// The owner that lost it.
        loser: crate::ActorId,
    },
    /// An incoming connection was refused (wrong cookie, another version, garbage, ...).
    ConnectionRejected {
        /// The error, with the peer's address.
        error: ConnectError,
    },
}

/// A stream of [`NodeEvent`]s, from [`Node::events`](crate::Node::events).
pub struct NodeEvents {
    rx: broadcast::Receiver<NodeEvent>,
}

impl NodeEvents {
    /// The next event; `None` once the node is gone. A subscriber that fell more than 1024
    /// events behind skips the oldest ones (with a warning).
    pub async fn recv(&mut self) -> Option<NodeEvent> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "node event subscriber lagged behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl NodeEvents {
    pub(crate) fn closed() -> Self {
        let (tx, rx) = broadcast::channel(1);
        drop(tx);
        NodeEvents { rx }
    }
}

impl fmt::Debug for NodeEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeEvents").finish_non_exhaustive()
    }
}

/// A node this node is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerInfo {
    /// Its id (unique per run of the node).
    pub id: NodeId,
    /// Its name.
    pub name: String,
    /// Where it listens, if it said.
    pub listen: Option<SocketAddr>,
    /// Bytes in its send queue, not yet written to the connection.
    pub queued_bytes: usize,
}

/// Why a networked node could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No cookie was given and `DISTRIBUTE_COOKIE` is not set.
    #[error(
        "no cookie: call `.cookie(...)`, set the {COOKIE_ENV} environment variable, or opt in to \
         `.insecure_local()` for a cluster on this machine only"
    )]
    MissingCookie,
    /// The cookie is empty.
    #[error("the cookie is empty")]
    EmptyCookie,
    /// The node name is not 1 to 255 characters of `A-Z a-z 0-9 . _ @ -`.
    #[error("invalid node name {0:?}: expected 1 to 255 characters of A-Z a-z 0-9 . _ @ -")]
    InvalidName(String),
    /// Insecure local mode listens on loopback addresses only.
    #[error("insecure local mode only listens on loopback addresses, not {0}")]
    InsecureNotLoopback(SocketAddr),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        error: String,
    },
    /// A peer given to the builder could not be connected.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// `start` was called outside a tokio runtime.
    #[error("no tokio runtime: start nodes from inside a tokio runtime (e.g. #[tokio::main])")]
    NoRuntime,
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
    pub(crate) id: NodeId,
    pub(crate) node: WeakNode,
    transport: Arc<dyn Transport>,
    pub(crate) handlers: FrameHandlers,
    whereis: Whereis,
    /// This `Net`, for the tasks it spawns.
    me: std::sync::Weak<Net>,
    peers: Mutex<HashMap<NodeId, Arc<PeerSlot>>>,
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
        let net = Arc::new_cyclic(|me| Net {
            config,
            listen: listener.local_addr(),
            id,
            node,
            transport: wiring.transport,
            handlers: wiring.handlers,
            whereis: wiring.whereis,
            me: me.clone(),
            peers: Mutex::new(HashMap::new()),
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

    /// The slot of node `id`, created (down) if this node never heard of it.
    pub(crate) fn slot(&self, id: NodeId) -> Arc<PeerSlot> {
        let mut peers = self.peers();
        Arc::clone(peers.entry(id).or_insert_with(|| {
            Arc::new(PeerSlot::new(
                id,
                self.node.clone(),
                self.config.send_queue_bytes,
                self.config.max_frame,
                Arc::clone(&self.stats),
            ))
        }))
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
        NodeEvents {
            rx: self.events.subscribe(),
        }
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

    /// Connects to the node listening at `addr`; returns its id once both sides are up.
    pub(crate) async fn connect(self: &Arc<Self>, addr: SocketAddr) -> Result<NodeId, ConnectError> {
        connection::connect(self, addr).await
    }
}

/// Holds a writer's place in [`Net::writers`].
pub(crate) struct WriterGuard(Arc<Net>);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.0.writers.send_modify(|n| *n = n.saturating_sub(1));
    }
}
