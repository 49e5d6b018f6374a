//! [`PeerSlot`]: everything this node keeps about one other node, across its connections.
//!
//! Remote refs point at the slot, not at a connection, so they stay valid through a
//! reconnect. The slot owns the send queue, the calls waiting for replies, the monitors this
//! node holds on the peer's actors and the links between local and remote actors: when the
//! connection is lost, pending calls fail with `NodeDown`, monitors fire with
//! [`ExitReason::NodeDown`] and linked local actors receive an exit with that reason, at once.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, Notify};

use super::queue::{PushError, SendQueue, Urgency};
use super::wire::{reply_error, write_reply_header, Control, FoundActor, MessageHeaderWire, ReplyStatus};
use super::NetStats;
use crate::actor::CallError;
use crate::actor::{
    ActorId, DecodeScope, EncodeBody, ErasedReply, ExitReason, MessageHead, MonitorRef, Node, NodeId,
    OwnedBody, Watcher, WeakNode,
};
use crate::codec::CodecError;
use crate::lock::lock;
use crate::transport::{encode_frame, FrameKind, Sealer};

#[derive(Default)]
struct Meta {
    name: String,
    /// Where the peer listens, as it told us; used to reconnect and to introduce it.
    listen: Option<SocketAddr>,
    /// The connection currently carrying traffic, if any, and how to cut it.
    connection: Option<(u64, Arc<Notify>)>,
}

pub(crate) struct PeerSlot {
    pub(crate) id: NodeId,
    node: WeakNode,
    meta: Mutex<Meta>,
    up: AtomicBool,
    /// Set when the peer said goodbye: a node id names one run of a node, so a node that
    /// shut down never comes back under it, and a late connection from it is dropped.
    departed: AtomicBool,
    pub(crate) queue: SendQueue,
    pub(crate) max_frame: usize,
    pub(crate) stats: Arc<NetStats>,
    /// Notified whenever a connection is installed.
    attached: Notify,
    next_call: AtomicU64,
    /// Calls waiting for a reply: the callee and the caller's end of the reply channel.
    calls: Mutex<HashMap<u64, (ActorId, ErasedReply)>>,
    /// Monitors held by this node's watchers on the peer's actors.
    monitors: Mutex<HashMap<MonitorRef, (ActorId, Watcher)>>,
    /// Links between a local actor (first) and one of the peer's actors (second).
    links: Mutex<HashSet<(ActorId, ActorId)>>,
    lookups: Mutex<HashMap<u64, oneshot::Sender<Option<FoundActor>>>>,
}

