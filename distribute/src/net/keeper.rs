//! Connections on demand, for the members of a node that runs a membership.
//!
//! A member counts as up as long as the membership counts it in, connected or not: what is
//! sent to it waits in its queue (within the queue's bounds), and its keeper dials it when
//! something does, retrying with backoff until a connection is up or the membership declares
//! the member dead (then everything waiting fails with `NodeDown`). A connection on which
//! nothing was sent or received for the idle timeout (heartbeats aside), with nothing queued
//! and no call waiting, is closed in order: each side writes what it holds and
//! `Control::Idle`, and reads the other to its end, so nothing sent on it is lost.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::peer::PeerSlot;
use super::Net;

/// How often the keeper looks for idleness when no idle timeout is set: never, in effect.
const NO_IDLE_CHECK: Duration = Duration::from_secs(3600);

/// Looks after `slot` while its peer is up and the node runs.
pub(super) async fn keep(net: Weak<Net>, slot: Arc<PeerSlot>) {
    let Some((mut closing, idle_timeout, backoff)) = net.upgrade().map(|net| {
        let reconnect = net.config.reconnect.unwrap_or_default();
        (net.closing(), net.config.idle_timeout, reconnect.backoff())
    }) else {
        return;
    };
    let check = idle_timeout.map_or(NO_IDLE_CHECK, |idle| (idle / 4).max(Duration::from_millis(10)));
    let mut idle = Idleness::new(slot.activity(), Instant::now());
    let mut rng = fastrand::Rng::new();
    let mut failures = 0;
    loop {
        let wanted = slot.wanted.notified();
        tokio::pin!(wanted);
        wanted.as_mut().enable();
        if !slot.is_up() || *closing.borrow() {
            break;
        }
        let mut wait = check;
        let mut backing_off = false;
        if slot.wants_connection() {
            let revived = slot.revived.notified();
            tokio::pin!(revived);
            let dialled = tokio::select! {
                biased;
                () = &mut revived => Dialled::Revived,
                dialled = dial(&net, &slot) => dialled,
            };
            match dialled {
                Dialled::Revived => {
                    failures = 0;
                    continue;
                }
                Dialled::Connected if !slot.wants_connection() => {
                    failures = 0;
                    continue;
                }
                // Failed, or connected and at once without a connection again: not in a loop.
                Dialled::Connected | Dialled::Failed => {
                    wait = backoff.jittered(failures, &mut rng);
                    failures += 1;
                    backing_off = true;
                }
                Dialled::Gone => break,
            }
        }
        let revived = slot.revived.notified();
        tokio::select! {
            _ = closing.changed() => break,
            // More to send does not cut a backoff short.
            () = &mut wanted, if !backing_off => {}
            // Counted in again after it was down: dial at once, not after the backoff.
            () = revived => failures = 0,
            () = tokio::time::sleep(wait) => {}
        }
        if let Some(timeout) = idle_timeout {
            close_if_idle(&net, &slot, &mut idle, timeout);
        }
    }
    slot.stop_keeping();
    // A peer that came back up while the keeper was leaving needs one again.
    if slot.is_up() {
        if let Some(net) = net.upgrade() {
            net.keep(&slot);
        }
    }
}

/// How a dial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialled {
    Connected,
    /// Not this time: try again after a backoff.
    Failed,
    /// The peer was counted in again meanwhile: try again at once.
    Revived,
    /// The node is gone, or does not know where the peer listens.
    Gone,
}

/// Dials the peer of `slot`.
async fn dial(net: &Weak<Net>, slot: &Arc<PeerSlot>) -> Dialled {
    let Some(net) = net.upgrade() else {
        return Dialled::Gone;
    };
    let Some(addr) = net.member_addr(slot.id).or_else(|| slot.listen_addr()) else {
        return Dialled::Gone;
    };
    match net.connect(addr).await {
        Ok(id) if id == slot.id => Dialled::Connected,
        Ok(id) => {
            crate::trace::trace_event!(debug, member = %slot.id, found = %id, %addr, "another node listens where a member did");
            Dialled::Failed
        }
        Err(error) => {
            crate::trace::trace_event!(debug, member = %slot.id, %addr, %error, "dialling a member failed");
            Dialled::Failed
        }
    }
}

/// Closes the connection of `slot` if it has been idle for `timeout`.
fn close_if_idle(net: &Weak<Net>, slot: &PeerSlot, idle: &mut Idleness, timeout: Duration) {
    let now = Instant::now();
    if !idle.is_idle(slot.activity(), now, timeout) || !slot.is_quiet() {
        return;
    }
    let member = net.upgrade().is_some_and(|net| net.is_member(slot.id));
    if let (true, Some(connection)) = (member, slot.current_connection()) {
        slot.close_idle(connection);
        idle.restart(slot.activity(), now);
    }
}

/// Whether a count of traffic stood still for long enough: a plain function of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Idleness {
    seen: u64,
    since: Instant,
}

impl Idleness {
    fn new(seen: u64, now: Instant) -> Self {
        Idleness { seen, since: now }
    }

    /// Takes the sample `count` at `now`: true if the count has not moved for `timeout`.
    fn is_idle(&mut self, count: u64, now: Instant, timeout: Duration) -> bool {
        if count != self.seen {
            self.restart(count, now);
            return false;
        }
        now.duration_since(self.since) >= timeout
    }

    fn restart(&mut self, count: u64, now: Instant) {
        self.seen = count;
        self.since = now;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::Idleness;

    #[test]
    fn traffic_restarts_the_idle_clock_and_silence_ends_it() {
        let start = Instant::now();
        let timeout = Duration::from_secs(10);
        let at = |secs| start + Duration::from_secs(secs);
        let mut idle = Idleness::new(5, start);
        assert!(!idle.is_idle(5, at(9), timeout));
        assert!(!idle.is_idle(6, at(9), timeout), "a frame moved the count");
        assert!(!idle.is_idle(6, at(18), timeout), "only 9 s since that frame");
        assert!(idle.is_idle(6, at(19), timeout));
        idle.restart(6, at(19));
        assert!(!idle.is_idle(6, at(20), timeout));
    }
}
