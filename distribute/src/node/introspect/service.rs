//! The I/O of remote introspection: the requests this node waits on, the frames it sends
//! and answers. Whether to answer is decided in `admission.rs`, what an answer holds in
//! `wire.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::admission::{Admission, Limits, Refusal};
use super::wire::{decode_outcome, encode_answer, IntrospectWire};
use crate::actor::{NodeId, WeakNode};
use crate::introspect::{
    IntrospectError, IntrospectOptions, NodeSnapshot, DEFAULT_MAX_ACTORS, MAX_INTROSPECTIONS,
    MAX_INTROSPECTIONS_PER_PEER,
};
use crate::lock::lock;
use crate::net::FrameHandler;
use crate::node::Node;
use crate::transport::FrameKind;

/// Where the answer to one of this node's requests goes: its outcome, still encoded (the
/// asker decodes it, not the connection's reader).
type Answer = oneshot::Sender<Vec<u8>>;

/// A node's remote introspection: whether it answers peers, the requests of peers in
/// progress, and the answers it waits for.
pub(crate) struct IntrospectService {
    allowed: AtomicBool,
    admission: Mutex<Admission>,
    /// This node's requests waiting for their answer, by target and request number.
    pending: Mutex<HashMap<(NodeId, u64), Answer>>,
    next_request: AtomicU64,
}

impl Default for IntrospectService {
    fn default() -> Self {
        IntrospectService {
            allowed: AtomicBool::new(true),
            admission: Mutex::default(),
            pending: Mutex::default(),
            next_request: AtomicU64::new(1),
        }
    }
}

const LIMITS: Limits = Limits {
    per_peer: MAX_INTROSPECTIONS_PER_PEER,
    total: MAX_INTROSPECTIONS,
};

impl IntrospectService {
    pub(crate) fn set_allowed(&self, allowed: bool) {
        self.allowed.store(allowed, Ordering::Release);
    }

    fn expect_answer(&self, target: NodeId) -> (u64, oneshot::Receiver<Vec<u8>>) {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert((target, request), tx);
        (request, rx)
    }

    fn forget(&self, target: NodeId, request: u64) {
        lock(&self.pending).remove(&(target, request));
    }

    /// `peer` went down: its answers will not come.
    fn peer_down(&self, peer: NodeId) {
        lock(&self.pending).retain(|(target, _), _| *target != peer);
    }

    fn on_answer(&self, peer: NodeId, request: u64, outcome: Vec<u8>) {
        // Only the node asked answers; an answer to nothing (late, or made up) is dropped.
        if let Some(tx) = lock(&self.pending).remove(&(peer, request)) {
            let _ = tx.send(outcome);
        }
    }

    /// A peer's request: refused at once, or answered by a task of its own.
    fn on_request(
        self: &Arc<Self>,
        node: &Node,
        peer: NodeId,
        request: u64,
        max_actors: u32,
        max_bytes: u32,
    ) {
        let allowed = self.allowed.load(Ordering::Acquire);
        if let Err(refusal) = lock(&self.admission).admit(peer, LIMITS, allowed) {
            crate::trace::trace_event!(debug, %peer, ?refusal, "introspection request refused");
            if let Ok(answer) = IntrospectWire::answer(request, &Err(refusal)) {
                send(node, peer, &answer);
            }
            return;
        }
        let service = Arc::clone(self);
        let node = node.clone();
        tokio::spawn(async move {
            let options = IntrospectOptions {
                max_actors: usize::try_from(max_actors)
                    .unwrap_or(usize::MAX)
                    .min(DEFAULT_MAX_ACTORS),
                ..IntrospectOptions::default()
            };
            let snapshot = node.introspect_with(options).await;
            let max_frame = node.net().map_or(0, |net| net.config.max_frame);
            let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX).min(max_frame);
            let body = encode_answer(request, snapshot, max_bytes);
            if let (Some(body), Some(slot)) = (body, node.net().and_then(|net| net.connected_slot(peer))) {
                slot.send_frame_waiting(FrameKind::Introspect, |buf| {
                    buf.extend_from_slice(&body);
                    Ok(())
                })
                .await;
            }
            lock(&service.admission).finish(peer);
        });
    }
}

