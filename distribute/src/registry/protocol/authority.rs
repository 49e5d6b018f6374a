//! What a peer may tell this node, and what this node does about a peer that stays silent.
//!
//! Every peer may be hostile, even one that holds the cookie. So a message is taken only as
//! far as its sender is the authority on what it says ([`Registry::admit`]):
//!
//! - a peer removes only names of its own actors (`Unclaim` of another node's actor is
//!   answered with a refusal), and changes only its own actors' group memberships;
//! - a snapshot speaks for the sender's own actors only; the sequencer's is also taken for the
//!   actors of other members, as its commits are (its replica is its order), and no snapshot
//!   is taken for an actor of a node that is not a member (this node or a connected peer);
//! - no name is stored for a node that is not a member, whoever decided it (the sequencer
//!   refuses such a claim; a commit of one is acknowledged, not applied): the names of a node
//!   that never joined are never held, and those of a node that leaves go with it;
//! - what a snapshot says of other nodes' actors (hearsay) is not taken; reaching the
//!   sequencer, it makes it commit those names again as it holds them (queued behind
//!   proposals, at most [`HEARSAY_QUEUE_BOUND`] queued), which settles a stale copy anywhere;
//! - each member's actors hold at most the configured number of names (the replica's cap);
//! - a snapshot arrives in chunks ([`RegistryMsg::SnapshotPart`]s, then its last chunk, a
//!   [`RegistryMsg::Snapshot`]), held until the last within the same bounds.
//!
//! Since no entry is ever stored for a non-member, the winner of any conflict that stops one
//! of this node's actors is an actor of a real member.
//!
//! A claim sent to a sequencer that does not answer within the claim deadline (time is an
//! input, as everywhere in the protocol) makes this node *suspect* it: it is skipped as the
//! sequencer, and not waited for by this node's commits, until it is heard from again,
//! reconnects, or the suspicion expires; the claim fails with "sequencer lost" and is tried
//! again with the next candidate. A sequencer heard from since the claim was sent (it is busy,
//! not silent) gets two more deadlines first. Likewise the sequencer suspects a node that has
//! not acknowledged its change in flight by the claim deadline, so that a silent follower
//! holds no later change back (its claimant, which may wait for that node's relay, gets the
//! sequencer's own word once the others acknowledged).
//!
//! Safety when a silent sequencer did commit a claim: a retry by the same owner is granted
//! the same (not made twice), a change it committed to some nodes only is settled by
//! reconciliation as when a sequencer goes down, and two owners granted the same name on two
//! sides of a suspicion are settled by the conflict policy, with the loser told. A try that
//! was given up on and decided late, by a sequencer that did not know the name was held by
//! another actor of the claimant's node, takes nothing from that actor and is no conflict
//! (see `Registry::set_for`); the seeded simulation has nodes go silent past these deadlines
//! and checks all of it.

use std::time::Duration;

use super::outputs::Outputs;
use super::{Entries, Registry};
use crate::actor::{ActorId, NodeId};
use crate::registry::wire::{GlobalEntry, RegistryMsg};

/// The bytes one entry adds to an encoded snapshot besides its name and type name, at most
/// (the owner's two ids, the fingerprint and two length prefixes, as varints).
const ENTRY_OVERHEAD: usize = 40;

/// Hearsay from a snapshot is committed again only while less work than this is queued.
const HEARSAY_QUEUE_BOUND: usize = 256;

/// How many deadlines a claim waits for a sequencer that is heard from but does not answer.
const BUSY_DEADLINES: u32 = 3;

/// How many claim deadlines a suspicion lasts (unless the peer is heard from first): then the
/// peer is tried again, so that an honest peer that merely had nothing to say is not left out
/// for good (a silent one costs a claim one deadline per expiry).
const SUSPICION_DEADLINES: u32 = 20;

/// The chunks of a snapshot received so far from one peer.
#[derive(Debug, Default)]
pub(super) struct Partial {
    entries: Vec<(String, GlobalEntry)>,
    groups: Vec<(String, GlobalEntry)>,
    /// Whether any chunk had names, admitted or not.
    named: bool,
    /// Names the sender reported for other members' actors: hearsay, never taken, but the
    /// sequencer commits them again as it holds them (which settles a stale copy anywhere).
    hearsay: Vec<(String, ActorId)>,
}

