//! The task that runs one actor: start hook, message loop, signals, exit.

use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use tokio::sync::oneshot;

use super::cell::{AnyCell, Cell, Core};
use super::context::Context;
use super::endpoint::{link, Endpoint};
use super::mailbox::Mailbox;
use super::monitor::ExitSignal;
use super::panic::{write_held_reports, GuardedPoll};
use super::reply::FailedHandlerScope;
use super::runtime::{Node, SpawnOptions};
use super::signal::Signal;
use super::{Actor, ActorId, ExitReason, Message};
use crate::actor::SpawnError;
use crate::meter::Batch;
use crate::trace::{Caller, HandleSpan};

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
        core: Core::new(id, restartable.is_some(), node.type_shared(A::NAME)),
        mailbox,
    });
    let trap_exit = options.trap_exit;
    if !A::HAS_STARTED_HOOK && restartable.is_none() && options.links.is_empty() {
        cell.core
            .sleep_until_needed(starter(&cell, node, actor, runtime, trap_exit));
        node.remember(Arc::clone(&cell) as Arc<dyn AnyCell>)?;
        crate::trace::trace_event!(trace, actor = %id, name = A::NAME, "actor spawned");
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
    crate::trace::trace_event!(trace, actor = %id, name = A::NAME, "actor spawned");
    runtime.spawn(run(actor, ctx, started_tx, restartable.map(Box::new)));
    Ok((cell, started_rx))
}

/// The starter of a dormant actor: spawns its task on `runtime` when first needed.
///
/// It holds what the task needs and the cell and node only weakly. The common starter, an
/// actor of the node's home runtime that does not trap exits, holds no runtime handle and no
/// flag: three words for a one-word actor, which the allocator serves from the size class of
/// a mailbox's first buffer, so that the buffer allocated by the first message reuses the
/// room of a starter freed before it.
fn starter<A: Actor>(
    cell: &Arc<Cell<A>>,
    node: &Node,
    actor: A,
    runtime: tokio::runtime::Handle,
    trap_exit: bool,
) -> super::cell::Awaken {
    let (weak, node_ref) = (Arc::downgrade(cell), node.downgrade());
    if !trap_exit && node.is_home(&runtime) {
        return Box::new(move || awaken(weak, node_ref.upgrade(), actor, None, false));
    }
    Box::new(move || awaken(weak, node_ref.upgrade(), actor, Some(&runtime), trap_exit))
}

/// What a starter does: spawns the actor's task on `runtime` (the node's home runtime when
/// `None`), or ends the actor as never run if its node is gone.
fn awaken<A: Actor>(
    weak: std::sync::Weak<Cell<A>>,
    node: Option<Node>,
    actor: A,
    runtime: Option<&tokio::runtime::Handle>,
    trap_exit: bool,
) {
    // The cell is alive: waking it goes through a ref to it.
    let Some(cell) = weak.upgrade() else { return };
    let Some(node) = node else {
        never_ran(&cell);
        return;
    };
    let Some(runtime) = runtime.or(node.home()).cloned() else {
        // Not reached: a starter without a runtime is made only once the node has a home.
        never_ran(&cell);
        return;
    };
    let ctx = Context::new(cell, node, trap_exit);
    runtime.spawn(run(actor, ctx, None, None));
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
///
/// Every idle actor that has run keeps this future in memory, so its size matters. The
/// functions below return `async move` blocks that use their captures in place: an `async fn`
/// would keep its arguments and the locals they move into side by side. The waits use no
/// `Notified` and no `select!`: signals and kills wake the task through the waker it
/// registers once in the signal queue, and each poll checks for them.
fn run<A: Actor>(
    first: A,
    mut ctx: Context<A>,
    mut started: Option<StartedTx>,
    restartable: Option<Box<Restartable<A>>>,
) -> impl Future<Output = ()> + Send + 'static {
    // The state of the running incarnation; only ever here, so a large actor is stored once.
    let mut actor = Some(first);
    async move {
        let cell = Arc::clone(&ctx.cell);
        let reason = loop {
            if actor.is_none() {
                actor = restartable.as_ref().map(|restartable| (restartable.factory)());
            }
            // Unreachable: only a restartable actor loops.
            let Some(state) = actor.as_mut() else {
                break ExitReason::NoProc;
            };
            let reason = {
                let mut life = pin!(incarnation(state, &mut ctx, &mut started));
                // The address of the waker registered for signals and kills, to register
                // again only if it changes: a word, where a clone of the waker took two in
                // every idle actor's task. The task's waker points at the task, which the
                // runtime polls only with its own.
                let mut registered: usize = 0;
                let core = &cell.core;
                poll_fn(move |cx| {
                    let waker = cx.waker().data().addr();
                    if registered != waker {
                        core.signals.register(cx.waker());
                        registered = waker;
                    }
                    // Checked before the incarnation on every wake-up: a kill stops the actor
                    // at its next await point, even in the middle of a handler.
                    if core.take_kill() {
                        return Poll::Ready(ExitReason::Killed);
                    }
                    life.as_mut().poll(cx)
                })
                .await
            };
            // The state is dropped before the exit is reported, whether it returned or was
            // killed; its timers go with it, before the parent decides on a restart.
            actor = None;
            ctx.end_timers();
            let Some(restartable) = &restartable else {
                break reason;
            };
            cell.core.set_restarting(true);
            match park(restartable, ctx.id(), &mut started, reason).await {
                Resume::Restart(tx) => {
                    cell.core.count_restart();
                    // A stop the last incarnation asked for does not apply to the next one.
                    let _ = ctx.take_stop_request();
                    started = Some(tx);
                    crate::trace::trace_event!(debug, actor = %ctx.id(), name = A::NAME, "actor restarting");
                }
                Resume::Finish(reason) => break reason,
            }
        };
        ctx.finish(reason.clone());
        // A spawn that failed returns only once the actor is fully gone.
        if let Some(tx) = started.take() {
            let _ = tx.send(Err(reason));
        }
    }
}

