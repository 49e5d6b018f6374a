//! The [`History`] of a simulated run, and the checks every fault test shares.
//!
//! A run records what the scenario did (registrations, lookups, calls, partitions, crashes)
//! and what every node saw (its [`NodeEvent`]s), each with the simulated time and the node.
//! [`History::check`] then judges the run against the final state of the cluster: after the
//! last heal every node holds the same owner for every name; every node emitted exactly one
//! `NameConflict` per name the two sides disagreed on when they healed, and none for other
//! names; no acknowledged registration is lost while its owner lives; and every call ended
//! with a reply or a typed error. The checks are plain functions of the history and the
//! final state, so they are tested without a simulation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::actor::{ActorId, NodeId};
use crate::lock::lock;
use crate::net::NodeEvent;

/// One node's registry as a heal found it: the node's index and the owner of each name it
/// held, sorted by name.
pub type HealView = (usize, Vec<(String, ActorId)>);

/// What one entry of a history records.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// A node started (its first start or a restart), with this id.
    Started {
        /// The incarnation's id.
        id: NodeId,
        /// 0 for the first start, then one more per restart.
        incarnation: u32,
    },
    /// The node crashed: everything on it vanished.
    Crashed,
    /// The node saw this event.
    Event(NodeEvent),
    /// The links between the nodes of `a` and those of `b` were cut.
    Partition {
        /// One side.
        a: Vec<usize>,
        /// The other side.
        b: Vec<usize>,
    },
    /// Every link was repaired. `views` is each running node's registry just before.
    Heal {
        /// Node index and the owner of each name it held, sorted by name.
        views: Vec<HealView>,
    },
    /// A registration of `name` for `actor` asked of the node ended: `Ok` if acknowledged,
    /// else the error, as text.
    Register {
        /// The name.
        name: String,
        /// The actor to register.
        actor: ActorId,
        /// The outcome.
        outcome: Result<(), String>,
    },
    /// The scenario released `name` (held by `actor`) through the node.
    Unregister {
        /// The name.
        name: String,
        /// Its owner.
        actor: ActorId,
        /// The outcome.
        outcome: Result<(), String>,
    },
    /// A lookup of `name` on the node found this owner, or failed.
    Lookup {
        /// The name.
        name: String,
        /// The owner found, or the error as text.
        found: Result<ActorId, String>,
    },
    /// Call number `call` to `target` began on the node; it must end by `deadline`.
    CallStarted {
        /// The call's number in this history.
        call: u64,
        /// The actor called.
        target: ActorId,
        /// When it must have ended (its timeout, from its start).
        deadline: Duration,
    },
    /// Call number `call` ended: with a reply, with a typed error (as text), or because the
    /// calling node crashed.
    CallEnded {
        /// The call's number.
        call: u64,
        /// The outcome.
        outcome: Result<(), String>,
    },
    /// A note from the scenario, kept in the trace.
    Note(String),
}

/// One entry: when, where, what.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Simulated time since the start.
    pub at: Duration,
    /// The node it happened on (`None`: the cluster as a whole).
    pub node: Option<usize>,
    /// What happened.
    pub op: Op,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.as_secs_f64();
        match self.node {
            Some(node) => write!(f, "{at:>9.3}s node-{node:<3} {:?}", self.op),
            None => write!(f, "{at:>9.3}s cluster  {:?}", self.op),
        }
    }
}

/// Everything a simulated run recorded, in order. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct History {
    inner: Arc<Mutex<Record>>,
}

#[derive(Debug, Default)]
struct Record {
    entries: Vec<Entry>,
    clock: Duration,
    next_call: u64,
}

impl History {
    /// A copy of the entries so far.
    pub fn entries(&self) -> Vec<Entry> {
        lock(&self.inner).entries.clone()
    }

