//! The state machine, one input at a time: the sequencer's ordering, the claimant's answers,
//! commits, snapshots and groups.

use super::outputs::Conflict;
use super::DEFAULT_CLAIM_TIMEOUT;
use super::*;
use crate::registry::fixtures::{entry, id, node};
use crate::registry::wire::Decision;

const TIMEOUT: Duration = Duration::from_secs(5);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Node `me`, connected to `peers` (their snapshots are not looked at).
fn registry(me: u64, peers: &[u64]) -> Registry {
    let mut registry = Registry::new(node(me), TIMEOUT);
    for peer in peers {
        let _ = registry.peer_up(node(*peer), secs(0));
    }
    registry
}

fn claim(owner: ActorId) -> Change {
    Change::Claim(entry(owner))
}

fn registered(name: &str, owner: ActorId) -> Committed {
    Committed::Registered {
        name: name.into(),
        entry: entry(owner),
    }
}

fn claim_msg(request: u64, name: &str, owner: ActorId) -> RegistryMsg {
    RegistryMsg::Claim {
        request,
        name: name.into(),
        entry: entry(owner),
    }
}

/// Commit `request` of `change` from the sequencer; `claimant` is (node, request).
fn commit(request: u64, change: Committed, claimant: Option<(u64, u64)>) -> RegistryMsg {
    RegistryMsg::Commit {
        request,
        change,
        claimant: claimant.map(|(n, request)| Claimant {
            node: node(n),
            request,
        }),
        answer: claimant.is_some(),
    }
}

fn ack(commit: u64) -> RegistryMsg {
    RegistryMsg::CommitAck { request: commit }
}

/// Commit `request` of `name` to `owner`, for the claimant (node, request).
fn commit_msg(request: u64, name: &str, owner: ActorId, claimant: (u64, u64)) -> RegistryMsg {
    commit(request, registered(name, owner), Some(claimant))
}

fn reply(request: u64, result: Decision) -> RegistryMsg {
    RegistryMsg::ClaimReply { request, result }
}

/// The frames of `out`, by recipient and kind.
fn kinds(out: &Outputs) -> Vec<(u64, &'static str)> {
    out.frames
        .iter()
        .map(|(to, msg)| {
            let kind = match msg {
                RegistryMsg::Claim { .. } => "Claim",
                RegistryMsg::Unclaim { .. } => "Unclaim",
                RegistryMsg::ClaimReply { .. } => "ClaimReply",
                RegistryMsg::Commit { .. } => "Commit",
                RegistryMsg::CommitAck { .. } => "CommitAck",
                RegistryMsg::Snapshot { .. } => "Snapshot",
                RegistryMsg::SnapshotPart { .. } => "SnapshotPart",
                RegistryMsg::Join { .. } => "Join",
                RegistryMsg::Leave { .. } => "Leave",
                RegistryMsg::Groups { .. } => "Groups",
                RegistryMsg::Lost { .. } => "Lost",
                RegistryMsg::NotSequencer { .. } => "NotSequencer",
            };
            (to.as_u64(), kind)
        })
        .collect()
}

/// The commit id the sequencer gave the change it sent in `out`.
fn commit_of(out: &Outputs) -> u64 {
    out.frames
        .iter()
        .find_map(|(_, msg)| match msg {
            RegistryMsg::Commit { request, .. } => Some(*request),
            _ => None,
        })
        .expect("a commit in the outputs")
}

fn owner(registry: &Registry, name: &str) -> Option<ActorId> {
    registry.replica().get(name).map(|entry| entry.owner)
}

#[test]
fn the_sequencer_decides_at_once_when_idle_and_the_next_change_once_the_last_is_everywhere() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), claim_msg(7, "a", id(3, 1)), secs(0));
    // To every node but the claimant, whose copy waits for their word.
    assert_eq!(kinds(&out), vec![(2, "Commit")]);
    assert_eq!(owner(&seq, "a"), Some(id(3, 1)));
    let commit = commit_of(&out);
    // A claim meanwhile waits for its turn.
    let out = seq.receive(node(2), claim_msg(8, "b", id(2, 1)), secs(0));
    assert!(out.frames.is_empty());
    assert_eq!(owner(&seq, "b"), None);
    // Applied everywhere else: the claimant gets its commit, its answer, which ends the
    // change (a claimant does not acknowledge its own commit). No reply, and the next change
    // goes out in the same step, behind it (to all but its claimant, 2).
    let out = seq.receive(node(2), ack(commit), secs(0));
    assert_eq!(
        out.frames.first(),
        Some(&(node(3), commit_msg(commit, "a", id(3, 1), (3, 7))))
    );
    assert_eq!(kinds(&out), vec![(3, "Commit"), (3, "Commit")]);
    assert_eq!(owner(&seq, "b"), Some(id(2, 1)));
    assert_eq!(commit_of(&out), commit, "the copy comes first");
    // An acknowledgement from the claimant (of a change done) counts for nothing.
    assert!(seq.receive(node(3), ack(commit), secs(0)).frames.is_empty());
}

#[test]
fn commits_finish_when_every_node_acked_or_went_down() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), claim_msg(7, "a", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    let _ = seq.receive(node(2), claim_msg(8, "b", id(2, 1)), secs(0));
    // Its copy ends the change: the next one, claimed by 2, the only node left to send it
    // to but its claimant, which gets its copy at once.
    assert_eq!(
        kinds(&seq.receive(node(2), ack(commit), secs(0))),
        vec![(3, "Commit"), (3, "Commit")]
    );
    // Node 3 goes down before acknowledging it: 2 gets its copy, its answer; the sequencer
    // commits the removal of the names of the node that went down, and its memberships are
    // gone everywhere.
    let out = seq.peer_down(node(3), secs(0));
    let released = RegistryMsg::Commit {
        request: commit + 2,
        change: Committed::Released {
            name: "a".into(),
            owner: id(3, 1),
        },
        claimant: None,
        answer: false,
    };
    assert_eq!(out.frames.len(), 3);
    assert_eq!(
        out.frames[..2],
        [
            (node(2), commit_msg(commit + 1, "b", id(2, 1), (2, 8))),
            (node(2), released)
        ]
    );
    assert_eq!(kinds(&out)[2], (2, "Groups"));
    // A claimant that goes down before its copy was sent gets none, and no reply.
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), claim_msg(7, "a", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    let out = seq.peer_down(node(3), secs(0));
    assert!(out.frames.iter().all(|(to, _)| *to != node(3)));
    assert!(kinds(&seq.receive(node(2), ack(commit), secs(0)))
        .iter()
        .all(|(to, _)| *to != 3));

    // A change no node is to apply is done at once.
    let mut alone = registry(1, &[]);
    let (submitted, out) = alone.submit("c", claim(id(1, 1)), secs(0));
    assert!(out.frames.is_empty());
    assert_eq!(out.answers, vec![(submitted.request, Answer::Decided(Ok(())))]);
    assert_eq!(alone.next_deadline(), None);
}

