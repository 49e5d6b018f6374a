//! What a reader does with each frame: messages to local actors, replies to waiting calls,
//! control signals, and the frames of protocols the node runs over its connections (the
//! kinds this layer does not own), which go to the [`FrameHandler`] registered for them.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::control::{on_control, Blocked};
use super::peer::PeerSlot;
use super::remote::reject;
use super::wire::{read_reply, Control, MessageHeader, MessageHeaderWire};
use super::{Net, NodeDownReason};
use crate::actor::{AnyCell, Incoming, Node, NodeId, RemotePeer, Undelivered};
use crate::trace::TraceContext;
use crate::transport::FrameKind;

/// A protocol that runs over the node's connections in frames of a kind of its own. The
/// node registers one per kind when it wires its layers; the network calls it from the
/// connection's reader, in the order frames arrive, and tells it of peers coming and going.
pub(crate) trait FrameHandler: Send + Sync + 'static {
    /// A connection to `peer` was installed: the peer came up, or a new connection took over.
    /// Called before the peer counts as up (in `connected_nodes`, with a `NodeUp`), so that
    /// whoever sees it up finds the handler knowing it; frames sent to it now are queued.
    fn connected(&self, peer: NodeId);

    /// `peer` went down.
    fn disconnected(&self, peer: NodeId);

    /// A frame of this handler's kind arrived from `peer`. `Ok(true)` says that it completes
    /// the peer's greeting (what it sends on connecting): whoever waits in `connect` may go
    /// on. An error closes the connection as a protocol violation.
    fn frame(&self, peer: NodeId, body: &[u8]) -> Result<bool, String>;
}

/// The handlers a node registered, by frame kind.
#[derive(Default)]
pub(crate) struct FrameHandlers {
    handlers: Vec<(FrameKind, Arc<dyn FrameHandler>)>,
}

impl FrameHandlers {
    /// Adds the handler of frames of `kind`.
    pub(crate) fn register(&mut self, kind: FrameKind, handler: Arc<dyn FrameHandler>) {
        self.handlers.push((kind, handler));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }

    fn get(&self, kind: FrameKind) -> Option<&Arc<dyn FrameHandler>> {
        self.handlers
            .iter()
            .find(|(registered, _)| *registered == kind)
            .map(|(_, handler)| handler)
    }

    pub(crate) fn connected(&self, peer: NodeId) {
        for (_, handler) in &self.handlers {
            handler.connected(peer);
        }
    }

    pub(crate) fn disconnected(&self, peer: NodeId) {
        for (_, handler) in &self.handlers {
            handler.disconnected(peer);
        }
    }
}

/// What the reader learns from the frames it dispatches.
pub(super) struct ReaderState {
    /// The peer told us it moved to another connection.
    pub(super) superseded: bool,
    /// The connection this reader reads.
    connection: u64,
    greeted: Option<oneshot::Sender<()>>,
    /// The peer as the actors see it, where replies to its calls go; made once per
    /// connection rather than once per message.
    peer: Arc<dyn RemotePeer>,
}

impl ReaderState {
    pub(super) fn new(greeted: oneshot::Sender<()>, slot: &Arc<PeerSlot>, connection: u64) -> Self {
        ReaderState {
            superseded: false,
            connection,
            greeted: Some(greeted),
            peer: Arc::clone(slot) as Arc<dyn RemotePeer>,
        }
    }

    fn greet(&mut self) {
        if let Some(greeted) = self.greeted.take() {
            let _ = greeted.send(());
        }
    }
}

/// The last actor a reader delivered to: consecutive messages for the same actor (the common
/// case) skip the lookup in the node's table.
#[derive(Default)]
pub(super) struct TargetCache(Option<(u64, Arc<dyn AnyCell>)>);

impl TargetCache {
    fn get(&mut self, node: &Node, local: u64) -> Option<Arc<dyn AnyCell>> {
        if let Some((cached, cell)) = &self.0 {
            if *cached == local && cell.core().is_alive() {
                return Some(Arc::clone(cell));
            }
        }
        let cell = node.local_cell_numbered(local)?;
        self.0 = Some((local, Arc::clone(&cell)));
        Some(cell)
    }
}

/// Handles one frame from an established connection. An error closes the connection; a
/// signal that found its actor's queue full comes back, for the reader to queue before it
/// takes the next frame.
pub(super) async fn dispatch(
    net: &Net,
    node: &Node,
    slot: &Arc<PeerSlot>,
    kind: FrameKind,
    body: &[u8],
    state: &mut ReaderState,
    target: &mut TargetCache,
) -> Result<Option<Blocked>, NodeDownReason> {
    if kind != FrameKind::Heartbeat {
        slot.note_received();
    }
    match kind {
        FrameKind::Message => deliver(node, slot, &state.peer, body, None, target)
            .await
            .map(|()| None),
        FrameKind::TracedMessage => {
            let (trace, body) = TraceContext::decode_prefix(body)
                .map_err(|error| violation(&format!("malformed traced message frame: {error}")))?;
            deliver(node, slot, &state.peer, body, Some(trace), target)
                .await
                .map(|()| None)
        }
        FrameKind::Reply => {
            let Some((call, status, payload)) = read_reply(body) else {
                return Err(violation("malformed reply frame"));
            };
            slot.on_reply(node, call, status, payload);
            Ok(None)
        }
        FrameKind::Signal => {
            let control = Control::decode(body)
                .map_err(|error| violation(&format!("undecodable control frame: {error}")))?;
            if control == Control::Superseded {
                state.superseded = true;
                state.greet();
                Ok(None)
            } else if control == Control::Idle {
                // The peer writes nothing more here; neither do we, and both read to the end.
                slot.close_idle(state.connection);
                Ok(None)
            } else {
                on_control(net, node, slot, control)
            }
        }
        FrameKind::Heartbeat => Ok(None),
        FrameKind::Close => Err(NodeDownReason::PeerShutdown),
        FrameKind::Handshake => Err(violation("handshake message after the handshake")),
        other => {
            let handler = net
                .handlers
                .get(other)
                .ok_or_else(|| violation(&format!("a {other:?} frame, which this node does not handle")))?;
            if handler.frame(slot.id, body).map_err(|why| violation(&why))? {
                state.greet();
            }
            Ok(None)
        }
    }
}

/// Delivers a Message frame to its local actor, waiting while its mailbox is full.
async fn deliver(
    node: &Node,
    slot: &PeerSlot,
    from: &Arc<dyn RemotePeer>,
    body: &[u8],
    trace: Option<TraceContext>,
    target: &mut TargetCache,
) -> Result<(), NodeDownReason> {
    let Some((header, body)) = MessageHeader::read(body) else {
        return Err(violation("message frame shorter than its header"));
    };
    let Some(cell) = target.get(node, header.target) else {
        reject(slot, &header, Undelivered::Stopped);
        return Ok(());
    };
    let incoming = Incoming {
        fingerprint: header.fingerprint,
        tag: header.tag,
        call: header.call,
        body,
        trace,
        from,
    };
    match cell.deliver_remote(node, &incoming) {
        Ok(pending) => {
            if let Some(pending) = pending {
                pending.await;
            }
            slot.stats.messages_in.fetch_add(1, Ordering::Relaxed);
            if let Some(meters) = slot.meters() {
                meters.messages_in.increment(1);
            }
        }
        Err(why) => reject(slot, &header, why),
    }
    Ok(())
}

pub(super) fn violation(why: &str) -> NodeDownReason {
    NodeDownReason::ProtocolViolation(why.to_owned())
}