    /// The entries as lines of text: two runs of one seed give the same lines.
    pub fn trace(&self) -> Vec<String> {
        lock(&self.inner)
            .entries
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Records `op` on node `node`, now.
    pub fn record(&self, node: usize, op: Op) {
        self.push(Some(node), op);
    }

    /// Records `op` for the cluster as a whole, now.
    pub fn record_cluster(&self, op: Op) {
        self.push(None, op);
    }

    /// A number for a new call.
    pub(crate) fn next_call(&self) -> u64 {
        let mut record = lock(&self.inner);
        record.next_call += 1;
        record.next_call
    }

    /// The simulated time, as the driver last saw it (for entries recorded outside a host).
    pub(crate) fn set_clock(&self, now: Duration) {
        lock(&self.inner).clock = now;
    }

    fn push(&self, node: Option<usize>, op: Op) {
        let mut record = lock(&self.inner);
        let at = turmoil::sim_elapsed().unwrap_or(record.clock).max(record.clock);
        record.entries.push(Entry { at, node, op });
    }

    /// Judges the history against the cluster's final state: see the [module](crate::testing) docs.
    /// Every broken property is reported, not only the first.
    pub fn check(&self, end: &FinalState) -> Result<(), Violations> {
        let entries = self.entries();
        let mut found = Vec::new();
        found.extend(check_agreement(end));
        found.extend(check_conflict_events(&entries, end));
        found.extend(check_acknowledged(&entries, end));
        found.extend(check_calls(&entries, end.at));
        if found.is_empty() {
            Ok(())
        } else {
            Err(Violations(found))
        }
    }
}

/// The cluster as it stands when a history is checked.
#[derive(Debug, Clone, Default)]
pub struct FinalState {
    /// Simulated time of the check.
    pub at: Duration,
    /// Each running node: its index, its id, and the owner of each name in its replica.
    pub nodes: Vec<NodeView>,
    /// Every actor that is alive, on a running node.
    pub alive: BTreeSet<ActorId>,
}

/// One running node's view, for [`FinalState`].
#[derive(Debug, Clone)]
pub struct NodeView {
    /// The node's index.
    pub index: usize,
    /// Its running incarnation's id.
    pub id: NodeId,
    /// When that incarnation started.
    pub since: Duration,
    /// The owner of each name in its replica.
    pub names: BTreeMap<String, ActorId>,
}

/// A property a history broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// Running nodes disagree on the owner of `name` (`None`: the node does not hold it).
    Disagreement {
        /// The name.
        name: String,
        /// Each running node and the owner it holds.
        owners: Vec<(usize, Option<ActorId>)>,
    },
    /// After a heal, `node` reported `count` times that `loser` lost `name`, where exactly
    /// once was due (every node that ran through the heal reports every conflict once).
    ConflictEvents {
        /// The name.
        name: String,
        /// The owner that lost it.
        loser: ActorId,
        /// The node.
        node: usize,
        /// How many times it reported it.
        count: usize,
    },
    /// Nodes settled a conflict over `name` both ways: `a` lost it to `b`, and `b` to `a`.
    Contradiction {
        /// The name.
        name: String,
        /// One owner.
        a: ActorId,
        /// The other.
        b: ActorId,
    },
    /// `node` reported that `loser` lost `name`, which it never held (no acknowledged
    /// registration, and no node held it at a heal).
    Unfounded {
        /// The name.
        name: String,
        /// The owner said to have lost it.
        loser: ActorId,
        /// The node.
        node: usize,
    },
    /// `node` reported that `loser` lost `name` in an incarnation that started after every
    /// node that ran through the heal had reported it: news of a conflict settled before the
    /// node existed.
    Stale {
        /// The name.
        name: String,
        /// The owner that lost it.
        loser: ActorId,
        /// The node.
        node: usize,
    },
    /// An acknowledged registration of `name` for a living `owner` is not what `node` holds.
    Lost {
        /// The name.
        name: String,
        /// The owner acknowledged, still alive.
        owner: ActorId,
        /// The node that lost it.
        node: usize,
        /// What that node holds instead.
        holds: Option<ActorId>,
    },
    /// Call number `call` to `target` neither replied nor failed by its deadline.
    Hung {
        /// The call's number.
        call: u64,
        /// The node it was made on.
        node: usize,
        /// The actor called.
        target: ActorId,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Disagreement { name, owners } => {
                write!(f, "nodes disagree on the owner of {name:?}:")?;
                for (node, owner) in owners {
                    match owner {
                        Some(owner) => write!(f, " node-{node}={owner}")?,
                        None => write!(f, " node-{node}=none")?,
                    }
                }
                Ok(())
            }
            Violation::ConflictEvents {
                name,
                loser,
                node,
                count,
            } => write!(
                f,
                "node-{node} reported {count} times that {loser} lost {name:?}; exactly once was due"
            ),
            Violation::Contradiction { name, a, b } => {
                write!(f, "{a} and {b} were each reported to have lost {name:?} to the other")
            }
            Violation::Unfounded { name, loser, node } => {
                write!(f, "node-{node} reported that {loser} lost {name:?}, which it never held")
            }
            Violation::Stale { name, loser, node } => write!(
                f,
                "node-{node} reported that {loser} lost {name:?} in an incarnation that started after the conflict was settled everywhere"
            ),
            Violation::Lost {
                name,
                owner,
                node,
                holds,
            } => write!(
                f,
                "the acknowledged registration of {name:?} for {owner} (alive) is lost on node-{node}, which holds {holds:?}"
            ),
            Violation::Hung { call, node, target } => {
                write!(f, "call #{call} from node-{node} to {target} never ended")
            }
        }
    }
}

