//! Helpers for the introspection tests: finding things in snapshots, and waiting for a
//! snapshot that shows something.

use distribute::introspect::{ActorSnapshot, ChildSnapshot, NodeSnapshot, TreeSnapshot};
use distribute::prelude::*;

use crate::within;

/// The actor `id` in `snapshot`; fails the test if it is not listed.
pub fn actor_in(snapshot: &NodeSnapshot, id: ActorId) -> &ActorSnapshot {
    match snapshot.actors.iter().find(|actor| actor.id == id) {
        Some(actor) => actor,
        None => panic!("actor {id} is not in the snapshot of {}", snapshot.name),
    }
}

/// The child named `id` of `tree`; fails the test if it has none.
pub fn child_in<'a>(tree: &'a TreeSnapshot, id: &str) -> &'a ChildSnapshot {
    match tree.children.iter().find(|child| child.id == id) {
        Some(child) => child,
        None => panic!("supervisor {} has no child {id}", tree.supervisor),
    }
}

/// The ids of `tree`'s children, in order.
pub fn child_ids(tree: &TreeSnapshot) -> Vec<&str> {
    tree.children.iter().map(|child| child.id.as_str()).collect()
}

/// Takes snapshots of `node` until one satisfies `shows`, and returns it; fails the test
/// after the deadline. For what no event announces (a counter published by a run loop).
pub async fn snapshot_showing(
    node: &Node,
    what: &str,
    mut shows: impl FnMut(&NodeSnapshot) -> bool,
) -> NodeSnapshot {
    within(what, async {
        loop {
            let snapshot = node.introspect().await;
            if shows(&snapshot) {
                return snapshot;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await
}
