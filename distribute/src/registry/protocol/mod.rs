//! The cluster-wide registry as a state machine: a replica of every name and process group on
//! every connected node, and the protocol that orders changes of names. Plain functions of
//! (state, input) to [`Outputs`]: no locks, no tasks, no clock, no I/O. Time comes in as a
//! value (a [`Duration`] since an epoch the driver picks); the driver
//! ([`driver`](super::driver)) feeds the inputs and carries the outputs out.
//!
//! Reads are local. Writes are ordered by one node, the *sequencer*: the lowest id among this
//! node and the peers it sees connected (every node of a connected mesh agrees on it). A change
//! submitted from a node R that is not the sequencer S takes three one-way hops on R's path:
//! R's `Claim` (or `Unclaim`) to S; S's `Commit` to every other node C (naming R and the nodes
//! the commit went to) and, right after, its `Decided` to R; each C's `Relayed` copy to R. R
//! applies the first copy that arrives (the others are only counted) and is done once every C
//! has relayed it or went down. S decides a proposal in the step that delivers it when nothing
//! is in flight. Off R's path, R and every C acknowledge the commit to S (`CommitAck`); S
//! decides the next change only once they all have (or went down, or the deadline passed), so
//! changes reach every node in the order S decided them. An acknowledgement also says whether R
//! may be waiting still (R's own when a relay is late or S's copy came first; a C's when it
//! could not relay): then S confirms the change to R with a `ClaimReply` once it is everywhere,
//! and R is done at the first of the relays and that word. R retries with the next sequencer if
//! S goes down before R's claim is done; a retry of a change that went through is answered the
//! same (a claim by the same owner is granted again, an unclaim finds the name gone).
//!
//! When two nodes connect they exchange their replicas (`Snapshot`); a name registered on both
//! sides of a partition keeps the owner the [`ConflictPolicy`] picks, on every node, and the
//! loser is reported (and stopped by its own node, by default). Group memberships are sent by
//! the member's node to every node (`Join`, `Leave`) and merged as a union.
//!
//! This is a registry with deterministic conflict resolution, not consensus: while nodes
//! cannot see each other, each side registers on its own, and the merge settles it.

mod claims;
mod outputs;
mod replica;
mod sequencer;
#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::time::Duration;

pub(crate) use outputs::{Answer, Outputs};
pub(crate) use replica::Replica;

use self::claims::Claims;
use self::sequencer::{Origin, Proposal, Sequencer};
use super::conflict::ConflictPolicy;
use super::wire::{Claimant, Committed, GlobalEntry, RegistryMsg};
use crate::actor::{ActorId, NodeId};

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

/// One node's registry: its replica, its view of the connected peers, and the protocol's
/// bookkeeping as claimant and as sequencer.
#[derive(Debug)]
pub(crate) struct Registry {
    me: NodeId,
    peers: BTreeSet<NodeId>,
    replica: Replica,
    policy: ConflictPolicy,
    claims: Claims,
    sequencer: Sequencer,
    /// How long the sequencer waits for every node to acknowledge a change.
    ack_timeout: Duration,
}

impl Registry {
    /// The registry of node `me`, alone, with the default conflict policy. The sequencer gives
    /// up waiting for acknowledgements of a change after `ack_timeout`.
    pub(crate) fn new(me: NodeId, ack_timeout: Duration) -> Self {
        Registry {
            me,
            peers: BTreeSet::new(),
            replica: Replica::default(),
            policy: ConflictPolicy::default(),
            claims: Claims::default(),
            sequencer: Sequencer::default(),
            ack_timeout,
        }
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
        self.peers
            .first()
            .copied()
            .map_or(self.me, |lowest| lowest.min(self.me))
    }

