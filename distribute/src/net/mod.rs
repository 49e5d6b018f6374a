//! Nodes on a network: configuration, connections, node events.
//!
//! A networked node listens on TCP (127.0.0.1 with a port from the OS unless told
//! otherwise) and keeps one connection to every node it knows, a full mesh as in Erlang:
//! when two nodes connect they introduce the other nodes they know, and connect to those.
//! Each connection starts with the [handshake](crate::transport::handshake), which proves on
//! both sides that the peer holds the cluster's cookie without sending it, then carries
//! length-prefixed [frames](crate::transport::frame):
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

mod conn;
pub(crate) mod peer;
pub(crate) mod queue;
pub(crate) mod remote;
#[cfg(feature = "tls")]
pub mod tls;
pub(crate) mod wire;

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::actor::NodeId;
use crate::node::{Node, WeakNode};
use crate::transport::handshake::{is_valid_node_name, HandshakeError};
use crate::transport::DEFAULT_MAX_FRAME;
use peer::PeerSlot;

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

/// The cookie of insecure local mode: public, so it only keeps apart clusters that use
/// different cookies by mistake; never use it off one machine.
const INSECURE_COOKIE: &[u8] = b"distribute-insecure-local-cookie";

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

/// Reconnection policy after a connection is lost (not after an orderly shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    /// First delay; each failed attempt doubles it, with up to 25 % of random jitter.
    pub initial: Duration,
    /// Longest delay between attempts.
    pub max: Duration,
    /// Give up after trying for this long.
    pub give_up_after: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(5),
            give_up_after: Duration::from_secs(60),
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
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tls::TlsConfig>,
}

/// Builds a networked [`Node`]; made by [`Node::builder`](crate::Node::builder).
///
/// ```no_run
/// # use distribute::prelude::*;
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = Node::builder()
///     .name("a")
///     .cookie("secret")                       // or DISTRIBUTE_COOKIE
///     .listen("127.0.0.1:0".parse()?)          // the default
///     .start()
///     .await?;
/// println!("listening on {:?}", node.listen_addr());
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct NodeBuilder {
    name: Option<String>,
    listen: SocketAddr,
    cookie: Option<Vec<u8>>,
    insecure: bool,
    peers: Vec<SocketAddr>,
    max_frame: usize,
    send_queue_bytes: usize,
    heartbeat_interval: Duration,
    heartbeat_timeout: Duration,
    handshake_timeout: Duration,
    reconnect: Option<Reconnect>,
    conflicts: crate::registry::ConflictPolicy,
    #[cfg(feature = "tls")]
    tls: Option<tls::TlsConfig>,
}

impl fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("name", &self.name)
            .field("listen", &self.listen)
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .field("peers", &self.peers)
            .finish_non_exhaustive()
    }
}

