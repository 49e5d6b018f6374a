//! Introspection: a node's snapshot of itself ([`Node::introspect`]), another node's over the
//! cluster protocol ([`Node::introspect_node`]), and every member's
//! ([`Node::introspect_cluster`]). The data types are in [`crate::introspect`].
//!
//! A peer's request is answered only within bounds (see `admission.rs`): a few requests per
//! peer and in all at once, none if the node was built with
//! [`allow_remote_introspection(false)`](crate::NodeBuilder::allow_remote_introspection);
//! the answer is cut to fit in one frame (see `wire.rs`).

mod admission;
mod local;
mod service;
pub(crate) mod wire;

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::actor::NodeId;
use crate::introspect::{ClusterSnapshot, IntrospectError, IntrospectOptions, NodeEntry, NodeSnapshot};
use crate::node::Node;

pub(crate) use service::{IntrospectFrames, IntrospectService};

impl Node {
    /// This node's snapshot of itself: its actors (oldest first, at most
    /// [`DEFAULT_MAX_ACTORS`](crate::introspect::DEFAULT_MAX_ACTORS)), supervision trees,
    /// names, groups, peers with their traffic, and totals.
    ///
    /// Async because supervisors are asked for their children, each within
    /// [`DEFAULT_SUPERVISOR_TIMEOUT`](crate::introspect::DEFAULT_SUPERVISOR_TIMEOUT); a
    /// supervisor that does not answer in time is listed as an actor without its tree. The
    /// rest is read from counters the runtime keeps anyway, without stopping any actor.
    ///
    /// ```
    /// use distribute::prelude::*;
    /// use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
    ///
    /// #[actor]
    /// #[derive(Default)]
    /// struct Worker;
    ///
    /// #[actor]
    /// impl Worker {
    ///     #[message] fn ping(&self) {}
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = Node::new();
    /// let supervisor = SupervisorSpec::new(Strategy::OneForOne)
    ///     .child(ChildSpec::worker("worker", Worker::default))
    ///     .start(&node)
    ///     .await?;
    /// let snapshot = node.introspect().await;
    /// assert_eq!(snapshot.trees.len(), 1);
    /// assert_eq!(snapshot.trees[0].supervisor, supervisor.id());
    /// assert_eq!(snapshot.trees[0].children[0].id, "worker");
    /// # Ok(()) }
    /// ```
    pub async fn introspect(&self) -> NodeSnapshot {
        self.introspect_with(IntrospectOptions::default()).await
    }

    /// [`Node::introspect`] with options: how many actors to list, how long to wait for
    /// each supervisor. [`NodeSnapshot::truncated`] says whether actors were left out.
    pub async fn introspect_with(&self, options: IntrospectOptions) -> NodeSnapshot {
        local::snapshot(self, &options).await
    }

    /// The snapshot node `node` takes of itself, asked over the cluster protocol (or taken
    /// here if `node` is this node), waiting at most
    /// [`DEFAULT_INTROSPECT_TIMEOUT`](crate::introspect::DEFAULT_INTROSPECT_TIMEOUT).
    ///
    /// Fails with [`IntrospectError::NotNetworked`] on a node without networking,
    /// [`IntrospectError::NodeDown`] if `node` is not up or goes down before it answers,
    /// [`IntrospectError::Timeout`], [`IntrospectError::Refused`] if it does not allow
    /// remote introspection, [`IntrospectError::Busy`] if it is answering as many requests
    /// as it takes, and [`IntrospectError::Malformed`] if its answer does not decode. An
    /// answer too large for one frame comes cut, with
    /// [`truncated`](NodeSnapshot::truncated) set.
    pub async fn introspect_node(&self, node: NodeId) -> Result<NodeSnapshot, IntrospectError> {
        self.introspect_node_with(node, IntrospectOptions::default())
            .await
    }

    /// [`Node::introspect_node`] with options (how many actors, how long to wait).
    pub async fn introspect_node_with(
        &self,
        node: NodeId,
        options: IntrospectOptions,
    ) -> Result<NodeSnapshot, IntrospectError> {
        if node == self.id() {
            return Ok(self.introspect_with(options).await);
        }
        service::ask(self, node, options).await
    }

    /// Every member's snapshot: this node's first, then each member of the cluster (the
    /// membership's view, [`Node::cluster_members`], or the connected nodes for a node
    /// without membership), in id order, asked all at once. A member that does not answer
    /// within the timeout, refuses or is down is a [`NodeEntry::Unavailable`] with the
    /// error.
    pub async fn introspect_cluster(&self) -> ClusterSnapshot {
        self.introspect_cluster_with(IntrospectOptions::default()).await
    }

    /// [`Node::introspect_cluster`] with options, applied to every member.
    pub async fn introspect_cluster_with(&self, options: IntrospectOptions) -> ClusterSnapshot {
        let mut members: Vec<NodeId> = self.cluster_members().into_iter().map(|m| m.id).collect();
        if members.is_empty() {
            members = self.connected_nodes().into_iter().map(|p| p.id).collect();
        }
        members.retain(|&member| member != self.id());
        members.sort();
        members.dedup();
        let mut asks = JoinSet::new();
        for (index, member) in members.iter().copied().enumerate() {
            let node = self.clone();
            asks.spawn(async move { (index, node.introspect_node_with(member, options).await) });
        }
        let mut answers: Vec<Option<Result<NodeSnapshot, IntrospectError>>> = vec![None; members.len()];
        let mine = self.introspect_with(options).await;
        while let Some(joined) = asks.join_next().await {
            if let Ok((index, answer)) = joined {
                if let Some(slot) = answers.get_mut(index) {
                    *slot = Some(answer);
                }
            }
        }
        let mut nodes = vec![NodeEntry::Snapshot(mine)];
        for (member, answer) in members.into_iter().zip(answers) {
            // A task that did not finish (the runtime is shutting down) counts as a timeout.
            let answer = answer.unwrap_or(Err(IntrospectError::Timeout {
                node: member,
                timeout: options.timeout,
            }));
            nodes.push(match answer {
                Ok(snapshot) => NodeEntry::Snapshot(snapshot),
                Err(error) => NodeEntry::Unavailable {
                    node: member,
                    name: self.peer_name(member),
                    error: error.to_string(),
                },
            });
        }
        ClusterSnapshot {
            gathered_by: self.id(),
            nodes,
        }
    }

    /// The name of peer `node` as its handshake gave it; empty if it is not known.
    fn peer_name(&self, node: NodeId) -> String {
        self.net()
            .and_then(|net| net.known_slot(node))
            .map(|slot| slot.name())
            .unwrap_or_default()
    }

    /// This node's remote introspection.
    pub(crate) fn introspector(&self) -> &Arc<IntrospectService> {
        &self.attached().introspect
    }
}
