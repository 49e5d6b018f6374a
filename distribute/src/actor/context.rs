//! [`Context`]: what an actor knows about itself while it runs.
//!
//! The context owns the actor's private bookkeeping (the messages taken from the mailbox,
//! links, monitors) and finishes the actor's exit when dropped, so an actor whose task is
//! dropped by a shutting-down runtime still tells its links, monitors and node.
//!
//! It lives inside every actor's task, so what most actors never use (links, monitors, a
//! stop request, timers) is boxed in a [`ColdState`] and allocated only when first needed.

use std::sync::Arc;
use std::time::Duration;

use super::cell::Cell;
use super::endpoint::{link, Endpoint};
use super::mailbox::Inbox;
use super::monitor::{MonitorRef, Watcher};
use super::runtime::{Node, SpawnOptions};
use super::signal::Signal;
use super::timer::{TimerHandle, Timers};
use super::{Actor, ActorId, ActorRef, ExitReason};
use crate::actor::SpawnError;
use crate::meter::Batch;

/// The running actor's view of itself, passed to handlers and hooks.
///
/// A `#[message]` method receives it by declaring a parameter of type `&mut Context<Self>`
/// (or `&Context<Self>`) anywhere in its argument list; that parameter is not part of the
/// message.
pub struct Context<A: Actor> {
    /// This actor's cell. No ref to it is kept beside it: [`myself`](Self::myself) makes
    /// one, so that every idle actor's task is a ref smaller.
    pub(crate) cell: Arc<Cell<A>>,
    /// The messages taken from the mailbox and not yet handled.
    pub(crate) inbox: Inbox<A::Msg>,
    pub(crate) node: Node,
    /// Links, monitors and a stop request; `None` until the first of them.
    pub(crate) cold: Option<Box<ColdState>>,
    pub(crate) trap_exit: bool,
    finished: bool,
    /// Where the task is in the sampling of handler times.
    pub(crate) batch: Batch,
}

/// What most actors never use: links, monitors, a stop request, timers.
#[derive(Default)]
pub(crate) struct ColdState {
    /// Set by [`Context::stop`]; the actor stops when the current handler returns.
    stop_request: Option<ExitReason>,
    pub(crate) links: Vec<Endpoint>,
    /// Who monitors this actor.
    pub(crate) watchers: Vec<Watcher>,
    /// Monitors this actor holds on others, so that a late DOWN after `demonitor` is dropped.
    pub(crate) monitoring: Vec<(MonitorRef, Endpoint)>,
    /// The timers of the running incarnation; boxed, so that an actor that links or monitors
    /// but sets no timer pays one word for them, not a `Vec`'s three.
    timers: Option<Box<Timers>>,
}

impl ColdState {
    /// Adds a link unless there is one with that actor already.
    pub(crate) fn add_link(&mut self, peer: Endpoint) {
        let id = peer.id();
        if !self.links.iter().any(|l| l.id() == id) {
            self.links.push(peer);
        }
    }

    /// Removes the link with `id`; returns whether there was one.
    pub(crate) fn remove_link(&mut self, id: ActorId) -> bool {
        let before = self.links.len();
        self.links.retain(|l| l.id() != id);
        self.links.len() != before
    }

    /// Forgets the monitor this actor holds with reference `monitor`; returns its target.
    pub(crate) fn take_monitor(&mut self, monitor: MonitorRef) -> Option<Endpoint> {
        let pos = self.monitoring.iter().position(|(m, _)| *m == monitor)?;
        Some(self.monitoring.swap_remove(pos).1)
    }
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(cell: Arc<Cell<A>>, node: Node, trap_exit: bool) -> Self {
        Context {
            cell,
            inbox: Inbox::default(),
            node,
            cold: None,
            trap_exit,
            finished: false,
            batch: Batch::default(),
        }
    }

    /// A ref to this actor, to hand to others.
    pub fn myself(&self) -> ActorRef<A> {
        ActorRef::from_cell(Arc::clone(&self.cell))
    }

    /// This actor's id.
    pub fn id(&self) -> ActorId {
        self.cell.core.id
    }

    /// The node this actor runs on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Stops this actor with `reason` once the current handler returns. Queued messages are
    /// not handled; their callers get `ActorStopped`.
    pub fn stop(&mut self, reason: ExitReason) {
        self.cold_mut().stop_request = Some(reason);
    }

    /// Whether exits of linked actors arrive as [`Actor::on_exit`] calls (`true`) or stop
    /// this actor when abnormal (`false`, the default), as OTP's `trap_exit` flag.
    pub fn trap_exit(&mut self, trap: bool) {
        self.trap_exit = trap;
    }

