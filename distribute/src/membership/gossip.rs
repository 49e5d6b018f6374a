//! The membership protocol's driver: a [`Swim`] fed from a datagram socket on the node's
//! port and from its timers, and what it decides carried out: packets sent, timers armed,
//! the view of members kept, `MemberUp`/`MemberDown` events, and the connection to a node
//! the cluster declares down cut ([`NodeDownReason::DeclaredDown`]), so that calls and
//! monitors waiting on it fail with `NodeDown` at once.
//!
//! A node joins the membership of every node it is connected to (checked every
//! [`JOIN_EVERY`]), so seeds, `connect` and introductions all lead to it. A packet refused
//! (not sealed with the cluster's key, malformed, oversize) is counted and dropped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use foca::Timer;
use tokio::time::Instant;

use super::member::Member;
use super::swim::{Change, Outputs, Swim, SwimTimings, MAX_PACKET};
use super::FailureDetection;
use crate::actor::NodeId;
use crate::lock::lock;
use crate::net::{DatagramSocket, Net, NodeEvent};

/// How often a node announces itself to connected nodes that are not members yet.
pub(crate) const JOIN_EVERY: Duration = Duration::from_secs(1);

/// How many addresses of members declared down a node remembers, to look for them when it
/// is left alone.
const DEPARTED_MEMORY: usize = 64;

/// The size of cluster the protocol's default timings are tuned for.
pub(crate) const EXPECTED_NODES: u32 = 16;

/// A member of the cluster, as this node's membership sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberInfo {
    /// The node's id (one run of it).
    pub id: NodeId,
    /// Where its gossip goes: the port it listens on.
    pub addr: SocketAddr,
}

/// A node's membership: the members it counts in, and what its driver refused.
pub(crate) struct Gossip {
    members: Mutex<BTreeMap<NodeId, Member>>,
    refused: AtomicU64,
}

impl Gossip {
    /// The members this node counts in, itself excluded, by id.
    pub(crate) fn members(&self) -> Vec<MemberInfo> {
        lock(&self.members)
            .values()
            .map(|member| MemberInfo {
                id: member.node,
                addr: member.addr,
            })
            .collect()
    }

    /// Packets refused so far.
    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// Starts the membership of the node whose network is `net`, with the cluster's `cookie`:
/// `None` (and a log line) if its transport has no datagrams, its port is taken for them,
/// or it cannot say where it is reached (listening on every interface, nothing advertised).
pub(crate) async fn start(
    net: &Arc<Net>,
    cookie: &[u8],
    detection: &FailureDetection,
) -> Option<Arc<Gossip>> {
    let me = net.advertised;
    if me.ip().is_unspecified() {
        crate::trace::trace_event!(info, node = %net.config.name, "no membership gossip: advertise an address to enable it");
        return None;
    }
    let socket = match net.bind_datagram(net.listen).await {
        Ok(socket) => socket,
        Err(error) => {
            crate::trace::trace_event!(info, node = %net.config.name, %error, "no membership gossip");
            return None;
        }
    };
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
    let member = Member {
        node: net.id,
        addr: me,
        started,
        generation: 0,
    };
    let timings = SwimTimings::from_detection(detection);
    let swim = Swim::new(member, cookie, timings, EXPECTED_NODES, fastrand::u64(..))?;
    net.enable_membership();
    let gossip = Arc::new(Gossip {
        members: Mutex::new(BTreeMap::new()),
        refused: AtomicU64::new(0),
    });
    let driver = Driver {
        gossip: Arc::clone(&gossip),
        net: Arc::downgrade(net),
        socket,
        swim,
        timers: Timers::default(),
        departed: VecDeque::new(),
        held: HeldDowns::default(),
        grace: timings.probe_period * 2 + timings.probe_rtt,
    };
    tokio::spawn(driver.run(net.closing()));
    Some(gossip)
}

/// An hour from now: a deadline that stands for none.
fn far() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

/// Timers armed by the protocol, by deadline.
#[derive(Default)]
struct Timers {
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    armed: HashMap<u64, Timer<Member>>,
    next: u64,
}

impl Timers {
    fn arm(&mut self, after: Duration, timer: Timer<Member>) {
        self.next += 1;
        self.armed.insert(self.next, timer);
        self.queue.push(Reverse((Instant::now() + after, self.next)));
    }

    /// When the next timer is due (an hour away if none is armed).
    fn deadline(&self) -> Instant {
        self.queue.peek().map_or_else(
            || Instant::now() + Duration::from_secs(3600),
            |Reverse((at, _))| *at,
        )
    }

