//! Reconciliation: bringing what nodes learn outside the sequencer's order back into it.
//!
//! Commits reach every node in the order the sequencer decided them, but a snapshot (a peer's
//! replica, sent when a connection comes up) is merged whenever it arrives, a node going down
//! takes its names with it, and a sequencer that goes down may leave its last change on some
//! nodes only. Left alone, replicas would differ for good. So:
//!
//! - the sequencer commits again, as it holds it then, every name that a merge or a node going
//!   down changed on it, or that a sender holds otherwise (a *sync*, decided before any
//!   proposal; releasing, if the sequencer no longer holds the name, every owner seen for it);
//! - a node that is not the sequencer hands the names a merge changed on it to the sequencer,
//!   answers the sequencer's replica (always sent whole) with the names it holds otherwise,
//!   and, when its sequencer changes, asks the new one for its replica (an empty snapshot);
//! - a node keeps its own live actors' names against a sync's release, and tells the sequencer;
//! - a node drops the names it held for nodes not up yet when its sequencer changes: they
//!   were the last sequencer's decisions, and may be stale by the time their nodes come up;
//! - a snapshot is taken only as far as its sender is the authority on it ([`admit`]): the
//!   sequencer takes the names of the sender's own actors, and commits the others it reports
//!   again as it holds them.
//!
//! [`admit`]: Registry::admit
//!
//! Once the nodes see each other and the traffic settles, every node holds what the sequencer
//! holds.

use std::collections::BTreeMap;
use std::time::Duration;

use super::outputs::Outputs;
use super::sequencer::Work;
use super::{Entries, Registry};
use crate::actor::{ActorId, NodeId};
use crate::registry::wire::{GlobalEntry, RegistryMsg};

impl Registry {
    /// Another node's replica (or the names of it that changed, with all the memberships of
    /// the sender's actors): merged, and what it changed handed to the sequencer (or, here,
    /// committed again in order). The sequencer's own replica, which it only ever sends whole,
    /// is answered with what this node holds otherwise, for it to reconcile (it takes the
    /// names of this node's own actors, and commits the others again as it holds them).
    /// `asked` says the snapshot had no names before [`admit`](Self::admit)
    /// filtered it: an empty one asks the sequencer for its replica.
    pub(super) fn on_snapshot(
        &mut self,
        from: NodeId,
        (entries, groups): (Entries, Entries),
        asked: bool,
        now: Duration,
        out: &mut Outputs,
    ) {
        let sequencer = self.sequencer();
        let groups_differ = self.take_groups(from, groups, from == sequencer, out);
        let theirs: BTreeMap<String, ActorId> = entries
            .iter()
            .map(|(name, entry)| (name.clone(), entry.owner))
            .collect();
        let differing = self.merge_snapshot(entries, from == sequencer, out);
        if sequencer == self.me {
            for (name, seen, before) in differing {
                // Nodes may still hold the owner this node had published before the merge.
                if let Some(before) = before.filter(|before| *before != seen) {
                    self.sync_later(name.clone(), before, now, out);
                }
                self.sync_later(name, seen, now, out);
            }
            if asked {
                let (entries, groups) = (self.replica.snapshot(), self.replica.group_snapshot());
                self.send_snapshot(from, entries, groups, out);
            }
        } else if from != sequencer {
            let changed = differing
                .into_iter()
                .filter(|(name, _, before)| *before != self.replica.get(name).map(|entry| entry.owner))
                .map(|(name, _, _)| name);
            self.tell_sequencer(changed, out);
        } else {
            let held = self.replica.owned_by(|_| true);
            let otherwise: Vec<String> = held
                .into_iter()
                .filter(|(name, owner)| theirs.get(name) != Some(owner))
                .map(|(name, _)| name)
                .collect();
            if otherwise.is_empty() && groups_differ {
                // Only this node's memberships differ: they go with an empty snapshot (and the
                // sequencer's replica comes back, with them as sent).
                self.ask_sequencer(out);
            }
            self.tell_sequencer(otherwise.into_iter(), out);
        }
    }

    /// Takes a snapshot's memberships: the sequencer's (`trusted`) are its whole view, which
    /// replaces what this node held of every other node's actors; any other sender's are its
    /// own actors' memberships, which replace what this node held of them if it is the
    /// sequencer (and are passed on to every other node if that changed anything); a node
    /// that is not takes memberships from its sequencer only.
    /// Returns whether the sequencer's (`trusted`) view of this node's own memberships differs
    /// from this node's (the sequencer is then to be told).
    fn take_groups(&mut self, from: NodeId, groups: Entries, trusted: bool, out: &mut Outputs) -> bool {
        if trusted {
            let (me, peers) = (self.me, &self.peers);
            let (mut mine, others): (Entries, Entries) = groups
                .into_iter()
                .partition(|(_, member)| member.owner.node() == me);
            let (up, waiting): (Entries, Entries) = others
                .into_iter()
                .partition(|(_, member)| peers.is_member(member.owner.node(), me));
            self.replica.replace_groups_but(me, up, out);
            self.awaiting.replace_all_members(waiting);
            let mut held = self.replica.group_snapshot_of(me);
            let key = |(group, member): &(String, GlobalEntry)| (group.clone(), member.owner);
            mine.sort_by_key(key);
            held.sort_by_key(key);
            return mine != held;
        }
        if self.sequencer() != self.me {
            // Not this node's to take (see `admit_snapshot`).
            return false;
        }
        let before = self.replica.group_snapshot_of(from);
        self.replica.merge_groups(from, groups, |_| false, out);
        let after = self.replica.group_snapshot_of(from);
        if after != before {
            let msg = RegistryMsg::Groups {
                node: from,
                groups: after,
            };
            self.pass_on(&msg, from, out);
        }
        false
    }

