//! Control frames from a peer: introductions, links, exits, monitors, stops, kills and
//! lookups in the node-local names, turned into local signals.
//!
//! A peer speaks only for its own actors. A link, unlink, exit or DOWN whose remote end is
//! not one of the sending peer's actors is ignored (an unlink or exit also unless the link
//! is one this peer holds, a DOWN unless it answers a monitor we hold on that very actor), logged at debug level and counted
//! (`distribute_signals_refused_total`), rather than taken as a protocol violation: a node
//! whose user links two remote refs (`ActorRef::link` on actors of two other nodes) sends
//! such signals in good faith, and nothing in them can harm us once ignored.
//!
//! The links and monitors a peer's actors hold on ours are capped per peer. Past the cap a
//! link is answered as if it had been made and broken at once (an exit of our actor to the
//! peer's, with an `Error` reason naming the limit) and a monitor with a DOWN with that
//! reason: the OTP way of answering what cannot be set up, and the peer's actor learns of it
//! instead of waiting for a signal that will never come.
//!
//! What a peer's frames queue on one of our actors is bounded too: the signals go through the
//! actor's bounded push (at most [`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`] of signals from peers in
//! its queue: 1 024 links or monitors), and
//! a signal that finds the queue full comes back to the reader as [`Blocked`], which waits
//! for room before it reads on (see `reader.rs`). Nothing from an honest peer is lost or
//! reordered, since the reader takes the peer's next frame only once the signal is queued;
//! a peer flooding an actor that is busy in a long handler stalls only its own connection.
//! The bound is the actor's, shared by all peers: memory stays bounded however many node
//! ids an attacker cycles through, at the price that another peer signalling that same
//! stuck actor waits too.
//!
//! [`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`]: crate::MAX_PEER_SIGNAL_BYTES_PER_ACTOR

use std::sync::Arc;

use super::dispatch::violation;
use super::introduce::{announce, introduced, plausible};
use super::peer::PeerSlot;
use super::wire::{Control, WireReason};
use super::{Net, NodeDownReason};
use crate::actor::{
    ActorId, AnyCell, Endpoint, ExitReason, ExitSignal, Node, RemotePeer, RemotePushError, Signal, Watcher,
};

/// A signal from a peer that found its actor's queue full of signals from peers: the reader
/// waits for [`room`](Self::room), then [`retries`](Self::retry), before it reads on.
pub(super) struct Blocked {
    cell: Arc<dyn AnyCell>,
    signal: Signal,
}

impl Blocked {
    /// The actor whose queue is full.
    pub(super) fn actor(&self) -> ActorId {
        self.cell.core().id
    }

    /// Waits until the actor's queue takes signals from peers again (or the actor exited).
    pub(super) async fn room(&self) {
        self.cell.core().signals.remote_room(&self.signal).await;
    }

    /// Queues the signal again: `None` once done (or answered, if the actor has exited),
    /// or the signal still blocked.
    pub(super) fn retry(self, slot: &Arc<PeerSlot>) -> Option<Blocked> {
        push(slot, self.cell, self.signal)
    }
}

/// Queues a signal from the peer on a local actor, within the bound on those; a signal the
/// actor can no longer take is answered as if it had been gone already.
fn push(slot: &Arc<PeerSlot>, cell: Arc<dyn AnyCell>, signal: Signal) -> Option<Blocked> {
    match cell.core().signal_remote(signal) {
        Ok(()) => None,
        Err(RemotePushError::Full(signal)) => Some(Blocked { cell, signal }),
        Err(RemotePushError::Closed(signal)) => {
            let core = cell.core();
            let reason = || core.exit_reason().cloned().unwrap_or(ExitReason::NoProc);
            match signal {
                Signal::Link(from_end) => {
                    let _ = slot.forget_link(core.id, from_end.id());
                    from_end.send_exit(core.id, ExitReason::NoProc);
                }
                Signal::Monitor(watcher) => {
                    let _ = slot.forget_watch(watcher.monitor());
                    watcher.deliver(core.id, reason());
                }
                // An exit, unlink, demonitor or stop for an actor that is gone has nothing
                // left to do.
                _ => {}
            }
            None
        }
    }
}

/// Queues `signal` on our actor `to`, if it is here.
fn push_to(node: &Node, slot: &Arc<PeerSlot>, to: ActorId, signal: Signal) -> Option<Blocked> {
    node.local_cell(to).and_then(|cell| push(slot, cell, signal))
}

