//! Remote spawn: starting an actor on another node, as Erlang's `spawn(Node, ...)` does.
//!
//! Only the types a node allows are started there on a peer's request
//! ([`Node::allow_remote_spawn`]): a peer cannot run code a node did not opt into, and an
//! actor type the target does not know is a typed error for the caller
//! ([`RemoteSpawnError::UnknownType`]), not a crash. A type takes part by implementing
//! [`RemoteSpawn`], which `#[actor(remote_spawn)]` generates: its start arguments are
//! serialized by the asking node, sent in a [`FrameKind::Spawn`] frame, decoded on the target
//! with the actor's codec and turned into the actor there.
//!
//! One request, one answer: the target starts the actor (its `started` hook has run when the
//! answer leaves), registers it under a global name if asked, and answers with the actor's
//! id, or with why it did not. What peers can make a node start is bounded (see
//! `admission.rs`): requests in progress per peer, and actors started by peers that still
//! run.
//!
//! [`FrameKind::Spawn`]: crate::transport::FrameKind::Spawn

mod admission;
mod service;

use std::time::Duration;

use crate::actor::{Actor, ActorRef, ExitReason, NodeId, SpawnError, Wire};
use crate::node::Node;

pub(crate) use service::{SpawnFrames, SpawnService, SpawnWire};

/// How long [`Node::spawn_on`] waits for the target's answer by default: 10 seconds, time
/// for the actor's `started` hook and, when asked, the registration of its name.
pub const DEFAULT_SPAWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Default bound on the spawn requests of one peer in progress at once (see
/// [`NodeBuilder::max_remote_spawned`](crate::NodeBuilder::max_remote_spawned)).
pub const MAX_SPAWN_REQUESTS_PER_PEER: usize = 16;

/// Default bound on the actors that peers started on a node and that still run, all peers
/// together.
pub const DEFAULT_MAX_REMOTE_SPAWNED: usize = 10_000;

/// An actor that a node can start on another node, from start arguments that travel.
///
/// `#[actor(remote_spawn)]` on the struct implements it with the struct itself as the
/// arguments (it then derives `Serialize` and `Deserialize`); `#[actor(remote_spawn = Args)]`
/// with `Args`, turned into the actor by `From<Args>`. The target node must also allow the
/// type: [`Node::allow_remote_spawn`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be spawned on another node",
    label = "not remotely spawnable",
    note = "opt in on the struct with `#[actor(remote_spawn)]` (the struct's fields then travel as its start arguments: derive `Serialize` and `Deserialize`), or `#[actor(remote_spawn = Args)]` with `impl From<Args> for {Self}`"
)]
pub trait RemoteSpawn: Actor {
    /// What the asking node sends: the actor's start arguments. Every use needs them to
    /// travel ([`SpawnArgs`]); `#[actor(remote_spawn)]` checks that where it is written.
    type Args: Send + 'static;

    /// Makes the actor from its arguments, on the target node.
    fn from_args(args: Self::Args) -> Self;
}

/// What can travel as an actor's start arguments: any `Serialize + DeserializeOwned + Send +
/// 'static` type. A trait of its own so that a type that cannot says why.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent to another node as start arguments",
    label = "not serializable",
    note = "`#[actor(remote_spawn)]` sends the actor's struct itself: derive `serde::Serialize` and `serde::Deserialize` for it",
    note = "or send another type and make the actor from it: `#[actor(remote_spawn = Args)]` with `impl From<Args> for ...`"
)]
pub trait SpawnArgs: Wire {}

impl<T: Wire> SpawnArgs for T {}

/// Options of [`Node::spawn_on_with`].
#[derive(Debug, Clone)]
pub struct SpawnOn {
    pub(crate) register: Option<String>,
    pub(crate) timeout: Duration,
}

impl Default for SpawnOn {
    fn default() -> Self {
        SpawnOn {
            register: None,
            timeout: DEFAULT_SPAWN_TIMEOUT,
        }
    }
}

impl SpawnOn {
    /// No name, [`DEFAULT_SPAWN_TIMEOUT`].
    pub fn new() -> Self {
        SpawnOn::default()
    }

    /// Registers the new actor under `name` in the cluster-wide registry, from its own node
    /// (retrying while an earlier owner is being cleared, as
    /// [`Node::register_with_retry`] does); if that fails, the actor is stopped and the spawn
    /// fails with [`RemoteSpawnError::Register`].
    pub fn register_global(mut self, name: impl Into<String>) -> Self {
        self.register = Some(name.into());
        self
    }

