//! What happened to a node's connections: [`NodeEvent`]s, and who is connected ([`PeerInfo`]).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::broadcast;

use super::ConnectError;
use crate::actor::{ActorId, NodeId};

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
    /// The peer did not read what this node had to send it: its send queue reached its hard
    /// ceiling (replies and control frames, which cannot wait, past twice the
    /// [send queue bound](crate::NodeBuilder::send_queue_bytes) plus a frame), or stayed
    /// over the point where this node stops reading from the peer for longer than the
    /// heartbeat timeout (no batch written to it in that time). The node does not
    /// reconnect on its own: a peer that reads again can.
    Overloaded {
        /// Bytes queued for the peer.
        queued: usize,
        /// The bound it reached.
        limit: usize,
    },
    /// Signals from peers (links, monitors, exits, stops) filled an actor's signal queue, whose
    /// share for them is [`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`](crate::MAX_PEER_SIGNAL_BYTES_PER_ACTOR),
    /// and the actor took none of them for longer than the heartbeat timeout while this node
    /// waited, without reading from the peer, to queue the peer's next signal. The node does
    /// not reconnect on its own.
    SignalsOverloaded {
        /// The actor whose signal queue was full.
        actor: ActorId,
        /// The bound it reached, in bytes.
        limit: usize,
    },
    /// The cluster's membership declared the node down: it answered no probe, neither
    /// directly nor through other members, for the suspicion time.
    DeclaredDown,
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
            NodeDownReason::Overloaded { queued, limit } => write!(
                f,
                "overloaded: {queued} bytes queued for a peer that does not read (limit {limit})"
            ),
            NodeDownReason::DeclaredDown => f.write_str("declared down by the cluster's membership"),
            NodeDownReason::SignalsOverloaded { actor, limit } => write!(
                f,
                "overloaded: signals from peers filled the signal queue of {actor} (limit {limit} bytes)"
            ),
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
    /// The cluster's membership (SWIM gossip) counts this node in: it joined, or came back.
    MemberUp {
        /// Its id.
        node: NodeId,
        /// Where its gossip goes (the port it listens on).
        addr: std::net::SocketAddr,
    },
    /// The cluster's membership counts this node out: it left, or it answered no probe for
    /// the suspicion time. Its connection, if any, is cut ([`NodeDownReason::DeclaredDown`]).
    MemberDown {
        /// Its id.
        node: NodeId,
        /// Where its gossip went.
        addr: std::net::SocketAddr,
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
                    crate::trace::trace_event!(warn, missed, "node event subscriber lagged behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl NodeEvents {
    pub(super) fn new(rx: broadcast::Receiver<NodeEvent>) -> Self {
        NodeEvents { rx }
    }

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
    /// Whether a connection to it is open now. A member of the cluster is up whether or not
    /// it is connected: this node connects to it when it first sends it something, and
    /// closes the connection when it has been idle (see
    /// [`NodeBuilder::idle_timeout`](crate::NodeBuilder::idle_timeout)).
    pub connected: bool,
}
