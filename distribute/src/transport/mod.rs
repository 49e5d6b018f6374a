//! The I/O-free foundations of node-to-node networking: framing, the handshake and the
//! session that authenticates every byte after it.
//!
//! A connection between two nodes is a byte stream cut into [frames](frame): a big-endian
//! `u32` length (counting what follows it), a kind byte and a body, every frame capped at
//! [`DEFAULT_MAX_FRAME`] (4 MiB) unless configured. The first frames in each direction are
//! [handshake] messages, which authenticate both nodes with the cluster's shared
//! cookie, negotiate version and capabilities and derive a key per direction; from then on
//! every byte travels in sealed [records](session), which carry the actor messages.
//!
//! ```text
//!  node a                                                node b
//!    | --- [len][Handshake] Hello { a, nonce Na } ---------> |
//!    | <-- [len][Handshake] Hello { b, nonce Nb } ---------- |
//!    | --- [len][Handshake] Proof { HMAC(cookie, ...) } ---> |  b: a is authenticated
//!    | <-- [len][Handshake] Proof { HMAC(cookie, ...) } ---- |  a: b is authenticated
//!    | <=== [len][Sealed] ( [len][Message|Reply|Signal|Heartbeat|...] ... ) tag ===> |
//! ```
//!
//! No module here touches a socket, a clock or a runtime. [`FrameDecoder`] takes bytes as they
//! arrive and yields whole frames; [`Handshake`] takes one message and says what to send or
//! who the peer is, with the nonce supplied by the caller; [`Sealer`] and [`SessionDecoder`]
//! turn bytes into records and records back into frames. Every rule (caps, strict decoding,
//! wrong cookies, replays, reflections, garbage) is thus tested deterministically in unit
//! tests, and the async connection layer built on them only moves bytes and keeps time.
//!
//! All treat the peer as hostile: no input panics, a claimed length never causes a matching
//! allocation, and any error is final for the connection, which must then be closed with the
//! error as its logged reason.

pub mod frame;
pub mod handshake;
pub mod session;

pub use frame::{encode_frame, Frame, FrameDecoder, FrameError, FrameKind, DEFAULT_MAX_FRAME};
pub use handshake::{fresh_nonce, Handshake, HandshakeConfig, HandshakeError, Peer, Step};
pub use session::{Opener, Sealer, SessionDecoder, SessionError, SessionKeys, MAX_RECORD_PAYLOAD};