    /// When [`tick`](Self::tick) has something to do: the deadline of the change in flight.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.sequencer.deadline()
    }

    /// Submits `change` of `name` for this node: to itself if it is the sequencer, else to the
    /// sequencer. The [`Answer`] comes in the outputs of this or a later step.
    pub(crate) fn submit(&mut self, name: &str, change: Change, now: Duration) -> (Submitted, Outputs) {
        let mut out = Outputs::default();
        let request = self.claims.next_request();
        let sequencer = self.sequencer();
        if sequencer == self.me {
            let proposal = Proposal {
                name: name.to_owned(),
                change,
                origin: Origin::Local(request),
            };
            self.propose(proposal, now, &mut out);
        } else {
            self.claims.expect(request, sequencer);
            let name = name.to_owned();
            let msg = match change {
                Change::Claim(entry) => RegistryMsg::Claim { request, name, entry },
                Change::Unclaim(owner) => RegistryMsg::Unclaim { request, name, owner },
            };
            out.send(sequencer, msg);
        }
        (Submitted { request, sequencer }, out)
    }

    /// Stops waiting for the answer to `request` (its caller gave up); a change of this node's
    /// own still queued is not decided.
    pub(crate) fn forget(&mut self, request: u64) {
        self.claims.forget(request);
        self.sequencer.withdraw(request);
    }

    /// A connection to `peer` is up: it counts from now on, and gets this node's replica.
    pub(crate) fn peer_up(&mut self, peer: NodeId) -> Outputs {
        let mut out = Outputs::default();
        self.peers.insert(peer);
        let snapshot = RegistryMsg::Snapshot {
            entries: self.replica.snapshot(),
            groups: self.replica.group_snapshot(),
        };
        out.send(peer, snapshot);
        out
    }

    /// `peer` went down: its actors' names and memberships go, and nothing waits for it any
    /// more.
    pub(crate) fn peer_down(&mut self, peer: NodeId, now: Duration) -> Outputs {
        let mut out = Outputs::default();
        self.peers.remove(&peer);
        self.replica.remove_node(peer, &mut out);
        self.commits_without(peer, now, &mut out);
        self.claims.without(peer, &mut out);
        out
    }

    /// Time passed: a change whose acknowledgements are overdue is given up on.
    pub(crate) fn tick(&mut self, now: Duration) -> Outputs {
        let mut out = Outputs::default();
        self.expire(now, &mut out);
        out
    }

    /// Adds `member` to `group` here and on every connected node.
    pub(crate) fn join(&mut self, group: &str, member: GlobalEntry) -> Outputs {
        let mut out = Outputs::default();
        self.replica.join(group, member.clone(), &mut out);
        self.broadcast(
            &RegistryMsg::Join {
                group: group.to_owned(),
                member,
            },
            &mut out,
        );
        out
    }

    /// Removes `member` from `group` here and on every connected node; false if it was not a
    /// member here.
    pub(crate) fn leave(&mut self, group: &str, member: ActorId) -> (bool, Outputs) {
        let mut out = Outputs::default();
        let left = self.replica.leave(group, member, &mut out);
        if left {
            let msg = RegistryMsg::Leave {
                group: group.to_owned(),
                member,
            };
            self.broadcast(&msg, &mut out);
        }
        (left, out)
    }

    fn broadcast(&self, msg: &RegistryMsg, out: &mut Outputs) {
        for peer in &self.peers {
            out.send(*peer, msg.clone());
        }
    }

    /// A message from `from`.
    pub(crate) fn receive(&mut self, from: NodeId, msg: RegistryMsg, now: Duration) -> Outputs {
        let mut out = Outputs::default();
        match msg {
            RegistryMsg::Claim { request, name, entry } => {
                let origin = Origin::Remote { node: from, request };
                let change = Change::Claim(entry);
                self.propose(Proposal { name, change, origin }, now, &mut out);
            }
            RegistryMsg::Unclaim { request, name, owner } => {
                let origin = Origin::Remote { node: from, request };
                let change = Change::Unclaim(owner);
                self.propose(Proposal { name, change, origin }, now, &mut out);
            }
            RegistryMsg::Decided {
                request,
                commit,
                change,
                others,
            } => self.on_answer(from, (request, commit), change, others, true, &mut out),
            RegistryMsg::Relayed {
                request,
                commit,
                change,
                others,
            } => self.on_answer(from, (request, commit), change, others, false, &mut out),
            RegistryMsg::ClaimReply { request, result } => {
                self.claims.on_reply(request, from, result, &mut out)
            }
            RegistryMsg::Commit {
                request,
                change,
                claimant,
            } => self.on_commit(from, request, change, claimant, &mut out),
            RegistryMsg::CommitAck { request, settled } => self.acked(request, from, settled, now, &mut out),
            RegistryMsg::Snapshot { entries, groups } => {
                self.replica.merge_groups(groups, &mut out);
                self.replica.merge(entries, &self.policy, self.me, &mut out);
            }
            RegistryMsg::Join { group, member } => self.replica.join(&group, member, &mut out),
            RegistryMsg::Leave { group, member } => {
                self.replica.leave(&group, member, &mut out);
            }
        }
        out
    }

    /// Commit `commit` of the sequencer `from`: applied, relayed to its claimant (first: the
    /// claimant waits for it, the sequencer only before its next decision), acknowledged.
    fn on_commit(
        &mut self,
        from: NodeId,
        commit: u64,
        change: Committed,
        claimant: Option<Claimant>,
        out: &mut Outputs,
    ) {
        let relay = claimant.map(|claimant| {
            let msg = RegistryMsg::Relayed {
                request: claimant.request,
                commit,
                change: change.clone(),
                others: claimant.others,
            };
            (claimant.node, msg)
        });
        self.apply(change, out);
        let settled = match relay {
            None => true,
            Some((to, msg)) if self.peers.contains(&to) => {
                out.send(to, msg);
                true
            }
            Some(_) => false,
        };
        out.send(
            from,
            RegistryMsg::CommitAck {
                request: commit,
                settled,
            },
        );
    }

    /// The answer to this node's claim `request`, from `from`: the sequencer's own (`decided`)
    /// or a relay of commit `commit` by a node it went to. The first copy is applied and
    /// acknowledged to the sequencer (after the claim's answer: the caller waits on that, the
    /// sequencer only before its next decision). The claim is granted once every node among
    /// `others` this node can hear from has relayed it.
    fn on_answer(
        &mut self,
        from: NodeId,
        (request, commit): (u64, u64),
        change: Committed,
        others: Vec<NodeId>,
        decided: bool,
        out: &mut Outputs,
    ) {
        let ack_to = self.claims.take_change(request, commit, from, decided);
        if ack_to.is_some() {
            self.apply(change, out);
        }
        let (me, peers) = (self.me, &self.peers);
        let others = others
            .into_iter()
            .filter(|id| ack_to.is_some() && *id != me && peers.contains(id));
        let settled = self.claims.heard(request, from, decided, others, out);
        if let Some(sequencer) = ack_to {
            out.send(
                sequencer,
                RegistryMsg::CommitAck {
                    request: commit,
                    settled,
                },
            );
        }
    }

    /// Applies a change the sequencer made.
    fn apply(&mut self, change: Committed, out: &mut Outputs) {
        match change {
            Committed::Registered { name, entry } => {
                self.replica
                    .merge(vec![(name, entry)], &self.policy, self.me, out)
            }
            Committed::Released { name, owner } => {
                self.replica.remove_if_owner(&name, owner, out);
            }
        }
    }
}
