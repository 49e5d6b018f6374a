//! The task that runs one actor: start hook, message loop, signals, exit.

use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::oneshot;

use super::cell::{AnyCell, Cell, Core};
use super::context::Context;
use super::endpoint::{link, Endpoint};
use super::mailbox::Mailbox;
use super::monitor::ExitSignal;
use super::reply::FailedHandlerScope;
use super::signal::Signal;
use super::{Actor, ActorId, ExitReason};
use crate::error::SpawnError;
use crate::node::{Node, SpawnOptions};

/// How many messages an actor handles in a row before it yields to the scheduler, so a busy
/// actor with a full mailbox cannot starve the other tasks of its worker thread.
const MESSAGES_PER_YIELD: u32 = 128;

/// Receives the outcome of the `started` hook.
pub(crate) type StartedRx = oneshot::Receiver<Result<(), ExitReason>>;

/// Sends the outcome of the `started` hook.
pub(crate) type StartedTx = oneshot::Sender<Result<(), ExitReason>>;

/// What a parent tells a child whose incarnation ended.
pub(crate) enum Resume {
    /// Run a fresh incarnation behind the same ref and mailbox, and report how its start went.
    Restart(StartedTx),
    /// Stop for good with this reason.
    Finish(ExitReason),
}

/// The parent of a restartable actor: told when an incarnation ends, it decides what follows.
pub(crate) trait Parent: Send + Sync + 'static {
    /// Called by the child's task when an incarnation ended with `reason`; resolves to the
    /// parent's decision. A parent that has gone away resolves to `Finish(reason)`.
    fn park(&self, child: ActorId, reason: ExitReason) -> Pin<Box<dyn Future<Output = Resume> + Send + '_>>;
}

/// How to restart an actor: a factory for fresh state and the parent that decides.
pub(crate) struct Restartable<A> {
    pub(crate) factory: Arc<dyn Fn() -> A + Send + Sync>,
    pub(crate) parent: Arc<dyn Parent>,
}

/// Creates the actor's cell and task. Returns the ref at once, and a receiver for the outcome
/// of `started` when the actor has a start hook.
///
/// An actor that nothing waits for (no start hook, no parent, no links yet) starts dormant:
/// its task is spawned by the first message, signal or kill (see [`Core::wake`]). Spawning
/// is then one allocation and a table insert, and an idle actor that was never sent
/// anything costs only its cell.
pub(crate) fn spawn_actor<A: Actor>(
    node: &Node,
    actor: A,
    options: SpawnOptions,
    restartable: Option<Restartable<A>>,
) -> Result<(Arc<Cell<A>>, Option<StartedRx>), SpawnError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| SpawnError::NoRuntime)?;
    let capacity = options.mailbox_capacity.unwrap_or(A::MAILBOX_CAPACITY);
    let mailbox = Mailbox::new(capacity)?;
    let id = node.next_actor_id();
    let cell = Arc::new(Cell::<A> {
        core: Core::new(id, A::NAME, restartable.is_some(), node.stats()),
        mailbox,
    });
    let trap_exit = options.trap_exit;
    if !A::HAS_STARTED_HOOK && restartable.is_none() && options.links.is_empty() {
        let (weak, node_ref) = (Arc::downgrade(&cell), node.downgrade());
        cell.core.sleep_until_needed(Box::new(move || {
            // The cell is alive: waking it goes through a ref to it.
            let Some(cell) = weak.upgrade() else { return };
            match node_ref.upgrade() {
                Some(node) => {
                    let ctx = Context::new(cell, node, trap_exit);
                    runtime.spawn(run(actor, ctx, None, None));
                }
                None => never_ran(&cell),
            }
        }));
        node.remember(Arc::clone(&cell) as Arc<dyn AnyCell>)?;
        tracing::trace!(actor = %id, name = A::NAME, "actor spawned");
        return Ok((cell, None));
    }
    let erased: Arc<dyn AnyCell> = cell.clone();
    node.remember(Arc::clone(&erased))?;
    let ctx = Context::new(Arc::clone(&cell), node.clone(), trap_exit);
    for peer in &options.links {
        link(&Endpoint::Local(Arc::clone(&erased)), peer);
    }
    let (started_tx, started_rx) = if A::HAS_STARTED_HOOK || restartable.is_some() {
        let (tx, rx) = oneshot::channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    tracing::trace!(actor = %id, name = A::NAME, "actor spawned");
    runtime.spawn(run(actor, ctx, started_tx, restartable));
    Ok((cell, started_rx))
}