    /// The timers due now.
    fn due(&mut self) -> Vec<Timer<Member>> {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((at, key))) = self.queue.peek().copied() {
            if at > now {
                break;
            }
            self.queue.pop();
            due.extend(self.armed.remove(&key));
        }
        due
    }
}

struct Driver {
    gossip: Arc<Gossip>,
    net: Weak<Net>,
    socket: Box<dyn DatagramSocket>,
    swim: Swim,
    timers: Timers,
    /// Where the last members declared down listened, oldest first.
    departed: VecDeque<SocketAddr>,
    /// Downs waiting out the renewal grace.
    held: HeldDowns,
    /// How long a member declared down may take to come back under a newer generation
    /// before it is reported down.
    grace: Duration,
}

/// Members declared down, held back for a grace period before they are reported: a node
/// that learns it was declared down (the other side of a healed partition told it) rejoins
/// as the next generation of the same run, and its old generation is declared down by
/// gossip just before the new one is counted in. Held, that pair is no down at all for the
/// nodes that never lost it, instead of a node down that fails their calls and monitors.
/// A plain function of the changes and the time given.
#[derive(Debug, Default)]
struct HeldDowns {
    held: BTreeMap<NodeId, (Member, Instant)>,
}

impl HeldDowns {
    /// Holds the down of `member` until `until`.
    fn hold(&mut self, member: Member, until: Instant) {
        self.held.entry(member.node).or_insert((member, until));
    }

    /// `node` came back up: its held down is dropped; returns whether there was one.
    fn cancel(&mut self, node: NodeId) -> bool {
        self.held.remove(&node).is_some()
    }

    /// When the first held down is due.
    fn deadline(&self) -> Option<Instant> {
        self.held.values().map(|(_, until)| *until).min()
    }

    /// The downs due by `now`, taken out.
    fn due(&mut self, now: Instant) -> Vec<Member> {
        let due: Vec<NodeId> = self
            .held
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(node, _)| *node)
            .collect();
        due.into_iter()
            .filter_map(|node| self.held.remove(&node).map(|(member, _)| member))
            .collect()
    }
}

/// What woke the driver.
enum Wake {
    Closing,
    Downs,
    Packet(std::io::Result<(usize, SocketAddr)>),
    Timers,
    Join,
}

impl Driver {
    async fn run(mut self, mut closing: tokio::sync::watch::Receiver<bool>) {
        let mut buf = vec![0u8; MAX_PACKET + 1];
        let mut join = tokio::time::interval(JOIN_EVERY);
        loop {
            let wake = tokio::select! {
                biased;
                _ = closing.wait_for(|closing| *closing) => Wake::Closing,
                received = self.socket.recv_from(&mut buf) => Wake::Packet(received),
                () = tokio::time::sleep_until(self.timers.deadline()) => Wake::Timers,
                () = tokio::time::sleep_until(self.held.deadline().unwrap_or_else(far)) => Wake::Downs,
                _ = join.tick() => Wake::Join,
            };
            let out = match wake {
                Wake::Closing => return self.leave().await,
                Wake::Packet(Ok((len, from))) => self.on_packet(buf.get(..len).unwrap_or(&[]), from),
                // A datagram socket reports an earlier send's ICMP error on a later receive.
                Wake::Packet(Err(_)) => Outputs::default(),
                Wake::Timers => self.on_timers(),
                Wake::Join => self.join_connected(),
                Wake::Downs => {
                    self.confirm_downs();
                    Outputs::default()
                }
            };
            if !self.carry_out(out).await {
                return;
            }
        }
    }

    /// Leaves the cluster as the node shuts down: once its goodbyes are written to its
    /// connections, so that its peers see the orderly shutdown before the membership's word
    /// that it left (which would otherwise cut the connection as declared down).
    async fn leave(mut self) {
        if let Some(net) = self.net.upgrade() {
            net.writers_flushed().await;
        }
        let out = self.swim.leave();
        self.send(out.sends).await;
    }

    fn on_packet(&mut self, packet: &[u8], from: SocketAddr) -> Outputs {
        self.swim.on_packet(packet).unwrap_or_else(|refused| {
            self.gossip.refused.fetch_add(1, Ordering::Relaxed);
            crate::meter::counter!(crate::meter::MEMBERSHIP_PACKETS_REFUSED).increment(1);
            crate::trace::trace_event!(debug, %from, %refused, "membership packet refused");
            Outputs::default()
        })
    }

    fn on_timers(&mut self) -> Outputs {
        let mut all = Outputs::default();
        for timer in self.timers.due() {
            let out = self.swim.on_timer(timer);
            all.sends.extend(out.sends);
            all.timers.extend(out.timers);
            all.changes.extend(out.changes);
        }
        all
    }

