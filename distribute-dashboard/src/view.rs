//! The JSON the page draws: a [`ClusterSnapshot`] joined with its rates, ready to display.
//!
//! Ids are strings as the runtime displays them (`<node:n>`, hex node ids): a node id is a
//! 64-bit number, which a browser's `Number` would round. Each supervision child carries its
//! actor's mailbox and message rate, so the page needs no lookups of its own. Building the
//! view is a plain function of a snapshot and its rates.

use std::collections::HashMap;

use distribute::introspect::{
    ActorSnapshot, ChildSnapshot, ClusterSnapshot, GroupSnapshot, NameScope, NameSnapshot, NodeEntry,
    NodeSnapshot, PeerSnapshot, TreeSnapshot,
};
use distribute::ActorId;
use serde::{Deserialize, Serialize};

use crate::rates::{ClusterRates, NodeRates};

/// How deep nested supervision trees are shown; deeper subtrees are left out (and the
/// parent says so), so no snapshot can make the view, its JSON or the page recurse without
/// end.
pub const MAX_TREE_DEPTH: usize = 32;

/// The whole cluster, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// Counts the views the dashboard produced, starting at 1.
    pub seq: u64,
    /// The node that gathered the snapshots (its displayed id).
    pub gathered_by: String,
    /// One card per member, the gathering node first.
    pub nodes: Vec<NodeView>,
}

/// One member of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    /// Its displayed id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `"up"` when it answered, `"unavailable"` when it did not.
    pub status: String,
    /// Why it did not answer.
    pub error: Option<String>,
    /// Where it listens for other nodes.
    pub listen: Option<String>,
    /// When it took its snapshot, by its clock (ms since the Unix epoch).
    pub taken_at_ms: Option<u64>,
    /// Live actors.
    pub actors: usize,
    /// Actors spawned since it started.
    pub spawned: u64,
    /// Messages handled since it started.
    pub messages_handled: u64,
    /// Messages handled per second since the previous snapshot (none for the first).
    pub messages_per_sec: Option<f64>,
    /// Restarts of all its actors.
    pub restarts: u64,
    /// Its supervision trees.
    pub trees: Vec<TreeView>,
    /// The names registered to its actors.
    pub names: Vec<NameView>,
    /// Its process groups with members here.
    pub groups: Vec<GroupView>,
    /// The nodes it knows, with traffic.
    pub peers: Vec<PeerView>,
    /// Whether its actor list was cut short by the introspection bound.
    pub truncated: bool,
}

/// A supervisor and its children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeView {
    /// The supervisor's actor id.
    pub supervisor: String,
    /// The supervisor's name in logs (`SupervisorSpec::name`).
    pub name: String,
    /// The supervisor's type name.
    pub type_name: String,
    /// Its strategy (`OneForOne`, ...).
    pub strategy: String,
    /// Its children, in start order.
    pub children: Vec<ChildView>,
    /// Whether subtrees below [`MAX_TREE_DEPTH`] were left out.
    pub truncated: bool,
}

/// One child of a supervisor, with its actor's live figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildView {
    /// Its id in the supervisor's spec.
    pub id: String,
    /// Its actor, while it runs or restarts.
    pub actor: Option<String>,
    /// Its actor's type name, when the node listed the actor.
    pub type_name: Option<String>,
    /// `Running`, `Restarting` or `Terminated`.
    pub state: String,
    /// How many times the supervisor restarted it.
    pub restarts: u32,
    /// Which incarnation runs.
    pub incarnation: u64,
    /// Why its last incarnation ended.
    pub last_exit: Option<String>,
    /// Messages waiting in its mailbox.
    pub mailbox_len: Option<usize>,
    /// Its mailbox's capacity.
    pub mailbox_capacity: Option<usize>,
    /// Messages it handled per second since the previous snapshot.
    pub messages_per_sec: Option<f64>,
    /// Its own tree, when it is a supervisor.
    pub subtree: Option<Box<TreeView>>,
}

/// A registered name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameView {
    /// The name.
    pub name: String,
    /// The actor it names.
    pub actor: String,
    /// `"local"` or `"global"`.
    pub scope: String,
}

/// A process group's members on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    /// The group's name.
    pub name: String,
    /// Its members on this node.
    pub members: Vec<String>,
}

/// A peer, with traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerView {
    /// Its displayed id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where it listens.
    pub listen: Option<String>,
    /// Whether a connection is open.
    pub connected: bool,
    /// Bytes received from it.
    pub bytes_in: u64,
    /// Bytes sent to it.
    pub bytes_out: u64,
    /// Frames received from it.
    pub frames_in: u64,
    /// Frames sent to it.
    pub frames_out: u64,
    /// Bytes queued for it.
    pub queued_bytes: usize,
    /// Bytes received per second since the previous snapshot.
    pub bytes_in_per_sec: Option<f64>,
    /// Bytes sent per second since the previous snapshot.
    pub bytes_out_per_sec: Option<f64>,
}

