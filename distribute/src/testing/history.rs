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
        views: Vec<(usize, Vec<(String, ActorId)>)>,
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
        lock(&self.inner).entries.iter().map(ToString::to_string).collect()
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

    /// Judges the history against the cluster's final state: see the [module](self) docs.
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
    /// After a heal, `node` emitted `count` `NameConflict` events for `name`, where one
    /// (`expected` true) or none (`expected` false) was due.
    ConflictEvents {
        /// The name.
        name: String,
        /// The node.
        node: usize,
        /// How many it emitted.
        count: usize,
        /// Whether the name was in conflict at the heal.
        expected: bool,
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
                node,
                count,
                expected,
            } => {
                let due = if *expected { "exactly one was due" } else { "none was due" };
                write!(f, "node-{node} emitted {count} NameConflict events for {name:?}; {due}")
            }
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

/// The names the nodes' views held with different owners when the links were repaired.
fn conflicting(views: &[(usize, Vec<(String, ActorId)>)]) -> BTreeSet<String> {
    let mut owners: BTreeMap<&str, BTreeSet<ActorId>> = BTreeMap::new();
    for (_, names) in views {
        for (name, owner) in names {
            owners.entry(name).or_default().insert(*owner);
        }
    }
    owners
        .into_iter()
        .filter(|(_, owners)| owners.len() > 1)
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// After the last heal, every node that ran through it emitted exactly one `NameConflict`
/// per conflicting name, and none for any other name. A name whose owners' nodes crashed or
/// restarted since the heal is left out: its conflict may be settled by the crash instead.
fn check_conflict_events(entries: &[Entry], end: &FinalState) -> Vec<Violation> {
    let Some((heal_at, views)) = last_heal(entries) else {
        return Vec::new();
    };
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
    let steady_ids: BTreeSet<NodeId> = steady.iter().map(|view| view.id).collect();
    let owners_steady = |name: &str| {
        views
            .iter()
            .flat_map(|(_, names)| names.iter())
            .filter(|(held, _)| held == name)
            .all(|(_, owner)| steady_ids.contains(&owner.node()))
    };
    let disputed = conflicting(views);
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for entry in entries.iter().filter(|entry| entry.at >= heal_at) {
        if let (Some(node), Op::Event(NodeEvent::NameConflict { name, .. })) = (entry.node, &entry.op) {
            *counts.entry((node, name.clone())).or_default() += 1;
        }
    }
    let mut found = Vec::new();
    for view in &steady {
        for name in &disputed {
            let count = counts.get(&(view.index, name.clone())).copied().unwrap_or(0);
            if count != 1 && owners_steady(name) {
                found.push(Violation::ConflictEvents {
                    name: name.clone(),
                    node: view.index,
                    count,
                    expected: true,
                });
            }
        }
    }
    for ((node, name), count) in counts {
        if !disputed.contains(&name) && steady.iter().any(|view| view.index == node) {
            found.push(Violation::ConflictEvents {
                name,
                node,
                count,
                expected: false,
            });
        }
    }
    found
}

fn last_heal(entries: &[Entry]) -> Option<(Duration, &[(usize, Vec<(String, ActorId)>)])> {
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
