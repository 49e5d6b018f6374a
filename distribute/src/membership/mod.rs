//! Membership: how a node finds and joins the other nodes of its cluster, and who is in it.
//!
//! [`Discovery`] gives addresses (a fixed list, DNS names, or the user's own source); the
//! node dials them when it starts and again now and then, so that a seed that is down at
//! start is joined once it is up. Beside its connections, every node runs SWIM (through
//! foca) over datagrams on its own port, authenticated with the cluster's key: members probe
//! each other directly and through others, suspect those that do not answer, and spread who
//! joined, left or was declared down; [`Node::members`](crate::Node::cluster_members) is the view.
//! The membership, not a connection, says who is down: the network connects to members on
//! demand and counts a member down only once it is declared dead (its connection, if any,
//! is cut then), and the registry's replicas are the members. A member declared down that
//! comes back under a newer generation within two probe periods (it rejoined after a
//! healed partition) is not reported down at all, and a node left without anyone to talk
//! to keeps announcing itself to the members it knew. A member that holds the cookie is
//! believed as SWIM believes any member: it can make others suspect or declare down a live
//! member, which refutes the suspicion or rejoins under a new generation; what it can make a
//! node store is capped, but such lies are bounded, not prevented. Above the network layer,
//! below the registry.

pub mod discovery;
pub(crate) mod gossip;
pub(crate) mod join;
pub(crate) mod member;
pub(crate) mod swim;

pub use discovery::{DiscoverFuture, Discovery, DiscoveryError, DnsSeeds, StaticSeeds};
pub use gossip::MemberInfo;

use std::time::Duration;

/// How the membership decides that a member is dead (set with
/// [`NodeBuilder::failure_detection`](crate::NodeBuilder::failure_detection)): every probe
/// period each node probes one member; one that does not answer within the probe timeout,
/// directly or through others, is suspected; one suspected for the suspicion time (and
/// that did not refute it) is declared down by the cluster. A dead node is thus declared
/// down after about one or two probe periods plus the suspicion time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureDetection {
    /// How often a node probes a member (at least 20 ms).
    pub probe_period: Duration,
    /// How long a probe waits for a direct answer before asking others (at least 10 ms,
    /// at most half the probe period).
    pub probe_timeout: Duration,
    /// How long a member stays suspect before it is declared down (at least 10 ms).
    pub suspicion: Duration,
}

impl FailureDetection {
    /// Timings for a LAN, as SWIM's authors and foca suggest for a cluster of about
    /// `expected` nodes: probes every second, 500 ms to answer, and a suspicion long enough
    /// for a refutation to reach every node (about 4.8 s for 16 nodes).
    pub fn lan(expected: u32) -> Self {
        let timings = swim::SwimTimings::lan(expected);
        FailureDetection {
            probe_period: timings.probe_period,
            probe_timeout: timings.probe_rtt,
            suspicion: timings.suspicion,
        }
    }
}

impl Default for FailureDetection {
    /// [`lan`](Self::lan) for 16 nodes.
    fn default() -> Self {
        FailureDetection::lan(gossip::EXPECTED_NODES)
    }
}