impl PeerSlot {
    pub(crate) fn new(
        id: NodeId,
        node: WeakNode,
        limit: usize,
        max_frame: usize,
        stats: Arc<NetStats>,
    ) -> Self {
        PeerSlot {
            id,
            node,
            meta: Mutex::new(Meta::default()),
            up: AtomicBool::new(false),
            departed: AtomicBool::new(false),
            queue: SendQueue::new(limit, Arc::clone(&stats)),
            max_frame,
            stats,
            attached: Notify::new(),
            next_call: AtomicU64::new(1),
            calls: Mutex::new(HashMap::new()),
            monitors: Mutex::new(HashMap::new()),
            links: Mutex::new(HashSet::new()),
            lookups: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn node(&self) -> Option<Node> {
        self.node.upgrade()
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    pub(crate) fn has_departed(&self) -> bool {
        self.departed.load(Ordering::Acquire)
    }

    pub(crate) fn mark_departed(&self) {
        self.departed.store(true, Ordering::Release);
    }

    pub(crate) fn name(&self) -> String {
        lock(&self.meta).name.clone()
    }

    pub(crate) fn listen_addr(&self) -> Option<SocketAddr> {
        lock(&self.meta).listen
    }

    pub(crate) fn set_listen_addr(&self, addr: Option<SocketAddr>) {
        if addr.is_some() {
            lock(&self.meta).listen = addr;
        }
    }

    pub(crate) fn has_connection(&self) -> bool {
        lock(&self.meta).connection.is_some()
    }

    /// Asks the reader of the current connection to close it (`Node::disconnect`).
    pub(crate) fn cut(&self) -> bool {
        match &lock(&self.meta).connection {
            Some((_, cut)) => {
                cut.notify_one();
                true
            }
            None => false,
        }
    }

    /// Installs `connection` as the one carrying traffic; `cut` closes it, `sealer` seals what
    /// the queue sends on it. Returns the writer's epoch. Frames can be queued from now on,
    /// but the peer counts as up only once [`mark_up`](Self::mark_up) says so: the node first
    /// tells its frame handlers, so that whoever sees the peer up (`connected_nodes`,
    /// `NodeUp`) finds them knowing it too.
    pub(crate) fn attach(&self, connection: u64, cut: Arc<Notify>, name: &str, sealer: Sealer) -> u64 {
        let mut meta = lock(&self.meta);
        meta.name = name.to_owned();
        let previous = meta.connection.replace((connection, cut));
        let epoch = if previous.is_some() {
            self.queue.hand_over(sealer)
        } else {
            self.queue.open(sealer)
        };
        drop(meta);
        self.attached.notify_waiters();
        epoch
    }

    /// Marks the peer up; returns whether it was down before (a `NodeUp`).
    pub(crate) fn mark_up(&self) -> bool {
        !self.up.swap(true, Ordering::AcqRel)
    }

    /// Waits up to `timeout` for a connection other than `connection` to be installed.
    pub(crate) async fn wait_for_successor(&self, connection: u64, timeout: std::time::Duration) {
        let wait = async {
            loop {
                let attached = self.attached.notified();
                tokio::pin!(attached);
                attached.as_mut().enable();
                if lock(&self.meta).connection.as_ref().map(|(id, _)| *id) != Some(connection) {
                    return;
                }
                attached.await;
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
    }

    /// Marks the peer down if `connection` is still the one carrying traffic, and fails
    /// everything that waited on it. Returns whether it did (a `NodeDown`).
    pub(crate) fn detach(&self, connection: u64) -> bool {
        {
            let mut meta = lock(&self.meta);
            if meta.connection.as_ref().map(|(id, _)| *id) != Some(connection) {
                return false;
            }
            meta.connection = None;
            self.up.store(false, Ordering::Release);
            self.queue.close();
        }
        self.fail_everything();
        true
    }

    fn fail_everything(&self) {
        let calls = std::mem::take(&mut *lock(&self.calls));
        for (_, (actor, reply)) in calls {
            reply.complete(Err(CallError::NodeDown { actor }));
        }
        // Dropping the senders fails the lookups with `NodeDown`.
        let lookups = std::mem::take(&mut *lock(&self.lookups));
        drop(lookups);
        let monitors = std::mem::take(&mut *lock(&self.monitors));
        for (_, (actor, watcher)) in monitors {
            watcher.deliver(actor, ExitReason::NodeDown);
        }
        let links = std::mem::take(&mut *lock(&self.links));
        if let Some(node) = self.node() {
            for (local, remote) in links {
                if let Some(cell) = node.local_cell(local) {
                    cell.core().send_exit(remote, ExitReason::NodeDown);
                }
            }
        }
    }

    // ---- frames out ----

    /// Queues a message frame whose body `body` encodes: if the queue has room now, or
    /// regardless of the bound with `force`. `Ok(false)`: the queue is full.
    pub(crate) fn push_message(
        &self,
        head: &MessageHead,
        body: &mut EncodeBody<'_>,
    ) -> Result<bool, CallError> {
        let header = *head;
        let max = self.max_frame;
        let pushed = self
            .queue
            .push_if_room(urgency(head), |buf| build_message(buf, &header, body, max));
        match pushed {
            None => Ok(false),
            Some(pushed) => self.finish_push(head.target, pushed).map(|()| true),
        }
    }

    /// Queues a message frame, waiting while the send queue is full.
    pub(crate) async fn push_message_waiting(
        &self,
        head: MessageHead,
        body: OwnedBody,
    ) -> Result<(), CallError> {
        let header = head;
        let max = self.max_frame;
        let pushed = self
            .queue
            .push(body, urgency(&head), |buf, body| {
                build_message(buf, &header, &mut **body, max)
            })
            .await;
        self.finish_push(head.target, pushed)
    }

    /// `target` is the receiving actor's number here.
    fn finish_push(&self, target: u64, pushed: Result<(), PushError<CallError>>) -> Result<(), CallError> {
        match pushed {
            Ok(()) => {
                self.stats.messages_out.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(PushError::Closed) => Err(CallError::NodeDown {
                actor: ActorId::new(self.id, target),
            }),
            Err(PushError::Encode(error)) => Err(error),
        }
    }

    /// Queues a control frame. Dropped if the peer is down: what it would have told is then
    /// moot (the peer's side sees the connection loss instead).
    pub(crate) fn send_control(&self, control: &Control) {
        self.queue_frame(FrameKind::Signal, Urgency::Batch, "control", |buf| {
            control.encode(buf)
        });
    }

    /// Queues a frame of a [`FrameHandler`](super::FrameHandler)'s `kind`, to be written at
    /// once; dropped if the peer is down (the handler hears of it and of the peer's return).
    pub(crate) fn send_frame(
        &self,
        kind: FrameKind,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) {
        self.queue_frame(kind, Urgency::Flush, "handler", encode);
    }

    /// Queues one frame of `kind` whose body `encode` appends, regardless of the queue's
    /// bound; logs (and drops) a frame that cannot be encoded or exceeds the frame cap.
    fn queue_frame(
        &self,
        kind: FrameKind,
        urgency: Urgency,
        what: &'static str,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) {
        let max = self.max_frame;
        let pushed = self.queue.push_now(urgency, |buf| {
            let start = buf.len();
            buf.extend_from_slice(&[0; 4]);
            buf.push(kind.as_u8());
            if let Err(error) = encode(buf) {
                buf.truncate(start);
                return Err(error);
            }
            seal_frame(buf, start, max).map_err(|size| CodecError::TooLarge { size, limit: max })
        });
        if let Err(PushError::Encode(error)) = pushed {
            tracing::warn!(peer = %self.id, %error, "{what} frame not sent");
        }
    }

    /// Answers call `call` with `status` and the payload `payload` appends.
    pub(crate) fn send_reply(
        &self,
        call: u64,
        status: ReplyStatus,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) {
        let max = self.max_frame;
        let pushed = self.queue.push_now(Urgency::Flush, |buf| {
            let start = buf.len();
            buf.extend_from_slice(&[0; 4]);
            buf.push(FrameKind::Reply.as_u8());
            write_reply_header(call, &status, buf);
            let outcome = payload(buf).and_then(|()| {
                seal_frame(buf, start, max).map_err(|size| CodecError::TooLarge { size, limit: max })
            });
            if let Err(error) = outcome {
                // The reply cannot travel: tell the caller why instead.
                buf.truncate(start);
                let (status, detail) = match error {
                    CodecError::TooLarge { size, limit } => {
                        let mut sizes = Vec::with_capacity(16);
                        sizes.extend_from_slice(&(size as u64).to_be_bytes());
                        sizes.extend_from_slice(&(limit as u64).to_be_bytes());
                        (ReplyStatus::TooLarge, sizes)
                    }
                    other => (ReplyStatus::BadReply, other.to_string().into_bytes()),
                };
                let mut body = Vec::with_capacity(9 + detail.len());
                write_reply_header(call, &status, &mut body);
                body.extend_from_slice(&detail);
                return encode_frame(FrameKind::Reply, &body, max, buf).map_err(|_| ());
            }
            Ok(())
        });
        if let Err(PushError::Encode(())) = pushed {
            tracing::warn!(peer = %self.id, call, "reply not sent");
        }
    }

    // ---- calls ----

    /// Registers a call to `actor`; `reply` is completed when the reply arrives or the peer
    /// is lost.
    pub(crate) fn register_call(&self, actor: ActorId, reply: ErasedReply) -> u64 {
        let call = self.next_call.fetch_add(1, Ordering::Relaxed);
        lock(&self.calls).insert(call, (actor, reply));
        if !self.is_up() {
            // Lost between the caller's check and now: fail it like the others.
            let entry = lock(&self.calls).remove(&call);
            if let Some((actor, reply)) = entry {
                reply.complete(Err(CallError::NodeDown { actor }));
            }
        }
        call
    }

    pub(crate) fn forget_call(&self, call: u64) {
        lock(&self.calls).remove(&call);
    }

    /// A Reply frame arrived: decode it for the caller (refs inside bind to `node`).
    pub(crate) fn on_reply(&self, node: &Node, call: u64, status: ReplyStatus, payload: &[u8]) {
        let waiting = lock(&self.calls).remove(&call);
        let Some((actor, reply)) = waiting else {
            return; // The caller gave up (timeout).
        };
        if status == ReplyStatus::Ok {
            let _scope = DecodeScope::enter(Some(node));
            reply.complete(Ok(payload));
        } else {
            reply.complete(Err(reply_error(actor, &status, payload)));
        }
    }

    // ---- lookups by name ----

    pub(crate) fn register_lookup(&self, request: u64) -> oneshot::Receiver<Option<FoundActor>> {
        let (tx, rx) = oneshot::channel();
        lock(&self.lookups).insert(request, tx);
        rx
    }

    pub(crate) fn forget_lookup(&self, request: u64) {
        lock(&self.lookups).remove(&request);
    }

    pub(crate) fn on_lookup_reply(&self, request: u64, found: Option<FoundActor>) {
        if let Some(tx) = lock(&self.lookups).remove(&request) {
            let _ = tx.send(found);
        }
    }

    pub(crate) fn next_request(&self) -> u64 {
        self.next_call.fetch_add(1, Ordering::Relaxed)
    }

    // ---- monitors and links ----

    /// Monitors the peer's actor `target` on behalf of the local `watcher`.
    pub(crate) fn monitor(&self, target: ActorId, watcher: Watcher) {
        let monitor = watcher.monitor();
        lock(&self.monitors).insert(monitor, (target, watcher));
        self.send_control(&Control::Monitor { monitor, target });
        if !self.is_up() {
            if let Some((_, watcher)) = lock(&self.monitors).remove(&monitor) {
                watcher.deliver(target, ExitReason::NodeDown);
            }
        }
    }

    pub(crate) fn demonitor(&self, target: ActorId, monitor: MonitorRef) {
        if lock(&self.monitors).remove(&monitor).is_some() {
            self.send_control(&Control::Demonitor { monitor, target });
        }
    }

    /// A DOWN arrived for one of our monitors.
    pub(crate) fn on_down(&self, monitor: MonitorRef, actor: ActorId, reason: ExitReason) {
        let watcher = lock(&self.monitors).remove(&monitor);
        if let Some((_, watcher)) = watcher {
            watcher.deliver(actor, reason);
        }
    }

    pub(crate) fn remember_link(&self, local: ActorId, remote: ActorId) {
        lock(&self.links).insert((local, remote));
        if !self.is_up() && lock(&self.links).remove(&(local, remote)) {
            if let Some(cell) = self.node().and_then(|node| node.local_cell(local)) {
                cell.core().send_exit(remote, ExitReason::NodeDown);
            }
        }
    }

    pub(crate) fn forget_link(&self, local: ActorId, remote: ActorId) {
        lock(&self.links).remove(&(local, remote));
    }
}

/// A call waits for its answer: send it now; a tell is better batched with those that follow.
fn urgency(head: &MessageHead) -> Urgency {
    if head.call == 0 {
        Urgency::Batch
    } else {
        Urgency::Flush
    }
}

/// Appends a whole Message frame, or nothing on error.
fn build_message(
    buf: &mut Vec<u8>,
    header: &MessageHead,
    body: &mut EncodeBody<'_>,
    max: usize,
) -> Result<(), CallError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    buf.push(FrameKind::Message.as_u8());
    header.write(buf);
    if let Err(error) = body(buf) {
        buf.truncate(start);
        return Err(CallError::Encode(error));
    }
    seal_frame(buf, start, max).map_err(|size| CallError::PayloadTooLarge { size, limit: max })
}

/// Writes the length of the frame that starts at `start`, or removes the frame and returns
/// its length if it exceeds `max`.
fn seal_frame(buf: &mut Vec<u8>, start: usize, max: usize) -> Result<(), usize> {
    let len = buf.len() - start - 4;
    let Ok(len32) = u32::try_from(len) else {
        buf.truncate(start);
        return Err(len);
    };
    if len > max {
        buf.truncate(start);
        return Err(len);
    }
    buf[start..start + 4].copy_from_slice(&len32.to_be_bytes());
    Ok(())
}
