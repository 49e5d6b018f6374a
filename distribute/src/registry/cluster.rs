//! The node's side of the cluster-wide registry: its API and its part of the protocol (see
//! [`global`](super::global) for the design).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::global::{GlobalEntry, NameChange, RegistryMsg};
use super::{validate_name, RegistryError};
use crate::actor::{Actor, ActorId, ActorRef, ExitReason, Message, NodeId};
use crate::net::peer::PeerSlot;
use crate::net::NodeEvent;
use crate::node::Node;
use crate::DEFAULT_CALL_TIMEOUT;

impl Node {
    /// Registers `actor` under `name` on every connected node. Returns once every node has
    /// recorded it; fails with [`RegistryError::AlreadyRegistered`] (and the current owner)
    /// if another actor holds the name, [`RegistryError::InvalidName`] or
    /// [`RegistryError::ActorStopped`]. The name is released when the actor stops for good
    /// (a supervised restart keeps the ref, and the name), when its node goes down, or by
    /// [`unregister_global`](Self::unregister_global).
    pub async fn register_global<A: Actor>(
        &self,
        name: &str,
        actor: &ActorRef<A>,
    ) -> Result<(), RegistryError> {
        validate_name(name)?;
        if actor.is_local() && !actor.is_alive() {
            return Err(RegistryError::ActorStopped { actor: actor.id() });
        }
        let entry = GlobalEntry {
            owner: actor.id(),
            fingerprint: <A::Msg as Message>::FINGERPRINT,
            type_name: A::NAME.to_owned(),
        };
        match self.submit(name, Change::Claim(entry)).await? {
            Ok(()) => {
                self.release_when_stopped(name, actor);
                Ok(())
            }
            Err(owner) => Err(RegistryError::AlreadyRegistered {
                name: name.to_owned(),
                owner: owner.unwrap_or(actor.id()),
            }),
        }
    }

    /// Has the sequencer apply `change` to `name`. A sequencer that goes down in the middle is
    /// replaced by the next one; a retry of a change that did go through is answered the same
    /// (a claim by the same owner is accepted again, an unclaim finds the name gone).
    async fn submit(&self, name: &str, change: Change) -> Result<Result<(), Option<ActorId>>, RegistryError> {
        let mut last_sequencer = self.id();
        for _ in 0..3 {
            let sequencer = self.sequencer();
            last_sequencer = sequencer;
            let outcome = if sequencer == self.id() {
                Some(decide(self, name, change.clone()).await)
            } else {
                self.submit_at(sequencer, name, &change).await?
            };
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
        }
        Err(RegistryError::NodeDown { node: last_sequencer })
    }

    /// Sends a change to the sequencer; `None` if it went down before answering.
    async fn submit_at(
        &self,
        sequencer: NodeId,
        name: &str,
        change: &Change,
    ) -> Result<Option<Result<(), Option<ActorId>>>, RegistryError> {
        let Some(slot) = self.net().and_then(|net| net.connected_slot(sequencer)) else {
            return Ok(None);
        };
        let global = self.global();
        let request = global.next_request();
        let answer = global.expect_claim(request);
        let name = name.to_owned();
        slot.send_registry(&match change {
            Change::Claim(entry) => RegistryMsg::Claim {
                request,
                name,
                entry: entry.clone(),
            },
            Change::Unclaim(owner) => RegistryMsg::Unclaim {
                request,
                name,
                owner: *owner,
            },
        });
        match tokio::time::timeout(DEFAULT_CALL_TIMEOUT, answer).await {
            Ok(Ok(result)) => Ok(Some(result)),
            Ok(Err(_)) => Ok(None),
            Err(_) => {
                global.forget_claim(request);
                Err(RegistryError::Timeout {
                    node: sequencer,
                    timeout: DEFAULT_CALL_TIMEOUT,
                })
            }
        }
    }

    /// Releases `name` everywhere when `actor` stops for good.
    fn release_when_stopped<A: Actor>(&self, name: &str, actor: &ActorRef<A>) {
        // The monitor is set up in the task, off the registering caller's path; an actor that
        // stopped meanwhile is reported at once.
        let (node, name, owner, actor) = (self.downgrade(), name.to_owned(), actor.id(), actor.clone());
        tokio::spawn(async move {
            let down = actor.monitor().await;
            drop(actor);
            // A lost connection is not a stop: the owner's node going down removes its names
            // on its own, and a partition is settled when it heals.
            if down.reason == ExitReason::NodeDown {
                return;
            }
            if let Some(node) = node.upgrade() {
                let _ = node.unregister_global(&name, owner).await;
            }
        });
    }

