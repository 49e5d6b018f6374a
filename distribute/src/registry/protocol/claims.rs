//! The claimant's side: the changes this node sent to a sequencer, until each is answered.
//!
//! A claim is answered once, by the first of: the sequencer's refusal; its change applied here
//! and relayed by every other node it went to (or those gone down); the sequencer's final
//! `ClaimReply`; the sequencer going down or ceasing to be the sequencer here
//! ([`Answer::SequencerLost`]). Of the copies of the change (the sequencer's `Decided`, the
//! relays), exactly one is applied: the first, or the sequencer's when the claim is no longer
//! known here (it timed out).
//!
//! A claim is this node's own, or one a peer sent to this node while it was not the sequencer
//! in its own view: this node then forwards it to its sequencer as the claimant (a *proxy*),
//! and answers the peer with a `ClaimReply` once the claim is answered here.

use std::collections::BTreeMap;
use std::time::Duration;

use super::outputs::{Answer, Outputs};
use super::sequencer::{Origin, Proposal, Work};
use super::{Change, Registry};
use crate::actor::NodeId;
use crate::registry::wire::{Committed, Decision, RegistryMsg};

/// Claims in flight.
#[derive(Debug, Default)]
pub(super) struct Claims {
    pending: BTreeMap<u64, PendingClaim>,
    /// (sequencer, commit) of the changes applied from a relay, with their name, until the
    /// sequencer's `Decided` for them arrives: that is not applied again (a later change may
    /// have followed meanwhile), and what the sequencer says of the name before it is older.
    relayed: BTreeMap<(NodeId, u64), String>,
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
    /// Whether its change is applied here (from the first copy that arrived).
    applied: bool,
    /// Whether a change of the same name was applied here since it was sent: a relay of a
    /// later change may overtake the sequencer's earlier answer, which then no longer says
    /// how the name stands.
    overtaken: bool,
    /// The nodes heard from (their relay, or the sequencer's answer).
    heard: Vec<NodeId>,
    /// Once applied here: the nodes whose relay is still awaited.
    waiting: Option<Vec<NodeId>>,
    /// When it was sent.
    sent: Duration,
    /// When its sequencer is suspected if no word about it came from any node by then.
    deadline: Duration,
}

/// A claim that got its answer: the registry tells whoever waits for it.
#[derive(Debug)]
pub(super) struct Resolved {
    pub(super) request: u64,
    pub(super) name: String,
    pub(super) change: Change,
    pub(super) proxy_for: Option<(NodeId, u64)>,
    /// Whether the change is applied here, or a later change of the name was.
    pub(super) applied: bool,

    pub(super) answer: Answer,
}