/// The view of `snapshot`, with `rates` from the snapshot before it when there was one.
pub fn cluster_view(snapshot: &ClusterSnapshot, rates: Option<&ClusterRates>, seq: u64) -> ClusterView {
    let nodes = snapshot
        .nodes
        .iter()
        .map(|entry| match entry {
            NodeEntry::Snapshot(node) => {
                let rates = rates.and_then(|r| r.nodes.get(&node.node));
                node_view(node, rates)
            }
            NodeEntry::Unavailable { node, name, error } => unavailable(&node.to_string(), name, error),
            // A kind of entry this dashboard does not know yet: shown, not dropped.
            #[allow(unreachable_patterns)]
            _ => unavailable("?", "?", "an entry this dashboard cannot read"),
        })
        .collect::<Vec<_>>();
    ClusterView {
        seq,
        gathered_by: snapshot.gathered_by.to_string(),
        nodes: in_page_order(nodes),
    }
}

/// The gathering node first (the snapshot lists it first), then the others by name, so that
/// cards keep their places from one update to the next.
fn in_page_order(mut nodes: Vec<NodeView>) -> Vec<NodeView> {
    if let Some((_first, others)) = nodes.split_first_mut() {
        others.sort_by(|x, y| x.name.cmp(&y.name).then_with(|| x.id.cmp(&y.id)));
    }
    nodes
}

/// The card of a member that answered.
pub fn node_view(node: &NodeSnapshot, rates: Option<&NodeRates>) -> NodeView {
    let actors: HashMap<ActorId, &ActorSnapshot> = node.actors.iter().map(|a| (a.id, a)).collect();
    let lookup = Lookup { actors, rates };
    NodeView {
        id: node.node.to_string(),
        name: node.name.clone(),
        status: "up".to_owned(),
        error: None,
        listen: node.listen.map(|a| a.to_string()),
        taken_at_ms: Some(node.taken_at_ms),
        actors: node.totals.actors,
        spawned: node.totals.spawned,
        messages_handled: node.totals.messages_handled,
        messages_per_sec: rates.map(|r| r.messages_per_sec),
        restarts: node.actors.iter().map(|a| u64::from(a.restarts)).sum(),
        trees: node.trees.iter().map(|t| lookup.tree(t, 1)).collect(),
        names: node.names.iter().map(name_view).collect(),
        groups: node.groups.iter().map(group_view).collect(),
        peers: node.peers.iter().map(|p| peer_view(p, rates)).collect(),
        truncated: node.truncated,
    }
}

/// The card of a member that did not answer.
fn unavailable(id: &str, name: &str, error: &str) -> NodeView {
    NodeView {
        id: id.to_owned(),
        name: name.to_owned(),
        status: "unavailable".to_owned(),
        error: Some(error.to_owned()),
        listen: None,
        taken_at_ms: None,
        actors: 0,
        spawned: 0,
        messages_handled: 0,
        messages_per_sec: None,
        restarts: 0,
        trees: Vec::new(),
        names: Vec::new(),
        groups: Vec::new(),
        peers: Vec::new(),
        truncated: false,
    }
}

/// A node's actors and rates, to join supervision children with their actors.
struct Lookup<'a> {
    actors: HashMap<ActorId, &'a ActorSnapshot>,
    rates: Option<&'a NodeRates>,
}

impl Lookup<'_> {
    fn tree(&self, tree: &TreeSnapshot, depth: usize) -> TreeView {
        let deeper = depth < MAX_TREE_DEPTH;
        TreeView {
            supervisor: tree.supervisor.to_string(),
            name: tree.name.clone(),
            type_name: tree.type_name.clone(),
            strategy: tree.strategy.clone(),
            children: tree
                .children
                .iter()
                .map(|c| self.child(c, depth, deeper))
                .collect(),
            truncated: !deeper && tree.children.iter().any(|c| c.subtree.is_some()),
        }
    }

    fn child(&self, child: &ChildSnapshot, depth: usize, deeper: bool) -> ChildView {
        let actor = child.actor.and_then(|id| self.actors.get(&id).copied());
        let rate = child
            .actor
            .and_then(|id| self.rates.and_then(|r| r.actors.get(&id).copied()));
        ChildView {
            id: child.id.clone(),
            actor: child.actor.map(|id| id.to_string()),
            type_name: actor.map(|a| a.type_name.clone()),
            state: child.state.clone(),
            restarts: child.restarts,
            incarnation: child.incarnation,
            last_exit: child.last_exit.clone(),
            mailbox_len: actor.map(|a| a.mailbox_len),
            mailbox_capacity: actor.map(|a| a.mailbox_capacity),
            messages_per_sec: rate,
            subtree: child
                .subtree
                .as_ref()
                .filter(|_| deeper)
                .map(|t| Box::new(self.tree(t, depth + 1))),
        }
    }
}

