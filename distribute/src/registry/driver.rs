//! The registry's driver: the only part of the registry that locks, reads the clock, starts a
//! task or talks to the outside world. It runs the state machine ([`protocol`](super::protocol))
//! one input at a time under one lock and carries out what each step asks for.
//!
//! Order matters, so a step's effects are carried out in two rounds. Under the lock: frames
//! are queued through the [`RegistryHost`] (queueing never blocks), so each peer receives them
//! in the order the protocol produced them, even when two steps run on two threads; watchers
//! are told of name changes in the order they were made. After the lock is released: waiting
//! callers get their answers (and what a granted claim sets up runs), losers of conflicts are
//! stopped and conflicts reported, since those call into code that may take other locks.
//!
//! Time is a [`Duration`] since the driver was created. The deadlines are the sequencer's
//! wait for acknowledgements, a claim's wait for a first word from its sequencer, and the end
//! of a suspicion; one timer task, started when a deadline appears and ending when none is
//! left, ticks the state machine at each.
//!
//! Frames are decoded and validated here ([`RegistryMsg::validate`]) before the state machine
//! sees them: an undecodable or invalid frame is refused whole, counted, logged, and returned
//! as an error, which makes the network layer drop the peer as a protocol violation.
//!
//! This node's own actors that hold a name are watched (one task per actor, through the
//! host): when one stops for good, its node, the only one allowed to, releases its names.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{broadcast, oneshot, watch};
use tokio::time::Instant;

use super::api::NameChange;
use super::conflict::ConflictPolicy;
use super::protocol::{Answer, Change, Config, Outputs, Registry, Replica};
use super::wire::{Decision, GlobalEntry, RegistryMsg};
use super::RegistryError;
use crate::actor::{deadline, ActorId, ExitReason, NodeId};
use crate::lock::lock;
use crate::meter::{self, Gauge};
use crate::DEFAULT_CALL_TIMEOUT;

/// How many sequencers a change is submitted to at most before it fails with `NodeDown`:
/// the first, and the next ones if each goes down (or falls silent) before answering.
const SUBMIT_ATTEMPTS: u32 = 8;

/// The wait before submitting again after a sequencer was lost, doubled each time: a
/// sequencer that fell silent is declared dead by the membership a little later, and
/// until then the next candidate may still forward to it.
const RESUBMIT_BACKOFF: Duration = Duration::from_millis(25);

/// How many name changes a watcher may fall behind before it skips the oldest.
const WATCH_BUFFER: usize = 1024;

/// What the registry needs from the node that runs it.
pub(crate) trait RegistryHost: Send + Sync + 'static {
    /// Queues a Registry frame for `to`; dropped if `to` is not connected. Called with the
    /// registry's lock held, so it must not block or call back into the registry.
    fn send(&self, to: NodeId, msg: &RegistryMsg);
    /// Stops the local actor `actor`, which lost a name conflict, with `reason`.
    fn stop_local(&self, actor: ActorId, reason: ExitReason);
    /// Reports a settled name conflict to the node's subscribers.
    fn name_conflict(&self, name: String, winner: ActorId, loser: ActorId);
    /// The local actor `actor` holds a name now: when it stops for good, release its names
    /// (then tell [`RegistryDriver::unwatch`]). Called once per actor until then.
    fn watch_own(&self, actor: ActorId);
}

/// One node's registry, driven.
pub(crate) struct RegistryDriver {
    shared: Arc<Shared>,
}

struct Shared {
    me: NodeId,
    host: Weak<dyn RegistryHost>,
    epoch: Instant,
    state: Mutex<State>,
    /// Every change of a name, for `watch`.
    events: broadcast::Sender<NameChange>,
    /// Bumped whenever the replica may have changed, so that `lookup_with_timeout` waits on
    /// changes rather than polling.
    version: watch::Sender<u64>,
    /// The replica's sizes, `distribute_registry_names` and `distribute_registry_groups`.
    names_gauge: Gauge,
    groups_gauge: Gauge,
}

struct State {
    protocol: Registry,
    /// Callers waiting for the answer to their change, by request.
    waiters: HashMap<u64, Waiter>,
    /// The timer task running, if any (it ends once no deadline is left): its generation and
    /// the deadline it sleeps until. An earlier deadline starts a new one, which supersedes it.
    timer: Option<(u64, Duration)>,
    /// The generation of the last timer started.
    timer_generation: u64,
    /// This node's actors that hold a name and are watched by the host.
    watched: HashSet<ActorId>,
}

struct Waiter {
    answer: oneshot::Sender<Answer>,
}

impl Waiter {
    /// Answers the caller.
    fn resolve(self, answer: Answer) {
        let _ = self.answer.send(answer);
    }
}