/// Sends `wire` to `peer`, if it is still connected.
fn send(node: &Node, peer: NodeId, wire: &IntrospectWire) {
    if let Some(slot) = node.net().and_then(|net| net.connected_slot(peer)) {
        slot.send_frame(FrameKind::Introspect, |buf| wire.encode(buf));
    }
}

/// On the asking node: sends the request to `target` and waits for its snapshot.
pub(super) async fn ask(
    node: &Node,
    target: NodeId,
    options: IntrospectOptions,
) -> Result<NodeSnapshot, IntrospectError> {
    let net = node.net().ok_or(IntrospectError::NotNetworked)?;
    let slot = net
        .connected_slot(target)
        .ok_or(IntrospectError::NodeDown { node: target })?;
    let service = node.introspector();
    let (request, rx) = service.expect_answer(target);
    // Forgotten however this ends, a caller that drops the future (a `select!`) included.
    let _pending = Pending {
        service,
        target,
        request,
    };
    let wire = IntrospectWire::Request {
        request,
        max_actors: u32::try_from(options.max_actors).unwrap_or(u32::MAX),
        max_bytes: u32::try_from(net.config.max_frame).unwrap_or(u32::MAX),
    };
    let sent = slot
        .send_frame_waiting(FrameKind::Introspect, |buf| wire.encode(buf))
        .await;
    // `None`: the target went down (or was already) before it answered.
    let answer = if sent {
        tokio::time::timeout(options.timeout, rx).await.map(Result::ok)
    } else {
        Ok(None)
    };
    match answer {
        Ok(Some(outcome)) => read_outcome(target, &outcome),
        Ok(None) => Err(IntrospectError::NodeDown { node: target }),
        Err(_) => Err(IntrospectError::Timeout {
            node: target,
            timeout: options.timeout,
        }),
    }
}

/// A request of this node waiting for its answer: forgotten when dropped.
struct Pending<'a> {
    service: &'a IntrospectService,
    target: NodeId,
    request: u64,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.service.forget(self.target, self.request);
    }
}

/// The snapshot `target` answered, or the error its answer stands for.
fn read_outcome(target: NodeId, outcome: &[u8]) -> Result<NodeSnapshot, IntrospectError> {
    let malformed = |why: String| IntrospectError::Malformed { node: target, why };
    match decode_outcome(outcome).map_err(|error| malformed(error.to_string()))? {
        Ok(wire) => wire.into_snapshot(target).map_err(malformed),
        Err(Refusal::Refused) => Err(IntrospectError::Refused { node: target }),
        Err(Refusal::Busy { limit }) => Err(IntrospectError::Busy { node: target, limit }),
    }
}

/// Hands the Introspect frames, and peers going down, to the node's introspection service.
pub(crate) struct IntrospectFrames {
    pub(crate) node: WeakNode,
}

impl FrameHandler for IntrospectFrames {
    fn connected(&self, _peer: NodeId) {}

    fn disconnected(&self, peer: NodeId) {
        if let Some(node) = self.node.upgrade() {
            node.introspector().peer_down(peer);
        }
    }

    fn frame(&self, peer: NodeId, body: &[u8]) -> Result<bool, String> {
        let Some(node) = self.node.upgrade() else {
            return Ok(false);
        };
        let service = node.introspector();
        // A frame that does not even say what it is closes the connection, as any bad frame
        // does; an answer whose snapshot does not decode fails only the call waiting for it.
        let wire = IntrospectWire::decode(body)
            .map_err(|error| format!("undecodable introspection frame: {error}"))?;
        match wire {
            IntrospectWire::Request {
                request,
                max_actors,
                max_bytes,
            } => service.on_request(&node, peer, request, max_actors, max_bytes),
            IntrospectWire::Answer { request, outcome } => service.on_answer(peer, request, outcome),
        }
        Ok(false)
    }
}
