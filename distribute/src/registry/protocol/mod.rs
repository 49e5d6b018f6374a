//! The cluster-wide registry as a state machine: a replica of every name and process group on
//! every connected node, and the protocol that orders changes of names. Plain functions of
//! (state, input) to [`Outputs`]: nothing shared, no tasks, no time read, no I/O. Time comes
//! in as a value (a [`Duration`] since an epoch the driver picks); the driver
//! ([`driver`](super::driver)) feeds the inputs and carries the outputs out.
//!
//! Reads are local. Writes are ordered by one node, the *sequencer*: the lowest id among this
//! node and the peers it sees up (every node agrees on it once their views of the members
//! agree). Only a node that is the sequencer in its own view decides; one that gets a claim
//! while it is not forwards it to its own sequencer (a release it sends back: see
//! [`claims`]), and a node applies commits only from its own sequencer.
//!
//! A change submitted from a node R that is not the sequencer S takes four one-way hops, in a
//! chain: R's `Claim` (or `Unclaim`) to S; S's `Commit` to every other node; each one's
//! `CommitAck` to S; once every one acknowledged (or went down, or was given up on), S's
//! `Commit` to R, which is R's answer and ends the change at S (R does not acknowledge it: the
//! connection delivers it ahead of anything S sends R later). So when a change is answered,
//! every node has applied it, and changes reach every node in the order S decided them: S
//! decides the next change only once the last is everywhere or on its way to the last node. S decides a proposal in the step
//! that delivers it when nothing is in flight. R tries again with the next sequencer if S goes
//! down before R's claim is done; a retry of a change that went through is answered the same
//! (a claim by the same owner is granted again, an unclaim finds the name gone), with a
//! `ClaimReply`, which also answers a change refused or one whose claimant could not be sent
//! its commit. A node going down loses its names: the sequencer commits their removal.
//!
//! Registry traffic is a star around the sequencer: a node talks to S only (and S to every
//! node), so with connections opened on demand a node holds one connection for the registry,
//! not one to every member. Group memberships, which only the node whose actor joins or leaves
//! changes (`Join`, `Leave`), go to S, which passes them on; so does a node's report of a
//! conflict its actor lost (`Lost`).
//!
//! When a node and its sequencer come up for each other they exchange their replicas
//! (`Snapshot`); a name registered on both sides of a partition keeps the owner the
//! [`ConflictPolicy`] picks, on every node, and the loser is reported (and stopped by its own
//! node, by default). What a node learns outside the sequencer's order (a snapshot, a node
//! going down) is committed again by the sequencer, in order ([`reconcile`]). A node's
//! snapshot replaces what its sequencer held of its actors' memberships, and the sequencer
//! passes the new list on (`Groups`).
//!
//! What a peer may tell a node, the per-node caps, chunked snapshots and the suspicion of a
//! silent sequencer are in [`authority`]: the sequencer is the lowest id among this node and
//! the connected peers it does not suspect.
//!
//! This is a registry with deterministic conflict resolution, not consensus: while nodes
//! cannot see each other, each side registers on its own, and the merge settles it. Without
//! versions on the wire, a merge cannot tell a name registered during a partition from a stale
//! copy of a name released meanwhile: a release that races with a reconnection may be undone
//! (the name comes back, on every node alike).

mod authority;
mod awaiting;
mod claims;
mod conflicts;
mod outputs;
mod peers;
mod reconcile;
mod replica;
mod sequencer;
#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) use outputs::{Answer, Outputs};
pub(crate) use replica::{Replica, DEFAULT_MAX_NAMES_PER_NODE};

use self::claims::Claims;

use self::peers::Peers;
use self::sequencer::{Origin, Proposal, Sequencer};

use super::conflict::ConflictPolicy;
use super::wire::{Claimant, Committed, GlobalEntry, RegistryMsg};
use crate::actor::{ActorId, NodeId};

/// Names (or group memberships) with their owners, as snapshots carry them.
type Entries = Vec<(String, GlobalEntry)>;

/// A change to one name, as submitted to the sequencer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Register the name to this entry.
    Claim(GlobalEntry),
    /// Release the name, which this actor must hold.
    Unclaim(ActorId),
}