#[test]
fn overdue_commits_are_given_up_and_the_next_decided() {
    // Nodes slow to acknowledge are not suspected before the acknowledgements' deadline here.
    let mut config = Config::new(TIMEOUT);
    config.claim_timeout = TIMEOUT * 10;
    let mut seq = Registry::with_config(node(1), config);
    for peer in [2, 3] {
        let _ = seq.peer_up(node(peer), secs(0));
    }
    let out = seq.receive(node(3), claim_msg(7, "a", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    let _ = seq.receive(node(3), claim_msg(8, "b", id(3, 2)), secs(2));
    assert_eq!(seq.next_deadline(), Some(TIMEOUT));
    assert!(seq.tick(secs(4)).frames.is_empty());
    let out = seq.tick(TIMEOUT);
    // Given up on: the claimant gets its copy, its answer, and the next change is decided.
    assert_eq!(kinds(&out), vec![(3, "Commit"), (2, "Commit")]);
    assert_eq!(
        out.frames[0],
        (node(3), commit_msg(commit, "a", id(3, 1), (3, 7)))
    );
    assert_eq!(seq.next_deadline(), Some(TIMEOUT + TIMEOUT));
    // A late acknowledgement of the first changes nothing.
    assert!(seq.receive(node(2), ack(commit), secs(6)).frames.is_empty());
    assert_eq!(seq.next_deadline(), Some(TIMEOUT + TIMEOUT));
}

#[test]
fn a_local_change_of_the_sequencer_is_answered_once_every_node_applied_it() {
    let mut seq = registry(1, &[2, 3]);
    let (first, out) = seq.submit("svc", claim(id(1, 1)), secs(0));
    assert_eq!(first.sequencer, node(1));
    assert_eq!(kinds(&out), vec![(2, "Commit"), (3, "Commit")]);
    assert!(out.answers.is_empty());
    let commit = commit_of(&out);
    // Another owner's claim waits its turn, and is refused then.
    let (second, out) = seq.submit("svc", claim(id(1, 2)), secs(0));
    assert!(out.frames.is_empty() && out.answers.is_empty());
    let out = seq.receive(node(2), ack(commit), secs(0));
    assert!(out.answers.is_empty());
    let out = seq.receive(node(3), ack(commit), secs(0));
    assert_eq!(
        out.answers,
        vec![
            (first.request, Answer::Decided(Ok(()))),
            (second.request, Answer::Decided(Err(Some(id(1, 1))))),
        ]
    );
}

#[test]
fn a_forgotten_local_change_still_queued_is_not_decided() {
    let mut seq = registry(1, &[2]);
    let (_, out) = seq.submit("a", claim(id(1, 1)), secs(0));
    let commit = commit_of(&out);
    let (queued, _) = seq.submit("b", claim(id(1, 2)), secs(0));
    seq.forget(queued.request);
    let out = seq.receive(node(2), ack(commit), secs(0));
    assert!(out.frames.is_empty());
    assert_eq!(out.answers.len(), 1);
    assert_eq!(owner(&seq, "b"), None);
}

#[test]
fn a_commit_from_the_sequencer_is_applied_and_acknowledged_to_it_alone() {
    let mut other = registry(2, &[1, 3]);
    let out = other.receive(
        node(1),
        commit(9, registered("svc", id(3, 1)), Some((3, 4))),
        secs(0),
    );
    assert_eq!(out.frames, vec![(node(1), ack(9))]);
    assert_eq!(owner(&other, "svc"), Some(id(3, 1)));
    // A claim of this node's that it does not know of (it gave up on it), and a sync: applied
    // all the same. The first is this node's copy as the claimant, which is not acknowledged.
    let out = other.receive(
        node(1),
        commit(10, registered("own", id(2, 1)), Some((2, 77))),
        secs(0),
    );
    assert!(out.frames.is_empty());
    assert!(out.answers.is_empty());
    let out = other.receive(node(1), commit(11, registered("sync", id(3, 2)), None), secs(0));
    assert_eq!(out.frames, vec![(node(1), ack(11))]);
    assert_eq!(
        (owner(&other, "own"), owner(&other, "sync")),
        (Some(id(2, 1)), Some(id(3, 2)))
    );
}

#[test]
fn the_claimant_applies_its_claims_commit_which_answers_it() {
    let mut claimant = registry(4, &[1, 2, 3]);
    let (submitted, out) = claimant.submit("svc", claim(id(4, 1)), secs(0));
    assert_eq!(kinds(&out), vec![(1, "Claim")]);
    let request = submitted.request;
    // The sequencer waits for the others before it sends the claimant its commit.
    assert_eq!(
        claimant.next_deadline(),
        Some(secs(0) + DEFAULT_CLAIM_TIMEOUT * claims::FIRST_WORD_DEADLINES)
    );
    // The commit of its own claim is applied like any, and answers it; it is not
    // acknowledged (the sequencer is done with it once it sent it).
    let out = claimant.receive(
        node(1),
        commit(9, registered("svc", id(4, 1)), Some((4, request))),
        secs(0),
    );
    assert!(out.frames.is_empty());
    assert_eq!(out.answers, vec![(request, Answer::Decided(Ok(())))]);
    assert_eq!(owner(&claimant, "svc"), Some(id(4, 1)));
    assert_eq!(claimant.next_deadline(), None);
    // A reply after it, or a second copy of the commit, answers nothing.
    let out = claimant.receive(node(1), reply(request, Ok(())), secs(0));
    assert!(out.answers.is_empty() && out.frames.is_empty() && out.changes.is_empty());
    let out = claimant.receive(
        node(1),
        commit(9, registered("svc", id(4, 1)), Some((4, request))),
        secs(0),
    );
    assert!(out.answers.is_empty());
}

#[test]
fn a_grant_of_a_change_not_applied_here_applies_it() {
    let mut claimant = registry(4, &[1]);
    // The sequencer finds each made already (an earlier try's answer was lost), and grants it
    // with no commit.
    let (submitted, _) = claimant.submit("svc", claim(id(4, 1)), secs(0));
    let out = claimant.receive(node(1), reply(submitted.request, Ok(())), secs(0));
    assert_eq!(out.answers, vec![(submitted.request, Answer::Decided(Ok(())))]);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(owner(&claimant, "svc"), Some(id(4, 1)));
    let (submitted, _) = claimant.submit("svc", Change::Unclaim(id(4, 1)), secs(0));
    let out = claimant.receive(node(1), reply(submitted.request, Ok(())), secs(0));
    assert_eq!(out.answers, vec![(submitted.request, Answer::Decided(Ok(())))]);
    assert_eq!(owner(&claimant, "svc"), None);
}

#[test]
fn a_claims_commit_and_grant_from_a_node_no_longer_the_sequencer_are_not_applied() {
    let mut claimant = registry(4, &[2, 3]);
    let (submitted, _) = claimant.submit("svc", claim(id(4, 1)), secs(0));
    let (release, _) = claimant.submit("old", Change::Unclaim(id(4, 9)), secs(0));
    let (third, _) = claimant.submit("other", claim(id(4, 2)), secs(0));
    assert_eq!(submitted.sequencer, node(2));
    // A lower node comes up: the claims stay with node 2, but node 2's order is not this
    // node's any more.
    let _ = claimant.peer_up(node(1), secs(0));
    assert_eq!(claimant.sequencer(), node(1));
    // Its commit does not say how the name stands in the current order: tried again.
    let request = submitted.request;
    let out = claimant.receive(
        node(2),
        commit(9, registered("svc", id(4, 1)), Some((4, request))),
        secs(0),
    );
    assert!(out.frames.is_empty());
    assert_eq!(out.answers, vec![(request, Answer::SequencerLost)]);
    assert_eq!(owner(&claimant, "svc"), None);
    // A release is passed on (tried again, it would find the name gone), not applied here.
    let released = Committed::Released {
        name: "old".into(),
        owner: id(4, 9),
    };
    let out = claimant.receive(node(2), commit(10, released, Some((4, release.request))), secs(0));
    assert_eq!(out.answers, vec![(release.request, Answer::Decided(Ok(())))]);
    assert!(out.changes.is_empty());
    // Its grant likewise.
    let out = claimant.receive(node(2), reply(third.request, Ok(())), secs(0));
    assert_eq!(out.answers, vec![(third.request, Answer::SequencerLost)]);
    assert_eq!(owner(&claimant, "other"), None);
}

#[test]
fn only_the_sequencer_answers_or_grants_a_claim() {
    let mut claimant = registry(4, &[1, 2]);
    let (submitted, _) = claimant.submit("svc", claim(id(4, 1)), secs(0));
    // Another node's commit of the claim does nothing (nor is it acknowledged: its sender
    // does not wait for the claimant's word): it is not this node's sequencer, whose order
    // alone is followed here.
    let claimed = Some((4, submitted.request));
    let out = claimant.receive(node(2), commit(9, registered("svc", id(4, 1)), claimed), secs(0));
    assert!(out.frames.is_empty());
    assert!(out.answers.is_empty() && out.changes.is_empty());

    let out = claimant.receive(node(2), reply(submitted.request, Err(None)), secs(0));
    assert!(out.answers.is_empty());
    let out = claimant.receive(node(1), reply(submitted.request, Err(None)), secs(0));
    assert_eq!(out.answers, vec![(submitted.request, Answer::Decided(Err(None)))]);
}

#[test]
fn a_claim_waits_for_its_sequencer_alone_and_fails_when_that_sequencer_goes_down() {
    let mut claimant = registry(4, &[2, 3]);
    let (elsewhere, _) = claimant.submit("c", claim(id(4, 3)), secs(0));
    assert_eq!(elsewhere.sequencer, node(2));
    let _ = claimant.peer_up(node(1), secs(0));
    let (answered, _) = claimant.submit("a", claim(id(4, 1)), secs(0));
    let (undecided, _) = claimant.submit("b", claim(id(4, 2)), secs(0));
    assert_eq!(answered.sequencer, node(1));
    let claimed = Some((4, answered.request));
    let out = claimant.receive(node(1), commit(9, registered("a", id(4, 1)), claimed), secs(0));
    assert_eq!(out.answers, vec![(answered.request, Answer::Decided(Ok(())))]);
    // Another node going down is the sequencer's concern, which waits for the acknowledgements.
    assert!(claimant.peer_down(node(3), secs(0)).answers.is_empty());
    // The sequencer going down fails the claims sent to it still waiting, and no other.
    let out = claimant.peer_down(node(1), secs(0));
    assert_eq!(out.answers, vec![(undecided.request, Answer::SequencerLost)]);
    let out = claimant.peer_down(node(2), secs(0));
    assert_eq!(out.answers, vec![(elsewhere.request, Answer::SequencerLost)]);
}

/// Delivers every frame of `out`, sent by `from`, to the registries of `nodes` it is for;
/// returns their outputs, by recipient.
fn deliver(nodes: &mut [Registry], from: NodeId, out: Outputs) -> Vec<(NodeId, Outputs)> {
    let mut delivered = Vec::new();
    for (to, msg) in out.frames {
        if let Some(registry) = nodes.iter_mut().find(|registry| registry.me == to) {
            delivered.push((to, registry.receive(from, msg, secs(0))));
        }
    }
    delivered
}

/// One hop: delivers the frames of every output, each from the node that produced it.
fn hop(nodes: &mut [Registry], outputs: Vec<(NodeId, Outputs)>) -> Vec<(NodeId, Outputs)> {
    let mut delivered = Vec::new();
    for (from, out) in outputs {
        delivered.extend(deliver(nodes, from, out));
    }
    delivered
}

/// The frames of every output, by sender, recipient and kind.
fn sent(outputs: &[(NodeId, Outputs)]) -> Vec<(u64, u64, &'static str)> {
    outputs
        .iter()
        .flat_map(|(from, out)| kinds(out).into_iter().map(|(to, kind)| (from.as_u64(), to, kind)))
        .collect()
}

#[test]
fn a_registration_from_another_node_is_a_chain_of_four_hops() {
    let mut nodes = [registry(1, &[2, 3]), registry(2, &[1, 3]), registry(3, &[1, 2])];
    let (submitted, out) = nodes[2].submit("svc", claim(id(3, 1)), secs(0));
    assert_eq!(kinds(&out), vec![(1, "Claim")]);
    // Hop 1: the claim; the sequencer commits it to every node but the claimant.
    let hop1 = deliver(&mut nodes, node(3), out);
    assert_eq!(sent(&hop1), vec![(1, 2, "Commit")]);
    // Hop 2: the other node applies it and acknowledges it.
    let hop2 = hop(&mut nodes, hop1);
    assert_eq!(sent(&hop2), vec![(2, 1, "CommitAck")]);
    assert_eq!(owner(&nodes[1], "svc"), Some(id(3, 1)));
    assert_eq!(owner(&nodes[2], "svc"), None);
    // Hop 3: every other node holds it: the claimant gets its copy.
    let hop3 = hop(&mut nodes, hop2);
    assert_eq!(sent(&hop3), vec![(1, 3, "Commit")]);
    assert!(hop3.iter().all(|(_, out)| out.answers.is_empty()));
    // The copy ended the change at the sequencer: nothing waits there.
    assert_eq!(nodes[0].next_deadline(), None);
    // Hop 4: the claimant applies it and is answered. It does not acknowledge its own
    // commit, and no reply follows: nothing more goes.
    let hop4 = hop(&mut nodes, hop3);
    let answers: Vec<_> = hop4.iter().flat_map(|(_, out)| out.answers.clone()).collect();
    assert_eq!(answers, vec![(submitted.request, Answer::Decided(Ok(())))]);
    assert!(sent(&hop4).is_empty());
    for registry in &nodes {
        assert_eq!(owner(registry, "svc"), Some(id(3, 1)), "on {}", registry.me);
        assert_eq!(registry.next_deadline(), None, "on {}", registry.me);
    }
}

#[test]
fn the_claimant_gets_its_commit_once_every_other_node_acknowledged_it() {
    let mut seq = registry(1, &[2, 3, 4]);
    let out = seq.receive(node(3), claim_msg(5, "svc", id(3, 1)), secs(0));
    assert_eq!(kinds(&out), vec![(2, "Commit"), (4, "Commit")]);
    let commit = commit_of(&out);
    // The claimant's own acknowledgement (of a copy it has not got) and another commit's
    // count for nothing.
    assert!(seq.receive(node(3), ack(commit), secs(0)).frames.is_empty());
    assert!(seq.receive(node(2), ack(commit + 1), secs(0)).frames.is_empty());
    assert!(seq.receive(node(2), ack(commit), secs(0)).frames.is_empty());
    let out = seq.receive(node(4), ack(commit), secs(0));
    assert_eq!(
        out.frames,
        vec![(node(3), commit_msg(commit, "svc", id(3, 1), (3, 5)))]
    );
}

#[test]
fn a_claimants_copy_goes_out_when_the_others_acked_or_were_suspected() {
    let mut seq = registry(1, &[2, 3, 4]);
    let out = seq.receive(node(3), claim_msg(5, "svc", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    assert!(seq.receive(node(2), ack(commit), secs(0)).frames.is_empty());
    // Node 4 stays silent past the claim timeout: suspected, no longer waited for.
    let at = secs(0) + DEFAULT_CLAIM_TIMEOUT;
    let out = seq.tick(at);
    assert_eq!(
        out.frames,
        vec![(node(3), commit_msg(commit, "svc", id(3, 1), (3, 5)))]
    );
    // The copy ends the change: nothing waits for the claimant's word, and nothing more goes.
    assert_eq!(seq.next_deadline().filter(|at| *at < secs(5)), None);
    assert!(seq.tick(at + DEFAULT_CLAIM_TIMEOUT / 2).frames.is_empty());
}

#[test]
fn a_held_copy_keeps_its_place_ahead_of_later_frames_to_the_claimant() {
    let mut seq = registry(1, &[2, 3, 4]);
    let out = seq.receive(node(3), claim_msg(5, "svc", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    // Node 2's membership goes to every node: the claimant's copy goes first, not as its
    // answer.
    let join = RegistryMsg::Join {
        group: "g".into(),
        member: entry(id(2, 1)),
    };
    let out = seq.receive(node(2), join.clone(), secs(0));
    let early = RegistryMsg::Commit {
        request: commit,
        change: registered("svc", id(3, 1)),
        claimant: Some(Claimant {
            node: node(3),
            request: 5,
        }),
        answer: false,
    };
    assert_eq!(
        out.frames,
        vec![
            (node(3), early.clone()),
            (node(3), join),
            (
                node(4),
                RegistryMsg::Join {
                    group: "g".into(),
                    member: entry(id(2, 1)),
                }
            )
        ]
    );
    // A copy that is not the answer leaves the claim waiting, for the reply.
    let mut claimant = registry(3, &[1, 2, 4]);
    let (submitted, _) = claimant.submit("svc", claim(id(3, 1)), secs(0));
    let mut early = early;
    if let RegistryMsg::Commit { claimant, .. } = &mut early {
        *claimant = Some(Claimant {
            node: node(3),
            request: submitted.request,
        });
    }
    let out = claimant.receive(node(1), early, secs(0));
    assert!(out.answers.is_empty());
    assert_eq!(owner(&claimant, "svc"), Some(id(3, 1)));
    // Once every other node acknowledged it (the claimant does not), the sequencer replies.
    assert!(seq.receive(node(2), ack(commit), secs(0)).frames.is_empty());
    let out = seq.receive(node(4), ack(commit), secs(0));
    assert_eq!(out.frames, vec![(node(3), reply(5, Ok(())))]);
    let out = claimant.receive(node(1), reply(submitted.request, Ok(())), secs(0));
    assert_eq!(out.answers, vec![(submitted.request, Answer::Decided(Ok(())))]);
    assert!(out.changes.is_empty(), "applied already, from the commit");
}

#[test]
fn with_the_sequencer_alone_to_wait_for_a_claimants_copy_goes_at_once() {
    let mut seq = registry(1, &[2]);
    let out = seq.receive(node(2), claim_msg(5, "svc", id(2, 1)), secs(0));
    assert_eq!(kinds(&out), vec![(2, "Commit")]);
    let mut claimant = registry(2, &[1]);
    let (submitted, _) = claimant.submit("svc", claim(id(2, 1)), secs(0));
    let out = claimant.receive(
        node(1),
        commit(1, registered("svc", id(2, 1)), Some((2, submitted.request))),
        secs(0),
    );
    assert_eq!(out.answers, vec![(submitted.request, Answer::Decided(Ok(())))]);
}

#[test]
fn a_commit_whose_owner_is_not_a_member_here_is_acknowledged_only() {
    let mut other = registry(2, &[1, 3, 5]);
    let out = other.receive(
        node(1),
        commit(10, registered("svc", id(6, 1)), Some((3, 5))),
        secs(0),
    );
    assert_eq!(out.frames, vec![(node(1), ack(10))]);
    assert_eq!(owner(&other, "svc"), None);
}

#[test]
fn snapshots_merge_settle_conflicts_and_stop_only_local_losers() {
    let (low, high) = (id(1, 1), id(2, 1));
    let mut left = registry(1, &[]);
    let mut right = registry(2, &[]);
    let _ = left.submit("svc", claim(low), secs(0));
    let _ = right.submit("svc", claim(high), secs(0));
    let to_right = left.peer_up(node(2), secs(0));
    let to_left = right.peer_up(node(1), secs(0));
    let on_right = deliver(std::slice::from_mut(&mut right), node(1), to_right);
    let on_left = deliver(std::slice::from_mut(&mut left), node(2), to_left);
    let conflict = Conflict {
        name: "svc".into(),
        winner: low,
        loser: high,
    };
    assert_eq!(on_right[0].1.conflicts, vec![conflict.clone()]);
    assert_eq!(on_left[0].1.conflicts, vec![conflict]);
    assert_eq!(on_right[0].1.stops.len(), 1);
    // The loser's node tells its sequencer.
    assert!(kinds(&on_right[0].1).contains(&(1, "Lost")));
    assert!(on_left[0].1.stops.is_empty());
    assert_eq!(
        (owner(&left, "svc"), owner(&right, "svc")),
        (Some(low), Some(low))
    );
}

#[test]
fn the_sequencers_group_changes_go_to_every_peer_and_a_node_down_takes_its_members_everywhere() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.join("workers", entry(id(1, 1)));
    assert_eq!(kinds(&out), vec![(2, "Join"), (3, "Join")]);
    let join = RegistryMsg::Join {
        group: "workers".into(),
        member: entry(id(2, 1)),
    };
    // A member's node's change is taken and passed on to every other node.
    let out = seq.receive(node(2), join.clone(), secs(0));
    assert_eq!(out.frames, vec![(node(3), join)]);
    assert_eq!(seq.replica().members("workers").len(), 2);
    // A node down: its actors' memberships go here, and on every node still connected.
    let out = seq.peer_down(node(2), secs(0));
    assert_eq!(seq.replica().members("workers").len(), 1);
    let gone = RegistryMsg::Groups {
        node: node(2),
        groups: Vec::new(),
    };
    assert_eq!(out.frames, vec![(node(3), gone)]);
    let (left, out) = seq.leave("workers", id(1, 1));
    assert!(left);
    assert_eq!(kinds(&out), vec![(3, "Leave")]);
    let (left, out) = seq.leave("workers", id(1, 1));
    assert!(!left && out.frames.is_empty());
}

#[test]
fn a_nodes_group_changes_go_to_its_sequencer_and_reach_other_nodes_only_through_it() {
    let mut member = registry(3, &[1, 2]);
    let mut other = registry(2, &[1, 3]);
    let join = RegistryMsg::Join {
        group: "workers".into(),
        member: entry(id(3, 1)),
    };
    let out = member.join("workers", entry(id(3, 1)));
    assert_eq!(out.frames, vec![(node(1), join.clone())]);
    // Sent straight to a node that is not the sequencer, it is dropped; passed on by the
    // sequencer, it is taken (and goes no further).
    let _ = other.receive(node(3), join.clone(), secs(0));
    assert!(other.replica().members("workers").is_empty());
    let out = other.receive(node(1), join, secs(0));
    assert!(out.frames.is_empty());
    assert_eq!(other.replica().members("workers").len(), 1);
    let leave = RegistryMsg::Leave {
        group: "workers".into(),
        member: id(3, 1),
    };
    let (left, out) = member.leave("workers", id(3, 1));
    assert!(left);
    assert_eq!(out.frames, vec![(node(1), leave.clone())]);
    let _ = other.receive(node(3), leave.clone(), secs(0));
    assert_eq!(other.replica().members("workers").len(), 1);
    let _ = other.receive(node(1), leave, secs(0));
    assert!(other.replica().members("workers").is_empty());
}

#[test]
fn the_sequencers_groups_replace_a_nodes_memberships_and_no_one_elses_are_taken() {
    let mut here = registry(3, &[1, 2]);
    let groups = |members: &[ActorId]| RegistryMsg::Groups {
        node: node(2),
        groups: members
            .iter()
            .map(|member| ("g".to_owned(), entry(*member)))
            .collect(),
    };
    let members = |here: &Registry| -> Vec<ActorId> {
        here.replica()
            .members("g")
            .into_iter()
            .map(|member| member.owner)
            .collect()
    };
    // Only from the sequencer.
    let _ = here.receive(node(2), groups(&[id(2, 1)]), secs(0));
    assert!(members(&here).is_empty());
    let _ = here.receive(node(1), groups(&[id(2, 1)]), secs(0));
    assert_eq!(members(&here), vec![id(2, 1)]);
    // The whole list: what it leaves out goes, and another node's actor in it is dropped.
    let _ = here.receive(node(1), groups(&[id(2, 2), id(1, 1)]), secs(0));
    assert_eq!(members(&here), vec![id(2, 2)]);
    // Never about this node's own actors, on which it is the authority.
    let _ = here.join("mine", entry(id(3, 1)));
    let mine = RegistryMsg::Groups {
        node: node(3),
        groups: Vec::new(),
    };
    let _ = here.receive(node(1), mine, secs(0));
    assert_eq!(here.replica().members("mine").len(), 1);
}

#[test]
fn two_nodes_that_are_not_the_sequencer_exchange_nothing_when_they_come_up() {
    let mut here = registry(3, &[1]);
    let _ = here.join("workers", entry(id(3, 1)));
    let _ = here.submit("svc", claim(id(3, 1)), secs(0));
    let out = here.peer_up(node(2), secs(0));
    assert!(out.frames.is_empty(), "{:?}", out.frames);
    let mut other = registry(2, &[1]);
    assert!(other.peer_up(node(3), secs(0)).frames.is_empty());
}

#[test]
fn a_node_and_its_sequencer_exchange_replicas_when_they_come_up() {
    let mut seq = registry(1, &[2]);
    let _ = seq.join("workers", entry(id(1, 1)));
    let replica = RegistryMsg::Snapshot {
        entries: Vec::new(),
        groups: vec![("workers".into(), entry(id(1, 1)))],
    };
    assert_eq!(seq.peer_up(node(3), secs(0)).frames, vec![(node(3), replica)]);
    // The new node was the sequencer alone: now node 1 is.
    let mut joiner = registry(3, &[]);
    let _ = joiner.join("workers", entry(id(3, 1)));
    let out = joiner.peer_up(node(1), secs(0));
    assert_eq!(joiner.sequencer(), node(1));
    let replica = RegistryMsg::Snapshot {
        entries: Vec::new(),
        groups: vec![("workers".into(), entry(id(3, 1)))],
    };
    assert_eq!(out.frames, vec![(node(1), replica)]);
}

#[test]
fn the_sequencer_passes_on_a_nodes_memberships_from_its_snapshot_when_they_change() {
    let mut seq = registry(1, &[2, 3]);
    let memberships = vec![("workers".to_owned(), entry(id(3, 1)))];
    let snapshot = RegistryMsg::Snapshot {
        entries: vec![("svc".into(), entry(id(3, 2)))],
        groups: memberships.clone(),
    };
    let out = seq.receive(node(3), snapshot.clone(), secs(0));
    let groups = RegistryMsg::Groups {
        node: node(3),
        groups: memberships,
    };
    assert_eq!(out.frames[0], (node(2), groups));
    assert_eq!(seq.replica().members("workers").len(), 1);
    assert!(!kinds(&out).contains(&(3, "Groups")), "not back to their node");
    // Unchanged, they are not passed on again.
    let commit = commit_of(&out);
    let _ = seq.receive(node(2), ack(commit), secs(0));
    let _ = seq.receive(node(3), ack(commit), secs(0));
    let out = seq.receive(node(3), snapshot, secs(0));
    assert!(out.frames.is_empty(), "{:?}", out.frames);
}

#[test]
fn a_snapshot_from_the_sequencer_replaces_other_nodes_memberships_and_a_node_whose_own_differ_tells_it() {
    let mut here = registry(3, &[1, 2]);
    let old = RegistryMsg::Join {
        group: "old".into(),
        member: entry(id(2, 1)),
    };
    let _ = here.receive(node(1), old, secs(0));
    let _ = here.join("mine", entry(id(3, 1)));
    let snapshot = |groups: Vec<(&str, ActorId)>| RegistryMsg::Snapshot {
        entries: Vec::new(),
        groups: groups
            .into_iter()
            .map(|(group, member)| (group.to_owned(), entry(member)))
            .collect(),
    };
    // The sequencer does not know of this node's membership: it is kept, and sent to it.
    let out = here.receive(node(1), snapshot(vec![("new", id(2, 5))]), secs(0));
    assert!(here.replica().members("old").is_empty());
    assert_eq!(here.replica().members("new").len(), 1);
    assert_eq!(here.replica().members("mine").len(), 1);
    let told = RegistryMsg::Snapshot {
        entries: Vec::new(),
        groups: vec![("mine".into(), entry(id(3, 1)))],
    };
    assert_eq!(out.frames, vec![(node(1), told)]);
    // Once it does, nothing is to be said.
    let out = here.receive(
        node(1),
        snapshot(vec![("mine", id(3, 1)), ("new", id(2, 5))]),
        secs(0),
    );
    assert!(out.frames.is_empty(), "{:?}", out.frames);
}

#[test]
fn a_loss_goes_to_the_sequencer_which_passes_it_on() {
    let lost = |loser: ActorId| RegistryMsg::Lost {
        name: "svc".into(),
        winner: id(2, 1),
        loser,
    };
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), lost(id(3, 1)), secs(0));
    assert_eq!(out.frames, vec![(node(2), lost(id(3, 1)))]);
    assert_eq!(out.conflicts.len(), 1);
    // Another node takes the sequencer's word for a third node's loser, and passes it on
    // no further; but not for its own actor, nor anyone's word for a node's but its own.
    let mut other = registry(2, &[1, 3, 4]);
    let out = other.receive(node(1), lost(id(3, 1)), secs(0));
    assert!(out.frames.is_empty());
    assert_eq!(out.conflicts.len(), 1);
    let out = other.receive(node(1), lost(id(2, 7)), secs(0));
    assert!(out.conflicts.is_empty());
    let out = other.receive(node(4), lost(id(3, 2)), secs(0));
    assert!(out.conflicts.is_empty());
}

#[test]
fn a_node_that_is_not_the_sequencer_forwards_a_claim_and_answers_its_claimant() {
    // Node 3 takes itself for node 4's sequencer, but sees node 1, which is lower.
    let mut proxy = registry(3, &[1, 4]);
    let out = proxy.receive(node(4), claim_msg(7, "svc", id(4, 1)), secs(0));
    let [(to, RegistryMsg::Claim { request, .. })] = out.frames.as_slice() else {
        panic!("expected the claim forwarded: {:?}", out.frames);
    };
    assert_eq!(*to, node(1));
    let out = proxy.receive(node(1), reply(*request, Err(Some(id(1, 1)))), secs(0));
    assert_eq!(out.frames, vec![(node(4), reply(7, Err(Some(id(1, 1)))))]);
}

#[test]
fn a_node_that_is_not_the_sequencer_sends_a_release_back_and_its_claimant_tries_again() {
    // The sequencer would refuse a release forwarded by node 3, which does not own the actor.
    let mut proxy = registry(3, &[1, 4]);
    let unclaim = RegistryMsg::Unclaim {
        request: 7,
        name: "svc".into(),
        owner: id(4, 1),
    };
    let out = proxy.receive(node(4), unclaim, secs(0));
    assert_eq!(
        out.frames,
        vec![(node(4), RegistryMsg::NotSequencer { request: 7 })]
    );
    // Node 4 took node 3 for its sequencer (it suspects node 1): its release fails, to be
    // tried again; a refusal from another node, or for another request, changes nothing.
    let mut claimant = registry(4, &[1, 3]);
    claimant.peers.suspect(node(1), secs(100));
    let (submitted, _) = claimant.submit("svc", Change::Unclaim(id(4, 1)), secs(0));
    assert_eq!(submitted.sequencer, node(3));
    let request = submitted.request;
    let out = claimant.receive(node(1), RegistryMsg::NotSequencer { request }, secs(0));
    assert!(out.answers.is_empty());
    let out = claimant.receive(
        node(3),
        RegistryMsg::NotSequencer { request: request + 1 },
        secs(0),
    );
    assert!(out.answers.is_empty());
    let out = claimant.receive(node(3), RegistryMsg::NotSequencer { request }, secs(0));
    assert_eq!(out.answers, vec![(request, Answer::SequencerLost)]);
}

#[test]
fn a_commit_from_a_node_that_is_not_the_sequencer_is_acknowledged_not_applied() {
    let mut other = registry(3, &[1, 2]);
    let commit = RegistryMsg::Commit {
        request: 5,
        change: registered("svc", id(2, 1)),
        claimant: None,
        answer: false,
    };
    let out = other.receive(node(2), commit, secs(0));
    assert_eq!(out.frames, vec![(node(2), ack(5))]);
    assert_eq!(owner(&other, "svc"), None);
}

#[test]
fn what_a_snapshot_changes_on_the_sequencer_is_committed_again_before_the_next_proposal() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), claim_msg(7, "a", id(3, 1)), secs(0));
    let in_flight = commit_of(&out);
    let _ = seq.receive(node(2), claim_msg(8, "b", id(2, 1)), secs(0));
    // Node 3's replica brings a name the sequencer did not have.
    let snapshot = RegistryMsg::Snapshot {
        entries: vec![("c".into(), entry(id(3, 2)))],
        groups: Vec::new(),
    };
    assert!(seq.receive(node(3), snapshot, secs(0)).frames.is_empty());
    let out = seq.receive(node(2), ack(in_flight), secs(0));
    // The claimant's copy ends the change in flight; the sync goes out before node 2's
    // queued claim.
    let sync = RegistryMsg::Commit {
        request: in_flight + 1,
        change: registered("c", id(3, 2)),
        claimant: None,
        answer: false,
    };
    assert_eq!(
        out.frames,
        vec![
            (node(3), commit_msg(in_flight, "a", id(3, 1), (3, 7))),
            (node(2), sync.clone()),
            (node(3), sync)
        ]
    );
}

