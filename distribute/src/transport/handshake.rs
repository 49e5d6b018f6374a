//! The handshake that opens every connection: identification, then mutual proof of the cookie.
//!
//! Both nodes run the same [`Handshake`] state machine; neither is client or server.
//!
//! ```text
//!  node a (nonce Na)                                    node b (nonce Nb)
//!    | --- Hello { DSTR, v2, "a", inc_a, caps_a, Na } --> |
//!    | <-- Hello { DSTR, v2, "b", inc_b, caps_b, Nb } --- |   (sent at once, in any order)
//!    |                                                    |
//!    | --- Proof { mac(prover a, verifier b) } ---------> |   b verifies: Established(a)
//!    | <-- Proof { mac(prover b, verifier a) } ---------- |   a verifies: Established(b)
//! ```
//!
//! # Messages
//!
//! Each message is the body of one [`FrameKind::Handshake`](super::frame::FrameKind) frame and
//! starts with a type byte. Integers are big-endian.
//!
//! ```text
//! Hello: 0x01 | magic "DSTR" [4] | version u16 | name length u16 | name | incarnation u64
//!        | capabilities u64 | nonce [32]
//! Proof: 0x02 | mac [32]
//! ```
//!
//! Decoding is strict: a truncated message, bytes after its end, a name length above 255 or an
//! unknown type byte is [`HandshakeError::Malformed`]. The magic and the version are checked
//! before anything after them is parsed, so a peer speaking a later version (whose Hello may
//! be laid out differently past its version field) is reported as
//! [`HandshakeError::VersionMismatch`], not as malformed. The type, magic and version fields
//! keep their place in every future version for that reason.
//!
//! # The proof
//!
//! The cookie never crosses the wire. A node proves that it holds the cookie by sending
//!
//! ```text
//! key = SHA-256("distribute-cookie-v1" || cookie)
//! mac(prover P, verifier V) = HMAC-SHA256(key,
//!     "distribute-handshake-v1"
//!     || V.nonce || P.nonce                                   (32 bytes each)
//!     || len(V.name) || V.name || len(P.name) || P.name      (u16 BE length prefixes)
//!     || V.incarnation || P.incarnation || V.capabilities || P.capabilities   (u64 BE)
//!     || direction)                      (1 byte: 0x01 if P.nonce > V.nonce, else 0x02)
//! ```
//!
//! where `V` is the Hello of the node that will check the proof and `P` the prover's own Hello.
//! The verifier computes the same value from its side (with its own Hello as `V`) and compares
//! in constant time. Why this resists the usual attacks:
//!
//! - **Replay.** Each proof covers the verifier's nonce, 32 fresh random bytes per handshake,
//!   so a proof recorded from one handshake is worthless in any other.
//! - **Reflection.** The inputs are ordered by role (verifier first, prover second) and end in
//!   a direction byte, so the proof a node sends is never the proof it expects back: the two
//!   coincide only if both Hellos carry the same nonce and name. A node therefore refuses a
//!   Hello that repeats its own nonce or its own name ([`HandshakeError::Reflected`]). The name
//!   rule also stops the parallel-session variant, where an attacker opens a second handshake
//!   with the same node to have it compute the proof the first handshake expects: every proof a
//!   node computes names itself as the prover, and it never accepts itself as the peer.
//! - **Tampering.** Both Hellos are covered field by field, including incarnations and
//!   capabilities, so a man in the middle that alters either (to downgrade capabilities, say)
//!   makes both proofs fail. Length prefixes and fixed sizes keep the encoding unambiguous.
//! - **Domain separation.** The label names the protocol and version, so these MACs can never
//!   be confused with other uses of the cookie.
//! - **Exact cookies.** The HMAC key is a hash of the cookie rather than the cookie itself:
//!   HMAC pads short keys with zeros and hashes long ones, which would make `"k"` and `"k\0"`,
//!   or a long cookie and its SHA-256, interchangeable. Hashing first makes only the very same
//!   cookie match.
//!
//! # What follows: the session
//!
//! A proof authenticates the two nodes at the moment of the handshake; on its own it would
//! say nothing about the bytes that follow, and a party relaying a whole handshake between
//! two real nodes would be left holding two authenticated sockets. So the handshake also
//! yields [`SessionKeys`] with [`Step::Established`]: one key per direction, derived with
//! HKDF-SHA256 from the same hashed cookie key and both Hellos (both nonces, names, node
//! ids and capabilities). From then on every byte in each direction travels in sealed
//! records, each carrying an HMAC-SHA-256-128 tag over an implicit sequence number and its
//! payload (see [`super::session`]). A relaying party can still pass records along (a pipe
//! between two real nodes), but whatever it adds, alters, drops, replays, reorders or
//! reflects fails, and the connection closes with the typed reason. The records are
//! authenticated, not encrypted: on a network where the traffic itself is secret, run the
//! transport over TLS.
//!
//! # Why the state machine does no I/O
//!
//! [`Handshake`] takes bytes and returns bytes to send or the outcome; the nonce is an input.
//! Every path (wrong cookie, replay, reflection, truncation, random bytes) is therefore tested
//! deterministically, without sockets, clocks or runtimes, and the async connection layer that
//! drives it stays a thin loop that owns timeouts and framing.

