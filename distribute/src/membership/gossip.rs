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
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use foca::Timer;
use tokio::time::Instant;

use super::member::Member;
use super::swim::{Change, Outputs, Swim, SwimTimings, MAX_PACKET};
use crate::actor::NodeId;
use crate::lock::lock;
use crate::net::{DatagramSocket, Net, NodeDownReason, NodeEvent};

/// How often a node announces itself to connected nodes that are not members yet.
pub(crate) const JOIN_EVERY: Duration = Duration::from_secs(1);

/// How long a node the membership counts out may still say goodbye on its connection
/// before the connection is cut as declared down.
const GOODBYE_GRACE: Duration = Duration::from_millis(500);

/// The size of cluster the protocol's timings are tuned for.
const EXPECTED_NODES: u32 = 16;

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
pub(crate) async fn start(net: &Arc<Net>, cookie: &[u8]) -> Option<Arc<Gossip>> {
    let me = net.advertised;
    if me.ip().is_unspecified() {
        tracing::info!(node = %net.config.name, "no membership gossip: advertise an address to enable it");
        return None;
    }
    let socket = match net.bind_datagram(net.listen).await {
        Ok(socket) => socket,
        Err(error) => {
            tracing::info!(node = %net.config.name, %error, "no membership gossip");
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
    let timings = SwimTimings::lan(EXPECTED_NODES);
    let swim = Swim::new(member, cookie, timings, EXPECTED_NODES, fastrand::u64(..))?;
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
    };
    tokio::spawn(driver.run(net.closing()));
    Some(gossip)
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
}

/// What woke the driver.
enum Wake {
    Closing,
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
                _ = join.tick() => Wake::Join,
            };
            let out = match wake {
                Wake::Closing => return self.leave().await,
                Wake::Packet(Ok((len, from))) => self.on_packet(buf.get(..len).unwrap_or(&[]), from),
                // A datagram socket reports an earlier send's ICMP error on a later receive.
                Wake::Packet(Err(_)) => Outputs::default(),
                Wake::Timers => self.on_timers(),
                Wake::Join => self.join_connected(),
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
            metrics::counter!("distribute_membership_packets_refused_total").increment(1);
            tracing::debug!(%from, %refused, "membership packet refused");
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

    /// Announces this node to the connected nodes that are not members here yet.
    fn join_connected(&mut self) -> Outputs {
        let Some(net) = self.net.upgrade() else {
            return Outputs::default();
        };
        let members = lock(&self.gossip.members);
        let strangers: Vec<SocketAddr> = net
            .connected()
            .iter()
            .filter(|slot| !members.contains_key(&slot.id))
            .filter_map(|slot| slot.listen_addr())
            .collect();
        drop(members);
        self.swim.join(&strangers)
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

    fn changed(&self, net: &Net, change: Change) {
        match change {
            Change::Up(member) => {
                lock(&self.gossip.members).insert(member.node, member);
                net.emit(NodeEvent::MemberUp {
                    node: member.node,
                    addr: member.addr,
                });
            }
            Change::Down(member) => {
                lock(&self.gossip.members).remove(&member.node);
                net.emit(NodeEvent::MemberDown {
                    node: member.node,
                    addr: member.addr,
                });
                if let Some(slot) = net.connected_slot(member.node) {
                    // A node that left in order said goodbye on its connection first, but the
                    // two travel apart and are read by different tasks: give the goodbye
                    // time to be read before cutting what is still up.
                    tokio::spawn(async move {
                        tokio::time::sleep(GOODBYE_GRACE).await;
                        if slot.is_up() {
                            slot.cut_because(NodeDownReason::DeclaredDown);
                        }
                    });
                }
            }
        }
    }

    async fn send(&self, sends: Vec<(SocketAddr, Vec<u8>)>) {
        for (to, packet) in sends {
            if let Err(error) = self.socket.send_to(&packet, to).await {
                tracing::debug!(%to, %error, "membership packet not sent");
            }
        }
    }
}
