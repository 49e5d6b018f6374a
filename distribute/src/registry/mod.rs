//! Names for actors.
//!
//! Name validation ([`validate_name`]) is shared by every registry. The node-local registry
//! ([`Node::register_local`](crate::Node::register_local)) maps names to actors on one node.
//! The cluster-wide registry ([`Node::register_global`](crate::Node::register_global), process
//! groups) is layered: `protocol` is its state machine (replica and sequencer, I/O-free),
//! `driver` runs it (the lock, the timer, frames out through a host the node implements),
//! and the node's API (`node/registry.rs`) validates, calls the driver and maps its answers
//! to [`RegistryError`]. `wire` holds the messages nodes exchange.
//!
//! # Trusting peers no further than they must be
//!
//! Every peer may be hostile, even one that holds the cookie. The global registry takes from
//! a peer only what that peer is the authority on, and bounds what it stores for it:
//!
//! - **Validation.** Every name and group in a registry frame from a peer is checked with
//!   [`validate_name`], the function local names go through, and every type name against a
//!   bound of 1024 bytes. A frame with an invalid one is a *protocol violation*: no node of
//!   this crate sends one, so the sender is not playing by the rules. The frame is refused
//!   whole (nothing of it is applied), counted (`distribute_registry_invalid_frames_total`),
//!   logged, and the peer is disconnected with a typed `ProtocolViolation` reason.
//! - **Members only.** A name is stored only for an actor of a *member*: this node or a
//!   peer that is up. The sequencer refuses a claim for any other owner, and a node does not
//!   apply a commit or a snapshot entry of one. So names of nodes that never joined are never
//!   held, and a node's names go when it leaves. Entries refused for authority are not a
//!   violation (an honest node's snapshot carries its whole replica): they are dropped and
//!   counted (`distribute_registry_refused_total`).
//! - **Each node speaks for its own actors.** A name enters a replica through the sequencer's
//!   order (its commits, and its replica, which is that order) or from the snapshot of the
//!   owner's own node. A snapshot's entries for other nodes' actors are ignored (their nodes
//!   tell the sequencer themselves); reaching the sequencer, they only make it commit the name
//!   again as it holds it, which settles stale copies. A peer releases only names of its own
//!   actors, and changes only its own actors' group memberships (which its sequencer passes
//!   on; a node takes another's memberships from its sequencer only).
//! - **No stop on hearsay.** Since nothing is stored for a non-member, the winner of any
//!   conflict that stops one of this node's actors is an actor of a real member.
//! - **Caps.** The actors of one node hold at most
//!   [`max_global_names_per_node`](crate::NodeBuilder::max_global_names_per_node) names
//!   (default 100 000), and apart as many group memberships, in every replica; past it
//!   `register_global` answers [`RegistryError::TooManyNames`] and further names from that
//!   node are refused.
//! - **Owners release.** [`unregister_global`](crate::Node::unregister_global) succeeds only
//!   on the owner's node ([`RegistryError::NotOwner`] anywhere else), and the sequencer
//!   refuses a peer's release of a name owned elsewhere. Each node watches its own actors
//!   that hold names (whoever registered them) and releases their names when they stop.
//! - **No single silent node stalls the registry.** A claim that gets no word from its
//!   sequencer within [`registry_claim_timeout`](crate::NodeBuilder::registry_claim_timeout)
//!   (default 500 ms, a few more for a sequencer heard from meanwhile) makes the claimant
//!   *suspect* that node: it is skipped as the sequencer and not waited for by commits until
//!   it is heard from, reconnects, or twenty deadlines pass; the claim is submitted again to
//!   the next candidate. A change the silent node did commit is safe: a retried claim by the
//!   same owner is granted the same, and a commit that reached only some nodes is settled by
//!   reconciliation, as when a sequencer goes down. A node that is not the sequencer forwards
//!   a registration but not a release (only the owner's node may release a name): it sends the
//!   release back, and the owner's node tries again until it reaches the sequencer, so a node
//!   cut off from its sequencer registers through another but releases only once it is back
//!   in touch (or its call times out).
//! - **Chunked sync.** A replica is sent in chunks well under the frame cap
//!   (`SnapshotPart`s, then a final `Snapshot`); the receiver holds the chunks (within the
//!   caps) and takes them together at the last, so a registry of any size reaches a joining
//!   node.

mod api;
mod conflict;
pub(crate) mod driver;
/// How a [`RegistryError::TypeMismatch`] names the registered actor, given its type's name and
/// protocol fingerprint and those asked for: its type's name, and, when that is the name
/// asked for (a type of the same name from another module, or another version of the
/// actor), both fingerprints, so that the message does not read "a `Svc`, not a `Svc`".
pub(crate) fn found_type(
    (found, found_fingerprint): (&str, u64),
    (expected, expected_fingerprint): (&str, u64),
) -> &'static str {
    if found == expected {
        intern_type_name(format!(
            "{found} of another protocol ({found_fingerprint:#018x}, not {expected_fingerprint:#018x})"
        ))
    } else {
        intern_type_name(found.to_owned())
    }
}

/// Type names in errors are `&'static str`; the few distinct names a node ever reports (of
/// remote actors, or with fingerprints) are interned once, at most 1 024 of them.
pub(crate) fn intern_type_name(name: String) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = crate::lock::lock(&NAMES);
    if let Some(known) = names.iter().find(|known| **known == name) {
        return known;
    }
    if names.len() >= 1024 {
        return "<remote actor>";
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.push(leaked);
    leaked
}

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
    /// The name belongs to another actor, or the release was asked for on another node than
    /// the owner's: only the owner's node may release a name.
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
    /// The actors of the node hold as many global names (or, for `join`, group memberships)
    /// as one node's actors may
    /// ([`NodeBuilder::max_global_names_per_node`](crate::NodeBuilder::max_global_names_per_node)).
    #[error("the actors of node {node} hold {limit} global names already, the most a node's actors may")]
    TooManyNames {
        /// The node whose actors hold the names.
        node: crate::actor::NodeId,
        /// The cap.
        limit: usize,
    },
}