impl RegistryDriver {
    /// The registry of node `me`, which talks to the world through `host`.
    /// `name` is the node's name, the `node` label of the registry's metrics.
    pub(crate) fn new(me: NodeId, name: &str, host: Weak<dyn RegistryHost>) -> Self {
        let state = State {
            protocol: Registry::new(me, DEFAULT_CALL_TIMEOUT),
            waiters: HashMap::new(),
            timer: None,
            timer_generation: 0,
            watched: HashSet::new(),
        };
        RegistryDriver {
            shared: Arc::new(Shared {
                me,
                host,
                epoch: Instant::now(),
                state: Mutex::new(state),
                events: broadcast::channel(WATCH_BUFFER).0,
                version: watch::channel(0).0,
                names_gauge: meter::gauge!(meter::REGISTRY_NAMES, "node" => name.to_owned()),
                groups_gauge: meter::gauge!(meter::REGISTRY_GROUPS, "node" => name.to_owned()),
            }),
        }
    }

    /// Sets the registry's knobs (before the node connects to anyone).
    pub(crate) fn configure(&self, config: Config) {
        lock(&self.shared.state).protocol.configure(config);
    }

    /// The host's watch of `actor` ended (it stopped, and its names were released).
    pub(crate) fn unwatch(&self, actor: ActorId) {
        lock(&self.shared.state).watched.remove(&actor);
    }

    /// Settles later name conflicts with `policy`.
    pub(crate) fn set_conflict_policy(&self, policy: ConflictPolicy) {
        lock(&self.shared.state).protocol.set_policy(policy);
    }

    /// Reads this node's replica.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&Replica) -> R) -> R {
        read(lock(&self.shared.state).protocol.replica())
    }

    /// Wakes on every change of the replica.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    /// The changes of every name from now on, and the owner of `name` now: taken together,
    /// so that no change falls between them or is seen twice.
    pub(crate) fn watch(&self, name: &str) -> (broadcast::Receiver<NameChange>, Option<ActorId>) {
        let state = lock(&self.shared.state);
        let rx = self.shared.events.subscribe();
        (rx, state.protocol.replica().get(name).map(|entry| entry.owner))
    }

    /// A connection to `peer` is up.
    pub(crate) fn on_peer_up(&self, peer: NodeId) {
        self.shared
            .step(|state, now| ((), state.protocol.peer_up(peer, now)));
    }

    /// The connection to `peer` is down.
    pub(crate) fn on_peer_down(&self, peer: NodeId) {
        self.shared
            .step(|state, now| ((), state.protocol.peer_down(peer, now)));
    }

    /// A Registry frame from `from`. Returns whether it ended a snapshot (the peer's replica
    /// is merged: its greeting is complete); an undecodable body, or one with an invalid name,
    /// is an error, and the peer is to be disconnected.
    pub(crate) fn on_frame(&self, from: NodeId, body: &[u8]) -> Result<bool, String> {
        let refuse = |why: String| {
            crate::meter::counter!(crate::meter::REGISTRY_INVALID_FRAMES).increment(1);
            crate::trace::trace_event!(warn, peer = %from, %why, "registry frame refused");
            why
        };
        let msg = RegistryMsg::decode(body)
            .map_err(|error| refuse(format!("undecodable registry frame: {error}")))?;
        msg.validate()
            .map_err(|error| refuse(format!("invalid registry frame: {error}")))?;
        let snapshot = matches!(msg, RegistryMsg::Snapshot { .. });
        self.shared
            .step(|state, now| ((), state.protocol.receive(from, msg, now)));
        Ok(snapshot)
    }

    /// Adds `member` to `group` everywhere.
    pub(crate) fn join(&self, group: &str, member: GlobalEntry) {
        self.shared
            .step(|state, _| ((), state.protocol.join(group, member)));
    }

    /// Removes `member` from `group` everywhere; false if it was not a member.
    pub(crate) fn leave(&self, group: &str, member: ActorId) -> bool {
        self.shared.step(|state, _| state.protocol.leave(group, member))
    }

    /// Has the sequencer make `change` to `name`. A sequencer that goes down (or is
    /// suspected: silent past the claim deadline) before answering is replaced by the next
    /// one, after a short backoff, up to eight in all ([`RegistryError::NodeDown`] then);
    /// no answer within [`DEFAULT_CALL_TIMEOUT`] in all is [`RegistryError::Timeout`]. Either way the change
    /// may have been made (the answer was lost, or is late); a name that went through after
    /// all is still released when its actor stops, by its node, which watches every actor of
    /// its own that holds a name.
    pub(crate) async fn submit(&self, name: &str, change: Change) -> Result<Decision, RegistryError> {
        let deadline = Instant::now() + DEFAULT_CALL_TIMEOUT;
        let mut last_sequencer = None;
        for attempt in 0..SUBMIT_ATTEMPTS {
            if attempt > 0 {
                let backoff = RESUBMIT_BACKOFF.saturating_mul(1 << attempt.min(4));
                tokio::time::sleep_until(deadline.min(Instant::now() + backoff)).await;
            }
            let (answer, rx) = oneshot::channel();
            let submitted = self.shared.step(|state, now| {
                let (submitted, out) = state.protocol.submit(name, change.clone(), now);
                let waiter = Waiter { answer };
                state.waiters.insert(submitted.request, waiter);
                (submitted, out)
            });
            last_sequencer = Some(submitted.sequencer);
            // A call's deadline, not a tokio timer: a timer per registration put an entry in
            // the runtime's wheel, and woke the thread parked on the timer driver whenever
            // the wheel had been empty (see `actor::deadline`).
            let left = match attempt {
                0 => DEFAULT_CALL_TIMEOUT,
                _ => deadline.saturating_duration_since(Instant::now()),
            };
            match deadline::within(left, rx).await {
                Some(Ok(Answer::Decided(decision))) => return Ok(decision),
                Some(Ok(Answer::SequencerLost) | Err(_)) => {}
                None => {
                    self.shared.step(|state, _| {
                        state.protocol.forget(submitted.request);
                        state.waiters.remove(&submitted.request);
                        ((), Outputs::default())
                    });
                    return Err(RegistryError::Timeout {
                        node: submitted.sequencer,
                        timeout: DEFAULT_CALL_TIMEOUT,
                    });
                }
            }
        }
        let node = last_sequencer.unwrap_or(self.shared.me);
        Err(RegistryError::NodeDown { node })
    }
}

