//! The peer's actors this node has learnt have stopped: what a remote ref's `is_alive`
//! answers from.
//!
//! A node learns that one of a peer's actors stopped only when it asked: a DOWN for one of its
//! monitors (which `stop` and `wait_for_stop` on a remote ref set too), or the exit of a linked
//! actor. Both come from the peer itself about its own actors, so a peer can only speak for
//! what it hosts. The set is bounded: past [`MAX_KNOWN_STOPPED`] the oldest entries are
//! forgotten, and a ref to such an actor reads as alive again until a new monitor says
//! otherwise (an actor that stopped stays stopped, so the monitor fires at once).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use crate::lock::lock;

/// How many stopped actors of one peer are remembered.
pub(crate) const MAX_KNOWN_STOPPED: usize = 4096;

/// The numbers of a peer's actors known to have stopped, oldest first.
#[derive(Default)]
pub(crate) struct KnownStopped {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl KnownStopped {
    /// Remembers that the peer's actor `local` stopped.
    pub(crate) fn record(&self, local: u64) {
        let mut inner = lock(&self.inner);
        if !inner.set.insert(local) {
            return;
        }
        inner.order.push_back(local);
        if inner.order.len() > MAX_KNOWN_STOPPED {
            if let Some(oldest) = inner.order.pop_front() {
                inner.set.remove(&oldest);
            }
        }
    }

    /// Whether the peer's actor `local` is known to have stopped.
    pub(crate) fn contains(&self, local: u64) -> bool {
        lock(&self.inner).set.contains(&local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_stopped_actors_up_to_the_bound_forgetting_the_oldest() {
        let known = KnownStopped::default();
        for local in 0..=MAX_KNOWN_STOPPED as u64 {
            known.record(local);
        }
        known.record(5);
        assert!(!known.contains(0), "the oldest was forgotten");
        assert!(known.contains(1) && known.contains(5));
        assert!(known.contains(MAX_KNOWN_STOPPED as u64));
        assert_eq!(lock(&known.inner).order.len(), MAX_KNOWN_STOPPED);
    }
}
