//! What a node can say about itself: its actors, supervision trees, names, groups and peers.
//!
//! `Node::introspect` takes a [`NodeSnapshot`] of the node it is
//! called on; `Node::introspect_node` asks another node of the
//! cluster for its own over the cluster protocol, and
//! `Node::introspect_cluster` gathers every member's. A
//! snapshot only ever describes the node that took it: what a peer answers is shown as that
//! peer's, never merged into what this node knows about its own actors.
//!
//! Every type here is plain data (`serde` both ways), so a snapshot can be sent between nodes,
//! written as JSON by a dashboard, or compared in a test. Counters are totals since the thing
//! they count started; a rate is the difference between two snapshots divided by the time
//! between them ([`NodeSnapshot::taken_at_ms`]).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::actor::{ActorId, NodeId};

/// How many actors a snapshot lists unless told otherwise: 10 000 (the node's totals still
/// count them all).
pub const DEFAULT_MAX_ACTORS: usize = 10_000;

/// How long a snapshot waits for each supervisor's description by default: 1 second.
pub const DEFAULT_SUPERVISOR_TIMEOUT: Duration = Duration::from_secs(1);

/// How long `Node::introspect_node` and `Node::introspect_cluster` wait for a peer's
/// answer by default: 5 seconds.
pub const DEFAULT_INTROSPECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most introspection requests of one peer a node answers at once; a peer asking for
/// more is answered [`IntrospectError::Busy`].
pub const MAX_INTROSPECTIONS_PER_PEER: usize = 2;

/// The most introspection requests a node answers at once, all peers together.
pub const MAX_INTROSPECTIONS: usize = 8;

/// What a snapshot includes and how long it waits: see `Node::introspect_with`.
///
/// ```
/// use distribute::introspect::IntrospectOptions;
///
/// let options = IntrospectOptions { max_actors: 100, ..IntrospectOptions::default() };
/// assert_eq!(options.max_actors, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntrospectOptions {
    /// The most actors listed ([`DEFAULT_MAX_ACTORS`]); past it the snapshot is
    /// [`truncated`](NodeSnapshot::truncated). It also bounds the names, the group
    /// memberships and the supervisors described. A peer asked over the network applies
    /// its own bound too, and cuts its answer to fit in one frame.
    pub max_actors: usize,
    /// How long to wait for each supervisor's description ([`DEFAULT_SUPERVISOR_TIMEOUT`]);
    /// a supervisor busy for longer (restarting a child with a backoff, say) is listed as an
    /// actor, without its tree.
    pub supervisor_timeout: Duration,
    /// How long to wait for a peer's answer ([`DEFAULT_INTROSPECT_TIMEOUT`]).
    pub timeout: Duration,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        IntrospectOptions {
            max_actors: DEFAULT_MAX_ACTORS,
            supervisor_timeout: DEFAULT_SUPERVISOR_TIMEOUT,
            timeout: DEFAULT_INTROSPECT_TIMEOUT,
        }
    }
}

/// Why `Node::introspect_node` has no snapshot of the node asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectError {
    /// This node has no networking, so it can ask no other node.
    #[error("this node is not networked")]
    NotNetworked,
    /// The node is not up (not connected, or gone before it answered).
    #[error("node {node} is down")]
    NodeDown {
        /// The node asked.
        node: NodeId,
    },
    /// No answer within the timeout.
    #[error("node {node} did not answer within {timeout:?}")]
    Timeout {
        /// The node asked.
        node: NodeId,
        /// How long this node waited.
        timeout: Duration,
    },
    /// The node does not let peers introspect it
    /// (`NodeBuilder::allow_remote_introspection(false)`).
    #[error("node {node} does not allow remote introspection")]
    Refused {
        /// The node asked.
        node: NodeId,
    },
    /// The node is answering as many introspection requests as it takes at once.
    #[error("node {node} is busy with {limit} introspection requests")]
    Busy {
        /// The node asked.
        node: NodeId,
        /// Its bound.
        limit: u32,
    },
    /// The answer did not decode, or described another node.
    #[error("node {node} answered with a malformed snapshot: {why}")]
    Malformed {
        /// The node asked.
        node: NodeId,
        /// What was wrong.
        why: String,
    },
}

/// One node's view of itself, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeSnapshot {
    /// The node's id (unique per run of the node).
    pub node: NodeId,
    /// The node's name.
    pub name: String,
    /// Where it listens for other nodes, if it is networked.
    pub listen: Option<SocketAddr>,
    /// When the snapshot was taken, in milliseconds since the Unix epoch, by the node's clock.
    pub taken_at_ms: u64,
    /// Its live actors, oldest first; at most the number asked for (see
    /// [`NodeSnapshot::truncated`]).
    pub actors: Vec<ActorSnapshot>,
    /// Whether actors were left out because the node hosts more than were asked for.
    pub truncated: bool,
    /// Its supervision trees: one per supervisor that no other supervisor on this node
    /// supervises.
    pub trees: Vec<TreeSnapshot>,
    /// The names registered to this node's actors, local and global.
    pub names: Vec<NameSnapshot>,
    /// The process groups that have members on this node, with those members.
    pub groups: Vec<GroupSnapshot>,
    /// The other nodes it knows, with the traffic to and from each.
    pub peers: Vec<PeerSnapshot>,
    /// Node-wide counts.
    pub totals: NodeTotals,
}