use std::fmt;
use std::io;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::session::SessionKeys;

type HmacSha256 = Hmac<Sha256>;

/// The four bytes every Hello starts with (after its type byte).
pub const MAGIC: [u8; 4] = *b"DSTR";

/// The handshake and wire protocol version this build speaks.
///
/// Version 2 sealed every byte after the handshake ([`super::session`]) with HMAC-SHA-256
/// tags; version 3 seals with AES-256-GCM, under keys derived with new labels; version 4
/// sends a claimant its commit last, as its answer, and has no witnesses' `Applied` frame;
/// version 5 has the claimant not acknowledge that commit (a sequencer of version 4 would
/// wait for it).
/// A node of an earlier version, which would send plain frames (1), records this one cannot
/// open (2) or registry frames it does not expect (3), is refused during the handshake with
/// [`HandshakeError::VersionMismatch`] rather than dropped for its first frame.
pub const PROTOCOL_VERSION: u16 = 5;

/// The longest node name, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// Length of a handshake nonce, in bytes.
pub const NONCE_LEN: usize = 32;

/// The longest valid handshake message (a Hello with a 255-byte name). A connection can
/// decode frames with a cap of `MAX_MESSAGE_LEN + 1` until the handshake is done.
pub const MAX_MESSAGE_LEN: usize = HELLO_FIXED_LEN + MAX_NAME_LEN;

const DOMAIN: &[u8] = b"distribute-handshake-v1";
const COOKIE_DOMAIN: &[u8] = b"distribute-cookie-v1";
const TYPE_HELLO: u8 = 0x01;
const TYPE_PROOF: u8 = 0x02;
const MAC_LEN: usize = 32;
/// Type, magic, version, name length, incarnation, capabilities, nonce.
const HELLO_FIXED_LEN: usize = 1 + 4 + 2 + 2 + 8 + 8 + NONCE_LEN;
const PROOF_LEN: usize = 1 + MAC_LEN;
const PROVER_NONCE_HIGHER: u8 = 0x01;
const PROVER_NONCE_LOWER: u8 = 0x02;

/// Returns 32 bytes from the operating system's CSPRNG, for [`Handshake::new`].
///
/// Asks the system's secure random source through the `getrandom` crate: a system call
/// (`getrandom(2)` on Linux) rather than a file to open, so it works outside Unix and a
/// process out of file descriptors can still handshake. Use a fresh nonce for every
/// handshake: replay protection rests on it.
///
/// # Errors
///
/// The OS error if the system's random source fails, or an error saying why it is
/// unavailable on this platform.
pub fn fresh_nonce() -> Result<[u8; NONCE_LEN], io::Error> {
    let mut nonce = [0; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(random_error)?;
    Ok(nonce)
}

/// getrandom's own conversion to `io::Error` needs its `std` feature; this is the same
/// mapping: the OS error code when there is one, else getrandom's description.
fn random_error(error: getrandom::Error) -> io::Error {
    match error.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::other(error),
    }
}

/// Whether `name` is a valid node name: 1 to 255 characters from `A-Z a-z 0-9 . _ @ -`.
pub fn is_valid_node_name(name: &str) -> bool {
    valid_name_bytes(name.as_bytes())
}

fn valid_name_bytes(name: &[u8]) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
}

/// What this node says about itself, and the secret it shares with the cluster.
#[derive(Clone)]
pub struct HandshakeConfig {
    /// This node's name, unique in the cluster (see [`is_valid_node_name`]).
    pub name: String,
    /// Distinguishes this run of the node from earlier runs with the same name.
    pub incarnation: u64,
    /// Protocol features this node supports, one bit each; the connection uses those both
    /// sides support.
    pub capabilities: u64,
    /// The shared secret; must not be empty. It never leaves the node.
    pub cookie: Vec<u8>,
}

impl fmt::Debug for HandshakeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeConfig")
            .field("name", &self.name)
            .field("incarnation", &self.incarnation)
            .field("capabilities", &format_args!("{:#x}", self.capabilities))
            .field("cookie", &"<redacted>")
            .finish()
    }
}

/// The authenticated peer, once the handshake is done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Peer {
    /// The peer's node name.
    pub name: String,
    /// The peer's incarnation: a different value under the same name means it restarted.
    pub incarnation: u64,
    /// Capabilities both sides support (the intersection of the two sets).
    pub capabilities: u64,
}

/// What to do after a message was accepted.
#[derive(Debug)]
#[must_use]
pub enum Step {
    /// Send these bytes (our proof) to the peer, as one handshake frame.
    Send(Vec<u8>),
    /// The peer proved it holds the cookie; the connection is open. Everything sent from now
    /// on is sealed with the keys, and everything received opened with them (see
    /// [`super::session`]).
    Established(Peer, Box<SessionKeys>),
}