/// Every property a history broke, from [`History::check`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violation(s):", self.0.len())?;
        for violation in &self.0 {
            write!(f, "\n  - {violation}")?;
        }
        Ok(())
    }
}

/// Every running node holds the same owner for every name.
fn check_agreement(end: &FinalState) -> Vec<Violation> {
    let names: BTreeSet<&String> = end.nodes.iter().flat_map(|view| view.names.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let owners: Vec<(usize, Option<ActorId>)> = end
                .nodes
                .iter()
                .map(|view| (view.index, view.names.get(name).copied()))
                .collect();
            let first = owners.first().map(|(_, owner)| *owner);
            let agree = owners.iter().all(|(_, owner)| Some(*owner) == first);
            (!agree).then(|| Violation::Disagreement {
                name: name.clone(),
                owners,
            })
        })
        .collect()
}

/// The names the nodes' views held with different owners when the links were repaired,
/// with those owners.
fn conflicting(views: &[(usize, Vec<(String, ActorId)>)]) -> BTreeMap<String, BTreeSet<ActorId>> {
    let mut owners: BTreeMap<String, BTreeSet<ActorId>> = BTreeMap::new();
    for (_, names) in views {
        for (name, owner) in names {
            owners.entry(name.clone()).or_default().insert(*owner);
        }
    }
    owners.retain(|_, owners| owners.len() > 1);
    owners
}

/// The nodes that ran through the last heal (started before it, not crashed or restarted
/// since), with the time from which all of them were up.
fn steady_nodes<'a>(
    entries: &[Entry],
    end: &'a FinalState,
    heal_at: Duration,
) -> (Vec<&'a NodeView>, Duration) {
    let restarted: BTreeSet<usize> = entries
        .iter()
        .filter(|entry| entry.at >= heal_at && matches!(entry.op, Op::Crashed | Op::Started { .. }))
        .filter_map(|entry| entry.node)
        .collect();
    let steady: Vec<&NodeView> = end
        .nodes
        .iter()
        .filter(|view| view.since <= heal_at && !restarted.contains(&view.index))
        .collect();
    let since = steady.iter().map(|view| view.since).max().unwrap_or_default();
    (steady, since)
}

/// How often each node reported each (name, loser) from `since` on.
fn reported(entries: &[Entry], since: Duration) -> BTreeMap<usize, BTreeMap<(String, ActorId), usize>> {
    let mut counts: BTreeMap<usize, BTreeMap<(String, ActorId), usize>> = BTreeMap::new();
    for entry in entries.iter().filter(|entry| entry.at >= since) {
        if let (Some(node), Op::Event(NodeEvent::NameConflict { name, loser, .. })) = (entry.node, &entry.op)
        {
            *counts
                .entry(node)
                .or_default()
                .entry((name.clone(), *loser))
                .or_default() += 1;
        }
    }
    counts
}