/// Node-wide counts of a [`NodeSnapshot`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeTotals {
    /// Live actors on the node (all of them, even when the snapshot's list is truncated).
    pub actors: usize,
    /// Actors spawned since the node started.
    pub spawned: u64,
    /// Messages handled by the node's actors since it started.
    pub messages_handled: u64,
}

/// One live actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActorSnapshot {
    /// Its id.
    pub id: ActorId,
    /// Its type's name ([`Actor::NAME`](crate::Actor::NAME)).
    pub type_name: String,
    /// The names it is registered under, local and global.
    pub names: Vec<String>,
    /// Messages in its mailbox, not yet handled.
    pub mailbox_len: usize,
    /// Its mailbox's capacity.
    pub mailbox_capacity: usize,
    /// What it is doing.
    pub state: ActorState,
    /// How many times its supervisor restarted it (0 for an actor without a supervisor).
    pub restarts: u32,
    /// The supervisor that started it, if one did.
    pub parent: Option<ActorId>,
    /// Messages it has handled (this incarnation and the ones before it behind the same id).
    pub messages_handled: u64,
    /// Whether it is a supervisor (or a pool).
    pub is_supervisor: bool,
}

/// What an actor is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ActorState {
    /// Waiting for a message, with an empty mailbox.
    Idle,
    /// Handling messages, or about to.
    Running,
    /// Between an exit and its restart under the same id.
    Restarting,
    /// Running its `stopped` hook, or stopped and not yet removed.
    Stopping,
}

/// A supervisor and what it supervises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TreeSnapshot {
    /// The supervisor's actor.
    pub supervisor: ActorId,
    /// The supervisor's type name (`Supervisor`, `Pool`, or the `#[supervised]` type's name).
    pub type_name: String,
    /// Its name in logs (`SupervisorSpec::name`).
    pub name: String,
    /// Its strategy, as written in Rust (`OneForOne`, `OneForAll`, `RestForOne`).
    pub strategy: String,
    /// Its children, in start order.
    pub children: Vec<ChildSnapshot>,
}

/// One child of a supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChildSnapshot {
    /// The child's id in its supervisor's spec.
    pub id: String,
    /// Its actor, while it runs or restarts.
    pub actor: Option<ActorId>,
    /// `Running`, `Restarting` or `Terminated`.
    pub state: String,
    /// How many times the supervisor restarted it.
    pub restarts: u32,
    /// Which incarnation runs (1 for the first start).
    pub incarnation: u64,
    /// Why its last incarnation ended, displayed; `None` while the first one runs.
    pub last_exit: Option<String>,
    /// When the child is itself a supervisor on this node: its tree.
    pub subtree: Option<Box<TreeSnapshot>>,
}

/// Whether a name is known to this node only or to the whole cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NameScope {
    /// [`Node::register_local`](crate::Node::register_local).
    Local,
    /// The cluster-wide registry.
    Global,
}

/// A registered name of one of the node's actors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NameSnapshot {
    /// The name.
    pub name: String,
    /// The actor it names.
    pub actor: ActorId,
    /// Local or global.
    pub scope: NameScope,
}

/// A process group and its members on the node that took the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupSnapshot {
    /// The group's name.
    pub name: String,
    /// Its members hosted by this node.
    pub members: Vec<ActorId>,
}

/// Another node, as the node that took the snapshot sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PeerSnapshot {
    /// Its id.
    pub id: NodeId,
    /// Its name.
    pub name: String,
    /// Where it listens, if known.
    pub listen: Option<SocketAddr>,
    /// Whether a connection to it is open now.
    pub connected: bool,
    /// Bytes received from it since this node started.
    pub bytes_in: u64,
    /// Bytes sent to it since this node started.
    pub bytes_out: u64,
    /// Frames received from it.
    pub frames_in: u64,
    /// Frames sent to it.
    pub frames_out: u64,
    /// Bytes queued for it and not yet written.
    pub queued_bytes: usize,
}

/// Every member's snapshot, as one node gathered them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClusterSnapshot {
    /// The node that gathered the snapshots.
    pub gathered_by: NodeId,
    /// One entry per member of the cluster, this node first.
    pub nodes: Vec<NodeEntry>,
}

/// One member in a [`ClusterSnapshot`]: its snapshot, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NodeEntry {
    /// The member answered.
    Snapshot(NodeSnapshot),
    /// The member did not answer; the error, displayed.
    Unavailable {
        /// Its id.
        node: NodeId,
        /// Its name, as the membership knows it.
        name: String,
        /// Why: timed out, refused, down, ...
        error: String,
    },
}
