//! A node's snapshot of itself, assembled from the layers: the actor table (cells, mailboxes,
//! counters), the supervisors (asked, each within a timeout), the registries and the network.
//!
//! Nothing here holds a lock across an await: the actor table is read in one short pass,
//! then supervisors are asked with no lock held.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinSet;

use crate::actor::{ActorId, ActorRef, AnyCell, Cell};
use crate::introspect::{
    ActorSnapshot, ActorState, ChildSnapshot, GroupSnapshot, IntrospectOptions, NameScope, NameSnapshot,
    NodeSnapshot, NodeTotals, PeerSnapshot, TreeSnapshot,
};
use crate::node::Node;
use crate::supervision::{ChildState, Supervisor, SupervisorReport};

/// Nested supervisors deeper than this are shown without their subtree: a bound on the
/// recursion, whatever the reports say.
const MAX_TREE_DEPTH: usize = 64;

/// What the supervisors answered, by supervisor.
type Reports = HashMap<ActorId, SupervisorReport>;

/// Takes the snapshot of `node`.
pub(super) async fn snapshot(node: &Node, options: &IntrospectOptions) -> NodeSnapshot {
    let limit = options.max_actors;
    let (cells, total) = node.cells(limit);
    let supervisors = node.cells_where(limit, is_supervisor);
    let reports = describe_all(supervisors, options.supervisor_timeout).await;
    let parents = parents_of(&reports);
    let names = names_of(node, limit);
    let mut names_by_actor: HashMap<ActorId, Vec<String>> = HashMap::new();
    for name in &names {
        names_by_actor
            .entry(name.actor)
            .or_default()
            .push(name.name.clone());
    }
    let actors = cells
        .iter()
        .map(|cell| actor_snapshot(&**cell, &parents, &mut names_by_actor))
        .collect();
    NodeSnapshot {
        node: node.id(),
        name: node.name().to_owned(),
        listen: node.listen_addr(),
        taken_at_ms: now_ms(),
        actors,
        truncated: total > limit,
        trees: trees(&reports),
        names,
        groups: node
            .groups_here(limit)
            .into_iter()
            .map(|(name, members)| GroupSnapshot { name, members })
            .collect(),
        peers: peers(node),
        totals: NodeTotals {
            actors: total,
            spawned: node.stats().spawned_total(),
            messages_handled: node.messages_handled(),
        },
    }
}

fn is_supervisor(cell: &dyn AnyCell) -> bool {
    cell.as_any().is::<Cell<Supervisor>>()
}

/// Asks every supervisor for its description at once, each within `timeout`; those that do
/// not answer in time are left out.
async fn describe_all(supervisors: Vec<Arc<dyn AnyCell>>, timeout: Duration) -> Reports {
    let mut asks = JoinSet::new();
    for cell in supervisors {
        let Ok(typed) = cell.into_any().downcast::<Cell<Supervisor>>() else {
            continue;
        };
        let supervisor = ActorRef::from_cell(typed);
        asks.spawn(async move {
            let report = supervisor.describe(timeout).await;
            (supervisor.id(), report)
        });
    }
    let mut reports = Reports::new();
    while let Some(answer) = asks.join_next().await {
        if let Ok((id, Ok(report))) = answer {
            reports.insert(id, report);
        }
    }
    reports
}

/// Each supervised actor's supervisor, from the supervisors' reports.
fn parents_of(reports: &Reports) -> HashMap<ActorId, ActorId> {
    let mut parents = HashMap::new();
    for (supervisor, report) in reports {
        for child in &report.children {
            if let Some(actor) = child.actor {
                parents.insert(actor, *supervisor);
            }
        }
    }
    parents
}

fn actor_snapshot(
    cell: &dyn AnyCell,
    parents: &HashMap<ActorId, ActorId>,
    names: &mut HashMap<ActorId, Vec<String>>,
) -> ActorSnapshot {
    let core = cell.core();
    // The count first: an actor publishes it only once it waits again (see `flush_batch`),
    // so a count read before the mailbox never runs ahead of the state read after it.
    let messages_handled = core.handled();
    let mailbox = cell.mailbox_probe();
    let state = if !core.is_alive() {
        ActorState::Stopping
    } else if core.is_restarting() {
        ActorState::Restarting
    } else if core.is_dormant() || (mailbox.receiver_waiting && mailbox.len == 0) {
        ActorState::Idle
    } else {
        ActorState::Running
    };
    ActorSnapshot {
        id: core.id,
        type_name: core.name().to_owned(),
        names: names.remove(&core.id).unwrap_or_default(),
        mailbox_len: mailbox.len,
        mailbox_capacity: mailbox.capacity,
        state,
        restarts: core.restarts(),
        parent: parents.get(&core.id).copied(),
        messages_handled,
        is_supervisor: is_supervisor(cell),
    }
}