    /// Announces this node to the connected nodes that are not members here yet; and, while
    /// the protocol has no one to talk to (alone after a partition, or just renewed after
    /// being declared down), to every member it knew and every node it saw declared down,
    /// so that the two sides of a healed partition find each other again.
    fn join_connected(&mut self) -> Outputs {
        let Some(net) = self.net.upgrade() else {
            return Outputs::default();
        };
        let members = lock(&self.gossip.members);
        let lonely = self.swim.is_lonely();
        let mut targets: Vec<SocketAddr> = net
            .connected()
            .iter()
            .filter(|slot| lonely || !members.contains_key(&slot.id))
            .filter_map(|slot| slot.listen_addr())
            .collect();
        if lonely {
            targets.extend(members.values().map(|member| member.addr));
            targets.extend(self.departed.iter().copied());
            targets.sort_unstable();
            targets.dedup();
        }
        drop(members);
        self.swim.join(&targets)
    }

    /// Sends, arms and reports what the protocol decided; false once the node is gone.
    async fn carry_out(&mut self, out: Outputs) -> bool {
        self.send(out.sends).await;
        for (after, timer) in out.timers {
            self.timers.arm(after, timer);
        }
        let Some(net) = self.net.upgrade() else {
            return false;
        };
        for change in out.changes {
            self.changed(&net, change);
        }
        true
    }

    /// Remembers where a member declared down listened, among the last few, to look for it
    /// when this node is left alone.
    fn remember_departed(&mut self, addr: SocketAddr) {
        self.departed.retain(|known| *known != addr);
        if self.departed.len() == DEPARTED_MEMORY {
            self.departed.pop_front();
        }
        self.departed.push_back(addr);
    }

    fn changed(&mut self, net: &Net, change: Change) {
        match change {
            Change::Up(member) => {
                let back = self.held.cancel(member.node);
                let new = lock(&self.gossip.members).insert(member.node, member).is_none();
                net.member_up(member.node, member.addr);
                if new && !back {
                    net.emit(NodeEvent::MemberUp {
                        node: member.node,
                        addr: member.addr,
                    });
                }
            }
            Change::Down(member) => {
                let newer = lock(&self.gossip.members)
                    .get(&member.node)
                    .is_some_and(|known| known.generation > member.generation);
                if !newer {
                    self.held.hold(member, Instant::now() + self.grace);
                }
            }
            Change::Replaced(member) => {
                self.held.cancel(member.node);
                self.confirm_down(net, member);
            }
        }
    }

    /// Reports `member` down: it is gone from the view, its node is down, and what waits on
    /// it fails.
    fn confirm_down(&mut self, net: &Net, member: Member) {
        lock(&self.gossip.members).remove(&member.node);
        self.remember_departed(member.addr);
        net.emit(NodeEvent::MemberDown {
            node: member.node,
            addr: member.addr,
        });
        net.member_down(member.node);
    }

    /// Reports the downs whose grace ran out.
    fn confirm_downs(&mut self) {
        let due = self.held.due(Instant::now());
        let Some(net) = self.net.upgrade() else {
            return;
        };
        for member in due {
            self.confirm_down(&net, member);
        }
    }

    async fn send(&self, sends: Vec<(SocketAddr, Vec<u8>)>) {
        for (to, packet) in sends {
            if let Err(error) = self.socket.send_to(&packet, to).await {
                crate::trace::trace_event!(debug, %to, %error, "membership packet not sent");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::HeldDowns;
    use crate::actor::NodeId;
    use crate::membership::member::Member;

    fn member(node: u64, generation: u16) -> Member {
        Member {
            node: NodeId::from_u64(node),
            addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
            started: 1,
            generation,
        }
    }

    #[test]
    fn a_down_is_reported_after_its_grace_unless_the_node_comes_back() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut held = HeldDowns::default();
        held.hold(member(1, 0), at(500));
        held.hold(member(2, 0), at(600));
        assert_eq!(held.deadline(), Some(at(500)));
        assert!(held.due(at(499)).is_empty());
        // Node 2 rejoins as its next generation within the grace: no down for it.
        assert!(held.cancel(NodeId::from_u64(2)));
        assert!(!held.cancel(NodeId::from_u64(3)), "nothing held for node 3");
        assert_eq!(held.due(at(700)), vec![member(1, 0)]);
        assert_eq!(held.deadline(), None);
        assert!(held.due(at(10_000)).is_empty(), "each down is reported once");
    }
}
