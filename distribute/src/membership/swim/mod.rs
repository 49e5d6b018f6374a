//! SWIM membership through foca, as a plain state machine: a packet or a timer in, packets to
//! send, timers to arm and membership changes out. No sockets, tasks or clocks here: the
//! UDP driver ([`gossip`](super::gossip)) carries the outputs out, and the tests drive whole
//! clusters of these in simulated time.
//!
//! Every packet is authenticated with the cluster's key (HMAC-SHA-256, truncated to 128
//! bits, under a key derived from the cookie with HKDF-SHA256): a packet without a valid tag
//! is refused before foca sees it, so a party without the cookie cannot join, suspect or
//! declare down anyone. Decoding is bounded by the packet size. Packets are authenticated,
//! not encrypted; a replayed packet carries stale incarnations, which SWIM ignores.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use foca::{AccumulatingRuntime, BincodeCodec, Foca, NoCustomBroadcast, OwnedNotification, Timer};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::member::Member;
use crate::actor::NodeId;
use crate::lock::lock;
use std::sync::{Arc, Mutex};

/// The largest packet SWIM sends or accepts, tag included: one unfragmented datagram.
pub(crate) const MAX_PACKET: usize = 1400;

/// Bytes of authentication tag at the end of each packet.
const TAG: usize = 16;

/// The domain of the key derivation, so that the gossip key is no other key of the cookie.
const KEY_INFO: &[u8] = b"distribute/membership/swim/v1";

/// How many members (active, suspect or down and not yet forgotten) a node holds at most:
/// past it, packets that name new ones are refused, so that a member with the cookie cannot
/// make a node store without bound by announcing made-up members.
pub(crate) const MAX_MEMBERS: usize = 4096;

/// More members than one packet can name: below this much room, the codec checks each
/// identity it decodes against those held.
const PER_PACKET: usize = MAX_PACKET / 8;

type HmacSha256 = Hmac<Sha256>;
type Bincode = BincodeCodec<Configuration<LittleEndian, Varint, Limit<MAX_PACKET>>>;

/// How many new members the packet being decoded may still name, and, when that is short,
/// the members already held (which do not count).
#[derive(Debug, Default)]
struct Room {
    left: usize,
    held: Option<std::collections::HashSet<NodeId>>,
}

impl Room {
    /// Whether `member` may be taken: one already held, or a new one while there is room.
    fn admit(&mut self, member: &Member) -> bool {
        match &self.held {
            None => true,
            Some(held) if held.contains(&member.node) => true,
            Some(_) if self.left > 0 => {
                self.left -= 1;
                true
            }
            Some(_) => false,
        }
    }
}

/// Why the bounded codec refused a packet.
#[derive(Debug, thiserror::Error)]
enum CodecError {
    #[error("{0}")]
    Bincode(String),
    #[error("it names new members past the {MAX_MEMBERS} a node holds")]
    Full,
}

/// foca's bincode codec, refusing identities past [`MAX_MEMBERS`].
struct BoundedCodec {
    inner: Bincode,
    room: Arc<Mutex<Room>>,
}

impl BoundedCodec {
    fn admit(&self, member: &Member) -> Result<(), CodecError> {
        match lock(&self.room).admit(member) {
            true => Ok(()),
            false => Err(CodecError::Full),
        }
    }
}

impl foca::Codec<Member> for BoundedCodec {
    type Error = CodecError;

    fn encode_header(
        &mut self,
        header: &foca::Header<Member>,
        buf: impl bytes::BufMut,
    ) -> Result<(), CodecError> {
        self.inner
            .encode_header(header, buf)
            .map_err(|error| CodecError::Bincode(error.to_string()))
    }

    fn decode_header(&mut self, buf: impl bytes::Buf) -> Result<foca::Header<Member>, CodecError> {
        let header = self
            .inner
            .decode_header(buf)
            .map_err(|error| CodecError::Bincode(error.to_string()))?;
        self.admit(&header.src)?;
        Ok(header)
    }

    fn encode_member(
        &mut self,
        member: &foca::Member<Member>,
        buf: impl bytes::BufMut,
    ) -> Result<(), CodecError> {
        self.inner
            .encode_member(member, buf)
            .map_err(|error| CodecError::Bincode(error.to_string()))
    }

    fn decode_member(&mut self, buf: impl bytes::Buf) -> Result<foca::Member<Member>, CodecError> {
        let member = self
            .inner
            .decode_member(buf)
            .map_err(|error| CodecError::Bincode(error.to_string()))?;
        self.admit(member.id())?;
        Ok(member)
    }
}

/// A generator of foca's randomness: the crate's own, seeded.
struct FastRng(fastrand::Rng);

impl rand_core::RngCore for FastRng {
    fn next_u32(&mut self) -> u32 {
        self.0.u32(..)
    }

    fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill(dst);
    }
}

/// A change in who is in the cluster, as this node's membership sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The member joined, or came back.
    Up(Member),
    /// The cluster declared it down (it failed to answer probes, directly and through
    /// others, for the suspicion time) or it left.
    Down(Member),
    /// A later run of a node took its address: this run is certainly gone.
    Replaced(Member),
}

