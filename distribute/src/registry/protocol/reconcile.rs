//! Reconciliation: bringing what nodes learn outside the sequencer's order back into it.
//!
//! Commits reach every node in the order the sequencer decided them, but a snapshot (a peer's
//! replica, sent when a connection comes up) is merged whenever it arrives, and a sequencer
//! that goes down may leave its last change on some nodes only. Left alone, replicas would
//! differ for good: one node merges a copy of a name another node has since seen released, two
//! nodes applied a change the third never got. So the sequencer commits again, as it holds it
//! then, every name that a merge changed on it or that the sender holds otherwise (a *sync*,
//! queued like any change); a node that is not the sequencer sends the names a merge changed on
//! it to its sequencer, which does the same; and when the sequencer changes, the new one gets
//! every node's replica and sends its own to all. Once the nodes see each other and the traffic
//! settles, every node holds what the sequencer holds.

use std::time::Duration;

use super::outputs::Outputs;
use super::sequencer::Work;
use super::Registry;
use crate::actor::NodeId;
use crate::registry::wire::{GlobalEntry, RegistryMsg};

impl Registry {
    /// Another node's replica (or the names of it that changed, with all the memberships of
    /// the sender's actors): merged, and what it changed handed to the sequencer (or, here,
    /// committed again in order).
    pub(super) fn on_snapshot(
        &mut self,
        from: NodeId,
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
        now: Duration,
        out: &mut Outputs,
    ) {
        let (me, peers) = (self.me, &self.peers);
        // Hearsay about a node this one hears from itself (or saw go down) is not taken.
        let hearsay = |node: NodeId| node != me && !peers.is_connected(node) && !peers.has_departed(node);
        self.replica.merge_groups(from, groups, hearsay, out);
        // The sequencer's own replica holds no names of nodes it saw go down: it is taken
        // whole, like its commits; a third node's may carry the names of a node that crashed.
        let sequencer = self.sequencer();
        let mut differing = Vec::new();
        for (name, theirs) in entries {
            let seen = theirs.owner;
            let before = self.replica.get(&name).map(|entry| entry.owner);
            if from == sequencer {
                let peers = &self.peers;
                let gone = |node: NodeId| peers.has_departed(node);
                let policy = &self.policy;
                self.replica
                    .merge([(name.clone(), theirs)], policy, (self.me, gone), out);
            } else {
                self.merge([(name.clone(), theirs)], out);
            }
            let after = self.replica.get(&name).map(|entry| entry.owner);
            if before != after || after != Some(seen) {
                differing.push((name, seen, before != after));
            }
        }

        if sequencer == self.me {
            for (name, seen, _) in differing {
                self.propose(Work::Sync { name, seen }, now, out);
            }
        } else if from != sequencer {
            let changed: Vec<(String, GlobalEntry)> = differing
                .into_iter()
                .filter(|(_, _, changed)| *changed)
                .filter_map(|(name, _, _)| Some((name.clone(), self.replica.get(&name)?.clone())))
                .collect();
            if !changed.is_empty() {
                // A snapshot always carries the sender's own memberships in full.
                let groups = self.replica.group_snapshot_of(self.me);
                out.send(
                    sequencer,
                    RegistryMsg::Snapshot {
                        entries: changed,
                        groups,
                    },
                );
            }
        }
    }

    /// Sends this node's replica to the sequencer, or to every peer if it is the sequencer.
    pub(super) fn resync(&self, out: &mut Outputs) {
        let sequencer = self.sequencer();
        let snapshot = RegistryMsg::Snapshot {
            entries: self.replica.snapshot(),
            groups: self.replica.group_snapshot(),
        };
        if sequencer == self.me {
            self.broadcast(&snapshot, out);
        } else {
            out.send(sequencer, snapshot);
        }
    }

    /// Another node is the sequencer now. Claims sent to the last one are tried again with
    /// it; a node that was the sequencer hands what it had queued over (a peer's proposals are
    /// forwarded, its own callers try again; the new sequencer reconciles on its own, so syncs
    /// are dropped). A node that became the sequencer drops the names it holds of nodes it saw
    /// go down, in order: it may have applied them from its last sequencer's commits (which a
    /// node applies whoever the owner) and missed that sequencer's release of them.
    pub(super) fn sequencer_changed(&mut self, now: Duration, out: &mut Outputs) {
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
                self.propose(Work::Sync { name, seen }, now, out);
            }
        }

        let mut done = Vec::new();
        self.claims.lost_unless(|asked| asked == sequencer, &mut done);
        self.settle(done, now, out);
    }
}
