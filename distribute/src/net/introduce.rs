//! Introductions: a peer tells us the nodes it knows, and we connect to those we are not
//! connected to, so that the cluster becomes a full mesh. Between nodes that run the
//! membership, none: it says who is in the cluster, and a node connects to a member when
//! it first needs to (see `keeper.rs`); a node that runs none is introduced, and introduced
//! to the others, as before.
//!
//! What a peer says about other nodes is not believed: no state is made for a node it
//! mentions, and it cannot make us dial at will. Of one introduction we dial at most
//! [`MAX_DIALS_PER_INTRODUCTION`] new addresses, at most [`MAX_CONCURRENT_DIALS`] at a time
//! over all introductions, each address once at a time, never our own listen address or one
//! that cannot be a node's (port 0, unspecified, multicast or broadcast), and an address
//! that could not be reached is left alone for [`COOLDOWN`]. Each dial tries a few times
//! with backoff (when the node reconnects at all), then gives up: a real node that we failed
//! to reach will be introduced again, or will connect to us.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::connection::connect;
use super::peer::PeerSlot;
use super::wire::{Control, KnownNode};
use super::Net;
use crate::actor::NodeId;
use crate::lock::lock;

/// New addresses dialled at most for one introduction.
pub(crate) const MAX_DIALS_PER_INTRODUCTION: usize = 8;

/// Introduced addresses being dialled at most at a time.
pub(crate) const MAX_CONCURRENT_DIALS: usize = 16;

/// How long an introduced address that could not be reached is not dialled again.
pub(crate) const COOLDOWN: Duration = Duration::from_secs(10);

/// Attempts per dial (when the node's policy reconnects at all).
const ATTEMPTS: usize = 3;

/// Addresses remembered as unreachable at most; past it the cooldown of new failures is
/// not recorded (the concurrency cap still holds).
const MAX_COOLING: usize = 1024;

/// The introduced addresses being dialled, and those that recently could not be reached.
#[derive(Debug, Default)]
pub(crate) struct Dials {
    in_flight: HashSet<SocketAddr>,
    cooling: HashMap<SocketAddr, Instant>,
}

/// What a node knows of itself when it sorts an introduction.
pub(crate) struct Me {
    pub(crate) id: NodeId,
    pub(crate) listen: SocketAddr,
}

impl Dials {
    /// Chooses which of the `known` nodes to dial now and counts them in flight: nodes that
    /// are neither us nor `connected`, at plausible addresses not being dialled or cooling
    /// down, each address once, within the caps.
    pub(crate) fn select(
        &mut self,
        known: &[KnownNode],
        me: &Me,
        connected: impl Fn(NodeId) -> bool,
        now: Instant,
    ) -> Vec<(NodeId, SocketAddr)> {
        self.cooling.retain(|_, until| *until > now);
        let mut chosen = Vec::new();
        for node in known {
            if chosen.len() >= MAX_DIALS_PER_INTRODUCTION || self.in_flight.len() >= MAX_CONCURRENT_DIALS {
                break;
            }
            let addr = node.addr;
            if node.id == me.id
                || addr == me.listen
                || !plausible(addr)
                || self.in_flight.contains(&addr)
                || self.cooling.contains_key(&addr)
                || connected(node.id)
            {
                continue;
            }
            self.in_flight.insert(addr);
            chosen.push((node.id, addr));
        }
        chosen
    }

    /// The dial of `addr` ended; if it failed, the address cools down until `now + COOLDOWN`.
    pub(crate) fn finished(&mut self, addr: SocketAddr, failed: bool, now: Instant) {
        self.in_flight.remove(&addr);
        if failed && self.cooling.len() < MAX_COOLING {
            self.cooling.insert(addr, now + COOLDOWN);
        }
    }
}

/// Whether `addr` could be where a node listens.
pub(super) fn plausible(addr: SocketAddr) -> bool {
    let ip = addr.ip();
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    addr.port() != 0 && !ip.is_unspecified() && !ip.is_multicast() && !broadcast
}

/// Dials the nodes a peer introduced that we should (see [`Dials::select`]).
pub(super) fn introduced(net: &Net, known: Vec<KnownNode>) {
    let me = Me {
        id: net.id,
        listen: net.advertised,
    };
    let chosen = lock(&net.dials).select(&known, &me, |id| net.connected_slot(id).is_some(), Instant::now());
    drop(known);
    for (id, addr) in chosen {
        let Some(net) = net.this() else { return };
        tokio::spawn(dial(net, id, addr));
    }
}