/// Every conflict is reported exactly once on every node that ran through the last heal:
/// each (name, loser) once per node; the same conflicts on every such node (those whose
/// loser's node ran through the heal too: a crashed node announces nothing); every owner the
/// nodes held at the heal that did not keep the name among them; and none about an owner
/// that never held the name.
fn check_conflict_events(entries: &[Entry], end: &FinalState) -> Vec<Violation> {
    let Some((heal_at, views)) = last_heal(entries) else {
        return Vec::new();
    };
    let (steady, since) = steady_nodes(entries, end, heal_at);
    let steady_ids: BTreeSet<NodeId> = steady.iter().map(|view| view.id).collect();
    let counts = reported(entries, since);
    let mut due: BTreeSet<(String, ActorId)> = BTreeSet::new();
    for (_, pairs) in counts
        .iter()
        .filter(|(node, _)| steady.iter().any(|view| view.index == **node))
    {
        due.extend(
            pairs
                .keys()
                .filter(|(_, loser)| steady_ids.contains(&loser.node()))
                .cloned(),
        );
    }
    let kept = |name: &str| steady.first().and_then(|view| view.names.get(name).copied());
    for (name, owners) in conflicting(views) {
        if owners.iter().all(|owner| steady_ids.contains(&owner.node())) {
            let winner = kept(&name);
            due.extend(
                owners
                    .into_iter()
                    .filter(|owner| Some(*owner) != winner)
                    .map(|loser| (name.clone(), loser)),
            );
        }
    }
    let mut found = Vec::new();
    for view in &steady {
        let pairs = counts.get(&view.index);
        for (name, loser) in &due {
            let count = pairs
                .and_then(|pairs| pairs.get(&(name.clone(), *loser)))
                .copied()
                .unwrap_or(0);
            if count != 1 {
                let (name, loser, node) = (name.clone(), *loser, view.index);
                found.push(Violation::ConflictEvents {
                    name,
                    loser,
                    node,
                    count,
                });
            }
        }
    }
    found.extend(unfounded(entries, &counts));
    found.extend(contradictions(entries, since));
    found.extend(stale(entries, &steady, since));
    found
}

/// Reports by incarnations that started after every steady node (`steady`, all up from
/// `since`) had reported the same conflict.
fn stale(entries: &[Entry], steady: &[&NodeView], since: Duration) -> Vec<Violation> {
    let steady: BTreeSet<usize> = steady.iter().map(|view| view.index).collect();
    // When each (name, loser) had been reported by every steady node.
    let mut first: BTreeMap<(String, ActorId), BTreeMap<usize, Duration>> = BTreeMap::new();
    // When each node's current incarnation started, as the entries go by.
    let mut started: BTreeMap<usize, Duration> = BTreeMap::new();
    let mut found = Vec::new();
    for entry in entries {
        let Some(node) = entry.node else { continue };
        let (name, loser) = match &entry.op {
            Op::Started { .. } => {
                started.insert(node, entry.at);
                continue;
            }
            Op::Event(NodeEvent::NameConflict { name, loser, .. }) => (name.clone(), *loser),
            _ => continue,
        };
        let key = (name, loser);
        let by = first.entry(key.clone()).or_default();
        let settled = (by.len() == steady.len())
            .then(|| by.values().max().copied())
            .flatten();
        let born = started.get(&node).copied().unwrap_or_default();
        match settled {
            Some(settled) if !steady.contains(&node) && born > settled => found.push(Violation::Stale {
                name: key.0,
                loser,
                node,
            }),
            _ if steady.contains(&node) && entry.at >= since => {
                by.entry(node).or_insert(entry.at);
            }
            _ => {}
        }
    }
    found
}

/// Conflicts settled both ways: one node reported that `a` lost a name to `b`, another (or
/// the same) that `b` lost it to `a`. Every node must pick the same winner.
fn contradictions(entries: &[Entry], since: Duration) -> Vec<Violation> {
    let mut settled: BTreeSet<(String, ActorId, ActorId)> = BTreeSet::new();
    for entry in entries.iter().filter(|entry| entry.at >= since) {
        if let Op::Event(NodeEvent::NameConflict { name, winner, loser }) = &entry.op {
            settled.insert((name.clone(), *winner, *loser));
        }
    }
    settled
        .iter()
        .filter(|(name, winner, loser)| winner < loser && settled.contains(&(name.clone(), *loser, *winner)))
        .map(|(name, a, b)| Violation::Contradiction {
            name: name.clone(),
            a: *a,
            b: *b,
        })
        .collect()
}