/// Why a handshake failed. Any error ends the handshake: close the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The configured cookie is empty.
    #[error("the cookie is empty; the nodes of a cluster must share a non-empty cookie")]
    EmptyCookie,
    /// A node name (ours at construction, or the peer's in its Hello) is empty or has a
    /// character outside `A-Z a-z 0-9 . _ @ -`.
    #[error("invalid node name {name:?}: expected 1 to 255 characters of A-Z a-z 0-9 . _ @ -")]
    InvalidName {
        /// The offending name (lossily decoded if it was not UTF-8).
        name: String,
    },
    /// The peer's Hello does not start with the magic: it is not a distribute node.
    #[error("peer is not a distribute node (magic {found:02x?})")]
    BadMagic {
        /// The four bytes found where the magic belongs.
        found: [u8; 4],
    },
    /// The peer speaks another protocol version.
    #[error("peer speaks protocol version {theirs}, this node speaks version {ours}")]
    VersionMismatch {
        /// Our version, [`PROTOCOL_VERSION`].
        ours: u16,
        /// The peer's version.
        theirs: u16,
    },
    /// The peer's Hello repeats our own nonce or our own node name: a reflection attempt or
    /// a connection to ourselves.
    #[error("peer's Hello repeats this node's nonce or name (reflection or a connection to self)")]
    Reflected,
    /// The peer's proof is wrong: it does not hold our cookie, or a Hello was altered on the way.
    #[error("authentication failed: the peer does not hold the same cookie")]
    AuthFailed,
    /// The session keys could not be derived (an internal failure: HKDF and HMAC accept the
    /// sizes used, so this does not occur in practice).
    #[error("the session keys could not be derived")]
    KeyDerivation,
    /// A message arrived that is not the one the handshake expects now.
    #[error("unexpected handshake message: received {received} while expecting {expected}")]
    UnexpectedMessage {
        /// The message that arrived.
        received: &'static str,
        /// What the handshake was waiting for.
        expected: &'static str,
    },
    /// The bytes are not a well-formed handshake message.
    #[error("malformed handshake message: {0}")]
    Malformed(&'static str),
}

/// One side of the handshake, as an I/O-free state machine (see the [module docs](self)).
///
/// # Example
///
/// ```
/// use distribute::transport::handshake::{Handshake, HandshakeConfig, Step};
///
/// let config = |name: &str| HandshakeConfig {
///     name: name.into(),
///     incarnation: 1,
///     capabilities: 0b11,
///     cookie: b"shared secret".to_vec(),
/// };
/// let (mut a, hello_a) = Handshake::new(config("a"), [1; 32])?;
/// let (mut b, hello_b) = Handshake::new(config("b"), [2; 32])?;
///
/// let Step::Send(proof_a) = a.receive(&hello_b)? else { unreachable!() };
/// let Step::Send(proof_b) = b.receive(&hello_a)? else { unreachable!() };
/// let Step::Established(peer, _keys) = a.receive(&proof_b)? else { unreachable!() };
/// assert_eq!(peer.name, "b");
/// assert!(matches!(b.receive(&proof_a)?, Step::Established(peer, _) if peer.name == "a"));
/// # Ok::<(), distribute::transport::handshake::HandshakeError>(())
/// ```
pub struct Handshake {
    /// HMAC-SHA256 keyed with the hashed cookie, cloned for each MAC; the cookie is not kept.
    key: HmacSha256,
    /// The hashed cookie, the input keying material of the session keys.
    cookie_key: [u8; 32],
    own: Hello,
    state: State,
}

enum State {
    AwaitHello,
    AwaitProof { peer: Hello },
    Established,
    Failed(HandshakeError),
}

impl State {
    fn expects(&self) -> &'static str {
        match self {
            State::AwaitHello => "Hello",
            State::AwaitProof { .. } => "Proof",
            State::Established | State::Failed(_) => "nothing (handshake finished)",
        }
    }
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Failed(_) => "failed",
            State::Established => "established",
            state => state.expects(),
        };
        f.debug_struct("Handshake")
            .field("name", &self.own.name)
            .field("state", &state)
            .finish()
    }
}

impl Handshake {
    /// Starts a handshake; returns the machine and our Hello, to send to the peer at once.
    ///
    /// `nonce` must be fresh random bytes for every handshake ([`fresh_nonce`]).
    ///
    /// # Errors
    ///
    /// [`HandshakeError::EmptyCookie`] if the cookie is empty, [`HandshakeError::InvalidName`]
    /// if our name is not a valid node name.
    pub fn new(
        config: HandshakeConfig,
        nonce: [u8; NONCE_LEN],
    ) -> Result<(Handshake, Vec<u8>), HandshakeError> {
        if config.cookie.is_empty() {
            return Err(HandshakeError::EmptyCookie);
        }
        if !is_valid_node_name(&config.name) {
            return Err(HandshakeError::InvalidName { name: config.name });
        }
        let cookie_key = Sha256::new_with_prefix(COOKIE_DOMAIN)
            .chain_update(&config.cookie)
            .finalize();
        // HMAC accepts keys of any length: this error cannot occur.
        let key = HmacSha256::new_from_slice(&cookie_key).map_err(|_| HandshakeError::EmptyCookie)?;
        let own = Hello {
            magic: MAGIC,
            version: PROTOCOL_VERSION,
            name: config.name,
            incarnation: config.incarnation,
            capabilities: config.capabilities,
            nonce,
        };
        let hello = own.encode();
        Ok((
            Handshake {
                key,
                cookie_key: cookie_key.into(),
                own,
                state: State::AwaitHello,
            },
            hello,
        ))
    }

