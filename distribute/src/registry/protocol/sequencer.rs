//! The sequencer's side: deciding changes one at a time, in order.
//!
//! A change is decided against this node's replica (a claim unless another owner holds the
//! name, an unclaim only by the owner) and, if made, sent to every connected node as a
//! `Commit`, which each applies and acknowledges; once all have (or went down, or the deadline
//! passed), the change is done, and the next is decided: so changes reach every node in the
//! order they were decided. All of it goes between the sequencer and each node, never between
//! two other nodes: a node needs no connection but the one to its sequencer for its names to
//! reach the whole cluster. Work waits its turn in a queue, first come first decided; work
//! that arrives while nothing is in flight is decided at once, in the same step.
//!
//! A claimant's copy of its commit goes out last, once every other node acknowledged the
//! change (or went down, or was given up on): it is the claimant's answer, so a registration
//! from another node takes four one-way hops in a chain (the claim, the commit to the others,
//! their acknowledgements, the claimant's commit) and, with three nodes, four frames, with no
//! reply besides. The claimant does not acknowledge its copy: once sent, the change is done
//! here, and the connection keeps it ahead of the next change to the claimant. A
//! chain is also what the machines wake up for fastest: fanning the commit out to the claimant
//! at once, with the others' word following, had two nodes' readers wake at the same moment,
//! which on a loaded host cost more than the hop it saved (BENCHMARKS.md).
//!
//! Besides proposals, the queue holds *syncs*: a name this node learned of outside its own
//! order (from a snapshot, or a node going down) is committed again, as this node holds it
//! then, ahead of any proposal, so that no decision is taken on a state the other nodes have
//! not been sent.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use super::outputs::{Answer, Outputs};
use super::{Change, Registry};
use crate::actor::{ActorId, NodeId};
use crate::registry::wire::{Claimant, Committed, Decision, RegistryMsg};

/// Decisions queued and in flight.
#[derive(Debug, Default)]
pub(super) struct Sequencer {
    in_flight: Option<InFlight>,
    queue: VecDeque<Work>,
    /// The names with a sync in `queue`: a sync of another name is queued without a scan.
    syncing: BTreeSet<String>,
    next_commit: u64,
}

/// What waits for its turn.
#[derive(Debug)]
pub(super) enum Work {
    /// A change someone submitted.
    Proposal(Proposal),
    /// Commit `name` again as this node holds it then; if it holds it no more, as released by
    /// each of `seen`, the owners other nodes were seen to hold it for.
    Sync { name: String, seen: Vec<ActorId> },
}

/// A change to decide, and who asked for it.
#[derive(Debug)]
pub(super) struct Proposal {
    pub(super) name: String,
    pub(super) change: Change,
    pub(super) origin: Origin,
}

/// Who submitted a change: this node (with its request id) or a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    Local(u64),
    Remote { node: NodeId, request: u64 },
}

/// The change decided last, until every node it went to has applied it.
#[derive(Debug)]
struct InFlight {
    commit: u64,
    /// Who submitted it; none for a sync.
    origin: Option<Origin>,
    waiting: BTreeSet<NodeId>,
    deadline: Duration,
    /// When the nodes that did not acknowledge it yet are suspected (and no longer waited
    /// for): a silent node must not hold every later change back.
    suspect_at: Duration,
    /// The claimant's copy of the commit, until every other node acknowledged the change:
    /// the claimant's answer.
    held: Option<(NodeId, RegistryMsg)>,
    /// Where in the current step's frames the copy was held (0 in later steps): a frame to
    /// the claimant from there on comes after the commit in this node's order.
    held_from: usize,
    /// Whether the claimant got its copy as its answer, so no reply follows.
    answered: bool,
}

/// `commit` with its `answer` flag set to `answer`.
fn answering(mut commit: RegistryMsg, answer: bool) -> RegistryMsg {
    if let RegistryMsg::Commit { answer: flag, .. } = &mut commit {
        *flag = answer;
    }
    commit
}

impl InFlight {
    /// Sends the claimant its held copy, as its answer: ahead of any frame this step sent it
    /// after the copy was held, so that it keeps its place in this node's order. The
    /// claimant is not waited for from then on: it does not acknowledge its own commit (the
    /// connection delivers the copy before anything this node sends it later).
    fn send_held(&mut self, out: &mut Outputs) {
        let Some((claimant, copy)) = self.held.take() else {
            return;
        };
        let from = self.held_from.min(out.frames.len());
        match out.frames.iter().skip(from).position(|(to, _)| *to == claimant) {
            Some(at) => out.frames.insert(from + at, (claimant, copy)),
            None => out.send(claimant, copy),
        }
        self.waiting.remove(&claimant);
        self.answered = true;
    }