/// Reported conflicts whose loser never held the name: neither acknowledged for it nor
/// held by a node at a heal.
fn unfounded(
    entries: &[Entry],
    counts: &BTreeMap<usize, BTreeMap<(String, ActorId), usize>>,
) -> Vec<Violation> {
    let mut held: BTreeSet<(String, ActorId)> = BTreeSet::new();
    for entry in entries {
        match &entry.op {
            Op::Register {
                name,
                actor,
                outcome: Ok(()),
            } => {
                held.insert((name.clone(), *actor));
            }
            Op::Heal { views } => {
                for (_, names) in views {
                    held.extend(names.iter().cloned());
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (node, pairs) in counts {
        for (name, loser) in pairs.keys().filter(|pair| !held.contains(*pair)) {
            let (name, loser, node) = (name.clone(), *loser, *node);
            found.push(Violation::Unfounded { name, loser, node });
        }
    }
    found
}

fn last_heal(entries: &[Entry]) -> Option<(Duration, &[HealView])> {
    entries.iter().rev().find_map(|entry| match &entry.op {
        Op::Heal { views } => Some((entry.at, views.as_slice())),
        _ => None,
    })
}

/// Every acknowledged registration whose owner is alive, and which was neither released nor
/// lost in a conflict, is what every running node holds for its name.
fn check_acknowledged(entries: &[Entry], end: &FinalState) -> Vec<Violation> {
    let mut held: BTreeMap<String, ActorId> = BTreeMap::new();
    for entry in entries {
        match &entry.op {
            Op::Register {
                name,
                actor,
                outcome: Ok(()),
            } => {
                held.insert(name.clone(), *actor);
            }
            Op::Unregister { name, actor, .. } if held.get(name) == Some(actor) => {
                held.remove(name);
            }
            Op::Event(NodeEvent::NameConflict { name, loser, .. }) if held.get(name) == Some(loser) => {
                held.remove(name);
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (name, owner) in held.into_iter().filter(|(_, owner)| end.alive.contains(owner)) {
        for view in &end.nodes {
            let holds = view.names.get(&name).copied();
            if holds != Some(owner) {
                found.push(Violation::Lost {
                    name: name.clone(),
                    owner,
                    node: view.index,
                    holds,
                });
            }
        }
    }
    found
}

/// Every call past its deadline has ended.
fn check_calls(entries: &[Entry], now: Duration) -> Vec<Violation> {
    let mut open: BTreeMap<u64, (usize, ActorId, Duration)> = BTreeMap::new();
    for entry in entries {
        match (&entry.op, entry.node) {
            (
                Op::CallStarted {
                    call,
                    target,
                    deadline,
                },
                Some(node),
            ) => {
                open.insert(*call, (node, *target, *deadline));
            }
            (Op::CallEnded { call, .. }, _) => {
                open.remove(call);
            }
            _ => {}
        }
    }
    open.into_iter()
        .filter(|(_, (_, _, deadline))| *deadline < now)
        .map(|(call, (node, target, _))| Violation::Hung { call, node, target })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u64) -> NodeId {
        NodeId::from_u64(n)
    }

    fn actor(n: u64, local: u64) -> ActorId {
        ActorId::new(node(n), local)
    }

    fn at(ms: u64, node: Option<usize>, op: Op) -> Entry {
        Entry {
            at: Duration::from_millis(ms),
            node,
            op,
        }
    }

    fn view(index: usize, id: u64, names: &[(&str, ActorId)]) -> NodeView {
        NodeView {
            index,
            id: node(id),
            since: Duration::ZERO,
            names: names
                .iter()
                .map(|(name, owner)| (name.to_string(), *owner))
                .collect(),
        }
    }

    fn conflict(name: &str, winner: ActorId, loser: ActorId) -> Op {
        Op::Event(NodeEvent::NameConflict {
            name: name.into(),
            winner,
            loser,
        })
    }

    fn registered(name: &str, owner: ActorId) -> Op {
        Op::Register {
            name: name.into(),
            actor: owner,
            outcome: Ok(()),
        }
    }

    fn heal(views: Vec<(usize, Vec<(&str, ActorId)>)>) -> Op {
        Op::Heal {
            views: views
                .into_iter()
                .map(|(index, names)| {
                    (
                        index,
                        names.into_iter().map(|(n, a)| (n.to_string(), a)).collect(),
                    )
                })
                .collect(),
        }
    }

    fn end(nodes: Vec<NodeView>, alive: &[ActorId]) -> FinalState {
        FinalState {
            at: Duration::from_secs(10),
            nodes,
            alive: alive.iter().copied().collect(),
        }
    }

    #[test]
    fn nodes_that_disagree_on_an_owner_are_reported() {
        let (a, b) = (actor(1, 1), actor(2, 1));
        let state = end(
            vec![
                view(0, 1, &[("svc", a)]),
                view(1, 2, &[("svc", b)]),
                view(2, 3, &[]),
            ],
            &[],
        );
        let found = check_agreement(&state);
        assert_eq!(
            found,
            vec![Violation::Disagreement {
                name: "svc".into(),
                owners: vec![(0, Some(a)), (1, Some(b)), (2, None)],
            }]
        );
        let agreeing = end(vec![view(0, 1, &[("svc", a)]), view(1, 2, &[("svc", a)])], &[]);
        assert!(check_agreement(&agreeing).is_empty());
    }

    fn events(found: &[Violation]) -> Vec<(usize, ActorId, usize)> {
        found
            .iter()
            .map(|violation| match violation {
                Violation::ConflictEvents {
                    node, loser, count, ..
                } => (*node, *loser, *count),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_steady_node_reports_each_loss_of_a_disputed_name_once() {
        let (a, b) = (actor(1, 1), actor(2, 1));
        let views = vec![
            (0, vec![("svc", a)]),
            (1, vec![("svc", b)]),
            (2, vec![("svc", b)]),
        ];
        let mut entries = vec![at(10, Some(0), registered("svc", a)), at(100, None, heal(views))];
        let state = end(
            vec![
                view(0, 1, &[("svc", a)]),
                view(1, 2, &[("svc", a)]),
                view(2, 3, &[("svc", a)]),
            ],
            &[a],
        );
        // Node 0 reports twice, node 1 once, node 2 never.
        entries.push(at(150, Some(0), conflict("svc", a, b)));
        entries.push(at(160, Some(0), conflict("svc", a, b)));
        entries.push(at(170, Some(1), conflict("svc", a, b)));
        assert_eq!(
            events(&check_conflict_events(&entries, &state)),
            vec![(0, b, 2), (2, b, 0)]
        );
    }

    #[test]
    fn a_name_held_by_three_sides_owes_two_events_and_every_node_the_same_ones() {
        let (a, b, c) = (actor(1, 1), actor(2, 1), actor(3, 1));
        let views = vec![
            (0, vec![("svc", a)]),
            (1, vec![("svc", b)]),
            (2, vec![("svc", c)]),
        ];
        let state = end(
            vec![
                view(0, 1, &[("svc", a)]),
                view(1, 2, &[("svc", a)]),
                view(2, 3, &[("svc", a)]),
            ],
            &[a],
        );
        let mut entries = vec![at(100, None, heal(views))];
        for node in 0..3 {
            // Node 2 hears of b's loss only.
            entries.push(at(150, Some(node), conflict("svc", a, b)));
            if node != 2 {
                entries.push(at(160, Some(node), conflict("svc", a, c)));
            }
        }
        assert_eq!(events(&check_conflict_events(&entries, &state)), vec![(2, c, 0)]);
    }

    #[test]
    fn a_conflict_before_the_heal_counts_once_wherever_it_is_heard_and_unfounded_ones_are_caught() {
        let (a, b) = (actor(1, 1), actor(2, 1));
        let entries = vec![
            at(10, Some(0), registered("svc", a)),
            at(20, Some(1), registered("svc", b)),
            // Nodes 0 and 1 settled it before the partition healed; node 2 heard of it later.
            at(50, Some(0), conflict("svc", a, b)),
            at(55, Some(1), conflict("svc", a, b)),
            at(
                100,
                None,
                heal(vec![(0, vec![("svc", a)]), (1, vec![("svc", a)]), (2, vec![])]),
            ),
            at(150, Some(2), conflict("svc", a, b)),
            at(160, Some(2), conflict("other", a, actor(2, 2))),
        ];
        let state = end(
            vec![
                view(0, 1, &[("svc", a)]),
                view(1, 2, &[("svc", a)]),
                view(2, 3, &[("svc", a)]),
            ],
            &[a],
        );
        let found = check_conflict_events(&entries, &state);
        let unfounded = Violation::Unfounded {
            name: "other".into(),
            loser: actor(2, 2),
            node: 2,
        };
        // The unfounded report also counts as a conflict nodes 0 and 1 missed.
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.contains(&unfounded), "{found:?}");
        let before = vec![
            entries[0].clone(),
            entries[1].clone(),
            entries[2].clone(),
            entries[3].clone(),
            entries[4].clone(),
            entries[5].clone(),
        ];
        assert!(check_conflict_events(&before, &state).is_empty());
    }

    #[test]
    fn nodes_that_restarted_after_the_heal_or_names_of_crashed_owners_owe_nothing() {
        let (a, b) = (actor(1, 1), actor(2, 1));
        let views = vec![(0, vec![("svc", a)]), (1, vec![("svc", b)])];
        let entries = vec![at(100, None, heal(views)), at(120, Some(1), Op::Crashed)];
        // Node 1 crashed after the heal: b's node is gone, so the dispute may be settled by
        // the crash; node 0 owes no event.
        let state = end(vec![view(0, 1, &[("svc", a)])], &[a]);
        assert!(check_conflict_events(&entries, &state).is_empty());
    }

    #[test]
    fn an_acknowledged_registration_of_a_living_owner_must_be_held_everywhere() {
        let (a, b) = (actor(1, 1), actor(2, 1));
        let entries = vec![
            at(10, Some(0), registered("svc", a)),
            at(20, Some(1), registered("other", b)),
        ];
        let state = end(
            vec![view(0, 1, &[("svc", a)]), view(1, 2, &[("other", b)])],
            &[a, b],
        );
        let found = check_acknowledged(&entries, &state);
        assert_eq!(
            found,
            vec![
                Violation::Lost {
                    name: "other".into(),
                    owner: b,
                    node: 0,
                    holds: None,
                },
                Violation::Lost {
                    name: "svc".into(),
                    owner: a,
                    node: 1,
                    holds: None,
                },
            ]
        );
    }

    #[test]
    fn released_lost_or_dead_owners_are_not_expected_to_hold_their_names() {
        let (a, b, c) = (actor(1, 1), actor(2, 1), actor(3, 1));
        let entries = vec![
            at(10, Some(0), registered("released", a)),
            at(
                20,
                Some(0),
                Op::Unregister {
                    name: "released".into(),
                    actor: a,
                    outcome: Ok(()),
                },
            ),
            at(30, Some(1), registered("lost", b)),
            at(40, Some(0), conflict("lost", a, b)),
            at(50, Some(2), registered("dead", c)),
        ];
        let state = end(vec![view(0, 1, &[("lost", a)])], &[a, b]);
        assert!(check_acknowledged(&entries, &state).is_empty());
    }

    #[test]
    fn a_call_that_never_ended_by_its_deadline_hangs() {
        let target = actor(2, 1);
        let started = |call, deadline_ms| Op::CallStarted {
            call,
            target,
            deadline: Duration::from_millis(deadline_ms),
        };
        let entries = vec![
            at(0, Some(0), started(1, 5_000)),
            at(0, Some(0), started(2, 5_000)),
            at(0, Some(1), started(3, 20_000)),
            at(
                10,
                Some(0),
                Op::CallEnded {
                    call: 1,
                    outcome: Err("node down".into()),
                },
            ),
        ];
        assert_eq!(
            check_calls(&entries, Duration::from_secs(10)),
            vec![Violation::Hung {
                call: 2,
                node: 0,
                target
            }],
            "call 3 is not due yet"
        );
    }

    #[test]
    fn a_clean_history_passes_and_violations_read_well() {
        let a = actor(1, 1);
        let history = History::default();
        history.record(0, registered("svc", a));
        let state = end(vec![view(0, 1, &[("svc", a)]), view(1, 2, &[("svc", a)])], &[a]);
        assert!(history.check(&state).is_ok());
        let broken = end(vec![view(0, 1, &[("svc", a)]), view(1, 2, &[])], &[a]);
        let text = history
            .check(&broken)
            .err()
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert!(text.starts_with("2 violation(s):"), "{text}");
        assert!(text.contains("nodes disagree on the owner of \"svc\""), "{text}");
        assert!(text.contains("is lost on node-1"), "{text}");
    }
}
