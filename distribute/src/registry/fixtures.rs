//! Values the registry's unit tests and its simulation build from small numbers.

use super::wire::GlobalEntry;
use crate::actor::{ActorId, NodeId};

/// Node `n`.
pub(crate) fn node(n: u64) -> NodeId {
    NodeId::from_u64(n)
}

/// Actor `local` of node `node`.
pub(crate) fn id(node: u64, local: u64) -> ActorId {
    ActorId::new(NodeId::from_u64(node), local)
}

/// A replicated entry owned by `owner`, of a made-up protocol.
pub(crate) fn entry(owner: ActorId) -> GlobalEntry {
    GlobalEntry {
        owner,
        fingerprint: 1,
        type_name: "T".into(),
    }
}
