//! The bodies of the frames that flow once a connection is established. No I/O.
//!
//! ```text
//! Message: target u64 | fingerprint u64 | tag u32 | call u64 | arguments (actor's codec)
//! TracedMessage: W3C trace context (26 bytes, crate::trace) | a Message body
//! Reply:   call u64 | status u8 | payload
//! Signal:  a [`Control`], encoded with bincode
//! ```
//!
//! Integers are big-endian. A `call` of 0 is a tell; any other value is an ask that the
//! callee answers with a Reply frame carrying the same number. The fixed headers are written
//! by hand rather than through serde: they are read for every message, and a wrong length is
//! a malformed frame that closes the connection, while a body that does not decode only
//! costs its own message.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::actor::CallError;
use crate::actor::{ActorId, ExitReason, MessageHead, MonitorRef, NodeId};
use crate::codec::{Bincode, Codec, CodecError};

/// Bytes of a Message frame's header.
pub(crate) const MESSAGE_HEADER_LEN: usize = 8 + 8 + 4 + 8;
/// Bytes of a Reply frame's header.
pub(crate) const REPLY_HEADER_LEN: usize = 8 + 1;

/// The header of a Message frame: the actor layer's [`MessageHead`], as it is written.
pub(crate) type MessageHeader = MessageHead;

/// Writes and reads a Message frame's header.
pub(crate) trait MessageHeaderWire: Sized {
    /// Appends the header.
    fn write(&self, out: &mut Vec<u8>);

    /// Splits a Message body into its header and the encoded arguments; `None` if the body is
    /// shorter than a header.
    fn read(body: &[u8]) -> Option<(Self, &[u8])>;
}

impl MessageHeaderWire for MessageHead {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.target.to_be_bytes());
        out.extend_from_slice(&self.fingerprint.to_be_bytes());
        out.extend_from_slice(&self.tag.to_be_bytes());
        out.extend_from_slice(&self.call.to_be_bytes());
    }

    fn read(body: &[u8]) -> Option<(MessageHead, &[u8])> {
        let (head, rest) = body.split_at_checked(MESSAGE_HEADER_LEN)?;
        let header = MessageHead {
            target: u64::from_be_bytes(head[0..8].try_into().ok()?),
            fingerprint: u64::from_be_bytes(head[8..16].try_into().ok()?),
            tag: u32::from_be_bytes(head[16..20].try_into().ok()?),
            call: u64::from_be_bytes(head[20..28].try_into().ok()?),
            trace: None,
        };
        Some((header, rest))
    }
}

/// How a call ended on the callee's side, the status byte of a Reply frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyStatus {
    /// The payload is the encoded reply.
    Ok,
    /// The actor stopped (or never existed) before it handled the call.
    Stopped,
    /// The actor panicked while handling the call.
    Failed,
    /// Fingerprint or tag unknown to the callee; the payload is a UTF-8 explanation.
    Mismatch,
    /// The callee could not decode the arguments; the payload is a UTF-8 explanation.
    BadRequest,
    /// The callee could not encode the reply; the payload is a UTF-8 explanation.
    BadReply,
    /// The reply exceeded the frame cap; the payload is its size and the cap, u64 each.
    TooLarge,
}

impl ReplyStatus {
    fn byte(&self) -> u8 {
        match self {
            ReplyStatus::Ok => 0,
            ReplyStatus::Stopped => 1,
            ReplyStatus::Failed => 2,
            ReplyStatus::Mismatch => 3,
            ReplyStatus::BadRequest => 4,
            ReplyStatus::BadReply => 5,
            ReplyStatus::TooLarge => 6,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => ReplyStatus::Ok,
            1 => ReplyStatus::Stopped,
            2 => ReplyStatus::Failed,
            3 => ReplyStatus::Mismatch,
            4 => ReplyStatus::BadRequest,
            5 => ReplyStatus::BadReply,
            6 => ReplyStatus::TooLarge,
            _ => return None,
        })
    }
}

