//! Identities of nodes and actors.
//!
//! An [`ActorId`] names one actor for the whole life of its ref: a supervised restart keeps
//! the id (and the mailbox), so refs held by clients and names in a registry stay valid.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Identity of one running node: unique per process start (an incarnation), so an actor id
/// minted before a node restarted never aliases an actor of the new incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(u64);

impl NodeId {
    /// Mints a fresh id, distinct from every other id minted in this process and, with
    /// overwhelming probability, from ids minted by other processes.
    pub(crate) fn fresh() -> Self {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        // Mix time, process id and a per-process sequence so ids differ across processes
        // started in the same nanosecond and across nodes of one process.
        let mut x = nanos ^ (u64::from(std::process::id()) << 32) ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 33;
        x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        x ^= x >> 33;
        NodeId(x)
    }

    /// The id carried by a peer's handshake (its incarnation).
    pub(crate) fn from_u64(raw: u64) -> Self {
        NodeId(raw)
    }

    /// The raw value, for logs and wire encodings.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Identity of one actor: the node that hosts it and a number unique on that node.
///
/// Displayed as `<node:n>` (for example `<3f2a9c0d11e04b7a:42>`), in the spirit of Erlang pids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ActorId {
    node: NodeId,
    local: u64,
}

impl ActorId {
    pub(crate) fn new(node: NodeId, local: u64) -> Self {
        ActorId { node, local }
    }

    /// The node that hosts this actor.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The actor's number on its node; numbers are never reused within a node's life.
    pub fn local(&self) -> u64 {
        self.local
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}:{}>", self.node, self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_node_ids_differ() {
        let a = NodeId::fresh();
        let b = NodeId::fresh();
        assert_ne!(a, b);
    }

    #[test]
    fn actor_id_displays_node_and_number() {
        let id = ActorId::new(NodeId(0xab), 7);
        assert_eq!(id.to_string(), "<00000000000000ab:7>");
    }
}
