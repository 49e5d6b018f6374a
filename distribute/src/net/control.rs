//! Control frames from a peer: introductions, links, exits, monitors, stops, kills and
//! lookups in the node-local names, turned into local signals.

use std::sync::Arc;

use super::connection::connect;
use super::dispatch::violation;
use super::peer::PeerSlot;
use super::reconnect::reconnect_loop;
use super::wire::{Control, KnownNode, WireReason};
use super::{Net, NodeDownReason};
use crate::actor::{Endpoint, ExitReason, Node, RemotePeer, Signal, Watcher};

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
            slot.set_listen_addr(listen);
            introduced(net, known);
        }
        Control::Link { from, to } => on_link(node, slot, from, to),
        Control::Unlink { from, to } => {
            if let Some(cell) = node.local_cell(to) {
                let _ = cell.core().signal(Signal::Unlink(from));
            }
            slot.forget_link(to, from);
        }
        Control::Exit {
            from,
            to,
            reason: wire,
        } => {
            let reason = reason(wire)?;
            slot.forget_link(to, from);
            if let Some(cell) = node.local_cell(to) {
                cell.core().send_exit(from, reason);
            }
        }
        Control::Monitor { monitor, target } => {
            let watcher = Watcher::Remote {
                monitor,
                peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
            };
            match node.local_cell(target) {
                Some(cell) => cell.core().add_watcher(watcher),
                None => watcher.deliver(target, ExitReason::NoProc),
            }
        }
        Control::Demonitor { monitor, target } => {
            if let Some(cell) = node.local_cell(target) {
                let _ = cell.core().signal(Signal::Demonitor(monitor));
            }
        }
        Control::Down {
            monitor,
            actor,
            reason: wire,
        } => {
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
    }
    Ok(())
}

/// The peer's actor `from` links to our actor `to`: remembered on both ends, or answered at
/// once with `NoProc` if `to` is gone.
fn on_link(node: &Node, slot: &Arc<PeerSlot>, from: crate::ActorId, to: crate::ActorId) {
    let from_end = Endpoint::Remote {
        id: from,
        peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
    };
    let linked = node
        .local_cell(to)
        .is_some_and(|cell| cell.core().signal(Signal::Link(from_end.clone())).is_ok());
    if linked {
        slot.remember_link(to, from);
    } else {
        from_end.send_exit(to, ExitReason::NoProc);
    }
}

/// Connects to the nodes a peer introduced that we are not connected to yet, so that the
/// cluster becomes a full mesh.
fn introduced(net: &Net, known: Vec<KnownNode>) {
    for peer in known {
        if peer.id == net.id || net.connected_slot(peer.id).is_some() {
            continue;
        }
        let Some(net) = net.this() else { return };
        tokio::spawn(async move {
            if let Err(error) = connect(&net, peer.addr).await {
                tracing::debug!(peer = %peer.name, %error, "could not reach an introduced node");
                // Keep trying as after a lost connection, if the node's policy does.
                if let Some(policy) = net.config.reconnect {
                    let slot = net.slot(peer.id);
                    slot.set_listen_addr(Some(peer.addr));
                    reconnect_loop(net, slot, peer.addr, policy).await;
                }
            }
        });
    }
}
