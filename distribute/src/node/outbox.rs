//! Registry frames to peers, paced by each peer's send queue while a replica goes out in
//! parts.
//!
//! The registry sends from inside its state machine's step, where nothing may wait, so its
//! frames are queued at once, past the peer's send-queue bound if need be. That is right for
//! the few frames of a claim or a release, but a replica sent to a joining node can be larger
//! than the hard ceiling on what one peer may have queued (twice the bound plus a frame),
//! and queueing it at once would cut an honest joiner as overloaded. So the parts of a
//! replica, and every registry frame to the same peer after them until they are all out, go
//! through an outbox that a task drains into the peer's send queue, waiting for room as
//! messages do. Order per peer is kept: while a peer's outbox is non-empty, everything for
//! that peer joins it.
//!
//! What an outbox holds is the registry's own replica (bounded by its per-node caps on names
//! and memberships) plus the frames produced meanwhile; it is dropped when the peer goes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::actor::NodeId;
use crate::lock::lock;
use crate::net::PeerSlot;
use crate::registry::RegistryMsg;
use crate::transport::FrameKind;

/// The frames waiting for one peer, under the generation that started its drain.
struct Queue {
    generation: u64,
    frames: VecDeque<Vec<u8>>,
}

/// The paced registry frames of every peer that has some.
#[derive(Default)]
pub(crate) struct Outbox {
    queues: Mutex<Queues>,
}

#[derive(Default)]
struct Queues {
    by_peer: HashMap<NodeId, Queue>,
    next_generation: u64,
}

impl Outbox {
    /// Sends `msg` to `slot`'s peer: at once, unless it is part of a replica or frames for
    /// the peer are waiting, then after them, as the peer's send queue makes room.
    pub(crate) fn send(self: &Arc<Self>, slot: Arc<PeerSlot>, msg: &RegistryMsg) {
        let paced = matches!(msg, RegistryMsg::SnapshotPart { .. });
        let mut queues = lock(&self.queues);
        if !paced && !queues.by_peer.contains_key(&slot.id) {
            drop(queues);
            slot.send_frame(FrameKind::Registry, |buf| msg.encode(buf));
            return;
        }
        let mut body = Vec::new();
        if let Err(error) = msg.encode(&mut body) {
            crate::trace::trace_event!(warn, peer = %slot.id, %error, "registry frame not sent");
            return;
        }
        if let Some(queue) = queues.by_peer.get_mut(&slot.id) {
            queue.frames.push_back(body);
            return;
        }
        let generation = queues.next_generation;
        queues.next_generation = generation.wrapping_add(1);
        queues.by_peer.insert(
            slot.id,
            Queue {
                generation,
                frames: VecDeque::from([body]),
            },
        );
        drop(queues);
        tokio::spawn(Arc::clone(self).drain(slot, generation));
    }

    /// Drops what waits for `peer` (it went down: it gets a fresh replica when it is back).
    pub(crate) fn forget(&self, peer: NodeId) {
        lock(&self.queues).by_peer.remove(&peer);
    }

    /// Moves the peer's frames into its send queue one by one, waiting for room; stops when
    /// they are all out (the outbox is then removed, under the lock, so a later frame goes
    /// straight out behind them), or when the peer went down or was forgotten.
    async fn drain(self: Arc<Self>, slot: Arc<PeerSlot>, generation: u64) {
        loop {
            let body = {
                let mut queues = lock(&self.queues);
                let Some(queue) = queues.by_peer.get_mut(&slot.id) else {
                    return;
                };
                if queue.generation != generation {
                    return;
                }
                match queue.frames.pop_front() {
                    Some(body) => body,
                    None => {
                        queues.by_peer.remove(&slot.id);
                        return;
                    }
                }
            };
            let queued = slot
                .send_frame_waiting(FrameKind::Registry, |buf| {
                    buf.extend_from_slice(&body);
                    Ok(())
                })
                .await;
            if !queued {
                let mut queues = lock(&self.queues);
                if queues
                    .by_peer
                    .get(&slot.id)
                    .is_some_and(|queue| queue.generation == generation)
                {
                    queues.by_peer.remove(&slot.id);
                }
                return;
            }
        }
    }
}