/// Hands an ended incarnation to the parent; resolves to its decision. A failed start is
/// reported first: the parent waits for it. Out of line, so that `reason` is moved, not
/// borrowed, in `run` and takes no room in its state.
fn park<'a, A: Actor>(
    restartable: &'a Restartable<A>,
    id: ActorId,
    started: &mut Option<StartedTx>,
    reason: ExitReason,
) -> Pin<Box<dyn Future<Output = Resume> + Send + 'a>> {
    if let Some(tx) = started.take() {
        let _ = tx.send(Err(reason.clone()));
    }
    restartable.parent.park(id, reason)
}

/// One life of the actor's state: `started`, the message loop, `stopped`. The start outcome
/// is sent on `started` when it succeeds; a failure leaves the sender for the caller.
///
/// The message loop handles signals first, then one message at a time, until a stop. It is
/// written inline rather than as a nested future, which would repeat the borrows of the
/// actor and the context in every idle actor's task.
#[allow(clippy::manual_async_fn)] // An `async fn` would store each borrow twice.
fn incarnation<'a, A: Actor>(
    actor: &'a mut A,
    ctx: &'a mut Context<A>,
    started: &'a mut Option<StartedTx>,
) -> impl Future<Output = ExitReason> + Send + 'a {
    async move {
        // The hooks and signal handlers run rarely: boxed, their futures (and what they
        // borrow) do not add to the size of every idle actor's task.
        if let Err(reason) = Box::pin(begin(actor, ctx, started)).await {
            return reason;
        }
        let mut budget = MESSAGES_PER_YIELD;
        let reason = 'serve: loop {
            // A signal not taken here because the actor stops stays queued and is answered
            // by `Context::finish`.
            while ctx.cell.core.signals.has_pending() {
                let Some(signal) = ctx.cell.core.signals.pop() else {
                    break;
                };
                if let Some(reason) = Box::pin(on_signal(actor, ctx, signal)).await {
                    break 'serve reason;
                }
            }
            if let Some(reason) = ctx.take_stop_request() {
                break reason;
            }
            if budget == 0 {
                budget = MESSAGES_PER_YIELD;
                flush_batch(&ctx.cell.core, MESSAGES_PER_YIELD);
                tokio::task::yield_now().await;
                // Signals that came in meanwhile go first.
                continue;
            }
            // Signals wake this task through its registered waker (see `run`), the mailbox
            // through its receiver slot; signals are looked at first. The closure holds the
            // context whole (one reference, not one per field it touches): it is stored in
            // every idle actor's task.
            match poll_fn(|cx| poll_next(&mut *ctx, &mut budget, cx)).await {
                Next::Signal => continue,
                Next::Message => {}
                Next::Closed => break ExitReason::Normal,
            }
            let Some((msg, caller)) = ctx.cell.mailbox.take(&mut ctx.inbox) else {
                continue;
            };
            // The budget counts the messages of the batch: the metrics count nothing per
            // message but the sampling of handler times. The depth is read from the inbox,
            // which the task owns, not from the mailbox's count, which the senders write.
            let first = budget == MESSAGES_PER_YIELD;
            budget -= 1;
            let timed = ctx
                .batch
                .took(&ctx.cell.core.shared.meters, first, || ctx.inbox.len());
            let handled = if timed || caller.is_known() || HandleSpan::wanted() {
                // Out of line and boxed (a message in 64, or a subscriber records spans):
                // the span and the start time live in the box, not in every idle actor's
                // task, and the common case polls the handler with nothing around it.
                Box::pin(instrumented(actor, ctx, msg, caller, timed)).await
            } else {
                caller.discard();
                guard(pin!(Some(actor.handle(msg, ctx))), NoScope).await
            };
            if let Err(panic) = handled {
                crate::trace::trace_event!(warn, actor = %ctx.id(), name = A::NAME, panic, "handler panicked");
                break ExitReason::Panicked(panic);
            }
        };
        flush_batch(&ctx.cell.core, MESSAGES_PER_YIELD - budget);
        // The reason lives in the boxed future, not in every state of this one.
        Box::pin(stopped(actor, ctx, reason)).await
    }
}

