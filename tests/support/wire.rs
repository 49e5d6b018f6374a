//! The node protocol's control frames as an outsider writes them: mirrored variant for
//! variant from the wire format (bincode is positional, so the order of the variants and
//! fields is the format), for hostile tests that send what no honest node would.

use std::net::SocketAddr;

use distribute::codec::{Bincode, Codec};
use distribute::prelude::*;
use serde::Serialize;

/// A control frame (`FrameKind::Signal`), as far as these tests send them.
#[derive(Serialize)]
pub enum Control {
    /// Where the sender listens and whom it knows.
    Introduce {
        /// The sender's listen address.
        listen: Option<SocketAddr>,
        /// Nodes the receiver should connect to.
        known: Vec<Known>,
    },
    /// `from` (the sender's actor) links to `to`.
    Link { from: WireId, to: WireId },
    /// `from` removes its link to `to`.
    Unlink { from: WireId, to: WireId },
    /// `from` exited with `reason`, and `to` is linked to it.
    Exit {
        from: WireId,
        to: WireId,
        reason: WireReason,
    },
    /// The sender monitors `target` under `monitor`.
    Monitor { monitor: u64, target: WireId },
    /// The sender removes its monitor `monitor` of `target`.
    Demonitor { monitor: u64, target: WireId },
    /// A monitored actor went down.
    Down {
        monitor: u64,
        actor: WireId,
        reason: WireReason,
    },
    /// Stop `target` with `reason`.
    Stop { target: WireId, reason: WireReason },
    /// Kill `target`.
    Kill { target: WireId },
    /// Look `name` up in the receiver's node-local names.
    Whereis { request: u64, name: String },
}

/// The variant index (a control frame's first byte) of a DOWN.
pub const DOWN: u8 = 6;
/// The variant index of the answer to a `Whereis`.
pub const WHEREIS_REPLY: u8 = 10;

/// An actor id on the wire.
#[derive(Serialize, Clone, Copy)]
pub struct WireId {
    /// The id of the actor's node.
    pub node: u64,
    /// The actor's number on its node.
    pub local: u64,
}

impl WireId {
    /// The wire form of `id`.
    pub fn of(id: ActorId) -> Self {
        WireId {
            node: id.node().as_u64(),
            local: id.local(),
        }
    }
}

/// An exit reason on the wire: the chain of reasons that wrap another, then the reason.
#[derive(Serialize)]
pub struct WireReason {
    /// The reasons that wrap the leaf, outermost first.
    pub chain: Vec<Hop>,
    /// The reason itself.
    pub leaf: Leaf,
}

/// The first reason that wraps another in the wire's list.
#[derive(Serialize)]
pub enum Hop {
    /// The exit of a linked actor.
    Linked(WireId),
}

/// The first reasons of the wire's list, in its order.
#[derive(Serialize)]
pub enum Leaf {
    /// A normal exit.
    Normal,
    /// A shutdown.
    Shutdown,
    /// A kill.
    Killed,
}

/// A node named in an introduction.
#[derive(Serialize)]
pub struct Known {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// The body of a control frame.
pub fn encode_control(control: &Control) -> Vec<u8> {
    let mut body = Vec::new();
    Bincode::<{ 1 << 20 }>
        .encode(control, &mut body)
        .expect("encode control");
    body
}
