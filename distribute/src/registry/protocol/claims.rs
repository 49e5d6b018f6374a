//! The claimant's side: the changes this node submitted to a sequencer, until each is
//! answered.
//!
//! A claim is answered once, by the first of: the sequencer's refusal; its change applied here
//! and relayed by every other node it went to (or those gone down); the sequencer's final
//! `ClaimReply`; the sequencer going down ([`Answer::SequencerLost`]). Of the copies of the
//! change (the sequencer's `Decided`, the relays), exactly one is applied: the first, or the
//! sequencer's when the claim is no longer known here (it timed out).

use std::collections::{BTreeMap, BTreeSet};

use super::outputs::{Answer, Outputs};
use crate::actor::NodeId;
use crate::registry::wire::Decision;

/// Claims in flight.
#[derive(Debug, Default)]
pub(super) struct Claims {
    pending: BTreeMap<u64, PendingClaim>,
    /// (sequencer, commit) of the changes applied from a relay: the sequencer's `Decided`
    /// for them is then not applied again (a later change may have followed meanwhile).
    relayed: BTreeSet<(NodeId, u64)>,
    next_request: u64,
}

/// A claim this node submitted, until it is answered.
#[derive(Debug)]
struct PendingClaim {
    sequencer: NodeId,
    /// Whether its change is applied here (from the first copy that arrived).
    applied: bool,
    /// The nodes heard from (their relay, or the sequencer's answer).
    heard: Vec<NodeId>,
    /// Once applied here: the nodes whose relay is still awaited.
    waiting: Option<Vec<NodeId>>,
}

impl Claims {
    /// A fresh request id.
    pub(super) fn next_request(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Claim `request` was sent to `sequencer`.
    pub(super) fn expect(&mut self, request: u64, sequencer: NodeId) {
        self.pending.insert(
            request,
            PendingClaim {
                sequencer,
                applied: false,
                heard: Vec::new(),
                waiting: None,
            },
        );
    }

    /// Claim `request` is no longer waited for (its caller gave up).
    pub(super) fn forget(&mut self, request: u64) {
        self.pending.remove(&request);
    }

    /// The sequencer `from` gave its final answer to claim `request`.
    pub(super) fn on_reply(&mut self, request: u64, from: NodeId, result: Decision, out: &mut Outputs) {
        if self
            .pending
            .get(&request)
            .is_some_and(|claim| claim.sequencer == from)
        {
            self.pending.remove(&request);
            out.answer(request, Answer::Decided(result));
        }
    }

    /// Commit `commit`, answering claim `request`, arrived from `from`: the sequencer's
    /// `Decided` (`decided`) or a node's relay. Returns the sequencer to acknowledge it to if
    /// it is to be applied here: the first copy is, and a `Decided` for no known claim (it
    /// may have timed out) unless a relay was applied already; a relay for no known claim is
    /// not (the sequencer's copy will be).
    pub(super) fn take_change(
        &mut self,
        request: u64,
        commit: u64,
        from: NodeId,
        decided: bool,
    ) -> Option<NodeId> {
        if decided && self.relayed.remove(&(from, commit)) {
            return None;
        }
        let claim = self
            .pending
            .get_mut(&request)
            .filter(|claim| !decided || claim.sequencer == from);
        match claim {
            None => decided.then_some(from),
            Some(claim) if !claim.applied => {
                claim.applied = true;
                if !decided {
                    self.relayed.insert((claim.sequencer, commit));
                }
                Some(claim.sequencer)
            }
            Some(_) => None,
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
        out: &mut Outputs,
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
        self.pending.remove(&request);
        out.answer(request, Answer::Decided(Ok(())));
        true
    }

    /// `node` went down: the claims it was sequencing fail (their callers retry with the next
    /// sequencer), and the others no longer wait for it.
    pub(super) fn without(&mut self, node: NodeId, out: &mut Outputs) {
        let lost: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, claim)| claim.sequencer == node)
            .map(|(request, _)| *request)
            .collect();
        for request in lost {
            self.pending.remove(&request);
            out.answer(request, Answer::SequencerLost);
        }
        self.relayed.retain(|(sequencer, _)| *sequencer != node);
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
            self.pending.remove(&request);
            out.answer(request, Answer::Decided(Ok(())));
        }
    }
}
