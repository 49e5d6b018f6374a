//! One node's copy of the registry: every name with its owner, every process group with its
//! members.
//!
//! A name has at most one owner here. The replica changes in three ways only: a change the
//! sequencer made (insert, or removal by the owner), a merge of another node's copy (a union
//! where two owners of one name are settled by the [`ConflictPolicy`]), and the removal of
//! everything a node's actors held when that node goes down. Each change is reported to
//! [`Outputs`] as it is made.
//!
//! Every node's share is bounded: an owner node holds at most `cap` names and `cap` group
//! memberships here (see [`DEFAULT_MAX_NAMES_PER_NODE`]); past it, more are refused.

use std::collections::{BTreeMap, HashMap};

use super::outputs::{Conflict, Outputs};
use crate::actor::{ActorId, ExitReason, NodeId};
use crate::registry::conflict::ConflictPolicy;
use crate::registry::wire::GlobalEntry;

/// How many names (and, apart, how many group memberships) the actors of one node may hold,
/// by default.
pub(crate) const DEFAULT_MAX_NAMES_PER_NODE: usize = 100_000;

/// Names and groups, as this node knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replica {
    /// Every name with its owner. A hash map: a registration looks a name up a few times on
    /// each node, and in an ordered map of thousands of names those lookups were a sixth of
    /// the protocol's work (string comparisons along the tree). Its hasher is keyed at random
    /// per map, so a peer cannot choose names that collide; whatever is read out in order (a
    /// snapshot, the names of a node or an actor, a listing) is sorted first, so that what
    /// a node sends does not depend on the hasher.
    entries: HashMap<String, GlobalEntry>,
    /// Group name, then members (by id) with their protocol.
    groups: BTreeMap<String, BTreeMap<ActorId, GlobalEntry>>,
    /// How many names the actors of each node hold.
    names_per_node: BTreeMap<NodeId, usize>,
    /// How many group memberships the actors of each node hold.
    members_per_node: BTreeMap<NodeId, usize>,
    /// The most names, and memberships, one node's actors may hold.
    cap: usize,
}

impl Default for Replica {
    fn default() -> Self {
        Replica::with_cap(DEFAULT_MAX_NAMES_PER_NODE)
    }
}

/// Adds one to `node`'s count, unless it is at `cap`; returns whether it did.
fn count_in(counts: &mut BTreeMap<NodeId, usize>, node: NodeId, cap: usize) -> bool {
    let count = counts.entry(node).or_default();
    if *count >= cap {
        return false;
    }
    *count = count.saturating_add(1);
    true
}

/// Takes one from `node`'s count.
fn count_out(counts: &mut BTreeMap<NodeId, usize>, node: NodeId) {
    if let Some(count) = counts.get_mut(&node) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(&node);
        }
    }
}

impl Replica {
    /// An empty replica in which each node's actors hold at most `cap` names (and `cap`
    /// group memberships).
    pub(crate) fn with_cap(cap: usize) -> Self {
        Replica {
            entries: HashMap::new(),
            groups: BTreeMap::new(),
            names_per_node: BTreeMap::new(),
            members_per_node: BTreeMap::new(),
            cap,
        }
    }

    /// How many names the actors of `node` hold here.
    pub(crate) fn names_of(&self, node: NodeId) -> usize {
        self.names_per_node.get(&node).copied().unwrap_or(0)
    }

    /// How many group memberships the actors of `node` hold here.
    pub(crate) fn memberships_of(&self, node: NodeId) -> usize {
        self.members_per_node.get(&node).copied().unwrap_or(0)
    }

