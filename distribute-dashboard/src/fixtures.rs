//! Snapshots for the unit tests. The snapshot types are `#[non_exhaustive]`, so outside the
//! runtime crate they are built the way a dashboard receives them: deserialized.

use distribute::introspect::{ClusterSnapshot, NodeSnapshot};
use distribute::{ActorId, NodeId};
use serde_json::{json, Value};

pub(crate) fn node_id(n: u64) -> NodeId {
    serde_json::from_value(json!(n)).expect("a node id is a number")
}

pub(crate) fn actor_id(node: u64, local: u64) -> ActorId {
    serde_json::from_value(json!({ "node": node, "local": local })).expect("an actor id")
}

/// An actor as JSON: `(local id, messages handled)`, on node `node`.
pub(crate) fn actor_json(node: u64, local: u64, handled: u64) -> Value {
    json!({
        "id": { "node": node, "local": local },
        "type_name": "Worker",
        "names": [],
        "mailbox_len": 2,
        "mailbox_capacity": 64,
        "state": "Running",
        "restarts": 0,
        "parent": null,
        "messages_handled": handled,
        "is_supervisor": false,
    })
}

/// A node snapshot as JSON, without trees, names or groups.
pub(crate) fn node_json(
    id: u64,
    name: &str,
    taken_at_ms: u64,
    handled: u64,
    actors: &[(u64, u64)],
    peers: &[(u64, u64, u64)],
) -> Value {
    let actors: Vec<Value> = actors
        .iter()
        .map(|&(local, handled)| actor_json(id, local, handled))
        .collect();
    let peers: Vec<Value> = peers
        .iter()
        .map(|&(peer, bytes_in, bytes_out)| {
            json!({
                "id": peer, "name": format!("n{peer}"), "listen": "127.0.0.1:4000",
                "connected": true, "bytes_in": bytes_in, "bytes_out": bytes_out,
                "frames_in": 1, "frames_out": 2, "queued_bytes": 0,
            })
        })
        .collect();
    json!({
        "node": id,
        "name": name,
        "listen": "127.0.0.1:4000",
        "taken_at_ms": taken_at_ms,
        "actors": actors,
        "truncated": false,
        "trees": [],
        "names": [],
        "groups": [],
        "peers": peers,
        "totals": { "actors": actors.len(), "spawned": 9, "messages_handled": handled },
    })
}

/// A node snapshot: `actors` are `(local id, handled)`, `peers` `(id, bytes in, bytes out)`.
pub(crate) fn node(
    id: u64,
    name: &str,
    taken_at_ms: u64,
    handled: u64,
    actors: &[(u64, u64)],
    peers: &[(u64, u64, u64)],
) -> NodeSnapshot {
    let value = node_json(id, name, taken_at_ms, handled, actors, peers);
    serde_json::from_value(value).expect("a node snapshot")
}

/// A cluster gathered by node 1: `Ok` members answered, `Err((id, name))` did not.
pub(crate) fn cluster(members: Vec<Result<NodeSnapshot, (u64, &str)>>) -> ClusterSnapshot {
    let nodes: Vec<Value> = members
        .into_iter()
        .map(|member| match member {
            Ok(snapshot) => json!({ "Snapshot": snapshot }),
            Err((id, name)) => json!({
                "Unavailable": { "node": id, "name": name, "error": "timed out" }
            }),
        })
        .collect();
    serde_json::from_value(json!({ "gathered_by": 1, "nodes": nodes })).expect("a cluster")
}