#[test]
fn a_node_keeps_its_own_actors_name_against_a_syncs_release_and_tells_the_sequencer() {
    let mut home = registry(3, &[1]);
    let (submitted, _) = home.submit("svc", claim(id(3, 1)), secs(0));
    let claimed = Some((3, submitted.request));
    let _ = home.receive(node(1), commit(4, registered("svc", id(3, 1)), claimed), secs(0));
    let _ = home.receive(node(1), reply(submitted.request, Ok(())), secs(0));
    let release = RegistryMsg::Commit {
        request: 5,
        change: Committed::Released {
            name: "svc".into(),
            owner: id(3, 1),
        },
        claimant: None,
        answer: false,
    };
    let out = home.receive(node(1), release, secs(0));
    assert_eq!(owner(&home, "svc"), Some(id(3, 1)));
    assert_eq!(kinds(&out), vec![(1, "Snapshot"), (1, "CommitAck")]);
}

#[test]
fn a_node_seen_down_has_no_names_taken_from_a_third_nodes_snapshot() {
    let mut here = registry(3, &[1, 2, 4]);
    let _ = here.peer_down(node(4), secs(0));
    let snapshot = RegistryMsg::Snapshot {
        entries: vec![("gone".into(), entry(id(4, 1))), ("kept".into(), entry(id(2, 1)))],
        groups: Vec::new(),
    };
    let _ = here.receive(node(2), snapshot, secs(0));
    assert_eq!(
        (owner(&here, "gone"), owner(&here, "kept")),
        (None, Some(id(2, 1)))
    );
    // Not even the sequencer's word brings back a name of a node that is not a member.
    let commit = RegistryMsg::Commit {
        request: 1,
        change: registered("gone", id(4, 1)),
        claimant: None,
        answer: false,
    };
    let out = here.receive(node(1), commit, secs(0));
    assert_eq!(owner(&here, "gone"), None);
    assert_eq!(kinds(&out), vec![(1, "CommitAck")]);
}

