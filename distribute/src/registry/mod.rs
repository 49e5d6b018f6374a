//! Names for actors.
//!
//! Name validation ([`validate_name`]) is shared by every registry. The node-local registry
//! ([`Node::register_local`](crate::Node::register_local)) maps names to actors on one node.
//! The cluster-wide registry ([`Node::register_global`](crate::Node::register_global), process
//! groups) is layered: `protocol` is its state machine (replica and sequencer, I/O-free),
//! `driver` runs it (the lock, the timer, frames out through a host the node implements),
//! and the node's API (`node/registry.rs`) validates, calls the driver and maps its answers
//! to [`RegistryError`]. `wire` holds the messages nodes exchange.

mod api;
mod conflict;
pub(crate) mod driver;
#[cfg(test)]
mod fixtures;
mod local;
mod name;
pub(crate) mod protocol;
mod registered;
#[doc(hidden)]
pub mod wire;

pub use api::{NameChange, NameWatch, RetryPolicy};
pub(crate) use conflict::ConflictPolicy;
pub use conflict::ConflictResolver;
pub(crate) use driver::{RegistryDriver, RegistryHost};
pub(crate) use local::LocalNames;
pub use name::{validate_name, MAX_NAME_LEN};
pub(crate) use protocol::{
    Config as RegistryConfig, DEFAULT_CLAIM_TIMEOUT, DEFAULT_MAX_NAMES_PER_NODE, DEFAULT_SNAPSHOT_CHUNK_BYTES,
};
pub use registered::{
    start_registered, start_registered_pool, start_registered_supervised, Name, RegisterError, Registered,
};
pub(crate) use wire::{GlobalEntry, RegistryMsg};

use crate::actor::ActorId;

/// Why a registry operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The name is empty, longer than 255 characters, or has a character outside
    /// `[A-Za-z0-9._-]`.
    #[error("invalid name {name:?}: {why}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Another actor holds the name.
    #[error("name `{name}` is already registered to {owner}")]
    AlreadyRegistered {
        /// The name.
        name: String,
        /// Its current owner.
        owner: ActorId,
    },
    /// No actor holds the name.
    #[error("name `{name}` is not registered")]
    NotFound {
        /// The name.
        name: String,
    },
    /// The name belongs to another actor.
    #[error("name `{name}` belongs to {owner}, not to the caller")]
    NotOwner {
        /// The name.
        name: String,
        /// Its owner.
        owner: ActorId,
    },
    /// The name's actor is of another type than the one asked for.
    #[error("name `{name}` is registered to a `{found}`, not a `{expected}`")]
    TypeMismatch {
        /// The name.
        name: String,
        /// The type asked for.
        expected: &'static str,
        /// The registered actor's type.
        found: &'static str,
    },
    /// Node-local names are for actors of this node; register a remote actor on its own
    /// node.
    #[error("actor {actor} lives on another node; only local actors take node-local names")]
    NotLocal {
        /// The actor.
        actor: ActorId,
    },
    /// The node to ask is not connected.
    #[error("node {node} is not connected")]
    NodeDown {
        /// The node.
        node: crate::actor::NodeId,
    },
    /// The node asked did not answer in time.
    #[error("no answer from node {node} within {timeout:?}")]
    Timeout {
        /// The node.
        node: crate::actor::NodeId,
        /// How long the lookup waited.
        timeout: std::time::Duration,
    },
    /// `lookup_with_timeout` was given a zero timeout.
    #[error("a lookup timeout must be longer than zero")]
    InvalidTimeout,
    /// No actor registered the name within the timeout.
    #[error("name `{name}` was not registered within {timeout:?}")]
    LookupTimeout {
        /// The name.
        name: String,
        /// How long the lookup waited.
        timeout: std::time::Duration,
    },
    /// The actor has already stopped.
    #[error("actor {actor} has stopped")]
    ActorStopped {
        /// The actor.
        actor: ActorId,
    },
    /// The actors of the node hold as many global names as one node's actors may
    /// ([`NodeBuilder::max_global_names_per_node`](crate::NodeBuilder::max_global_names_per_node)).
    #[error("the actors of node {node} hold {limit} global names already, the most a node's actors may")]
    TooManyNames {
        /// The node whose actors hold the names.
        node: crate::actor::NodeId,
        /// The cap.
        limit: usize,
    },
}