/// Handles `msg` inside its `handle` span, sent by `caller`; if `timed`, records how long
/// the handler took from its first poll to its end.
async fn instrumented<A: Actor>(
    actor: &mut A,
    ctx: &mut Context<A>,
    msg: A::Msg,
    caller: Caller,
    timed: bool,
) -> Result<(), String> {
    let span = HandleSpan::new(A::NAME, &ctx.id(), msg.name(), caller);
    let start = timed.then(Instant::now);
    let handled = guard(pin!(Some(actor.handle(msg, ctx))), span).await;
    Batch::timed(&ctx.cell.core.shared.meters, start.map(|start| start.elapsed()));
    handled
}

/// Runs the `started` hook of an incarnation and tells whoever waits for the start; the
/// reason to exit with if the hook failed.
async fn begin<A: Actor>(
    actor: &mut A,
    ctx: &mut Context<A>,
    started: &mut Option<StartedTx>,
) -> Result<(), ExitReason> {
    match guarded(actor.started(ctx)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            let reason = ExitReason::StartFailed(error.to_string());
            return Err(failed_to_start::<A>(ctx.id(), reason));
        }
        Err(panic) => return Err(failed_to_start::<A>(ctx.id(), ExitReason::Panicked(panic))),
    }
    ctx.cell.core.set_restarting(false);
    if let Some(tx) = started.take() {
        let _ = tx.send(Ok(()));
    }
    Ok(())
}

/// Runs the `stopped` hook; returns `reason`.
async fn stopped<A: Actor>(actor: &mut A, ctx: &mut Context<A>, reason: ExitReason) -> ExitReason {
    if let Err(panic) = guarded(actor.stopped(ctx, &reason)).await {
        crate::trace::trace_event!(warn, actor = %ctx.id(), name = A::NAME, panic, "stopped hook panicked");
    }
    reason
}

/// Logs a failed start and returns its reason. Out of line: a reason borrowed in the async
/// block would keep its storage in every later state of the future.
fn failed_to_start<A: Actor>(id: ActorId, reason: ExitReason) -> ExitReason {
    crate::trace::trace_event!(debug, actor = %id, name = A::NAME, %reason, "actor failed to start");
    reason
}

/// Adds a batch's handled messages to the actor's count and to the metrics: once per batch
/// (when the mailbox runs empty, when the actor yields, when an incarnation ends), because a
/// write per message to the actor's shared state, which its senders read at every send,
/// halved the tell throughput.
#[inline]
fn flush_batch(core: &Core, handled: u32) {
    if handled != 0 {
        core.count_handled(u64::from(handled));
        Batch::flush(&core.shared.meters, handled);
    }
}

/// One poll of an actor waiting for work: a signal first, then the next message. When
/// the mailbox is empty the actor is idle: the next burst of messages gets a full `budget`,
/// and what this one counted goes to the metrics.
#[inline]
fn poll_next<A: Actor>(
    ctx: &mut Context<A>,
    budget: &mut u32,
    cx: &mut std::task::Context<'_>,
) -> Poll<Next> {
    if ctx.cell.core.signals.has_pending() {
        return Poll::Ready(Next::Signal);
    }
    match ctx.cell.mailbox.poll_ready(cx, &mut ctx.inbox) {
        Poll::Ready(true) => Poll::Ready(Next::Message),
        Poll::Ready(false) => Poll::Ready(Next::Closed),
        Poll::Pending => {
            flush_batch(&ctx.cell.core, MESSAGES_PER_YIELD - *budget);
            *budget = MESSAGES_PER_YIELD;
            Poll::Pending
        }
    }
}

