//! Joining the cluster through the node's [`Discovery`]s: ask them for addresses, dial those
//! that are neither this node nor connected already, and ask again later: soon and then less
//! often while no peer is connected (backoff with jitter), every [`JoinPolicy::rejoin`] once
//! one is, so that nodes that came up since are found. A seed that is down does not fail
//! the node's start; it is tried again.
//!
//! What to dial and how long to wait are plain functions ([`to_dial`], [`JoinPolicy::wait`]),
//! tested without sockets or clocks; [`run`] only carries them out.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::discovery::Discovery;
use crate::backoff::Backoff;
use crate::net::Net;

/// How many addresses one round dials at most.
pub(crate) const DIALS_PER_ROUND: usize = 16;

/// When a node asks its discoveries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JoinPolicy {
    /// While no peer is connected: the waits between rounds.
    pub(crate) backoff: Backoff,
    /// Once a peer is connected: the wait between rounds.
    pub(crate) rejoin: Duration,
}

impl Default for JoinPolicy {
    fn default() -> Self {
        JoinPolicy {
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            rejoin: Duration::from_secs(30),
        }
    }
}

impl JoinPolicy {
    /// The wait before the next round, after `failures` rounds in a row that left the node
    /// without a peer (none if it has one).
    pub(crate) fn wait(&self, failures: usize, rng: &mut fastrand::Rng) -> Duration {
        match failures {
            0 => self.rejoin,
            failures => self.backoff.jittered(failures - 1, rng),
        }
    }
}

/// The addresses of `found` to dial: each once, in the order found, not this node's own
/// (`me`: bound and advertised), not one of a connected peer, at most [`DIALS_PER_ROUND`].
pub(crate) fn to_dial(found: &[SocketAddr], me: &[SocketAddr], connected: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut chosen: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !me.contains(addr) && !connected.contains(addr) && !chosen.contains(addr) {
            chosen.push(*addr);
        }
        if chosen.len() == DIALS_PER_ROUND {
            break;
        }
    }
    chosen
}

/// Asks `discoveries` and dials what they find, round after round, until the node closes.
pub(crate) async fn run(net: Weak<Net>, discoveries: Vec<Arc<dyn Discovery>>, policy: JoinPolicy) {
    let Some(mut closing) = net.upgrade().map(|net| net.closing()) else {
        return;
    };
    let mut rng = fastrand::Rng::new();
    let mut failures = 0;
    loop {
        let Some(net) = net.upgrade() else { return };
        let found = discover(&net, &discoveries).await;
        let connected: Vec<SocketAddr> = net
            .connected()
            .iter()
            .filter_map(|slot| slot.listen_addr())
            .collect();
        for addr in to_dial(&found, &[net.listen, net.advertised], &connected) {
            if net.is_closing() {
                return;
            }
            if let Err(error) = net.connect(addr).await {
                crate::trace::trace_event!(debug, node = %net.config.name, %addr, %error, "seed not reached");
            }
        }
        failures = match net.connected().is_empty() {
            true => failures + 1,
            false => 0,
        };
        let wait = policy.wait(failures, &mut rng);
        drop(net);
        tokio::select! {
            biased;
            _ = closing.wait_for(|closing| *closing) => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Every address the discoveries give now; a discovery that fails is logged and skipped.
async fn discover(net: &Net, discoveries: &[Arc<dyn Discovery>]) -> Vec<SocketAddr> {
    let mut found = Vec::new();
    for discovery in discoveries {
        match discovery.discover().await {
            Ok(addrs) => found.extend(addrs),
            Err(error) => {
                crate::trace::trace_event!(warn, node = %net.config.name, %error, "discovery failed")
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn dials_each_new_address_once_and_never_itself() {
        let found = [addr(1), addr(2), addr(1), addr(3), addr(4)];
        assert_eq!(to_dial(&found, &[addr(2)], &[addr(4)]), vec![addr(1), addr(3)]);
        let many: Vec<SocketAddr> = (1..100).map(addr).collect();
        assert_eq!(to_dial(&many, &[], &[]).len(), DIALS_PER_ROUND);
    }

    #[test]
    fn asks_again_soon_while_alone_and_seldom_once_joined() {
        let policy = JoinPolicy::default();
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(policy.wait(0, &mut rng), policy.rejoin);
        let first = policy.wait(1, &mut rng);
        assert!(
            first >= Duration::from_millis(100) && first <= Duration::from_millis(125),
            "{first:?}"
        );
        let later = policy.wait(30, &mut rng);
        assert!(
            later >= Duration::from_secs(5) && later <= Duration::from_millis(6250),
            "{later:?}"
        );
    }
}
