//! Remote refs: sending to an actor on another node, delivering what other nodes send to
//! ours, and refs that travel inside messages.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::peer::PeerSlot;
use tokio::sync::oneshot;

use super::wire::{MessageHeader, ReplyStatus};
use crate::actor::{
    Actor, ActorId, ActorRef, Cell, Message, NoReply, NodeId, RemoteTarget, ReplySlot, ReplyTo,
};
use crate::codec::CodecError;
use crate::error::CallError;
use crate::node::Node;

pub(crate) async fn tell<A: Actor>(target: &RemoteTarget, msg: A::Msg) -> Result<(), CallError> {
    target.peer.send_message::<A>(target.id, msg, 0).await
}

pub(crate) fn try_tell<A: Actor>(target: &RemoteTarget, msg: &A::Msg) -> Result<(), CallError> {
    target.peer.try_send_message::<A>(target.id, msg)
}

/// A call to a remote actor: the message goes out with a call number; the caller's end of
/// the reply channel, its type erased, waits in the peer's table of pending calls, where the
/// connection completes it with the decoded reply or the error that ended the call (the loss
/// of the peer fails it at once with `NodeDown`).
pub(crate) async fn ask<A, R, F>(target: &RemoteTarget, make: F, timeout: Duration) -> Result<R, CallError>
where
    A: Actor,
    R: Send + 'static,
    F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
{
    let actor = target.id;
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
    let forget = ForgetCall { peer, call };
    let exchange = async {
        peer.send_message::<A>(actor, msg, call).await?;
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(NoReply::Error(error))) => Err(error),
            Ok(Err(NoReply::Failed)) => Err(CallError::ActorFailed { actor }),
            Ok(Err(NoReply::Stopped)) | Err(_) => Err(CallError::ActorStopped { actor }),
        }
    };
    let outcome = match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout { actor, timeout }),
    };
    drop(forget);
    outcome
}

/// Removes a call from the peer's table when the caller stops waiting (reply, timeout or a
/// dropped future), so that late replies find nothing and the table does not grow.
struct ForgetCall<'a> {
    peer: &'a PeerSlot,
    call: u64,
}

impl Drop for ForgetCall<'_> {
    fn drop(&mut self) {
        self.peer.forget_call(self.call);
    }
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
/// peer through TCP while keeping the order of messages.
pub(crate) fn deliver<A: Actor>(
    cell: Arc<Cell<A>>,
    node: &Node,
    header: &MessageHeader,
    body: &[u8],
    peer: &Arc<PeerSlot>,
) -> Result<Option<Pending>, Undelivered> {
    let expected = <A::Msg as Message>::FINGERPRINT;
    if header.fingerprint != expected {
        return Err(Undelivered::Mismatch(format!(
            "actor {} is a `{}` with protocol fingerprint {expected:#018x}, the message was encoded for {:#018x}",
            cell.core.id,
            A::NAME,
            header.fingerprint
        )));
    }
    let slot = if header.call == 0 {
        ReplySlot::none()
    } else {
        ReplySlot::remote(Arc::clone(peer), header.call)
    };
    let decoded = {
        let _scope = DecodeScope::enter(Some(node));
        A::Msg::decode_body(&A::Codec::default(), header.tag, body, slot)
    };
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
    match cell.try_send(msg) {
        Ok(()) => Ok(None),
        Err(crate::actor::TrySendError::Full(msg)) => Ok(Some(Box::pin(async move {
            // A closed mailbox drops the message, whose reply channel answers `Stopped`.
            let _ = cell.send(msg).await;
        }))),
        Err(crate::actor::TrySendError::Closed(_)) => Err(Undelivered::Stopped),
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
            .net()
            .ok_or_else(|| D::Error::custom("a ref to a remote actor reached a node without networking"))?
            .slot(id.node());
        Ok(ActorRef::remote(id, peer))
    }
}

/// Counts a message that could not be delivered and answers its caller, if any.
pub(crate) fn reject(peer: &PeerSlot, header: &MessageHeader, why: Undelivered) {
    let stats = &peer.stats;
    let (status, detail) = match why {
        Undelivered::Mismatch(detail) => {
            stats.mismatched.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer.id, target = header.target, %detail, "message rejected");
            (ReplyStatus::Mismatch, detail)
        }
        Undelivered::Decode(error) => {
            stats.undecodable.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer.id, target = header.target, %error, "undecodable message dropped");
            (ReplyStatus::BadRequest, error.to_string())
        }
        Undelivered::Stopped => {
            stats.dead_letters.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(peer = %peer.id, target = header.target, "message for a stopped actor dropped");
            (ReplyStatus::Stopped, String::new())
        }
    };
    metrics::counter!("distribute_messages_rejected_total").increment(1);
    if header.call != 0 {
        peer.send_reply(header.call, status, |out| {
            out.extend_from_slice(detail.as_bytes());
            Ok(())
        });
    }
}
