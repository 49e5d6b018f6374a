//! Name conflicts: reported once on each node, and on every node.
//!
//! A conflict (two owners of one name, from two sides of a partition) is settled wherever
//! the two owners meet: in a merge, a snapshot, a commit. Two actors of one node are never
//! on two sides: which of them holds a name is that node's word, taken without a conflict
//! elsewhere; that node alone settles a clash between them (its claim, still waiting, granted
//! while the other held the name), and announces the loss as below. On one node they can meet several
//! times (a peer's snapshot, then the sequencer's sync, then a third node's snapshot), and a
//! node that held neither owner may never see the loser at all: by the time it hears from
//! the loser's side, the loser may be stopped and its name released. So:
//!
//! - a node reports each (name, loser) once; later sightings are dropped
//!   ([`Registry::finished`] runs at the end of every input);
//! - the loser's node, which always sees the conflict (its own replica gives its actor's
//!   name away), announces it ([`RegistryMsg::Lost`]) to its sequencer, which passes it on to
//!   every other node; for [`ANNOUNCED_FOR`], both tell it to each node they greet that they
//!   had met before the loss (a node cut off at the time); each reports it in turn. A node met
//!   only after the loss (one that started since, such as a crashed node's next incarnation)
//!   was not part of the conflict and is not told of it. Only the loser's node, or the
//!   sequencer passing its word on, may announce a loss (the loser's node is the authority on
//!   its own actors), and the announcement only reports: it changes no replica and stops no
//!   actor.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::outputs::{Conflict, Outputs};
use super::Registry;
use crate::actor::{ActorId, NodeId};
use crate::registry::wire::RegistryMsg;

/// How many reported (name, loser) pairs a node remembers: past it the oldest is forgotten
/// (a very late duplicate of it would be reported again).
const REMEMBERED: usize = 4096;

/// How long a node announces a loss of its own actors to the nodes that connect.
pub(crate) const ANNOUNCED_FOR: Duration = Duration::from_secs(30);

/// How many recent losses a node announces at most (the newest).
const ANNOUNCED_AT_MOST: usize = 1024;

/// Conflicts reported here, and this node's recent losses.
#[derive(Debug, Default)]
pub(super) struct Conflicts {
    /// The (name, loser) pairs reported here, with when each was first.
    reported: BTreeMap<(String, ActorId), Duration>,
    order: VecDeque<(String, ActorId)>,
    /// This node's actors' recent losses, and those it passed on as the sequencer: when, and
    /// the conflict.
    losses: VecDeque<(Duration, Conflict)>,
    /// When this node first met each peer (the most recent [`REMEMBERED`]).
    met: BTreeMap<NodeId, Duration>,
    met_order: VecDeque<NodeId>,
}

impl Conflicts {
    /// True the first time (`now`) `loser` is reported to have lost `name` here.
    fn first_report(&mut self, name: &str, loser: ActorId, now: Duration) -> bool {
        let key = (name.to_owned(), loser);
        if self.reported.contains_key(&key) {
            return false;
        }
        if self.order.len() >= REMEMBERED {
            if let Some(oldest) = self.order.pop_front() {
                self.reported.remove(&oldest);
            }
        }
        self.reported.insert(key.clone(), now);
        self.order.push_back(key);
        true
    }

    /// When `loser`'s loss of `name` was first reported here, if it was.
    fn reported_at(&self, name: &str, loser: ActorId) -> Option<Duration> {
        self.reported.get(&(name.to_owned(), loser)).copied()
    }

    /// Remembers a loss that happened (was first heard of here) at `at`, to announce, unless
    /// remembered already; forgets those past their time.
    fn remember_loss(&mut self, conflict: Conflict, at: Duration, now: Duration) {
        if self.losses.iter().any(|(_, known)| *known == conflict) {
            return;
        }
        if self.losses.len() >= ANNOUNCED_AT_MOST {
            self.losses.pop_front();
        }
        self.losses.push_back((at, conflict));
        self.expire(now);
    }

    /// Whether this node met `peer` by `at` (or does not remember it).
    fn met_by(&self, peer: NodeId, at: Duration) -> bool {
        self.met.get(&peer).is_none_or(|met| *met <= at)
    }

    /// When this node first met `peer`: now, if it had not met it before.
    fn meet(&mut self, peer: NodeId, now: Duration) -> Duration {
        if let Some(at) = self.met.get(&peer) {
            return *at;
        }
        if self.met_order.len() >= REMEMBERED {
            if let Some(oldest) = self.met_order.pop_front() {
                self.met.remove(&oldest);
            }
        }
        self.met.insert(peer, now);
        self.met_order.push_back(peer);
        now
    }

    fn expire(&mut self, now: Duration) {
        while let Some((at, _)) = self.losses.front() {
            if now.saturating_sub(*at) < ANNOUNCED_FOR {
                break;
            }
            self.losses.pop_front();
        }
    }
}

fn lost(conflict: &Conflict) -> RegistryMsg {
    RegistryMsg::Lost {
        name: conflict.name.clone(),
        winner: conflict.winner,
        loser: conflict.loser,
    }
}

impl Registry {
    /// Ends an input: drops the conflicts reported here before; a new loss of one of this
    /// node's actors is announced (through the sequencer) to every node.
    /// Also keeps this node's order towards a claimant whose commit it holds (see
    /// `keep_claimants_order`).
    pub(super) fn finished(&mut self, mut out: Outputs, now: Duration) -> Outputs {
        let found = std::mem::take(&mut out.conflicts);
        for conflict in found {
            if !self.conflicts.first_report(&conflict.name, conflict.loser, now) {
                continue;
            }
            if conflict.loser.node() == self.me {
                self.spread(&lost(&conflict), &mut out);
                self.conflicts.remember_loss(conflict.clone(), now, now);
            }
            out.conflicts.push(conflict);
        }
        self.keep_claimants_order(&mut out);
        out
    }