/// Counts and logs `count` entries refused, and why.
pub(super) fn refused(why: &'static str, count: usize) {
    if count == 0 {
        return;
    }
    let count_u64 = u64::try_from(count).unwrap_or(u64::MAX);
    crate::meter::counter!(crate::meter::REGISTRY_REFUSED, "why" => why).increment(count_u64);
    crate::trace::trace_event!(debug, count, why, "registry entries from a peer refused");
}

impl Registry {
    /// `msg` from `from`, as far as `from` is an authority on it; `None` if nothing is left
    /// (a refusal the sender must hear of is answered in `out`). A message from a node that
    /// is not connected is ignored; one from a suspected node clears the suspicion.
    pub(super) fn admit(
        &mut self,
        from: NodeId,
        msg: RegistryMsg,
        now: Duration,
        out: &mut Outputs,
    ) -> Option<RegistryMsg> {
        if !self.peers.is_connected(from) {
            return None;
        }
        self.last_heard.insert(from, now);
        self.heard_from(from, now, out);
        match msg {
            RegistryMsg::Unclaim { request, name, owner } if owner.node() != from => {
                refused("release of another node's actor", 1);
                let holder = self.replica.get(&name).map(|entry| entry.owner);
                let result = Err(holder.or(Some(owner)));
                out.send(from, RegistryMsg::ClaimReply { request, result });
                None
            }
            RegistryMsg::Join { ref member, .. } if !self.takes_members(from, member.owner.node()) => None,
            RegistryMsg::Leave { member, .. } if !self.takes_members(from, member.node()) => None,
            RegistryMsg::Groups { node, groups } => {
                if from != self.sequencer() || node == self.me {
                    refused("membership of another node's actor", groups.len());
                    return None;
                }
                let before = groups.len();
                let groups: Entries = groups
                    .into_iter()
                    .filter(|(_, member)| member.owner.node() == node)
                    .collect();
                refused("membership of another node's actor", before - groups.len());
                Some(RegistryMsg::Groups { node, groups })
            }
            RegistryMsg::Lost { loser, winner, .. }
                if !self.speaks_for(from, loser.node()) || loser == winner =>
            {
                refused("loss of another node's actor", 1);
                None
            }
            RegistryMsg::SnapshotPart { entries, groups } => {
                self.hold_part(from, entries, groups);
                None
            }
            RegistryMsg::Snapshot { entries, groups } => {
                let named = !entries.is_empty();
                let (entries, groups, hearsay) = self.admit_snapshot(from, entries, groups);
                let mut whole = self.partial.remove(&from).unwrap_or_default();
                whole.entries.extend(entries);
                whole.groups.extend(groups);
                whole.hearsay.extend(hearsay);
                let asked = !(named || whole.named);
                self.on_snapshot(from, (whole.entries, whole.groups), asked, now, out);
                self.sync_hearsay(whole.hearsay, now, out);
                None
            }
            msg => Some(msg),
        }
    }

    /// Whether `from` may speak for `node`'s actors' losses: it is `node` itself, or this
    /// node's sequencer passing on what `node` told it (but never about this node's own
    /// actors, on which this node is the authority).
    fn speaks_for(&self, from: NodeId, node: NodeId) -> bool {
        from == node || (from == self.sequencer() && node != self.me)
    }

    /// Whether to take what `from` says of `node`'s actors' memberships: as the sequencer,
    /// from `node` itself; otherwise from the sequencer only, which passes on what `node`
    /// told it. A node's word reaching another node directly (they disagreed on the
    /// sequencer) is dropped: it could overtake, or be overtaken by, the same node's later
    /// word passed on by the sequencer, and the sequencer's order is the one that counts.
    /// Anything else is refused.
    fn takes_members(&self, from: NodeId, node: NodeId) -> bool {
        let sequencer = self.sequencer();
        let takes = (from == node && sequencer == self.me) || (from == sequencer && node != self.me);
        if !takes && from != node {
            refused("membership of another node's actor", 1);
        }
        takes
    }

