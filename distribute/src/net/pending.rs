//! The incoming connections of a listener that have not finished their handshake, capped:
//! when a new one arrives at the cap, the oldest is dropped to make room.
//!
//! Dropping the oldest rather than refusing the newest is what keeps a flood of idle sockets
//! from locking real peers out: an idle socket waits out the handshake deadline, while a real
//! peer finishes its handshake in about a millisecond, so a real peer's connection is almost
//! never the oldest. Together with the deadline this bounds the descriptors and memory that
//! sockets which never speak can hold.

use std::collections::VecDeque;

/// Handshakes in progress, oldest first, each with what drops it (`T`).
#[derive(Debug)]
pub(crate) struct Pending<T> {
    cap: usize,
    next: u64,
    entries: VecDeque<(u64, T)>,
}

impl<T> Pending<T> {
    /// At most `cap` (at least one) handshakes at a time.
    pub(crate) fn new(cap: usize) -> Self {
        Pending {
            cap: cap.max(1),
            next: 0,
            entries: VecDeque::new(),
        }
    }

    /// Admits a new handshake; returns its ticket and, if the cap was reached, the oldest
    /// handshake's `T`, which the caller drops.
    pub(crate) fn admit(&mut self, drop_it: T) -> (u64, Option<T>) {
        let evicted = if self.entries.len() >= self.cap {
            self.entries.pop_front().map(|(_, oldest)| oldest)
        } else {
            None
        };
        let ticket = self.next;
        self.next = self.next.wrapping_add(1);
        self.entries.push_back((ticket, drop_it));
        (ticket, evicted)
    }

    /// The handshake of `ticket` ended (done, failed or dropped).
    pub(crate) fn finish(&mut self, ticket: u64) {
        if let Some(at) = self.entries.iter().position(|(t, _)| *t == ticket) {
            self.entries.remove(at);
        }
    }

    /// Handshakes in progress.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Pending;

    #[test]
    fn at_the_cap_the_oldest_pending_handshake_makes_room() {
        let mut pending = Pending::new(3);
        let tickets: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let (ticket, evicted) = pending.admit(name);
                assert_eq!(evicted, None);
                ticket
            })
            .collect();
        assert_eq!(pending.admit("d").1, Some("a"));
        // A finished handshake leaves the queue; the next eviction skips it.
        pending.finish(tickets[1]);
        assert_eq!(pending.len(), 2);
        assert_eq!(pending.admit("e").1, None);
        assert_eq!(pending.admit("f").1, Some("c"));
        assert_eq!(pending.admit("g").1, Some("d"));
        assert_eq!(pending.len(), 3);
    }

    #[test]
    fn finishing_an_evicted_or_unknown_ticket_changes_nothing() {
        let mut pending = Pending::new(1);
        let (first, _) = pending.admit(1);
        let (second, evicted) = pending.admit(2);
        assert_eq!(evicted, Some(1));
        pending.finish(first);
        pending.finish(999);
        assert_eq!(pending.len(), 1);
        pending.finish(second);
        assert_eq!(pending.len(), 0);
        assert_eq!(Pending::<u8>::new(0).admit(0).1, None, "a cap of zero admits one");
    }
}