#[test]
fn an_empty_snapshot_asks_the_sequencer_for_its_replica_and_is_answered_with_differences() {
    let mut seq = registry(1, &[2]);
    let _ = seq.submit("svc", claim(id(1, 1)), secs(0));
    let ask = RegistryMsg::Snapshot {
        entries: Vec::new(),
        groups: Vec::new(),
    };
    let out = seq.receive(node(2), ask, secs(0));
    let replica = RegistryMsg::Snapshot {
        entries: vec![("svc".into(), entry(id(1, 1)))],
        groups: Vec::new(),
    };
    assert_eq!(out.frames, vec![(node(2), replica.clone())]);
    // The asking node answers with what it holds otherwise.
    let mut follower = registry(2, &[1]);
    let (submitted, _) = follower.submit("mine", claim(id(2, 1)), secs(0));
    let claimed = Some((2, submitted.request));
    let _ = follower.receive(node(1), commit(3, registered("mine", id(2, 1)), claimed), secs(0));
    let out = follower.receive(node(1), replica, secs(0));
    let answer = RegistryMsg::Snapshot {
        entries: vec![("mine".into(), entry(id(2, 1)))],
        groups: Vec::new(),
    };
    assert_eq!(out.frames, vec![(node(1), answer)]);
    assert_eq!(owner(&follower, "svc"), Some(id(1, 1)));
}