impl Default for NodeBuilder {
    fn default() -> Self {
        NodeBuilder {
            name: None,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            cookie: None,
            insecure: false,
            peers: Vec::new(),
            max_frame: DEFAULT_MAX_FRAME,
            send_queue_bytes: DEFAULT_SEND_QUEUE_BYTES,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            reconnect: Some(Reconnect::default()),
            conflicts: Default::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl NodeBuilder {
    /// The node's name, unique in the cluster: 1 to 255 characters of
    /// `A-Z a-z 0-9 . _ @ -`. Default: `node-` and the node's id.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Where to listen. Default: 127.0.0.1 with a port chosen by the OS; see
    /// [`Node::listen_addr`](crate::Node::listen_addr).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The cluster's shared secret. Without it the node reads the `DISTRIBUTE_COOKIE`
    /// environment variable, and refuses to start if that is not set either.
    pub fn cookie(mut self, cookie: impl AsRef<[u8]>) -> Self {
        self.cookie = Some(cookie.as_ref().to_vec());
        self
    }

    /// Runs without a secret cookie (a public, built-in one), for a cluster on this machine
    /// only: the node then refuses to listen on anything but a loopback address. A cookie
    /// given with [`cookie`](Self::cookie) or the environment still wins.
    pub fn insecure_local(mut self) -> Self {
        self.insecure = true;
        self
    }

    /// A node to connect to when starting; `start` fails if it cannot be reached.
    pub fn peer(mut self, addr: SocketAddr) -> Self {
        self.peers.push(addr);
        self
    }

    /// The cap on a frame, in bytes (default 4 MiB): larger messages fail on the sender with
    /// `PayloadTooLarge`, and a peer announcing a larger frame is disconnected.
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes.clamp(64, u32::MAX as usize);
        self
    }

    /// The bound of each peer's send queue, in bytes (default 8 MiB).
    pub fn send_queue_bytes(mut self, bytes: usize) -> Self {
        self.send_queue_bytes = bytes.max(1);
        self
    }

    /// Heartbeat interval on an idle connection, and the silence after which a peer is
    /// declared down (defaults: 1 s and 5 s). The timeout is at least twice the interval.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat_interval = interval.max(Duration::from_millis(1));
        self.heartbeat_timeout = timeout.max(interval * 2);
        self
    }

    /// Bound on connecting plus the handshake (default 5 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// How to reconnect after a lost connection; `None` never reconnects.
    pub fn reconnect(mut self, policy: Option<Reconnect>) -> Self {
        self.reconnect = policy;
        self
    }

    /// Chooses which owner keeps a global name registered on both sides of a healed partition
    /// (default: the lowest actor id). Give every node of the cluster the same resolver.
    pub fn resolve_conflicts_with(
        mut self,
        resolver: impl Fn(&str, crate::ActorId, crate::ActorId) -> crate::ActorId + Send + Sync + 'static,
    ) -> Self {
        self.conflicts.resolver = Some(Arc::new(resolver));
        self
    }

    /// Leaves the losing owner of a name conflict running (it is only told, through
    /// `NodeEvent::NameConflict`), instead of stopping it as OTP does.
    pub fn keep_conflict_losers(mut self) -> Self {
        self.conflicts.stop_losers = false;
        self
    }

    /// Runs every connection over mutual TLS (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: tls::TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Starts the node: binds the listener, then connects to the peers given.
    pub async fn start(self) -> Result<Node, StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let cookie = match (self.cookie, std::env::var_os(COOKIE_ENV)) {
            (Some(cookie), _) => cookie,
            (None, Some(env)) => env.into_encoded_bytes(),
            (None, None) if self.insecure => INSECURE_COOKIE.to_vec(),
            (None, None) => return Err(StartError::MissingCookie),
        };
        if cookie.is_empty() {
            return Err(StartError::EmptyCookie);
        }
        if self.insecure && cookie == INSECURE_COOKIE && !self.listen.ip().is_loopback() {
            return Err(StartError::InsecureNotLoopback(self.listen));
        }
        let id = NodeId::fresh();
        let name = self.name.unwrap_or_else(|| format!("node-{id}"));
        if !is_valid_node_name(&name) {
            return Err(StartError::InvalidName(name));
        }
        let node = Node::with_identity(id, name.clone());
        node.set_conflict_policy(self.conflicts);
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|error| StartError::Bind {
                addr: self.listen,
                error: error.to_string(),
            })?;
        let listen = listener.local_addr().map_err(|error| StartError::Bind {
            addr: self.listen,
            error: error.to_string(),
        })?;
        let config = NetConfig {
            name,
            cookie,
            max_frame: self.max_frame,
            send_queue_bytes: self.send_queue_bytes,
            heartbeat_interval: self.heartbeat_interval,
            heartbeat_timeout: self.heartbeat_timeout,
            handshake_timeout: self.handshake_timeout,
            reconnect: self.reconnect,
            #[cfg(feature = "tls")]
            tls: self.tls,
        };
        let net = Arc::new(Net::new(config, listen, node.id(), node.downgrade()));
        node.attach_net(Arc::clone(&net));
        runtime.spawn(conn::accept_loop(Arc::clone(&net), listener));
        tracing::info!(node = %node.name(), %listen, "node listening");
        for peer in self.peers {
            conn::connect(&net, peer).await?;
        }
        Ok(node)
    }
}

/// The networking state of a node.
pub(crate) struct Net {
    pub(crate) config: NetConfig,
    pub(crate) listen: SocketAddr,
    pub(crate) id: NodeId,
    pub(crate) node: WeakNode,
    peers: Mutex<HashMap<NodeId, Arc<PeerSlot>>>,
    events: broadcast::Sender<NodeEvent>,
    pub(crate) stats: Arc<NetStats>,
    next_connection: AtomicU64,
    closing: watch::Sender<bool>,
    /// Writers still running, so that `close` can wait for the goodbyes to be written.
    writers: watch::Sender<usize>,
}

impl Net {
    fn new(config: NetConfig, listen: SocketAddr, id: NodeId, node: WeakNode) -> Self {
        Net {
            config,
            listen,
            id,
            node,
            peers: Mutex::new(HashMap::new()),
            events: broadcast::channel(1024).0,
            stats: Arc::new(NetStats::default()),
            next_connection: AtomicU64::new(1),
            closing: watch::channel(false).0,
            writers: watch::channel(0).0,
        }
    }

    fn peers(&self) -> MutexGuard<'_, HashMap<NodeId, Arc<PeerSlot>>> {
        crate::lock::lock(&self.peers)
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
}

/// Holds a writer's place in [`Net::writers`].
pub(crate) struct WriterGuard(Arc<Net>);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.0.writers.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The connect entry point used by [`Node::connect`](crate::Node::connect).
pub(crate) async fn connect(net: &Arc<Net>, addr: SocketAddr) -> Result<NodeId, ConnectError> {
    conn::connect(net, addr).await
}