/// Writes a Reply header.
pub(crate) fn write_reply_header(call: u64, status: &ReplyStatus, out: &mut Vec<u8>) {
    out.extend_from_slice(&call.to_be_bytes());
    out.push(status.byte());
}

/// Splits a Reply body into call number, status and payload; `None` if malformed.
pub(crate) fn read_reply(body: &[u8]) -> Option<(u64, ReplyStatus, &[u8])> {
    let (head, rest) = body.split_at_checked(REPLY_HEADER_LEN)?;
    let call = u64::from_be_bytes(head[0..8].try_into().ok()?);
    let status = ReplyStatus::from_byte(head[8])?;
    Some((call, status, rest))
}

/// The error a caller sees for a Reply with a status other than `Ok`.
pub(crate) fn reply_error(actor: ActorId, status: &ReplyStatus, payload: &[u8]) -> CallError {
    let text = || String::from_utf8_lossy(payload).into_owned();
    match status {
        // Not reached: `Ok` carries a value.
        ReplyStatus::Ok | ReplyStatus::Stopped => CallError::ActorStopped { actor },
        ReplyStatus::Failed => CallError::ActorFailed { actor },
        ReplyStatus::Mismatch => CallError::ProtocolMismatch {
            actor,
            detail: text(),
        },
        ReplyStatus::BadRequest => CallError::Decode(CodecError::Decode(text())),
        ReplyStatus::BadReply => CallError::Encode(CodecError::Encode(text())),
        ReplyStatus::TooLarge => {
            let size = payload
                .get(0..8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes);
            let limit = payload
                .get(8..16)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes);
            CallError::PayloadTooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            }
        }
    }
}

/// The longest chain of `Linked` (and `MaxRestartsExceeded`) exit reasons a peer may send.
/// A deeper one is malformed: nesting is the one way a small frame could make decoding (or
/// dropping) recurse deeply.
pub(crate) const MAX_REASON_DEPTH: usize = 32;

/// An [`ExitReason`] as it crosses the wire: the chain of reasons that wrap another (a linked
/// actor's exit, a supervisor that gave up), then the reason at the end of it. Flat, so that
/// decoding never recurses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireReason {
    chain: Vec<Hop>,
    leaf: Leaf,
}

/// A reason that wraps the next one in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Hop {
    Linked(ActorId),
    MaxRestartsExceeded {
        child: String,
        max_restarts: u32,
        within: std::time::Duration,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Leaf {
    Normal,
    Shutdown,
    Killed,
    Panicked(String),
    StartFailed(String),
    Error(String),
    NoProc,
    NodeDown,
}

impl From<&ExitReason> for WireReason {
    fn from(reason: &ExitReason) -> Self {
        let mut chain = Vec::new();
        let mut current = reason;
        loop {
            match current {
                ExitReason::Linked { from, reason } => {
                    chain.push(Hop::Linked(*from));
                    current = reason;
                }
                ExitReason::MaxRestartsExceeded {
                    child,
                    reason,
                    max_restarts,
                    within,
                } => {
                    chain.push(Hop::MaxRestartsExceeded {
                        child: child.clone(),
                        max_restarts: *max_restarts,
                        within: *within,
                    });
                    current = reason;
                }
                _ => break,
            }
        }
        let leaf = match current {
            ExitReason::Normal => Leaf::Normal,
            ExitReason::Shutdown => Leaf::Shutdown,
            ExitReason::Killed => Leaf::Killed,
            ExitReason::Panicked(text) => Leaf::Panicked(text.clone()),
            ExitReason::StartFailed(text) => Leaf::StartFailed(text.clone()),
            ExitReason::Error(text) => Leaf::Error(text.clone()),
            ExitReason::NodeDown => Leaf::NodeDown,
            ExitReason::NoProc | ExitReason::Linked { .. } | ExitReason::MaxRestartsExceeded { .. } => {
                Leaf::NoProc
            }
        };
        chain.truncate(MAX_REASON_DEPTH);
        WireReason { chain, leaf }
    }
}

impl WireReason {
    /// Rebuilds the reason; `None` if the chain is longer than [`MAX_REASON_DEPTH`].
    pub(crate) fn into_reason(self) -> Option<ExitReason> {
        if self.chain.len() > MAX_REASON_DEPTH {
            return None;
        }
        let mut reason = match self.leaf {
            Leaf::Normal => ExitReason::Normal,
            Leaf::Shutdown => ExitReason::Shutdown,
            Leaf::Killed => ExitReason::Killed,
            Leaf::Panicked(text) => ExitReason::Panicked(text),
            Leaf::StartFailed(text) => ExitReason::StartFailed(text),
            Leaf::Error(text) => ExitReason::Error(text),
            Leaf::NoProc => ExitReason::NoProc,
            Leaf::NodeDown => ExitReason::NodeDown,
        };
        for hop in self.chain.into_iter().rev() {
            let inner = Box::new(reason);
            reason = match hop {
                Hop::Linked(from) => ExitReason::Linked { from, reason: inner },
                Hop::MaxRestartsExceeded {
                    child,
                    max_restarts,
                    within,
                } => ExitReason::MaxRestartsExceeded {
                    child,
                    reason: inner,
                    max_restarts,
                    within,
                },
            };
        }
        Some(reason)
    }
}

/// A node another node knows, as told to a peer so that the cluster becomes a full mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KnownNode {
    pub(crate) id: NodeId,
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
}

