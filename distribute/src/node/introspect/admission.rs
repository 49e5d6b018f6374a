//! Which introspection requests from peers a node answers: a plain function of what is in
//! progress and what is asked, tested without sockets or clocks.
//!
//! A snapshot costs the answering node a pass over its actor table, a question to each
//! supervisor and an answer of up to a frame. So a node answers at most
//! [`Limits::per_peer`] requests of one peer at once and [`Limits::total`] of all peers
//! together (so that many peers, or one cycling through node ids, cannot multiply it), and
//! none if it does not allow remote introspection at all. Requests count from their
//! admission to their answer.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::actor::NodeId;

/// Why a node did not answer a request with its snapshot, as the answer carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Refusal {
    /// The node does not allow remote introspection.
    Refused,
    /// Too many requests in progress: the asker's own (`limit` per peer), or all peers'.
    Busy { limit: u32 },
}

/// The bounds on requests in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) per_peer: usize,
    pub(crate) total: usize,
}

/// The requests of peers in progress.
#[derive(Debug, Default)]
pub(crate) struct Admission {
    in_flight: HashMap<NodeId, usize>,
}

impl Admission {
    /// Weighs a request from `peer`: admitted (and counted as in progress) or refused.
    pub(crate) fn admit(&mut self, peer: NodeId, limits: Limits, allowed: bool) -> Result<(), Refusal> {
        if !allowed {
            return Err(Refusal::Refused);
        }
        let mine = self.in_flight.get(&peer).copied().unwrap_or(0);
        if mine >= limits.per_peer {
            return Err(Refusal::Busy {
                limit: clamp(limits.per_peer),
            });
        }
        let all: usize = self.in_flight.values().sum();
        if all >= limits.total {
            return Err(Refusal::Busy {
                limit: clamp(limits.total),
            });
        }
        *self.in_flight.entry(peer).or_insert(0) += 1;
        Ok(())
    }

    /// A request of `peer` admitted earlier was answered (or its peer is gone).
    pub(crate) fn finish(&mut self, peer: NodeId) {
        if let Some(count) = self.in_flight.get_mut(&peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.in_flight.remove(&peer);
            }
        }
    }

    /// Requests in progress, all peers together.
    #[cfg(test)]
    fn in_progress(&self) -> usize {
        self.in_flight.values().sum()
    }
}

fn clamp(limit: usize) -> u32 {
    u32::try_from(limit).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        per_peer: 1,
        total: 2,
    };

    fn peer(n: u64) -> NodeId {
        NodeId::from_u64(n)
    }

    #[test]
    fn a_node_that_does_not_allow_introspection_refuses_every_request() {
        let mut admission = Admission::default();
        assert_eq!(admission.admit(peer(1), LIMITS, false), Err(Refusal::Refused));
        assert_eq!(admission.in_progress(), 0);
    }

    #[test]
    fn a_peer_with_a_request_in_progress_is_busy_until_it_is_answered() {
        let mut admission = Admission::default();
        assert_eq!(admission.admit(peer(1), LIMITS, true), Ok(()));
        assert_eq!(
            admission.admit(peer(1), LIMITS, true),
            Err(Refusal::Busy { limit: 1 })
        );
        admission.finish(peer(1));
        assert_eq!(admission.admit(peer(1), LIMITS, true), Ok(()));
    }

    #[test]
    fn all_peers_share_one_bound() {
        let mut admission = Admission::default();
        assert_eq!(admission.admit(peer(1), LIMITS, true), Ok(()));
        assert_eq!(admission.admit(peer(2), LIMITS, true), Ok(()));
        // A third node id changes nothing: the bound is the node's.
        assert_eq!(
            admission.admit(peer(3), LIMITS, true),
            Err(Refusal::Busy { limit: 2 })
        );
        admission.finish(peer(2));
        assert_eq!(admission.admit(peer(3), LIMITS, true), Ok(()));
    }

    #[test]
    fn a_late_or_repeated_finish_never_drives_a_count_below_zero() {
        let mut admission = Admission::default();
        admission.finish(peer(1));
        assert_eq!(admission.admit(peer(1), LIMITS, true), Ok(()));
        admission.finish(peer(1));
        admission.finish(peer(1));
        assert_eq!(admission.in_progress(), 0);
        assert_eq!(admission.admit(peer(1), LIMITS, true), Ok(()));
    }
}