/// Where a submitted change went: its request id (how its [`Answer`] is told) and the
/// sequencer asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Submitted {
    /// The request id of the change.
    pub(crate) request: u64,
    /// The node asked to decide it (this node, if it is the sequencer).
    pub(crate) sequencer: NodeId,
}

/// How long a claim waits for a first word from the sequencer it was sent to, by default,
/// before that node is suspected and the claim moves on to the next candidate.
pub(crate) const DEFAULT_CLAIM_TIMEOUT: Duration = Duration::from_millis(500);

/// The budget of one snapshot chunk, by default, in (estimated) encoded bytes.
pub(crate) const DEFAULT_SNAPSHOT_CHUNK_BYTES: usize = 256 * 1024;

/// The registry's knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    /// How long the sequencer waits for every node to acknowledge a change.
    pub(crate) ack_timeout: Duration,
    /// How long a claim waits for a first word from its sequencer before suspecting it.
    pub(crate) claim_timeout: Duration,
    /// The most names (and, apart, group memberships) one node's actors may hold.
    pub(crate) max_names_per_node: usize,
    /// The budget of one snapshot chunk, in estimated encoded bytes (at least one entry goes
    /// in each chunk).
    pub(crate) snapshot_chunk_bytes: usize,
}

impl Config {
    /// The defaults, with `ack_timeout`.
    pub(crate) fn new(ack_timeout: Duration) -> Self {
        Config {
            ack_timeout,
            claim_timeout: DEFAULT_CLAIM_TIMEOUT,
            max_names_per_node: DEFAULT_MAX_NAMES_PER_NODE,
            snapshot_chunk_bytes: DEFAULT_SNAPSHOT_CHUNK_BYTES,
        }
    }
}

/// One node's registry: its replica, its view of the other nodes, and the protocol's
/// bookkeeping as claimant and as sequencer.
#[derive(Debug)]
pub(crate) struct Registry {
    me: NodeId,
    peers: Peers,
    replica: Replica,
    policy: ConflictPolicy,
    claims: Claims,
    sequencer: Sequencer,
    config: Config,
    /// The chunks of a snapshot each peer is sending, until its last.
    partial: BTreeMap<NodeId, authority::Partial>,
    /// When each peer was last heard from.
    last_heard: BTreeMap<NodeId, Duration>,
    /// The conflicts reported here, and those this node's actors lost lately, which it
    /// announces to every node.
    conflicts: conflicts::Conflicts,
    /// Decisions for actors of nodes not yet connected, taken when they come up.
    awaiting: awaiting::Awaiting,
    /// The buffers of a step's outputs, handed back empty by the driver once it carried them
    /// out (see [`recycle`](Self::recycle)), so that a step allocates none of its own.
    spare: Outputs,
}

impl Registry {
    /// The registry of node `me`, alone, with the default conflict policy and knobs. The
    /// sequencer gives up waiting for acknowledgements of a change after `ack_timeout`.
    pub(crate) fn new(me: NodeId, ack_timeout: Duration) -> Self {
        Registry::with_config(me, Config::new(ack_timeout))
    }

    /// The registry of node `me`, alone, with the default conflict policy.
    pub(crate) fn with_config(me: NodeId, config: Config) -> Self {
        Registry {
            me,
            peers: Peers::default(),
            replica: Replica::with_cap(config.max_names_per_node),
            policy: ConflictPolicy::default(),
            claims: Claims::default(),
            sequencer: Sequencer::default(),
            config,
            partial: BTreeMap::new(),
            last_heard: BTreeMap::new(),
            conflicts: conflicts::Conflicts::default(),
            awaiting: awaiting::Awaiting::default(),
            spare: Outputs::default(),
        }
    }

    /// Outputs for a step to fill: the spare buffers, if the driver handed them back.
    fn outputs(&mut self) -> Outputs {
        std::mem::take(&mut self.spare)
    }

    /// Takes back the buffers of outputs carried out, emptied, for the next step (unless a
    /// large step left them large).
    pub(crate) fn recycle(&mut self, mut out: Outputs) {
        if out.clear() {
            self.spare = out;
        }
    }

    /// Sets the knobs: the cap applies to names stored from now on.
    pub(crate) fn configure(&mut self, config: Config) {
        self.config = config;
        self.replica.set_cap(config.max_names_per_node);
    }

