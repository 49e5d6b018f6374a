//! The node's side of the cluster-wide registry: the public API (names and process groups),
//! thin over the registry's driver, and the [`RegistryHost`] through which the driver reaches
//! the network, the node's actors and its event subscribers.
//!
//! Each method validates its arguments, builds the replicated entry, asks the driver, and maps
//! the answer to a [`RegistryError`]. What outlives a call is set up here too: a name is
//! released, and a group member leaves, when its actor stops for good (not when its node
//! merely becomes unreachable: the owner's node going down removes its names everywhere on its
//! own, and a partition is settled when it heals). Names are released by the owner's node,
//! the only one allowed to: it watches each of its actors that holds a name, however the name
//! was registered (here, or by another node for this node's actor).

use std::time::Duration;

use super::{Node, Services};
use crate::actor::{Actor, ActorId, ActorRef, ExitReason, Message, NodeId, Signal, WeakNode};
use crate::net::NodeEvent;
use crate::registry::protocol::Change;
use crate::registry::{
    found_type, validate_name, ConflictPolicy, GlobalEntry, NameChange, NameWatch, RegistryDriver,
    RegistryError, RegistryHost, RegistryMsg, RetryPolicy,
};

/// How many times the names of a stopped actor are released before giving up.
const RELEASE_ATTEMPTS: u32 = 5;

/// The wait between two tries to release a stopped actor's names.
const RELEASE_RETRY: Duration = Duration::from_millis(200);

impl Node {
    /// Registers `actor` under `name` on every connected node. Returns once every node has
    /// recorded it; fails with [`RegistryError::AlreadyRegistered`] (and the current owner)
    /// if another actor holds the name, [`RegistryError::InvalidName`],
    /// [`RegistryError::ActorStopped`], [`RegistryError::TooManyNames`] if the actor's node
    /// holds as many names as a node may ([`NodeBuilder::max_global_names_per_node`]), or
    /// [`RegistryError::NodeDown`] if the actor's node is not a member of the cluster. The
    /// name is released when the actor stops for good (a supervised restart keeps the ref,
    /// and the name), when its node goes down, or by
    /// [`unregister_global`](Self::unregister_global) on its node.
    ///
    /// [`NodeBuilder::max_global_names_per_node`]: crate::NodeBuilder::max_global_names_per_node
    pub async fn register_global<A: Actor>(
        &self,
        name: &str,
        actor: &ActorRef<A>,
    ) -> Result<(), RegistryError> {
        let span = crate::trace::trace_span!(
            debug,
            "register_global",
            name,
            actor_type = A::NAME,
            actor = %actor.id(),
            outcome = crate::trace::Empty
        );
        let registered = span.clone().instrument(self.register_checked(name, actor)).await;
        match &registered {
            Ok(()) => span.record("outcome", "ok"),
            Err(error) => span.record_display("outcome", error),
        }
        registered
    }