/// What the driver must do after an input.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    /// Sealed packets, each to an address.
    pub(crate) sends: Vec<(SocketAddr, Vec<u8>)>,
    /// Timers to arm: deliver the timer back after the delay.
    pub(crate) timers: Vec<(Duration, Timer<Member>)>,
    /// Membership changes, in order.
    pub(crate) changes: Vec<Change>,
}

/// Why a packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    /// Larger than a packet may be.
    #[error("a packet of {0} bytes, over the {MAX_PACKET}-byte limit")]
    Oversize(usize),
    /// Too short to hold a tag, or the tag is not the cluster key's.
    #[error("a packet not sealed with the cluster's key")]
    Unsealed,
    /// Sealed, but foca could not make sense of it.
    #[error("a malformed packet: {0}")]
    Malformed(String),
}

/// Timings of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SwimTimings {
    /// How often a node probes a random member.
    pub(crate) probe_period: Duration,
    /// How long it waits for a direct answer before asking others to probe.
    pub(crate) probe_rtt: Duration,
    /// How long a member stays suspect before it is declared down.
    pub(crate) suspicion: Duration,
}

impl SwimTimings {
    /// The timings a user chose.
    pub(crate) fn from_detection(detection: &super::FailureDetection) -> Self {
        let floor = Duration::from_millis(10);
        let probe_period = detection.probe_period.max(floor * 2);
        SwimTimings {
            probe_period,
            probe_rtt: detection.probe_timeout.clamp(floor, probe_period / 2),
            suspicion: detection.suspicion.max(floor),
        }
    }

    /// Timings for a LAN: probes every second, 500 ms to answer, suspicion for the time SWIM
    /// needs to spread a refutation through a cluster of about `expected` nodes.
    pub(crate) fn lan(expected: u32) -> Self {
        let config = foca::Config::new_lan(NonZeroU32::new(expected.max(1)).unwrap_or(NonZeroU32::MIN));
        SwimTimings {
            probe_period: config.probe_period,
            probe_rtt: config.probe_rtt,
            suspicion: config.suspect_to_down_after,
        }
    }

    fn config(&self, expected: u32) -> foca::Config {
        let mut config = foca::Config::new_lan(NonZeroU32::new(expected.max(1)).unwrap_or(NonZeroU32::MIN));
        config.probe_period = self.probe_period;
        config.probe_rtt = self.probe_rtt;
        config.suspect_to_down_after = self.suspicion;
        config.max_packet_size = NonZeroUsize::new(MAX_PACKET - TAG).unwrap_or(NonZeroUsize::MIN);
        // Each update is passed on this many times by each node: foca's LAN formula for a
        // thousand nodes. Its formula for the cluster's own size (5 for 30 nodes) let a
        // node miss a death now and then and find out only by probing the dead node itself,
        // a suspicion later (seen in the simulation: 38 s instead of 7).
        config.max_transmissions = std::num::NonZeroU8::new(12).unwrap_or(std::num::NonZeroU8::MIN);
        // An announcement is answered with a sample of the members: asked of one random
        // member every half second, it completes the view of a node that joined before
        // others did (whose arrivals it heard of only while they were news), in a few
        // seconds rather than foca's LAN default of 30.
        config.periodic_announce = Some(foca::PeriodicParams {
            frequency: Duration::from_millis(500),
            num_members: NonZeroUsize::MIN,
        });
        // Members declared down are asked every two probe periods whether they are back, so
        // that the two sides of a healed partition find each other within seconds (foca's
        // LAN default of 65 s left the registry's merge waiting for a minute). Each side
        // hears it was declared down, rejoins as its next generation, and is counted in.
        config.periodic_announce_to_down_members = Some(foca::PeriodicParams {
            frequency: self.probe_period.saturating_mul(2),
            num_members: NonZeroUsize::new(2).unwrap_or(NonZeroUsize::MIN),
        });
        config
    }
}

/// One node's membership: foca, its outputs, and the cluster key.
pub(crate) struct Swim {
    foca: Foca<Member, BoundedCodec, FastRng, NoCustomBroadcast>,
    runtime: AccumulatingRuntime<Member>,
    key: HmacSha256,
    room: Arc<Mutex<Room>>,
    /// Whether the protocol has no active member to talk to: alone, declared down, or just
    /// renewed its identity. Its timers then stand still, and only an announcement (or a
    /// packet from someone) brings it back.
    lonely: bool,
}

impl Swim {
    /// The membership of `me`, in a cluster of about `expected` nodes whose cookie is
    /// `cookie`; `seed` seeds its randomness. `None` if the cookie is empty.
    pub(crate) fn new(
        me: Member,
        cookie: &[u8],
        timings: SwimTimings,
        expected: u32,
        seed: u64,
    ) -> Option<Self> {
        let mut okm = [0u8; 32];
        Hkdf::<Sha256>::new(None, cookie)
            .expand(KEY_INFO, &mut okm)
            .ok()?;
        let key = HmacSha256::new_from_slice(&okm).ok()?;
        let room = Arc::new(Mutex::new(Room::default()));
        let codec = BoundedCodec {
            inner: BincodeCodec(bincode::config::standard().with_limit::<MAX_PACKET>()),
            room: Arc::clone(&room),
        };
        let rng = FastRng(fastrand::Rng::with_seed(seed));
        Some(Swim {
            foca: Foca::new(me, timings.config(expected), rng, codec),
            runtime: AccumulatingRuntime::new(),
            key,
            room,
            lonely: true,
        })
    }

