//! Decisions that arrived before their owner's node: a name the sequencer committed for an
//! actor of a node this node does not see up yet, and group memberships the sequencer passed
//! on for one.
//!
//! A node that joins connects to every member, one connection at a time; it may register a
//! name as soon as it is connected to the sequencer, whose commit can then reach a third node
//! before that node has the joiner's connection up. Nothing is stored for a node that is not
//! a member, so the third node used to drop the name and, as no later message carried it
//! again, keep a replica without it for good (found by ten processes joining one after
//! another, `tests/registry_faults.rs`). Such a decision now waits here, in the sequencer's
//! order, and is taken when the owner's node comes up; a later decision on the name
//! supersedes it, and the owner's node going down drops it. Memberships wait the same way.
//!
//! A name waits only in the order of the sequencer that decided it: when this node's
//! sequencer changes, what waited is dropped. Kept, it could be stale by the time its owner's
//! node comes up (released since, in an order this node was cut off from), and taking it then
//! would set it outside any order, on this node alone: the new sequencer, if it is this node,
//! hears what the owner's actors hold from the owner's own replica, which it is greeted with;
//! any other sends its replica, which this node asks for, and what it holds for a node not up
//! here waits again (found by the registry simulation at 80 000 schedules, seeds 12170, 36043,
//! 43791, 77620).
//! At most [`AWAITED_AT_MOST`] names and as many memberships wait (the oldest dropped
//! first): what a peer can make this node keep stays bounded.

use std::collections::VecDeque;

use crate::actor::{ActorId, NodeId};
use crate::registry::wire::GlobalEntry;

/// How many decisions wait at most.
pub(super) const AWAITED_AT_MOST: usize = 1024;

/// Decisions waiting for their owner's node, oldest first.
#[derive(Debug, Default)]
pub(super) struct Awaiting {
    entries: VecDeque<(String, GlobalEntry)>,
    /// Group memberships: (group, member).
    members: VecDeque<(String, GlobalEntry)>,
}

impl Awaiting {
    /// Keeps `name` for `entry` until its owner's node comes up, superseding what waited
    /// for the name.
    pub(super) fn hold(&mut self, name: &str, entry: GlobalEntry) {
        self.forget_name(name);
        if self.entries.len() >= AWAITED_AT_MOST {
            self.entries.pop_front();
        }
        self.entries.push_back((name.to_owned(), entry));
    }

    /// A later decision on `name` was taken: what waited for it is superseded.
    pub(super) fn forget_name(&mut self, name: &str) {
        if !self.entries.is_empty() {
            self.entries.retain(|(waiting, _)| waiting != name);
        }
    }

    /// This node's sequencer changed: the names that waited were decided in the last one's
    /// order, and are dropped.
    pub(super) fn forget_names(&mut self) {
        self.entries.clear();
    }

    /// `owner` released `name`.
    pub(super) fn forget(&mut self, name: &str, owner: ActorId) {
        if !self.entries.is_empty() {
            self.entries
                .retain(|(waiting, entry)| waiting != name || entry.owner != owner);
        }
    }

    /// The decisions that waited for `node`, in order; they wait no longer.
    pub(super) fn take_for(&mut self, node: NodeId) -> Vec<(String, GlobalEntry)> {
        let (taken, kept): (Vec<_>, Vec<_>) = self
            .entries
            .drain(..)
            .partition(|(_, entry)| entry.owner.node() == node);
        self.entries = kept.into();
        taken
    }

    /// `node` went down: what waited for it is dropped.
    pub(super) fn forget_node(&mut self, node: NodeId) {
        self.entries.retain(|(_, entry)| entry.owner.node() != node);
        self.members.retain(|(_, member)| member.owner.node() != node);
    }

    /// Keeps `member` of `group` until its node comes up.
    pub(super) fn hold_member(&mut self, group: &str, member: GlobalEntry) {
        self.drop_member(group, member.owner);
        if self.members.len() >= AWAITED_AT_MOST {
            self.members.pop_front();
        }
        self.members.push_back((group.to_owned(), member));
    }

    /// `member` left `group`.
    pub(super) fn drop_member(&mut self, group: &str, member: ActorId) {
        self.members
            .retain(|(held, entry)| held != group || entry.owner != member);
    }

    /// `node`'s actors' memberships are `members` now (each one of `node`'s).
    pub(super) fn replace_members_of(&mut self, node: NodeId, members: Vec<(String, GlobalEntry)>) {
        self.members.retain(|(_, entry)| entry.owner.node() != node);
        for (group, member) in members {
            if member.owner.node() == node {
                self.hold_member(&group, member);
            }
        }
    }

    /// The sequencer's whole view of the memberships of nodes not up here: replaces what
    /// waited.
    pub(super) fn replace_all_members(&mut self, members: Vec<(String, GlobalEntry)>) {
        self.members.clear();
        for (group, member) in members {
            self.hold_member(&group, member);
        }
    }

    /// The memberships that waited for `node`, in order; they wait no longer.
    pub(super) fn take_members_for(&mut self, node: NodeId) -> Vec<(String, GlobalEntry)> {
        let (taken, kept): (Vec<_>, Vec<_>) = self
            .members
            .drain(..)
            .partition(|(_, member)| member.owner.node() == node);
        self.members = kept.into();
        taken
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(super) fn members_len(&self) -> usize {
        self.members.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixtures::{entry, id, node};

    #[test]
    fn a_decision_waits_for_its_node_and_a_later_one_supersedes_it() {
        let mut awaiting = Awaiting::default();
        awaiting.hold("a", entry(id(6, 1)));
        awaiting.hold("b", entry(id(6, 2)));
        awaiting.hold("c", entry(id(7, 1)));
        awaiting.hold("b", entry(id(7, 2)));
        awaiting.forget("c", id(7, 9));
        assert_eq!(awaiting.len(), 3, "a release by another owner changes nothing");
        let taken: Vec<String> = awaiting
            .take_for(node(6))
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(taken, ["a"], "b was decided again, for node 7");
        awaiting.forget_node(node(7));
        assert_eq!(awaiting.len(), 0);
    }

    #[test]
    fn memberships_wait_for_their_node_and_a_new_list_replaces_them() {
        let mut awaiting = Awaiting::default();
        awaiting.hold_member("g", entry(id(6, 1)));
        awaiting.hold_member("h", entry(id(6, 1)));
        awaiting.hold_member("g", entry(id(7, 1)));
        awaiting.drop_member("h", id(6, 1));
        awaiting.replace_members_of(
            node(7),
            vec![("k".into(), entry(id(7, 2))), ("x".into(), entry(id(6, 9)))],
        );
        assert_eq!(
            awaiting.members_len(),
            2,
            "only node 7's own entries replace its list"
        );
        let taken: Vec<(String, ActorId)> = awaiting
            .take_members_for(node(7))
            .into_iter()
            .map(|(group, member)| (group, member.owner))
            .collect();
        assert_eq!(taken, [("k".to_owned(), id(7, 2))]);
        awaiting.forget_node(node(6));
        assert_eq!(awaiting.members_len(), 0);
    }

    #[test]
    fn at_most_so_many_wait() {
        let mut awaiting = Awaiting::default();
        for n in 0..AWAITED_AT_MOST as u64 + 10 {
            awaiting.hold(&format!("name-{n}"), entry(id(9, n)));
        }
        assert_eq!(awaiting.len(), AWAITED_AT_MOST);
        let taken = awaiting.take_for(node(9));
        assert_eq!(
            taken.first().map(|(name, _)| name.as_str()),
            Some("name-10"),
            "oldest dropped"
        );
    }
}
