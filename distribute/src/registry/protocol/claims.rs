//! The claimant's side: the changes this node sent to a sequencer, until each is answered.
//!
//! A claim is answered once, by the first of: the sequencer's `Commit` of the change, which it
//! sends the claimant once every other node acknowledged it (so the change is done); its
//! `ClaimReply` (a refusal, or a grant with no commit: made already, or given up on while this
//! node was not connected); the sequencer going down or ceasing to be the sequencer here
//! ([`Answer::SequencerLost`]). The commit is applied in the sequencer's order like any other.
//! Since the sequencer may wait for a silent node before it sends the commit, a claim gives
//! its sequencer twice the claim timeout for a first word (see [`FIRST_WORD_DEADLINES`]).
//!
//! A claim is this node's own, or one a peer sent to this node while it was not the sequencer
//! in its own view: this node then forwards it to its sequencer as the claimant (a *proxy*),
//! and answers the peer with a `ClaimReply` once the claim is answered here. A release is
//! not forwarded (the sequencer takes one from the owner's node only): the peer is told
//! `NotSequencer`, and tries again.

use std::collections::BTreeMap;
use std::time::Duration;

use super::outputs::{Answer, Outputs};
use super::sequencer::{Origin, Proposal, Work};
use super::{Change, Registry};
use crate::actor::NodeId;
use crate::registry::wire::{Decision, RegistryMsg};

/// How many claim timeouts a claim waits for a first word from its sequencer: the sequencer
/// sends the claimant its commit only once every other node acknowledged it, and waits up to
/// a claim timeout for a silent one before it gives up on it.
pub(super) const FIRST_WORD_DEADLINES: u32 = 2;

/// Claims in flight.
#[derive(Debug, Default)]
pub(super) struct Claims {
    pending: BTreeMap<u64, PendingClaim>,
    next_request: u64,
}

/// A claim this node sent, until it is answered.
#[derive(Debug)]
struct PendingClaim {
    sequencer: NodeId,
    /// The change asked for, to apply here if the sequencer grants it without sending it
    /// (it was made already, by an earlier try of the same change).
    name: String,
    change: Change,
    /// The peer and request this claim is forwarded for, if it is a proxy's.
    proxy_for: Option<(NodeId, u64)>,
    /// Whether its change is applied here (from its commit, which is applied only if its
    /// sequencer was still this node's), or is not to be applied here.
    applied: bool,
    /// When it was sent.
    sent: Duration,
    /// When its sequencer is suspected if no word about it came by then.
    deadline: Duration,
}

/// A claim that got its answer: the registry tells whoever waits for it.
#[derive(Debug)]
pub(super) struct Resolved {
    pub(super) request: u64,
    pub(super) name: String,
    pub(super) change: Change,
    pub(super) proxy_for: Option<(NodeId, u64)>,
    /// Whether its change is applied here, or not to be applied here.
    pub(super) applied: bool,
    pub(super) answer: Answer,
}

impl Claims {
    /// A fresh request id.
    pub(super) fn next_request(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Claim `request`, `change` of `name`, was sent to `sequencer`, for this node or for a
    /// peer's request (`proxy_for`).
    pub(super) fn await_answer(
        &mut self,
        request: u64,
        sequencer: NodeId,
        (name, change): (&str, Change),
        proxy_for: Option<(NodeId, u64)>,
        (sent, deadline): (Duration, Duration),
    ) {
        let claim = PendingClaim {
            sequencer,
            name: name.to_owned(),
            change,
            proxy_for,
            applied: false,
            sent,
            deadline,
        };
        self.pending.insert(request, claim);
    }

    /// The earliest deadline of a claim with no word about it yet.
    pub(super) fn next_deadline(&self) -> Option<Duration> {
        self.pending.values().map(|claim| claim.deadline).min()
    }

    /// The claims with no word about them by their deadline: request, sequencer, when sent.
    pub(super) fn overdue(&self, now: Duration) -> Vec<(u64, NodeId, Duration)> {
        self.pending
            .iter()
            .filter(|(_, claim)| claim.deadline <= now)
            .map(|(request, claim)| (*request, claim.sequencer, claim.sent))
            .collect()
    }

    /// Moves the deadline of claim `request` to `deadline`.
    pub(super) fn postpone(&mut self, request: u64, deadline: Duration) {
        if let Some(claim) = self.pending.get_mut(&request) {
            claim.deadline = deadline;
        }
    }

    /// The commit of claim `request` arrived from `from`, and was `applied` here (it is only
    /// if `from` is still this node's sequencer, `current`). A sequencer sends a claimant its
    /// commit once every other node holds the change, as its `answer`: it answers the claim as
    /// a grant would ([`on_reply`](Self::on_reply)). A copy sent sooner (not the answer)
    /// waits for the reply.
    pub(super) fn committed(
        &mut self,
        (request, from): (u64, NodeId),
        (applied, current): (bool, NodeId),
        answer: bool,
        done: &mut Vec<Resolved>,
    ) {
        let Some(claim) = self
            .pending
            .get_mut(&request)
            .filter(|claim| claim.sequencer == from)
        else {
            return;
        };
        claim.applied |= applied;
        if answer {
            self.on_reply((request, from), Ok(()), current, done);
        }
    }

    /// Whether claim `request` is waiting for its answer.
    pub(super) fn is_pending(&self, request: u64) -> bool {
        self.pending.contains_key(&request)
    }

    /// Claim `request` is no longer waited for (its caller gave up).
    pub(super) fn forget(&mut self, request: u64) {
        self.pending.remove(&request);
    }

    fn resolve(&mut self, request: u64, answer: Answer, done: &mut Vec<Resolved>) {
        if let Some(claim) = self.pending.remove(&request) {
            done.push(Resolved {
                request,
                name: claim.name,
                change: claim.change,
                proxy_for: claim.proxy_for,
                applied: claim.applied,
                answer,
            });
        }
    }

    /// The sequencer `from` gave its answer to claim `request`. A grant from a node that is no
    /// longer this node's sequencer (`current`) does not say how the name stands in the current
    /// order: a registration is tried again with the current sequencer (which answers
    /// "granted" at once if it went through); a release is passed on (tried again, it would be
    /// answered "not found"), but not applied here (the current order reaches this node anyway).
    pub(super) fn on_reply(
        &mut self,
        (request, from): (u64, NodeId),
        result: Decision,
        current: NodeId,
        done: &mut Vec<Resolved>,
    ) {
        let Some(claim) = self
            .pending
            .get_mut(&request)
            .filter(|claim| claim.sequencer == from)
        else {
            return;
        };
        let answer = match (&claim.change, result) {
            (Change::Claim(_), Ok(())) if from != current => Answer::SequencerLost,
            (_, result) => Answer::Decided(result),
        };
        claim.applied |= from != current;
        self.resolve(request, answer, done);
    }

    /// `from`, which claim `request` was sent to, cannot take it (it is not the sequencer):
    /// the claim fails, to be tried again.
    pub(super) fn refused_by_proxy(&mut self, (request, from): (u64, NodeId), done: &mut Vec<Resolved>) {
        if self
            .pending
            .get(&request)
            .is_some_and(|claim| claim.sequencer == from)
        {
            self.resolve(request, Answer::SequencerLost, done);
        }
    }

    /// `node` went down: the claims it was sequencing fail (they are tried again with the
    /// next sequencer).
    pub(super) fn without(&mut self, node: NodeId, done: &mut Vec<Resolved>) {
        let lost: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, claim)| claim.sequencer == node)
            .map(|(request, _)| *request)
            .collect();
        for request in lost {
            self.resolve(request, Answer::SequencerLost, done);
        }
    }
}

