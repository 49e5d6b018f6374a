//! This node's view of the other nodes: which are connected (the lowest id among them and this
//! node is the sequencer), and which it saw go down and not come back.
//!
//! A node drops the names and memberships of a peer's actors when the peer goes down. Another
//! node's replica may still hold them (it was connected longer, or it is on the other side of a
//! partition), so they are not taken from other nodes' snapshots or commits until the peer is
//! back: else the names of a crashed node would live on forever, carried from replica to
//! replica. A node id names one run of a node, so the memory of departed nodes is bounded: the
//! oldest are forgotten first.

use std::collections::{BTreeSet, VecDeque};

use crate::actor::NodeId;

/// How many departed nodes are remembered.
const DEPARTED_MEMORY: usize = 4096;

/// Who is connected, and who went down.
#[derive(Debug, Default)]
pub(super) struct Peers {
    connected: BTreeSet<NodeId>,
    departed: BTreeSet<NodeId>,
    /// `departed`, oldest first.
    departed_order: VecDeque<NodeId>,
}

impl Peers {
    /// `peer` is connected; returns whether it was not before.
    pub(super) fn up(&mut self, peer: NodeId) -> bool {
        if self.departed.remove(&peer) {
            self.departed_order.retain(|gone| *gone != peer);
        }
        self.connected.insert(peer)
    }

    /// `peer` went down.
    pub(super) fn down(&mut self, peer: NodeId) {
        self.connected.remove(&peer);
        if self.departed.insert(peer) {
            self.departed_order.push_back(peer);
        }
        while self.departed_order.len() > DEPARTED_MEMORY {
            if let Some(oldest) = self.departed_order.pop_front() {
                self.departed.remove(&oldest);
            }
        }
    }

    /// Whether `peer` is connected.
    pub(super) fn is_connected(&self, peer: NodeId) -> bool {
        self.connected.contains(&peer)
    }

    /// Whether `node` was seen going down and not back.
    pub(super) fn has_departed(&self, node: NodeId) -> bool {
        self.departed.contains(&node)
    }

    /// The connected peers, by id.
    pub(super) fn connected(&self) -> &BTreeSet<NodeId> {
        &self.connected
    }

    /// The lowest id among `me` and the connected peers.
    pub(super) fn sequencer(&self, me: NodeId) -> NodeId {
        self.connected.first().map_or(me, |lowest| (*lowest).min(me))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixtures::node;

    #[test]
    fn a_node_that_went_down_is_remembered_until_it_is_back() {
        let mut peers = Peers::default();
        assert!(peers.up(node(2)));
        assert!(!peers.up(node(2)));
        assert_eq!(peers.sequencer(node(3)), node(2));
        peers.down(node(2));
        assert!(peers.has_departed(node(2)) && !peers.is_connected(node(2)));
        assert_eq!(peers.sequencer(node(3)), node(3));
        peers.up(node(2));
        assert!(!peers.has_departed(node(2)));
    }

    #[test]
    fn the_oldest_departed_nodes_are_forgotten_first() {
        let mut peers = Peers::default();
        for n in 0..=DEPARTED_MEMORY as u64 {
            peers.down(node(n));
        }
        assert!(!peers.has_departed(node(0)));
        assert!(peers.has_departed(node(1)) && peers.has_departed(node(DEPARTED_MEMORY as u64)));
    }
}
