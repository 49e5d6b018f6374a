//! The cluster-wide registry: a replica of every name on every connected node.
//!
//! Reads ([`Node::lookup`](crate::Node::lookup)) are local. Writes are ordered by one node,
//! the *sequencer*: the connected node with the lowest id (every node of a connected mesh
//! agrees on it). A registration goes to the sequencer, which checks its replica, records the
//! name and sends it to every connected node: as a [`RegistryMsg::Commit`] to the others,
//! which apply it, acknowledge it to the sequencer and relay it to the claimant
//! ([`RegistryMsg::Relayed`]), and as its answer ([`RegistryMsg::Decided`]) to the claimant.
//! The claimant applies the first copy to arrive and returns once every other node relayed
//! it, or the sequencer confirmed that every node acknowledged it
//! ([`RegistryMsg::ClaimReply`], sent only when the claimant may be waiting still):
//! `register_global` returns only when the name is everywhere, usually three one-way hops
//! after it asked; and of concurrent registrations of one name exactly one wins. The
//! sequencer decides the next change only once every node acknowledged the last one (or went
//! down), so changes reach every node in the order it decided them. A name is released by
//! its owner (ordered the same way), when its actor stops for good, or when its node goes
//! down. When two nodes connect they exchange their replicas; a name registered on both sides
//! of a partition keeps the owner with the lowest (node id, actor id) on every node, and the
//! loser is stopped, as OTP's global does.
//!
//! This is a registry with deterministic conflict resolution, not consensus: while nodes
//! cannot see each other, each side registers on its own, and the merge settles it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::actor::{ActorId, NodeId};
use crate::codec::{Bincode, Codec, CodecError};
use crate::lock::lock;

/// A registered name's owner, as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GlobalEntry {
    pub(crate) owner: ActorId,
    pub(crate) fingerprint: u64,
    pub(crate) type_name: String,
}

/// Registry traffic between nodes (the body of a Registry frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RegistryMsg {
    /// To the sequencer: register `name` to `entry`.
    Claim {
        request: u64,
        name: String,
        entry: GlobalEntry,
    },
    /// To the sequencer: `owner` releases `name`.
    Unclaim {
        request: u64,
        name: String,
        owner: ActorId,
    },
    /// From the sequencer to the claimant, at once: the change is made. The claimant applies
    /// it (unless a [`Relayed`](RegistryMsg::Relayed) copy came first), acknowledges commit
    /// `commit` to the sequencer, and waits until each of `others`, the nodes the sequencer
    /// sent the commit to, relayed it (or the sequencer's [`ClaimReply`](RegistryMsg::ClaimReply)).
    Decided {
        request: u64,
        commit: u64,
        change: Committed,
        others: Vec<NodeId>,
    },
    /// From the sequencer to the claimant, the final answer: refused with the name's owner
    /// (none for an unclaim of a name no one holds) or already granted, at once; or done,
    /// once every node acknowledged the commit, if the claimant may be waiting still.
    ClaimReply {
        request: u64,
        result: Result<(), Option<ActorId>>,
    },
    /// From the sequencer to every node but the claimant: apply `change`, acknowledge it to the
    /// sequencer, and relay it to the claimant, if any (none for a change of the sequencer's
    /// own).
    Commit {
        request: u64,
        change: Committed,
        claimant: Option<Claimant>,
    },
    /// To the sequencer: commit `request` is applied, and the claimant needs nothing more from
    /// the sequencer about it (`settled`): the sender relayed it to the claimant, or is the
    /// claimant and was granted its claim already (true too when there is no claimant). Once
    /// every node acknowledged it, the sequencer confirms the change to a claimant that may be
    /// waiting still ([`ClaimReply`](RegistryMsg::ClaimReply)).
    CommitAck { request: u64, settled: bool },
    /// To the claimant, from a node that applied commit `commit` of the sequencer: the
    /// answer to its claim `request`, as in [`Decided`](RegistryMsg::Decided). The claimant
    /// may finish on the relays alone, before the sequencer's own answer arrives.
    Relayed {
        request: u64,
        commit: u64,
        change: Committed,
        others: Vec<NodeId>,
    },
    /// On connecting: the sender's whole replica.
    Snapshot {
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
    },
    /// To every node: `member` joined `group`.
    Join { group: String, member: GlobalEntry },
    /// To every node: `member` left `group`.
    Leave { group: String, member: ActorId },
}