/// Acts on a control frame from the peer. A signal that finds its actor's queue full comes
/// back as [`Blocked`]: the reader must queue it before it takes the peer's next frame.
pub(super) fn on_control(
    net: &Net,
    node: &Node,
    slot: &Arc<PeerSlot>,
    control: Control,
) -> Result<Option<Blocked>, NodeDownReason> {
    let reason = |wire: WireReason| {
        wire.into_reason()
            .ok_or_else(|| violation("exit reason nested too deeply"))
    };
    match control {
        Control::Introduce { listen, known } => {
            // Where we would reconnect to it: not to ourselves, nor anywhere implausible.
            let listen = listen.and_then(|told| slot.complete_listen_addr(told));
            if slot.set_listen_addr(listen.filter(|addr| !net.is_me(*addr) && plausible(*addr))) {
                announce(net, slot);
            }
            introduced(net, known);
        }
        Control::Link { from, to } if speaks_for(slot, from, "link") => {
            return Ok(on_link(node, slot, from, to));
        }
        Control::Unlink { from, to } if speaks_for(slot, from, "unlink") => {
            // Only a link this peer holds: anything else has nothing to remove.
            if slot.forget_link(to, from) {
                return Ok(push_to(node, slot, to, Signal::Unlink(from)));
            }
        }
        Control::Exit {
            from,
            to,
            reason: wire,
        } if speaks_for(slot, from, "exit") => {
            let reason = reason(wire)?;
            // Only over a link between the two (an actor ignores other exits anyway).
            if slot.forget_link(to, from) {
                slot.record_stopped(from);
                return Ok(push_to(node, slot, to, Signal::Exit(ExitSignal { from, reason })));
            }
        }
        Control::Monitor { monitor, target } => return Ok(on_monitor(node, slot, monitor, target)),
        Control::Demonitor { monitor, .. } => {
            // The actor the monitor was set on, whatever the frame says.
            if let Some(target) = slot.forget_watch(monitor) {
                return Ok(push_to(node, slot, target, Signal::Demonitor(monitor)));
            }
        }
        Control::Down {
            monitor,
            actor,
            reason: wire,
        } if speaks_for(slot, actor, "down") => {
            let reason = reason(wire)?;
            slot.on_down(monitor, actor, reason);
        }
        Control::Stop { target, reason: wire } => {
            let reason = reason(wire)?;
            return Ok(push_to(node, slot, target, Signal::Stop(reason)));
        }
        Control::Kill { target } => {
            if let Some(cell) = node.local_cell(target) {
                cell.core().kill();
            }
        }
        Control::Whereis { request, name } => {
            let found = net.whereis(&name);
            slot.send_control(&Control::WhereisReply { request, found });
        }
        Control::WhereisReply { request, found } => slot.on_lookup_reply(request, found),
        Control::Goodbye => return Err(NodeDownReason::PeerShutdown),
        Control::Superseded | Control::Idle => {}
        // A signal on behalf of another node's actor (refused above).
        Control::Link { .. } | Control::Unlink { .. } | Control::Exit { .. } | Control::Down { .. } => {}
    }
    Ok(None)
}

/// Whether `actor`, named by the peer as the sender of a `what` signal, is one of the peer's
/// own actors; counts and logs a refusal.
fn speaks_for(slot: &PeerSlot, actor: ActorId, what: &'static str) -> bool {
    if actor.node() == slot.id {
        return true;
    }
    crate::trace::trace_event!(debug, peer = %slot.id, %actor, what, "signal for another node's actor ignored");
    crate::meter::counter!(crate::meter::SIGNALS_REFUSED).increment(1);
    false
}

/// The peer's actor `from` links to our actor `to`: remembered on both ends, or answered at
/// once with an exit if `to` is gone (`NoProc`) or the peer holds too many links.
fn on_link(node: &Node, slot: &Arc<PeerSlot>, from: ActorId, to: ActorId) -> Option<Blocked> {
    let from_end = Endpoint::Remote {
        id: from,
        peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
    };
    if !slot.accept_link(to, from) {
        crate::meter::counter!(crate::meter::SIGNALS_REFUSED).increment(1);
        crate::trace::trace_event!(debug, peer = %slot.id, %from, %to, "link refused: the peer holds too many links");
        from_end.send_exit(to, limit_reason("links"));
        return None;
    }
    let Some(cell) = node.local_cell(to) else {
        let _ = slot.forget_link(to, from);
        from_end.send_exit(to, ExitReason::NoProc);
        return None;
    };
    push(slot, cell, Signal::Link(from_end))
}

/// The peer's watcher `monitor` watches our actor `target`: added to the actor, or answered
/// at once with a DOWN if it is gone (`NoProc`) or the peer holds too many monitors.
fn on_monitor(
    node: &Node,
    slot: &Arc<PeerSlot>,
    monitor: crate::MonitorRef,
    target: ActorId,
) -> Option<Blocked> {
    let watcher = Watcher::Remote {
        monitor,
        peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
    };
    let Some(cell) = node.local_cell(target) else {
        watcher.deliver(target, ExitReason::NoProc);
        return None;
    };
    if !slot.accept_watch(monitor, target) {
        crate::meter::counter!(crate::meter::SIGNALS_REFUSED).increment(1);
        crate::trace::trace_event!(debug, peer = %slot.id, %target, "monitor refused: the peer holds too many monitors");
        watcher.deliver(target, limit_reason("monitors"));
        return None;
    }
    push(slot, cell, Signal::Monitor(watcher))
}

/// The exit reason that answers a link or monitor past the per-peer cap.
fn limit_reason(what: &str) -> ExitReason {
    ExitReason::Error(format!("system limit: too many {what} from one node"))
}
