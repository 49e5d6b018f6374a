//! [`PeerSlot`]: everything this node keeps about one other node, across its connections.
//!
//! Remote refs point at the slot, not at a connection, so they stay valid through a
//! reconnect. The slot owns the send queue, the calls waiting for replies, the monitors this
//! node holds on the peer's actors and the links between local and remote actors: when the
//! peer goes down, pending calls fail with `NodeDown`, monitors fire with
//! [`ExitReason::NodeDown`] and linked local actors receive an exit with that reason, at once.
//! A member's slot outlives its connections: a connection closed as idle, or broken while
//! the membership still counts the peer in, leaves it up with its queue open (see
//! `keeper.rs`).
//!
//! It also keeps what the peer's actors hold on ours (links and monitors), each capped per
//! peer ([`PeerLimits`](super::PeerLimits)) and dropped when the peer goes.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, Notify};

use super::queue::{PushError, SendQueue, Urgency};
use super::stopped::KnownStopped;
use super::wire::{reply_error, write_reply_header, Control, FoundActor, MessageHeaderWire, ReplyStatus};
use super::{NetConfig, NetStats, NodeDownReason, PeerTraffic};
use crate::actor::{
    ActorId, DecodeScope, EncodeBody, ErasedReply, ExitReason, MessageHead, MonitorRef, Node, NodeId,
    OwnedBody, Watcher, WeakNode,
};
use crate::actor::{CallError, Signal};
use crate::codec::CodecError;
use crate::lock::lock;
use crate::meter::PeerMeters;
use crate::transport::{encode_frame, FrameKind, Sealer};

#[derive(Default)]
struct Meta {
    name: String,
    /// Where the peer listens, as it told us; used to reconnect and to introduce it.
    listen: Option<SocketAddr>,
    /// The IP the peer's last connection came from or went to.
    observed: Option<IpAddr>,
    /// The connection currently carrying traffic, if any, and how to cut it.
    connection: Option<(u64, Arc<Notify>)>,
    /// Why this node cut that connection, if not on a user's request.
    cut_reason: Option<(u64, NodeDownReason)>,
    /// When that connection was installed.
    installed_at: Option<tokio::time::Instant>,
}

pub(crate) struct PeerSlot {
    pub(crate) id: NodeId,
    node: WeakNode,
    meta: Mutex<Meta>,
    up: AtomicBool,
    /// Set when the peer said goodbye: a node id names one run of a node, so a node that
    /// shut down never comes back under it, and a late connection from it is dropped.
    departed: AtomicBool,
    /// Whether a connection carries traffic now (the fast check of the send paths).
    linked: AtomicBool,
    /// The peer counts as up without a connection: membership says it lives, and the queue
    /// holds what is sent to it until the next connection (see `keeper.rs`).
    announced: AtomicBool,
    /// The last connection broke: the next one tells the frame handlers again and sends the
    /// monitors and links again, since frames may have been lost with it.
    lossy: AtomicBool,
    /// A keeper task looks after the slot (dials on demand, closes when idle).
    kept: AtomicBool,
    /// The peer runs the membership with this node (both said so in the handshake).
    gossips: AtomicBool,
    /// Notified when a frame is queued while no connection carries traffic.
    pub(crate) wanted: Notify,
    /// Notified when the membership counts the peer in again after it was down: a dial
    /// still trying from before is given up for a fresh one.
    pub(crate) revived: Notify,
    /// Frames received, heartbeats aside: with the frames queued, what the idle check counts.
    received: AtomicU64,
    /// Bytes read from the peer's connections.
    bytes_read: AtomicU64,
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
    /// Monitors held by the peer's actors on ours: the monitor and the local actor watched.
    watched: Mutex<HashMap<MonitorRef, ActorId>>,
    max_links: usize,
    max_monitors: usize,
    lookups: Mutex<HashMap<u64, oneshot::Sender<Option<FoundActor>>>>,
    /// The peer's actors it told us have stopped.
    stopped: KnownStopped,
}