    /// Handles one message from the peer (the body of one handshake frame).
    ///
    /// The peer's Hello yields [`Step::Send`] with our proof; the peer's proof then yields
    /// [`Step::Established`].
    ///
    /// # Errors
    ///
    /// Any [`HandshakeError`] but `EmptyCookie`; after one, every later call returns it again.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Step, HandshakeError> {
        if let State::Failed(error) = &self.state {
            return Err(error.clone());
        }
        let result = self.advance(bytes);
        if let Err(error) = &result {
            self.state = State::Failed(error.clone());
        }
        result
    }

    /// Whether the peer has been authenticated.
    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established)
    }

    /// The error that ended this handshake, if one did.
    pub fn error(&self) -> Option<&HandshakeError> {
        match &self.state {
            State::Failed(error) => Some(error),
            _ => None,
        }
    }

    fn advance(&mut self, bytes: &[u8]) -> Result<Step, HandshakeError> {
        let Some((&kind, body)) = bytes.split_first() else {
            return Err(HandshakeError::Malformed("empty message"));
        };
        let received = match kind {
            TYPE_HELLO => "Hello",
            TYPE_PROOF => "Proof",
            _ => return Err(HandshakeError::Malformed("unknown message type")),
        };
        match (&self.state, kind) {
            (State::AwaitHello, TYPE_HELLO) => {
                let peer = Hello::decode(body)?;
                if peer.nonce == self.own.nonce || peer.name == self.own.name {
                    return Err(HandshakeError::Reflected);
                }
                let mac: [u8; MAC_LEN] = self.proof_mac(&self.own, &peer).finalize().into_bytes().into();
                let mut proof = Vec::with_capacity(PROOF_LEN);
                proof.push(TYPE_PROOF);
                proof.extend_from_slice(&mac);
                self.state = State::AwaitProof { peer };
                Ok(Step::Send(proof))
            }
            (State::AwaitProof { peer }, TYPE_PROOF) => {
                let mac = decode_proof(body)?;
                self.proof_mac(peer, &self.own)
                    .verify_slice(&mac)
                    .map_err(|_| HandshakeError::AuthFailed)?;
                let keys = SessionKeys::derive(&self.cookie_key, &self.own.encode(), &peer.encode())
                    .ok_or(HandshakeError::KeyDerivation)?;
                let established = Peer {
                    name: peer.name.clone(),
                    incarnation: peer.incarnation,
                    capabilities: peer.capabilities & self.own.capabilities,
                };
                self.state = State::Established;
                Ok(Step::Established(established, Box::new(keys)))
            }
            (state, _) => Err(HandshakeError::UnexpectedMessage {
                received,
                expected: state.expects(),
            }),
        }
    }

    /// The MAC that `prover` sends to `verifier` (see the module docs for the construction).
    fn proof_mac(&self, prover: &Hello, verifier: &Hello) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(DOMAIN);
        mac.update(&verifier.nonce);
        mac.update(&prover.nonce);
        for name in [&verifier.name, &prover.name] {
            mac.update(&name_len(name).to_be_bytes());
            mac.update(name.as_bytes());
        }
        mac.update(&verifier.incarnation.to_be_bytes());
        mac.update(&prover.incarnation.to_be_bytes());
        mac.update(&verifier.capabilities.to_be_bytes());
        mac.update(&prover.capabilities.to_be_bytes());
        let direction = if prover.nonce > verifier.nonce {
            PROVER_NONCE_HIGHER
        } else {
            PROVER_NONCE_LOWER
        };
        mac.update(&[direction]);
        mac
    }
}

/// Names are at most 255 bytes once validated; saturate rather than truncate otherwise.
fn name_len(name: &str) -> u16 {
    u16::try_from(name.len()).unwrap_or(u16::MAX)
}

/// The content of a Hello message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hello {
    magic: [u8; 4],
    version: u16,
    name: String,
    incarnation: u64,
    capabilities: u64,
    nonce: [u8; NONCE_LEN],
}