/// Ends a dormant actor whose node was dropped before it ever ran: what was queued for it is
/// answered as for any actor that stops.
fn never_ran<A: Actor>(cell: &Cell<A>) {
    let core = &cell.core;
    let reason = ExitReason::Shutdown;
    core.begin_exit(reason.clone());
    cell.mailbox.close_and_drain(&mut Default::default());
    for signal in core.signals.close() {
        match signal {
            Signal::Monitor(watcher) => watcher.deliver(core.id, reason.clone()),
            Signal::Link(peer) => peer.send_exit(core.id, reason.clone()),
            _ => {}
        }
    }
    core.finish_exit();
}

/// The actor's task: one incarnation, or, for a restartable actor, as many as its parent
/// asks for, all behind the same ref and mailbox.
async fn run<A: Actor>(
    first: A,
    mut ctx: Context<A>,
    mut started: Option<StartedTx>,
    restartable: Option<Restartable<A>>,
) {
    let cell = Arc::clone(&ctx.cell);
    let mut next = Some(first);
    let reason = loop {
        let actor = match (next.take(), &restartable) {
            (Some(actor), _) => actor,
            (None, Some(restartable)) => (restartable.factory)(),
            // Unreachable: only a restartable actor loops.
            (None, None) => break ExitReason::NoProc,
        };
        let reason = tokio::select! {
            biased;
            () = cell.core.killed() => ExitReason::Killed,
            reason = incarnation(actor, &mut ctx, &mut started) => reason,
        };
        let Some(restartable) = &restartable else {
            break reason;
        };
        // A failed start is reported before parking: the parent waits for it.
        if let Some(tx) = started.take() {
            let _ = tx.send(Err(reason.clone()));
        }
        match restartable.parent.park(ctx.id(), reason).await {
            Resume::Restart(tx) => {
                ctx.stop_request = None;
                started = Some(tx);
                tracing::debug!(actor = %ctx.id(), name = A::NAME, "actor restarting");
            }
            Resume::Finish(reason) => break reason,
        }
    };
    ctx.finish(reason.clone());
    // A spawn that failed returns only once the actor is fully gone.
    if let Some(tx) = started {
        let _ = tx.send(Err(reason));
    }
}

/// One life of the actor's state: `started`, the message loop, `stopped`. The start outcome
/// is sent on `started` when it succeeds; a failure leaves the sender for the caller.
async fn incarnation<A: Actor>(
    mut actor: A,
    ctx: &mut Context<A>,
    started: &mut Option<StartedTx>,
) -> ExitReason {
    // The hooks and signal handlers run rarely: boxed, their futures do not add to the size
    // of every idle actor's task.
    let start = match Box::pin(guarded(actor.started(ctx))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(ExitReason::StartFailed(error.to_string())),
        Err(panic) => Err(ExitReason::Panicked(panic)),
    };
    if let Err(reason) = start {
        tracing::debug!(actor = %ctx.id(), name = A::NAME, %reason, "actor failed to start");
        return reason;
    }
    if let Some(tx) = started.take() {
        let _ = tx.send(Ok(()));
    }
    let reason = serve(&mut actor, ctx).await;
    if let Err(panic) = Box::pin(guarded(actor.stopped(ctx, &reason))).await {
        tracing::warn!(actor = %ctx.id(), name = A::NAME, panic, "stopped hook panicked");
    }
    reason
}