fn name_view(name: &NameSnapshot) -> NameView {
    let scope = match name.scope {
        NameScope::Local => "local",
        NameScope::Global => "global",
        #[allow(unreachable_patterns)]
        _ => "other",
    };
    NameView {
        name: name.name.clone(),
        actor: name.actor.to_string(),
        scope: scope.to_owned(),
    }
}

fn group_view(group: &GroupSnapshot) -> GroupView {
    GroupView {
        name: group.name.clone(),
        members: group.members.iter().map(|m| m.to_string()).collect(),
    }
}

fn peer_view(peer: &PeerSnapshot, rates: Option<&NodeRates>) -> PeerView {
    let traffic = rates.and_then(|r| r.peers.get(&peer.id));
    PeerView {
        id: peer.id.to_string(),
        name: peer.name.clone(),
        listen: peer.listen.map(|a| a.to_string()),
        connected: peer.connected,
        bytes_in: peer.bytes_in,
        bytes_out: peer.bytes_out,
        frames_in: peer.frames_in,
        frames_out: peer.frames_out,
        queued_bytes: peer.queued_bytes,
        bytes_in_per_sec: traffic.map(|t| t.bytes_in_per_sec),
        bytes_out_per_sec: traffic.map(|t| t.bytes_out_per_sec),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::fixtures::{actor_json, cluster, node, node_id, node_json};
    use crate::rates::cluster_rates;

    /// Node 1 with a `Supervisor` (actor 1, one-for-one) over `worker` (actor 2, restarted
    /// 3 times) and `inner` (a one-for-all subtree, actor 3, over `leaf`, actor 4).
    fn supervised_node(taken_at_ms: u64, worker_handled: u64) -> NodeSnapshot {
        let mut value = node_json(1, "alpha", taken_at_ms, worker_handled, &[], &[(2, 10, 20)]);
        let mut worker = actor_json(1, 2, worker_handled);
        worker["restarts"] = json!(3);
        worker["mailbox_len"] = json!(5);
        value["actors"] = json!([
            actor_json(1, 1, 0),
            worker,
            actor_json(1, 3, 0),
            actor_json(1, 4, 0)
        ]);
        let child = |id: &str, local: u64, restarts: u32, subtree: Value| {
            json!({
                "id": id, "actor": { "node": 1, "local": local }, "state": "Running",
                "restarts": restarts, "incarnation": restarts + 1,
                "last_exit": if restarts > 0 { json!("panicked: boom") } else { Value::Null },
                "subtree": subtree,
            })
        };
        let inner = json!({
            "supervisor": { "node": 1, "local": 3 }, "name": "inner", "type_name": "Supervisor",
            "strategy": "OneForAll", "children": [child("leaf", 4, 0, Value::Null)],
        });
        value["trees"] = json!([{
            "supervisor": { "node": 1, "local": 1 }, "name": "root", "type_name": "Supervisor",
            "strategy": "OneForOne",
            "children": [child("worker", 2, 3, Value::Null), child("inner", 3, 0, inner)],
        }]);
        value["names"] = json!([{ "name": "jobs", "actor": { "node": 1, "local": 2 }, "scope": "Global" }]);
        value["groups"] = json!([{ "name": "pool", "members": [{ "node": 1, "local": 2 }] }]);
        serde_json::from_value(value).expect("a node snapshot")
    }

    #[test]
    fn children_carry_their_actors_mailbox_restarts_and_rate() {
        let before = cluster(vec![Ok(supervised_node(1_000, 10))]);
        let after = cluster(vec![Ok(supervised_node(1_500, 60))]);
        let rates = cluster_rates(&before, &after);
        let view = cluster_view(&after, Some(&rates), 7);
        assert_eq!(view.seq, 7);
        let alpha = &view.nodes[0];
        assert_eq!((alpha.name.as_str(), alpha.status.as_str()), ("alpha", "up"));
        assert_eq!(alpha.messages_per_sec, Some(100.0));
        assert_eq!(alpha.restarts, 3);
        let tree = &alpha.trees[0];
        assert_eq!(
            (tree.type_name.as_str(), tree.strategy.as_str()),
            ("Supervisor", "OneForOne")
        );
        let worker = &tree.children[0];
        assert_eq!(worker.id, "worker");
        assert_eq!(worker.restarts, 3);
        assert_eq!((worker.mailbox_len, worker.mailbox_capacity), (Some(5), Some(64)));
        assert_eq!(worker.messages_per_sec, Some(100.0));
        assert_eq!(worker.last_exit.as_deref(), Some("panicked: boom"));
        let inner = tree.children[1].subtree.as_ref().expect("inner is a supervisor");
        assert_eq!(inner.strategy, "OneForAll");
        assert_eq!(inner.children[0].id, "leaf");
    }

    #[test]
    fn the_first_view_has_no_rates() {
        let view = cluster_view(&cluster(vec![Ok(supervised_node(1_000, 10))]), None, 1);
        let alpha = &view.nodes[0];
        assert_eq!(alpha.messages_per_sec, None);
        assert_eq!(alpha.trees[0].children[0].messages_per_sec, None);
        assert_eq!(alpha.peers[0].bytes_in_per_sec, None);
    }

    #[test]
    fn ids_are_displayed_strings_and_names_groups_peers_are_kept() {
        let view = cluster_view(&cluster(vec![Ok(supervised_node(1_000, 10))]), None, 1);
        let alpha = &view.nodes[0];
        assert_eq!(alpha.id, node_id(1).to_string());
        assert_eq!(view.gathered_by, node_id(1).to_string());
        assert_eq!(alpha.names[0].scope, "global");
        assert_eq!(
            alpha.names[0].actor,
            alpha.trees[0].children[0].actor.clone().unwrap_or_default()
        );
        assert_eq!(alpha.groups[0].name, "pool");
        assert_eq!(alpha.peers[0].name, "n2");
        assert_eq!((alpha.peers[0].bytes_in, alpha.peers[0].bytes_out), (10, 20));
    }

    #[test]
    fn the_gathering_node_comes_first_then_the_others_by_name() {
        let view = cluster_view(
            &cluster(vec![
                Ok(node(1, "m", 0, 0, &[], &[])),
                Ok(node(2, "z", 0, 0, &[], &[])),
                Err((3, "b")),
                Ok(node(4, "k", 0, 0, &[], &[])),
            ]),
            None,
            1,
        );
        let names: Vec<&str> = view.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["m", "b", "k", "z"]);
    }

    #[test]
    fn an_unavailable_member_is_a_card_with_its_error() {
        let view = cluster_view(&cluster(vec![Err((2, "beta"))]), None, 1);
        let beta = &view.nodes[0];
        assert_eq!(
            (beta.name.as_str(), beta.status.as_str()),
            ("beta", "unavailable")
        );
        assert_eq!(beta.error.as_deref(), Some("timed out"));
        assert!(beta.trees.is_empty());
    }

    #[test]
    fn the_view_serializes_to_the_json_the_page_reads() {
        let view = cluster_view(&cluster(vec![Ok(supervised_node(1_000, 10))]), None, 3);
        let value = serde_json::to_value(&view).expect("serializable");
        let worker = &value["nodes"][0]["trees"][0]["children"][0];
        assert_eq!(worker["id"], "worker");
        assert_eq!(worker["restarts"], 3);
        assert_eq!(worker["mailbox_len"], 5);
        assert_eq!(worker["mailbox_capacity"], 64);
        assert_eq!(value["nodes"][0]["status"], "up");
        assert!(value["nodes"][0]["id"].is_string());
        let back: ClusterView = serde_json::from_value(value).expect("deserializable");
        assert_eq!(back, view);
    }

    #[test]
    fn trees_deeper_than_the_bound_are_cut_and_say_so() {
        let mut tree = json!({
            "supervisor": { "node": 1, "local": 1 }, "name": "root", "type_name": "Supervisor",
            "strategy": "OneForOne", "children": [],
        });
        for _ in 0..(MAX_TREE_DEPTH + 5) {
            tree = json!({
                "supervisor": { "node": 1, "local": 1 }, "name": "root", "type_name": "Supervisor",
                "strategy": "OneForOne",
                "children": [{ "id": "sub", "actor": null, "state": "Running", "restarts": 0,
                               "incarnation": 1, "last_exit": null, "subtree": tree }],
            });
        }
        let mut value = node_json(1, "deep", 1_000, 0, &[], &[]);
        value["trees"] = json!([tree]);
        let snapshot: NodeSnapshot = serde_json::from_value(value).expect("a node snapshot");
        let view = node_view(&snapshot, None);
        let mut depth = 1;
        let mut tree = &view.trees[0];
        while let Some(sub) = tree.children[0].subtree.as_ref() {
            depth += 1;
            tree = sub;
        }
        assert_eq!(depth, MAX_TREE_DEPTH);
        assert!(tree.truncated);
    }
}
