//! The actor layer's side of the network: [`RemotePeer`], the one way out of this node.
//!
//! The local runtime knows another node only as a `RemotePeer`: something that queues a
//! message, a reply or a signal for one of that node's actors, and tells whether the node is
//! connected. The network layer implements it; nothing here names a frame, a socket or a
//! connection. What is generic over the actor type stays here: encoding a message for the
//! peer, and decoding one that a peer sent ([`deliver`]), with the actor's own codec.
//!
//! Refs travel inside messages: a ref serializes as its actor's id and protocol fingerprint,
//! and decodes against the node that decodes the message ([`DecodeScope`]): local again if it
//! names one of that node's actors, bound to the peer that hosts it otherwise.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::sync::oneshot;

use super::actor_ref::RemoteTarget;
use super::deadline;
use super::mailbox::TrySendError;
use super::monitor::{MonitorRef, Watcher};
use super::reply::{NoReply, ReplySlot};
use super::runtime::Node;
use super::{Actor, ActorId, ActorRef, Cell, ErasedReply, ExitReason, Message, NodeId, ReplyTo};
use crate::actor::CallError;
use crate::codec::CodecError;
use crate::trace::{Caller, TraceContext};

/// Appends an encoded body to a frame being built; leaves the buffer as it found it on error.
pub(crate) type EncodeBody<'a> = dyn FnMut(&mut Vec<u8>) -> Result<(), CodecError> + 'a;

/// An [`EncodeBody`] that owns what it encodes, for a send that must wait for room.
pub(crate) type OwnedBody = Box<dyn FnMut(&mut Vec<u8>) -> Result<(), CodecError> + Send>;

/// A future boxed for a trait object.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a message to a remote actor says about itself, besides its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageHead {
    /// The receiving actor's number on the peer.
    pub(crate) target: u64,
    /// The protocol the message was encoded for.
    pub(crate) fingerprint: u64,
    /// The message's wire tag.
    pub(crate) tag: u32,
    /// 0 for a tell, the call's number (from [`RemotePeer::register_call`]) for an ask.
    pub(crate) call: u64,
    /// The sender's span, to be the parent of the handler's span on the peer: sent in a
    /// TracedMessage frame when present.
    pub(crate) trace: Option<TraceContext>,
}

/// Why a message could not be queued for a peer.
#[derive(Debug)]
pub(crate) enum SendRefused {
    /// The peer's send queue is full; the message was not queued.
    Full,
    /// It never will be: the node is down, or the message cannot be encoded or is too large.
    Failed(CallError),
}

/// How a call handled on this node ended, as told to the caller on another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallEnd {
    /// The payload is the encoded reply.
    Replied,
    /// The actor stopped before handling the call.
    Stopped,
    /// The handler panicked.
    Failed,
}