    /// Whether this actor traps exits.
    pub fn is_trapping_exits(&self) -> bool {
        self.trap_exit
    }

    /// Links this actor with `other` (see [`ActorRef::link`]).
    pub fn link<B: Actor>(&mut self, other: &ActorRef<B>) {
        link(&self.myself().endpoint(), &other.endpoint());
    }

    /// Removes the link with `other`, in both directions.
    pub fn unlink<B: Actor>(&mut self, other: &ActorRef<B>) {
        if let Some(cold) = self.cold.as_deref_mut() {
            cold.remove_link(other.id());
        }
        other.endpoint().remove_link(self.id());
    }

    /// Monitors `other`: when it stops, this actor's [`Actor::on_down`] receives a
    /// [`Down`](super::Down) carrying the returned reference. If `other` has already
    /// stopped, the DOWN comes at once.
    pub fn monitor<B: Actor>(&mut self, other: &ActorRef<B>) -> MonitorRef {
        let monitor = MonitorRef::fresh();
        let target = other.endpoint();
        target.add_watcher(Watcher::Actor {
            monitor,
            watcher: self.cell.clone(),
        });
        self.cold_mut().monitoring.push((monitor, target));
        monitor
    }

    /// Removes a monitor made with [`Context::monitor`]; a DOWN for it that is already on
    /// its way is discarded. Returns false if the monitor was unknown or has already fired.
    pub fn demonitor(&mut self, monitor: MonitorRef) -> bool {
        let Some(target) = self.cold.as_deref_mut().and_then(|c| c.take_monitor(monitor)) else {
            return false;
        };
        target.remove_watcher(monitor);
        true
    }

    /// Spawns an actor on this node, linked to this one from its first instant.
    pub async fn spawn_link<B: Actor>(&mut self, actor: B) -> Result<ActorRef<B>, SpawnError> {
        let options = SpawnOptions::new().link_to(&self.myself());
        self.node.spawn_with(actor, options).await
    }

    /// Sends this actor `msg` after `delay`, through its mailbox as any sender would (waiting
    /// for room if it is full). Returns a handle that can [`cancel`](TimerHandle::cancel) the
    /// timer; dropping the handle does not cancel it.
    ///
    /// The timer belongs to this incarnation of the actor: it is cancelled when the actor
    /// stops, and when it fails and its supervisor restarts it (the restarted actor starts
    /// with no timers, as a restarted Erlang process does).
    ///
    /// ```
    /// use std::time::Duration;
    /// use distribute::prelude::*;
    ///
    /// #[actor]
    /// #[derive(Default)]
    /// struct Session { expired: bool }
    ///
    /// #[actor]
    /// impl Session {
    ///     #[message]
    ///     fn open(&mut self, ctx: &mut Context<Self>) {
    ///         // `SessionMsg` is the message enum that `#[actor]` generates.
    ///         ctx.send_after(Duration::from_secs(30), SessionMsg::Expire {});
    ///     }
    ///     #[message]
    ///     fn expire(&mut self) { self.expired = true; }
    ///     #[message]
    ///     fn expired(&self) -> bool { self.expired }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = Node::new();
    /// let session = node.spawn(Session::default()).await?;
    /// session.open().await?;
    /// tokio::time::sleep(Duration::from_secs(31)).await;
    /// assert!(session.expired().await?);
    /// # Ok(()) }
    /// ```
    pub fn send_after(&mut self, delay: Duration, msg: A::Msg) -> TimerHandle {
        let cell = Arc::clone(&self.cell);
        self.timers_mut().send_after(&cell, delay, msg)
    }

