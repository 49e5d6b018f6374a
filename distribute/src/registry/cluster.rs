//! The node's side of the cluster-wide registry: its API and its part of the protocol (see
//! [`global`](super::global) for the design).
//!
//! A change submitted from a node R that is not the sequencer S takes three one-way hops on
//! R's path: R's `Claim` to S; S's `Commit` to every other node C (which names R and the nodes
//! the commit went to) and, right after, its `Decided` to R; each C's `Relayed` copy to R. R
//! applies the first copy that arrives (S's or a relay; the others are only counted) and is
//! done once every C has relayed it (or went down). S decides in the connection's reader,
//! without a task unless another decision holds the `deciding` lock. Off R's path, R and every
//! C acknowledge the commit to S (`CommitAck`); S holds the lock until they all have (or went
//! down, or a timeout passed) before it decides the next change, so that changes reach every
//! node in the order S decided them. An acknowledgement also says whether R may be waiting
//! still: R's own when it was not done yet (a relay is late, or S's copy came first), a C's
//! when it could not relay (say, its connection to R is still coming up). Then S confirms the
//! change to R with a `ClaimReply` once it is everywhere, and R is done at the first of the
//! relays and that word: R never waits on a slow link from a C for longer than S would. R
//! retries with the next sequencer if S goes down before R's claim is done.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, OwnedMutexGuard};

