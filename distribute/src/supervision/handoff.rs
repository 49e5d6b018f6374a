//! Children kept across a supervisor's restart, so that a subtree restarts behind the same
//! refs, as single children do.
//!
//! When a supervised supervisor fails (its restart intensity was exceeded, say), it stops
//! its children in reverse order as always, but leaves them parked in their slots instead of
//! releasing them, and hands them over here. If its parent restarts it, the new incarnation
//! takes them back and restarts each in place: same id, same mailbox (messages sent
//! meanwhile are kept), links, monitors and registered names untouched. If it is not
//! restarted (it stops for good), the children are released then and stop for good.
//!
//! The same holds when its parent stops it to restart it with a failed sibling (a group
//! restart, `OneForAll` or `RestForOne`): the parent announces it here first
//! ([`RestartNotice`]). A supervisor stopped for good (a shutdown, `terminate_child`) stops
//! its children for good: an ordered shutdown must end with the whole subtree gone.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use super::slot::{ChildSlot, Parked};
use super::spec::{ChildHandle, RestartNotice};
use crate::actor::{Actor, ActorId, ActorRef};
use crate::lock::lock;

/// A parked child of a failed supervisor, waiting for the next incarnation.
pub(crate) struct KeptChild {
    /// The child's name in its supervisor.
    pub(crate) id: String,
    pub(crate) handle: ChildHandle,
    pub(crate) slot: Arc<ChildSlot>,
    pub(crate) parked: Parked,
}

/// The kept children of the supervisors made from one spec, by supervisor (a spec may be
/// started more than once).
#[derive(Default)]
pub(crate) struct Handoff {
    kept: Mutex<HashMap<ActorId, Vec<KeptChild>>>,
    /// Supervisors their parent is stopping for a group restart.
    restarting: Mutex<HashSet<ActorId>>,
}

impl RestartNotice for Handoff {
    fn restarting(&self, supervisor: ActorId) {
        lock(&self.restarting).insert(supervisor);
    }
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("supervisors", &lock(&self.kept).len())
            .finish()
    }
}

impl Handoff {
    /// Keeps `children` of `supervisor` for its next incarnation; they are released if it
    /// stops for good instead.
    pub(crate) fn keep<S: Actor>(self: &Arc<Self>, supervisor: &ActorRef<S>, children: Vec<KeptChild>) {
        let id = supervisor.id();
        let first = {
            let mut kept = lock(&self.kept);
            let first = !kept.contains_key(&id);
            kept.insert(id, children);
            first
        };
        if first {
            // One watcher per supervisor: it releases whatever is still kept when the
            // supervisor stops for good (a restart does not fire it).
            let monitor = supervisor.monitor();
            let handoff = Arc::clone(self);
            tokio::spawn(async move {
                let _ = monitor.await;
                handoff.release(id);
            });
        }
    }

    /// Whether `supervisor`'s parent announced that it stops it to restart it; the
    /// announcement is consumed.
    pub(crate) fn take_restarting(&self, supervisor: ActorId) -> bool {
        lock(&self.restarting).remove(&supervisor)
    }

    /// Takes the children kept for `supervisor` (none if it did not fail before).
    pub(crate) fn take(&self, supervisor: ActorId) -> Vec<KeptChild> {
        lock(&self.kept)
            .get_mut(&supervisor)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The supervisor stopped for good: its kept children stop for good too.
    fn release(&self, supervisor: ActorId) {
        let kept = lock(&self.kept).remove(&supervisor).unwrap_or_default();
        for child in kept.into_iter().rev() {
            let reason = child.parked.reason.clone();
            child.parked.finish(reason);
        }
    }
}