    /// Settles later conflicts with `policy`.
    pub(crate) fn set_policy(&mut self, policy: ConflictPolicy) {
        self.policy = policy;
    }

    /// This node's copy of the names and groups.
    pub(crate) fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The node that orders changes, as this node sees it: the lowest id among itself and its
    /// connected peers.
    pub(crate) fn sequencer(&self) -> NodeId {
        self.peers.sequencer(self.me)
    }

    /// When [`tick`](Self::tick) has something to do: the deadline of the change in flight,
    /// or of a claim still waiting for a first word from its sequencer.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        [
            self.sequencer.deadline(),
            self.claims.next_deadline(),
            self.peers.next_expiry(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Submits `change` of `name` for this node: to itself if it is the sequencer, else to the
    /// sequencer. The [`Answer`] comes in the outputs of this or a later step.
    pub(crate) fn submit(&mut self, name: &str, change: Change, now: Duration) -> (Submitted, Outputs) {
        let mut out = self.outputs();
        let request = self.claims.next_request();
        let sequencer = self.sequencer();
        let proposal = Proposal {
            name: name.to_owned(),
            change,
            origin: Origin::Local(request),
        };
        self.take_proposal(proposal, now, &mut out);
        (Submitted { request, sequencer }, self.finished(out, now))
    }

    /// Stops waiting for the answer to `request` (its caller gave up); a change of this node's
    /// own still queued is not decided.
    pub(crate) fn forget(&mut self, request: u64) {
        self.claims.forget(request);
        self.sequencer.withdraw(request);
    }

    /// `peer` is up: it counts from now on. If either of the two is the sequencer (now), they
    /// exchange replicas (and this node's recent losses); two other nodes have nothing to say
    /// to each other. If `peer` is the sequencer now, the claims sent to the last one go to
    /// it. If this node had seen it go down (and dropped its names), it asks its sequencer for
    /// its replica: the names it dropped may be held there still, and `peer` itself may not
    /// hold them yet.
    pub(crate) fn peer_up(&mut self, peer: NodeId, now: Duration) -> Outputs {
        let mut out = self.outputs();
        let sequencer = self.sequencer();
        let returning = self.peers.has_departed(peer);
        self.peers.up(peer);
        self.partial.remove(&peer);
        self.last_heard.insert(peer, now);
        self.meet(peer, now);
        let greet = self.sequencer() == self.me || self.sequencer() == peer;
        if greet {
            let (entries, groups) = (self.replica.snapshot(), self.replica.group_snapshot());
            self.send_snapshot(peer, entries, groups, &mut out);
        }
        if self.sequencer() != sequencer {
            self.sequencer_changed(now, &mut out);
        }
        if returning && self.sequencer() != self.me && self.sequencer() != peer {
            self.ask_sequencer(&mut out);
        }
        if greet {
            self.announce_losses_to(peer, now, &mut out);
        }
        for (name, entry) in self.awaiting.take_for(peer) {
            self.set(&name, entry, &mut out);
        }
        // The sequencer takes `peer`'s memberships from `peer` itself (it greets it with them),
        // so that what changes is passed on; any other node from the sequencer, which may have
        // passed them on before `peer` was up here.
        let held = self.awaiting.take_members_for(peer);
        if self.sequencer() != self.me {
            for (group, member) in held {
                self.replica.join(&group, member, &mut out);
            }
        }
        self.finished(out, now)
    }

    /// `peer` went down: its actors' names and memberships go, and nothing waits for it any
    /// more. The sequencer commits the removal of the names, and passes the removal of the
    /// memberships on, in order (a node still connected to `peer` would keep them otherwise;
    /// they come back with its replica). If `peer` was the sequencer, the next one reconciles
    /// with this node: a change the last sequencer did not get to every node is settled that
    /// way.
    pub(crate) fn peer_down(&mut self, peer: NodeId, now: Duration) -> Outputs {
        let mut out = self.outputs();
        let sequencer = self.sequencer();
        self.peers.down(peer);
        self.awaiting.forget_node(peer);
        self.partial.remove(&peer);
        self.last_heard.remove(&peer);
        self.sequencer.withdraw_from(peer);
        self.replica.remove_members_of(peer, &mut out);
        let removed = self.replica.remove_names_of(peer, &mut out);
        let changed = self.sequencer() != sequencer;
        if changed {
            self.resync(&mut out);
        }
        self.commits_without(peer, now, &mut out);
        let mut done = Vec::new();
        self.claims.without(peer, &mut done);
        self.settle(done, now, &mut out);
        if changed {
            self.sequencer_changed(now, &mut out);
        }
        if self.sequencer() == self.me {
            for (name, seen) in removed {
                self.sync_later(name, seen, now, &mut out);
            }
            // In this node's order too: a node still connected to `peer` would keep them.
            let groups = Vec::new();
            self.pass_on(&RegistryMsg::Groups { node: peer, groups }, peer, &mut out);
        }
        self.finished(out, now)
    }

    /// Time passed: a change whose acknowledgements are overdue is given up on, and a
    /// sequencer that left a claim unanswered past its deadline is suspected.
    pub(crate) fn tick(&mut self, now: Duration) -> Outputs {
        let mut out = self.outputs();
        self.expire(now, &mut out);
        self.suspect_silent(now, &mut out);
        self.expire_suspicions(now, &mut out);
        self.finished(out, now)
    }

    /// Adds `member` (an actor of this node) to `group` here and, through the sequencer, on
    /// every node.
    pub(crate) fn join(&mut self, group: &str, member: GlobalEntry) -> Outputs {
        let mut out = self.outputs();
        self.replica.join(group, member.clone(), &mut out);
        let group = group.to_owned();
        self.spread(&RegistryMsg::Join { group, member }, &mut out);
        self.keep_claimants_order(&mut out);
        out
    }

    /// Removes `member` (an actor of this node) from `group` here and, through the
    /// sequencer, on every node; false if it was not a member here.
    pub(crate) fn leave(&mut self, group: &str, member: ActorId) -> (bool, Outputs) {
        let mut out = self.outputs();
        let left = self.replica.leave(group, member, &mut out);
        if left {
            let group = group.to_owned();
            self.spread(&RegistryMsg::Leave { group, member }, &mut out);
        }
        self.keep_claimants_order(&mut out);
        (left, out)
    }

    /// Sends a change of this node's own memberships (or its own loss) where it goes: to the
    /// sequencer, which passes it on; to every connected node, if this node is the sequencer.
    pub(super) fn spread(&self, msg: &RegistryMsg, out: &mut Outputs) {
        match self.sequencer() {
            sequencer if sequencer == self.me => self.pass_on(msg, self.me, out),
            sequencer => out.send(sequencer, msg.clone()),
        }
    }

    /// Sends `msg` to every connected node but `from`.
    pub(super) fn pass_on(&self, msg: &RegistryMsg, from: NodeId, out: &mut Outputs) {
        for peer in self.peers.connected().iter().filter(|peer| **peer != from) {
            out.send(*peer, msg.clone());
        }
    }

    /// A membership change admitted from `from` (the member's node, or this node's
    /// sequencer): taken (held until the member's node is up, if it is not yet), and passed
    /// on to every other node if this node is the sequencer and `from` the member's node.
    fn on_group_change(&mut self, from: NodeId, msg: RegistryMsg, out: &mut Outputs) {
        let node = match &msg {
            RegistryMsg::Join { member, .. } => member.owner.node(),
            RegistryMsg::Leave { member, .. } => member.node(),
            _ => return,
        };
        let member_up = self.peers.is_member(node, self.me);
        match &msg {
            RegistryMsg::Join { group, member } if member_up => self.replica.join(group, member.clone(), out),
            RegistryMsg::Join { group, member } => self.awaiting.hold_member(group, member.clone()),
            RegistryMsg::Leave { group, member } if member_up => {
                self.replica.leave(group, *member, out);
            }
            RegistryMsg::Leave { group, member } => self.awaiting.drop_member(group, *member),
            _ => {}
        }
        if self.sequencer() == self.me && from == node {
            self.pass_on(&msg, from, out);
        }
    }

    /// The sequencer says what `node`'s actors' memberships are now (`node` told it): they
    /// replace what this node held of them (or waits for `node` to come up).
    fn on_groups(&mut self, node: NodeId, groups: Entries, out: &mut Outputs) {
        if self.peers.is_member(node, self.me) {
            self.replica.merge_groups(node, groups, |_| false, out);
        } else {
            self.awaiting.replace_members_of(node, groups);
        }
    }

    /// A message from `from`, taken as far as `from` is an authority on what it says
    /// ([`admit`](Self::admit)).
    pub(crate) fn receive(&mut self, from: NodeId, msg: RegistryMsg, now: Duration) -> Outputs {
        let out = self.take(from, msg, now);
        self.finished(out, now)
    }

    fn take(&mut self, from: NodeId, msg: RegistryMsg, now: Duration) -> Outputs {
        let mut out = self.outputs();
        let Some(msg) = self.admit(from, msg, now, &mut out) else {
            return out;
        };
        match msg {
            RegistryMsg::Claim { request, name, entry } => {
                let origin = Origin::Remote { node: from, request };
                let change = Change::Claim(entry);
                self.take_proposal(Proposal { name, change, origin }, now, &mut out);
            }
            RegistryMsg::Unclaim { request, name, owner } => {
                let origin = Origin::Remote { node: from, request };
                let change = Change::Unclaim(owner);
                self.take_proposal(Proposal { name, change, origin }, now, &mut out);
            }
            RegistryMsg::NotSequencer { request } => {
                let mut done = Vec::new();
                self.claims.refused_by_proxy((request, from), &mut done);
                self.settle(done, now, &mut out);
            }
            RegistryMsg::ClaimReply { request, result } => {
                let mut done = Vec::new();
                let current = self.sequencer();
                self.claims.on_reply((request, from), result, current, &mut done);
                self.settle(done, now, &mut out);
            }
            RegistryMsg::Commit {
                request,
                change,
                claimant,
                answer,
            } => {
                let done = self.on_commit(from, (request, change), (claimant, answer), &mut out);
                self.settle(done, now, &mut out);
            }
            RegistryMsg::CommitAck { request } => self.acked(request, from, now, &mut out),
            // Taken in whole by `admit`, so never here.
            RegistryMsg::Snapshot { .. } | RegistryMsg::SnapshotPart { .. } => {}
            msg @ (RegistryMsg::Join { .. } | RegistryMsg::Leave { .. }) => {
                self.on_group_change(from, msg, &mut out)
            }
            RegistryMsg::Groups { node, groups } => self.on_groups(node, groups, &mut out),
            RegistryMsg::Lost { name, winner, loser } => {
                self.heard_of_loss(from, name, (winner, loser), now, &mut out)
            }
        }
        out
    }

    /// Commit `commit` of `from`: applied if `from` is this node's sequencer, and
    /// acknowledged. A commit of another node (it decided while it took itself for the
    /// sequencer, or before it knew of a lower node) is only acknowledged: applying it here
    /// would interleave two orders; the sequencer reconciles what it changed. A sync (no
    /// claimant) releasing the name of this node's own actor is not applied either: this node
    /// is the authority on its own actors' names, and tells the sequencer it holds it.
    ///
    /// A commit of this node's own claim is its answer if it says so (see [`claims`]): the
    /// claims answered are returned.
    fn on_commit(
        &mut self,
        from: NodeId,
        (commit, change): (u64, Committed),
        (claimant, answer): (Option<Claimant>, bool),
        out: &mut Outputs,
    ) -> Vec<claims::Resolved> {
        let ordered = from == self.sequencer();
        if ordered {
            let kept = match &change {
                Committed::Released { name, owner } if claimant.is_none() && owner.node() == self.me => self
                    .replica
                    .get(name)
                    .filter(|entry| entry.owner == *owner)
                    .cloned(),
                _ => None,
            };
            // This node's own claim, still waiting for its answer (not a try given up on).
            let claimed = claimant
                .as_ref()
                .is_some_and(|claimant| claimant.node == self.me && self.claims.is_pending(claimant.request));
            match kept {
                Some(entry) => self.tell_sequencer_of(change.name(), entry, out),
                None => self.apply(change, claimed, out),
            }
        }
        let mut done = Vec::new();
        match claimant.filter(|claimant| claimant.node == self.me) {
            // A claimant does not acknowledge its own commit: its sender, which sent the
            // other nodes theirs first, is done with the change once it sent this copy.
            Some(claimant) => {
                let current = self.sequencer();
                self.claims
                    .committed((claimant.request, from), (ordered, current), answer, &mut done);
            }
            None => out.send(from, RegistryMsg::CommitAck { request: commit }),
        }
        done
    }

    /// Applies a change the sequencer made: it sets the name (the sequencer's order is the
    /// reference; if it did not know of the owner held here, that owner's node tells it), but
    /// a name of this node's own actor that the policy prefers is kept and sent to the
    /// sequencer (it forgot it, or never had it). Unlike a snapshot's names, a change is
    /// applied even for an actor of a node this one saw go down: the sequencer commits the
    /// removal of a departed node's names itself.
    ///
    /// `claimed`: the change is this node's own claim, still waiting for its answer (see
    /// [`set_for`](Self::set_for)).
    fn apply(&mut self, change: Committed, claimed: bool, out: &mut Outputs) {
        match change {
            Committed::Registered { name, entry } => self.set_for(&name, entry, claimed, out),
            Committed::Released { name, owner } => {
                self.awaiting.forget(&name, owner);
                self.replica.remove_if_owner(&name, owner, out);
            }
        }
    }

    /// Sets `name` as the sequencer decided, or tells it of this node's actor that keeps it;
    /// a change this node did not ask for (see [`set_for`](Self::set_for)).
    pub(super) fn set(&mut self, name: &str, entry: GlobalEntry, out: &mut Outputs) {
        self.set_for(name, entry, false, out);
    }

    /// Sets `name` as the sequencer decided, or tells it of this node's actor that keeps it.
    /// An owner on a node that is not a member is not taken, whoever decided it.
    ///
    /// `claimed` says the change is a claim of this node's that is still waiting for its
    /// answer (or was just granted). Any other change that would give the name of one of this
    /// node's actors to another of its actors is not taken, and is no conflict: this node is
    /// the authority on which of its actors holds a name, and its two actors were never on two
    /// sides of a partition. Such a change comes from a claim this node gave up on (it
    /// suspected the sequencer it sent it to, tried again elsewhere and had its answer there,
    /// but the first try was still queued, and was decided late by a sequencer that did not
    /// know of the holder): the holder keeps the name, and the sequencer is told.
    pub(super) fn set_for(&mut self, name: &str, entry: GlobalEntry, claimed: bool, out: &mut Outputs) {
        if !self.peers.is_member(entry.owner.node(), self.me) {
            // Its node may be joining: taken if it comes up (see `awaiting`).
            self.awaiting.hold(name, entry);
            // What this node held of the name is superseded in the sequencer's order: dropped,
            // but for its own actor's, which the sequencer is told of.
            match self.replica.get(name).cloned() {
                Some(own) if own.owner.node() == self.me => self.tell_sequencer_of(name, own, out),
                Some(stale) => {
                    self.replica.remove_if_owner(name, stale.owner, out);
                }
                None => {}
            }
            return;
        }
        self.awaiting.forget_name(name);
        let mine = |owner: ActorId| owner.node() == self.me;
        match self.replica.get(name) {
            Some(held) if !claimed && held.owner != entry.owner && mine(held.owner) && mine(entry.owner) => {
                return self.tell_sequencer_of(name, held.clone(), out);
            }
            _ => {}
        }
        if let Some(kept) = self.replica.set(name, entry, (&self.policy, self.me), out) {
            self.tell_sequencer_of(name, kept, out);
        }
    }

    /// Tells the sequencer that this node holds `name` for `entry`, its own actor (the
    /// sequencer forgot it, or never had it).
    fn tell_sequencer_of(&self, name: &str, entry: GlobalEntry, out: &mut Outputs) {
        let sequencer = self.sequencer();
        if sequencer != self.me {
            let groups = self.replica.group_snapshot_of(self.me);
            self.send_snapshot(sequencer, vec![(name.to_owned(), entry)], groups, out);
        }
    }

    /// Merges names from another node, but none of a node this one saw go down (and not come
    /// back).
    fn merge(&mut self, entries: impl IntoIterator<Item = (String, GlobalEntry)>, out: &mut Outputs) {
        let peers = &self.peers;
        let entries = entries
            .into_iter()
            .filter(|(_, entry)| !peers.has_departed(entry.owner.node()));
        let gone = |node: NodeId| peers.has_departed(node);
        self.replica.merge(entries, &self.policy, (self.me, gone), out);
    }
}
