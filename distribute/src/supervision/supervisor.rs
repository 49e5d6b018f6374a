//! The supervisor actor: starts its children in order, restarts them by strategy within
//! the restart intensity, and stops them in reverse order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::handoff::{Handoff, KeptChild};
use super::info::{ChildCounts, ChildError, ChildInfo, ChildState, SupervisorError, SupervisorReport};
use super::slot::{ChildSlot, ExitListener, Parked};
use super::spec::{ChildHandle, ChildSpec};
use super::strategy::{Intensity, Strategy};
use crate::actor::{Actor, ActorId, ActorRef, Context, ExitReason, Message, ReplyTo, Signal};
use crate::actor::{BoxError, CallError};
use crate::backoff::Backoff;
use crate::codec::{Bincode, Codec, CodecError};

/// The shared, immutable description of a supervisor.
#[derive(Clone, Debug)]
pub(crate) struct SupervisorConfig {
    pub(crate) name: String,
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) children: Vec<ChildSpec>,
}

struct Child {
    spec: ChildSpec,
    running: Option<(ChildHandle, Arc<ChildSlot>)>,
    /// Restarts by this supervisor after an exit.
    restarts: u32,
    /// Starts so far, by this supervisor or `restart_child`.
    incarnation: u64,
    /// Why the last incarnation ended.
    last_exit: Option<ExitReason>,
}

impl Child {
    fn new(spec: ChildSpec) -> Self {
        Child {
            spec,
            running: None,
            restarts: 0,
            incarnation: 0,
            last_exit: None,
        }
    }

    fn state(&self) -> ChildState {
        match &self.running {
            None => ChildState::Terminated,
            Some((handle, _)) if handle.cell.core().is_restarting() => ChildState::Restarting,
            Some(_) => ChildState::Running,
        }
    }

    fn actor(&self) -> Option<ActorId> {
        self.running.as_ref().map(|(c, _)| c.cell.core().id)
    }
}

/// A supervisor, an actor like any other: it can be linked, monitored, stopped, and
/// supervised itself. Build one with [`SupervisorSpec`](super::SupervisorSpec); talk to it
/// through the methods on `ActorRef<Supervisor>`.
pub struct Supervisor {
    config: Arc<SupervisorConfig>,
    children: Vec<Child>,
    restarts: VecDeque<Instant>,
    /// Where a failing incarnation leaves its children for the next one.
    handoff: Arc<Handoff>,
    /// The child whose failure exceeded the intensity, parked until this supervisor stops:
    /// kept with the others if a parent may restart it, else released.
    escalated: Option<(usize, Parked)>,
}

impl Supervisor {
    pub(crate) fn new(config: Arc<SupervisorConfig>) -> Self {
        Self::with_handoff(config, Arc::default())
    }

    /// A supervisor whose incarnations share `handoff`: one made again by the factory of its
    /// child spec each time its parent restarts it.
    pub(crate) fn with_handoff(config: Arc<SupervisorConfig>, handoff: Arc<Handoff>) -> Self {
        let children = config.children.iter().cloned().map(Child::new).collect();
        Supervisor {
            config,
            children,
            restarts: VecDeque::new(),
            handoff,
            escalated: None,
        }
    }

    /// Starts the children in order, taking back in place those a failed incarnation kept
    /// (same refs); on a failure, stops those started and releases the rest.
    async fn start_children(&mut self, ctx: &mut Context<Self>) -> Result<(), SupervisorError> {
        let mut kept: HashMap<String, KeptChild> = self
            .handoff
            .take(ctx.id())
            .into_iter()
            .map(|child| (child.id.clone(), child))
            .collect();
        for index in 0..self.children.len() {
            let started = match kept.remove(&self.children[index].spec.id) {
                Some(child) => self.resume_child(index, child).await,
                None => self.start_child_at(ctx, index).await,
            };
            if let Err(error) = started {
                // Dropping the kept ones not yet resumed releases them.
                drop(kept);
                for earlier in (0..index).rev() {
                    self.terminate_at(earlier).await;
                }
                return Err(error);
            }
        }
        Ok(())
    }