/// What woke an actor waiting for work.
enum Next {
    Signal,
    /// A message waits at the front of the inbox.
    Message,
    /// The mailbox is closed (only this task closes it, when it exits).
    Closed,
}

/// Handles one signal; returns the exit reason if the actor must stop.
async fn on_signal<A: Actor>(actor: &mut A, ctx: &mut Context<A>, signal: Signal) -> Option<ExitReason> {
    match signal {
        Signal::Stop(reason) => Some(reason),
        Signal::Exit(ExitSignal { from, reason }) => {
            if !ctx.cold.as_deref_mut().is_some_and(|c| c.remove_link(from)) {
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
            ctx.cold_mut().add_link(peer);
            None
        }
        Signal::Unlink(id) => {
            if let Some(cold) = ctx.cold.as_deref_mut() {
                cold.remove_link(id);
            }
            None
        }
        Signal::Monitor(watcher) => {
            ctx.cold_mut().watchers.push(watcher);
            None
        }
        Signal::Demonitor(monitor) => {
            if let Some(cold) = ctx.cold.as_deref_mut() {
                cold.watchers.retain(|w| w.monitor() != monitor);
            }
            None
        }
        Signal::Down(down) => {
            // Unknown when demonitored while the DOWN was on its way: dropped.
            ctx.cold.as_deref_mut()?.take_monitor(down.monitor)?;
            guarded(actor.on_down(ctx, down))
                .await
                .err()
                .map(ExitReason::Panicked)
        }
    }
}

/// Polls `fut` to completion, turning a panic into `Err(message)`; see [`guard`].
pub(crate) async fn guarded<F: Future>(fut: F) -> Result<F::Output, String> {
    guard(pin!(Some(fut)), NoScope).await
}

/// What each poll of a guarded future runs inside: the `handle` span of a message, or
/// nothing ([`NoScope`]). A type parameter, not an option, so that a handler polled with no
/// span compiles to the bare poll.
trait PollScope {
    /// Makes the scope current until the returned guard is dropped.
    fn enter(&self) -> impl Sized + '_;
    /// The future ended, by a panic or not.
    fn finish(&mut self, panicked: bool);
}

/// No span around a poll.
struct NoScope;

impl PollScope for NoScope {
    #[inline(always)]
    fn enter(&self) -> impl Sized + '_ {}

    #[inline(always)]
    fn finish(&mut self, _panicked: bool) {}
}

impl PollScope for HandleSpan {
    #[inline]
    fn enter(&self) -> impl Sized + '_ {
        HandleSpan::enter(self)
    }

    #[inline]
    fn finish(&mut self, panicked: bool) {
        HandleSpan::finish(self, panicked);
    }
}

/// Polls the future in `slot` to completion, turning a panic into `Err(message)`. The
/// future's state is dropped inside a [`FailedHandlerScope`], so the reply channels it held
/// report `ActorFailed` to their callers; then the panic's report is written if
/// [`defer_panic_reports`](super::defer_panic_reports) held it back. The caller owns the
/// slot, so the future is stored once, in the caller's state. Each poll runs inside `span`,
/// which records the outcome when the future ends.
fn guard<'a, F: Future, S: PollScope + 'a>(
    mut slot: Pin<&'a mut Option<F>>,
    mut span: S,
) -> impl Future<Output = Result<F::Output, String>> + 'a {
    poll_fn(move |cx| {
        let Some(fut) = slot.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(String::from("future polled after completion")));
        };
        let polled = {
            let _entered = span.enter();
            let _guarded = GuardedPoll::enter();
            catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))
        };
        let polled = match polled {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                let scope = FailedHandlerScope::enter();
                slot.set(None);
                drop(scope);
                Poll::Ready(Err(panic_message(payload.as_ref())))
            }
        };
        if let Poll::Ready(result) = &polled {
            span.finish(result.is_err());
        }
        // The callers were answered: a report held back by `defer_panic_reports` can go.
        write_held_reports();
        polled
    })
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
