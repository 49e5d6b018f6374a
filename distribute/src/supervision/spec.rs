//! What a supervisor is told about each child: how to start it, restart it and stop it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::slot::ChildSlot;
use super::strategy::Restart;
use crate::actor::SpawnError;
use crate::actor::{
    spawn_actor, Actor, ActorEntry, ActorId, AnyCell, ExitReason, Message, Restartable, Signal,
};
use crate::actor::{Node, SpawnOptions};

/// How long a child may take to stop on a shutdown before it is killed: 5 seconds.
pub const DEFAULT_CHILD_SHUTDOWN: Duration = Duration::from_secs(5);

/// An opaque handle to a running child, as a supervisor keeps it.
#[derive(Clone)]
pub struct ChildHandle {
    pub(crate) cell: Arc<dyn AnyCell>,
    /// The same cell as `Arc<Cell<A>>`, for typed lookups.
    pub(crate) typed: Arc<dyn Any + Send + Sync>,
}

type StartFuture = Pin<Box<dyn Future<Output = Result<ChildHandle, SpawnError>> + Send>>;

/// What a nested supervisor's spec hears from its parent: "I am stopping you to restart you
/// (a group restart)", so that it keeps its children for its next incarnation.
pub(crate) trait RestartNotice: Send + Sync + 'static {
    /// The supervisor `supervisor` is about to be stopped and restarted by its parent.
    fn restarting(&self, supervisor: ActorId);
}
type StartFn = dyn Fn(&Node, Arc<ChildSlot>, Option<usize>) -> StartFuture + Send + Sync;

/// How to start, restart and stop one child of a supervisor.
///
/// A child is an actor made by a factory: each restart calls the factory again for fresh
/// state, behind the same ref and mailbox. Build one with [`ChildSpec::worker`], or
/// [`SupervisorSpec::into_child`](super::SupervisorSpec::into_child) for a nested supervisor,
/// then adjust it with the builder methods.
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) id: String,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Duration,
    pub(crate) mailbox_capacity: Option<usize>,
    pub(crate) is_supervisor: bool,
    /// Global names the child is registered under at each start.
    pub(crate) names: Vec<String>,
    /// Process groups the child joins at each start.
    pub(crate) groups: Vec<String>,
    /// The child's actor type, as the registry records it.
    fingerprint: u64,
    type_name: &'static str,
    /// For a nested supervisor: where its parent announces a group restart.
    pub(crate) restart_notice: Option<Arc<dyn RestartNotice>>,
    start: Arc<StartFn>,
}

impl ChildSpec {
    /// The child's actor type ([`Actor::NAME`](crate::Actor::NAME)).
    pub(crate) fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// A worker child named `id`, whose state `factory` makes, permanent, with a 5 s
    /// shutdown.
    pub fn worker<A, F>(id: impl Into<String>, factory: F) -> Self
    where
        A: Actor,
        F: Fn() -> A + Send + Sync + 'static,
    {
        let factory: Arc<dyn Fn() -> A + Send + Sync> = Arc::new(factory);
        let start: Arc<StartFn> = Arc::new(move |node, slot, mailbox| {
            let factory = Arc::clone(&factory);
            let node = node.clone();
            Box::pin(async move {
                let mut options = SpawnOptions::new();
                if let Some(capacity) = mailbox {
                    options = options.mailbox_capacity(capacity);
                }
                let first = factory();
                let restartable = Restartable {
                    factory,
                    parent: Arc::clone(&slot) as _,
                };
                let (cell, started) = spawn_actor(&node, first, options, Some(restartable))?;
                let outcome = match started {
                    Some(rx) => rx.await.unwrap_or(Err(ExitReason::Killed)),
                    None => Ok(()),
                };
                if let Err(reason) = outcome {
                    // The child parks right after reporting its failed start: release it for good.
                    slot.wait_parked().await.finish(reason.clone());
                    return Err(SpawnError::StartFailed {
                        actor: cell.core.id,
                        reason,
                    });
                }
                let typed: Arc<dyn Any + Send + Sync> = cell.clone();
                Ok(ChildHandle {
                    cell: cell as Arc<dyn AnyCell>,
                    typed,
                })
            })
        });
        ChildSpec {
            id: id.into(),
            restart: Restart::Permanent,
            shutdown: DEFAULT_CHILD_SHUTDOWN,
            mailbox_capacity: None,
            is_supervisor: false,
            names: Vec::new(),
            groups: Vec::new(),
            fingerprint: <A::Msg as Message>::FINGERPRINT,
            type_name: A::NAME,
            restart_notice: None,
            start,
        }
    }