use super::global::{
    Applied, Claimant, Committed, Decision, GlobalEntry, NameChange, OnApplied, OnGranted, RegistryMsg,
};
use super::{validate_name, RegistryError};
use crate::actor::Node;
use crate::actor::{Actor, ActorId, ActorRef, ExitReason, Message, NodeId};
use crate::net::NodeEvent;
use crate::net::PeerSlot;
use crate::transport::FrameKind;
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
        let release = self.release_when_stopped(name, actor);
        match self.submit(name, Change::Claim(entry), Some(release)).await? {
            Ok(()) => Ok(()),
            Err(owner) => Err(RegistryError::AlreadyRegistered {
                name: name.to_owned(),
                owner: owner.unwrap_or(actor.id()),
            }),
        }
    }

    /// Has the sequencer apply `change` to `name`, and runs `on_granted` if it does. A
    /// sequencer that goes down in the middle is replaced by the next one; a retry of a change
    /// that did go through is answered the same (a claim by the same owner is accepted again,
    /// an unclaim finds the name gone).
    async fn submit(
        &self,
        name: &str,
        change: Change,
        on_granted: Option<GrantHook>,
    ) -> Result<Decision, RegistryError> {
        let mut last_sequencer = self.id();
        for _ in 0..3 {
            let sequencer = self.sequencer();
            last_sequencer = sequencer;
            let outcome = if sequencer == self.id() {
                let outcome = decide(self, name, change.clone()).await;
                if let (Ok(()), Some(on_granted)) = (&outcome, &on_granted) {
                    on_granted();
                }
                Some(outcome)
            } else {
                let on_granted = on_granted
                    .clone()
                    .map(|hook| Box::new(move || hook()) as OnGranted);
                self.submit_at(sequencer, name, &change, on_granted).await?
            };
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
        }
        Err(RegistryError::NodeDown { node: last_sequencer })
    }

    /// Sends a change to the sequencer and waits until it is refused, or made and applied by
    /// every node the sequencer sent it to; `None` if the sequencer went down before that.
    async fn submit_at(
        &self,
        sequencer: NodeId,
        name: &str,
        change: &Change,
        on_granted: Option<OnGranted>,
    ) -> Result<Option<Decision>, RegistryError> {
        let global = self.global();
        let request = global.next_request();
        // Registered before the connection is looked at: a sequencer that goes down after the
        // look finds the claim and fails it.
        let answer = global.expect_claim(request, sequencer, on_granted);
        let Some(slot) = self.net().and_then(|net| net.connected_slot(sequencer)) else {
            global.forget_claim(request);
            return Ok(None);
        };
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

    /// What releases `name` everywhere when `actor` stops for good, once it holds the name.
    fn release_when_stopped<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> GrantHook {
        // The hook runs where the claim is answered (usually a connection's reader), so that
        // the task is spawned off the registering caller's path; an actor that stopped
        // meanwhile is reported at once.
        let (node, name, actor) = (self.downgrade(), name.to_owned(), actor.clone());
        Arc::new(move || {
            let (node, name, actor, owner) = (node.clone(), name.clone(), actor.clone(), actor.id());
            tokio::spawn(async move {
                let down = actor.monitor().await;
                drop(actor);
                // A lost connection is not a stop: the owner's node going down removes its
                // names on its own, and a partition is settled when it heals.
                if down.reason == ExitReason::NodeDown {
                    return;
                }
                if let Some(node) = node.upgrade() {
                    let _ = node.unregister_global(&name, owner).await;
                }
            });
        })
    }

    /// Releases `name`, which `owner` must hold ([`RegistryError::NotOwner`] otherwise,
    /// [`RegistryError::NotFound`] if no one does). Like a registration, the release is
    /// ordered by the sequencer and returns once every connected node has dropped the name,
    /// so a registration that follows it, from any node, finds the name free.
    pub async fn unregister_global(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        validate_name(name)?;
        match self.submit(name, Change::Unclaim(owner), None).await? {
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

/// What a granted claim sets up, for each attempt of [`Node::submit`].
type GrantHook = Arc<dyn Fn() + Send + Sync>;

/// A change to one name, as submitted to the sequencer.
#[derive(Debug, Clone)]
enum Change {
    Claim(GlobalEntry),
    Unclaim(ActorId),
}

/// A change decided by this node as the sequencer, for itself: made, sent to every
/// connected node, and answered once each has applied it (or gone down).
async fn decide(node: &Node, name: &str, change: Change) -> Decision {
    let turn = take_turn(node).await;
    let (applied, everywhere) = oneshot::channel();
    let done = Box::new(move |_: Applied| {
        let _ = applied.send(());
    });
    match decide_locked(node, turn, name, change, None, done) {
        Verdict::Answer(result) => result,
        Verdict::Made => {
            let _ = tokio::time::timeout(DEFAULT_CALL_TIMEOUT, everywhere).await;
            Ok(())
        }
    }
}

/// Decides a change submitted by the node behind `slot`, and answers it. The decision is
/// taken right here, in the connection's reader, unless another one holds the lock: then a
/// task waits for its turn.
fn decide_for(node: &Node, slot: &Arc<PeerSlot>, request: u64, name: String, change: Change) {
    match Arc::clone(&node.global().deciding).try_lock_owned() {
        Ok(turn) => decide_and_answer(node, turn, slot, request, &name, change),
        Err(_) => {
            let (node, slot) = (node.clone(), Arc::clone(slot));
            tokio::spawn(async move {
                let turn = take_turn(&node).await;
                decide_and_answer(&node, turn, &slot, request, &name, change);
            });
        }
    }
}

fn decide_and_answer(
    node: &Node,
    turn: OwnedMutexGuard<()>,
    slot: &Arc<PeerSlot>,
    request: u64,
    name: &str,
    change: Change,
) {
    // The claimant has its answer with the change, and the relays of the nodes the commit went
    // to; it is told again only if it may be waiting still.
    let claimant = Arc::clone(slot);
    let done = Box::new(move |applied: Applied| {
        if applied.unsettled {
            claimant.send_registry(&RegistryMsg::ClaimReply {
                request,
                result: Ok(()),
            });
        }
    });
    if let Verdict::Answer(result) = decide_locked(node, turn, name, change, Some((slot, request)), done) {
        slot.send_registry(&RegistryMsg::ClaimReply { request, result });
    }
}

/// Takes the `deciding` lock. A decision holds it until every node acknowledged its change;
/// one whose acknowledgements are overdue is given up here, when the next one wants its turn.
async fn take_turn(node: &Node) -> OwnedMutexGuard<()> {
    let global = node.global();
    loop {
        let now = tokio::time::Instant::now();
        // A commit being made right now is seen on the next round.
        let until = global.expire_commits(now).unwrap_or(now + DEFAULT_CALL_TIMEOUT);
        let turn = Arc::clone(&global.deciding).lock_owned();
        if let Ok(turn) = tokio::time::timeout_at(until, turn).await {
            return turn;
        }
    }
}

/// What the sequencer decided.
enum Verdict {
    /// Nothing changes (refused, or the claim is already granted): answer at once.
    Answer(Decision),
    /// The change is made and sent out; the claimant, if any, has its answer.
    Made,
}

/// The sequencer's decision, holding the `deciding` lock (`turn`): apply `change` to `name`
/// (a claim unless another owner holds the name, an unclaim only by its owner) and send it to
/// every connected node: to the claimant, if any, as its answer, to the others as a commit
/// that they relay to the claimant. The lock is held until every node has applied the change
/// (then `done` is called), so that all changes of all names reach every node in the order
/// they were decided.
fn decide_locked(
    node: &Node,
    turn: OwnedMutexGuard<()>,
    name: &str,
    change: Change,
    claimant: Option<(&Arc<PeerSlot>, u64)>,
    done: OnApplied,
) -> Verdict {
    let global = node.global();
    let existing = global.get(name).map(|entry| entry.owner);
    let change = match change {
        Change::Claim(entry) => match existing {
            Some(owner) if owner == entry.owner => return Verdict::Answer(Ok(())),
            Some(owner) => return Verdict::Answer(Err(Some(owner))),
            None => {
                global.insert(name, entry.clone());
                tracing::debug!(%name, owner = %entry.owner, "global name registered");
                Committed::Registered {
                    name: name.to_owned(),
                    entry,
                }
            }
        },
        Change::Unclaim(owner) => match existing {
            None => return Verdict::Answer(Err(None)),
            Some(holder) if holder != owner => return Verdict::Answer(Err(Some(holder))),
            Some(_) => {
                global.remove_if_owner(name, owner);
                tracing::debug!(%name, %owner, "global name released");
                Committed::Released {
                    name: name.to_owned(),
                    owner,
                }
            }
        },
    };
    let request = global.next_request();
    let peers = node.net().map(|net| net.connected()).unwrap_or_default();
    // This node is waited for too, until it has sent the change to every node: a node that
    // goes down meanwhile must not let the next decision overtake this one.
    let waiting: HashSet<NodeId> = peers
        .iter()
        .map(|slot| slot.id)
        .chain(std::iter::once(node.id()))
        .collect();
    global.expect_acks(
        request,
        waiting,
        tokio::time::Instant::now() + DEFAULT_CALL_TIMEOUT,
        Box::new(move |applied| {
            drop(turn);
            done(applied);
        }),
    );
    let claimant_id = claimant.map(|(slot, _)| slot.id);
    let others: Vec<NodeId> = peers
        .iter()
        .map(|slot| slot.id)
        .filter(|id| Some(*id) != claimant_id)
        .collect();
    // The others first: the claimant waits for their relays, a hop further.
    let commit = RegistryMsg::Commit {
        request,
        change: change.clone(),
        claimant: claimant.map(|(slot, request)| Claimant {
            node: slot.id,
            request,
            others: others.clone(),
        }),
    };
    for slot in peers.iter().filter(|slot| Some(slot.id) != claimant_id) {
        slot.send_registry(&commit);
    }
    if let Some((slot, claim)) = claimant {
        slot.send_registry(&RegistryMsg::Decided {
            request: claim,
            commit: request,
            change,
            others,
        });
    }
    global.acked(request, node.id(), true);
    Verdict::Made
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
    global.commits_without(peer);
    global.claims_without(peer);
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
        RegistryMsg::Decided {
            request,
            commit,
            change,
            others,
        } => on_answer(node, slot, request, commit, change, others, true),
        RegistryMsg::Relayed {
            request,
            commit,
            change,
            others,
        } => on_answer(node, slot, request, commit, change, others, false),
        RegistryMsg::ClaimReply { request, result } => global.on_claim_reply(request, slot.id, result),
        RegistryMsg::Commit {
            request,
            change,
            claimant,
        } => {
            let relay = claimant.map(|claimant| {
                let to = node.net().and_then(|net| net.connected_slot(claimant.node));
                let msg = RegistryMsg::Relayed {
                    request: claimant.request,
                    commit: request,
                    change: change.clone(),
                    others: claimant.others,
                };
                (to, msg)
            });
            apply(node, change);
            // The claimant first: it waits for this, the sequencer only before its next
            // decision.
            let settled = match relay {
                None => true,
                Some((Some(to), msg)) => {
                    to.send_registry(&msg);
                    true
                }
                Some((None, _)) => false,
            };
            slot.send_registry(&RegistryMsg::CommitAck { request, settled });
        }
        RegistryMsg::CommitAck { request, settled } => global.acked(request, slot.id, settled),
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

/// The answer to this node's claim `request`, from `slot`: the sequencer's own (`decided`) or
/// a relay by a node the commit went to. The first copy is applied and acknowledged to the
/// sequencer; the claim is granted once every node among `others` has relayed it (or by the
/// sequencer's `ClaimReply`).
fn on_answer(
    node: &Node,
    slot: &Arc<PeerSlot>,
    request: u64,
    commit: u64,
    change: Committed,
    others: Vec<NodeId>,
    decided: bool,
) {
    let global = node.global();
    let sequencer = global.take_change(request, commit, slot.id, decided);
    if sequencer.is_some() {
        apply(node, change);
    }
    // Only the copy applied sets whom to wait for. A node not connected here will not answer.
    // The slots are looked up first, and whether they are still up is checked under the
    // claims' lock: one that goes down later is dropped from the wait by `on_peer_down`.
    let net = node.net();
    let others: Vec<Arc<PeerSlot>> = others
        .into_iter()
        .filter(|id| sequencer.is_some() && *id != node.id())
        .filter_map(|id| net.as_ref()?.connected_slot(id))
        .collect();
    let settled = global.heard(
        request,
        slot.id,
        decided,
        sequencer.is_some(),
        others.iter().filter(|other| other.is_up()).map(|other| other.id),
    );
    // After the claim (the caller waits on it), before the sequencer may go on. A claim still
    // waiting for relays (the sequencer's copy came first, or a relay is slow) asks for the
    // sequencer's word once the change is everywhere: whichever comes first ends it.
    if let Some(sequencer) = sequencer {
        let to = if sequencer == slot.id {
            Some(Arc::clone(slot))
        } else {
            net.as_ref().and_then(|net| net.connected_slot(sequencer))
        };
        if let Some(to) = to {
            to.send_registry(&RegistryMsg::CommitAck {
                request: commit,
                settled,
            });
        }
    }
}

/// Applies a change the sequencer made.
fn apply(node: &Node, change: Committed) {
    let global = node.global();
    match change {
        Committed::Registered { name, entry } => settle(node, global.merge(vec![(name, entry)])),
        Committed::Released { name, owner } => {
            global.remove_if_owner(&name, owner);
        }
    }
}

/// After a merge: every node stops the local losers of name conflicts, and tells its
/// subscribers.
fn settle(node: &Node, conflicts: Vec<(String, ActorId, ActorId)>) {
    for (name, winner, loser) in conflicts {
        tracing::warn!(%name, %winner, %loser, "global name conflict settled");
        let stop = node.global().conflict_policy().stop_losers;
        if let Some(cell) = node.local_cell(loser).filter(|_| stop) {
            let reason = ExitReason::error(format!("lost the global name `{name}` to {winner}"));
            let _ = cell.core().signal(crate::actor::Signal::Stop(reason));
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

/// Queues registry frames on a peer's connection.
trait SendRegistry {
    fn send_registry(&self, msg: &RegistryMsg);
}

impl SendRegistry for PeerSlot {
    fn send_registry(&self, msg: &RegistryMsg) {
        self.send_frame(FrameKind::Registry, |buf| msg.encode(buf));
    }
}

impl Node {
    /// A connection to `peer` was installed: send it our replica.
    pub(crate) fn registry_peer_up(&self, peer: NodeId) {
        if let Some(slot) = self.net().and_then(|net| net.connected_slot(peer)) {
            on_peer_up(self, &slot);
        }
    }

    /// `peer` went down.
    pub(crate) fn registry_peer_down(&self, peer: NodeId) {
        on_peer_down(self, peer);
    }

    /// A registry frame from `from`; returns whether it was its replica (its greeting).
    pub(crate) fn registry_frame(&self, from: NodeId, body: &[u8]) -> Result<bool, crate::codec::CodecError> {
        let msg = RegistryMsg::decode(body)?;
        let snapshot = matches!(msg, RegistryMsg::Snapshot { .. });
        if let Some(slot) = self.net().and_then(|net| net.connected_slot(from)) {
            on_message(self, &slot, msg);
        }
        Ok(snapshot)
    }
}
