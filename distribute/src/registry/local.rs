//! The node-local name table.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{found_type, validate_name, RegistryError};
use crate::actor::{Actor, ActorId, ActorRef, Cell};
use crate::net::FoundActor;

struct Entry {
    owner: ActorId,
    fingerprint: u64,
    typed: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

/// Names registered on one node. A name disappears when its actor stops for good (a
/// supervised restart keeps it: the ref is the same).
#[derive(Default)]
pub(crate) struct LocalNames {
    names: Mutex<HashMap<String, Entry>>,
}

impl LocalNames {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        crate::lock::lock(&self.names)
    }

    pub(crate) fn register<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), RegistryError> {
        validate_name(name)?;
        let mut names = self.lock();
        if let Some(existing) = names.get(name) {
            return Err(RegistryError::AlreadyRegistered {
                name: name.to_owned(),
                owner: existing.owner,
            });
        }
        let Some(cell) = actor.local_cell() else {
            return Err(RegistryError::NotLocal { actor: actor.id() });
        };
        if !actor.is_alive() {
            return Err(RegistryError::ActorStopped { actor: actor.id() });
        }
        let typed: Arc<dyn Any + Send + Sync> = cell.clone();
        names.insert(
            name.to_owned(),
            Entry {
                owner: actor.id(),
                fingerprint: <A::Msg as crate::actor::Message>::FINGERPRINT,
                typed,
                type_name: A::NAME,
            },
        );
        drop(names);
        // The actor may have stopped between the check and the insert; its exit then ran
        // `forget_owner` before the insert, so clean up here.
        if !actor.is_alive() {
            self.forget_owner(actor.id());
            return Err(RegistryError::ActorStopped { actor: actor.id() });
        }
        Ok(())
    }

    pub(crate) fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, RegistryError> {
        validate_name(name)?;
        let names = self.lock();
        let entry = names.get(name).ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })?;
        let cell =
            Arc::clone(&entry.typed)
                .downcast::<Cell<A>>()
                .map_err(|_| RegistryError::TypeMismatch {
                    name: name.to_owned(),
                    expected: A::NAME,
                    found: found_type(
                        (entry.type_name, entry.fingerprint),
                        (A::NAME, <A::Msg as crate::actor::Message>::FINGERPRINT),
                    ),
                })?;
        Ok(ActorRef::from_cell(cell))
    }

    pub(crate) fn unregister(&self, name: &str, owner: ActorId) -> Result<(), RegistryError> {
        validate_name(name)?;
        let mut names = self.lock();
        let entry = names.get(name).ok_or_else(|| RegistryError::NotFound {
            name: name.to_owned(),
        })?;
        let current = entry.owner;
        if current != owner {
            return Err(RegistryError::NotOwner {
                name: name.to_owned(),
                owner: current,
            });
        }
        names.remove(name);
        Ok(())
    }

    /// The owner of `name` as told to another node.
    pub(crate) fn whereis(&self, name: &str) -> Option<FoundActor> {
        let names = self.lock();
        names.get(name).map(|entry| FoundActor {
            id: entry.owner,
            fingerprint: entry.fingerprint,
            type_name: entry.type_name.to_owned(),
        })
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }

    /// Every name with its owner, sorted by name.
    pub(crate) fn owners(&self) -> Vec<(String, ActorId)> {
        let mut owners: Vec<(String, ActorId)> = self
            .lock()
            .iter()
            .map(|(name, entry)| (name.clone(), entry.owner))
            .collect();
        owners.sort();
        owners
    }

    /// Drops every name held by `actor` (it stopped for good).
    pub(crate) fn forget_owner(&self, actor: ActorId) {
        let mut names = self.lock();
        if !names.is_empty() {
            names.retain(|_, entry| entry.owner != actor);
        }
    }
}