    /// Whether every node waited for has acknowledged the change but the claimant (which
    /// has not been sent it yet).
    fn others_acked(&self) -> bool {
        match &self.held {
            Some((claimant, _)) => self.waiting.iter().all(|node| node == claimant),
            None => self.waiting.is_empty(),
        }
    }

    /// Whether the change is applied everywhere it is waited for: every other node
    /// acknowledged it, and the claimant was sent its copy (or is not waited for).
    fn done(&self) -> bool {
        self.held.is_none() && self.waiting.is_empty()
    }
}

impl Sequencer {
    /// When the change in flight is given up on, if one is.
    pub(super) fn deadline(&self) -> Option<Duration> {
        self.in_flight
            .as_ref()
            .map(|in_flight| in_flight.deadline.min(in_flight.suspect_at))
    }

    /// The nodes that did not acknowledge the change in flight by its suspicion time.
    pub(super) fn laggards(&self, now: Duration) -> Vec<NodeId> {
        self.in_flight
            .as_ref()
            .filter(|in_flight| in_flight.suspect_at <= now)
            .map(|in_flight| in_flight.waiting.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Drops the queued proposal of this node's request `request`, if any.
    pub(super) fn withdraw(&mut self, request: u64) {
        self.queue.retain(
            |work| !matches!(work, Work::Proposal(proposal) if proposal.origin == Origin::Local(request)),
        );
    }

    /// Drops the queued proposals of `peer`, which went down: it was told its sequencer was
    /// lost (this node, for it) and retries elsewhere, so deciding them later would make a
    /// change its caller does not wait for any more, and may have been refused by then.
    pub(super) fn withdraw_from(&mut self, peer: NodeId) {
        self.queue.retain(|work| {
            !matches!(work, Work::Proposal(Proposal { origin: Origin::Remote { node, .. }, .. }) if *node == peer)
        });
    }

    /// Everything queued, which this node is no longer to decide.
    pub(super) fn take_queue(&mut self) -> VecDeque<Work> {
        self.syncing.clear();
        std::mem::take(&mut self.queue)
    }

    /// The next work to decide, if any.
    fn next_work(&mut self) -> Option<Work> {
        let work = self.queue.pop_front()?;
        if let Work::Sync { name, .. } = &work {
            self.syncing.remove(name);
        }
        Some(work)
    }

    /// Queues a sync ahead of every proposal: this node's replica changed outside its order,
    /// and the next decision must not be taken on a state its followers have not been sent. A
    /// sync of the same name queued already is merged into it (it commits whatever is held
    /// then, and a release is about every owner seen).
    fn queue_sync(&mut self, name: String, mut seen: Vec<ActorId>) {
        if !self.syncing.insert(name.clone()) {
            self.merge_queued_sync(&name, &mut seen);
        }
        self.queue.push_front(Work::Sync { name, seen });
    }

    /// Takes the sync of `name` out of the queue, adding the owners it had seen to `seen`.
    fn merge_queued_sync(&mut self, name: &str, seen: &mut Vec<ActorId>) {
        self.queue.retain_mut(|work| match work {
            Work::Sync {
                name: queued,
                seen: earlier,
            } if *queued == name => {
                for owner in earlier.drain(..) {
                    if !seen.contains(&owner) {
                        seen.push(owner);
                    }
                }
                false
            }
            _ => true,
        });
    }

    /// Queues a sync of `name` behind the work queued (merged into one of the name queued
    /// already, wherever it is): this node's replica did not change, another node's may be
    /// stale. Returns false, queuing nothing, if `bound` items are queued already.
    fn queue_sync_back(&mut self, name: String, seen: ActorId, bound: usize) -> bool {
        if self.syncing.contains(&name) {
            let queued = self.queue.iter_mut().find_map(|work| match work {
                Work::Sync {
                    name: queued,
                    seen: earlier,
                } if *queued == name => Some(earlier),
                _ => None,
            });
            if let Some(earlier) = queued {
                if !earlier.contains(&seen) {
                    earlier.push(seen);
                }
                return true;
            }
        }
        if self.queue.len() >= bound {
            return false;
        }
        self.syncing.insert(name.clone());
        self.queue.push_back(Work::Sync {
            name,
            seen: vec![seen],
        });
        true
    }
}

impl Registry {
    /// Commits `name` again, in order, before the next proposal: its owner here changed, or
    /// another node was seen to hold it for `seen`.
    pub(super) fn sync_later(&mut self, name: String, seen: ActorId, now: Duration, out: &mut Outputs) {
        self.propose(
            Work::Sync {
                name,
                seen: vec![seen],
            },
            now,
            out,
        );
    }

    /// Commits `name` again as this node holds it, after the work queued: a peer reported it
    /// otherwise (for `seen`), and may hold a stale copy. False if the queue is at `bound`
    /// (nothing queued: a peer's hearsay must not crowd out proposals).
    pub(super) fn sync_after_queued(
        &mut self,
        (name, seen): (String, ActorId),
        bound: usize,
        now: Duration,
        out: &mut Outputs,
    ) -> bool {
        let queued = self.sequencer.queue_sync_back(name, seen, bound);
        self.decide_queued(now, out);
        queued
    }

    /// Queues `work` and decides what can be decided now.
    pub(super) fn propose(&mut self, work: Work, now: Duration, out: &mut Outputs) {
        match work {
            Work::Sync { name, seen } => self.sequencer.queue_sync(name, seen),
            work => self.sequencer.queue.push_back(work),
        }
        self.decide_queued(now, out);
    }

    /// Decides queued work until a change is in flight or none is left.
    pub(super) fn decide_queued(&mut self, now: Duration, out: &mut Outputs) {
        while self.sequencer.in_flight.is_none() {
            match self.sequencer.next_work() {
                Some(Work::Proposal(proposal)) => self.decide(proposal, now, out),
                Some(Work::Sync { name, seen }) => self.sync(name, seen, now, out),
                None => return,
            }
        }
    }

    /// Decides one proposal: answers it at once if nothing changes, or makes the change here
    /// and sends it out.
    fn decide(&mut self, proposal: Proposal, now: Duration, out: &mut Outputs) {
        let Proposal { name, change, origin } = proposal;
        match self.make(&name, change, out) {
            Ok(change) => self.commit(change, Some(origin), now, out),
            Err(result) => self.answer(origin, result, out),
        }
    }

    /// Commits `name` as this node holds it now to every connected node; if it holds it no
    /// more, its release by each owner `seen`, one at a time. Syncs alone are commits without
    /// a claimant: the node of an owner released by one keeps the name if its actor holds it
    /// (it is the authority on its own live actors' names) and tells this node.
    fn sync(&mut self, name: String, mut seen: Vec<ActorId>, now: Duration, out: &mut Outputs) {
        if let Some(entry) = self.replica.get(&name) {
            let entry = entry.clone();
            return self.commit(Committed::Registered { name, entry }, None, now, out);
        }
        if seen.is_empty() {
            return;
        }
        let owner = seen.remove(0);
        if !seen.is_empty() {
            self.sequencer.queue_sync(name.clone(), seen);
        }
        self.commit(Committed::Released { name, owner }, None, now, out);
    }

    /// Sends a change made here to every connected node, and waits for them to apply it.
    fn commit(&mut self, change: Committed, origin: Option<Origin>, now: Duration, out: &mut Outputs) {
        self.sequencer.next_commit += 1;
        let commit = self.sequencer.next_commit;
        let claimant = match origin {
            Some(Origin::Remote { node, request }) => Some(Claimant { node, request }),
            // A release this node's caller asked for of another node's actor names this node
            // as the claimant, so that it does not pass for a sync.
            Some(Origin::Local(request)) => match &change {
                Committed::Released { owner, .. } if owner.node() != self.me => Some(Claimant {
                    node: self.me,
                    request,
                }),
                _ => None,
            },
            None => None,
        };
        // A suspected node is not waited for: it did not answer in time already.
        let waiting = self.peers.answering();
        let to_claimant = claimant
            .as_ref()
            .map(|claimant| claimant.node)
            .filter(|node| self.peers.connected().contains(node));
        let message = RegistryMsg::Commit {
            request: commit,
            change,
            claimant,
            answer: false,
        };
        for peer in self.peers.connected() {
            if Some(*peer) != to_claimant {
                out.send(*peer, message.clone());
            }
        }
        let message = answering(message, true);
        let mut in_flight = InFlight {
            commit,
            origin,
            waiting,
            deadline: now.saturating_add(self.config.ack_timeout),
            suspect_at: now.saturating_add(self.config.claim_timeout),
            held: to_claimant.map(|node| (node, message)),
            held_from: out.frames.len(),
            answered: false,
        };
        if in_flight.others_acked() {
            // No other node to wait for: the claimant's copy goes at once, and ends it.
            in_flight.send_held(out);
        }
        if in_flight.done() {
            self.finish(in_flight, out);
        } else {
            self.sequencer.in_flight = Some(in_flight);
        }
    }

    /// Makes `change` to `name` in this node's replica, or says why not: a claim of a name
    /// another owner holds (or the same owner: granted already, nothing to do), a claim for an
    /// actor of a node seen down (refused with no owner), an unclaim of a name that is free or
    /// held by another.
    fn make(&mut self, name: &str, change: Change, out: &mut Outputs) -> Result<Committed, Decision> {
        let existing = self.replica.get(name).map(|entry| entry.owner);
        match change {
            // Its node is not a member (it went down, or never joined): no name is stored for
            // it anywhere this node's changes go.
            Change::Claim(entry) if !self.peers.is_member(entry.owner.node(), self.me) => Err(Err(None)),
            Change::Claim(entry) => match existing {
                Some(owner) if owner == entry.owner => Err(Ok(())),
                Some(owner) => Err(Err(Some(owner))),
                // Its node holds as many names as it may.
                None if !self.replica.insert(name, entry.clone(), out) => Err(Err(None)),
                None => Ok(Committed::Registered {
                    name: name.to_owned(),
                    entry,
                }),
            },
            Change::Unclaim(owner) => match existing {
                None => Err(Err(None)),
                Some(holder) if holder != owner => Err(Err(Some(holder))),
                Some(_) => {
                    self.replica.remove_if_owner(name, owner, out);
                    Ok(Committed::Released {
                        name: name.to_owned(),
                        owner,
                    })
                }
            },
        }
    }

    /// Answers a proposal that changed nothing.
    fn answer(&mut self, origin: Origin, result: Decision, out: &mut Outputs) {
        match origin {
            Origin::Local(request) => out.answer(request, Answer::Decided(result)),
            Origin::Remote { node, request } => out.send(node, RegistryMsg::ClaimReply { request, result }),
        }
    }

    /// The change in flight is applied everywhere (or given up on): its claimant gets its
    /// answer, its copy of the commit if it was not sent it yet, else a reply.
    fn finish(&mut self, mut in_flight: InFlight, out: &mut Outputs) {
        in_flight.send_held(out);
        match in_flight.origin {
            // Answered by its copy, or gone.
            Some(Origin::Remote { node, .. }) if in_flight.answered || !self.peers.is_connected(node) => {}
            Some(origin) => self.answer(origin, Ok(()), out),
            None => {}
        }
    }

    /// Ends the change in flight if `done` says so, or once no node is waited for; sends the
    /// claimant its copy once every other node acknowledged it; then decides the next
    /// changes.
    fn finish_if(&mut self, now: Duration, out: &mut Outputs, done: impl FnOnce(&mut InFlight) -> bool) {
        let Some(in_flight) = self.sequencer.in_flight.as_mut() else {
            return;
        };
        if !done(in_flight) {
            if in_flight.others_acked() {
                in_flight.send_held(out);
            }
            if !in_flight.done() {
                return;
            }
        }
        if let Some(in_flight) = self.sequencer.in_flight.take() {
            self.finish(in_flight, out);
        }
        self.decide_queued(now, out);
    }

    /// Keeps this node's order towards the claimant of the change in flight: if this step
    /// sent it a frame while its copy of the commit is held, the copy goes just before that
    /// frame, not as its answer (a reply answers it once the change is done). Called at the
    /// end of every step.
    pub(super) fn keep_claimants_order(&mut self, out: &mut Outputs) {
        let Some(in_flight) = self.sequencer.in_flight.as_mut() else {
            return;
        };
        let from = std::mem::take(&mut in_flight.held_from);
        let Some((claimant, _)) = &in_flight.held else {
            return;
        };
        let claimant = *claimant;
        let Some(at) = out.frames.iter().skip(from).position(|(to, _)| *to == claimant) else {
            return;
        };
        if let Some((_, copy)) = in_flight.held.take() {
            out.frames.insert(from + at, (claimant, answering(copy, false)));
            // Sent: the claimant does not acknowledge it. Some other node still is waited
            // for (else the copy would have gone as the answer), and its acknowledgement
            // ends the change.
            in_flight.waiting.remove(&claimant);
        }
    }

    /// `from` acknowledged commit `commit`.
    pub(super) fn acked(&mut self, commit: u64, from: NodeId, now: Duration, out: &mut Outputs) {
        self.finish_if(now, out, |in_flight| {
            if in_flight.commit == commit {
                in_flight.waiting.remove(&from);
            }
            false
        });
    }

    /// `node` went down or is suspected: the change in flight no longer waits for it.
    pub(super) fn commits_without(&mut self, node: NodeId, now: Duration, out: &mut Outputs) {
        // A claimant suspected but still connected gets its copy all the same: it holds the
        // name's owner, and its caller may still wait.
        let gone = !self.peers.is_connected(node);
        self.finish_if(now, out, |in_flight| {
            in_flight.waiting.remove(&node);
            if gone
                && in_flight
                    .held
                    .as_ref()
                    .is_some_and(|(claimant, _)| *claimant == node)
            {
                in_flight.held = None;
            }
            false
        });
    }

    /// Gives up on the change in flight if its deadline passed (its claimant is told).
    pub(super) fn expire(&mut self, now: Duration, out: &mut Outputs) {
        self.finish_if(now, out, |in_flight| in_flight.deadline <= now);
    }
}