    /// Registers the child under `name` in the cluster-wide registry each time it starts,
    /// as OTP's `{global, Name}` does: the name is the child's for as long as it runs, through
    /// restarts (which keep its ref), and is released when it stops for good. A start whose
    /// registration fails (the name is taken, say) fails like a failed `started` hook:
    /// [`SpawnError::StartFailed`] with the registry's error. Repeatable. For a child on
    /// another node, use `RemoteChildSpec::register_global`, which registers it from its node.
    pub fn registered(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }

    /// Adds the child to the process group `group` each time it starts; it leaves the group
    /// when it stops for good. Repeatable.
    pub fn join_group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// Mailbox capacity of the child, overriding its actor type's.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = Some(capacity);
        self
    }

    /// The child's restart type (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// How long the child may run its `stopped` hook on shutdown before it is killed.
    pub fn shutdown(mut self, timeout: Duration) -> Self {
        self.shutdown = timeout;
        self
    }

    /// The child's name within its supervisor.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The child's restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// The child's shutdown timeout.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown
    }

    /// Whether the child is a supervisor (or a pool).
    pub fn is_supervisor(&self) -> bool {
        self.is_supervisor
    }

    pub(crate) fn marked_supervisor(mut self) -> Self {
        self.is_supervisor = true;
        self
    }

    /// A nested supervisor's spec: `notice` hears of its parent's group restarts.
    pub(crate) fn with_restart_notice(mut self, notice: Arc<dyn RestartNotice>) -> Self {
        self.restart_notice = Some(notice);
        self
    }

    pub(crate) fn start(&self, node: &Node, slot: Arc<ChildSlot>) -> StartFuture {
        let started = (self.start)(node, Arc::clone(&slot), self.mailbox_capacity);
        if self.names.is_empty() && self.groups.is_empty() {
            return started;
        }
        let (names, groups, node) = (self.names.clone(), self.groups.clone(), node.clone());
        let (fingerprint, type_name) = (self.fingerprint, self.type_name);
        Box::pin(async move {
            let handle = started.await?;
            let actor = ActorEntry {
                id: handle.cell.core().id,
                fingerprint,
                type_name,
            };
            if let Err(why) = register(&node, actor, names, &groups).await {
                // Never left running without its names: stopped for good, which releases
                // those it took.
                let _ = handle.cell.core().signal(Signal::Stop(ExitReason::Shutdown));
                slot.wait_parked().await.finish(ExitReason::Shutdown);
                handle.cell.core().wait_for_stop().await;
                return Err(SpawnError::StartFailed {
                    actor: actor.id,
                    reason: ExitReason::Error(why),
                });
            }
            Ok(handle)
        })
    }
}

/// Registers a started child under its names and adds it to its groups.
async fn register(
    node: &Node,
    actor: ActorEntry,
    names: Vec<String>,
    groups: &[String],
) -> Result<(), String> {
    for name in names {
        let why = |error: String| format!("registering {name:?}: {error}");
        node.services()
            .register_global(name.clone(), actor)
            .await
            .map_err(why)?;
    }
    for group in groups {
        node.services()
            .join_group(group, actor)
            .map_err(|error| format!("joining group {group:?}: {error}"))?;
    }
    Ok(())
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("supervisor", &self.is_supervisor)
            .field("names", &self.names)
            .field("groups", &self.groups)
            .finish()
    }
}
