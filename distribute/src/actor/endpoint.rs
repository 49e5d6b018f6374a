//! [`Endpoint`]: the other end of a link or a monitor, on this node or another.
//!
//! Links and monitors are kept by the actor's task as endpoints. A local endpoint is the
//! actor's shared cell, and signals go straight into its queue; a remote one is the actor's id
//! and the peer that hosts it, and the same signals travel as control frames that the peer
//! turns back into local signals.

use std::sync::Arc;

use super::cell::AnyCell;
use super::monitor::{MonitorRef, Watcher};
use super::remote::RemotePeer;
use super::signal::Signal;
use super::{ActorId, ExitReason};

#[derive(Clone)]
pub(crate) enum Endpoint {
    Local(Arc<dyn AnyCell>),
    Remote { id: ActorId, peer: Arc<dyn RemotePeer> },
}

impl Endpoint {
    pub(crate) fn id(&self) -> ActorId {
        match self {
            Endpoint::Local(cell) => cell.core().id,
            Endpoint::Remote { id, .. } => *id,
        }
    }

    /// Delivers the exit of the linked actor `from`.
    pub(crate) fn send_exit(&self, from: ActorId, reason: ExitReason) {
        match self {
            Endpoint::Local(cell) => cell.core().send_exit(from, reason),
            Endpoint::Remote { id, peer } => peer.exit(from, *id, &reason),
        }
    }

    /// Tells this end that `other` linked to it. Fails if this end is known to be gone; a
    /// remote end that is gone answers later with an exit (`NoProc` or `NodeDown`).
    pub(crate) fn add_link(&self, other: Endpoint) -> Result<(), ()> {
        match self {
            Endpoint::Local(cell) => cell.core().signal(Signal::Link(other)).map_err(drop),
            Endpoint::Remote { id, peer } => {
                peer.link(other.id(), *id);
                Ok(())
            }
        }
    }

    /// Tells this end that `from` removed its link.
    pub(crate) fn remove_link(&self, from: ActorId) {
        match self {
            Endpoint::Local(cell) => {
                let _ = cell.core().signal(Signal::Unlink(from));
            }
            Endpoint::Remote { id, peer } => peer.unlink(from, *id),
        }
    }

    /// Starts watching this end.
    pub(crate) fn add_watcher(&self, watcher: Watcher) {
        match self {
            Endpoint::Local(cell) => cell.core().add_watcher(watcher),
            Endpoint::Remote { id, peer } => peer.monitor(*id, watcher),
        }
    }

    /// Stops the watch `monitor` on this end.
    pub(crate) fn remove_watcher(&self, monitor: MonitorRef) {
        match self {
            Endpoint::Local(cell) => {
                let _ = cell.core().signal(Signal::Demonitor(monitor));
            }
            Endpoint::Remote { id, peer } => peer.demonitor(*id, monitor),
        }
    }
}

/// Links two actors: when one exits abnormally, the other receives its exit signal. Linking
/// to an actor that is already gone sends the other an exit with [`ExitReason::NoProc`].
pub(crate) fn link(a: &Endpoint, b: &Endpoint) {
    if a.id() == b.id() {
        return;
    }
    if a.add_link(b.clone()).is_err() {
        b.send_exit(a.id(), ExitReason::NoProc);
        return;
    }
    if b.add_link(a.clone()).is_err() {
        a.send_exit(b.id(), ExitReason::NoProc);
    }
}
