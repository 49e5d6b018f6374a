//! The cluster-wide registry: a replica of every name on every connected node.
//!
//! Reads ([`Node::lookup`](crate::Node::lookup)) are local. Writes are ordered by one node,
//! the *sequencer*: the connected node with the lowest id (every node of a connected mesh
//! agrees on it). A registration goes to the sequencer, which checks its replica, records the
//! name, sends it to every connected node and answers once each has acknowledged it (or gone
//! down): `register_global` returns only when the name is everywhere, and of concurrent
//! registrations of one name exactly one wins. A name is released by its owner, when its actor
//! stops for good, or when its node goes down. When two nodes connect they exchange their
//! replicas; a name registered on both sides of a partition keeps the owner with the lowest
//! (node id, actor id) on every node, and the loser is stopped, as OTP's global does.
//!
//! This is a registry with deterministic conflict resolution, not consensus: while nodes
//! cannot see each other, each side registers on its own, and the merge settles it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};

use crate::actor::{ActorId, NodeId};
use crate::codec::{Bincode, Codec, CodecError};

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
    /// From the sequencer to the claimant: done, or refused with the name's owner (none for
    /// an unclaim of a name no one holds).
    ClaimReply {
        request: u64,
        result: Result<(), Option<ActorId>>,
    },
    /// From the sequencer to every node: record `name`.
    Commit {
        request: u64,
        name: String,
        entry: GlobalEntry,
    },
    /// To the sequencer: the commit is recorded.
    CommitAck { request: u64 },
    /// From the sequencer to every node: `owner` released `name`; acknowledged like a commit.
    Release {
        request: u64,
        name: String,
        owner: ActorId,
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// Claims this node sent to a sequencer, by request.
    claims: Mutex<HashMap<u64, oneshot::Sender<Decision>>>,
    /// Commits this node (as sequencer) waits to be acknowledged, by request.
    commits: Mutex<HashMap<u64, PendingCommit>>,
    /// Serializes the sequencer's decisions.
    pub(crate) deciding: tokio::sync::Mutex<()>,
    /// How conflicts are settled; set once by the node builder.
    pub(crate) conflicts: std::sync::OnceLock<ConflictPolicy>,
    next_request: AtomicU64,
}

struct PendingCommit {
    waiting: HashSet<NodeId>,
    done: Option<oneshot::Sender<()>>,
}

impl Default for GlobalNames {
    fn default() -> Self {
        GlobalNames {
            entries: Mutex::new(BTreeMap::new()),
            groups: Mutex::new(BTreeMap::new()),
            events: tokio::sync::broadcast::channel(1024).0,
            version: watch::channel(0).0,
            claims: Mutex::new(HashMap::new()),
            commits: Mutex::new(HashMap::new()),
            deciding: tokio::sync::Mutex::new(()),
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

    pub(crate) fn expect_claim(&self, request: u64) -> oneshot::Receiver<Decision> {
        let (tx, rx) = oneshot::channel();
        lock(&self.claims).insert(request, tx);
        rx
    }

    pub(crate) fn forget_claim(&self, request: u64) {
        lock(&self.claims).remove(&request);
    }

    pub(crate) fn on_claim_reply(&self, request: u64, result: Decision) {
        if let Some(tx) = lock(&self.claims).remove(&request) {
            let _ = tx.send(result);
        }
    }

    /// Waits for `nodes` to acknowledge commit `request` (or to go down).
    pub(crate) fn expect_acks(&self, request: u64, nodes: HashSet<NodeId>) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        if nodes.is_empty() {
            let _ = tx.send(());
        } else {
            lock(&self.commits).insert(
                request,
                PendingCommit {
                    waiting: nodes,
                    done: Some(tx),
                },
            );
        }
        rx
    }

    /// `node` acknowledged commit `request`, or (with `None`) went down: it is no longer
    /// waited for.
    pub(crate) fn acked(&self, request: Option<u64>, node: NodeId) {
        let mut commits = lock(&self.commits);
        let requests: Vec<u64> = match request {
            Some(request) => vec![request],
            None => commits.keys().copied().collect(),
        };
        for request in requests {
            let finished = commits.get_mut(&request).is_some_and(|pending| {
                pending.waiting.remove(&node);
                pending.waiting.is_empty()
            });
            if finished {
                if let Some(tx) = commits
                    .remove(&request)
                    .and_then(|mut pending| pending.done.take())
                {
                    let _ = tx.send(());
                }
            }
        }
    }

    /// Fails the claims waiting on a sequencer that went down; their callers retry.
    pub(crate) fn drop_claims(&self) {
        lock(&self.claims).clear();
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

    #[test]
    fn commits_finish_when_every_node_acked_or_went_down() {
        let names = GlobalNames::default();
        let mut rx = names.expect_acks(7, [NodeId::from_u64(1), NodeId::from_u64(2)].into());
        names.acked(Some(7), NodeId::from_u64(1));
        assert!(rx.try_recv().is_err());
        names.acked(None, NodeId::from_u64(2));
        assert_eq!(rx.try_recv(), Ok(()));
    }

    #[test]
    fn registry_messages_round_trip_and_garbage_fails() {
        let msg = RegistryMsg::Claim {
            request: 3,
            name: "svc".into(),
            entry: entry(id(1, 2)),
        };
        let mut out = Vec::new();
        assert!(msg.encode(&mut out).is_ok());
        assert_eq!(RegistryMsg::decode(&out), Ok(msg));
        assert!(RegistryMsg::decode(&[0xFF; 3]).is_err());
    }
}