impl PendingClaim {
    /// Whether no node said anything about it yet (its sequencer may be silent).
    fn unanswered(&self) -> bool {
        self.heard.is_empty() && !self.applied && !self.overtaken
    }
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
            overtaken: false,
            heard: Vec::new(),
            waiting: None,
            sent,
            deadline,
        };
        self.pending.insert(request, claim);
    }

    /// The earliest deadline of a claim with no word about it yet.
    pub(super) fn next_deadline(&self) -> Option<Duration> {
        self.pending
            .values()
            .filter(|claim| claim.unanswered())
            .map(|claim| claim.deadline)
            .min()
    }

    /// The claims with no word about them by their deadline: request, sequencer, when sent.
    pub(super) fn overdue(&self, now: Duration) -> Vec<(u64, NodeId, Duration)> {
        self.pending
            .iter()
            .filter(|(_, claim)| claim.unanswered() && claim.deadline <= now)
            .map(|(request, claim)| (*request, claim.sequencer, claim.sent))
            .collect()
    }

    /// Moves the deadline of claim `request` to `deadline`.
    pub(super) fn postpone(&mut self, request: u64, deadline: Duration) {
        if let Some(claim) = self.pending.get_mut(&request) {
            claim.deadline = deadline;
        }
    }

    /// Whether what `sequencer` says of `name` (in its commit `commit`, if it is one) is older
    /// than what this node applied of it: a relay of its later change overtook it. Its own
    /// messages predate its `Decided` for that change (it sends that as it decides) until that
    /// arrives; a relayed commit is older if its id is lower.
    pub(super) fn overtaken_by_relay(&self, sequencer: NodeId, name: &str, commit: Option<u64>) -> bool {
        self.relayed.iter().any(|((from, applied), relayed)| {
            *from == sequencer && relayed == name && commit.is_none_or(|commit| commit < *applied)
        })
    }

    /// A change of `name` was applied here from a relay.
    pub(super) fn touched(&mut self, name: &str) {
        for claim in self.pending.values_mut().filter(|claim| claim.name == name) {
            claim.overtaken = true;
        }
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
                applied: claim.applied || claim.overtaken,
                answer,
            });
        }
    }

    /// The sequencer `from` gave its final answer to claim `request`. A grant from a node that
    /// is no longer this node's sequencer (`current`) does not say how the name stands in the
    /// current order: a registration is tried again with the current sequencer (which answers
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

    /// Commit `commit`, answering claim `request`, arrived from `from`: the sequencer's
    /// `Decided` (`decided`) or a node's relay. Returns whether to apply it here, and whom to
    /// acknowledge it to. The first copy is applied and acknowledged to the claim's sequencer,
    /// if that is still this node's (`current`); else the claim is tried again with the
    /// current one (this node follows one order only). A `Decided` for no known claim (it may
    /// have timed out) is applied if it comes from the current sequencer and no relay of it was
    /// applied already, and acknowledged either way (its sender waits for that before it
    /// decides again); a relay for no known claim is neither (the sequencer's copy will be).
    pub(super) fn take_change(
        &mut self,
        (request, commit): (u64, u64),
        (from, decided): (NodeId, bool),
        current: NodeId,
        done: &mut Vec<Resolved>,
    ) -> (bool, Option<NodeId>) {
        if decided && self.relayed.remove(&(from, commit)).is_some() {
            return (false, None);
        }
        let claim = self
            .pending
            .get_mut(&request)
            .filter(|claim| !decided || claim.sequencer == from);
        match claim {
            None => (decided && from == current, decided.then_some(from)),
            Some(claim) if claim.applied => (false, None),
            Some(claim) if claim.sequencer != current => {
                let sequencer = claim.sequencer;
                self.resolve(request, Answer::SequencerLost, done);
                (false, decided.then_some(sequencer))
            }
            Some(claim) => {
                claim.applied = true;
                if !decided {
                    self.relayed.insert((claim.sequencer, commit), claim.name.clone());
                }
                (true, Some(claim.sequencer))
            }
        }
    }

    /// `from` answered claim `request` (a relay, or the sequencer's `Decided`); `others`, the
    /// nodes the change went to and this node can hear from, are the ones to wait for (only
    /// the copy that was applied sets them). The claim is granted once it is applied and every
    /// one of them was heard from. Returns whether the claim is settled here: granted, or not
    /// known (any more).
    pub(super) fn heard(
        &mut self,
        request: u64,
        from: NodeId,
        decided: bool,
        others: impl IntoIterator<Item = NodeId>,
        done: &mut Vec<Resolved>,
    ) -> bool {
        let Some(claim) = self
            .pending
            .get_mut(&request)
            .filter(|claim| !decided || claim.sequencer == from)
        else {
            return true;
        };
        if !claim.heard.contains(&from) {
            claim.heard.push(from);
        }
        if !claim.applied {
            return false;
        }
        let heard = &claim.heard;
        let waiting = claim.waiting.get_or_insert_with(|| others.into_iter().collect());
        waiting.retain(|node| !heard.contains(node));
        if !waiting.is_empty() {
            return false;
        }
        self.resolve(request, Answer::Decided(Ok(())), done);
        true
    }

    /// `node` went down: the claims it was sequencing fail (they are tried again with the
    /// next sequencer), and the others no longer wait for it.
    pub(super) fn without(&mut self, node: NodeId, done: &mut Vec<Resolved>) {
        self.relayed.retain(|(sequencer, _), _| *sequencer != node);
        let lost: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, claim)| claim.sequencer == node)
            .map(|(request, _)| *request)
            .collect();
        for request in lost {
            self.resolve(request, Answer::SequencerLost, done);
        }
        let granted: Vec<u64> = self
            .pending
            .iter_mut()
            .filter_map(|(request, claim)| {
                let waiting = claim.waiting.as_mut()?;
                waiting.retain(|waited| *waited != node);
                waiting.is_empty().then_some(*request)
            })
            .collect();
        for request in granted {
            self.resolve(request, Answer::Decided(Ok(())), done);
        }
    }
}

/// A copy of the change answering one of this node's claims: the sequencer's own
/// (`decided`), or a relay by a node the commit went to.
#[derive(Debug)]
pub(super) struct Copy {
    pub(super) request: u64,
    pub(super) commit: u64,
    pub(super) change: Committed,
    /// The nodes the commit went to besides this one.
    pub(super) others: Vec<NodeId>,
    pub(super) decided: bool,
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
        let (request, proxy_for) = match origin {
            Origin::Local(request) => (request, None),
            Origin::Remote { node, request } => (self.claims.next_request(), Some((node, request))),
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
        let deadline = now.saturating_add(self.config.claim_timeout);
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
                // Granted without a copy: the sequencer found it made already (by an earlier
                // try whose answer was lost), or this claim went through a proxy.
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
            Change::Claim(entry) => self.set(name, entry, out),

            Change::Unclaim(owner) => {
                self.replica.remove_if_owner(name, owner, out);
            }
        }
    }

    /// A copy of the change answering this node's claim, from `from`. The first copy is
    /// applied and acknowledged to the sequencer (after the claim's answer: the caller waits on
    /// that, the sequencer only before its next decision). The claim is granted once every
    /// node among the copy's others that this node can hear from has relayed it.
    pub(super) fn on_answer(&mut self, from: NodeId, copy: Copy, now: Duration, out: &mut Outputs) {
        let Copy {
            request,
            commit,
            change,
            others,
            decided,
        } = copy;
        let sequencer = self.sequencer();
        let mut done = Vec::new();
        let (apply, ack_to) =
            self.claims
                .take_change((request, commit), (from, decided), sequencer, &mut done);
        // A copy of a change older than one this node applied from a relay is counted, not
        // applied (the sequencer's own come in its order; relays from others may not).
        let origin = if decided { from } else { sequencer };
        let apply = apply
            && !self
                .claims
                .overtaken_by_relay(origin, change.name(), (!decided).then_some(commit));
        if apply {
            if !decided {
                // A relay does not come the sequencer's way: it may overtake the sequencer's
                // answers to this node's other claims of the name.
                self.claims.touched(change.name());
            }
            self.apply(change, out);
        }
        let (me, peers) = (self.me, &self.peers);
        let others = others
            .into_iter()
            .filter(|id| apply && *id != me && peers.is_connected(*id));

        let settled = self.claims.heard(request, from, decided, others, &mut done);
        self.settle(done, now, out);
        if let Some(sequencer) = ack_to {
            let ack = RegistryMsg::CommitAck {
                request: commit,
                settled,
            };
            out.send(sequencer, ack);
        }
    }
}
