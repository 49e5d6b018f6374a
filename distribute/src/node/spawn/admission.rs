//! Which spawn requests from peers a node takes on: the bounds, as a plain function of what
//! is running and what is asked, tested without sockets or clocks.
//!
//! A peer that holds the cookie can ask a node to start actors; each one costs memory until
//! it stops. Two bounds hold that cost:
//!
//! - requests in progress per peer (an actor whose `started` hook runs, a name being
//!   registered): a peer past it is answered [`Refusal::Busy`] at once;
//! - actors that peers started and that still run, all peers together: past it a request is
//!   answered [`Refusal::TooMany`]. The bound is the node's, not per peer, so that a cookie
//!   holder cycling through node ids cannot multiply it.
//!
//! Requests count from their admission to their answer; actors from their start until they
//! stop (a stopped one is forgotten the next time a request is weighed).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::actor::NodeId;
use crate::net::wire::WireReason;

/// Why a node did not start what a peer asked for, as the answer carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Refusal {
    /// No actor type of this name may be spawned here by peers.
    UnknownType,
    /// The type is allowed, but its protocol here has this fingerprint, not the asker's.
    ProtocolMismatch { found: u64 },
    /// The start arguments did not decode as the type's arguments.
    BadArgs(String),
    /// The actor's `started` hook failed.
    StartFailed(WireReason),
    /// The actor started, but the name could not be registered; the actor was stopped.
    Register(String),
    /// The asking peer has this many requests in progress already.
    Busy { limit: u32 },
    /// Peers have this many actors running here already.
    TooMany { limit: u32 },
    /// The node is shutting down.
    ShuttingDown,
}

/// The bounds on what peers may start here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Requests in progress per peer.
    pub(crate) in_flight_per_peer: usize,
    /// Actors started by peers that still run, all peers together.
    pub(crate) running: usize,
}

/// What is in progress and running on behalf of peers.
#[derive(Debug, Default)]
pub(crate) struct Admission {
    in_flight: HashMap<NodeId, usize>,
    /// The local numbers of the actors peers started, in start order.
    running: Vec<u64>,
}

impl Admission {
    /// Weighs a request from `peer`: admitted (and counted as in progress) or refused.
    /// `alive` says whether one of the actors started earlier still runs.
    pub(crate) fn admit(
        &mut self,
        peer: NodeId,
        limits: Limits,
        alive: impl Fn(u64) -> bool,
    ) -> Result<(), Refusal> {
        let in_flight = self.in_flight.get(&peer).copied().unwrap_or(0);
        if in_flight >= limits.in_flight_per_peer {
            return Err(Refusal::Busy {
                limit: clamp(limits.in_flight_per_peer),
            });
        }
        let in_progress: usize = self.in_flight.values().sum();
        if self.running.len() + in_progress >= limits.running {
            self.running.retain(|&local| alive(local));
        }
        if self.running.len() + in_progress >= limits.running {
            return Err(Refusal::TooMany {
                limit: clamp(limits.running),
            });
        }
        *self.in_flight.entry(peer).or_insert(0) += 1;
        Ok(())
    }

    /// A request of `peer` admitted earlier is answered: `started` is the actor it started,
    /// if it did.
    pub(crate) fn finish(&mut self, peer: NodeId, started: Option<u64>) {
        if let Some(count) = self.in_flight.get_mut(&peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.in_flight.remove(&peer);
            }
        }
        self.running.extend(started);
    }

    /// Actors started by peers and counted as running (some may have stopped since).
    #[cfg(test)]
    fn counted(&self) -> usize {
        self.running.len()
    }
}

fn clamp(limit: usize) -> u32 {
    u32::try_from(limit).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        in_flight_per_peer: 2,
        running: 3,
    };

    fn peer(n: u64) -> NodeId {
        NodeId::from_u64(n)
    }

    #[test]
    fn a_peer_past_its_requests_in_progress_is_busy_and_others_are_not() {
        let mut admission = Admission::default();
        assert_eq!(admission.admit(peer(1), LIMITS, |_| true), Ok(()));
        assert_eq!(admission.admit(peer(1), LIMITS, |_| true), Ok(()));
        assert_eq!(
            admission.admit(peer(1), LIMITS, |_| true),
            Err(Refusal::Busy { limit: 2 })
        );
        assert_eq!(admission.admit(peer(2), LIMITS, |_| true), Ok(()));
        admission.finish(peer(1), None);
        assert_eq!(admission.admit(peer(1), LIMITS, |_| true), Ok(()));
    }

    #[test]
    fn running_actors_of_all_peers_share_one_bound() {
        let mut admission = Admission::default();
        for (n, local) in [(1, 10), (2, 11), (3, 12)] {
            assert_eq!(admission.admit(peer(n), LIMITS, |_| true), Ok(()));
            admission.finish(peer(n), Some(local));
        }
        // A fourth node id changes nothing: the bound is the node's.
        assert_eq!(
            admission.admit(peer(4), LIMITS, |_| true),
            Err(Refusal::TooMany { limit: 3 })
        );
    }

    #[test]
    fn requests_in_progress_count_against_the_running_bound() {
        let mut admission = Admission::default();
        admission.admit(peer(1), LIMITS, |_| true).unwrap();
        admission.admit(peer(1), LIMITS, |_| true).unwrap();
        admission.admit(peer(2), LIMITS, |_| true).unwrap();
        assert_eq!(
            admission.admit(peer(3), LIMITS, |_| true),
            Err(Refusal::TooMany { limit: 3 })
        );
    }

    #[test]
    fn stopped_actors_are_forgotten_when_the_bound_is_reached() {
        let mut admission = Admission::default();
        for local in [10, 11, 12] {
            admission.admit(peer(1), LIMITS, |_| true).unwrap();
            admission.finish(peer(1), Some(local));
        }
        // 11 has stopped: room for one more.
        assert_eq!(admission.admit(peer(1), LIMITS, |local| local != 11), Ok(()));
        assert_eq!(admission.counted(), 2);
        admission.finish(peer(1), Some(13));
        assert_eq!(
            admission.admit(peer(1), LIMITS, |local| local != 11),
            Err(Refusal::TooMany { limit: 3 })
        );
    }

    #[test]
    fn a_failed_request_frees_its_place_and_counts_no_actor() {
        let mut admission = Admission::default();
        admission.admit(peer(1), LIMITS, |_| true).unwrap();
        admission.finish(peer(1), None);
        assert_eq!(admission.counted(), 0);
        // A late or repeated answer cannot drive a count below zero.
        admission.finish(peer(1), None);
        for _ in 0..2 {
            assert_eq!(admission.admit(peer(1), LIMITS, |_| true), Ok(()));
        }
    }
}
