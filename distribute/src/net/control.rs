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

use std::sync::Arc;

use super::dispatch::violation;
use super::introduce::{introduced, plausible};
use super::peer::PeerSlot;
use super::wire::{Control, WireReason};
use super::{Net, NodeDownReason};
use crate::actor::{ActorId, Endpoint, ExitReason, Node, RemotePeer, Signal, Watcher};

pub(super) fn on_control(
    net: &Net,
    node: &Node,
    slot: &Arc<PeerSlot>,
    control: Control,
) -> Result<(), NodeDownReason> {
    let reason = |wire: WireReason| {
        wire.into_reason()
            .ok_or_else(|| violation("exit reason nested too deeply"))
    };
    match control {
        Control::Introduce { listen, known } => {
            // Where we would reconnect to it: not to ourselves, nor anywhere implausible.
            slot.set_listen_addr(listen.filter(|addr| *addr != net.listen && plausible(*addr)));
            introduced(net, known);
        }
        Control::Link { from, to } if speaks_for(slot, from, "link") => on_link(node, slot, from, to),
        Control::Unlink { from, to } if speaks_for(slot, from, "unlink") => {
            // Only a link this peer holds: anything else has nothing to remove.
            if slot.forget_link(to, from) {
                if let Some(cell) = node.local_cell(to) {
                    let _ = cell.core().signal(Signal::Unlink(from));
                }
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
                if let Some(cell) = node.local_cell(to) {
                    cell.core().send_exit(from, reason);
                }
            }
        }
        Control::Monitor { monitor, target } => on_monitor(node, slot, monitor, target),
        Control::Demonitor { monitor, .. } => {
            // The actor the monitor was set on, whatever the frame says.
            let watched = slot.forget_watch(monitor);
            if let Some(cell) = watched.and_then(|target| node.local_cell(target)) {
                let _ = cell.core().signal(Signal::Demonitor(monitor));
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
            if let Some(cell) = node.local_cell(target) {
                let _ = cell.core().signal(Signal::Stop(reason));
            }
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
        Control::Superseded => {}
        // A signal on behalf of another node's actor (refused above).
        Control::Link { .. } | Control::Unlink { .. } | Control::Exit { .. } | Control::Down { .. } => {}
    }
    Ok(())
}

/// Whether `actor`, named by the peer as the sender of a `what` signal, is one of the peer's
/// own actors; counts and logs a refusal.
fn speaks_for(slot: &PeerSlot, actor: ActorId, what: &'static str) -> bool {
    if actor.node() == slot.id {
        return true;
    }
    tracing::debug!(peer = %slot.id, %actor, what, "signal for another node's actor ignored");
    metrics::counter!("distribute_signals_refused_total").increment(1);
    false
}

/// The peer's actor `from` links to our actor `to`: remembered on both ends, or answered at
/// once with an exit if `to` is gone (`NoProc`) or the peer holds too many links.
fn on_link(node: &Node, slot: &Arc<PeerSlot>, from: ActorId, to: ActorId) {
    let from_end = Endpoint::Remote {
        id: from,
        peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
    };
    if !slot.accept_link(to, from) {
        metrics::counter!("distribute_signals_refused_total").increment(1);
        tracing::debug!(peer = %slot.id, %from, %to, "link refused: the peer holds too many links");
        from_end.send_exit(to, limit_reason("links"));
        return;
    }
    let linked = node
        .local_cell(to)
        .is_some_and(|cell| cell.core().signal(Signal::Link(from_end.clone())).is_ok());
    if !linked {
        let _ = slot.forget_link(to, from);
        from_end.send_exit(to, ExitReason::NoProc);
    }
}

/// The peer's watcher `monitor` watches our actor `target`: added to the actor, or answered
/// at once with a DOWN if it is gone (`NoProc`) or the peer holds too many monitors.
fn on_monitor(node: &Node, slot: &Arc<PeerSlot>, monitor: crate::MonitorRef, target: ActorId) {
    let watcher = Watcher::Remote {
        monitor,
        peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
    };
    let Some(cell) = node.local_cell(target) else {
        watcher.deliver(target, ExitReason::NoProc);
        return;
    };
    if !slot.accept_watch(monitor, target) {
        metrics::counter!("distribute_signals_refused_total").increment(1);
        tracing::debug!(peer = %slot.id, %target, "monitor refused: the peer holds too many monitors");
        watcher.deliver(target, limit_reason("monitors"));
        return;
    }
    cell.core().add_watcher(watcher);
}

/// The exit reason that answers a link or monitor past the per-peer cap.
fn limit_reason(what: &str) -> ExitReason {
    ExitReason::Error(format!("system limit: too many {what} from one node"))
}