    /// This node meets `peer` (if it had not before): the losses announced to it from now on
    /// are those after this moment.
    pub(super) fn meet(&mut self, peer: NodeId, now: Duration) {
        self.conflicts.meet(peer, now);
    }

    /// Tells `peer`, which just connected, of this node's recent losses that happened after
    /// this node first met it.
    pub(super) fn announce_losses_to(&mut self, peer: NodeId, now: Duration, out: &mut Outputs) {
        self.conflicts.expire(now);
        let met = self.conflicts.meet(peer, now);
        for (_, conflict) in self.conflicts.losses.iter().filter(|(at, _)| met < *at) {
            out.send(peer, lost(conflict));
        }
    }

    /// The node of `loser`, or the sequencer passing its word on (`from`, as
    /// [`admit`](Self::admit) checked), says it lost `name` to `winner`: reported here (once),
    /// and, if this node is the sequencer and `from` the loser's node, passed on to every other
    /// node (and to those greeted for a while).
    pub(super) fn heard_of_loss(
        &mut self,
        from: NodeId,
        name: String,
        (winner, loser): (ActorId, ActorId),
        now: Duration,
        out: &mut Outputs,
    ) {
        let conflict = Conflict { name, winner, loser };
        if self.sequencer() == self.me && from == loser.node() {
            // Only to the nodes that were around when it happened (as this node first heard
            // of it): the loser's node may be telling it again, long after.
            let at = self.conflicts.reported_at(&conflict.name, loser).unwrap_or(now);
            let msg = lost(&conflict);
            let conflicts = &self.conflicts;
            for peer in self.peers.connected().iter().filter(|peer| **peer != from) {
                if conflicts.met_by(*peer, at) {
                    out.send(*peer, msg.clone());
                }
            }
            self.conflicts.remember_loss(conflict.clone(), at, now);
        }
        out.conflicts.push(conflict);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixtures::{id, node};

    fn conflict(loser: ActorId) -> Conflict {
        Conflict {
            name: "svc".into(),
            winner: id(1, 1),
            loser,
        }
    }

    #[test]
    fn a_loser_is_reported_once_and_the_memory_is_bounded() {
        let mut conflicts = Conflicts::default();
        assert!(conflicts.first_report("svc", id(1, 1), Duration::from_secs(1)));
        assert!(!conflicts.first_report("svc", id(1, 1), Duration::from_secs(2)));
        assert_eq!(
            conflicts.reported_at("svc", id(1, 1)),
            Some(Duration::from_secs(1)),
            "the first"
        );
        assert!(
            conflicts.first_report("svc", id(2, 1), Duration::from_secs(1)),
            "another loser of the name"
        );
        assert!(
            conflicts.first_report("other", id(1, 1), Duration::from_secs(1)),
            "the same loser of another name"
        );
        for n in 0..REMEMBERED as u64 {
            conflicts.first_report("filler", id(9, n), Duration::from_secs(1));
        }
        assert_eq!(conflicts.reported.len(), REMEMBERED);
        assert_eq!(conflicts.reported_at("svc", id(1, 1)), None, "forgotten");
        assert!(
            conflicts.first_report("svc", id(1, 1), Duration::from_secs(1)),
            "forgotten past the bound"
        );
    }

    #[test]
    fn a_peer_first_met_after_a_loss_is_not_told_of_it() {
        let mut conflicts = Conflicts::default();
        let (before, after) = (node(7), node(8));
        assert_eq!(
            conflicts.meet(before, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        conflicts.remember_loss(conflict(id(2, 1)), Duration::from_secs(5), Duration::from_secs(5));
        assert!(conflicts.met_by(before, Duration::from_secs(5)));
        assert_eq!(
            conflicts.meet(after, Duration::from_secs(9)),
            Duration::from_secs(9)
        );
        assert_eq!(
            conflicts.meet(before, Duration::from_secs(9)),
            Duration::from_secs(1),
            "the first meeting counts, not the reconnection"
        );
        assert!(
            !conflicts.met_by(after, Duration::from_secs(5)),
            "met after the loss"
        );
        for n in 0..REMEMBERED as u64 {
            conflicts.meet(node(100 + n), Duration::from_secs(10));
        }
        assert_eq!(conflicts.met.len(), REMEMBERED, "bounded");
    }

    #[test]
    fn losses_are_announced_for_a_while_and_at_most_so_many() {
        let mut conflicts = Conflicts::default();
        let start = Duration::from_secs(100);
        conflicts.remember_loss(conflict(id(2, 1)), start, start);
        conflicts.remember_loss(conflict(id(2, 1)), start, start);
        assert_eq!(conflicts.losses.len(), 1, "remembered once");
        conflicts.expire(start + ANNOUNCED_FOR - Duration::from_millis(1));
        assert_eq!(conflicts.losses.len(), 1);
        conflicts.expire(start + ANNOUNCED_FOR);
        assert!(conflicts.losses.is_empty());
        for n in 0..ANNOUNCED_AT_MOST as u64 + 10 {
            conflicts.remember_loss(conflict(id(2, n)), start, start);
        }
        assert_eq!(conflicts.losses.len(), ANNOUNCED_AT_MOST);
    }
}
