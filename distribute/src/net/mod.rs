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
mod error;
mod events;
mod handshake;
mod peer;
mod queue;
mod reader;
mod reconnect;
mod remote;
mod stats;
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
#[cfg(feature = "tls")]
pub(crate) use tls::TlsTransport;
pub use transport::{
    Accepted, Connection, Listener, MemoryTransport, ReadHalf, TcpTransport, Transport, TransportError,
    TransportFuture,
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