    /// Merges a snapshot's names, each through the departed-node filter unless it is the
    /// sequencer's (`trusted`): its replica holds no names of nodes it saw go down, and is taken
    /// like its commits, while a third node's may carry the names of a node that crashed.
    /// Returns the names whose owner changed here or differs from the snapshot's, with the
    /// snapshot's owner and the owner here before.
    fn merge_snapshot(
        &mut self,
        entries: Vec<(String, GlobalEntry)>,
        trusted: bool,
        out: &mut Outputs,
    ) -> Vec<(String, ActorId, Option<ActorId>)> {
        let mut differing = Vec::new();
        for (name, theirs) in entries {
            let seen = theirs.owner;
            let before = self.replica.get(&name).map(|entry| entry.owner);
            if trusted {
                // Like a commit: the sequencer's order is the reference, but for this node's
                // own actors, whose names it keeps where the policy prefers them.
                self.set(&name, theirs, out);
            } else {
                self.merge([(name.clone(), theirs)], out);
            }
            let after = self.replica.get(&name).map(|entry| entry.owner);
            if before != after || after != Some(seen) {
                differing.push((name, seen, before));
            }
        }
        differing
    }

    /// Sends the sequencer these names as held here (a snapshot always carries the sender's
    /// own memberships in full).
    fn tell_sequencer(&self, names: impl Iterator<Item = String>, out: &mut Outputs) {
        let entries: Vec<(String, GlobalEntry)> = names
            .filter_map(|name| Some((name.clone(), self.replica.get(&name)?.clone())))
            .collect();
        if entries.is_empty() {
            return;
        }
        let groups = self.replica.group_snapshot_of(self.me);
        self.send_snapshot(self.sequencer(), entries, groups, out);
    }

    /// A new sequencer is to reconcile with this node: as the sequencer, it sends every peer its
    /// replica (each answers with what it holds otherwise); else it asks the sequencer for its
    /// replica.
    pub(super) fn resync(&self, out: &mut Outputs) {
        let sequencer = self.sequencer();
        if sequencer == self.me {
            for peer in self.peers.connected() {
                let (entries, groups) = (self.replica.snapshot(), self.replica.group_snapshot());
                self.send_snapshot(*peer, entries, groups, out);
            }
        } else {
            self.ask_sequencer(out);
        }
    }

    /// Asks the sequencer for its replica (with an empty snapshot, which no other is but that
    /// of a node without names, answered the same); this node answers it with what it holds
    /// otherwise.
    pub(super) fn ask_sequencer(&self, out: &mut Outputs) {
        let groups = self.replica.group_snapshot_of(self.me);
        let entries = Vec::new();
        self.send_snapshot(self.sequencer(), entries, groups, out);
    }

    /// Another node is the sequencer now. A node that was the sequencer hands what it had
    /// queued over (proposals are forwarded; the new sequencer reconciles on its own, so syncs
    /// are dropped). Claims sent to the last sequencer stay with it while it is connected: it
    /// forwards them if it no longer decides, so each is decided once (tried again elsewhere,
    /// the first try could still be decided after the second). A node that became the
    /// sequencer drops the names it holds of nodes it saw go down, in order: it may have
    /// applied them from its last sequencer's commits (which a node applies whoever the owner)
    /// and missed that sequencer's release of them. Either way, the names held for nodes not up
    /// here (see [`awaiting`](super::awaiting)) were the last sequencer's decisions: dropped,
    /// not taken outside the new one's order when their nodes come up.
    pub(super) fn sequencer_changed(&mut self, now: Duration, out: &mut Outputs) {
        self.awaiting.forget_names();
        let sequencer = self.sequencer();
        if sequencer != self.me {
            for work in self.sequencer.take_queue() {
                if let Work::Proposal(proposal) = work {
                    self.take_proposal(proposal, now, out);
                }
            }
        } else {
            let peers = &self.peers;
            let departed = self.replica.owned_by(|node| peers.has_departed(node));
            for (name, seen) in departed {
                self.replica.remove_if_owner(&name, seen, out);
                self.sync_later(name, seen, now, out);
            }
        }
    }
}
