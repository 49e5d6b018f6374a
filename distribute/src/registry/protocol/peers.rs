//! This node's view of the other nodes: which are connected (the lowest id among them and this
//! node is the sequencer), and which it saw go down and not come back.
//!
//! A node drops the names and memberships of a peer's actors when the peer goes down. Another
//! node's replica may still hold them (it was connected longer, or it is on the other side of a
//! partition), so they are not taken from other nodes' snapshots or commits until the peer is
//! back: else the names of a crashed node would live on forever, carried from replica to
//! replica. A node id names one run of a node, so the memory of departed nodes is bounded: the
//! oldest are forgotten first.
//!
//! A connected peer may also be *suspected*: it did not answer a claim sent to it as the
//! sequencer within the claim deadline. A suspected peer is skipped when choosing the
//! sequencer, and not waited for by this node's own commits, until it is heard from again or
//! its connection comes up anew, or its suspicion expires (then a claim tries it again): one
//! silent node cannot stall the registry.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

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
    /// Connected peers that did not answer a claim in time (a subset of `connected`), with
    /// when their suspicion expires.
    suspected: BTreeMap<NodeId, Duration>,
}

impl Peers {
    /// `peer` is connected; returns whether it was not before.
    pub(super) fn up(&mut self, peer: NodeId) -> bool {
        self.suspected.remove(&peer);
        if self.departed.remove(&peer) {
            self.departed_order.retain(|gone| *gone != peer);
        }
        self.connected.insert(peer)
    }

    /// `peer` went down.
    pub(super) fn down(&mut self, peer: NodeId) {
        self.connected.remove(&peer);
        self.suspected.remove(&peer);
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

    /// Whether an actor of `node` may hold a name here: `node` is this node (`me`) or a
    /// connected peer. Nothing is stored for any other node.
    pub(super) fn is_member(&self, node: NodeId, me: NodeId) -> bool {
        node == me || self.connected.contains(&node)
    }

    /// `peer` did not answer in time: suspected until `until`; returns whether it was not
    /// suspected before. Only a connected peer can be suspected.
    pub(super) fn suspect(&mut self, peer: NodeId, until: Duration) -> bool {
        self.connected.contains(&peer) && self.suspected.insert(peer, until).is_none()
    }

    /// When the first suspicion expires.
    pub(super) fn next_expiry(&self) -> Option<Duration> {
        self.suspected.values().min().copied()
    }

    /// The suspected peers whose suspicion expired by `now`.
    pub(super) fn expired(&self, now: Duration) -> Vec<NodeId> {
        self.suspected
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect()
    }

    /// `peer` was heard from; returns whether it was suspected.
    pub(super) fn clear_suspicion(&mut self, peer: NodeId) -> bool {
        self.suspected.remove(&peer).is_some()
    }

    /// Whether `peer` is suspected.
    #[cfg(test)]
    pub(super) fn is_suspected(&self, peer: NodeId) -> bool {
        self.suspected.contains_key(&peer)
    }

    /// The connected peers that are not suspected: those a commit waits for.
    pub(super) fn answering(&self) -> BTreeSet<NodeId> {
        self.connected
            .iter()
            .filter(|peer| !self.suspected.contains_key(peer))
            .copied()
            .collect()
    }

    /// The lowest id among `me` and the connected peers that are not suspected.
    pub(super) fn sequencer(&self, me: NodeId) -> NodeId {
        self.connected
            .iter()
            .find(|peer| !self.suspected.contains_key(peer))
            .map_or(me, |lowest| (*lowest).min(me))
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
    fn a_suspected_peer_is_skipped_as_sequencer_until_heard_from_or_back() {
        let mut peers = Peers::default();
        peers.up(node(1));
        peers.up(node(2));
        let until = Duration::from_secs(5);
        assert!(
            !peers.suspect(node(7), until),
            "only a connected peer is suspected"
        );
        assert!(peers.suspect(node(1), until));
        assert_eq!(peers.next_expiry(), Some(until));
        assert!(peers.expired(until - Duration::from_millis(1)).is_empty());
        assert_eq!(peers.expired(until), vec![node(1)]);
        assert_eq!(peers.sequencer(node(3)), node(2));
        assert_eq!(peers.answering().into_iter().collect::<Vec<_>>(), vec![node(2)]);
        assert!(peers.clear_suspicion(node(1)));
        assert_eq!(peers.sequencer(node(3)), node(1));
        peers.suspect(node(1), until);
        peers.up(node(1));
        assert!(!peers.is_suspected(node(1)));
        assert!(peers.is_member(node(3), node(3)) && peers.is_member(node(1), node(3)));
        assert!(!peers.is_member(node(9), node(3)));
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