    /// Whether the node has no active member to talk to (see [`Swim::join`]): alone, or
    /// after it was declared down or renewed its identity, until it hears from a member.
    pub(crate) fn is_lonely(&self) -> bool {
        self.lonely
    }

    /// Who this node is.
    pub(crate) fn me(&self) -> Member {
        *self.foca.identity()
    }

    /// The members this node holds as active (itself excluded).
    #[cfg(test)]
    pub(crate) fn members(&self) -> Vec<Member> {
        self.foca.iter_members().map(|member| *member.id()).collect()
    }

    /// Announces this node to the nodes at `seeds`.
    pub(crate) fn join(&mut self, seeds: &[SocketAddr]) -> Outputs {
        let me = self.me().addr;
        for addr in seeds.iter().filter(|addr| **addr != me) {
            if let Err(error) = self.foca.announce(Member::seed(*addr), &mut self.runtime) {
                crate::trace::trace_event!(debug, %addr, %error, "announce failed");
            }
        }
        self.drain()
    }

    /// A packet arrived.
    pub(crate) fn on_packet(&mut self, packet: &[u8]) -> Result<Outputs, Refused> {
        let body = self.open(packet)?;
        self.measure_room();
        let handled = self.foca.handle_data(body, &mut self.runtime);
        let out = self.drain();
        handled.map_err(|error| Refused::Malformed(error.to_string()))?;
        Ok(out)
    }

    /// A timer armed earlier fired.
    pub(crate) fn on_timer(&mut self, timer: Timer<Member>) -> Outputs {
        if let Err(error) = self.foca.handle_timer(timer, &mut self.runtime) {
            crate::trace::trace_event!(debug, %error, "membership timer");
        }
        self.drain()
    }

    /// Leaves the cluster: tells some members, who spread it.
    pub(crate) fn leave(&mut self) -> Outputs {
        if let Err(error) = self.foca.leave_cluster(&mut self.runtime) {
            crate::trace::trace_event!(debug, %error, "leaving the cluster");
        }
        self.drain()
    }

    /// How many new members the next packet may name: unchecked while there is room for
    /// more than a packet can name, else counted against the members held.
    fn measure_room(&self) {
        let held = self.foca.iter_membership_state().len();
        let left = MAX_MEMBERS.saturating_sub(held);
        let known = (left < PER_PACKET).then(|| {
            let mut known: std::collections::HashSet<NodeId> = self
                .foca
                .iter_membership_state()
                .map(|member| member.id().node)
                .collect();
            known.insert(self.me().node);
            known
        });
        *lock(&self.room) = Room { left, held: known };
    }

    /// How many members this node holds, down ones not yet forgotten included.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.foca.iter_membership_state().len()
    }

    fn drain(&mut self) -> Outputs {
        let mut out = Outputs::default();
        while let Some((to, data)) = self.runtime.to_send() {
            out.sends.push((to.addr, self.seal(&data)));
        }
        while let Some(timer) = self.runtime.to_schedule() {
            out.timers.push(timer);
        }
        while let Some(notification) = self.runtime.to_notify() {
            match notification {
                OwnedNotification::MemberUp(member) => out.changes.push(Change::Up(member)),
                OwnedNotification::MemberDown(member) => out.changes.push(Change::Down(member)),
                // The same run of a node under a new generation (it rejoined after being
                // declared down by mistake) is still the same node: no Down for it.
                OwnedNotification::Rename(old, new) if old.node == new.node => {
                    out.changes.push(Change::Up(new));
                }
                OwnedNotification::Rename(old, new) => {
                    out.changes.push(Change::Replaced(old));
                    out.changes.push(Change::Up(new));
                }
                OwnedNotification::Active => self.lonely = false,
                OwnedNotification::Idle | OwnedNotification::Defunct | OwnedNotification::Rejoin(_) => {
                    self.lonely = true;
                }
            }
        }
        out
    }

    fn seal(&self, body: &[u8]) -> Vec<u8> {
        let mut mac = self.key.clone();
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        let mut packet = Vec::with_capacity(body.len() + TAG);
        packet.extend_from_slice(body);
        packet.extend_from_slice(&tag[..TAG]);
        packet
    }

    fn open<'a>(&self, packet: &'a [u8]) -> Result<&'a [u8], Refused> {
        if packet.len() > MAX_PACKET {
            return Err(Refused::Oversize(packet.len()));
        }
        let split = packet.len().checked_sub(TAG).ok_or(Refused::Unsealed)?;
        let (body, tag) = packet.split_at(split);
        let mut mac = self.key.clone();
        mac.update(body);
        mac.verify_truncated_left(tag).map_err(|_| Refused::Unsealed)?;
        Ok(body)
    }
}

#[cfg(test)]
mod tests;