    /// Restarts a child kept by a failed incarnation behind its ref.
    async fn resume_child(&mut self, index: usize, kept: KeptChild) -> Result<(), SupervisorError> {
        let KeptChild {
            handle, slot, parked, ..
        } = kept;
        let last_exit = parked.reason.clone();
        match parked.restart().await {
            Ok(()) => {
                let child = &mut self.children[index];
                child.running = Some((handle, slot));
                child.incarnation += 1;
                child.last_exit = Some(last_exit);
                Ok(())
            }
            Err(reason) => {
                // A failed start parks the child again: release it for good.
                slot.wait_parked().await.finish(reason.clone());
                Err(SupervisorError::StartFailed {
                    child: self.children[index].spec.id.clone(),
                    error: crate::actor::SpawnError::StartFailed {
                        actor: handle.cell.core().id,
                        reason,
                    },
                })
            }
        }
    }

    /// Whether this incarnation stopping with `reason` keeps its children parked for the
    /// next one: it failed, and a parent may restart it.
    fn keeps_children(ctx: &Context<Self>, reason: &ExitReason) -> bool {
        !reason.is_normal() && ctx.cell.core.supervised && !ctx.node().is_shutting_down()
    }

    /// Stops every running child, newest first, and leaves them parked for the next
    /// incarnation.
    async fn keep_children(&mut self, ctx: &Context<Self>) {
        let mut kept = Vec::new();
        let mut escalated = self.escalated.take();
        for index in (0..self.children.len()).rev() {
            let parked = match escalated.take_if(|(failed, _)| *failed == index) {
                Some((_, parked)) => Some(parked),
                None => self.park_child(index).await,
            };
            let Some(parked) = parked else {
                continue;
            };
            if let Some((handle, slot)) = self.children[index].running.take() {
                let id = self.children[index].spec.id.clone();
                kept.push(KeptChild {
                    id,
                    handle,
                    slot,
                    parked,
                });
            }
        }
        kept.reverse();
        self.handoff.keep(&ctx.myself(), kept);
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|c| c.spec.id == id)
    }

    async fn start_child_at(&mut self, ctx: &Context<Self>, index: usize) -> Result<(), SupervisorError> {
        let slot = Arc::new(ChildSlot::new(Box::new(ctx.myself())));
        let child = &mut self.children[index];
        let started = child.spec.start(ctx.node(), Arc::clone(&slot)).await;
        match started {
            Ok(started) => {
                child.running = Some((started, slot));
                child.incarnation += 1;
                Ok(())
            }
            Err(error) => Err(SupervisorError::StartFailed {
                child: child.spec.id.clone(),
                error,
            }),
        }
    }

    /// Stops the running child at `index` and waits until it has parked (killing it after its
    /// shutdown timeout). Returns the parked child, still owned by the supervisor.
    async fn park_child(&mut self, index: usize) -> Option<Parked> {
        let child = &self.children[index];
        let (started, slot) = child.running.as_ref()?;
        let core = started.cell.core();
        let _ = core.signal(Signal::Stop(ExitReason::Shutdown));
        match tokio::time::timeout(child.spec.shutdown, slot.wait_parked()).await {
            Ok(parked) => Some(parked),
            Err(_) => {
                crate::trace::trace_event!(warn, child = %child.spec.id, "child did not stop in time; killing it");
                core.kill();
                Some(slot.wait_parked().await)
            }
        }
    }

    /// Stops the child at `index` for good.
    async fn terminate_at(&mut self, index: usize) {
        if let Some(parked) = self.park_child(index).await {
            self.children[index].last_exit = Some(parked.reason.clone());
            parked.finish(ExitReason::Shutdown);
        }
        if let Some((started, _)) = self.children[index].running.take() {
            started.cell.core().wait_for_stop().await;
        }
    }

    async fn on_child_exited(&mut self, ctx: &mut Context<Self>, actor: ActorId) {
        let Some(index) = self.children.iter().position(|c| c.actor() == Some(actor)) else {
            return;
        };
        let Some((_, slot)) = &self.children[index].running else {
            return;
        };
        // Already handled (an exit this supervisor caused), or restarted since.
        let Some(parked) = slot.take_parked() else { return };
        let (child, restart) = (
            self.children[index].spec.id.clone(),
            self.children[index].spec.restart,
        );
        crate::trace::trace_event!(debug, supervisor = %self.config.name, %child, reason = %parked.reason, "child exited");
        self.children[index].last_exit = Some(parked.reason.clone());
        // A node that is shutting down restarts nothing.
        if !restart.restarts_after(&parked.reason) || ctx.node().is_shutting_down() {
            let reason = parked.reason.clone();
            parked.finish(reason);
            self.forget_child(index);
            return;
        }
        if !self.config.intensity.admit(&mut self.restarts, Instant::now()) {
            // Parked until this supervisor stops: kept for its next incarnation, or released.
            let reason = parked.reason.clone();
            self.escalated = Some((index, parked));
            let intensity = self.config.intensity;
            crate::trace::trace_event!(warn, supervisor = %self.config.name, %child, "restart intensity exceeded; escalating");
            ctx.stop(ExitReason::MaxRestartsExceeded {
                child,
                reason: Box::new(reason),
                max_restarts: intensity.max_restarts,
                within: intensity.within,
            });
            return;
        }
        if let Some(backoff) = self.config.backoff {
            tokio::time::sleep(backoff.delay(self.restarts.len().saturating_sub(1))).await;
        }
        ctx.node()
            .meters()
            .restarted(self.children[index].spec.type_name());
        self.restart_group(index, parked).await;
    }

    /// Restarts the child at `index`, which exited, with the siblings its strategy takes
    /// along.
    async fn restart_group(&mut self, index: usize, parked: Parked) {
        let group = self.config.strategy.siblings_affected(index, self.children.len());
        // Stop the rest of the group newest first, then start everyone again in order.
        let mut parked_group: Vec<(usize, Parked)> = vec![(index, parked)];
        for &i in group.iter().rev() {
            // A nested supervisor that rejoins keeps its subtree for its next incarnation.
            let child = &self.children[i];
            if let (Some(notice), Some(actor)) = (&child.spec.restart_notice, child.actor()) {
                if child.spec.restart.rejoins_group() {
                    notice.restarting(actor);
                }
            }
            if let Some(p) = self.park_child(i).await {
                self.children[i].last_exit = Some(p.reason.clone());
                parked_group.push((i, p));
            }
        }
        parked_group.sort_by_key(|(i, _)| *i);
        // Removing a child shifts the indexes after it: drop children only once the
        // restarts, which still address the group by index, are done.
        let mut dropped = Vec::new();
        for (i, parked) in parked_group {
            if i != index && !self.children[i].spec.restart.rejoins_group() {
                parked.finish(ExitReason::Shutdown);
                dropped.push(i);
                continue;
            }
            let child = &mut self.children[i];
            child.restarts = child.restarts.saturating_add(1);
            child.incarnation += 1;
            let span = crate::trace::trace_span!(
                info,
                "restart",
                supervisor = %self.config.name,
                child = %child.spec.id,
                restarts = child.restarts,
                reason = %parked.reason,
                outcome = crate::trace::Empty
            );
            let restarted = span.clone().instrument(parked.restart()).await;
            span.record("outcome", if restarted.is_ok() { "ok" } else { "failed" });
            // A failed start parks the child again; its ChildExited comes back through the
            // mailbox and counts against the intensity like any other failure.
            if let Err(reason) = restarted {
                crate::trace::trace_event!(warn, supervisor = %self.config.name, child = %self.children[i].spec.id, %reason, "restart failed");
            }
        }
        for i in dropped.into_iter().rev() {
            self.forget_child(i);
        }
    }

    /// Drops a child that stopped for good: temporary children disappear, others stay as
    /// terminated specs that `restart_child` can start again.
    fn forget_child(&mut self, index: usize) {
        if self.children[index].spec.restart.kept_when_stopped() {
            self.children[index].running = None;
        } else {
            self.children.remove(index);
        }
    }

    fn info(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .map(|c| ChildInfo {
                id: c.spec.id.clone(),
                actor: c.actor(),
                state: c.state(),
                restart: c.spec.restart,
                is_supervisor: c.spec.is_supervisor,
                restarts: c.restarts,
                incarnation: c.incarnation,
                last_exit: c.last_exit.clone(),
            })
            .collect()
    }

    async fn handle_request(&mut self, ctx: &mut Context<Self>, msg: SupervisorMsg) {
        match msg {
            SupervisorMsg::ChildExited { child } => self.on_child_exited(ctx, child).await,
            SupervisorMsg::StartChild { spec, reply } => {
                if self.position(&spec.id).is_some() {
                    return reply.send(Err(SupervisorError::AlreadyPresent { child: spec.id }));
                }
                self.children.push(Child::new(spec));
                let index = self.children.len() - 1;
                match self.start_child_at(ctx, index).await {
                    Ok(()) => reply.send(self.children[index].actor().ok_or(SupervisorError::NotRunning)),
                    Err(error) => {
                        self.children.remove(index);
                        reply.send(Err(error));
                    }
                }
            }
            SupervisorMsg::TerminateChild { id, reply } => match self.position(&id) {
                Some(index) => {
                    self.terminate_at(index).await;
                    self.forget_child(index);
                    reply.send(Ok(()));
                }
                None => reply.send(Err(SupervisorError::NotFound { child: id })),
            },
            SupervisorMsg::RestartChild { id, reply } => match self.position(&id) {
                Some(index) if self.children[index].running.is_some() => {
                    reply.send(Err(SupervisorError::Running { child: id }));
                }
                Some(index) => {
                    let result = self.start_child_at(ctx, index).await;
                    reply.send(
                        result.and_then(|()| self.children[index].actor().ok_or(SupervisorError::NotRunning)),
                    );
                }
                None => reply.send(Err(SupervisorError::NotFound { child: id })),
            },
            SupervisorMsg::DeleteChild { id, reply } => match self.position(&id) {
                Some(index) if self.children[index].running.is_some() => {
                    reply.send(Err(SupervisorError::Running { child: id }));
                }
                Some(index) => {
                    self.children.remove(index);
                    reply.send(Ok(()));
                }
                None => reply.send(Err(SupervisorError::NotFound { child: id })),
            },
            SupervisorMsg::WhichChildren { reply } => reply.send(self.info()),
            SupervisorMsg::Describe { reply } => reply.send(SupervisorReport {
                name: self.config.name.clone(),
                strategy: self.config.strategy,
                children: self.info(),
            }),
            SupervisorMsg::Child { id, reply } => {
                let found = match self.position(&id) {
                    None => Err(ChildError::NoSuchChild { child: id }),
                    Some(i) => match &self.children[i].running {
                        Some((handle, _)) => Ok(handle.clone()),
                        None => Err(ChildError::NotRunning { child: id }),
                    },
                };
                reply.send(found);
            }
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // Normally `stopped` has stopped every child already. When the supervisor was killed
        // instead, its children must not outlive it: release parked ones, kill running ones.
        for child in &self.children {
            if let Some((started, slot)) = &child.running {
                slot.abandon();
                started.cell.core().kill();
            }
        }
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type Codec = Bincode;
    const NAME: &'static str = "supervisor";

    async fn started(&mut self, ctx: &mut Context<Self>) -> Result<(), BoxError> {
        self.start_children(ctx)
            .await
            .map_err(|error| Box::new(error) as BoxError)
    }

    async fn stopped(&mut self, ctx: &mut Context<Self>, reason: &ExitReason) {
        let restarting = self.handoff.take_restarting(ctx.id());
        if restarting || Self::keeps_children(ctx, reason) {
            return self.keep_children(ctx).await;
        }
        if let Some((index, parked)) = self.escalated.take() {
            let reason = parked.reason.clone();
            parked.finish(reason);
            if let Some((started, _)) = self.children[index].running.take() {
                started.cell.core().wait_for_stop().await;
            }
        }
        for index in (0..self.children.len()).rev() {
            self.terminate_at(index).await;
        }
    }

    async fn handle(&mut self, msg: SupervisorMsg, ctx: &mut Context<Self>) {
        self.handle_request(ctx, msg).await;
    }
}

impl ExitListener for ActorRef<Supervisor> {
    fn child_exited(&self, child: ActorId) {
        // Never wait on the supervisor's mailbox: a full one is drained by a helper task.
        if let Err(CallError::MailboxFull { .. }) = self.try_tell(SupervisorMsg::ChildExited { child }) {
            let supervisor = self.clone();
            tokio::spawn(async move { supervisor.tell(SupervisorMsg::ChildExited { child }).await });
        }
    }
}

/// Requests a supervisor handles. They never leave their node.
pub enum SupervisorMsg {
    /// A child's incarnation ended; sent by the child's task.
    #[doc(hidden)]
    ChildExited {
        /// The child.
        child: ActorId,
    },
    /// Add and start a child.
    StartChild {
        /// The child to start.
        spec: ChildSpec,
        /// The new child's id.
        reply: ReplyTo<Result<ActorId, SupervisorError>>,
    },
    /// Stop a child for good (a temporary child is then removed).
    TerminateChild {
        /// The child's name.
        id: String,
        /// Done.
        reply: ReplyTo<Result<(), SupervisorError>>,
    },
    /// Start a terminated child again.
    RestartChild {
        /// The child's name.
        id: String,
        /// The child's new id.
        reply: ReplyTo<Result<ActorId, SupervisorError>>,
    },
    /// Remove a terminated child's spec.
    DeleteChild {
        /// The child's name.
        id: String,
        /// Done.
        reply: ReplyTo<Result<(), SupervisorError>>,
    },
    /// List the children.
    WhichChildren {
        /// The children, in start order.
        reply: ReplyTo<Vec<ChildInfo>>,
    },
    /// Describe the supervisor: its name, strategy and children (for introspection).
    #[doc(hidden)]
    Describe {
        /// The description.
        reply: ReplyTo<SupervisorReport>,
    },
    /// Look up a running child.
    #[doc(hidden)]
    Child {
        /// The child's name.
        id: String,
        /// The child, if running.
        reply: ReplyTo<Result<ChildHandle, ChildError>>,
    },
}

impl Message for SupervisorMsg {
    const FINGERPRINT: u64 = distribute_hash::fnv1a64(b"distribute::Supervisor");
    const TAGS: &'static [(u32, &'static str)] = &[];

    fn tag(&self) -> u32 {
        0
    }

    fn name(&self) -> &'static str {
        match self {
            SupervisorMsg::ChildExited { .. } => "child_exited",
            SupervisorMsg::StartChild { .. } => "start_child",
            SupervisorMsg::TerminateChild { .. } => "terminate_child",
            SupervisorMsg::RestartChild { .. } => "restart_child",
            SupervisorMsg::DeleteChild { .. } => "delete_child",
            SupervisorMsg::WhichChildren { .. } => "which_children",
            SupervisorMsg::Describe { .. } => "describe",
            SupervisorMsg::Child { .. } => "child",
        }
    }

    fn encode_body<C: Codec>(&self, _codec: &C, _out: &mut Vec<u8>) -> Result<(), CodecError> {
        Err(CodecError::Encode(String::from(
            "supervisor requests never leave their node",
        )))
    }

    fn decode_body<C: Codec>(
        _codec: &C,
        tag: u32,
        _body: &[u8],
        _reply: crate::ReplySlot,
    ) -> Result<Self, CodecError> {
        Err(CodecError::UnknownTag { tag })
    }

    /// Supervisor requests are answered on the supervisor's own node only.
    fn take_reply<C: Codec>(&mut self) -> Option<crate::ErasedReply> {
        None
    }
}

