//! The node's side of the cluster-wide registry: its API and its part of the protocol (see
//! [`global`](super::global) for the design).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::global::{GlobalEntry, RegistryMsg};
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
        // A sequencer that goes down in the middle is replaced by the next one; a retry of a
        // registration that did go through is answered Ok (same owner).
        let mut last_sequencer = self.id();
        for _ in 0..3 {
            let sequencer = self.sequencer();
            last_sequencer = sequencer;
            let outcome = if sequencer == self.id() {
                Some(decide(self, name, entry.clone()).await)
            } else {
                self.claim_at(sequencer, name, &entry).await?
            };
            match outcome {
                Some(Ok(())) => {
                    self.release_when_stopped(name, actor);
                    return Ok(());
                }
                Some(Err(owner)) => {
                    return Err(RegistryError::AlreadyRegistered {
                        name: name.to_owned(),
                        owner,
                    })
                }
                None => continue,
            }
        }
        Err(RegistryError::NodeDown { node: last_sequencer })
    }

    /// Sends a claim to the sequencer; `None` if it went down before answering.
    async fn claim_at(
        &self,
        sequencer: NodeId,
        name: &str,
        entry: &GlobalEntry,
    ) -> Result<Option<Result<(), ActorId>>, RegistryError> {
        let Some(slot) = self.net().and_then(|net| net.connected_slot(sequencer)) else {
            return Ok(None);
        };
        let global = self.global();
        let request = global.next_request();
        let answer = global.expect_claim(request);
        slot.send_registry(&RegistryMsg::Claim {
            request,
            name: name.to_owned(),
            entry: entry.clone(),
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
        let (node, name, owner, monitor) = (self.downgrade(), name.to_owned(), actor.id(), actor.monitor());
        tokio::spawn(async move {
            let down = monitor.await;
            // A lost connection is not a stop: the owner's node going down removes its names
            // on its own, and a partition is settled when it heals.
            if down.reason == ExitReason::NodeDown {
                return;
            }
            if let Some(node) = node.upgrade() {
                node.release(&name, owner);
            }
        });
    }

    fn release(&self, name: &str, owner: ActorId) {
        if self.global().remove_if_owner(name, owner) {
            tracing::debug!(%name, %owner, "global name released");
            broadcast(
                self,
                &RegistryMsg::Release {
                    name: name.to_owned(),
                    owner,
                },
            );
        }
    }

    /// Releases `name`, which `owner` must hold ([`RegistryError::NotOwner`] otherwise,
    /// [`RegistryError::NotFound`] if no one does), on every connected node.
    pub fn unregister_global(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        validate_name(name)?;
        let entry = self.global().get(name).ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })?;
        if entry.owner != owner {
            return Err(RegistryError::NotOwner {
                name: name.to_owned(),
                owner: entry.owner,
            });
        }
        self.release(name, owner);
        Ok(())
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
        if entry.owner.node() == self.id() {
            return Ok(self.local_ref(entry.owner));
        }
        match self.net() {
            Some(net) => Ok(ActorRef::remote(entry.owner, net.slot(entry.owner.node()))),
            None => Err(RegistryError::NotFound {
                name: name.to_owned(),
            }),
        }
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

/// The sequencer's decision: record the name (unless another owner holds it), send it to every
/// connected node and wait until each has recorded it (or gone down).
async fn decide(node: &Node, name: &str, entry: GlobalEntry) -> Result<(), ActorId> {
    let global = node.global();
    let _one_at_a_time = global.deciding.lock().await;
    if let Some(existing) = global.get(name) {
        return if existing.owner == entry.owner {
            Ok(())
        } else {
            Err(existing.owner)
        };
    }
    global.insert(name, entry.clone());
    let peers = node.net().map(|net| net.connected()).unwrap_or_default();
    let request = global.next_request();
    let acked = global.expect_acks(request, peers.iter().map(|slot| slot.id).collect::<HashSet<_>>());
    for slot in &peers {
        slot.send_registry(&RegistryMsg::Commit {
            request,
            name: name.to_owned(),
            entry: entry.clone(),
        });
    }
    let _ = tokio::time::timeout(DEFAULT_CALL_TIMEOUT, acked).await;
    tracing::debug!(%name, owner = %entry.owner, "global name registered");
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
            let (node, slot) = (node.clone(), Arc::clone(slot));
            tokio::spawn(async move {
                let result = decide(&node, &name, entry).await;
                slot.send_registry(&RegistryMsg::ClaimReply { request, result });
            });
        }
        RegistryMsg::ClaimReply { request, result } => global.on_claim_reply(request, result),
        RegistryMsg::Commit { request, name, entry } => {
            settle(node, global.merge(vec![(name, entry)]));
            slot.send_registry(&RegistryMsg::CommitAck { request });
        }
        RegistryMsg::CommitAck { request } => global.acked(Some(request), slot.id),
        RegistryMsg::Release { name, owner } => {
            global.remove_if_owner(&name, owner);
        }
        RegistryMsg::Snapshot { entries } => settle(node, global.merge(entries)),
    }
}

/// After a merge: every node stops the local losers of name conflicts, and tells its
/// subscribers.
fn settle(node: &Node, conflicts: Vec<(String, ActorId, ActorId)>) {
    for (name, winner, loser) in conflicts {
        tracing::warn!(%name, %winner, %loser, "global name conflict settled");
        if let Some(cell) = node.local_cell(loser) {
            let reason = ExitReason::error(format!("lost the global name `{name}` to {winner}"));
            let _ = cell.core().signals.push(crate::actor::Signal::Stop(reason));
        }
        if let Some(net) = node.net() {
            net.emit(NodeEvent::NameConflict { name, winner, loser });
        }
    }
}