/// One tree per supervisor that no other supervisor described as its child, in id order.
fn trees(reports: &Reports) -> Vec<TreeSnapshot> {
    let children: std::collections::HashSet<ActorId> = reports
        .values()
        .flat_map(|report| report.children.iter().filter_map(|child| child.actor))
        .collect();
    let mut roots: Vec<ActorId> = reports
        .keys()
        .filter(|id| !children.contains(id))
        .copied()
        .collect();
    roots.sort();
    roots
        .into_iter()
        .filter_map(|root| tree(root, reports, 0))
        .collect()
}

fn tree(supervisor: ActorId, reports: &Reports, depth: usize) -> Option<TreeSnapshot> {
    let report = reports.get(&supervisor)?;
    let children = report
        .children
        .iter()
        .map(|child| ChildSnapshot {
            id: child.id.clone(),
            actor: child.actor,
            state: child_state(child.state).to_owned(),
            restarts: child.restarts,
            incarnation: child.incarnation,
            last_exit: child.last_exit.as_ref().map(ToString::to_string),
            subtree: child
                .actor
                .filter(|_| depth < MAX_TREE_DEPTH)
                .and_then(|actor| tree(actor, reports, depth + 1))
                .map(Box::new),
        })
        .collect();
    Some(TreeSnapshot {
        supervisor,
        type_name: supervisor_type(&report.name),
        name: report.name.clone(),
        strategy: format!("{:?}", report.strategy),
        children,
    })
}

fn child_state(state: ChildState) -> &'static str {
    match state {
        ChildState::Running => "Running",
        ChildState::Restarting => "Restarting",
        _ => "Terminated",
    }
}

/// The type a supervisor stands for, from the name its builder gave it: `Pool` for a pool,
/// the actor type for a `#[supervised]` one, `Supervisor` otherwise.
fn supervisor_type(name: &str) -> String {
    if name.starts_with("pool of ") {
        String::from("Pool")
    } else if let Some(actor) = name.strip_suffix(" supervisor").filter(|a| !a.is_empty()) {
        actor.to_owned()
    } else {
        String::from("Supervisor")
    }
}

/// The names of this node's actors, local then global, at most `limit` of each.
fn names_of(node: &Node, limit: usize) -> Vec<NameSnapshot> {
    let local = node
        .attached()
        .names
        .owners()
        .into_iter()
        .take(limit)
        .map(|(name, actor)| NameSnapshot {
            name,
            actor,
            scope: NameScope::Local,
        });
    let global = node
        .global_names_here(limit)
        .into_iter()
        .map(|(name, actor)| NameSnapshot {
            name,
            actor,
            scope: NameScope::Global,
        });
    local.chain(global).collect()
}

fn peers(node: &Node) -> Vec<PeerSnapshot> {
    let Some(net) = node.net() else {
        return Vec::new();
    };
    net.connected()
        .into_iter()
        .map(|slot| {
            let traffic = slot.traffic();
            PeerSnapshot {
                id: slot.id,
                name: slot.name(),
                listen: slot.listen_addr(),
                connected: slot.has_connection(),
                bytes_in: traffic.bytes_in,
                bytes_out: traffic.bytes_out,
                frames_in: traffic.frames_in,
                frames_out: traffic.frames_out,
                queued_bytes: slot.queue.queued_bytes(),
            }
        })
        .collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisor_types_come_from_the_names_the_builders_give() {
        assert_eq!(supervisor_type("pool of Worker"), "Pool");
        assert_eq!(supervisor_type("Worker supervisor"), "Worker");
        assert_eq!(supervisor_type("supervisor"), "Supervisor");
        assert_eq!(supervisor_type(" supervisor"), "Supervisor");
        assert_eq!(supervisor_type("billing"), "Supervisor");
    }
}