#[test]
fn a_sync_of_a_name_the_sequencer_no_longer_holds_releases_every_owner_seen() {
    let mut seq = registry(1, &[2, 3, 5]);
    let out = seq.receive(node(5), claim_msg(7, "busy", id(5, 9)), secs(0));
    assert_eq!(kinds(&out), vec![(2, "Commit"), (3, "Commit")]);
    // Two copies of `svc`, each from its owner's node, which both go down while a change is
    // in flight: the sequencer holds neither, and other nodes may hold either.
    for (from, owner) in [(2, id(2, 1)), (3, id(3, 2))] {
        let snapshot = RegistryMsg::Snapshot {
            entries: vec![("svc".into(), entry(owner))],
            groups: Vec::new(),
        };
        let _ = seq.receive(node(from), snapshot, secs(0));
    }
    let _ = seq.peer_down(node(2), secs(0));
    // Only the claimant is left, which has its copy already (sent ahead of the snapshots'
    // frames to it, not as its answer): the change in flight is done, its claimant is
    // answered, and the syncs follow.
    let mut out = seq.peer_down(node(3), secs(0));
    assert_eq!(out.frames.first(), Some(&(node(5), reply(7, Ok(())))));
    assert_eq!(owner(&seq, "svc"), None);
    let mut released = Vec::new();
    let commit = |out: &Outputs| {
        out.frames.iter().find_map(|(_, msg)| match msg {
            RegistryMsg::Commit {
                request,
                change,
                claimant: None,
                ..
            } => Some((*request, change.clone())),
            _ => None,
        })
    };
    while let Some((request, change)) = commit(&out) {
        if let Committed::Released { name, owner } = change {
            assert_eq!(name, "svc");
            released.push(owner);
        }
        out = seq.receive(node(5), ack(request), secs(0));
    }
    released.sort();
    released.dedup();
    assert_eq!(released, vec![id(2, 1), id(3, 2)]);
}