    /// Releases `name`, which `owner` must hold ([`RegistryError::NotOwner`] otherwise,
    /// [`RegistryError::NotFound`] if no one does). Like a registration, the release is
    /// ordered by the sequencer and returns once every connected node has dropped the name,
    /// so a registration that follows it, from any node, finds the name free.
    pub async fn unregister_global(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        validate_name(name)?;
        match self.submit(name, Change::Unclaim(owner)).await? {
            Ok(()) => Ok(()),
            Err(None) => Err(RegistryError::NotFound {
                name: name.to_owned(),
            }),
            Err(Some(holder)) => Err(RegistryError::NotOwner {
                name: name.to_owned(),
                owner: holder,
            }),
        }
    }

    /// The actor registered under `name` in the cluster-wide registry, as an `A`. A local
    /// read, no network round trip: [`RegistryError::NotFound`], or
    /// [`RegistryError::TypeMismatch`] if the actor speaks another protocol.
    pub fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, RegistryError> {
        validate_name(name)?;
        let entry = self.global().get(name).ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })?;
        if entry.fingerprint != <A::Msg as Message>::FINGERPRINT {
            return Err(RegistryError::TypeMismatch {
                name: name.to_owned(),
                expected: A::NAME,
                found: crate::node::intern_type_name(entry.type_name),
            });
        }
        self.ref_to(entry.owner).ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })
    }

    /// Like [`lookup`](Self::lookup), waiting up to `timeout` for the name to be registered.
    /// It waits on registry changes, not in a polling loop. A zero timeout is
    /// [`RegistryError::InvalidTimeout`]; running out is [`RegistryError::LookupTimeout`].
    pub async fn lookup_with_timeout<A: Actor>(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<ActorRef<A>, RegistryError> {
        validate_name(name)?;
        if timeout.is_zero() {
            return Err(RegistryError::InvalidTimeout);
        }
        let mut changes = self.global().subscribe();
        let wait = async {
            loop {
                match self.lookup::<A>(name) {
                    Err(RegistryError::NotFound { .. }) => {}
                    other => return other,
                }
                if changes.changed().await.is_err() {
                    return Err(RegistryError::NotFound {
                        name: name.to_owned(),
                    });
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or_else(|_| {
            Err(RegistryError::LookupTimeout {
                name: name.to_owned(),
                timeout,
            })
        })
    }

    /// Every name of the cluster-wide registry that starts with `prefix` (all of them for
    /// `""`), sorted: a service directory.
    pub fn registered_names(&self, prefix: &str) -> Vec<String> {
        self.global().names(prefix)
    }

    /// Like [`register_global`](Self::register_global), retried while the name is held by
    /// another owner or the cluster cannot be reached (an earlier owner may be on its way
    /// out, a node may be joining): up to `policy.attempts` tries, waiting exponentially
    /// longer between them, with jitter. Invalid names and stopped actors fail at once.
    pub async fn register_with_retry<A: Actor>(
        &self,
        name: &str,
        actor: &ActorRef<A>,
        policy: RetryPolicy,
    ) -> Result<(), RegistryError> {
        let mut delay = policy.initial;
        let mut jitter = self.id().as_u64() ^ actor.id().local().rotate_left(17) | 1;
        let mut attempt = 1;
        loop {
            match self.register_global(name, actor).await {
                Ok(()) => return Ok(()),
                Err(
                    error @ (RegistryError::AlreadyRegistered { .. }
                    | RegistryError::NodeDown { .. }
                    | RegistryError::Timeout { .. }),
                ) if attempt < policy.attempts.max(1) => {
                    tracing::debug!(%name, attempt, %error, "registration failed; retrying");
                }
                Err(error) => return Err(error),
            }
            jitter ^= jitter << 13;
            jitter ^= jitter >> 7;
            jitter ^= jitter << 17;
            let quarter = (delay.as_micros() / 4).max(1) as u64;
            tokio::time::sleep(delay + Duration::from_micros(jitter % quarter)).await;
            delay = (delay * 2).min(policy.max);
            attempt += 1;
        }
    }

    /// A stream of the changes of `name` in the cluster-wide registry: registered (with its
    /// owner) and released. Starts with the current owner, if any.
    pub fn watch(&self, name: &str) -> Result<NameWatch, RegistryError> {
        validate_name(name)?;
        let rx = self.global().watch();
        let first = self.global().get(name).map(|entry| NameChange {
            name: name.to_owned(),
            owner: Some(entry.owner),
        });
        Ok(NameWatch {
            name: name.to_owned(),
            first,
            rx,
        })
    }

    /// Adds `actor` to the process group `group` on every connected node. It leaves the group
    /// when it stops for good or its node goes down.
    pub fn join<A: Actor>(&self, group: &str, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        validate_name(group)?;
        if actor.is_local() && !actor.is_alive() {
            return Err(RegistryError::ActorStopped { actor: actor.id() });
        }
        let member = GlobalEntry {
            owner: actor.id(),
            fingerprint: <A::Msg as Message>::FINGERPRINT,
            type_name: A::NAME.to_owned(),
        };
        self.global().join(group, member.clone());
        broadcast(
            self,
            &RegistryMsg::Join {
                group: group.to_owned(),
                member,
            },
        );
        let (node, group, id, monitor) = (self.downgrade(), group.to_owned(), actor.id(), actor.monitor());
        tokio::spawn(async move {
            if monitor.await.reason != ExitReason::NodeDown {
                if let Some(node) = node.upgrade() {
                    node.leave_by_id(&group, id);
                }
            }
        });
        Ok(())
    }

    /// Removes `actor` from `group` on every connected node; false if it was not a member.
    pub fn leave<A: Actor>(&self, group: &str, actor: &ActorRef<A>) -> bool {
        self.leave_by_id(group, actor.id())
    }

    fn leave_by_id(&self, group: &str, member: ActorId) -> bool {
        let left = self.global().leave(group, member);
        if left {
            broadcast(
                self,
                &RegistryMsg::Leave {
                    group: group.to_owned(),
                    member,
                },
            );
        }
        left
    }

    /// The members of `group` that are `A`s (of `A`'s protocol), sorted by id.
    pub fn members<A: Actor>(&self, group: &str) -> Vec<ActorRef<A>> {
        let fingerprint = <A::Msg as Message>::FINGERPRINT;
        self.global()
            .members(group)
            .into_iter()
            .filter(|member| member.fingerprint == fingerprint)
            .filter_map(|member| self.ref_to::<A>(member.owner))
            .collect()
    }

    /// Every process group with at least one member, sorted.
    pub fn groups(&self) -> Vec<String> {
        self.global().group_names()
    }

    /// Tells every `A` member of `group` the message `make` builds; returns how many it
    /// reached (a member that stopped or whose node is down is skipped).
    pub async fn broadcast<A: Actor>(&self, group: &str, make: impl Fn() -> A::Msg) -> usize {
        let mut reached = 0;
        for member in self.members::<A>(group) {
            if member.tell(make()).await.is_ok() {
                reached += 1;
            }
        }
        reached
    }

    /// A ref to `id`: local, or through the peer that hosts it.
    fn ref_to<A: Actor>(&self, id: ActorId) -> Option<ActorRef<A>> {
        if id.node() == self.id() {
            return Some(self.local_ref(id));
        }
        self.net().map(|net| ActorRef::remote(id, net.slot(id.node())))
    }

    /// The node that orders registrations: the lowest id among this node and those it is
    /// connected to.
    fn sequencer(&self) -> NodeId {
        let connected = self.net().map(|net| net.connected()).unwrap_or_default();
        connected
            .iter()
            .map(|slot| slot.id)
            .chain(std::iter::once(self.id()))
            .min()
            .unwrap_or(self.id())
    }
}

/// A change to one name, as submitted to the sequencer.
#[derive(Debug, Clone)]
enum Change {
    Claim(GlobalEntry),
    Unclaim(ActorId),
}

/// The sequencer's decision: apply `change` to `name` (a claim unless another owner holds the
/// name, an unclaim only by its owner), send it to every connected node, and wait until each
/// has applied it (or gone down). All changes of all names pass here, one at a time, and
/// reach every node in the order they were decided.
async fn decide(node: &Node, name: &str, change: Change) -> Result<(), Option<ActorId>> {
    let global = node.global();
    let _one_at_a_time = global.deciding.lock().await;
    let existing = global.get(name).map(|entry| entry.owner);
    let request = global.next_request();
    let msg = match change {
        Change::Claim(entry) => match existing {
            Some(owner) if owner == entry.owner => return Ok(()),
            Some(owner) => return Err(Some(owner)),
            None => {
                global.insert(name, entry.clone());
                tracing::debug!(%name, owner = %entry.owner, "global name registered");
                RegistryMsg::Commit {
                    request,
                    name: name.to_owned(),
                    entry,
                }
            }
        },
        Change::Unclaim(owner) => match existing {
            None => return Err(None),
            Some(holder) if holder != owner => return Err(Some(holder)),
            Some(_) => {
                global.remove_if_owner(name, owner);
                tracing::debug!(%name, %owner, "global name released");
                RegistryMsg::Release {
                    request,
                    name: name.to_owned(),
                    owner,
                }
            }
        },
    };
    let peers = node.net().map(|net| net.connected()).unwrap_or_default();
    let acked = global.expect_acks(request, peers.iter().map(|slot| slot.id).collect::<HashSet<_>>());
    for slot in &peers {
        slot.send_registry(&msg);
    }
    let _ = tokio::time::timeout(DEFAULT_CALL_TIMEOUT, acked).await;
    Ok(())
}

fn broadcast(node: &Node, msg: &RegistryMsg) {
    if let Some(net) = node.net() {
        for slot in net.connected() {
            slot.send_registry(msg);
        }
    }
}

/// A connection to `slot` was installed: send it our replica.
pub(crate) fn on_peer_up(node: &Node, slot: &PeerSlot) {
    slot.send_registry(&RegistryMsg::Snapshot {
        entries: node.global().snapshot(),
        groups: node.global().group_snapshot(),
    });
}

/// `peer` went down: its actors' names go, and nothing waits for it any more.
pub(crate) fn on_peer_down(node: &Node, peer: NodeId) {
    let global = node.global();
    global.remove_node(peer);
    global.acked(None, peer);
    global.drop_claims();
}

/// A Registry frame arrived from `slot`.
pub(crate) fn on_message(node: &Node, slot: &Arc<PeerSlot>, msg: RegistryMsg) {
    let global = node.global();
    match msg {
        RegistryMsg::Claim { request, name, entry } => {
            decide_for(node, slot, request, name, Change::Claim(entry))
        }
        RegistryMsg::Unclaim { request, name, owner } => {
            decide_for(node, slot, request, name, Change::Unclaim(owner))
        }
        RegistryMsg::ClaimReply { request, result } => global.on_claim_reply(request, result),
        RegistryMsg::Commit { request, name, entry } => {
            settle(node, global.merge(vec![(name, entry)]));
            slot.send_registry(&RegistryMsg::CommitAck { request });
        }
        RegistryMsg::CommitAck { request } => global.acked(Some(request), slot.id),
        RegistryMsg::Release { request, name, owner } => {
            global.remove_if_owner(&name, owner);
            slot.send_registry(&RegistryMsg::CommitAck { request });
        }
        RegistryMsg::Snapshot { entries, groups } => {
            global.merge_groups(groups);
            settle(node, global.merge(entries));
        }
        RegistryMsg::Join { group, member } => global.join(&group, member),
        RegistryMsg::Leave { group, member } => {
            global.leave(&group, member);
        }
    }
}

/// Decides a change submitted by the node behind `slot`, and answers it.
fn decide_for(node: &Node, slot: &Arc<PeerSlot>, request: u64, name: String, change: Change) {
    let (node, slot) = (node.clone(), Arc::clone(slot));
    tokio::spawn(async move {
        let result = decide(&node, &name, change).await;
        slot.send_registry(&RegistryMsg::ClaimReply { request, result });
    });
}

/// After a merge: every node stops the local losers of name conflicts, and tells its
/// subscribers.
fn settle(node: &Node, conflicts: Vec<(String, ActorId, ActorId)>) {
    for (name, winner, loser) in conflicts {
        tracing::warn!(%name, %winner, %loser, "global name conflict settled");
        let stop = node.global().conflict_policy().stop_losers;
        if let Some(cell) = node.local_cell(loser).filter(|_| stop) {
            let reason = ExitReason::error(format!("lost the global name `{name}` to {winner}"));
            let _ = cell.core().signals.push(crate::actor::Signal::Stop(reason));
        }
        if let Some(net) = node.net() {
            net.emit(NodeEvent::NameConflict { name, winner, loser });
        }
    }
}

/// How [`Node::register_with_retry`] retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all (at least one).
    pub attempts: u32,
    /// The first wait; each later one doubles, plus up to 25 % of jitter.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, from 50 ms up to 1 s apart.
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            initial: Duration::from_millis(50),
            max: Duration::from_secs(1),
        }
    }
}

/// The changes of one name, from [`Node::watch`].
#[derive(Debug)]
pub struct NameWatch {
    name: String,
    first: Option<NameChange>,
    rx: tokio::sync::broadcast::Receiver<NameChange>,
}

impl NameWatch {
    /// The next change of the name; `None` once the node is gone. A watcher more than 1024
    /// changes (of any name) behind skips the oldest.
    pub async fn next(&mut self) -> Option<NameChange> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        loop {
            match self.rx.recv().await {
                Ok(change) if change.name == self.name => return Some(change),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, name = %self.name, "name watcher lagged behind");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