/// Default timeout of supervisor requests that may wait for children to stop or start.
pub(crate) const SUPERVISOR_CALL_TIMEOUT: Duration = Duration::from_secs(60);

impl ActorRef<Supervisor> {
    async fn request<R: Send + 'static>(
        &self,
        make: impl FnOnce(ReplyTo<R>) -> SupervisorMsg + Send,
    ) -> Result<R, SupervisorError> {
        self.ask_timeout(make, SUPERVISOR_CALL_TIMEOUT)
            .await
            .map_err(SupervisorError::Call)
    }

    /// Adds `spec` as a new child and starts it; returns its id.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<ActorId, SupervisorError> {
        self.request(|reply| SupervisorMsg::StartChild { spec, reply })
            .await?
    }

    /// Stops the child named `id` for good (running its `stopped` hook within its shutdown
    /// timeout). A temporary child is removed; others stay listed as terminated.
    pub async fn terminate_child(&self, id: &str) -> Result<(), SupervisorError> {
        let id = id.to_owned();
        self.request(|reply| SupervisorMsg::TerminateChild { id, reply })
            .await?
    }

    /// Starts the terminated child named `id` again; returns its new id.
    pub async fn restart_child(&self, id: &str) -> Result<ActorId, SupervisorError> {
        let id = id.to_owned();
        self.request(|reply| SupervisorMsg::RestartChild { id, reply })
            .await?
    }

    /// Removes the spec of the terminated child named `id`.
    pub async fn delete_child(&self, id: &str) -> Result<(), SupervisorError> {
        let id = id.to_owned();
        self.request(|reply| SupervisorMsg::DeleteChild { id, reply })
            .await?
    }

    /// The children, in start order, with their state.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        self.request(|reply| SupervisorMsg::WhichChildren { reply }).await
    }

    /// The supervisor's name, strategy and children, waiting at most `timeout`: what
    /// introspection shows of it.
    pub(crate) async fn describe(&self, timeout: Duration) -> Result<SupervisorReport, CallError> {
        self.ask_timeout(|reply| SupervisorMsg::Describe { reply }, timeout)
            .await
    }

    /// How many children the supervisor has, and how many of them run.
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        let children = self.which_children().await?;
        Ok(ChildCounts::of(&children))
    }

    /// A typed ref to the running child named `id`. The ref stays valid across the child's
    /// restarts.
    ///
    /// Fails with [`ChildError::NoSuchChild`] if the supervisor has no child of that name,
    /// [`ChildError::NotRunning`] if it has one that is terminated, [`ChildError::WrongType`]
    /// if the child is not an `A`, and [`ChildError::Unreachable`] if the supervisor does not
    /// answer.
    pub async fn child<A: Actor>(&self, id: &str) -> Result<ActorRef<A>, ChildError> {
        let name = id.to_owned();
        let handle = self
            .ask_timeout(
                |reply| SupervisorMsg::Child { id: name, reply },
                SUPERVISOR_CALL_TIMEOUT,
            )
            .await
            .map_err(ChildError::Unreachable)??;
        let actual = handle.cell.core().name();
        match handle.typed.downcast::<crate::actor::Cell<A>>() {
            Ok(cell) => Ok(ActorRef::from_cell(cell)),
            Err(_) => Err(ChildError::WrongType {
                child: id.to_owned(),
                expected: A::NAME,
                actual,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategy::Restart;
    use super::*;
    use crate::node::Node;

    fn config(strategy: Strategy, children: Vec<ChildSpec>) -> Arc<SupervisorConfig> {
        Arc::new(SupervisorConfig {
            name: String::from("test"),
            strategy,
            intensity: Intensity::default(),
            backoff: None,
            children,
        })
    }

    /// A child that is an empty supervisor: an actor this file can build on its own.
    fn nested(id: &str) -> ChildSpec {
        let config = config(Strategy::OneForOne, Vec::new());
        ChildSpec::worker(id, move || Supervisor::new(Arc::clone(&config)))
    }

    async fn children_once_settled(
        supervisor: &ActorRef<Supervisor>,
        count: usize,
    ) -> Vec<(String, ChildState)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let children = supervisor.which_children().await.unwrap();
            if children.len() == count || Instant::now() > deadline {
                return children.into_iter().map(|c| (c.id, c.state)).collect();
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// A temporary sibling used to be removed in the middle of the group restart, shifting
    /// the indexes the rest of the restart used: the supervisor panicked.
    #[tokio::test]
    async fn a_group_restart_drops_temporary_siblings_and_restarts_the_rest() {
        for strategy in [Strategy::OneForAll, Strategy::RestForOne] {
            let node = Node::new();
            let children = vec![
                nested("a"),
                nested("t1").restart(Restart::Temporary),
                nested("b"),
                nested("t2").restart(Restart::Temporary),
                nested("c"),
            ];
            let supervisor = node
                .spawn(Supervisor::new(config(strategy, children)))
                .await
                .unwrap();
            let a = supervisor.child::<Supervisor>("a").await.unwrap();
            a.kill();
            let running = |id: &str| (id.to_owned(), ChildState::Running);
            assert_eq!(
                children_once_settled(&supervisor, 3).await,
                [running("a"), running("b"), running("c")],
                "{strategy:?}"
            );
            assert!(supervisor.is_alive(), "{strategy:?}");
            assert!(a.is_alive(), "{strategy:?}");
            supervisor.stop(ExitReason::Shutdown).await;
        }
    }
}