    async fn register_checked<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        validate_name(name)?;
        check_type_name::<A>()?;
        if actor.is_local() && !actor.is_alive() {
            return Err(RegistryError::ActorStopped { actor: actor.id() });
        }
        self.register_entry(name, entry_of(actor)).await
    }

    /// [`Node::register_global`] for an actor known by its registry entry; name and type name
    /// already checked.
    pub(crate) async fn register_entry(&self, name: &str, entry: GlobalEntry) -> Result<(), RegistryError> {
        let node = entry.owner.node();
        self.check_room(node)?;
        match self.registry().submit(name, Change::Claim(entry)).await? {
            Ok(()) => Ok(()),
            Err(Some(owner)) => Err(RegistryError::AlreadyRegistered {
                name: name.to_owned(),
                owner,
            }),
            // The sequencer refused without an owner: the actor's node is at its cap, or not
            // a member (it went down).
            Err(None) => {
                self.check_room(node)?;
                Err(RegistryError::NodeDown { node })
            }
        }
    }

    /// [`RegistryError::TooManyNames`] if the actors of `node` hold as many names as they may.
    fn check_room(&self, node: NodeId) -> Result<(), RegistryError> {
        let (held, limit) = self
            .registry()
            .read(|replica| (replica.names_of(node), replica.cap()));
        if held >= limit {
            return Err(RegistryError::TooManyNames { node, limit });
        }
        Ok(())
    }

    /// Releases `name`, which `owner` must hold. Only the owner's node may release it:
    /// anywhere else, and for another holder, this is [`RegistryError::NotOwner`] (with the
    /// name's holder); [`RegistryError::NotFound`] if no one holds it. Like a registration, the release is ordered by the sequencer and returns once
    /// every connected node has dropped the name, so a registration that follows it, from any
    /// node, finds the name free.
    pub async fn unregister_global(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        validate_name(name)?;
        if owner.node() != self.id() {
            let holder = self
                .registry()
                .read(|replica| replica.get(name).map(|entry| entry.owner));
            return Err(match holder {
                Some(holder) => RegistryError::NotOwner {
                    name: name.to_owned(),
                    owner: holder,
                },
                None => RegistryError::NotFound {
                    name: name.to_owned(),
                },
            });
        }
        match self.registry().submit(name, Change::Unclaim(owner)).await? {
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
        let fingerprint = <A::Msg as Message>::FINGERPRINT;
        // Only a mismatch needs the registered type's name: no allocation otherwise.
        let found = self.registry().read(|replica| {
            replica.get(name).map(|entry| {
                if entry.fingerprint == fingerprint {
                    Ok(entry.owner)
                } else {
                    Err(found_type(
                        (&entry.type_name, entry.fingerprint),
                        (A::NAME, fingerprint),
                    ))
                }
            })
        });
        let not_found = || RegistryError::NotFound {
            name: name.to_owned(),
        };
        match found.ok_or_else(not_found)? {
            Ok(owner) => self.ref_to(owner).ok_or_else(not_found),
            Err(found) => Err(RegistryError::TypeMismatch {
                name: name.to_owned(),
                expected: A::NAME,
                found,
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
        let mut changes = self.registry().subscribe();
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
        self.registry().read(|replica| replica.names(prefix))
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
        let backoff = policy.backoff();
        let mut rng = fastrand::Rng::new();
        let mut attempt: u32 = 1;
        loop {
            match self.register_global(name, actor).await {
                Ok(()) => return Ok(()),
                Err(
                    error @ (RegistryError::AlreadyRegistered { .. }
                    | RegistryError::NodeDown { .. }
                    | RegistryError::Timeout { .. }),
                ) if attempt < policy.attempts.max(1) => {
                    crate::trace::trace_event!(debug, %name, attempt, %error, "registration failed; retrying");
                }
                Err(error) => return Err(error),
            }
            let failures = usize::try_from(attempt - 1).unwrap_or(usize::MAX);
            tokio::time::sleep(backoff.jittered(failures, &mut rng)).await;
            attempt += 1;
        }
    }

    /// A stream of the changes of `name` in the cluster-wide registry: registered (with its
    /// owner) and released. Starts with the current owner, if any.
    pub fn watch(&self, name: &str) -> Result<NameWatch, RegistryError> {
        validate_name(name)?;
        let (rx, owner) = self.registry().watch(name);
        let first = owner.map(|owner| NameChange {
            name: name.to_owned(),
            owner: Some(owner),
        });
        Ok(NameWatch::new(name.to_owned(), first, rx))
    }

    /// Adds `actor` to the process group `group` on every connected node. It leaves the group
    /// when it stops for good or its node goes down. Fails with
    /// [`RegistryError::InvalidName`], [`RegistryError::ActorStopped`], or
    /// [`RegistryError::TooManyNames`] if the actor's node holds as many memberships as a node
    /// may.
    pub fn join<A: Actor>(&self, group: &str, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        validate_name(group)?;
        check_type_name::<A>()?;
        if actor.is_local() && !actor.is_alive() {
            return Err(RegistryError::ActorStopped { actor: actor.id() });
        }
        self.join_entry(group, entry_of(actor), actor.monitor())
    }

    /// [`Node::join`] for an actor known by its registry entry and a monitor on it; group and
    /// type name already checked.
    pub(crate) fn join_entry(
        &self,
        group: &str,
        entry: GlobalEntry,
        monitor: crate::Monitor,
    ) -> Result<(), RegistryError> {
        let (node, id) = (entry.owner.node(), entry.owner);
        let (held, limit) = self
            .registry()
            .read(|replica| (replica.memberships_of(node), replica.cap()));
        let member = self
            .registry()
            .read(|replica| replica.members(group).iter().any(|m| m.owner == id));
        if held >= limit && !member {
            return Err(RegistryError::TooManyNames { node, limit });
        }
        self.registry().join(group, entry);
        let (node, group) = (self.downgrade(), group.to_owned());
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
        self.registry().leave(group, member)
    }

    /// The members of `group` that are `A`s (of `A`'s protocol), sorted by id.
    pub fn members<A: Actor>(&self, group: &str) -> Vec<ActorRef<A>> {
        let fingerprint = <A::Msg as Message>::FINGERPRINT;
        let members: Vec<ActorId> = self.registry().read(|replica| {
            replica
                .members(group)
                .into_iter()
                .filter(|member| member.fingerprint == fingerprint)
                .map(|member| member.owner)
                .collect()
        });
        members
            .into_iter()
            .filter_map(|member| self.ref_to::<A>(member))
            .collect()
    }

    /// Every process group with at least one member, sorted.
    pub fn groups(&self) -> Vec<String> {
        self.registry().read(|replica| replica.group_names())
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

    /// The owner of every name in this node's replica of the global registry, by name.
    #[cfg(feature = "testing")]
    pub(crate) fn global_owners(&self) -> Vec<(String, ActorId)> {
        self.registry().read(|replica| {
            replica
                .snapshot()
                .into_iter()
                .map(|(name, entry)| (name, entry.owner))
                .collect()
        })
    }

    /// The global names held by this node's actors, sorted by name, at most `limit`.
    pub(crate) fn global_names_here(&self, limit: usize) -> Vec<(String, ActorId)> {
        let me = self.id();
        self.registry().read(|replica| {
            replica
                .snapshot()
                .into_iter()
                .filter(|(_, entry)| entry.owner.node() == me)
                .take(limit)
                .map(|(name, entry)| (name, entry.owner))
                .collect()
        })
    }

    /// The process groups with members on this node, with those members, sorted by group;
    /// at most `limit` memberships in all.
    pub(crate) fn groups_here(&self, limit: usize) -> Vec<(String, Vec<ActorId>)> {
        let me = self.id();
        let memberships = self.registry().read(|replica| replica.group_snapshot());
        let mut groups: Vec<(String, Vec<ActorId>)> = Vec::new();
        let here = memberships
            .into_iter()
            .filter(|(_, member)| member.owner.node() == me)
            .take(limit);
        for (group, member) in here {
            match groups.last_mut() {
                Some((last, members)) if *last == group => members.push(member.owner),
                _ => groups.push((group, vec![member.owner])),
            }
        }
        groups
    }

    /// A ref to `id`: local, or through the peer that hosts it (`None` without networking).
    pub(crate) fn ref_to<A: Actor>(&self, id: ActorId) -> Option<ActorRef<A>> {
        if id.node() == self.id() {
            return Some(self.local_ref(id));
        }
        self.peer(id.node()).map(|peer| ActorRef::remote(id, peer))
    }

    fn registry(&self) -> &RegistryDriver {
        &self.attached().registry
    }

    /// Settles the cluster-wide registry's name conflicts with `policy` (set by the builder).
    pub(crate) fn set_conflict_policy(&self, policy: ConflictPolicy) {
        self.registry().set_conflict_policy(policy);
    }

    /// The network layer's word that a connection to `peer` is up.
    pub(crate) fn registry_peer_up(&self, peer: NodeId) {
        self.registry().on_peer_up(peer);
    }

    /// The network layer's word that the connection to `peer` is down.
    pub(crate) fn registry_peer_down(&self, peer: NodeId) {
        self.attached().outbox.forget(peer);
        self.registry().on_peer_down(peer);
    }

    /// A Registry frame from `from`. Returns whether it ended the peer's replica (then merged
    /// here); an error means the body did not decode or was invalid, and the peer is to be
    /// disconnected.
    pub(crate) fn registry_frame(&self, from: NodeId, body: &[u8]) -> Result<bool, String> {
        self.registry().on_frame(from, body)
    }

    /// Sets the registry's knobs (by the builder, before the node connects).
    pub(crate) fn configure_registry(&self, config: crate::registry::RegistryConfig) {
        self.registry().configure(config);
    }

    /// Releases, everywhere, every name `actor` (of this node) holds, once it stops for good.
    fn release_names_when_stopped(&self, actor: ActorId) {
        let node = self.downgrade();
        // No such actor (a peer named a made-up one of this node): released at once.
        let cell = self.local_cell(actor);
        tokio::spawn(async move {
            if let Some(cell) = cell {
                let _ = cell.core().wait_for_stop().await;
            }
            let Some(node) = node.upgrade() else {
                return;
            };
            // Unwatched first: a name granted from now on starts a new watch.
            node.registry().unwatch(actor);
            for attempt in 0..RELEASE_ATTEMPTS {
                let names = node.registry().read(|replica| replica.names_held_by(actor));
                let mut left = false;
                for name in names {
                    match node.unregister_global(&name, actor).await {
                        Ok(()) | Err(RegistryError::NotFound { .. }) => {}
                        // Another actor holds it now: not ours to release.
                        Err(RegistryError::NotOwner { owner, .. }) if owner != actor => {}
                        // The cluster could not order it (a sequencer went down, or views of
                        // the sequencer differed): tried again, the name must not outlive
                        // its actor.
                        Err(error) => {
                            crate::trace::trace_event!(debug, %name, %actor, attempt, %error, "release of a stopped actor's name failed");
                            left = true;
                        }
                    }
                }
                if !left {
                    return;
                }
                tokio::time::sleep(RELEASE_RETRY).await;
            }
        });
    }
}

/// The replicated entry of `actor`: its id and protocol.
/// [`RegistryError::InvalidName`] if `A`'s name is longer than peers accept in an entry.
fn check_type_name<A: Actor>() -> Result<(), RegistryError> {
    check_type_name_of(A::NAME)
}

/// [`RegistryError::InvalidName`] for a type name too long for the registry's entries.
pub(crate) fn check_type_name_of(type_name: &str) -> Result<(), RegistryError> {
    if type_name.len() > crate::registry::wire::MAX_TYPE_NAME_LEN {
        return Err(RegistryError::InvalidName {
            name: type_name.chars().take(64).collect(),
            why: "an actor's type name in the global registry is at most 1024 bytes",
        });
    }
    Ok(())
}

/// The registry's entry for an actor known without its type.
pub(crate) fn entry(actor: crate::actor::ActorEntry) -> GlobalEntry {
    GlobalEntry {
        owner: actor.id,
        fingerprint: actor.fingerprint,
        type_name: actor.type_name.to_owned(),
    }
}

fn entry_of<A: Actor>(actor: &ActorRef<A>) -> GlobalEntry {
    GlobalEntry {
        owner: actor.id(),
        fingerprint: <A::Msg as Message>::FINGERPRINT,
        type_name: A::NAME.to_owned(),
    }
}

impl RegistryHost for Services {
    fn send(&self, to: NodeId, msg: &RegistryMsg) {
        // A known slot, not only an up one: the registry hears of a new peer, and sends it
        // its replica, just before the peer counts as up.
        if let Some(slot) = self.net.get().and_then(|net| net.known_slot(to)) {
            self.outbox.send(slot, msg);
        }
    }

    fn stop_local(&self, actor: ActorId, reason: ExitReason) {
        let cell = self
            .node
            .get()
            .and_then(WeakNode::upgrade)
            .and_then(|node| node.local_cell(actor));
        if let Some(cell) = cell {
            let _ = cell.core().signal(Signal::Stop(reason));
        }
    }

    fn name_conflict(&self, name: String, winner: ActorId, loser: ActorId) {
        if let Some(net) = self.net.get() {
            net.emit(NodeEvent::NameConflict { name, winner, loser });
        }
    }

    fn watch_own(&self, actor: ActorId) {
        // Without a runtime no actor runs, and no name is released.
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if let Some(node) = self.node.get().and_then(WeakNode::upgrade) {
            node.release_names_when_stopped(actor);
        }
    }
}