/// A change the sequencer made, as every node applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Committed {
    /// `name` now belongs to `entry`.
    Registered { name: String, entry: GlobalEntry },
    /// `owner` released `name`.
    Released { name: String, owner: ActorId },
}

/// Who submitted a change, so that the nodes applying it can relay it: its node, its request,
/// and the nodes the change went to besides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claimant {
    pub(crate) node: NodeId,
    pub(crate) request: u64,
    pub(crate) others: Vec<NodeId>,
}

/// The sequencer's answer to a change: done, or refused with the name's owner (none for a
/// release of a name no one holds).
pub(crate) type Decision = Result<(), Option<ActorId>>;

/// Registry frames may carry a whole replica.
const REGISTRY_LIMIT: usize = 4 * 1024 * 1024;

impl RegistryMsg {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        Bincode::<REGISTRY_LIMIT>.encode(self, out)
    }

    pub(crate) fn decode(body: &[u8]) -> Result<RegistryMsg, CodecError> {
        Bincode::<REGISTRY_LIMIT>.decode(body)
    }
}

/// Which of two owners of one name keeps it after a partition heals: the lowest
/// (node id, actor id), the same answer on every node.
pub(crate) fn default_winner(a: ActorId, b: ActorId) -> ActorId {
    a.min(b)
}

/// A user's choice of the owner that keeps a name registered on both sides of a healed
/// partition: given the name and the two owners, it returns one of them. Every node of the
/// cluster must use the same one, so that they all keep the same owner.
pub type ConflictResolver = dyn Fn(&str, ActorId, ActorId) -> ActorId + Send + Sync;

/// How a node settles name conflicts.
#[derive(Clone)]
pub(crate) struct ConflictPolicy {
    pub(crate) resolver: Option<std::sync::Arc<ConflictResolver>>,
    /// Stop the losing owner (the default, as OTP does) or only tell subscribers.
    pub(crate) stop_losers: bool,
}

impl Default for ConflictPolicy {
    fn default() -> Self {
        ConflictPolicy {
            resolver: None,
            stop_losers: true,
        }
    }
}

impl ConflictPolicy {
    /// The winner of `name` between `a` and `b`, ordered so that the answer does not depend on
    /// which side is asked; an answer that is neither owner counts as the default.
    pub(crate) fn winner(&self, name: &str, a: ActorId, b: ActorId) -> ActorId {
        let (low, high) = (a.min(b), a.max(b));
        match &self.resolver {
            Some(resolve) => match resolve(name, low, high) {
                chosen if chosen == low || chosen == high => chosen,
                _ => low,
            },
            None => default_winner(low, high),
        }
    }
}

/// A change of one name, as streamed by [`NameWatch`](super::NameWatch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameChange {
    /// The name.
    pub name: String,
    /// Its owner now; `None` once it is released.
    pub owner: Option<ActorId>,
}

/// One node's replica, and the bookkeeping of registrations in flight.
pub(crate) struct GlobalNames {
    entries: Mutex<BTreeMap<String, GlobalEntry>>,
    /// Process groups: group name, then members (by id) with their protocol.
    groups: Mutex<BTreeMap<String, BTreeMap<ActorId, GlobalEntry>>>,
    /// Every change, for `watch`.
    events: tokio::sync::broadcast::Sender<NameChange>,
    /// Bumped on every change, so that waiters (`lookup_with_timeout`) wake on events.
    version: watch::Sender<u64>,
    /// Claims this node sent to a sequencer, and the commits answering them applied from a
    /// relay, whose copy from the sequencer is still to come.
    claims: Mutex<Claims>,
    /// Commits this node (as sequencer) waits to be acknowledged, by request.
    commits: Mutex<HashMap<u64, PendingCommit>>,
    /// Serializes the sequencer's decisions: held from a decision until every node has
    /// acknowledged it (its guard is kept with the pending commit). Shared, so that a decision
    /// can be taken in a connection's reader, with no task.
    pub(crate) deciding: Arc<tokio::sync::Mutex<()>>,
    /// How conflicts are settled; set once by the node builder.
    pub(crate) conflicts: std::sync::OnceLock<ConflictPolicy>,
    next_request: AtomicU64,
}

