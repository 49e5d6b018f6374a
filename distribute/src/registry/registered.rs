//! Typed names and registered services: what `#[registered("name")]` builds on.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::{validate_name, RegistryError};
use crate::actor::Node;
use crate::actor::SpawnError;
use crate::actor::{Actor, ActorRef, ExitReason};
use crate::pool::Pool;
use crate::supervision::{start_pool, start_supervised, Supervised, Supervisor};

/// A name in the cluster-wide registry for actors of type `A`: lookups through it are typed.
///
/// `#[registered("billing")]` declares one as the actor's `REGISTERED_AS`; by hand,
/// `Name::<Billing>::new("billing")?`.
pub struct Name<A> {
    name: &'static str,
    actor: PhantomData<fn() -> A>,
}

impl<A> Name<A> {
    /// A typed name, checked: 1 to 255 characters of `[A-Za-z0-9._-]`.
    pub fn new(name: &'static str) -> Result<Self, RegistryError> {
        validate_name(name)?;
        Ok(Name {
            name,
            actor: PhantomData,
        })
    }

    /// A name `#[registered]` has already checked at compile time.
    #[doc(hidden)]
    pub const fn checked_by_macro(name: &'static str) -> Self {
        Name {
            name,
            actor: PhantomData,
        }
    }

    /// The name as text.
    pub const fn as_str(&self) -> &'static str {
        self.name
    }
}

impl<A: Actor> Name<A> {
    /// [`Node::lookup`] under this name.
    pub fn lookup(&self, node: &Node) -> Result<ActorRef<A>, RegistryError> {
        node.lookup(self.name)
    }

    /// [`Node::lookup_with_timeout`] under this name.
    pub async fn lookup_with_timeout(
        &self,
        node: &Node,
        timeout: Duration,
    ) -> Result<ActorRef<A>, RegistryError> {
        node.lookup_with_timeout(self.name, timeout).await
    }

    /// [`Node::register_global`] under this name.
    pub async fn register(&self, node: &Node, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        node.register_global(self.name, actor).await
    }
}

impl<A> Clone for Name<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Name<A> {}

impl<A> fmt::Debug for Name<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({:?})", self.name)
    }
}

impl<A> fmt::Display for Name<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// An actor type with a cluster-wide name, as `#[registered("name")]` declares it.
pub trait Registered: Actor {
    /// The name the actor registers under.
    const REGISTERED_AS: Name<Self>;
}

/// Why starting a registered service failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The actor (or its supervisor) did not start.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// The actor started but could not be registered; it was stopped again.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Spawns `actor`, then registers it under its name. If the registration fails, the actor is
/// stopped again, never left running without its name.
pub async fn start_registered<A: Registered>(node: &Node, actor: A) -> Result<ActorRef<A>, RegisterError> {
    let actor = node.spawn(actor).await?;
    if let Err(error) = A::REGISTERED_AS.register(node, &actor).await {
        actor.stop(ExitReason::Shutdown).await;
        return Err(error.into());
    }
    Ok(actor)
}

/// Starts `A` under its supervisor ([`start_supervised`]) and registers the child only once
/// the supervisor has confirmed it started. The ref (and so the name) survives the child's
/// restarts. If the registration fails, the supervisor is stopped with its child.
pub async fn start_registered_supervised<A: Registered + Supervised>(
    node: &Node,
    factory: impl Fn() -> A + Send + Sync + 'static,
) -> Result<(ActorRef<Supervisor>, ActorRef<A>), RegisterError> {
    let (supervisor, actor) = start_supervised(node, factory).await?;
    if let Err(error) = A::REGISTERED_AS.register(node, &actor).await {
        supervisor.stop(ExitReason::Shutdown).await;
        return Err(error.into());
    }
    Ok((supervisor, actor))
}

/// Starts a pool of `A` ([`start_pool`]); each worker joins the process group named after
/// the service and registers as `name_1` ... `name_N`. If any registration fails, the
/// names already taken are released and the pool is stopped. Workers that
/// [`Pool::resize`] adds later register and join the group in the same way; removed ones
/// release their names.
pub async fn start_registered_pool<A: Registered + Supervised>(
    node: &Node,
    factory: impl Fn() -> A + Send + Sync + 'static,
) -> Result<Pool<A>, RegisterError> {
    let pool = start_pool(node, factory).await?;
    let name = A::REGISTERED_AS.as_str();
    let mut taken: Vec<(String, crate::ActorId)> = Vec::new();
    for (index, worker) in pool.worker_refs().iter().enumerate() {
        let worker_name = format!("{name}_{}", index + 1);
        let registered = match node.register_global(worker_name.as_str(), worker).await {
            Ok(()) => node.join(name, worker),
            Err(error) => Err(error),
        };
        if let Err(error) = registered {
            for (taken_name, owner) in taken {
                let _ = node.unregister_global(&taken_name, owner).await;
            }
            pool.stop().await;
            return Err(error.into());
        }
        taken.push((worker_name, worker.id()));
    }
    // Workers that `resize` adds register too.
    Ok(pool.registered_as(name))
}