/// The message loop: signals first, then one message at a time, until a stop.
async fn serve<A: Actor>(actor: &mut A, ctx: &mut Context<A>) -> ExitReason {
    let cell = Arc::clone(&ctx.cell);
    let signals = &cell.core.signals;
    let mut budget = MESSAGES_PER_YIELD;
    loop {
        // A signal not taken here because the actor stops stays queued and is answered by
        // `Context::finish`.
        while signals.has_pending() {
            let Some(signal) = signals.pop() else { break };
            if let Some(reason) = Box::pin(on_signal(actor, ctx, signal)).await {
                return reason;
            }
        }
        if let Some(reason) = ctx.stop_request.take() {
            return reason;
        }
        let msg = match cell.mailbox.try_recv(&mut ctx.inbox) {
            Some(msg) => {
                budget -= 1;
                if budget == 0 {
                    budget = MESSAGES_PER_YIELD;
                    tokio::task::yield_now().await;
                }
                msg
            }
            None => {
                budget = MESSAGES_PER_YIELD;
                tokio::select! {
                    biased;
                    () = signals.notified() => continue,
                    msg = cell.mailbox.recv(&mut ctx.inbox) => match msg {
                        Some(msg) => msg,
                        // The mailbox is closed only by this task, when it exits.
                        None => return ExitReason::Normal,
                    },
                }
            }
        };
        if let Err(panic) = guarded(actor.handle(msg, ctx)).await {
            tracing::warn!(actor = %ctx.id(), name = A::NAME, panic, "handler panicked");
            return ExitReason::Panicked(panic);
        }
    }
}

/// Handles one signal; returns the exit reason if the actor must stop.
async fn on_signal<A: Actor>(actor: &mut A, ctx: &mut Context<A>, signal: Signal) -> Option<ExitReason> {
    match signal {
        Signal::Stop(reason) => Some(reason),
        Signal::Exit(ExitSignal { from, reason }) => {
            let before = ctx.links.len();
            ctx.links.retain(|l| l.id() != from);
            if ctx.links.len() == before {
                // The link was removed before this exit arrived.
                return None;
            }
            if ctx.trap_exit {
                let signal = ExitSignal { from, reason };
                return guarded(actor.on_exit(ctx, signal))
                    .await
                    .err()
                    .map(ExitReason::Panicked);
            }
            if reason.is_normal() {
                return None;
            }
            Some(ExitReason::Linked {
                from,
                reason: Box::new(reason),
            })
        }
        Signal::Link(peer) => {
            let id = peer.id();
            if !ctx.links.iter().any(|l| l.id() == id) {
                ctx.links.push(peer);
            }
            None
        }
        Signal::Unlink(id) => {
            ctx.links.retain(|l| l.id() != id);
            None
        }
        Signal::Monitor(watcher) => {
            ctx.watchers.push(watcher);
            None
        }
        Signal::Demonitor(monitor) => {
            ctx.watchers.retain(|w| w.monitor() != monitor);
            None
        }
        Signal::Down(down) => {
            let Some(pos) = ctx.monitoring.iter().position(|(m, _)| *m == down.monitor) else {
                // Demonitored while the DOWN was on its way.
                return None;
            };
            ctx.monitoring.swap_remove(pos);
            guarded(actor.on_down(ctx, down))
                .await
                .err()
                .map(ExitReason::Panicked)
        }
    }
}

/// Polls `fut` to completion, turning a panic into `Err(message)`. The future's state is
/// dropped inside a [`FailedHandlerScope`], so the reply channels it held report
/// `ActorFailed` to their callers.
pub(crate) async fn guarded<F: Future>(fut: F) -> Result<F::Output, String> {
    let mut slot = pin!(Some(fut));
    let outcome = poll_fn(|cx| {
        let Some(fut) = slot.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(String::from("future polled after completion")));
        };
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    })
    .await;
    if outcome.is_err() {
        let _scope = FailedHandlerScope::enter();
        slot.set(None);
    }
    outcome
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("panic with a non-string payload")
    }
}