impl Registry {
    /// A proposal this node is to decide, if it is the sequencer; else its own change goes to
    /// the sequencer, and a peer's is forwarded there with this node as the claimant (the
    /// peer hears back from this node).
    pub(super) fn take_proposal(&mut self, proposal: Proposal, now: Duration, out: &mut Outputs) {
        let sequencer = self.sequencer();
        if sequencer == self.me {
            return self.propose(Work::Proposal(proposal), now, out);
        }
        let Proposal { name, change, origin } = proposal;
        let (request, proxy_for) = match (origin, &change) {
            // The sequencer would refuse it from this node (not the owner's): the claimant
            // tries again.
            (Origin::Remote { node, request }, Change::Unclaim(_)) => {
                return out.send(node, RegistryMsg::NotSequencer { request });
            }
            (Origin::Local(request), _) => (request, None),
            (Origin::Remote { node, request }, _) => (self.claims.next_request(), Some((node, request))),
        };
        let msg = match change.clone() {
            Change::Claim(entry) => RegistryMsg::Claim {
                request,
                name: name.clone(),
                entry,
            },
            Change::Unclaim(owner) => RegistryMsg::Unclaim {
                request,
                name: name.clone(),
                owner,
            },
        };
        let patience = self.config.claim_timeout.saturating_mul(FIRST_WORD_DEADLINES);
        let deadline = now.saturating_add(patience);
        self.claims
            .await_answer(request, sequencer, (&name, change), proxy_for, (now, deadline));
        out.send(sequencer, msg);
    }

    /// Tells whoever waits for each answered claim: this node's caller, or the peer a proxy
    /// claim was forwarded for (which a claim that lost its sequencer is proposed again for).
    pub(super) fn settle(&mut self, done: Vec<Resolved>, now: Duration, out: &mut Outputs) {
        for resolved in done {
            let Resolved {
                request,
                name,
                change,
                proxy_for,
                applied,
                answer,
            } = resolved;
            if answer == Answer::Decided(Ok(())) && !applied {
                // Granted without its commit: the sequencer found it made already (by an
                // earlier try whose answer was lost), or this claim went through a proxy.
                self.apply_own(&name, change.clone(), out);
            }
            match (proxy_for, answer) {
                (None, answer) => out.answer(request, answer),
                (Some((node, request)), Answer::Decided(result)) => {
                    out.send(node, RegistryMsg::ClaimReply { request, result })
                }
                (Some((node, request)), Answer::SequencerLost) => {
                    if self.peers.is_connected(node) {
                        let origin = Origin::Remote { node, request };
                        self.take_proposal(Proposal { name, change, origin }, now, out);
                    }
                }
            }
        }
    }

    /// Applies this node's own change, which the sequencer granted without sending it.
    fn apply_own(&mut self, name: &str, change: Change, out: &mut Outputs) {
        match change {
            // Granted: as if still waiting (it was, until this answer).
            Change::Claim(entry) => self.set_for(name, entry, true, out),

            Change::Unclaim(owner) => {
                self.replica.remove_if_owner(name, owner, out);
            }
        }
    }
}