/// Another node, as the local runtime sees it. Implemented by the network layer.
///
/// Every method returns at once: sends are queued (or dropped if the node is down, when what
/// they would say is moot: the other side sees the connection's loss instead), and the one
/// that may wait for room returns a future.
pub(crate) trait RemotePeer: Send + Sync + 'static {
    /// The node's id.
    fn node(&self) -> NodeId;

    /// Whether the node is connected now.
    fn is_up(&self) -> bool;

    /// Counts a failed tell or call from this node to the peer's actor of type `actor` in
    /// `distribute_call_errors_total`.
    fn call_error(&self, actor: &'static str, kind: &'static str);

    /// Whether the node told us that its actor number `actor` stopped (a DOWN for one of our
    /// monitors, or a linked actor's exit); remembered within a bound.
    fn is_known_stopped(&self, actor: u64) -> bool;

    /// Queues a message if the send queue has room now.
    fn try_send(&self, head: &MessageHead, body: &mut EncodeBody<'_>) -> Result<(), SendRefused>;

    /// Queues a message, waiting while the send queue is full.
    fn send(&self, head: MessageHead, body: OwnedBody) -> BoxFuture<'_, Result<(), CallError>>;

    /// Registers a call to `actor` whose reply `reply` waits for; returns its number. Fails
    /// `reply` at once with `NodeDown` if the node is down.
    fn register_call(&self, actor: ActorId, reply: ErasedReply) -> u64;

    /// Forgets call `call`: its caller stopped waiting.
    fn forget_call(&self, call: u64);

    /// Answers the call `call` that the node made to one of ours.
    fn reply(&self, call: u64, end: CallEnd, payload: &mut EncodeBody<'_>);

    /// Links our actor `local` with the node's actor `remote`.
    fn link(&self, local: ActorId, remote: ActorId);

    /// Removes the link between `local` and the node's actor `remote`.
    fn unlink(&self, local: ActorId, remote: ActorId);

    /// Tells the node's actor `to` that its linked actor `from` (one of ours) exited.
    fn exit(&self, from: ActorId, to: ActorId, reason: &ExitReason);

    /// Watches the node's actor `target` for `watcher`, one of ours.
    fn monitor(&self, target: ActorId, watcher: Watcher);

    /// Stops the watch `monitor` on the node's actor `target`.
    fn demonitor(&self, target: ActorId, monitor: MonitorRef);

    /// Tells the node's watcher `monitor` that our actor `actor` stopped.
    fn down(&self, monitor: MonitorRef, actor: ActorId, reason: &ExitReason);

    /// Asks the node's actor `target` to stop with `reason`.
    fn stop(&self, target: ActorId, reason: &ExitReason);

    /// Kills the node's actor `target`.
    fn kill(&self, target: ActorId);
}

fn head<A: Actor>(target: u64, msg: &A::Msg, call: u64) -> MessageHead {
    MessageHead {
        target,
        fingerprint: <A::Msg as Message>::FINGERPRINT,
        tag: msg.tag(),
        call,
        trace: crate::trace::outgoing_context(),
    }
}

/// Queues `msg` for a remote actor, waiting while the peer's send queue is full. The common
/// case, room at once, encodes straight into the queue and allocates nothing.
async fn send<A: Actor>(target: &RemoteTarget, msg: A::Msg, call: u64) -> Result<(), CallError> {
    let head = head::<A>(target.local, &msg, call);
    let tried = {
        let mut encode = |buf: &mut Vec<u8>| msg.encode_body(&A::Codec::default(), buf);
        target.peer.try_send(&head, &mut encode)
    };
    match tried {
        Ok(()) => return Ok(()),
        Err(SendRefused::Failed(error)) => return Err(error),
        Err(SendRefused::Full) => {}
    }
    let body: OwnedBody = Box::new(move |buf| msg.encode_body(&A::Codec::default(), buf));
    target.peer.send(head, body).await
}

pub(crate) async fn tell<A: Actor>(target: &RemoteTarget, msg: A::Msg) -> Result<(), CallError> {
    send::<A>(target, msg, 0).await
}

pub(crate) fn try_tell<A: Actor>(target: &RemoteTarget, msg: &A::Msg) -> Result<(), CallError> {
    try_send::<A>(target, msg, 0)
}

/// Queues `msg` if the peer's send queue has room now; `MailboxFull` otherwise.
fn try_send<A: Actor>(target: &RemoteTarget, msg: &A::Msg, call: u64) -> Result<(), CallError> {
    let head = head::<A>(target.local, msg, call);
    let mut encode = |buf: &mut Vec<u8>| msg.encode_body(&A::Codec::default(), buf);
    match target.peer.try_send(&head, &mut encode) {
        Ok(()) => Ok(()),
        Err(SendRefused::Full) => Err(CallError::MailboxFull { actor: target.id() }),
        Err(SendRefused::Failed(error)) => Err(error),
    }
}

/// A call to a remote actor: the message goes out with a call number; the caller's end of
/// the reply channel, its type erased, waits with the peer, which completes it with the
/// decoded reply or the error that ended the call (the loss of the node fails it at once
/// with `NodeDown`). With `room` at [`Room::Now`], a full send queue fails the call at once
/// with `MailboxFull`.
pub(crate) async fn ask<A, R, F>(
    target: &RemoteTarget,
    make: F,
    timeout: Duration,
    room: Room,
) -> Result<R, CallError>
where
    A: Actor,
    R: Send + 'static,
    F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
{
    let actor = target.id();
    let peer = &target.peer;
    if !peer.is_up() {
        return Err(CallError::NodeDown { actor });
    }
    let (tx, rx) = oneshot::channel();
    let mut msg = make(ReplyTo::new(tx));
    let Some(reply) = msg.take_reply::<A::Codec>() else {
        return Err(CallError::ProtocolMismatch {
            actor,
            detail: format!(
                "message `{}` of `{}` has no reply that can cross the network",
                msg.name(),
                A::NAME
            ),
        });
    };
    let call = peer.register_call(actor, reply);
    let _forget = ForgetCall {
        peer: peer.as_ref(),
        call,
    };
    let exchange = async {
        match room {
            Room::Wait => send::<A>(target, msg, call).await?,
            Room::Now => try_send::<A>(target, &msg, call)?,
        }
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(NoReply::Error(error))) => Err(error),
            Ok(Err(NoReply::Failed)) => Err(CallError::ActorFailed { actor }),
            Ok(Err(NoReply::Stopped)) | Err(_) => Err(CallError::ActorStopped { actor }),
        }
    };
    deadline::within(timeout, exchange)
        .await
        .unwrap_or(Err(CallError::Timeout { actor, timeout }))
}