impl Hello {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HELLO_FIXED_LEN + self.name.len());
        out.push(TYPE_HELLO);
        out.extend_from_slice(&self.magic);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&name_len(&self.name).to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.incarnation.to_be_bytes());
        out.extend_from_slice(&self.capabilities.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out
    }

    /// Decodes the body of a Hello (after its type byte), checking magic and version first.
    fn decode(body: &[u8]) -> Result<Hello, HandshakeError> {
        let mut reader = Reader(body);
        let magic = reader.array("Hello truncated in its magic")?;
        if magic != MAGIC {
            return Err(HandshakeError::BadMagic { found: magic });
        }
        let version = u16::from_be_bytes(reader.array("Hello truncated in its version")?);
        if version != PROTOCOL_VERSION {
            return Err(HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: version,
            });
        }
        let name_len = usize::from(u16::from_be_bytes(
            reader.array("Hello truncated in its name length")?,
        ));
        if name_len > MAX_NAME_LEN {
            return Err(HandshakeError::Malformed("node name longer than 255 bytes"));
        }
        let name = reader.take(name_len, "Hello truncated in its node name")?;
        let incarnation = u64::from_be_bytes(reader.array("Hello truncated in its incarnation")?);
        let capabilities = u64::from_be_bytes(reader.array("Hello truncated in its capabilities")?);
        let nonce = reader.array("Hello truncated in its nonce")?;
        if !reader.0.is_empty() {
            return Err(HandshakeError::Malformed("trailing bytes after the Hello"));
        }
        let name = match std::str::from_utf8(name) {
            Ok(name) if valid_name_bytes(name.as_bytes()) => name.to_owned(),
            _ => {
                return Err(HandshakeError::InvalidName {
                    name: String::from_utf8_lossy(name).into_owned(),
                })
            }
        };
        Ok(Hello {
            magic,
            version,
            name,
            incarnation,
            capabilities,
            nonce,
        })
    }
}

/// Decodes the body of a Proof (after its type byte).
fn decode_proof(body: &[u8]) -> Result<[u8; MAC_LEN], HandshakeError> {
    <[u8; MAC_LEN]>::try_from(body).map_err(|_| {
        HandshakeError::Malformed(if body.len() < MAC_LEN {
            "Proof truncated"
        } else {
            "trailing bytes after the Proof"
        })
    })
}