    /// The most names one node's actors may hold.
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Caps the names (and memberships) of each node's actors at `cap` from now on.
    pub(super) fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
    }

    /// The names `actor` holds, sorted.
    pub(crate) fn names_held_by(&self, actor: ActorId) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.owner == actor)
            .map(|(name, _)| name.clone())
            .collect();
        names.sort_unstable();
        names
    }

    /// Removes `name`, keeping the counts.
    fn take(&mut self, name: &str) -> Option<GlobalEntry> {
        let entry = self.entries.remove(name)?;
        count_out(&mut self.names_per_node, entry.owner.node());
        Some(entry)
    }

    /// The owner of `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&GlobalEntry> {
        self.entries.get(name)
    }

    /// Sets `name` to `entry`, whoever held it, unless `entry`'s node holds as many names as
    /// it may (another of its names is replaced, though); returns whether it did.
    pub(super) fn insert(&mut self, name: &str, entry: GlobalEntry, out: &mut Outputs) -> bool {
        let node = entry.owner.node();
        let held = self.entries.get_mut(name);
        let from = held.as_ref().map(|held| held.owner.node());
        if from != Some(node) && self.names_per_node.get(&node).is_some_and(|n| *n >= self.cap) {
            crate::meter::counter!(crate::meter::REGISTRY_REFUSED, "why" => "cap").increment(1);
            crate::trace::trace_event!(debug, %name, %node, cap = self.cap, "name refused: its node holds its cap of names");
            return false;
        }
        out.changed(name, Some(entry.owner));
        match held {
            Some(held) => *held = entry,
            None => {
                self.entries.insert(name.to_owned(), entry);
            }
        }
        if from != Some(node) {
            if let Some(from) = from {
                count_out(&mut self.names_per_node, from);
            }
            // Below the cap: checked above.
            let _ = count_in(&mut self.names_per_node, node, usize::MAX);
        }
        true
    }

    /// Removes `name` if `owner` holds it; returns whether it did.
    pub(super) fn remove_if_owner(&mut self, name: &str, owner: ActorId, out: &mut Outputs) -> bool {
        if self.entries.get(name).is_none_or(|entry| entry.owner != owner) {
            return false;
        }
        self.take(name);
        out.changed(name, None);
        true
    }

    /// Removes every group membership of an actor of `node` (it went down).
    pub(super) fn remove_members_of(&mut self, node: NodeId, out: &mut Outputs) {
        out.touched = true;
        for members in self.groups.values_mut() {
            members.retain(|id, _| id.node() != node);
        }
        self.groups.retain(|_, members| !members.is_empty());
        self.members_per_node.remove(&node);
    }

    /// Removes every name held by an actor of `node` (it went down). Returns the names removed,
    /// with their owners.
    pub(super) fn remove_names_of(&mut self, node: NodeId, out: &mut Outputs) -> Vec<(String, ActorId)> {
        let gone = self.owned_by(|owner| owner == node);
        for (name, _) in &gone {
            self.take(name);
            out.changed(name, None);
        }
        gone
    }

    /// The names whose owner's node `which` picks, with their owners, sorted by name.
    pub(super) fn owned_by(&self, which: impl Fn(NodeId) -> bool) -> Vec<(String, ActorId)> {
        let mut owned: Vec<(String, ActorId)> = self
            .entries
            .iter()
            .filter(|(_, entry)| which(entry.owner.node()))
            .map(|(name, entry)| (name.clone(), entry.owner))
            .collect();
        owned.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        owned
    }

    /// Every name starting with `prefix`, sorted. Looks at every name (the names are
    /// hashed, not ordered): a listing, not a lookup.
    pub(crate) fn names(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries
            .keys()
            .filter(|name| name.starts_with(prefix))
            .cloned()
            .collect();
        names.sort_unstable();
        names
    }

    /// Every name with its owner, sorted by name.
    pub(crate) fn snapshot(&self) -> Vec<(String, GlobalEntry)> {
        let mut entries: Vec<(String, GlobalEntry)> = self
            .entries
            .iter()
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect();
        entries.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        entries
    }

    /// Every group membership, sorted by group and member.
    pub(crate) fn group_snapshot(&self) -> Vec<(String, GlobalEntry)> {
        self.groups
            .iter()
            .flat_map(|(group, members)| members.values().map(|member| (group.clone(), member.clone())))
            .collect()
    }

    /// Adds `member` to `group`, unless its node's actors hold as many memberships as they
    /// may.
    pub(super) fn join(&mut self, group: &str, member: GlobalEntry, out: &mut Outputs) {
        let held = self
            .groups
            .get(group)
            .is_some_and(|members| members.contains_key(&member.owner));
        if !held && !count_in(&mut self.members_per_node, member.owner.node(), self.cap) {
            crate::meter::counter!(crate::meter::REGISTRY_REFUSED, "why" => "cap").increment(1);
            return;
        }
        out.touched = true;
        self.groups
            .entry(group.to_owned())
            .or_default()
            .insert(member.owner, member);
    }

    /// Removes `member` from `group`; returns whether it was there.
    pub(super) fn leave(&mut self, group: &str, member: ActorId, out: &mut Outputs) -> bool {
        let Some(members) = self.groups.get_mut(group) else {
            return false;
        };
        let removed = members.remove(&member).is_some();
        if members.is_empty() {
            self.groups.remove(group);
        }
        if removed {
            count_out(&mut self.members_per_node, member.node());
        }
        out.touched |= removed;
        removed
    }

    /// How many global names the replica holds.
    pub(crate) fn name_count(&self) -> usize {
        self.entries.len()
    }

    /// How many groups have at least one member.
    pub(crate) fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// The members of `group`, sorted by id.
    pub(crate) fn members(&self, group: &str) -> Vec<GlobalEntry> {
        self.groups
            .get(group)
            .map(|members| members.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every group with at least one member, sorted.
    pub(crate) fn group_names(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }

    /// Merges the group memberships node `from` sent: the complete list of its own actors'
    /// memberships, which replaces what this replica held of them (each node is the authority
    /// on its actors' memberships, which only it changes), and hearsay about other nodes'
    /// actors, taken only where `hearsay` admits their node.
    pub(super) fn merge_groups(
        &mut self,
        from: NodeId,
        members: Vec<(String, GlobalEntry)>,
        hearsay: impl Fn(NodeId) -> bool,
        out: &mut Outputs,
    ) {
        out.touched = true;
        let (own, others): (Vec<_>, Vec<_>) = members
            .into_iter()
            .partition(|(_, member)| member.owner.node() == from);
        let counts = &mut self.members_per_node;
        for (group, members) in self.groups.iter_mut() {
            members.retain(|id, _| {
                let keep =
                    id.node() != from || own.iter().any(|(g, member)| g == group && member.owner == *id);
                if !keep {
                    count_out(counts, id.node());
                }
                keep
            });
        }
        self.groups.retain(|_, members| !members.is_empty());
        let admitted = others
            .into_iter()
            .filter(|(_, member)| hearsay(member.owner.node()));
        for (group, member) in own.into_iter().chain(admitted) {
            self.join(&group, member, out);
        }
    }

    /// Replaces every membership of an actor not of `me` with `members` (the sequencer's
    /// view of them); `me`'s own are kept, on which this node is the authority.
    pub(super) fn replace_groups_but(
        &mut self,
        me: NodeId,
        members: Vec<(String, GlobalEntry)>,
        out: &mut Outputs,
    ) {
        out.touched = true;
        let counts = &mut self.members_per_node;
        for members in self.groups.values_mut() {
            members.retain(|id, _| {
                if id.node() != me {
                    count_out(counts, id.node());
                }
                id.node() == me
            });
        }
        self.groups.retain(|_, members| !members.is_empty());
        for (group, member) in members
            .into_iter()
            .filter(|(_, member)| member.owner.node() != me)
        {
            self.join(&group, member, out);
        }
    }

    /// The memberships of `node`'s actors, sorted by group and member.
    pub(crate) fn group_snapshot_of(&self, node: NodeId) -> Vec<(String, GlobalEntry)> {
        self.groups
            .iter()
            .flat_map(|(group, members)| {
                members
                    .values()
                    .filter(move |member| member.owner.node() == node)
                    .map(|member| (group.clone(), member.clone()))
            })
            .collect()
    }

    /// Sets `name` to `entry`, as the sequencer decided. Another owner held here is replaced
    /// (the sequencer's order is the reference) unless it is an actor of `me` that the policy
    /// prefers: this node is the authority on its own actors' names, so it keeps it, and
    /// returns it for the sequencer to hear of (the sequencer forgot it, or never had it).
    /// Either way it counts as a conflict if the policy says one owner beats the other
    /// (reported, the loser stopped if it is an actor of `me` and the policy says so); an
    /// owner of another node replaced although the policy prefers it is not: the sequencer
    /// has not heard of it yet, and will give the name back once it has. Nor is an owner
    /// replaced by another actor of the same node (not `me`): one node's actors are never on
    /// two sides of a partition, and which of them holds the name is that node's word, which
    /// the sequencer's order carries; that node reports a conflict between them itself, if
    /// there is one.
    pub(super) fn set(
        &mut self,
        name: &str,
        entry: GlobalEntry,
        (policy, me): (&ConflictPolicy, NodeId),
        out: &mut Outputs,
    ) -> Option<GlobalEntry> {
        let theirs = entry.owner;
        let Some(ours) = self.entries.get(name).cloned() else {
            let _ = self.insert(name, entry, out);
            return None;
        };
        if ours.owner == theirs {
            return None;
        }
        if ours.owner.node() == theirs.node() && theirs.node() != me {
            let _ = self.insert(name, entry, out);
            return None;
        }
        if policy.winner(name, ours.owner, theirs) == theirs {
            if self.insert(name, entry, out) {
                self.lost(name, theirs, ours.owner, (policy, me), out);
            }
            return None;
        }
        if ours.owner.node() == me {
            self.lost(name, ours.owner, theirs, (policy, me), out);
            return Some(ours);
        }
        let _ = self.insert(name, entry, out);
        None
    }

    /// Reports that `loser` lost `name` to `winner`, and stops it if it is an actor of `me`
    /// and the policy says so.
    fn lost(
        &mut self,
        name: &str,
        winner: ActorId,
        loser: ActorId,
        (policy, me): (&ConflictPolicy, NodeId),
        out: &mut Outputs,
    ) {
        if policy.stop_losers && loser.node() == me {
            let reason = ExitReason::error(format!("lost the global name `{name}` to {winner}"));
            out.stops.push((loser, reason));
        }
        let name = name.to_owned();
        out.conflicts.push(Conflict { name, winner, loser });
    }

    /// Merges another node's names: a name held here by another owner goes to the winner
    /// `policy` picks, and the conflict is reported (with the loser stopped if it is an actor
    /// of `me` and the policy says so). An owner here whose node is `gone` (seen down, not
    /// back) is no contender: the name goes to the other without a conflict. Nor is an owner
    /// of the same node as the other: which of its actors holds a name is that node's word
    /// (a node's names come from that node, see `Registry::admit`), so the name goes to the
    /// other, but for an actor of `me`, on which this node is the authority.
    pub(super) fn merge(
        &mut self,
        entries: impl IntoIterator<Item = (String, GlobalEntry)>,
        policy: &ConflictPolicy,
        (me, gone): (NodeId, impl Fn(NodeId) -> bool),
        out: &mut Outputs,
    ) {
        out.touched = true;
        for (name, theirs) in entries {
            let Some(ours) = self.entries.get(&name) else {
                let _ = self.insert(&name, theirs, out);
                continue;
            };
            if ours.owner == theirs.owner {
                continue;
            }
            if gone(ours.owner.node()) {
                let _ = self.insert(&name, theirs, out);
                continue;
            }
            if ours.owner.node() == theirs.owner.node() {
                if ours.owner.node() != me {
                    let _ = self.insert(&name, theirs, out);
                }
                continue;
            }

            let winner = policy.winner(&name, ours.owner, theirs.owner);
            let loser = if winner == ours.owner {
                theirs.owner
            } else {
                ours.owner
            };
            if winner == theirs.owner && !self.insert(&name, theirs, out) {
                continue;
            }
            self.lost(&name, winner, loser, (policy, me), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixtures::{entry, id};

    #[test]
    fn merges_agree_on_the_lowest_owner_whichever_side_merges() {
        let (low, high) = (id(1, 9), id(2, 1));
        let policy = ConflictPolicy::default();
        let (mut left, mut right) = (Replica::default(), Replica::default());
        let mut out = Outputs::default();
        left.insert("svc", entry(high), &mut out);
        right.insert("svc", entry(low), &mut out);
        let (from_right, from_left) = (right.snapshot(), left.snapshot());
        let mut on_left = Outputs::default();
        left.merge(
            from_right,
            &policy,
            (NodeId::from_u64(2), |_| false),
            &mut on_left,
        );
        let mut on_right = Outputs::default();
        right.merge(
            from_left,
            &policy,
            (NodeId::from_u64(1), |_| false),
            &mut on_right,
        );
        let conflict = Conflict {
            name: "svc".into(),
            winner: low,
            loser: high,
        };
        assert_eq!(on_left.conflicts, vec![conflict.clone()]);
        assert_eq!(on_right.conflicts, vec![conflict]);
        assert_eq!(left.snapshot(), right.snapshot());
        // Only the loser's node stops it.
        assert_eq!(
            on_left.stops.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![high]
        );
        assert!(on_right.stops.is_empty());
    }

    #[test]
    fn names_by_prefix_and_removal_by_node() {
        let mut names = Replica::default();
        let mut out = Outputs::default();
        names.insert("db.primary", entry(id(1, 1)), &mut out);
        names.insert("db.replica", entry(id(2, 1)), &mut out);
        names.insert("web", entry(id(2, 2)), &mut out);
        assert_eq!(
            names.names("db."),
            vec!["db.primary".to_string(), "db.replica".to_string()]
        );
        names.remove_names_of(NodeId::from_u64(2), &mut out);
        assert_eq!(names.names(""), vec!["db.primary".to_string()]);
        assert!(!names.remove_if_owner("db.primary", id(9, 9), &mut out));
        assert!(names.remove_if_owner("db.primary", id(1, 1), &mut out));
    }

    #[test]
    fn groups_are_unions_and_lose_a_node_s_members_with_it() {
        let mut groups = Replica::default();
        let mut out = Outputs::default();
        groups.join("workers", entry(id(1, 1)), &mut out);
        groups.merge_groups(
            NodeId::from_u64(2),
            vec![
                ("workers".into(), entry(id(2, 1))),
                ("web".into(), entry(id(2, 2))),
            ],
            |_| true,
            &mut out,
        );
        assert_eq!(
            groups.group_names(),
            vec!["web".to_string(), "workers".to_string()]
        );
        groups.remove_members_of(NodeId::from_u64(2), &mut out);
        assert_eq!(groups.group_names(), vec!["workers".to_string()]);
        assert!(groups.leave("workers", id(1, 1), &mut out));
        assert!(!groups.leave("workers", id(1, 1), &mut out));
        assert!(groups.group_names().is_empty());
    }

    #[test]
    fn a_node_s_list_of_its_own_members_replaces_the_old_and_hearsay_is_filtered() {
        let mut groups = Replica::default();
        let mut out = Outputs::default();
        groups.join("workers", entry(id(2, 1)), &mut out);
        groups.join("workers", entry(id(2, 2)), &mut out);
        groups.join("workers", entry(id(3, 1)), &mut out);
        // Node 2 now has only 2:2 (in another group), and tells of 4:1 and 5:1.
        let from_two = vec![
            ("web".into(), entry(id(2, 2))),
            ("workers".into(), entry(id(4, 1))),
            ("workers".into(), entry(id(5, 1))),
        ];
        groups.merge_groups(NodeId::from_u64(2), from_two, |node| node.as_u64() == 4, &mut out);
        let members: Vec<(String, ActorId)> = groups
            .group_snapshot()
            .into_iter()
            .map(|(group, member)| (group, member.owner))
            .collect();
        assert_eq!(
            members,
            vec![
                ("web".to_string(), id(2, 2)),
                ("workers".to_string(), id(3, 1)),
                ("workers".to_string(), id(4, 1)),
            ]
        );
        assert_eq!(groups.group_snapshot_of(NodeId::from_u64(2)).len(), 1);
    }
}