/// What a remote actor is, as answered to a lookup by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FoundActor {
    pub(crate) id: ActorId,
    pub(crate) fingerprint: u64,
    pub(crate) type_name: String,
}

/// The body of a Signal frame: everything but messages and replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Control {
    /// First frame after the handshake, both ways: where the sender listens and which other
    /// nodes it is connected to.
    Introduce {
        listen: Option<SocketAddr>,
        known: Vec<KnownNode>,
    },
    /// Link `to` (on the receiving node) with `from`.
    Link { from: ActorId, to: ActorId },
    /// Remove the link between `to` (on the receiving node) and `from`.
    Unlink { from: ActorId, to: ActorId },
    /// The linked actor `from` exited; deliver to `to` (on the receiving node).
    Exit {
        from: ActorId,
        to: ActorId,
        reason: WireReason,
    },
    /// The sender monitors `target` (on the receiving node).
    Monitor { monitor: MonitorRef, target: ActorId },
    /// The sender no longer monitors `target`.
    Demonitor { monitor: MonitorRef, target: ActorId },
    /// A monitored actor stopped.
    Down {
        monitor: MonitorRef,
        actor: ActorId,
        reason: WireReason,
    },
    /// Stop `target` as `ActorRef::stop` does.
    Stop { target: ActorId, reason: WireReason },
    /// Kill `target`.
    Kill { target: ActorId },
    /// Which actor holds `name` among the receiving node's own names?
    Whereis { request: u64, name: String },
    /// The answer to a `Whereis`.
    WhereisReply { request: u64, found: Option<FoundActor> },
    /// The sender is closing the connection on purpose (its node is shutting down).
    Goodbye,
    /// The sender stops writing on this connection because another connection between the
    /// same two nodes carries the traffic from now on; it still reads this one to its end.
    Superseded,
    /// The sender stops writing on this connection because it has been idle: what it sends
    /// next goes on a new connection. The receiver stops writing on it too, and both read
    /// it to its end, so nothing sent before is lost.
    Idle,
}

/// Control frames are small; a larger claim inside one is malformed.
const CONTROL_LIMIT: usize = 64 * 1024;