    /// The entries and memberships of a snapshot (or a chunk of one) from `from` that it is
    /// an authority on, and, if this node is the sequencer, the hearsay about other members'
    /// actors that differs from what it holds.
    fn admit_snapshot(
        &self,
        from: NodeId,
        entries: Vec<(String, GlobalEntry)>,
        mut groups: Vec<(String, GlobalEntry)>,
    ) -> (Entries, Entries, Vec<(String, ActorId)>) {
        let trusted = from == self.sequencer();
        let sequencing = self.sequencer() == self.me;
        let (me, peers) = (self.me, &self.peers);
        let before = entries.len() + groups.len();
        let mut hearsay = Vec::new();
        let mut admitted = Vec::new();
        // The sequencer's replica is taken for every node but those seen down (a node not up
        // here yet has what is held for it wait until it is); the memberships another node
        // sends of its own actors, only by the sequencer (see `takes_members`).
        let vouched = |node: NodeId| match trusted {
            // This node's own, as the sequencer holds them, are compared, not taken.
            true => node == me || !peers.has_departed(node),
            false => node == from && sequencing,
        };
        for (name, entry) in entries {
            let node = entry.owner.node();
            if node == from || (trusted && !peers.has_departed(node)) {
                admitted.push((name, entry));
            } else if sequencing && self.replica.get(&name).map(|held| held.owner) != Some(entry.owner) {
                // Settled by committing what the sequencer holds (a release, if it holds no
                // owner): the sender's copy may be stale.
                hearsay.push((name, entry.owner));
            }
        }
        groups.retain(|(_, member)| vouched(member.owner.node()));
        refused(
            "snapshot entry not the sender's to give",
            before.saturating_sub(admitted.len()).saturating_sub(groups.len()),
        );
        (admitted, groups, hearsay)
    }

    /// As the sequencer, commits again (as it holds them) the names a peer reported otherwise
    /// for other nodes' actors, so that a stale copy anywhere is settled by the sequencer's
    /// order (the owner's node keeps a name its live actor holds, and says so). Queued behind
    /// proposals, and bounded: a peer's hearsay cannot crowd out other nodes' changes.
    fn sync_hearsay(&mut self, hearsay: Vec<(String, ActorId)>, now: Duration, out: &mut Outputs) {
        if self.sequencer() != self.me {
            return;
        }
        for name_seen in hearsay {
            if !self.sync_after_queued(name_seen, HEARSAY_QUEUE_BOUND, now, out) {
                refused("hearsay past the sync bound", 1);
            }
        }
    }

    /// Holds a chunk of `from`'s snapshot until its last, within bounds: no more entries than
    /// the members' caps allow in all (the rest is dropped, and counted).
    fn hold_part(
        &mut self,
        from: NodeId,
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
    ) {
        let named = !entries.is_empty();
        let (entries, groups, hearsay) = self.admit_snapshot(from, entries, groups);
        // The sequencer's replica may hold every member's names; any other peer speaks for
        // its own only.
        let members = match from == self.sequencer() {
            true => self.peers.connected().len().saturating_add(1),
            false => 1,
        };
        let bound = self.replica.cap().saturating_mul(members);
        let partial = self.partial.entry(from).or_default();
        partial.named |= named;
        let room = bound.saturating_sub(partial.entries.len());
        refused("snapshot past the caps", entries.len().saturating_sub(room));
        partial.entries.extend(entries.into_iter().take(room));
        let room = bound.saturating_sub(partial.groups.len());
        refused("snapshot past the caps", groups.len().saturating_sub(room));
        partial.groups.extend(groups.into_iter().take(room));
        let room = bound.saturating_sub(partial.hearsay.len());
        partial.hearsay.extend(hearsay.into_iter().take(room));
    }