/// Introduces `peer`, whose listen address we just learned, to every other connected node.
///
/// A node introduces the nodes it knows to each node that connects, but it can introduce a
/// node only once it knows where that node listens, which the node tells in its first frame.
/// A peer that connected in between would never hear of it: so each peer is announced to
/// the others once, when its address becomes known (once per incarnation: the news cannot
/// be repeated to make us flood our peers).
pub(super) fn announce(net: &Net, peer: &PeerSlot) {
    let Some(addr) = peer.listen_addr() else { return };
    let known = vec![KnownNode {
        id: peer.id,
        name: peer.name(),
        addr,
    }];
    let others = net.connected().into_iter().filter(|other| other.id != peer.id);
    // Two nodes that both gossip with this one find each other through the membership.
    for other in others.filter(|other| !(net.gossips(other) && net.gossips(peer))) {
        other.send_control(&Control::Introduce {
            listen: Some(net.advertised),
            known: known.clone(),
        });
    }
}

/// Tries to reach the introduced node `id` at `addr` a few times, with backoff. A first
/// connection is not a reconnect: a node that never reconnects by itself still retries it,
/// or one lost handshake would leave the cluster without a link for good.
async fn dial(net: Arc<Net>, id: NodeId, addr: SocketAddr) {
    let attempts = ATTEMPTS;
    let backoff = net.config.reconnect.unwrap_or_default().backoff();
    let mut rng = fastrand::Rng::new();
    let mut reached = false;
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(backoff.jittered(attempt - 1, &mut rng)).await;
        }
        if net.is_closing() || net.connected_slot(id).is_some() {
            reached = true;
            break;
        }
        match connect(&net, addr).await {
            Ok(_) => {
                reached = true;
                break;
            }
            Err(error) => {
                crate::trace::trace_event!(debug, %addr, %error, "could not reach an introduced node")
            }
        }
    }
    lock(&net.dials).finished(addr, !reached, Instant::now());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64, addr: &str) -> KnownNode {
        KnownNode {
            id: NodeId::from_u64(id),
            name: format!("n{id}"),
            addr: addr
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 9))),
        }
    }

    fn me() -> Me {
        Me {
            id: NodeId::from_u64(1),
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
        }
    }

    #[test]
    fn skips_ourselves_our_address_connected_nodes_and_implausible_addresses() {
        let known = [
            node(1, "127.0.0.1:5000"),
            node(2, "127.0.0.1:4000"),
            node(3, "127.0.0.1:5003"),
            node(4, "0.0.0.0:5004"),
            node(5, "127.0.0.1:0"),
            node(6, "224.0.0.1:5006"),
            node(7, "255.255.255.255:5007"),
            node(8, "127.0.0.1:5008"),
        ];
        let mut dials = Dials::default();
        let chosen = dials.select(&known, &me(), |id| id == NodeId::from_u64(3), Instant::now());
        assert_eq!(chosen, vec![(NodeId::from_u64(8), known[7].addr)]);
    }

    #[test]
    fn dials_each_address_once_and_a_few_per_introduction() {
        let same: Vec<_> = (10..1000).map(|id| node(id, "127.0.0.1:6000")).collect();
        let mut dials = Dials::default();
        let now = Instant::now();
        assert_eq!(dials.select(&same, &me(), |_| false, now).len(), 1);
        assert!(
            dials.select(&same, &me(), |_| false, now).is_empty(),
            "already in flight"
        );
        let many: Vec<_> = (10..1000)
            .map(|id| node(id, &format!("127.0.0.1:{}", 7000 + id)))
            .collect();
        let first = dials.select(&many, &me(), |_| false, now);
        assert_eq!(first.len(), MAX_DIALS_PER_INTRODUCTION);
        let second = dials.select(&many, &me(), |_| false, now);
        assert_eq!(
            second.len(),
            MAX_CONCURRENT_DIALS - 1 - MAX_DIALS_PER_INTRODUCTION,
            "capped over all introductions"
        );
        assert!(dials.select(&many, &me(), |_| false, now).is_empty());
        dials.finished(first[0].1, false, now);
        assert_eq!(dials.select(&many, &me(), |_| false, now).len(), 1);
    }

    #[test]
    fn an_unreachable_address_cools_down_before_it_is_dialled_again() {
        let known = [node(10, "127.0.0.1:6000")];
        let mut dials = Dials::default();
        let now = Instant::now();
        assert_eq!(dials.select(&known, &me(), |_| false, now).len(), 1);
        dials.finished(known[0].addr, true, now);
        assert!(dials.select(&known, &me(), |_| false, now).is_empty());
        let later = now + COOLDOWN + Duration::from_millis(1);
        assert_eq!(dials.select(&known, &me(), |_| false, later).len(), 1);
    }
}