/// Reads fields from the front of a message; running out of bytes is `Malformed`.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, truncated: &'static str) -> Result<&'a [u8], HandshakeError> {
        let (head, rest) = self
            .0
            .split_at_checked(len)
            .ok_or(HandshakeError::Malformed(truncated))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, truncated: &'static str) -> Result<[u8; N], HandshakeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(HandshakeError::Malformed(truncated))?;
        self.0 = rest;
        Ok(*head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: &[u8] = b"monster";

    /// A [`Step`] without its keys, so that outcomes compare with `assert_eq!`.
    #[derive(Debug, PartialEq, Eq)]
    enum Outcome {
        Send(Vec<u8>),
        Established(Peer),
    }

    fn recv(machine: &mut Handshake, bytes: &[u8]) -> Result<Outcome, HandshakeError> {
        machine.receive(bytes).map(|step| match step {
            Step::Send(bytes) => Outcome::Send(bytes),
            Step::Established(peer, _) => Outcome::Established(peer),
        })
    }

    fn config(name: &str, capabilities: u64, cookie: &[u8]) -> HandshakeConfig {
        HandshakeConfig {
            name: name.to_owned(),
            incarnation: 1000 + name.len() as u64,
            capabilities,
            cookie: cookie.to_vec(),
        }
    }

    fn start(name: &str, capabilities: u64, cookie: &[u8], nonce: u8) -> (Handshake, Vec<u8>) {
        Handshake::new(config(name, capabilities, cookie), [nonce; NONCE_LEN]).expect("valid config")
    }

    fn expect_send(step: Result<Outcome, HandshakeError>) -> Vec<u8> {
        match step {
            Ok(Outcome::Send(bytes)) => bytes,
            other => panic!("expected Step::Send, got {other:?}"),
        }
    }

    fn hello(name: &str, nonce: u8) -> Hello {
        Hello {
            magic: MAGIC,
            version: PROTOCOL_VERSION,
            name: name.to_owned(),
            incarnation: 7,
            capabilities: 1,
            nonce: [nonce; NONCE_LEN],
        }
    }

    /// Both Hellos exchanged: returns the machines and the proofs they produced.
    fn exchange_hellos(a_cookie: &[u8], b_cookie: &[u8]) -> (Handshake, Handshake, Vec<u8>, Vec<u8>) {
        let (mut a, hello_a) = start("a@host", 0b1011, a_cookie, 1);
        let (mut b, hello_b) = start("b@host", 0b0110, b_cookie, 2);
        let proof_a = expect_send(recv(&mut a, &hello_b));
        let proof_b = expect_send(recv(&mut b, &hello_a));
        (a, b, proof_a, proof_b)
    }

    /// `len` bytes from `rng`: reproducible garbage, since the seed is fixed.
    fn random_bytes(rng: &mut fastrand::Rng, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        rng.fill(&mut bytes);
        bytes
    }

    #[test]
    fn same_cookie_establishes_both_sides_with_names_and_common_capabilities() {
        let (mut a, mut b, proof_a, proof_b) = exchange_hellos(COOKIE, COOKIE);
        assert_eq!(
            recv(&mut a, &proof_b),
            Ok(Outcome::Established(Peer {
                name: "b@host".into(),
                incarnation: 1006,
                capabilities: 0b0010
            }))
        );
        assert_eq!(
            recv(&mut b, &proof_a),
            Ok(Outcome::Established(Peer {
                name: "a@host".into(),
                incarnation: 1006,
                capabilities: 0b0010
            }))
        );
        assert!(a.is_established() && b.is_established());
        assert_eq!(proof_a.len(), PROOF_LEN);
        assert_ne!(proof_a, proof_b);
    }

    #[test]
    fn hello_has_a_stable_wire_layout() {
        let (_, bytes) = start("n1", 0x0102, COOKIE, 0xaa);
        let mut expected = vec![0x01, b'D', b'S', b'T', b'R', 0, 5, 0, 2, b'n', b'1'];
        expected.extend_from_slice(&1002u64.to_be_bytes());
        expected.extend_from_slice(&0x0102u64.to_be_bytes());
        expected.extend_from_slice(&[0xaa; 32]);
        assert_eq!(bytes, expected);
        assert_eq!(hello(&"x".repeat(255), 0).encode().len(), MAX_MESSAGE_LEN);
    }

    #[test]
    fn wrong_cookie_is_auth_failed_on_both_sides() {
        let (mut a, mut b, proof_a, proof_b) = exchange_hellos(COOKIE, b"another cookie");
        assert_eq!(recv(&mut a, &proof_b), Err(HandshakeError::AuthFailed));
        assert_eq!(recv(&mut b, &proof_a), Err(HandshakeError::AuthFailed));
        assert!(!a.is_established() && !b.is_established());
        assert_eq!(a.error(), Some(&HandshakeError::AuthFailed));
    }

    #[test]
    fn cookies_must_match_exactly_despite_hmac_key_padding() {
        // Raw HMAC keys "k" and "k\0" are equivalent (zero padding), as are a key longer than a
        // block and its SHA-256; the hashed key tells them apart.
        let long = [7u8; 100];
        let long_hash = Sha256::digest(long);
        for (ours, theirs) in [(&b"monster"[..], &b"monster\0"[..]), (&long[..], &long_hash[..])] {
            let (mut a, mut b, proof_a, proof_b) = exchange_hellos(ours, theirs);
            assert_eq!(recv(&mut a, &proof_b), Err(HandshakeError::AuthFailed));
            assert_eq!(recv(&mut b, &proof_a), Err(HandshakeError::AuthFailed));
        }
    }

    #[test]
    fn other_version_is_version_mismatch_whatever_follows_it() {
        let (mut a, _) = start("a", 0, COOKIE, 1);
        let next = Hello {
            version: PROTOCOL_VERSION + 1,
            ..hello("b", 2)
        }
        .encode();
        assert_eq!(
            recv(&mut a, &next),
            Err(HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: PROTOCOL_VERSION + 1
            })
        );

        // Version 1 (plain frames after the handshake) and version 2 (HMAC-SHA-256 records)
        // are refused as such.
        for old in [1, 2] {
            let (mut a, _) = start("a", 0, COOKIE, 1);
            let earlier = Hello {
                version: old,
                ..hello("b", 2)
            }
            .encode();
            assert_eq!(
                recv(&mut a, &earlier),
                Err(HandshakeError::VersionMismatch {
                    ours: PROTOCOL_VERSION,
                    theirs: old
                })
            );
        }

        // A later version may lay out the rest differently: only the prefix is read.
        let (mut a, _) = start("a", 0, COOKIE, 1);
        let mut v9 = vec![TYPE_HELLO, b'D', b'S', b'T', b'R', 0, 9];
        v9.extend_from_slice(b"something else entirely");
        assert_eq!(
            recv(&mut a, &v9),
            Err(HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: 9
            })
        );
    }

    #[test]
    fn bad_magic_is_rejected() {
        let (mut a, _) = start("a", 0, COOKIE, 1);
        let bytes = Hello {
            magic: *b"HTTP",
            ..hello("b", 2)
        }
        .encode();
        assert_eq!(
            recv(&mut a, &bytes),
            Err(HandshakeError::BadMagic { found: *b"HTTP" })
        );
    }

    #[test]
    fn invalid_peer_names_are_rejected() {
        for name in ["", "has space", "a/b", "caf\u{e9}", "nul\0", "tab\t"] {
            let (mut a, _) = start("a", 0, COOKIE, 1);
            assert_eq!(
                recv(&mut a, &hello(name, 2).encode()),
                Err(HandshakeError::InvalidName {
                    name: name.to_owned()
                }),
                "{name:?}"
            );
        }
        let mut not_utf8 = hello("ab", 2).encode();
        not_utf8[9] = 0xff;
        let (mut a, _) = start("a", 0, COOKIE, 1);
        assert!(matches!(
            recv(&mut a, &not_utf8),
            Err(HandshakeError::InvalidName { .. })
        ));

        for name in ["b", "node-1.example_org@host", &"x".repeat(255)] {
            let (mut a, _) = start("a", 0, COOKIE, 1);
            expect_send(recv(&mut a, &hello(name, 2).encode()));
        }
        let (mut a, _) = start("a", 0, COOKIE, 1);
        assert_eq!(
            recv(&mut a, &hello(&"x".repeat(256), 2).encode()),
            Err(HandshakeError::Malformed("node name longer than 255 bytes"))
        );
    }

    #[test]
    fn own_config_is_checked_at_construction() {
        assert_eq!(
            Handshake::new(config("a", 0, b""), [1; NONCE_LEN]).map(|_| ()),
            Err(HandshakeError::EmptyCookie)
        );
        for name in ["", "white space", &"y".repeat(256)] {
            assert_eq!(
                Handshake::new(config(name, 0, COOKIE), [1; NONCE_LEN]).map(|_| ()),
                Err(HandshakeError::InvalidName {
                    name: name.to_owned()
                })
            );
        }
    }

    #[test]
    fn a_proof_reflected_to_its_sender_fails() {
        let (mut a, _b, proof_a, _) = exchange_hellos(COOKIE, COOKIE);
        assert_eq!(recv(&mut a, &proof_a), Err(HandshakeError::AuthFailed));
    }

    #[test]
    fn a_hello_mirroring_our_nonce_or_name_is_refused() {
        let (mut a, hello_a) = start("a", 0, COOKIE, 1);
        assert_eq!(recv(&mut a, &hello_a), Err(HandshakeError::Reflected));
        let (mut a, _) = start("a", 0, COOKIE, 1);
        assert_eq!(
            recv(&mut a, &hello("b", 1).encode()),
            Err(HandshakeError::Reflected)
        );
        let (mut a, _) = start("a", 0, COOKIE, 1);
        assert_eq!(
            recv(&mut a, &hello("a", 2).encode()),
            Err(HandshakeError::Reflected)
        );
    }

    #[test]
    fn a_proof_obtained_from_a_parallel_session_with_the_same_node_fails() {
        // The attacker wants node "a" to accept it as "mallory" in the target session, and
        // opens an oracle session with the same node to have it compute a proof.
        let (mut target, _) = start("a", 1, COOKIE, 10);
        let (mut oracle, _) = start("a", 1, COOKIE, 20);
        let oracle_proof = expect_send(recv(&mut oracle, &hello("mallory", 10).encode()));
        expect_send(recv(&mut target, &hello("mallory", 20).encode()));
        assert_eq!(recv(&mut target, &oracle_proof), Err(HandshakeError::AuthFailed));
    }

    #[test]
    fn a_proof_replayed_into_a_handshake_with_other_nonces_fails() {
        let (mut a1, hello_a1) = start("a", 0, COOKIE, 1);
        let (mut b1, hello_b1) = start("b", 0, COOKIE, 2);
        let _ = expect_send(recv(&mut a1, &hello_b1));
        let proof_b1 = expect_send(recv(&mut b1, &hello_a1));
        assert!(matches!(recv(&mut a1, &proof_b1), Ok(Outcome::Established(_))));

        // Same node "a" later, with a fresh nonce; an attacker replays b's recorded messages.
        let (mut a2, _) = start("a", 0, COOKIE, 3);
        let _ = expect_send(recv(&mut a2, &hello_b1));
        assert_eq!(recv(&mut a2, &proof_b1), Err(HandshakeError::AuthFailed));
    }

    #[test]
    fn altered_hello_fields_fail_authentication_on_both_sides() {
        let alterations: [fn(&mut Hello); 3] = [
            |h| h.capabilities ^= 1,
            |h| h.incarnation += 1,
            |h| h.name.push('x'),
        ];
        for alter in alterations {
            let (mut a, hello_a) = start("a", 0b11, COOKIE, 1);
            let (mut b, hello_b) = start("b", 0b11, COOKIE, 2);
            let mut tampered = Hello::decode(&hello_b[1..]).expect("valid hello");
            alter(&mut tampered);
            let proof_a = expect_send(recv(&mut a, &tampered.encode()));
            let proof_b = expect_send(recv(&mut b, &hello_a));
            assert_eq!(recv(&mut a, &proof_b), Err(HandshakeError::AuthFailed));
            assert_eq!(recv(&mut b, &proof_a), Err(HandshakeError::AuthFailed));
        }
    }

    #[test]
    fn truncated_or_extended_messages_are_malformed() {
        let (_, hello_b) = start("b", 0, COOKIE, 2);
        for len in 0..hello_b.len() {
            let (mut a, _) = start("a", 0, COOKIE, 1);
            assert!(
                matches!(recv(&mut a, &hello_b[..len]), Err(HandshakeError::Malformed(_))),
                "Hello cut to {len} bytes"
            );
        }
        let (mut a, _) = start("a", 0, COOKIE, 1);
        let extended = [hello_b.as_slice(), &[0]].concat();
        assert_eq!(
            recv(&mut a, &extended),
            Err(HandshakeError::Malformed("trailing bytes after the Hello"))
        );

        let (_, _, _, proof_b) = exchange_hellos(COOKIE, COOKIE);
        for bad in [
            &proof_b[..1],
            &proof_b[..PROOF_LEN - 1],
            &[proof_b.as_slice(), &[0]].concat(),
        ] {
            let (mut a, _b, _, _) = exchange_hellos(COOKIE, COOKIE);
            assert!(
                matches!(recv(&mut a, bad), Err(HandshakeError::Malformed(_))),
                "{} bytes",
                bad.len()
            );
        }

        let (mut a, _) = start("a", 0, COOKIE, 1);
        assert_eq!(
            recv(&mut a, &[0x03, 1, 2]),
            Err(HandshakeError::Malformed("unknown message type"))
        );
    }

    #[test]
    fn messages_out_of_order_are_unexpected() {
        let (mut a, mut b, _, proof_b) = exchange_hellos(COOKIE, COOKIE);
        let (mut fresh, _) = start("c", 0, COOKIE, 3);
        assert_eq!(
            recv(&mut fresh, &proof_b),
            Err(HandshakeError::UnexpectedMessage {
                received: "Proof",
                expected: "Hello"
            })
        );
        assert_eq!(
            recv(&mut b, &hello("z", 9).encode()),
            Err(HandshakeError::UnexpectedMessage {
                received: "Hello",
                expected: "Proof"
            })
        );
        assert!(matches!(recv(&mut a, &proof_b), Ok(Outcome::Established(_))));
        assert!(matches!(
            recv(&mut a, &proof_b),
            Err(HandshakeError::UnexpectedMessage { .. })
        ));
    }

    #[test]
    fn after_an_error_every_call_returns_it() {
        let (mut a, _b, _, proof_b) = exchange_hellos(COOKIE, COOKIE);
        assert_eq!(
            recv(&mut a, b"\x02short"),
            Err(HandshakeError::Malformed("Proof truncated"))
        );
        assert_eq!(
            recv(&mut a, &proof_b),
            Err(HandshakeError::Malformed("Proof truncated"))
        );
        assert_eq!(
            recv(&mut a, &[]),
            Err(HandshakeError::Malformed("Proof truncated"))
        );
        assert!(!a.is_established());
        assert_eq!(a.error(), Some(&HandshakeError::Malformed("Proof truncated")));
    }

    #[test]
    fn random_bytes_never_panic_and_never_authenticate() {
        let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
        for round in 0..4000 {
            let len = rng.usize(..120);
            let mut bytes = random_bytes(&mut rng, len);
            // Steer part of the inputs past the first checks.
            match round % 4 {
                1 if len >= 7 => bytes[..7].copy_from_slice(&[TYPE_HELLO, b'D', b'S', b'T', b'R', 0, 1]),
                2 if len >= 1 => bytes[0] = TYPE_PROOF,
                _ => {}
            }
            let (mut fresh, _) = start("a", 0, COOKIE, 1);
            let _ = recv(&mut fresh, &bytes);
            let (mut waiting, _b, _, _) = exchange_hellos(COOKIE, COOKIE);
            assert!(!matches!(recv(&mut waiting, &bytes), Ok(Outcome::Established(_))));
        }
        let mut forged = vec![TYPE_PROOF];
        forged.extend(random_bytes(&mut rng, MAC_LEN));
        let (mut waiting, _b, _, _) = exchange_hellos(COOKIE, COOKIE);
        assert_eq!(recv(&mut waiting, &forged), Err(HandshakeError::AuthFailed));
    }

    #[test]
    fn fresh_nonces_come_from_the_os_and_differ() {
        let first = fresh_nonce().expect("the OS random source works");
        let second = fresh_nonce().expect("the OS random source works");
        assert_ne!(first, second);
    }

    #[test]
    fn random_source_errors_without_an_os_code_keep_getrandoms_description() {
        for error in [getrandom::Error::UNSUPPORTED, getrandom::Error::new_custom(7)] {
            let mapped = random_error(error);
            assert_eq!(mapped.raw_os_error(), None);
            assert_eq!(mapped.kind(), io::ErrorKind::Other);
            assert_eq!(mapped.to_string(), error.to_string());
        }
    }

    #[test]
    fn debug_output_never_shows_the_cookie() {
        let text = format!("{:?}", config("a", 0, b"topsecret"));
        assert!(
            !text.contains("topsecret") && !text.contains("116, 111, 112"),
            "{text}"
        );
        let (machine, _) = start("a", 0, b"topsecret", 1);
        assert!(!format!("{machine:?}").contains("topsecret"));
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Handshake>();
        assert_send_sync::<HandshakeConfig>();
        assert_send_sync::<HandshakeError>();
        assert_send_sync::<Step>();
        assert_send_sync::<Peer>();
    }
}