    /// Sends `to` these names and memberships as a snapshot, in chunks of about the configured
    /// size: [`RegistryMsg::SnapshotPart`]s, then the last as a [`RegistryMsg::Snapshot`]
    /// (alone, and empty, if there is nothing to send).
    pub(super) fn send_snapshot(
        &self,
        to: NodeId,
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
        out: &mut Outputs,
    ) {
        let budget = self.config.snapshot_chunk_bytes.max(1);
        let mut chunk = Partial::default();
        let mut size = 0usize;
        let items = entries
            .into_iter()
            .map(|item| (false, item))
            .chain(groups.into_iter().map(|item| (true, item)));
        for (group, item) in items {
            let cost = item
                .0
                .len()
                .saturating_add(item.1.type_name.len())
                .saturating_add(ENTRY_OVERHEAD);
            if size > 0 && size.saturating_add(cost) > budget {
                let Partial { entries, groups, .. } = std::mem::take(&mut chunk);
                out.send(to, RegistryMsg::SnapshotPart { entries, groups });
                size = 0;
            }
            size = size.saturating_add(cost);
            match group {
                false => chunk.entries.push(item),
                true => chunk.groups.push(item),
            }
        }
        let Partial { entries, groups, .. } = chunk;
        out.send(to, RegistryMsg::Snapshot { entries, groups });
    }

    /// Suspects the sequencer of each claim that had no word from it by its deadline (one
    /// heard from since the claim was sent gets a few more deadlines first).
    pub(super) fn suspect_silent(&mut self, now: Duration, out: &mut Outputs) {
        // As the sequencer: the nodes that did not acknowledge the change in flight in time.
        for laggard in self.sequencer.laggards(now) {
            self.suspect(laggard, now, out);
        }
        let timeout = self.config.claim_timeout;
        for (request, sequencer, sent) in self.claims.overdue(now) {
            let heard = self.last_heard.get(&sequencer).is_some_and(|at| *at > sent);
            let patience = sent.saturating_add(timeout.saturating_mul(BUSY_DEADLINES));
            if heard && now < patience {
                self.claims
                    .postpone(request, now.saturating_add(timeout).min(patience));
                continue;
            }
            self.suspect(sequencer, now, out);
        }
    }

    /// `peer` did not answer in time: it is skipped as the sequencer and not waited for until
    /// it is heard from again. The claims sent to it fail with "sequencer lost" (tried again
    /// with the next one), as if it went down; the change in flight here no longer waits for
    /// it.
    fn suspect(&mut self, peer: NodeId, now: Duration, out: &mut Outputs) {
        let sequencer = self.sequencer();
        let until = now.saturating_add(self.config.claim_timeout.saturating_mul(SUSPICION_DEADLINES));
        if !self.peers.suspect(peer, until) {
            // Suspected already (or gone): only make sure nothing waits for it.
            self.commits_without(peer, now, out);
            return;
        }
        crate::meter::counter!(crate::meter::REGISTRY_SUSPECTED).increment(1);
        crate::trace::trace_event!(warn, %peer, "registry sequencer did not answer in time; suspected");
        let changed = self.sequencer() != sequencer;
        if changed {
            self.resync(out);
        }
        self.commits_without(peer, now, out);
        let mut done = Vec::new();
        self.claims.without(peer, &mut done);
        self.settle(done, now, out);
        if changed {
            self.sequencer_changed(now, out);
        }
    }

    /// Ends the suspicions that expired by `now`, as if their peers were heard from.
    pub(super) fn expire_suspicions(&mut self, now: Duration, out: &mut Outputs) {
        for peer in self.peers.expired(now) {
            self.heard_from(peer, now, out);
        }
    }

    /// `peer` was heard from: if it was suspected, it no longer is (it may be the sequencer
    /// again, and is reconciled with as a new one).
    pub(super) fn heard_from(&mut self, peer: NodeId, now: Duration, out: &mut Outputs) {
        let sequencer = self.sequencer();
        if !self.peers.clear_suspicion(peer) {
            return;
        }
        crate::trace::trace_event!(info, %peer, "suspected registry peer heard from again");
        if self.sequencer() != sequencer {
            self.resync(out);
            self.sequencer_changed(now, out);
        }
    }
}