// ---- authority, caps, silent sequencers, chunks ----

fn snapshot_of(entries: Vec<(&str, ActorId)>) -> RegistryMsg {
    RegistryMsg::Snapshot {
        entries: entries
            .into_iter()
            .map(|(name, owner)| (name.to_owned(), entry(owner)))
            .collect(),
        groups: Vec::new(),
    }
}

#[test]
fn a_peers_snapshot_speaks_only_for_its_own_actors_and_never_for_strangers() {
    // Node 3 is the sequencer of 5 (lower than 5, higher than nothing else connected).
    let mut here = registry(5, &[3, 4]);
    let from_four = snapshot_of(vec![
        ("own", id(4, 1)),
        ("other", id(3, 1)),
        ("stranger", id(9, 1)),
    ]);
    let _ = here.receive(node(4), from_four, secs(0));
    assert_eq!(owner(&here, "own"), Some(id(4, 1)));
    assert_eq!((owner(&here, "other"), owner(&here, "stranger")), (None, None));
    // The sequencer's replica is its order: taken for members, never for strangers.
    let from_three = snapshot_of(vec![("other", id(4, 2)), ("stranger", id(9, 1))]);
    let _ = here.receive(node(3), from_three, secs(0));
    assert_eq!(owner(&here, "other"), Some(id(4, 2)));
    assert_eq!(owner(&here, "stranger"), None);
}

#[test]
fn a_forged_lower_owner_never_stops_a_live_local_actor() {
    let mut here = registry(5, &[3, 7]);
    let (submitted, _) = here.submit("svc", claim(id(5, 9)), secs(0));
    let claimed = Some((5, submitted.request));
    let _ = here.receive(node(3), commit(1, registered("svc", id(5, 9)), claimed), secs(0));
    let _ = here.receive(node(3), reply(submitted.request, Ok(())), secs(0));
    assert_eq!(owner(&here, "svc"), Some(id(5, 9)));
    // A made-up owner with the lowest id there is, in a peer's snapshot and from the
    // sequencer itself (snapshot and commit): no member holds it, so it loses nothing.
    let forged = || snapshot_of(vec![("svc", id(1, 1))]);
    for from in [7, 3] {
        let out = here.receive(node(from), forged(), secs(0));
        assert!(out.stops.is_empty() && out.conflicts.is_empty());
    }
    let commit = RegistryMsg::Commit {
        request: 2,
        change: registered("svc", id(1, 1)),
        claimant: None,
        answer: false,
    };
    let out = here.receive(node(3), commit, secs(0));
    assert!(out.stops.is_empty() && out.conflicts.is_empty());
    assert_eq!(owner(&here, "svc"), Some(id(5, 9)));
}

#[test]
fn the_sequencer_refuses_claims_for_strangers_and_past_the_cap() {
    let mut config = Config::new(TIMEOUT);
    config.max_names_per_node = 2;
    let mut seq = Registry::with_config(node(1), config);
    let _ = seq.peer_up(node(2), secs(0));
    let out = seq.receive(node(2), claim_msg(1, "stranger", id(9, 1)), secs(0));
    assert_eq!(out.frames, vec![(node(2), reply(1, Err(None)))]);
    assert_eq!(owner(&seq, "stranger"), None);
    for (request, name) in [(2, "one"), (3, "two")] {
        let out = seq.receive(node(2), claim_msg(request, name, id(2, request)), secs(0));
        let _ = seq.receive(node(2), ack(commit_of(&out)), secs(0));
    }
    let out = seq.receive(node(2), claim_msg(4, "three", id(2, 4)), secs(0));
    assert_eq!(out.frames, vec![(node(2), reply(4, Err(None)))]);
    assert_eq!(seq.replica().names_of(node(2)), 2);
    // A snapshot past the cap is taken up to it.
    let mut here = Registry::with_config(node(5), config);
    let _ = here.peer_up(node(6), secs(0));
    let many = snapshot_of(vec![("a", id(6, 1)), ("b", id(6, 2)), ("c", id(6, 3))]);
    let _ = here.receive(node(6), many, secs(0));
    assert_eq!(here.replica().names_of(node(6)), 2);
    assert_eq!(owner(&here, "c"), None);
}

#[test]
fn a_peer_releases_and_changes_memberships_only_of_its_own_actors() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), claim_msg(1, "svc", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    let _ = seq.receive(node(2), ack(commit), secs(0));
    let _ = seq.receive(node(3), ack(commit), secs(0));
    let unclaim = RegistryMsg::Unclaim {
        request: 5,
        name: "svc".into(),
        owner: id(3, 1),
    };
    let out = seq.receive(node(2), unclaim, secs(0));
    assert_eq!(out.frames, vec![(node(2), reply(5, Err(Some(id(3, 1)))))]);
    assert_eq!(owner(&seq, "svc"), Some(id(3, 1)));
    let join = RegistryMsg::Join {
        group: "g".into(),
        member: entry(id(3, 2)),
    };
    let _ = seq.receive(node(2), join.clone(), secs(0));
    assert!(seq.replica().group_names().is_empty());
    let _ = seq.receive(node(3), join, secs(0));
    let leave = RegistryMsg::Leave {
        group: "g".into(),
        member: id(3, 2),
    };
    let _ = seq.receive(node(2), leave, secs(0));
    assert_eq!(seq.replica().members("g").len(), 1);
}