/// Whether a call waits for room in a full mailbox (or send queue) or fails at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Room {
    /// Wait for room, within the call's timeout.
    Wait,
    /// Fail at once with `MailboxFull` if there is no room now.
    Now,
}

/// Removes a call from the peer's table when the caller stops waiting (reply, timeout or a
/// dropped future), so that late replies find nothing and the table does not grow.
struct ForgetCall<'a> {
    peer: &'a dyn RemotePeer,
    call: u64,
}

impl Drop for ForgetCall<'_> {
    fn drop(&mut self) {
        self.peer.forget_call(self.call);
    }
}

/// A message that arrived from another node for one of this node's actors.
pub(crate) struct Incoming<'a> {
    /// The protocol the sender encoded it for.
    pub(crate) fingerprint: u64,
    /// Its wire tag.
    pub(crate) tag: u32,
    /// 0 for a tell; the caller's call number for an ask.
    pub(crate) call: u64,
    /// The encoded arguments.
    pub(crate) body: &'a [u8],
    /// The caller's span on the sending node, if the message was traced.
    pub(crate) trace: Option<TraceContext>,
    /// The node it came from, which a reply goes back to.
    pub(crate) from: &'a Arc<dyn RemotePeer>,
}

/// Why a message from the network did not reach its actor.
#[derive(Debug)]
pub(crate) enum Undelivered {
    /// The sender's fingerprint or the tag is unknown to the actor.
    Mismatch(String),
    /// The arguments do not decode.
    Decode(CodecError),
    /// The actor has stopped.
    Stopped,
}