#[derive(Default)]
struct Claims {
    pending: HashMap<u64, PendingClaim>,
    /// (sequencer, commit) of the changes applied from a relay: the sequencer's `Decided`
    /// for them is then not applied again (a later change may have followed meanwhile).
    relayed: HashSet<(NodeId, u64)>,
}

/// A claim this node submitted, until it is answered.
struct PendingClaim {
    sequencer: NodeId,
    answer: oneshot::Sender<Decision>,
    granted: Option<OnGranted>,
    applied: Applying,
    /// The nodes heard from (their relay, or the sequencer's answer).
    heard: Vec<NodeId>,
    /// Once applied here: the nodes whose relay is still awaited.
    waiting: Option<Vec<NodeId>>,
}

/// Where a claim's change stands on the claimant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applying {
    NotYet,
    /// Being applied, from the first copy that arrived; the others only count as heard.
    Started,
    Done,
}

/// What to do once a claim is granted (set up the release of the name); run where the
/// claim is answered, off the caller's path.
pub(crate) type OnGranted = Box<dyn FnOnce() + Send>;

struct PendingCommit {
    waiting: HashSet<NodeId>,
    /// Whether the claimant may be waiting still: a node could not (or, having gone down, may
    /// not) relay the commit to it, or the claimant was not granted its claim when it applied
    /// the change.
    unsettled: bool,
    /// When to stop waiting: a later decision gives up on the commit then.
    deadline: Instant,
    done: OnApplied,
}

/// What to do once a commit is applied everywhere (it also lets the next decision go, by
/// dropping the `deciding` guard it holds).
pub(crate) type OnApplied = Box<dyn FnOnce(Applied) + Send>;

impl PendingClaim {
    /// Answers the caller, then runs what a granted claim sets up.
    fn resolve(self, result: Decision) {
        let granted = result.is_ok();
        let _ = self.answer.send(result);
        if let Some(on_granted) = self.granted.filter(|_| granted) {
            on_granted();
        }
    }
}

impl PendingCommit {
    fn finish(self) {
        (self.done)(Applied {
            unsettled: self.unsettled,
        });
    }
}

/// How a commit ended: every node applied it (or went down), and whether its claimant may be
/// waiting still (for a relay that will not come, or only later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Applied {
    pub(crate) unsettled: bool,
}

impl Default for GlobalNames {
    fn default() -> Self {
        GlobalNames {
            entries: Mutex::new(BTreeMap::new()),
            groups: Mutex::new(BTreeMap::new()),
            events: tokio::sync::broadcast::channel(1024).0,
            version: watch::channel(0).0,
            claims: Mutex::new(Claims::default()),
            commits: Mutex::new(HashMap::new()),
            deciding: Arc::new(tokio::sync::Mutex::new(())),
            conflicts: std::sync::OnceLock::new(),
            next_request: AtomicU64::new(1),
        }
    }
}

impl GlobalNames {
    pub(crate) fn conflict_policy(&self) -> ConflictPolicy {
        self.conflicts.get().cloned().unwrap_or_default()
    }