#[test]
fn a_silent_sequencer_is_suspected_at_the_claim_deadline_and_the_claim_moves_on() {
    let deadline = DEFAULT_CLAIM_TIMEOUT * claims::FIRST_WORD_DEADLINES;
    let mut here = registry(5, &[1, 7]);
    let (submitted, out) = here.submit("svc", claim(id(5, 1)), secs(0));
    assert_eq!(submitted.sequencer, node(1));
    assert_eq!(kinds(&out), vec![(1, "Claim")]);
    assert_eq!(here.next_deadline(), Some(deadline));
    assert!(here.tick(deadline - Duration::from_millis(1)).answers.is_empty());
    let out = here.tick(deadline);
    assert_eq!(out.answers, vec![(submitted.request, Answer::SequencerLost)]);
    assert_eq!(here.sequencer(), node(5));
    // Tried again: this node decides, and does not wait for the silent node's acknowledgement.
    let (again, out) = here.submit("svc", claim(id(5, 1)), deadline);
    assert_eq!(again.sequencer, node(5));
    let commit = commit_of(&out);
    let out = here.receive(node(7), ack(commit), deadline);
    assert_eq!(out.answers, vec![(again.request, Answer::Decided(Ok(())))]);
    // Heard from again: the sequencer once more, and reconciled with.
    let out = here.receive(node(1), ack(99), deadline);
    assert_eq!(here.sequencer(), node(1));
    assert!(kinds(&out).contains(&(1, "Snapshot")));
}

#[test]
fn a_busy_sequencer_heard_from_gets_more_time_and_a_suspicion_expires() {
    let deadline = DEFAULT_CLAIM_TIMEOUT;
    let mut here = registry(5, &[1, 7]);
    let (submitted, _) = here.submit("svc", claim(id(5, 1)), secs(0));
    // Node 1 speaks (of something else) before the deadline: it is busy, not silent.
    let _ = here.receive(node(1), ack(42), deadline / 2);
    assert!(here.tick(deadline).answers.is_empty());
    assert_eq!(here.sequencer(), node(1));
    // Still no answer after three deadlines: suspected.
    let out = here.tick(deadline * 3);
    assert_eq!(out.answers, vec![(submitted.request, Answer::SequencerLost)]);
    assert_eq!(here.sequencer(), node(5));
    // The suspicion ends by itself, and node 1 is tried again.
    let expiry = here.next_deadline().expect("the suspicion's expiry");
    let _ = here.tick(expiry);
    assert_eq!(here.sequencer(), node(1));
}

#[test]
fn a_replica_larger_than_a_chunk_goes_in_parts_and_is_taken_once_whole() {
    let mut config = Config::new(TIMEOUT);
    config.snapshot_chunk_bytes = 100;
    let mut big = Registry::with_config(node(2), config);
    for n in 0..10 {
        let _ = big.submit(&format!("name-{n}"), claim(id(2, n)), secs(0));
    }
    let out = big.peer_up(node(5), secs(0));
    let parts: Vec<&RegistryMsg> = out.frames.iter().map(|(_, msg)| msg).collect();
    assert!(parts.len() > 2, "{} chunks", parts.len());
    let (last, rest) = parts.split_last().expect("chunks");
    assert!(matches!(last, RegistryMsg::Snapshot { .. }));
    assert!(rest
        .iter()
        .all(|msg| matches!(msg, RegistryMsg::SnapshotPart { .. })));
    for msg in rest {
        let mut encoded = Vec::new();
        msg.encode(&mut encoded).expect("encode");
        assert!(encoded.len() <= 100, "{} bytes", encoded.len());
    }
    let mut joiner = registry(5, &[2]);
    for msg in rest {
        let _ = joiner.receive(node(2), (*msg).clone(), secs(0));
        assert!(
            joiner.replica().names("").is_empty(),
            "taken before the last chunk"
        );
    }
    let _ = joiner.receive(node(2), (*last).clone(), secs(0));
    assert_eq!(joiner.replica().names("").len(), 10);
}

#[test]
fn a_follower_silent_past_the_claim_deadline_holds_no_change_back() {
    let deadline = DEFAULT_CLAIM_TIMEOUT;
    let mut seq = registry(1, &[2, 3]);
    let (first, out) = seq.submit("a", claim(id(1, 1)), secs(0));
    let commit = commit_of(&out);
    let _ = seq.receive(node(3), ack(commit), secs(0));
    let (second, _) = seq.submit("b", claim(id(1, 2)), secs(0));
    assert_eq!(seq.next_deadline(), Some(deadline));
    // Node 2 never acknowledges: at the deadline it is suspected, and not waited for.
    let out = seq.tick(deadline);
    assert_eq!(out.answers, vec![(first.request, Answer::Decided(Ok(())))]);
    let commit = commit_of(&out);
    let out = seq.receive(node(3), ack(commit), deadline);
    assert_eq!(out.answers, vec![(second.request, Answer::Decided(Ok(())))]);
    assert_eq!(owner(&seq, "b"), Some(id(1, 2)));
}

#[test]
fn hearsay_reaching_the_sequencer_is_not_taken_but_settled_in_its_order() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(2), snapshot_of(vec![("x", id(3, 7))]), secs(0));
    assert_eq!(owner(&seq, "x"), None);
    let release = RegistryMsg::Commit {
        request: 1,
        change: Committed::Released {
            name: "x".into(),
            owner: id(3, 7),
        },
        claimant: None,
        answer: false,
    };
    assert_eq!(out.frames, vec![(node(2), release.clone()), (node(3), release)]);
}

#[test]
fn a_commit_for_a_joining_nodes_actor_is_taken_once_its_connection_is_up() {
    // Node 2 hears the sequencer's commit of node 6's name before its own connection to
    // node 6 is up (node 6 is joining, connected to the sequencer already).
    let mut third = registry(2, &[1]);
    let commit = |name: &str, owner: ActorId| RegistryMsg::Commit {
        request: 9,
        change: registered(name, owner),
        claimant: None,
        answer: false,
    };
    let _ = third.receive(node(1), commit("c6-0", id(6, 1)), secs(0));
    assert_eq!(
        owner(&third, "c6-0"),
        None,
        "nothing stored for a node that is not a member"
    );
    let _ = third.receive(node(1), commit("moved", id(6, 2)), secs(0));
    let _ = third.receive(node(1), commit("moved", id(1, 7)), secs(0));
    let _ = third.peer_up(node(6), secs(1));
    assert_eq!(owner(&third, "c6-0"), Some(id(6, 1)), "taken when node 6 came up");
    assert_eq!(
        owner(&third, "moved"),
        Some(id(1, 7)),
        "a later decision superseded it"
    );
}

#[test]
fn the_sequencer_passes_a_loss_on_only_to_the_nodes_it_met_before_it_happened() {
    let mut seq = registry(1, &[2, 3]);
    let lost = RegistryMsg::Lost {
        name: "svc".into(),
        winner: id(3, 1),
        loser: id(2, 1),
    };
    let out = seq.receive(node(2), lost.clone(), secs(5));
    assert_eq!(kinds(&out), vec![(3, "Lost")]);
    assert_eq!(out.conflicts.len(), 1, "reported here too");
    // Node 4 joins after the loss: it is neither greeted with it nor told when node 2 tells
    // the sequencer again.
    let out = seq.peer_up(node(4), secs(9));
    assert_eq!(kinds(&out), vec![(4, "Snapshot")]);
    let out = seq.receive(node(2), lost, secs(10));
    assert_eq!(kinds(&out), vec![(3, "Lost")]);
    assert!(out.conflicts.is_empty(), "reported once");
}

/// Delivers every output's frames, each from the node that produced it, at `now`, until none
/// are left; returns every output on the way, by the node that produced it.
fn settle_all(
    nodes: &mut [Registry],
    mut outputs: Vec<(NodeId, Outputs)>,
    now: Duration,
) -> Vec<(NodeId, Outputs)> {
    let mut seen = Vec::new();
    while !outputs.is_empty() {
        let mut next = Vec::new();
        for (from, out) in outputs {
            for (to, msg) in &out.frames {
                if let Some(registry) = nodes.iter_mut().find(|registry| registry.me == *to) {
                    next.push((*to, registry.receive(from, msg.clone(), now)));
                }
            }
            seen.push((from, out));
        }
        outputs = next;
    }
    seen
}

