//! What a scenario does through a [`SimNode`] and wants in its history: registrations,
//! lookups and calls, each recorded with its outcome; and [`TestCluster::check`], which
//! settles the cluster and judges the history.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use super::cluster::{NodeCrashed, SimError, SimNode, TestCluster};
use super::history::{FinalState, NodeView, Op};
use crate::actor::{Actor, ActorId, ActorRef};
use crate::CallError;

impl SimNode {
    /// Registers `actor` under `name` in the global registry through this node, recording
    /// the attempt's outcome (acknowledged registrations are checked later).
    pub async fn register_global<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), String> {
        let (owned, target) = (name.to_owned(), actor.clone());
        let outcome = self
            .run(move |node| async move { node.register_global(&owned, &target).await })
            .await
            .map_err(|crashed| crashed.to_string())
            .and_then(|result| result.map_err(|error| error.to_string()));
        self.record(Op::Register {
            name: name.to_owned(),
            actor: actor.id(),
            outcome: outcome.clone(),
        });
        outcome
    }

    /// Releases `name`, held by `actor`, through this node, recording it.
    pub async fn unregister_global(&self, name: &str, actor: ActorId) -> Result<(), String> {
        let owned = name.to_owned();
        let outcome = self
            .run(move |node| async move { node.unregister_global(&owned, actor).await })
            .await
            .map_err(|crashed| crashed.to_string())
            .and_then(|result| result.map_err(|error| error.to_string()));
        self.record(Op::Unregister {
            name: name.to_owned(),
            actor,
            outcome: outcome.clone(),
        });
        outcome
    }

    /// Looks `name` up in this node's replica, recording what it found.
    pub fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, String> {
        let found = match self.get() {
            Some(node) => node.lookup::<A>(name).map_err(|error| error.to_string()),
            None => Err(NodeCrashed(self.index()).to_string()),
        };
        self.record(Op::Lookup {
            name: name.to_owned(),
            found: found.as_ref().map(|actor| actor.id()).map_err(Clone::clone),
        });
        found
    }

    /// Runs `call` (an ask or a typed client call to `target`, due within `timeout`) on this
    /// node, recording when it starts and how it ends; the checker reports one that never
    /// ends. A call cut short by this node's crash ends as such.
    pub async fn call<T, F, Fut>(&self, target: ActorId, timeout: Duration, call: F) -> Result<T, String>
    where
        T: 'static,
        F: FnOnce(crate::Node) -> Fut + 'static,
        Fut: Future<Output = Result<T, CallError>> + 'static,
    {
        let history = self.history();
        let number = history.next_call();
        // A call that ends with a typed error ends by its timeout, plus the ticks a reply
        // takes to cross the simulated network and the node to notice.
        let deadline = turmoil::sim_elapsed().unwrap_or_default() + timeout + Duration::from_secs(1);
        self.record(Op::CallStarted {
            call: number,
            target,
            deadline,
        });
        let outcome = match self.run(call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(error.to_string()),
            Err(crashed) => Err(crashed.to_string()),
        };
        self.record(Op::CallEnded {
            call: number,
            outcome: outcome.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        outcome
    }

    fn record(&self, op: Op) {
        self.history().record(self.index(), op);
    }
}

impl TestCluster {
    /// Writes a note into the history (and so the trace).
    pub fn note(&self, note: impl Into<String>) {
        self.history().record_cluster(Op::Note(note.into()));
    }

    /// Waits until the running nodes have stayed connected to each other, with registries
    /// that agree, for the settle window (see
    /// [`TestClusterBuilder::settle_window`](super::TestClusterBuilder::settle_window)), or
    /// until `settle` passes; then judges the history against the cluster as it stands:
    /// see [`History::check`](super::History::check).
    pub async fn check(&self, settle: Duration) -> Result<(), SimError> {
        let deadline = self.elapsed() + settle;
        let mut settled_since = None;
        while self.elapsed() < deadline {
            if !(self.meshed() && self.agree()) {
                settled_since = None;
            } else if self.elapsed() - *settled_since.get_or_insert(self.elapsed()) >= self.settle_window() {
                break;
            }
            self.sleep(Duration::from_millis(10)).await;
        }
        // The registry's conflict notices travel after its replicas: let them land.
        self.sleep(Duration::from_millis(200)).await;
        let end = self.final_state();
        self.history()
            .check(&end)
            .map_err(|violations| self.error(violations.to_string()))
    }

    fn agree(&self) -> bool {
        let views: Vec<Vec<(String, ActorId)>> = (0..self.len())
            .filter_map(|index| self.node(index).global_names())
            .collect();
        views.windows(2).all(|pair| pair[0] == pair[1])
    }

    /// The running nodes' views and the actors alive on them.
    pub fn final_state(&self) -> FinalState {
        let mut end = FinalState {
            at: self.elapsed(),
            ..FinalState::default()
        };
        let started = self.started_at();
        for index in 0..self.len() {
            let Some(node) = self.node(index).get() else {
                continue;
            };
            let names: BTreeMap<String, ActorId> = node.global_owners().into_iter().collect();
            let owners: BTreeSet<ActorId> = names.values().copied().collect();
            end.alive.extend(
                owners
                    .into_iter()
                    .filter(|owner| owner.node() == node.id() && node.local_cell(*owner).is_some()),
            );
            end.nodes.push(NodeView {
                index,
                id: node.id(),
                since: started.get(&index).copied().unwrap_or_default(),
                names,
            });
        }
        end.alive.extend(self.registered_alive());
        end
    }

    /// When each node's running incarnation started.
    fn started_at(&self) -> BTreeMap<usize, Duration> {
        let mut started = BTreeMap::new();
        for entry in self.history().entries() {
            if let (Some(node), Op::Started { .. }) = (entry.node, &entry.op) {
                started.insert(node, entry.at);
            }
        }
        started
    }

    /// Every actor named in an acknowledged registration that is alive on a running node.
    fn registered_alive(&self) -> Vec<ActorId> {
        let running: Vec<crate::Node> = (0..self.len())
            .filter_map(|index| self.node(index).get())
            .collect();
        self.history()
            .entries()
            .into_iter()
            .filter_map(|entry| match entry.op {
                Op::Register {
                    actor,
                    outcome: Ok(()),
                    ..
                } => Some(actor),
                _ => None,
            })
            .filter(|actor| {
                running
                    .iter()
                    .any(|node| node.id() == actor.node() && node.local_cell(*actor).is_some())
            })
            .collect()
    }
}
