//! [`PeerSlot`] as the actor layer sees another node ([`RemotePeer`]), and the answer to a
//! message that could not be delivered here.

use std::sync::atomic::Ordering;

use super::peer::PeerSlot;
use super::wire::{Control, MessageHeader, ReplyStatus, WireReason};
use crate::actor::CallError;
use crate::actor::{
    ActorId, BoxFuture, CallEnd, EncodeBody, ErasedReply, ExitReason, MessageHead, MonitorRef, NodeId,
    OwnedBody, RemotePeer, SendRefused, Undelivered, Watcher,
};

impl RemotePeer for PeerSlot {
    fn node(&self) -> NodeId {
        self.id
    }

    fn is_up(&self) -> bool {
        PeerSlot::is_up(self)
    }

    fn call_error(&self, actor: &'static str, kind: &'static str) {
        if let Some(node) = PeerSlot::node(self) {
            node.meters().call_error(actor, kind);
        }
    }

    fn is_known_stopped(&self, actor: u64) -> bool {
        PeerSlot::is_known_stopped(self, actor)
    }

    fn try_send(&self, head: &MessageHead, body: &mut EncodeBody<'_>) -> Result<(), SendRefused> {
        match self.push_message(head, body) {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendRefused::Full),
            Err(error) => Err(SendRefused::Failed(error)),
        }
    }

    fn send(&self, head: MessageHead, body: OwnedBody) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(self.push_message_waiting(head, body))
    }

    fn register_call(&self, actor: ActorId, reply: ErasedReply) -> u64 {
        PeerSlot::register_call(self, actor, reply)
    }

    fn forget_call(&self, call: u64) {
        PeerSlot::forget_call(self, call);
    }

    fn reply(&self, call: u64, end: CallEnd, payload: &mut EncodeBody<'_>) {
        let status = match end {
            CallEnd::Replied => ReplyStatus::Ok,
            CallEnd::Stopped => ReplyStatus::Stopped,
            CallEnd::Failed => ReplyStatus::Failed,
        };
        self.send_reply(call, status, |out| payload(out));
    }

    fn link(&self, local: ActorId, remote: ActorId) {
        if local.node() != self.id {
            // Remembered so that a lost connection reaches the local end as an exit.
            self.remember_link(local, remote);
        }
        self.send_control(&Control::Link {
            from: local,
            to: remote,
        });
    }

    fn unlink(&self, local: ActorId, remote: ActorId) {
        let _ = self.forget_link(local, remote);
        self.send_control(&Control::Unlink {
            from: local,
            to: remote,
        });
    }

    fn exit(&self, from: ActorId, to: ActorId, reason: &ExitReason) {
        let _ = self.forget_link(from, to);
        self.send_control(&Control::Exit {
            from,
            to,
            reason: WireReason::from(reason),
        });
    }

    fn monitor(&self, target: ActorId, watcher: Watcher) {
        PeerSlot::monitor(self, target, watcher);
    }

    fn demonitor(&self, target: ActorId, monitor: MonitorRef) {
        PeerSlot::demonitor(self, target, monitor);
    }

    fn down(&self, monitor: MonitorRef, actor: ActorId, reason: &ExitReason) {
        let _ = self.forget_watch(monitor);
        self.send_control(&Control::Down {
            monitor,
            actor,
            reason: WireReason::from(reason),
        });
    }

    fn stop(&self, target: ActorId, reason: &ExitReason) {
        self.send_control(&Control::Stop {
            target,
            reason: WireReason::from(reason),
        });
    }

    fn kill(&self, target: ActorId) {
        self.send_control(&Control::Kill { target });
    }
}

/// Counts a message that could not be delivered and answers its caller, if any.
pub(crate) fn reject(peer: &PeerSlot, header: &MessageHeader, why: Undelivered) {
    let stats = &peer.stats;
    let (status, detail) = match why {
        Undelivered::Mismatch(detail) => {
            stats.mismatched.fetch_add(1, Ordering::Relaxed);
            crate::trace::trace_event!(warn, peer = %peer.id, target = header.target, %detail, "message rejected");
            (ReplyStatus::Mismatch, detail)
        }
        Undelivered::Decode(error) => {
            stats.undecodable.fetch_add(1, Ordering::Relaxed);
            crate::trace::trace_event!(warn, peer = %peer.id, target = header.target, %error, "undecodable message dropped");
            (ReplyStatus::BadRequest, error.to_string())
        }
        Undelivered::Stopped => {
            stats.dead_letters.fetch_add(1, Ordering::Relaxed);
            crate::trace::trace_event!(debug, peer = %peer.id, target = header.target, "message for a stopped actor dropped");
            (ReplyStatus::Stopped, String::new())
        }
    };
    if let Some(meters) = peer.meters() {
        meters.rejected.increment(1);
    }
    if header.call != 0 {
        peer.send_reply(header.call, status, |out| {
            out.extend_from_slice(detail.as_bytes());
            Ok(())
        });
    }
}