/// Seed 928 of `sim_partition`, as registry inputs. Node 3's claim of `svc` for its actor 3:2
/// went to its sequencer, node 2, which it could not reach (the claim stayed queued); node 3
/// suspected node 2 at the claim deadline, decided the retry itself, and refused it: its own
/// actor 3:1 holds the name. Node 2, which had dropped node 3's names when it saw node 3 go
/// down, got the queued claim once they reconnected and granted it (to node 3 and node 4),
/// then node 3's replica. The stale grant is no conflict: 3:2 never held the name (its
/// registration was refused), so no node reports that it lost it, and none stops it; 3:1
/// keeps it everywhere.
#[test]
fn a_claim_refused_on_retry_and_granted_late_elsewhere_is_no_conflict() {
    let (held, refused) = (id(3, 1), id(3, 2));
    let mut nodes = [registry(2, &[3, 4]), registry(3, &[2, 4]), registry(4, &[2, 3])];
    let (first, out) = nodes[1].submit("svc", claim(held), secs(0));
    let done = settle_all(&mut nodes, vec![(node(3), out)], secs(0));
    let answers: Vec<_> = done.iter().flat_map(|(_, out)| out.answers.clone()).collect();
    assert_eq!(answers, vec![(first.request, Answer::Decided(Ok(())))]);
    // Node 2 sees node 3 go down (and releases its names on node 4), then come back, and
    // greets it.
    let down = nodes[0].peer_down(node(3), secs(0));
    let _ = settle_all(&mut nodes, vec![(node(2), down)], secs(0));
    let greeting = nodes[0].peer_up(node(3), secs(0));
    assert_eq!((owner(&nodes[0], "svc"), owner(&nodes[2], "svc")), (None, None));
    // Node 3's claim for 3:2 goes to node 2, and waits in the queue.
    let (stale, queued) = nodes[1].submit("svc", claim(refused), secs(0));
    assert_eq!(kinds(&queued), vec![(2, "Claim")]);
    // No word by the deadline: node 2 is suspected, node 3 decides, and sends its replica.
    let deadline = DEFAULT_CLAIM_TIMEOUT * claims::FIRST_WORD_DEADLINES;
    let resync = nodes[1].tick(deadline);
    assert_eq!(resync.answers, vec![(stale.request, Answer::SequencerLost)]);
    assert_eq!(nodes[1].sequencer(), node(3));
    let (retry, out) = nodes[1].submit("svc", claim(refused), deadline);
    assert_eq!(
        out.answers,
        vec![(retry.request, Answer::Decided(Err(Some(held))))]
    );
    // They reconnect: node 2's greeting, then everything node 3 queued, in order.
    let outputs = vec![
        (node(2), greeting),
        (node(3), queued),
        (node(3), resync),
        (node(3), out),
    ];
    let done = settle_all(&mut nodes, outputs, deadline);
    let conflicts: Vec<_> = done
        .iter()
        .flat_map(|(at, out)| out.conflicts.iter().map(move |conflict| (*at, conflict.clone())))
        .collect();
    assert_eq!(
        conflicts,
        Vec::new(),
        "no one reports that 3:2 lost a name it never held"
    );
    assert!(done.iter().all(|(_, out)| out.stops.is_empty()));
    for registry in &nodes {
        assert_eq!(owner(registry, "svc"), Some(held), "on {}", registry.me);
    }
}

/// The other side of the last test: a claim still waiting for its answer, granted by a
/// sequencer that did not know another actor of the claimant's node held the name, is
/// settled by the policy on the claimant's node, which reports and announces the loss.
#[test]
fn a_waiting_claim_granted_over_another_actor_of_its_node_is_settled_by_the_policy() {
    let (held, claimed) = (id(3, 1), id(3, 2));
    let mut here = registry(3, &[2]);
    let (first, _) = here.submit("svc", claim(held), secs(0));
    let _ = here.receive(
        node(2),
        commit(1, registered("svc", held), Some((3, first.request))),
        secs(0),
    );
    let _ = here.receive(node(2), reply(first.request, Ok(())), secs(0));
    let (second, _) = here.submit("svc", claim(claimed), secs(0));
    let grant = commit(2, registered("svc", claimed), Some((3, second.request)));
    let out = here.receive(node(2), grant, secs(0));
    let conflict = Conflict {
        name: "svc".into(),
        winner: held,
        loser: claimed,
    };
    assert_eq!(out.conflicts, vec![conflict]);
    assert_eq!(
        out.stops.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![claimed]
    );
    assert!(kinds(&out).contains(&(2, "Lost")));
    assert_eq!(owner(&here, "svc"), Some(held));
}

/// Seeds 12170, 36043, 43791 and 77620 of the registry simulation at 80 000 schedules, as
/// registry inputs. Node 1, the sequencer, commits node 3's claim of `svc` to node 2, which
/// is not connected to node 3 yet: the name waits there for node 3 to come up. Node 1 goes
/// down; node 2 and node 3 are each their own sequencer, and node 3's actor releases the name
/// in node 3's order. When node 2 and node 3 meet, the name node 2 held for node 3 is a
/// decision of an order that is gone, and stale: it is not taken, and the two agree that the
/// name is free (node 2 used to take it, outside any order, and keep it for good).
#[test]
fn a_name_waiting_for_its_node_is_dropped_when_the_sequencer_that_decided_it_is_gone() {
    let (released, kept) = (id(3, 1), id(3, 2));
    let mut nodes = [registry(1, &[2, 3]), registry(2, &[1]), registry(3, &[1])];
    let (first, out) = nodes[2].submit("svc", claim(released), secs(0));
    let (second, more) = nodes[2].submit("other", claim(kept), secs(0));
    let done = settle_all(&mut nodes, vec![(node(3), out), (node(3), more)], secs(0));
    let answers: Vec<_> = done.iter().flat_map(|(_, out)| out.answers.clone()).collect();
    let granted = Answer::Decided(Ok(()));
    let expected = vec![
        (first.request, granted.clone()),
        (second.request, granted.clone()),
    ];
    assert_eq!(answers, expected);
    assert_eq!(owner(&nodes[1], "svc"), None, "waits for node 3 to come up");
    // Node 1 goes down; node 3's actor stops, and its node releases the name.
    let _ = nodes[1].peer_down(node(1), secs(1));
    let _ = nodes[2].peer_down(node(1), secs(1));
    let (release, out) = nodes[2].submit("svc", Change::Unclaim(released), secs(1));
    assert_eq!(out.answers, vec![(release.request, granted)]);
    assert_eq!(owner(&nodes[2], "svc"), None);
    // Node 2 and node 3 meet, and exchange their replicas.
    let greetings = vec![
        (node(2), nodes[1].peer_up(node(3), secs(2))),
        (node(3), nodes[2].peer_up(node(2), secs(2))),
    ];
    let done = settle_all(&mut nodes, greetings, secs(2));
    assert!(done.iter().all(|(_, out)| out.conflicts.is_empty()));
    for registry in &nodes[1..] {
        assert_eq!(owner(registry, "svc"), None, "on {}", registry.me);
        assert_eq!(owner(registry, "other"), Some(kept), "on {}", registry.me);
    }
}

#[test]
fn recycled_outputs_come_back_empty_and_large_ones_are_not_kept() {
    let mut seq = registry(1, &[2, 3]);
    let out = seq.receive(node(3), claim_msg(7, "a", id(3, 1)), secs(0));
    let commit = commit_of(&out);
    assert!(!out.frames.is_empty() && !out.changes.is_empty() && out.touched);
    seq.recycle(out);
    // The next step starts from the recycled buffers, empty: only its own effects.
    let out = seq.receive(node(2), ack(commit), secs(0));
    assert_eq!(
        out.frames,
        vec![(node(3), commit_msg(commit, "a", id(3, 1), (3, 7)))]
    );
    assert!(out.changes.is_empty() && !out.touched && out.answers.is_empty());
    assert!(out.frames.capacity() >= 1);
    // A step that produced many frames leaves buffers too large to keep.
    let mut big = Outputs::default();
    for _ in 0..1000 {
        big.send(node(2), ack(1));
    }
    seq.recycle(big);
    let out = seq.receive(node(2), ack(commit), secs(0));
    assert!(out.frames.is_empty() && out.frames.capacity() < 1000);
}
