//! Reaching a lost peer again: exponential backoff with jitter (the crate's one
//! [`Backoff`](crate::backoff::Backoff)), until the peer is up, the node closes, or the
//! policy gives up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::connection::connect;
use super::peer::PeerSlot;
use super::Net;
use crate::backoff::Backoff;

/// Reconnection policy after a connection is lost (not after an orderly shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    /// First delay; each failed attempt doubles it, with up to 25 % of random jitter.
    pub initial: Duration,
    /// Longest delay between attempts.
    pub max: Duration,
    /// Give up after trying for this long.
    pub give_up_after: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(5),
            give_up_after: Duration::from_secs(60),
        }
    }
}

impl Reconnect {
    /// The waits between attempts.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.initial, self.max)
    }
}

/// Tries to reach the peer of `slot` at `addr` until it is up (through this or another
/// connection), the node closes, or the policy gives up.
pub(super) async fn reconnect_loop(net: Arc<Net>, slot: Arc<PeerSlot>, addr: SocketAddr, policy: Reconnect) {
    let started = tokio::time::Instant::now();
    let backoff = policy.backoff();
    let mut rng = fastrand::Rng::new();
    let mut failures = 0;
    while started.elapsed() < policy.give_up_after && !net.is_closing() && !slot.is_up() {
        tokio::time::sleep(backoff.jittered(failures, &mut rng)).await;
        if slot.is_up() || net.is_closing() {
            return;
        }
        match connect(&net, addr).await {
            Ok(id) if id == slot.id => return,
            Ok(id) => {
                crate::trace::trace_event!(info, old = %slot.id, new = %id, %addr, "peer restarted under a new id");
                return;
            }
            Err(error) => crate::trace::trace_event!(debug, %addr, %error, "reconnect failed"),
        }
        failures += 1;
    }
}
