//! How a name registered on both sides of a healed partition is settled.
//!
//! Every node must reach the same answer on its own, whichever side it was on and in whatever
//! order it hears of the two owners: the resolver is asked with the owners sorted, and an
//! answer that is neither of them counts as the default (the lowest (node id, actor id)).

use std::sync::Arc;

use crate::actor::ActorId;

/// A user's choice of the owner that keeps a name registered on both sides of a healed
/// partition: given the name and the two owners, it returns one of them. Every node of the
/// cluster must use the same one, so that they all keep the same owner.
pub type ConflictResolver = dyn Fn(&str, ActorId, ActorId) -> ActorId + Send + Sync;

/// How a node settles name conflicts.
#[derive(Clone)]
pub(crate) struct ConflictPolicy {
    /// The user's resolver; `None` keeps the lowest owner.
    pub(crate) resolver: Option<Arc<ConflictResolver>>,
    /// Stop the losing owner (the default, as OTP does) or only tell subscribers.
    pub(crate) stop_losers: bool,
}

impl Default for ConflictPolicy {
    fn default() -> Self {
        ConflictPolicy {
            resolver: None,
            stop_losers: true,
        }
    }
}

impl std::fmt::Debug for ConflictPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConflictPolicy")
            .field("resolver", &self.resolver.as_ref().map(|_| "<user resolver>"))
            .field("stop_losers", &self.stop_losers)
            .finish()
    }
}

impl ConflictPolicy {
    /// The winner of `name` between `a` and `b`, ordered so that the answer does not depend on
    /// which side is asked; an answer that is neither owner counts as the default.
    pub(crate) fn winner(&self, name: &str, a: ActorId, b: ActorId) -> ActorId {
        let (low, high) = (a.min(b), a.max(b));
        match &self.resolver {
            Some(resolve) => match resolve(name, low, high) {
                chosen if chosen == low || chosen == high => chosen,
                _ => low,
            },
            None => low,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixtures::id;

    #[test]
    fn the_winner_does_not_depend_on_the_order_of_the_owners() {
        let (low, high) = (id(1, 9), id(2, 1));
        let lowest = ConflictPolicy::default();
        assert_eq!(lowest.winner("svc", low, high), low);
        assert_eq!(lowest.winner("svc", high, low), low);
        let highest = ConflictPolicy {
            resolver: Some(Arc::new(|_: &str, a: ActorId, b: ActorId| a.max(b))),
            stop_losers: false,
        };
        assert_eq!(highest.winner("svc", low, high), high);
        assert_eq!(highest.winner("svc", high, low), high);
        // An answer that is neither owner counts as the default.
        let stranger = ConflictPolicy {
            resolver: Some(Arc::new(|_: &str, _: ActorId, _: ActorId| id(7, 7))),
            stop_losers: true,
        };
        assert_eq!(stranger.winner("svc", high, low), low);
    }
}