impl Control {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        Bincode::<CONTROL_LIMIT>.encode(self, out)
    }

    pub(crate) fn decode(body: &[u8]) -> Result<Control, CodecError> {
        Bincode::<CONTROL_LIMIT>.decode(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> ActorId {
        ActorId::new(NodeId::from_u64(7), n)
    }

    #[test]
    fn message_header_round_trips_and_rejects_short_bodies() {
        let header = MessageHeader {
            target: 42,
            fingerprint: 0xdead_beef_0000_0001,
            tag: 0x8000_0003,
            call: 9,
            trace: None,
        };
        let mut out = Vec::new();
        header.write(&mut out);
        out.extend_from_slice(b"args");
        assert_eq!(MessageHeader::read(&out), Some((header, &b"args"[..])));
        assert_eq!(MessageHeader::read(&out[..MESSAGE_HEADER_LEN - 1]), None);
    }

    #[test]
    fn reply_round_trips_and_rejects_unknown_status() {
        let mut out = Vec::new();
        write_reply_header(5, &ReplyStatus::Mismatch, &mut out);
        out.extend_from_slice(b"why");
        assert_eq!(read_reply(&out), Some((5, ReplyStatus::Mismatch, &b"why"[..])));
        out[8] = 99;
        assert_eq!(read_reply(&out), None);
        assert_eq!(read_reply(&[1, 2, 3]), None);
    }

    #[test]
    fn reply_errors_are_typed() {
        let actor = id(1);
        assert_eq!(
            reply_error(actor, &ReplyStatus::Failed, &[]),
            CallError::ActorFailed { actor }
        );
        let mut sizes = Vec::new();
        sizes.extend_from_slice(&10u64.to_be_bytes());
        sizes.extend_from_slice(&4u64.to_be_bytes());
        assert_eq!(
            reply_error(actor, &ReplyStatus::TooLarge, &sizes),
            CallError::PayloadTooLarge { size: 10, limit: 4 }
        );
        assert!(matches!(
            reply_error(actor, &ReplyStatus::Mismatch, b"tag"),
            CallError::ProtocolMismatch { detail, .. } if detail == "tag"
        ));
    }

    #[test]
    fn nested_reasons_round_trip_flat() {
        let reason = ExitReason::Linked {
            from: id(1),
            reason: Box::new(ExitReason::MaxRestartsExceeded {
                child: "worker".into(),
                reason: Box::new(ExitReason::Linked {
                    from: id(2),
                    reason: Box::new(ExitReason::Panicked("boom".into())),
                }),
                max_restarts: 3,
                within: std::time::Duration::from_secs(5),
            }),
        };
        let wire = WireReason::from(&reason);
        assert_eq!(wire.chain.len(), 3);
        assert_eq!(wire.into_reason(), Some(reason));
    }

    #[test]
    fn overly_deep_reasons_are_refused() {
        let wire = WireReason {
            chain: vec![Hop::Linked(id(1)); MAX_REASON_DEPTH + 1],
            leaf: Leaf::Killed,
        };
        assert_eq!(wire.into_reason(), None);
    }

    #[test]
    fn control_round_trips_and_garbage_is_an_error() {
        let control = Control::Exit {
            from: id(1),
            to: id(2),
            reason: WireReason::from(&ExitReason::NodeDown),
        };
        let mut out = Vec::new();
        control.encode(&mut out).unwrap_or_default();
        assert_eq!(Control::decode(&out), Ok(control));
        assert!(Control::decode(&[0xff; 40]).is_err());
        assert!(Control::decode(&[]).is_err());
    }

    proptest::proptest! {
        /// Whatever a peer sends, the decoders of the frame bodies return a value or an error,
        /// never a panic, and a decoded control frame re-encodes to a frame that decodes the
        /// same.
        #[test]
        fn decoders_never_panic_on_arbitrary_bodies(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = MessageHeader::read(&bytes);
            if let Some((call, status, payload)) = read_reply(&bytes) {
                let _ = reply_error(id(call), &status, payload);
            }
            if let Ok(control) = Control::decode(&bytes) {
                let mut again = Vec::new();
                proptest::prop_assert!(control.encode(&mut again).is_ok());
                proptest::prop_assert_eq!(Control::decode(&again), Ok(control.clone()));
                if let Control::Exit { reason, .. } | Control::Down { reason, .. } | Control::Stop { reason, .. } = control {
                    let _ = reason.into_reason();
                }
            }
        }
    }
}