impl PeerSlot {
    pub(crate) fn new(id: NodeId, node: WeakNode, config: &NetConfig, stats: Arc<NetStats>) -> Self {
        let (limit, max_frame) = (config.send_queue_bytes, config.max_frame);
        PeerSlot {
            id,
            node,
            meta: Mutex::new(Meta::default()),
            up: AtomicBool::new(false),
            departed: AtomicBool::new(false),
            linked: AtomicBool::new(false),
            announced: AtomicBool::new(false),
            lossy: AtomicBool::new(false),
            kept: AtomicBool::new(false),
            gossips: AtomicBool::new(false),
            wanted: Notify::new(),
            revived: Notify::new(),
            received: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
            queue: SendQueue::new(limit, max_frame, Arc::clone(&stats)),
            max_frame,
            stats,
            attached: Notify::new(),
            next_call: AtomicU64::new(1),
            calls: Mutex::new(HashMap::new()),
            monitors: Mutex::new(HashMap::new()),
            links: Mutex::new(HashSet::new()),
            watched: Mutex::new(HashMap::new()),
            max_links: config.limits.max_links,
            max_monitors: config.limits.max_monitors,
            lookups: Mutex::new(HashMap::new()),
            stopped: KnownStopped::default(),
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

    /// The peer's metric handles, once a connection with it was installed.
    pub(crate) fn meters(&self) -> Option<&PeerMeters> {
        self.queue.meters.get()
    }

    /// Makes the peer's metric handles, labelled `node` (this node's name) and `peer`, if
    /// they were not made yet.
    pub(crate) fn init_meters(&self, node: &str, peer: &str) {
        self.queue.meters.get_or_init(|| PeerMeters::new(node, peer));
    }

    pub(crate) fn name(&self) -> String {
        lock(&self.meta).name.clone()
    }

    pub(crate) fn listen_addr(&self) -> Option<SocketAddr> {
        lock(&self.meta).listen
    }

    /// Records the IP at the other end of the peer's connection.
    pub(crate) fn set_observed_ip(&self, ip: IpAddr) {
        lock(&self.meta).observed = Some(ip);
    }

    /// Where the peer listens, from what it `told`: a peer bound to every interface that
    /// advertised nothing tells an unspecified IP, and the IP its connection was seen at
    /// stands in for it.
    pub(crate) fn complete_listen_addr(&self, told: SocketAddr) -> Option<SocketAddr> {
        match told.ip().is_unspecified() {
            true => lock(&self.meta)
                .observed
                .map(|ip| SocketAddr::new(ip, told.port())),
            false => Some(told),
        }
    }

    /// Records where the peer listens; true the first time it is known (a peer announces
    /// it on every connection, and once per incarnation is news).
    pub(crate) fn set_listen_addr(&self, addr: Option<SocketAddr>) -> bool {
        let mut meta = lock(&self.meta);
        let first = meta.listen.is_none() && addr.is_some();
        if addr.is_some() {
            meta.listen = addr;
        }
        first
    }

    pub(crate) fn has_connection(&self) -> bool {
        lock(&self.meta).connection.is_some()
    }

    /// How long ago the connection carrying traffic was installed, if there is one.
    pub(crate) fn connection_age(&self) -> Option<std::time::Duration> {
        let meta = lock(&self.meta);
        meta.connection.as_ref()?;
        meta.installed_at.map(|at| at.elapsed())
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

    /// Cuts the current connection because the peer does not read what it is sent; the
    /// reader reports the peer down as [`NodeDownReason::Overloaded`].
    fn cut_overloaded(&self, queued: usize, limit: usize) {
        if lock(&self.meta).cut_reason.is_none() {
            crate::trace::trace_event!(warn, peer = %self.id, queued, limit, "peer does not read what it is sent; disconnecting");
        }
        self.cut_because(NodeDownReason::Overloaded { queued, limit });
    }

    /// Cuts the current connection, to be reported down for `reason`; false if there is none.
    pub(crate) fn cut_because(&self, reason: NodeDownReason) -> bool {
        let mut meta = lock(&self.meta);
        let Some((connection, cut)) = meta.connection.clone() else {
            return false;
        };
        meta.cut_reason = Some((connection, reason));
        drop(meta);
        cut.notify_one();
        true
    }

    /// Why this node cut `connection`: [`NodeDownReason::Disconnected`] unless the node did
    /// it on its own (an overloaded peer).
    pub(crate) fn cut_reason(&self, connection: u64) -> NodeDownReason {
        match &lock(&self.meta).cut_reason {
            Some((cut, reason)) if *cut == connection => reason.clone(),
            _ => NodeDownReason::Disconnected,
        }
    }

    /// Installs `connection` as the one carrying traffic; `cut` closes it, `sealer` seals what
    /// the queue sends on it. Frames can be queued from now on,
    /// but the peer counts as up only once [`mark_up`](Self::mark_up) says so: the node first
    /// tells its frame handlers, so that whoever sees the peer up (`connected_nodes`,
    /// `NodeUp`) finds them knowing it too.
    /// Returns the writer's epoch, and whether the connection took over from another one
    /// (a simultaneous connect).
    pub(crate) fn attach(
        &self,
        connection: u64,
        cut: Arc<Notify>,
        name: &str,
        sealer: Sealer,
    ) -> (u64, bool) {
        let mut meta = lock(&self.meta);
        meta.name = name.to_owned();
        meta.installed_at = Some(tokio::time::Instant::now());
        let previous = meta.connection.replace((connection, cut));
        self.linked.store(true, Ordering::Release);
        let epoch = if previous.is_some() || self.queue.is_detached() {
            self.queue.hand_over(sealer)
        } else {
            self.queue.open(sealer)
        };
        drop(meta);
        self.attached.notify_waiters();
        (epoch, previous.is_some())
    }

    /// Marks the peer up; returns whether it was down before.
    pub(crate) fn mark_up(&self) -> bool {
        !self.up.swap(true, Ordering::AcqRel)
    }

    /// Whether the peer is to be announced (`NodeUp`): the first time it is up with a
    /// connection since it was last down.
    pub(crate) fn announce(&self) -> bool {
        !self.announced.swap(true, Ordering::AcqRel)
    }

    /// Whether the last connection broke since this was last asked (and forgets it).
    pub(crate) fn take_lossy(&self) -> bool {
        self.lossy.swap(false, Ordering::AcqRel)
    }

    /// Whether the peer runs the membership with this node.
    pub(crate) fn gossips(&self) -> bool {
        self.gossips.load(Ordering::Acquire)
    }

    pub(crate) fn set_gossips(&self, gossips: bool) {
        self.gossips.store(gossips, Ordering::Release);
    }

    /// Claims the keeping of this slot; false if a keeper has it already.
    pub(crate) fn start_keeping(&self) -> bool {
        !self.kept.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn stop_keeping(&self) {
        self.kept.store(false, Ordering::Release);
    }

    pub(crate) fn note_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `bytes` read from the peer, in the node's counters and the peer's.
    pub(crate) fn count_read(&self, bytes: usize) {
        self.stats.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
        self.bytes_read.fetch_add(bytes as u64, Ordering::Relaxed);
        if let Some(meters) = self.meters() {
            meters.bytes_in.increment(bytes as u64);
        }
    }

    /// The traffic with the peer since this node first knew it: bytes read and written,
    /// frames received and queued (heartbeats aside).
    pub(crate) fn traffic(&self) -> PeerTraffic {
        PeerTraffic {
            bytes_in: self.bytes_read.load(Ordering::Relaxed),
            bytes_out: self.queue.bytes_written(),
            frames_in: self.received.load(Ordering::Relaxed),
            frames_out: self.queue.appended(),
        }
    }

    /// A count that moves whenever a frame (a heartbeat aside) is queued for the peer or
    /// received from it.
    pub(crate) fn activity(&self) -> u64 {
        self.received
            .load(Ordering::Relaxed)
            .wrapping_add(self.queue.appended())
    }

    /// Nothing is queued for the peer and nothing waits for its answer.
    pub(crate) fn is_quiet(&self) -> bool {
        self.queue.queued_bytes() == 0 && lock(&self.calls).is_empty() && lock(&self.lookups).is_empty()
    }

    /// The peer is up but no connection carries its traffic, and frames wait for one.
    pub(crate) fn wants_connection(&self) -> bool {
        self.is_up()
            && !self.linked.load(Ordering::Acquire)
            && (self.queue.queued_bytes() > 0 || self.lossy.load(Ordering::Acquire))
    }

    /// Whether a frame handler's frame is to be dropped rather than queued: the last
    /// connection broke and no new one is up (see [`detach_soft`](Self::detach_soft)).
    fn drops_handler_frames(&self) -> bool {
        self.lossy.load(Ordering::Acquire) && !self.linked.load(Ordering::Acquire)
    }

    /// Wakes the keeper if a frame was queued while no connection carries traffic.
    fn wake_keeper(&self) {
        if !self.linked.load(Ordering::Acquire) {
            self.wanted.notify_one();
        }
    }

    /// Closes `connection` (if it still carries the traffic) because it was idle, or because
    /// the peer said it was: its writer writes what it was left and [`Control::Idle`], then
    /// stops; its reader reads to the end. What is queued from now on waits for a new
    /// connection. Returns whether it did.
    pub(crate) fn close_idle(&self, connection: u64) -> bool {
        if !self.unlink(connection, Some(super::queue::Notice::Idle)) {
            return false;
        }
        crate::trace::trace_event!(debug, peer = %self.id, connection, "idle connection closed");
        true
    }

    /// Takes `connection` off the slot, if it is the one carrying the traffic, leaving the
    /// queue open for the next one (see [`SendQueue::detach`] for `notice`; without one,
    /// the connection broke). Returns whether it was.
    fn unlink(&self, connection: u64, notice: Option<super::queue::Notice>) -> bool {
        let mut meta = lock(&self.meta);
        if meta.connection.as_ref().map(|(id, _)| *id) != Some(connection) {
            return false;
        }
        meta.connection = None;
        meta.installed_at = None;
        self.linked.store(false, Ordering::Release);
        self.queue.detach(notice);
        if notice.is_none() {
            self.lossy.store(true, Ordering::Release);
            // Messages and signals wait for the next connection; replies and the frame
            // handlers' protocols (the registry) do not: their senders have moved on (a call
            // failed with `ConnectionLost`, a claim went to another sequencer), and a frame
            // of theirs delivered seconds late would act on a world that is gone. The
            // handlers hear of the peer again on the next connection, and resynchronise.
            self.queue.retain_frames(|kind| {
                kind == FrameKind::Message.as_u8()
                    || kind == FrameKind::TracedMessage.as_u8()
                    || kind == FrameKind::Signal.as_u8()
            });
        }
        true
    }

    /// The connection carrying the traffic now, if any.
    pub(crate) fn current_connection(&self) -> Option<u64> {
        lock(&self.meta).connection.as_ref().map(|(id, _)| *id)
    }

    /// `connection` broke while the peer is still a member: the peer stays up, and what is
    /// queued (and queued from now on) waits for the next connection. Returns whether
    /// `connection` was the one carrying the traffic.
    pub(crate) fn detach_soft(&self, connection: u64) -> bool {
        if !self.unlink(connection, None) {
            return false;
        }
        // Their requests or replies may have gone with the connection: no waiting for a
        // reply that may never come.
        let calls = std::mem::take(&mut *lock(&self.calls));
        for (_, (actor, reply)) in calls {
            reply.complete(Err(CallError::ConnectionLost { actor }));
        }
        drop(std::mem::take(&mut *lock(&self.lookups)));
        self.wake_keeper();
        true
    }

    /// The peer is down without a connection to lose (membership declared it dead while it
    /// was not connected): fails everything that waited on it. Returns `None` if it was not
    /// up, else whether its last connection had broken (the frame handlers were told then).
    pub(crate) fn declare_down(&self) -> Option<bool> {
        {
            let meta = lock(&self.meta);
            if meta.connection.is_some() || !self.up.swap(false, Ordering::AcqRel) {
                return None;
            }
            self.announced.store(false, Ordering::Release);
            self.queue.close();
        }
        self.fail_everything();
        Some(self.take_lossy())
    }

    /// Sends again the monitors this node's actors hold on the peer's and the links between
    /// them, after a connection broke: the peer keeps one of each, and answers at once for
    /// an actor that died meanwhile.
    pub(crate) fn resend_watches(&self) {
        let monitors: Vec<_> = lock(&self.monitors)
            .iter()
            .map(|(monitor, (target, _))| (*monitor, *target))
            .collect();
        for (monitor, target) in monitors {
            self.send_control(&Control::Monitor { monitor, target });
        }
        let links: Vec<_> = lock(&self.links).iter().copied().collect();
        for (local, remote) in links {
            self.send_control(&Control::Link {
                from: local,
                to: remote,
            });
        }
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
            self.linked.store(false, Ordering::Release);
            self.up.store(false, Ordering::Release);
            self.announced.store(false, Ordering::Release);
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
        let watched = std::mem::take(&mut *lock(&self.watched));
        let Some(node) = self.node() else { return };
        for (local, remote) in links {
            if let Some(cell) = node.local_cell(local) {
                cell.core().send_exit(remote, ExitReason::NodeDown);
            }
        }
        // The peer's monitors on our actors go with it: no DOWN could reach it anyway.
        for (monitor, local) in watched {
            if let Some(cell) = node.local_cell(local) {
                let _ = cell.core().signal(Signal::Demonitor(monitor));
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
                if let Some(meters) = self.meters() {
                    meters.messages_out.increment(1);
                }
                self.wake_keeper();
                Ok(())
            }
            Err(PushError::Closed) => Err(CallError::NodeDown {
                actor: ActorId::new(self.id, target),
            }),
            Err(PushError::Encode(error)) => Err(error),
            Err(PushError::Overloaded { queued, limit }) => {
                // Messages wait for room and never get here; answered as for a lost peer.
                self.cut_overloaded(queued, limit);
                Err(CallError::NodeDown {
                    actor: ActorId::new(self.id, target),
                })
            }
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
    /// once; dropped if the peer is down (the handler hears of it and of the peer's return),
    /// or if its last connection broke and no new one is up yet (the handler hears of the
    /// peer again on the next one).
    pub(crate) fn send_frame(
        &self,
        kind: FrameKind,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) {
        if self.drops_handler_frames() {
            return;
        }
        self.queue_frame(kind, Urgency::Flush, "handler", encode);
    }

    /// Queues a frame of a [`FrameHandler`](super::FrameHandler)'s `kind`, waiting while the
    /// send queue is full, as messages do: for a handler with much to send (a registry sync
    /// in chunks, say), which would otherwise take the queue to its hard ceiling and the peer
    /// down as `Overloaded`. `encode` may be called again if a first attempt found no room.
    /// Returns whether the frame was queued (not if the peer is down or it does not encode).
    pub(crate) async fn send_frame_waiting(
        &self,
        kind: FrameKind,
        mut encode: impl FnMut(&mut Vec<u8>) -> Result<(), CodecError>,
    ) -> bool {
        if self.drops_handler_frames() {
            return false;
        }
        let max = self.max_frame;
        let pushed = self
            .queue
            .push((), Urgency::Flush, |buf, ()| {
                build_frame(buf, kind, max, &mut encode)
            })
            .await;
        if let Err(PushError::Encode(error)) = &pushed {
            crate::trace::trace_event!(warn, peer = %self.id, %error, "handler frame not sent");
        }
        if pushed.is_ok() {
            self.wake_keeper();
        }
        pushed.is_ok()
    }

    /// Queues one frame of `kind` whose body `encode` appends, regardless of the queue's
    /// bound up to its hard ceiling (past it the peer is cut as overloaded); logs (and drops)
    /// a frame that cannot be encoded or exceeds the frame cap.
    fn queue_frame(
        &self,
        kind: FrameKind,
        urgency: Urgency,
        what: &'static str,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) {
        let max = self.max_frame;
        let pushed = self
            .queue
            .push_now(urgency, |buf| build_frame(buf, kind, max, encode));
        match pushed {
            Err(PushError::Encode(error)) => {
                crate::trace::trace_event!(warn, peer = %self.id, %error, "{what} frame not sent")
            }
            Err(PushError::Overloaded { queued, limit }) => self.cut_overloaded(queued, limit),
            Ok(()) => self.wake_keeper(),
            Err(PushError::Closed) => {}
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
        match pushed {
            Err(PushError::Encode(())) => {
                crate::trace::trace_event!(warn, peer = %self.id, call, "reply not sent")
            }
            Err(PushError::Overloaded { queued, limit }) => self.cut_overloaded(queued, limit),
            Ok(()) => self.wake_keeper(),
            Err(PushError::Closed) => {}
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

    /// A DOWN arrived for one of our monitors; ignored unless it names the actor monitored.
    pub(crate) fn on_down(&self, monitor: MonitorRef, actor: ActorId, reason: ExitReason) {
        let watcher = {
            let mut monitors = lock(&self.monitors);
            match monitors.get(&monitor) {
                Some((target, _)) if *target == actor => monitors.remove(&monitor),
                _ => None,
            }
        };
        if let Some((_, watcher)) = watcher {
            self.stopped.record(actor.local());
            watcher.deliver(actor, reason);
        }
    }

    /// Records that the peer's actor `actor` exited, as a linked actor's exit said.
    pub(crate) fn record_stopped(&self, actor: ActorId) {
        self.stopped.record(actor.local());
    }

    /// Whether the peer told us its actor number `local` stopped (see `stopped.rs`).
    pub(crate) fn is_known_stopped(&self, local: u64) -> bool {
        self.stopped.contains(local)
    }

    /// Records that the peer's actor `remote` links to our actor `local`, unless the peer's
    /// actors already hold as many links as the cap allows: then `false`.
    pub(crate) fn accept_link(&self, local: ActorId, remote: ActorId) -> bool {
        let mut links = lock(&self.links);
        admit(links.len(), self.max_links, links.contains(&(local, remote))) && {
            links.insert((local, remote));
            true
        }
    }

    /// Records that the peer watches our actor `local` with `monitor`, unless the peer already
    /// holds as many monitors as the cap allows: then `false`.
    pub(crate) fn accept_watch(&self, monitor: MonitorRef, local: ActorId) -> bool {
        let mut watched = lock(&self.watched);
        admit(watched.len(), self.max_monitors, watched.contains_key(&monitor)) && {
            watched.insert(monitor, local);
            true
        }
    }

    /// The peer's monitor `monitor` ended (demonitored, or its DOWN sent); returns the
    /// local actor it watched.
    pub(crate) fn forget_watch(&self, monitor: MonitorRef) -> Option<ActorId> {
        lock(&self.watched).remove(&monitor)
    }

    pub(crate) fn remember_link(&self, local: ActorId, remote: ActorId) {
        lock(&self.links).insert((local, remote));
        if !self.is_up() && lock(&self.links).remove(&(local, remote)) {
            if let Some(cell) = self.node().and_then(|node| node.local_cell(local)) {
                cell.core().send_exit(remote, ExitReason::NodeDown);
            }
        }
    }

    /// Forgets the link between `local` and the peer's `remote`; returns whether it was known.
    pub(crate) fn forget_link(&self, local: ActorId, remote: ActorId) -> bool {
        lock(&self.links).remove(&(local, remote))
    }
}

/// Whether one more entry fits under `cap` in a table holding `held`; an entry already held
/// (`present`) always does.
fn admit(held: usize, cap: usize, present: bool) -> bool {
    present || held < cap
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
    match &header.trace {
        None => buf.push(FrameKind::Message.as_u8()),
        Some(trace) => {
            buf.push(FrameKind::TracedMessage.as_u8());
            trace.encode(buf);
        }
    }
    header.write(buf);
    if let Err(error) = body(buf) {
        buf.truncate(start);
        return Err(CallError::Encode(error));
    }
    seal_frame(buf, start, max).map_err(|size| CallError::PayloadTooLarge { size, limit: max })
}

/// Appends a whole frame of `kind` whose body `encode` appends, or nothing on error.
fn build_frame(
    buf: &mut Vec<u8>,
    kind: FrameKind,
    max: usize,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
) -> Result<(), CodecError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    buf.push(kind.as_u8());
    if let Err(error) = encode(buf) {
        buf.truncate(start);
        return Err(error);
    }
    seal_frame(buf, start, max).map_err(|size| CodecError::TooLarge { size, limit: max })
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

#[cfg(test)]
mod tests {
    use super::admit;

    #[test]
    fn the_cap_admits_new_entries_only_below_it_and_known_ones_always() {
        assert!(admit(0, 1, false));
        assert!(!admit(1, 1, false));
        assert!(admit(1, 1, true));
        assert!(!admit(5, 0, false));
    }
}
