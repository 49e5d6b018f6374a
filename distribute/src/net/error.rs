//! Why a connection or a networked node could not be made.

use std::net::SocketAddr;
use std::time::Duration;

use super::COOKIE_ENV;
use crate::transport::handshake::HandshakeError;

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
    /// The peer announced the id of a node this node knows under another name, or of a node
    /// connected for longer than a simultaneous connect takes (the handshake timeout): a
    /// node cannot take another node's id, nor a connected node's traffic. A node that
    /// really lost its connection closed it first; its next attempt succeeds.
    #[error("the node at {addr} announced id {id}, which belongs to another node")]
    IdInUse {
        /// The address.
        addr: SocketAddr,
        /// The id it announced.
        id: crate::actor::NodeId,
    },
    /// The connection had not finished its handshake when the cap on pending handshakes was
    /// reached, and was the oldest: it was dropped to make room for a newer one (so a flood
    /// of idle sockets cannot lock real peers out).
    #[error("handshake with {addr} dropped: too many pending handshakes")]
    HandshakeEvicted {
        /// The address.
        addr: SocketAddr,
    },
    /// This node has no networking (made with `Node::new`), or is shutting down.
    #[error("this node is not networked or is shutting down")]
    NotNetworked,
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
    /// A seed given to [`NodeBuilder::seed`](crate::NodeBuilder::seed) is not `host:port`.
    #[error("seed {seed:?} is not host:port ({why}); for example \"db-0.cluster.local:4369\" or \"127.0.0.1:4369\"")]
    InvalidSeed {
        /// The seed as given.
        seed: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A peer given to the builder could not be connected.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// `start` was called outside a tokio runtime.
    #[error("no tokio runtime: start nodes from inside a tokio runtime (e.g. #[tokio::main])")]
    NoRuntime,
}