/// The future that finishes a delivery into a full mailbox.
pub(crate) type Pending = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Decodes a message for the actor in `cell` and puts it in its mailbox. Returns a future
/// to await when the mailbox is full: the connection waits on it, which backpressures the
/// peer while keeping the order of messages.
pub(crate) fn deliver<A: Actor>(
    cell: Arc<Cell<A>>,
    node: &Node,
    incoming: &Incoming<'_>,
) -> Result<Option<Pending>, Undelivered> {
    let expected = <A::Msg as Message>::FINGERPRINT;
    if incoming.fingerprint != expected {
        return Err(Undelivered::Mismatch(format!(
            "actor {} is a `{}` with protocol fingerprint {expected:#018x}, the message was encoded for {:#018x}",
            cell.core.id,
            A::NAME,
            incoming.fingerprint
        )));
    }
    let slot = if incoming.call == 0 {
        ReplySlot::none()
    } else {
        ReplySlot::remote(Arc::clone(incoming.from), incoming.call)
    };
    let decoded = {
        let _scope = DecodeScope::enter(Some(node));
        A::Msg::decode_body(&A::Codec::default(), incoming.tag, incoming.body, slot)
    };
    let trace = incoming.trace;
    let msg = match decoded {
        Ok(msg) => msg,
        Err(CodecError::UnknownTag { tag }) => {
            return Err(Undelivered::Mismatch(format!(
                "actor {} (`{}`) has no message with tag {tag:#010x}",
                cell.core.id,
                A::NAME
            )))
        }
        Err(error) => return Err(Undelivered::Decode(error)),
    };
    match cell.try_send_from(msg, Caller::remote(incoming.trace)) {
        Ok(()) => Ok(None),
        Err(TrySendError::Full(msg)) => Ok(Some(Box::pin(async move {
            // A closed mailbox drops the message, whose reply channel answers `Stopped`.
            let _ = cell.send_from(msg, Caller::remote(trace)).await;
        }))),
        Err(TrySendError::Closed(_)) => Err(Undelivered::Stopped),
    }
}

thread_local! {
    /// The node decoding a message or a reply on this thread, so that the refs inside it can
    /// be bound to that node's peers.
    static DECODING: RefCell<Option<Node>> = const { RefCell::new(None) };
}

/// Makes `node` the decoding node of this thread until dropped.
pub(crate) struct DecodeScope {
    previous: Option<Node>,
}

impl DecodeScope {
    pub(crate) fn enter(node: Option<&Node>) -> Self {
        let previous = DECODING.with(|current| current.replace(node.cloned()));
        DecodeScope { previous }
    }
}

impl Drop for DecodeScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        DECODING.with(|current| *current.borrow_mut() = previous);
    }
}

/// A ref on the wire: the actor's node and number, and the protocol it speaks.
#[derive(Serialize, Deserialize)]
struct WireRef {
    node: u64,
    local: u64,
    fingerprint: u64,
}

impl<A: Actor> Serialize for ActorRef<A> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let id = self.id();
        WireRef {
            node: id.node().as_u64(),
            local: id.local(),
            fingerprint: <A::Msg as Message>::FINGERPRINT,
        }
        .serialize(serializer)
    }
}

/// Decodes a ref inside a message or a reply received by a node. The ref is local again if
/// it names an actor of the decoding node, remote otherwise (a node not connected yet gets
/// a peer entry that works once it connects). A fingerprint other than `A`'s is an error:
/// the ref was made for another type of actor.
impl<'de, A: Actor> Deserialize<'de> for ActorRef<A> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireRef::deserialize(deserializer)?;
        let expected = <A::Msg as Message>::FINGERPRINT;
        if wire.fingerprint != expected {
            return Err(D::Error::custom(format!(
                "the ref is to an actor with protocol fingerprint {:#018x}, not a `{}` ({expected:#018x})",
                wire.fingerprint,
                A::NAME
            )));
        }
        let id = ActorId::new(NodeId::from_u64(wire.node), wire.local);
        let node = DECODING.with(|current| current.borrow().clone()).ok_or_else(|| {
            D::Error::custom("an ActorRef can only be decoded by a node, from a message it receives")
        })?;
        if id.node() == node.id() {
            return Ok(node.local_ref::<A>(id));
        }
        let peer = node
            .peer(id.node())
            .ok_or_else(|| D::Error::custom("a ref to a remote actor reached a node without networking"))?;
        Ok(ActorRef::remote(id, peer))
    }
}
