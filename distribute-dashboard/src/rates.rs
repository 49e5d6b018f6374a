//! Message and traffic rates, from two consecutive cluster snapshots.
//!
//! A snapshot holds counters (totals since the thing counted started); a rate is the
//! difference between two snapshots of the same node divided by the time between them. Each
//! node's own clock ([`NodeSnapshot::taken_at_ms`]) measures that time, so clocks that differ
//! between machines never skew a rate. Everything here is a plain function of two snapshots.

use std::collections::HashMap;

use distribute::introspect::{ClusterSnapshot, NodeEntry, NodeSnapshot};
use distribute::{ActorId, NodeId};

/// Rates of every node that answered both snapshots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterRates {
    /// Per node, keyed by its id.
    pub nodes: HashMap<NodeId, NodeRates>,
}

/// One node's rates between two of its snapshots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeRates {
    /// Messages handled per second by all of the node's actors.
    pub messages_per_sec: f64,
    /// Messages handled per second by each actor present in both snapshots.
    pub actors: HashMap<ActorId, f64>,
    /// Traffic per second with each peer present in both snapshots.
    pub peers: HashMap<NodeId, PeerRates>,
}

/// Traffic with one peer, per second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PeerRates {
    /// Bytes received from the peer per second.
    pub bytes_in_per_sec: f64,
    /// Bytes sent to the peer per second.
    pub bytes_out_per_sec: f64,
}

/// The rates between `previous` and `next`: one entry per node that answered both (matched by
/// id, so a restarted node, which has a new id, starts without rates).
pub fn cluster_rates(previous: &ClusterSnapshot, next: &ClusterSnapshot) -> ClusterRates {
    let before: HashMap<NodeId, &NodeSnapshot> = answered(previous).map(|s| (s.node, s)).collect();
    let nodes = answered(next)
        .filter_map(|after| {
            let before = before.get(&after.node)?;
            Some((after.node, node_rates(before, after)?))
        })
        .collect();
    ClusterRates { nodes }
}

/// The rates of one node between two of its snapshots; `None` unless `after` was taken later
/// than `before` by the node's clock.
pub fn node_rates(before: &NodeSnapshot, after: &NodeSnapshot) -> Option<NodeRates> {
    let elapsed_ms = after.taken_at_ms.checked_sub(before.taken_at_ms)?;
    if elapsed_ms == 0 {
        return None;
    }
    let rate = |was: u64, is: u64| per_sec(was, is, elapsed_ms);
    let handled: HashMap<ActorId, u64> = before.actors.iter().map(|a| (a.id, a.messages_handled)).collect();
    let actors = after
        .actors
        .iter()
        .filter_map(|a| Some((a.id, rate(*handled.get(&a.id)?, a.messages_handled))))
        .collect();
    let traffic: HashMap<NodeId, (u64, u64)> = before
        .peers
        .iter()
        .map(|p| (p.id, (p.bytes_in, p.bytes_out)))
        .collect();
    let peers = after
        .peers
        .iter()
        .filter_map(|p| {
            let (was_in, was_out) = *traffic.get(&p.id)?;
            let rates = PeerRates {
                bytes_in_per_sec: rate(was_in, p.bytes_in),
                bytes_out_per_sec: rate(was_out, p.bytes_out),
            };
            Some((p.id, rates))
        })
        .collect();
    Some(NodeRates {
        messages_per_sec: rate(before.totals.messages_handled, after.totals.messages_handled),
        actors,
        peers,
    })
}

/// `(is - was)` per second over `elapsed_ms`; a counter that went down (it started over)
/// counts as no change rather than as a negative or huge rate.
pub fn per_sec(was: u64, is: u64, elapsed_ms: u64) -> f64 {
    if elapsed_ms == 0 {
        return 0.0;
    }
    is.saturating_sub(was) as f64 * 1000.0 / elapsed_ms as f64
}

/// The snapshots of the members that answered.
fn answered(cluster: &ClusterSnapshot) -> impl Iterator<Item = &NodeSnapshot> {
    cluster.nodes.iter().filter_map(|entry| match entry {
        NodeEntry::Snapshot(snapshot) => Some(snapshot),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{actor_id, cluster, node, node_id};

    #[test]
    fn per_sec_divides_the_delta_by_the_elapsed_seconds() {
        assert_eq!(per_sec(100, 150, 500), 100.0);
        assert_eq!(per_sec(0, 3, 1000), 3.0);
        assert_eq!(per_sec(7, 7, 250), 0.0);
    }

    #[test]
    fn per_sec_treats_a_counter_that_went_down_and_no_time_as_no_change() {
        assert_eq!(per_sec(150, 100, 500), 0.0);
        assert_eq!(per_sec(0, 100, 0), 0.0);
    }

    #[test]
    fn node_rates_give_node_actor_and_peer_rates_over_the_nodes_own_clock() {
        let before = node(1, "a", 10_000, 40, &[(1, 10), (2, 30)], &[(2, 1_000, 2_000)]);
        let after = node(1, "a", 10_500, 90, &[(1, 20), (2, 30)], &[(2, 1_500, 4_000)]);
        let rates = node_rates(&before, &after).expect("time went forward");
        assert_eq!(rates.messages_per_sec, 100.0);
        assert_eq!(rates.actors[&actor_id(1, 1)], 20.0);
        assert_eq!(rates.actors[&actor_id(1, 2)], 0.0);
        let peer = rates.peers[&node_id(2)];
        assert_eq!(peer.bytes_in_per_sec, 1_000.0);
        assert_eq!(peer.bytes_out_per_sec, 4_000.0);
    }

    #[test]
    fn node_rates_leave_out_actors_and_peers_seen_only_once() {
        let before = node(1, "a", 1_000, 0, &[(1, 5)], &[(2, 0, 0)]);
        let after = node(1, "a", 2_000, 9, &[(3, 9)], &[(3, 10, 10)]);
        let rates = node_rates(&before, &after).expect("time went forward");
        assert!(rates.actors.is_empty());
        assert!(rates.peers.is_empty());
        assert_eq!(rates.messages_per_sec, 9.0);
    }

    #[test]
    fn node_rates_are_none_when_the_clock_did_not_advance() {
        let before = node(1, "a", 2_000, 0, &[], &[]);
        assert_eq!(node_rates(&before, &before.clone()), None);
        let earlier = node(1, "a", 1_000, 5, &[], &[]);
        assert_eq!(node_rates(&before, &earlier), None);
    }

    #[test]
    fn cluster_rates_match_nodes_by_id_and_skip_unavailable_and_new_ones() {
        let previous = cluster(vec![
            Ok(node(1, "a", 1_000, 0, &[], &[])),
            Ok(node(2, "b", 5_000, 0, &[], &[])),
            Err((3, "c")),
        ]);
        let next = cluster(vec![
            Ok(node(1, "a", 2_000, 10, &[], &[])),
            Err((2, "b")),
            Ok(node(3, "c", 9_000, 10, &[], &[])),
            Ok(node(4, "d", 9_000, 10, &[], &[])),
        ]);
        let rates = cluster_rates(&previous, &next);
        assert_eq!(rates.nodes.len(), 1);
        assert_eq!(rates.nodes[&node_id(1)].messages_per_sec, 10.0);
    }
}