    pub(crate) fn next_request(&self) -> u64 {
        self.next_request.fetch_add(1, Ordering::Relaxed)
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    pub(crate) fn get(&self, name: &str) -> Option<GlobalEntry> {
        lock(&self.entries).get(name).cloned()
    }

    pub(crate) fn insert(&self, name: &str, entry: GlobalEntry) {
        let owner = entry.owner;
        lock(&self.entries).insert(name.to_owned(), entry);
        self.changed(name, Some(owner));
    }

    /// Wakes waiters and tells watchers that `name` now belongs to `owner` (or to no one).
    fn changed(&self, name: &str, owner: Option<ActorId>) {
        self.bump();
        let _ = self.events.send(NameChange {
            name: name.to_owned(),
            owner,
        });
    }

    pub(crate) fn watch(&self) -> tokio::sync::broadcast::Receiver<NameChange> {
        self.events.subscribe()
    }

    pub(crate) fn join(&self, group: &str, member: GlobalEntry) {
        lock(&self.groups)
            .entry(group.to_owned())
            .or_default()
            .insert(member.owner, member);
        self.bump();
    }

    /// Removes `member` from `group`; returns whether it was there.
    pub(crate) fn leave(&self, group: &str, member: ActorId) -> bool {
        let mut groups = lock(&self.groups);
        let Some(members) = groups.get_mut(group) else {
            return false;
        };
        let removed = members.remove(&member).is_some();
        if members.is_empty() {
            groups.remove(group);
        }
        drop(groups);
        if removed {
            self.bump();
        }
        removed
    }

    /// The members of `group`, sorted by id.
    pub(crate) fn members(&self, group: &str) -> Vec<GlobalEntry> {
        lock(&self.groups)
            .get(group)
            .map(|members| members.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every group with at least one member, sorted.
    pub(crate) fn group_names(&self) -> Vec<String> {
        lock(&self.groups).keys().cloned().collect()
    }

    pub(crate) fn group_snapshot(&self) -> Vec<(String, GlobalEntry)> {
        lock(&self.groups)
            .iter()
            .flat_map(|(group, members)| members.values().map(|member| (group.clone(), member.clone())))
            .collect()
    }

    /// Removes `name` if `owner` holds it; returns whether it did.
    pub(crate) fn remove_if_owner(&self, name: &str, owner: ActorId) -> bool {
        let removed = {
            let mut entries = lock(&self.entries);
            if entries.get(name).is_some_and(|entry| entry.owner == owner) {
                entries.remove(name);
                true
            } else {
                false
            }
        };
        if removed {
            self.changed(name, None);
        }
        removed
    }

    /// Removes every name and group membership held by an actor of `node` (it went down).
    pub(crate) fn remove_node(&self, node: NodeId) {
        let gone: Vec<String> = {
            let mut entries = lock(&self.entries);
            let gone = entries
                .iter()
                .filter(|(_, entry)| entry.owner.node() == node)
                .map(|(name, _)| name.clone())
                .collect();
            entries.retain(|_, entry| entry.owner.node() != node);
            gone
        };
        {
            let mut groups = lock(&self.groups);
            for members in groups.values_mut() {
                members.retain(|id, _| id.node() != node);
            }
            groups.retain(|_, members| !members.is_empty());
        }
        self.bump();
        for name in gone {
            self.changed(&name, None);
        }
    }

    /// Every name starting with `prefix`, sorted.
    pub(crate) fn names(&self, prefix: &str) -> Vec<String> {
        lock(&self.entries)
            .range(prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub(crate) fn snapshot(&self) -> Vec<(String, GlobalEntry)> {
        lock(&self.entries)
            .iter()
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Merges a peer's group memberships (a union).
    pub(crate) fn merge_groups(&self, members: Vec<(String, GlobalEntry)>) {
        for (group, member) in members {
            self.join(&group, member);
        }
    }

    /// Merges a peer's replica. Returns the owners that lost a conflict.
    pub(crate) fn merge(&self, entries: Vec<(String, GlobalEntry)>) -> Vec<(String, ActorId, ActorId)> {
        let mut losers = Vec::new();
        let mut changed = Vec::new();
        {
            let mut mine = lock(&self.entries);
            for (name, theirs) in entries {
                match mine.get(&name) {
                    None => {
                        changed.push((name.clone(), theirs.owner));
                        mine.insert(name, theirs);
                    }
                    Some(ours) if ours.owner == theirs.owner => {}
                    Some(ours) => {
                        let winner = self.conflict_policy().winner(&name, ours.owner, theirs.owner);
                        let loser = if winner == ours.owner {
                            theirs.owner
                        } else {
                            ours.owner
                        };
                        if winner == theirs.owner {
                            changed.push((name.clone(), winner));
                            mine.insert(name.clone(), theirs);
                        }
                        losers.push((name, winner, loser));
                    }
                }
            }
        }
        self.bump();
        for (name, owner) in changed {
            self.changed(&name, Some(owner));
        }
        losers
    }

    /// Registers claim `request`, sent to `sequencer`; the receiver gets its outcome, and
    /// `granted` runs if it is granted.
    pub(crate) fn expect_claim(
        &self,
        request: u64,
        sequencer: NodeId,
        granted: Option<OnGranted>,
    ) -> oneshot::Receiver<Decision> {
        let (answer, rx) = oneshot::channel();
        lock(&self.claims).pending.insert(
            request,
            PendingClaim {
                sequencer,
                answer,
                granted,
                applied: Applying::NotYet,
                heard: Vec::new(),
                waiting: None,
            },
        );
        rx
    }

    pub(crate) fn forget_claim(&self, request: u64) {
        lock(&self.claims).pending.remove(&request);
    }

    /// The sequencer `from` gave its final answer to claim `request`.
    pub(crate) fn on_claim_reply(&self, request: u64, from: NodeId, result: Decision) {
        let answered = {
            let mut claims = lock(&self.claims);
            match claims.pending.get(&request) {
                Some(claim) if claim.sequencer == from => claims.pending.remove(&request),
                _ => None,
            }
        };
        if let Some(claim) = answered {
            claim.resolve(result);
        }
    }

    /// Commit `commit`, answering claim `request`, arrived from `from`: the sequencer's
    /// `Decided` (`decided`) or a node's relay. Returns the sequencer to acknowledge it to if
    /// it is to be applied here: the first copy is, and a `Decided` for no known claim (it
    /// may have timed out) unless a relay was applied already; a relay for no known claim is
    /// not (the sequencer's copy will be).
    pub(crate) fn take_change(
        &self,
        request: u64,
        commit: u64,
        from: NodeId,
        decided: bool,
    ) -> Option<NodeId> {
        let mut claims = lock(&self.claims);
        let Claims { pending, relayed } = &mut *claims;
        if decided && relayed.remove(&(from, commit)) {
            return None;
        }
        let claim = pending
            .get_mut(&request)
            .filter(|claim| !decided || claim.sequencer == from);
        match claim {
            None => decided.then_some(from),
            Some(claim) if claim.applied == Applying::NotYet => {
                claim.applied = Applying::Started;
                if !decided {
                    relayed.insert((claim.sequencer, commit));
                }
                Some(claim.sequencer)
            }
            Some(_) => None,
        }
    }

    /// `from` answered claim `request` (a relay, or the sequencer's `Decided`); with
    /// `applied`, the change is now applied here, and `others`, the nodes the change went to,
    /// are the ones to hear from (only the call that applied it reads them). The claim is
    /// granted once it is applied and every one of `others` was heard from. Returns whether the
    /// claim is settled here: granted, or not known (any more). The caller leaves out the
    /// nodes it is not connected to, which will not answer; `others` is consumed under the lock
    /// that [`claims_without`](Self::claims_without) takes, so that a node seen up there and
    /// going down later is dropped from the wait.
    pub(crate) fn heard(
        &self,
        request: u64,
        from: NodeId,
        decided: bool,
        applied: bool,
        others: impl IntoIterator<Item = NodeId>,
    ) -> bool {
        let granted = {
            let mut claims = lock(&self.claims);
            let Some(claim) = claims
                .pending
                .get_mut(&request)
                .filter(|claim| !decided || claim.sequencer == from)
            else {
                return true;
            };
            if !claim.heard.contains(&from) {
                claim.heard.push(from);
            }
            if applied {
                claim.applied = Applying::Done;
            }
            if claim.applied != Applying::Done {
                return false;
            }
            let heard = &claim.heard;
            let waiting = claim.waiting.get_or_insert_with(|| others.into_iter().collect());
            waiting.retain(|node| !heard.contains(node));
            if !waiting.is_empty() {
                return false;
            }
            claims.pending.remove(&request)
        };
        if let Some(claim) = granted {
            claim.resolve(Ok(()));
        }
        true
    }

    /// `node` went down: the claims it was sequencing fail (their callers retry with the next
    /// sequencer), and the others no longer wait for it.
    pub(crate) fn claims_without(&self, node: NodeId) {
        let granted: Vec<PendingClaim> = {
            let mut claims = lock(&self.claims);
            claims.pending.retain(|_, claim| claim.sequencer != node);
            claims.relayed.retain(|(sequencer, _)| *sequencer != node);
            let done: Vec<u64> = claims
                .pending
                .iter_mut()
                .filter_map(|(request, claim)| {
                    let waiting = claim.waiting.as_mut()?;
                    waiting.retain(|waited| *waited != node);
                    waiting.is_empty().then_some(*request)
                })
                .collect();
            done.into_iter()
                .filter_map(|request| claims.pending.remove(&request))
                .collect()
        };
        for claim in granted {
            claim.resolve(Ok(()));
        }
    }

    /// Waits for `nodes` to acknowledge commit `request` (or to go down) until `deadline`, then
    /// calls `done`, at once if there are none. `done` is called without any lock held.
    pub(crate) fn expect_acks(
        &self,
        request: u64,
        nodes: HashSet<NodeId>,
        deadline: Instant,
        done: OnApplied,
    ) {
        if nodes.is_empty() {
            done(Applied { unsettled: false });
            return;
        }
        lock(&self.commits).insert(
            request,
            PendingCommit {
                waiting: nodes,
                unsettled: false,
                deadline,
                done,
            },
        );
    }

    /// `node` acknowledged commit `request`, telling whether the claimant is settled.
    pub(crate) fn acked(&self, request: u64, node: NodeId, settled: bool) {
        let finished = {
            let mut commits = lock(&self.commits);
            let finished = commits.get_mut(&request).is_some_and(|pending| {
                if pending.waiting.remove(&node) && !settled {
                    pending.unsettled = true;
                }
                pending.waiting.is_empty()
            });
            if finished {
                commits.remove(&request)
            } else {
                None
            }
        };
        if let Some(pending) = finished {
            pending.finish();
        }
    }

    /// `node` went down: no commit waits for it any more, and it may not have relayed them.
    pub(crate) fn commits_without(&self, node: NodeId) {
        self.finish_commits(|pending| {
            if pending.waiting.remove(&node) {
                pending.unsettled = true;
            }
            pending.waiting.is_empty()
        });
    }

    /// Gives up on the commits whose deadline passed (their claimants are told). Returns the
    /// earliest deadline of those left.
    pub(crate) fn expire_commits(&self, now: Instant) -> Option<Instant> {
        self.finish_commits(|pending| {
            if pending.deadline <= now {
                pending.unsettled = true;
            }
            pending.deadline <= now
        });
        lock(&self.commits).values().map(|pending| pending.deadline).min()
    }

    /// Finishes the commits for which `done` says so, outside the lock.
    fn finish_commits(&self, mut done: impl FnMut(&mut PendingCommit) -> bool) {
        let finished: Vec<PendingCommit> = {
            let mut commits = lock(&self.commits);
            let requests: Vec<u64> = commits
                .iter_mut()
                .filter_map(|(request, pending)| done(pending).then_some(*request))
                .collect();
            requests
                .into_iter()
                .filter_map(|request| commits.remove(&request))
                .collect()
        };
        for pending in finished {
            pending.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(node: u64, local: u64) -> ActorId {
        ActorId::new(NodeId::from_u64(node), local)
    }

    fn entry(owner: ActorId) -> GlobalEntry {
        GlobalEntry {
            owner,
            fingerprint: 1,
            type_name: "T".into(),
        }
    }

    #[test]
    fn merges_agree_on_the_lowest_owner_whichever_side_merges() {
        let (low, high) = (id(1, 9), id(2, 1));
        let left = GlobalNames::default();
        let right = GlobalNames::default();
        left.insert("svc", entry(high));
        right.insert("svc", entry(low));
        let from_right = right.snapshot();
        let from_left = left.snapshot();
        assert_eq!(left.merge(from_right), vec![("svc".into(), low, high)]);
        assert_eq!(right.merge(from_left), vec![("svc".into(), low, high)]);
        assert_eq!(left.snapshot(), right.snapshot());
    }

    #[test]
    fn names_by_prefix_and_removal_by_node() {
        let names = GlobalNames::default();
        names.insert("db.primary", entry(id(1, 1)));
        names.insert("db.replica", entry(id(2, 1)));
        names.insert("web", entry(id(2, 2)));
        assert_eq!(
            names.names("db."),
            vec!["db.primary".to_string(), "db.replica".to_string()]
        );
        names.remove_node(NodeId::from_u64(2));
        assert_eq!(names.names(""), vec!["db.primary".to_string()]);
        assert!(!names.remove_if_owner("db.primary", id(9, 9)));
        assert!(names.remove_if_owner("db.primary", id(1, 1)));
    }

    /// A commit's outcome, once it is applied everywhere.
    fn expect(
        names: &GlobalNames,
        request: u64,
        nodes: &[u64],
        deadline: Instant,
    ) -> oneshot::Receiver<Applied> {
        let (tx, rx) = oneshot::channel();
        names.expect_acks(
            request,
            nodes.iter().map(|n| node(*n)).collect(),
            deadline,
            Box::new(move |applied| {
                let _ = tx.send(applied);
            }),
        );
        rx
    }

    #[test]
    fn commits_finish_when_every_node_acked_or_went_down() {
        let names = GlobalNames::default();
        let later = Instant::now() + std::time::Duration::from_secs(60);
        let mut rx = expect(&names, 7, &[1, 2], later);
        names.acked(7, node(1), true);
        assert!(rx.try_recv().is_err());
        names.commits_without(node(2));
        assert_eq!(rx.try_recv(), Ok(Applied { unsettled: true }));
        let mut rx = expect(&names, 8, &[1, 2], later);
        names.acked(8, node(1), true);
        names.acked(8, node(2), true);
        assert_eq!(rx.try_recv(), Ok(Applied { unsettled: false }));
        let mut rx = expect(&names, 9, &[1], later);
        names.acked(9, node(1), false);
        assert_eq!(rx.try_recv(), Ok(Applied { unsettled: true }));
        let mut rx = expect(&names, 10, &[], later);
        assert_eq!(rx.try_recv(), Ok(Applied { unsettled: false }));
    }

    #[test]
    fn overdue_commits_are_given_up_and_the_others_kept() {
        let names = GlobalNames::default();
        let now = Instant::now();
        let (soon, later) = (
            now + std::time::Duration::from_secs(1),
            now + std::time::Duration::from_secs(60),
        );
        let mut overdue = expect(&names, 7, &[1], soon);
        let mut pending = expect(&names, 8, &[1], later);
        assert_eq!(names.expire_commits(now), Some(soon));
        assert!(overdue.try_recv().is_err());
        assert_eq!(names.expire_commits(soon), Some(later));
        assert_eq!(overdue.try_recv(), Ok(Applied { unsettled: true }));
        assert!(pending.try_recv().is_err());
        names.acked(8, node(1), true);
        assert_eq!(pending.try_recv(), Ok(Applied { unsettled: false }));
        assert_eq!(names.expire_commits(later), None);
    }

    fn node(n: u64) -> NodeId {
        NodeId::from_u64(n)
    }

    /// The claimant's side of one answer to claim `request`, as `on_answer` drives it: the
    /// copy is applied if `take_change` says so, then counted. Returns whom to acknowledge
    /// the commit to, and whether the claim is settled then.
    fn answer(
        names: &GlobalNames,
        request: u64,
        from: u64,
        decided: bool,
        others: &[u64],
    ) -> (Option<NodeId>, bool) {
        let ack_to = names.take_change(request, 9, node(from), decided);
        let others: Vec<NodeId> = others.iter().map(|n| node(*n)).collect();
        let settled = names.heard(request, node(from), decided, ack_to.is_some(), others);
        (ack_to, settled)
    }

    #[test]
    fn a_claim_is_granted_once_applied_and_relayed_by_every_other_node_in_any_order() {
        let names = GlobalNames::default();
        let mut rx = names.expect_claim(4, node(1), None);
        // A relay overtakes the sequencer's answer: it is the copy applied, and acknowledged
        // to the sequencer as not settled yet (node 2 is still to relay).
        assert_eq!(answer(&names, 4, 3, false, &[2, 3]), (Some(node(1)), false));
        assert!(rx.try_recv().is_err());
        // The sequencer's copy is not applied again.
        assert_eq!(answer(&names, 4, 1, true, &[2, 3]).0, None);
        assert!(rx.try_recv().is_err());
        assert_eq!(answer(&names, 4, 2, false, &[2, 3]), (None, true));
        assert_eq!(rx.try_recv(), Ok(Ok(())));
        // Nor is a late relay once the claim is done.
        assert_eq!(answer(&names, 4, 3, false, &[2, 3]).0, None);
    }

    #[test]
    fn the_sequencers_answer_alone_grants_a_claim_no_other_node_is_to_relay() {
        let names = GlobalNames::default();
        let (granted, mut ran) = oneshot::channel();
        let mut rx = names.expect_claim(
            4,
            node(1),
            Some(Box::new(move || {
                let _ = granted.send(());
            })),
        );
        assert_eq!(answer(&names, 4, 1, true, &[]), (Some(node(1)), true));
        assert_eq!(rx.try_recv(), Ok(Ok(())));
        assert_eq!(ran.try_recv(), Ok(()));
    }

    #[test]
    fn a_claim_is_not_granted_before_its_change_is_applied() {
        let names = GlobalNames::default();
        let mut rx = names.expect_claim(4, node(1), None);
        // The sequencer's copy is being applied when the only relay arrives.
        assert_eq!(names.take_change(4, 9, node(1), true), Some(node(1)));
        assert_eq!(answer(&names, 4, 3, false, &[3]), (None, false));
        assert!(rx.try_recv().is_err());
        assert!(names.heard(4, node(1), true, true, vec![node(3)]));
        assert_eq!(rx.try_recv(), Ok(Ok(())));
    }

    #[test]
    fn an_answer_to_no_known_claim_is_applied_only_from_the_sequencer() {
        let names = GlobalNames::default();
        assert_eq!(answer(&names, 4, 3, false, &[3]), (None, true));
        assert_eq!(answer(&names, 4, 1, true, &[3]), (Some(node(1)), true));
    }

    #[test]
    fn only_the_sequencer_answers_or_grants_a_claim() {
        let names = GlobalNames::default();
        let (granted, mut ran) = oneshot::channel();
        let mut rx = names.expect_claim(
            4,
            node(1),
            Some(Box::new(move || {
                let _ = granted.send(());
            })),
        );
        // Another node's `Decided` is applied as a commit, but answers nothing.
        assert_eq!(answer(&names, 4, 2, true, &[]).0, Some(node(2)));
        names.on_claim_reply(4, node(2), Err(None));
        assert!(rx.try_recv().is_err());
        names.on_claim_reply(4, node(1), Err(None));
        assert_eq!(rx.try_recv(), Ok(Err(None)));
        assert!(ran.try_recv().is_err());
    }

    #[test]
    fn a_node_going_down_is_not_waited_for_and_a_sequencer_going_down_fails_its_claims() {
        let names = GlobalNames::default();
        let mut waiting = names.expect_claim(4, node(1), None);
        let mut undecided = names.expect_claim(5, node(1), None);
        let mut elsewhere = names.expect_claim(6, node(2), None);
        answer(&names, 4, 1, true, &[3]);
        names.claims_without(node(3));
        assert_eq!(waiting.try_recv(), Ok(Ok(())));
        assert!(undecided.try_recv().is_err());
        names.claims_without(node(1));
        assert_eq!(undecided.try_recv(), Err(oneshot::error::TryRecvError::Closed));
        assert!(elsewhere.try_recv().is_err());
    }

    #[test]
    fn the_final_reply_ends_a_claim_still_waiting_for_relays() {
        let names = GlobalNames::default();
        let mut rx = names.expect_claim(4, node(1), None);
        assert_eq!(answer(&names, 4, 1, true, &[3]), (Some(node(1)), false));
        assert!(rx.try_recv().is_err());
        names.on_claim_reply(4, node(1), Ok(()));
        assert_eq!(rx.try_recv(), Ok(Ok(())));
    }

    #[test]
    fn registry_messages_round_trip_and_garbage_fails() {
        let msg = RegistryMsg::Claim {
            request: 3,
            name: "svc".into(),
            entry: entry(id(1, 2)),
        };
        let decided = RegistryMsg::Decided {
            request: 3,
            commit: 9,
            change: Committed::Released {
                name: "svc".into(),
                owner: id(1, 2),
            },
            others: vec![node(2), node(5)],
        };
        let commit = RegistryMsg::Commit {
            request: 9,
            change: Committed::Registered {
                name: "svc".into(),
                entry: entry(id(1, 2)),
            },
            claimant: Some(Claimant {
                node: node(1),
                request: 3,
                others: vec![node(2)],
            }),
        };
        let relayed = RegistryMsg::Relayed {
            request: 3,
            commit: 9,
            change: Committed::Registered {
                name: "svc".into(),
                entry: entry(id(1, 2)),
            },
            others: vec![node(2)],
        };
        for msg in [msg, decided, commit, relayed] {
            let mut out = Vec::new();
            assert!(msg.encode(&mut out).is_ok());
            assert_eq!(RegistryMsg::decode(&out), Ok(msg.clone()));
            // Cut short anywhere, it fails to decode rather than panicking.
            for len in 0..out.len() {
                assert!(RegistryMsg::decode(&out[..len]).is_err());
            }
        }
        assert!(RegistryMsg::decode(&[0xFF; 3]).is_err());
    }
}
