//! Monitors: one-way notification (DOWN) when an actor stops, with its exit reason.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::remote::RemotePeer;
use super::signal::Signal;
use super::{ActorId, AnyCell, ExitReason, NodeId};

/// Identifies one monitor, so that it can be removed and its DOWN recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MonitorRef(u64);

impl MonitorRef {
    /// A new reference, distinct from every other one in this process and, with
    /// overwhelming probability, from those of other nodes (it reaches them with remote
    /// monitors, where it must not collide with the monitors of other watchers).
    pub(crate) fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let base = *BASE.get_or_init(|| NodeId::fresh().as_u64());
        MonitorRef(base.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)))
    }
}

impl fmt::Display for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}>", self.0)
    }
}

/// The notification that a monitored actor stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Down {
    /// The monitor that fired.
    pub monitor: MonitorRef,
    /// The actor that stopped.
    pub actor: ActorId,
    /// Why it stopped. [`ExitReason::NoProc`] when it was already gone and its reason is
    /// no longer known.
    pub reason: ExitReason,
}

/// The exit of a linked actor, delivered to [`Actor::on_exit`](crate::Actor::on_exit) when
/// the receiving actor traps exits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitSignal {
    /// The linked actor that exited.
    pub from: ActorId,
    /// Why it exited.
    pub reason: ExitReason,
}

/// Who is told when a monitored actor stops.
pub(crate) enum Watcher {
    /// Code outside any actor, awaiting a [`Monitor`].
    Channel {
        monitor: MonitorRef,
        tx: oneshot::Sender<Down>,
    },
    /// An actor, which receives the DOWN in [`Actor::on_down`](crate::Actor::on_down).
    Actor {
        monitor: MonitorRef,
        watcher: Arc<dyn AnyCell>,
    },
    /// A watcher on another node, told with a DOWN control frame.
    Remote {
        monitor: MonitorRef,
        peer: Arc<dyn RemotePeer>,
    },
}

impl Watcher {
    pub(crate) fn monitor(&self) -> MonitorRef {
        match self {
            Watcher::Channel { monitor, .. }
            | Watcher::Actor { monitor, .. }
            | Watcher::Remote { monitor, .. } => *monitor,
        }
    }

    pub(crate) fn deliver(self, actor: ActorId, reason: ExitReason) {
        match self {
            Watcher::Channel { monitor, tx } => {
                let _ = tx.send(Down {
                    monitor,
                    actor,
                    reason,
                });
            }
            Watcher::Actor { monitor, watcher } => {
                let _ = watcher.core().signal(Signal::Down(Down {
                    monitor,
                    actor,
                    reason,
                }));
            }
            Watcher::Remote { monitor, peer } => peer.down(monitor, actor, &reason),
        }
    }
}

/// A monitor set up from outside any actor with [`ActorRef::monitor`](crate::ActorRef::monitor).
/// Await it to receive the [`Down`]; drop it to stop monitoring.
#[must_use = "a monitor does nothing unless awaited"]
pub struct Monitor {
    monitor: MonitorRef,
    actor: ActorId,
    rx: oneshot::Receiver<Down>,
}

impl Monitor {
    pub(crate) fn new(actor: ActorId) -> (Self, Watcher) {
        let monitor = MonitorRef::fresh();
        let (tx, rx) = oneshot::channel();
        (Monitor { monitor, actor, rx }, Watcher::Channel { monitor, tx })
    }

    /// This monitor's reference.
    pub fn monitor_ref(&self) -> MonitorRef {
        self.monitor
    }

    /// The monitored actor.
    pub fn actor(&self) -> ActorId {
        self.actor
    }
}

impl Future for Monitor {
    type Output = Down;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Down> {
        let (monitor, actor) = (self.monitor, self.actor);
        Pin::new(&mut self.rx).poll(cx).map(|res| {
            // The runtime answers every monitor when the actor exits, even when its task is
            // killed; a closed channel means the whole runtime went away under the actor.
            res.unwrap_or(Down {
                monitor,
                actor,
                reason: ExitReason::Killed,
            })
        })
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("monitor", &self.monitor)
            .field("actor", &self.actor)
            .finish()
    }
}