    /// How long to wait for the answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Why [`Node::spawn_on`] started nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteSpawnError {
    /// This node has no networking.
    #[error("this node is not networked")]
    NotNetworked,
    /// The target is not up, or went down before it answered.
    #[error("node {node} is down")]
    NodeDown {
        /// The target.
        node: NodeId,
    },
    /// No answer in time. The actor may still have started there.
    #[error("node {node} did not answer within {timeout:?}")]
    Timeout {
        /// The target.
        node: NodeId,
        /// How long the caller waited.
        timeout: Duration,
    },
    /// The target does not allow peers to spawn this type (or does not know it).
    #[error("node {node} does not allow remote spawns of `{actor_type}` (it must call `allow_remote_spawn::<{actor_type}>()`)")]
    UnknownType {
        /// The target.
        node: NodeId,
        /// The actor type.
        actor_type: &'static str,
    },
    /// The target knows a type of this name with another protocol (another version).
    #[error("node {node} has a `{actor_type}` with another protocol (fingerprint {found:#018x}, here {expected:#018x})")]
    ProtocolMismatch {
        /// The target.
        node: NodeId,
        /// The actor type.
        actor_type: &'static str,
        /// This node's fingerprint of the type's messages.
        expected: u64,
        /// The target's.
        found: u64,
    },
    /// The start arguments did not encode here, or did not decode there.
    #[error("the start arguments of `{actor_type}` did not travel: {why}")]
    BadArgs {
        /// The actor type.
        actor_type: &'static str,
        /// The codec's error.
        why: String,
    },
    /// The actor's `started` hook failed.
    #[error("the actor failed to start: {reason}")]
    StartFailed {
        /// The target.
        node: NodeId,
        /// Why it stopped.
        reason: ExitReason,
    },
    /// The actor started but its name could not be registered; it was stopped.
    #[error("the name {name:?} could not be registered: {why}")]
    Register {
        /// The name.
        name: String,
        /// The registry's error.
        why: String,
    },
    /// The target has as many requests of this node in progress as it takes at once.
    #[error("node {node} is busy with {limit} spawn requests of this node")]
    Busy {
        /// The target.
        node: NodeId,
        /// Its bound.
        limit: u32,
    },
    /// Peers have started as many actors on the target as it allows.
    #[error("node {node} runs as many actors started by peers as it allows ({limit})")]
    TooMany {
        /// The target.
        node: NodeId,
        /// Its bound.
        limit: u32,
    },
    /// The target (or this node, for a spawn on itself) is shutting down.
    #[error("node {node} is shutting down")]
    ShuttingDown {
        /// The node.
        node: NodeId,
    },
    /// A spawn on this node itself failed.
    #[error(transparent)]
    Local(SpawnError),
}

impl Node {
    /// Allows peers to start actors of type `A` on this node with [`Node::spawn_on`]. A node
    /// starts no type on a peer's request unless it was allowed here; allowing one twice
    /// changes nothing.
    pub fn allow_remote_spawn<A: RemoteSpawn<Args: SpawnArgs>>(&self) {
        self.spawner().allow::<A>();
    }

    /// Starts an actor of type `A` on `node`, made there from `args`, and returns its ref
    /// once its `started` hook has run; see [`Node::spawn_on_with`] for a global name and a
    /// timeout. `node` may be this node.
    ///
    /// ```no_run
    /// # use distribute::prelude::*;
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// #[actor(remote_spawn)]
    /// struct Counter { count: u64 }
    ///
    /// #[actor]
    /// impl Counter {
    ///     #[message]
    ///     fn add(&mut self, n: u64) -> u64 { self.count += n; self.count }
    /// }
    ///
    /// # async fn run(node: Node, peer: NodeId) -> Result<(), Box<dyn std::error::Error>> {
    /// // On `peer`: `node.allow_remote_spawn::<Counter>();`
    /// let counter = node.spawn_on::<Counter>(peer, Counter { count: 40 }).await?;
    /// assert_eq!(counter.add(2).await?, 42);
    /// # Ok(()) }
    /// ```
    pub async fn spawn_on<A: RemoteSpawn<Args: SpawnArgs>>(
        &self,
        node: NodeId,
        args: A::Args,
    ) -> Result<ActorRef<A>, RemoteSpawnError> {
        self.spawn_on_with::<A>(node, args, SpawnOn::default()).await
    }

    /// [`Node::spawn_on`] with options: a global name to register the actor under, and how
    /// long to wait.
    pub async fn spawn_on_with<A: RemoteSpawn<Args: SpawnArgs>>(
        &self,
        node: NodeId,
        args: A::Args,
        options: SpawnOn,
    ) -> Result<ActorRef<A>, RemoteSpawnError> {
        if node == self.id() {
            return service::spawn_here::<A>(self, A::from_args(args), options.register).await;
        }
        service::spawn_remote::<A>(self, node, args, options).await
    }
}