    /// Sends this actor the message `make` builds every `period`, the first one `period` from
    /// now, until the returned handle cancels it or the incarnation ends (as for
    /// [`send_after`](Self::send_after)). A period below [`MIN_TIMER_PERIOD`](super::MIN_TIMER_PERIOD)
    /// is taken as that.
    ///
    /// Ticks never pile up: a tick at which the mailbox is full is skipped (the message is
    /// not built), and so is one the runtime was too busy to take on time; the next tick keeps
    /// the original rhythm. An actor slower than its interval thus gets fewer ticks, never a
    /// growing backlog of them.
    ///
    /// `make` runs on the timer's own task, once per tick that is sent. A message enum that
    /// `#[actor]` generates is not `Clone` (an ask carries its reply channel), hence a
    /// function rather than a value; for a `Clone` message pass `move || msg.clone()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use distribute::prelude::*;
    ///
    /// #[actor]
    /// #[derive(Default)]
    /// struct Heartbeat { beats: u64, timer: Option<TimerHandle> }
    ///
    /// #[actor]
    /// impl Heartbeat {
    ///     #[on_start]
    ///     fn begin(&mut self, ctx: &mut Context<Self>) {
    ///         let every = Duration::from_secs(1);
    ///         self.timer = Some(ctx.send_interval(every, || HeartbeatMsg::Beat {}));
    ///     }
    ///     #[message]
    ///     fn beat(&mut self) { self.beats += 1; }
    ///     /// Stops the beats; whether they were still going.
    ///     #[message]
    ///     fn pause(&mut self) -> bool { self.timer.take().is_some_and(|t| t.cancel()) }
    ///     #[message]
    ///     fn beats(&self) -> u64 { self.beats }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = Node::new();
    /// let heart = node.spawn(Heartbeat::default()).await?;
    /// tokio::time::sleep(Duration::from_millis(3500)).await;
    /// assert!(heart.pause().await?);
    /// tokio::time::sleep(Duration::from_secs(5)).await;
    /// assert_eq!(heart.beats().await?, 3);
    /// # Ok(()) }
    /// ```
    pub fn send_interval<F>(&mut self, period: Duration, make: F) -> TimerHandle
    where
        F: FnMut() -> A::Msg + Send + 'static,
    {
        let cell = Arc::clone(&self.cell);
        self.timers_mut().send_interval(&cell, period, make)
    }

    /// Stops this actor with `reason` after `delay`, unless the returned handle cancels it
    /// first: OTP's `timer:exit_after` aimed at oneself. The stop is the one
    /// [`ActorRef::stop`] asks for: it takes effect once the message being handled returns,
    /// queued messages are dropped (their callers get `ActorStopped`), the `stopped` hook runs
    /// and links, monitors and a supervisor see `reason`. It is not an exit signal, so
    /// [`trap_exit`](Self::trap_exit) does not turn it into a message. Like every timer, it is
    /// cancelled when the incarnation ends first; one that fires in the very instant its
    /// incarnation fails may stop the restarted one, as an `ActorRef::stop` sent at that
    /// instant would.
    pub fn stop_after(&mut self, delay: Duration, reason: ExitReason) -> TimerHandle {
        let cell = Arc::clone(&self.cell);
        self.timers_mut().stop_after(&cell, delay, reason)
    }

    /// Ends the timers of the incarnation that ended (see [`Timers::end_all`]).
    pub(crate) fn end_timers(&mut self) {
        if let Some(timers) = self.cold.as_deref_mut().and_then(|c| c.timers.as_deref_mut()) {
            timers.end_all();
        }
    }

    /// The timers of this incarnation, allocated by the first timer.
    fn timers_mut(&mut self) -> &mut Timers {
        self.cold_mut().timers.get_or_insert_with(Box::default)
    }

    /// The cold state, allocated by the first use.
    pub(crate) fn cold_mut(&mut self) -> &mut ColdState {
        self.cold.get_or_insert_with(Box::default)
    }

    /// Takes the reason given to [`Context::stop`], if any.
    pub(crate) fn take_stop_request(&mut self) -> Option<ExitReason> {
        self.cold.as_deref_mut()?.stop_request.take()
    }

    /// Finishes the exit: records the reason, discards queued messages (their callers get
    /// `ActorStopped`), answers queued signals, tells links and monitors, leaves the node and
    /// wakes everyone waiting for the stop. Runs once.
    pub(crate) fn finish(&mut self, reason: ExitReason) {
        if self.finished {
            return;
        }
        self.finished = true;
        let id = self.id();
        let core = &self.cell.core;
        core.begin_exit(reason.clone());
        self.cell.mailbox.close_and_drain(&mut self.inbox);
        let mut cold = self.cold.take().map(|c| *c).unwrap_or_default();
        if let Some(timers) = cold.timers.as_deref_mut() {
            timers.end_all();
        }
        for signal in core.signals.close() {
            match signal {
                Signal::Monitor(watcher) => watcher.deliver(id, reason.clone()),
                Signal::Link(peer) => cold.links.push(peer),
                _ => {}
            }
        }
        for peer in cold.links {
            peer.send_exit(id, reason.clone());
        }
        for watcher in cold.watchers {
            watcher.deliver(id, reason.clone());
        }
        for (monitor, target) in cold.monitoring {
            target.remove_watcher(monitor);
        }
        self.node.forget(id);
        crate::trace::trace_event!(debug, actor = %id, name = A::NAME, %reason, "actor stopped");
        core.finish_exit();
    }
}

impl<A: Actor> Drop for Context<A> {
    fn drop(&mut self) {
        // Reached without `finish` only when the runtime dropped the actor's task (a runtime
        // shutdown); kills are handled inside the task.
        self.finish(ExitReason::Killed);
    }
}