impl Shared {
    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.epoch)
    }

    /// Feeds one input to the state machine and carries out its outputs.
    fn step<R>(self: &Arc<Self>, input: impl FnOnce(&mut State, Duration) -> (R, Outputs)) -> R {
        let host = self.host.upgrade();
        let mut state = lock(&self.state);
        let (result, mut out) = input(&mut state, self.now());
        if let Some(host) = &host {
            for (to, msg) in &out.frames {
                host.send(*to, msg);
            }
        }
        let mut watch = Vec::new();
        for change in out.changes.drain(..) {
            crate::trace::trace_event!(debug, name = %change.name, owner = ?change.owner, "global name changed");
            if let Some(owner) = change.owner.filter(|owner| owner.node() == self.me) {
                if state.watched.insert(owner) {
                    watch.push(owner);
                }
            }
            let _ = self.events.send(change);
        }
        if out.touched {
            let replica = state.protocol.replica();
            self.names_gauge.set(replica.name_count() as f64);
            self.groups_gauge.set(replica.group_count() as f64);
            self.version
                .send_modify(|version| *version = version.wrapping_add(1));
        }
        let answered: Vec<(Waiter, Answer)> = out
            .answers
            .drain(..)
            .filter_map(|(request, answer)| Some((state.waiters.remove(&request)?, answer)))
            .collect();
        self.arm_timer(&mut state);
        let (stops, conflicts) = (std::mem::take(&mut out.stops), std::mem::take(&mut out.conflicts));
        state.protocol.recycle(out);
        drop(state);
        for (waiter, answer) in answered {
            waiter.resolve(answer);
        }
        if let Some(host) = host {
            for actor in watch {
                host.watch_own(actor);
            }
            for (actor, reason) in stops {
                host.stop_local(actor, reason);
            }
            for conflict in conflicts {
                let (winner, loser) = (conflict.winner, conflict.loser);
                crate::trace::trace_event!(warn, name = %conflict.name, %winner, %loser, "global name conflict settled");
                host.name_conflict(conflict.name, winner, loser);
            }
        }
        result
    }

    /// Starts the timer task if the state machine has a deadline and no timer runs.
    /// Starts a timer task if the state machine has a deadline earlier than the one the
    /// running timer sleeps until (if any); the running one then ends when it wakes.
    fn arm_timer(self: &Arc<Self>, state: &mut State) {
        let Some(deadline) = state.protocol.next_deadline() else {
            return;
        };
        if state.timer.is_some_and(|(_, armed)| armed <= deadline) {
            return;
        }
        // Without a runtime there is no network either, hence no deadline to keep.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        state.timer_generation = state.timer_generation.wrapping_add(1);
        let generation = state.timer_generation;
        state.timer = Some((generation, deadline));
        runtime.spawn(tick_at_deadlines(Arc::downgrade(self), generation, deadline));
    }
}

/// Ticks the state machine at each of its deadlines, until none is left, the node is gone,
/// or a timer of a later generation supersedes this one.
async fn tick_at_deadlines(shared: Weak<Shared>, generation: u64, mut deadline: Duration) {
    loop {
        // A deadline too far to represent is one that never comes.
        let Some(at) = shared
            .upgrade()
            .and_then(|shared| shared.epoch.checked_add(deadline))
        else {
            return;
        };
        tokio::time::sleep_until(at).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let next = shared.step(|state, now| {
            if state.timer.is_none_or(|(current, _)| current != generation) {
                return (None, Outputs::default());
            }
            let out = state.protocol.tick(now);
            let next = state.protocol.next_deadline();
            // Set under the lock: a step that sets an earlier deadline starts a new timer.
            state.timer = next.map(|next| (generation, next));
            (next, out)
        });
        match next {
            Some(next) => deadline = next,
            None => return,
        }
    }
}
