//! Clusters of [`Swim`] state machines in simulated time, with seeded latencies: how long a
//! cluster takes to converge, to see a killed node down, to see a node leave; and what a
//! node does with packets it should not believe.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use foca::Timer;

use super::{Change, Outputs, Refused, Swim, SwimTimings, MAX_MEMBERS};
use crate::actor::NodeId;
use crate::membership::member::Member;

const COOKIE: &[u8] = b"swim-sim-cookie";

enum Event {
    Packet { from: usize, to: usize, bytes: Vec<u8> },
    Timer { node: usize, timer: Timer<Member> },
}

struct Sim {
    now: Duration,
    nodes: Vec<Swim>,
    alive: Vec<bool>,
    by_addr: HashMap<SocketAddr, usize>,
    queue: BinaryHeap<Reverse<(Duration, u64)>>,
    events: HashMap<u64, Event>,
    next: u64,
    rng: fastrand::Rng,
    /// Per node: when it saw each other node go down.
    downs: Vec<HashMap<NodeId, Duration>>,
    /// Nodes cut off from all others: their packets are lost both ways.
    isolated: Vec<bool>,
    timings: SwimTimings,
}

fn addr(index: usize) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 20_000 + index as u16))
}

impl Sim {
    fn new(count: usize, seed: u64) -> Sim {
        let timings = SwimTimings::lan(count as u32);
        let nodes: Vec<Swim> = (0..count)
            .map(|index| {
                let me = Member {
                    node: NodeId::from_u64(1000 + index as u64),
                    addr: addr(index),
                    started: 1,
                    generation: 0,
                };
                Swim::new(me, COOKIE, timings, count as u32, seed ^ index as u64).expect("a cookie")
            })
            .collect();
        Sim {
            now: Duration::ZERO,
            alive: vec![true; count],
            by_addr: (0..count).map(|index| (addr(index), index)).collect(),
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            next: 0,
            rng: fastrand::Rng::with_seed(seed),
            downs: vec![HashMap::new(); count],
            isolated: vec![false; count],
            nodes,
            timings,
        }
    }

    fn schedule(&mut self, after: Duration, event: Event) {
        self.next += 1;
        self.events.insert(self.next, event);
        self.queue.push(Reverse((self.now + after, self.next)));
    }

    fn apply(&mut self, node: usize, out: Outputs) {
        for (to, bytes) in out.sends {
            if let Some(&to) = self.by_addr.get(&to) {
                let latency = Duration::from_micros(self.rng.u64(500..5_000));
                self.schedule(
                    latency,
                    Event::Packet {
                        from: node,
                        to,
                        bytes,
                    },
                );
            }
        }
        for (after, timer) in out.timers {
            self.schedule(after, Event::Timer { node, timer });
        }
        for change in out.changes {
            match change {
                Change::Down(member) | Change::Replaced(member) => {
                    self.downs[node].entry(member.node).or_insert(self.now);
                }
                Change::Up(member) => {
                    self.downs[node].remove(&member.node);
                }
            }
        }
    }

    fn join_all_through(&mut self, seed: usize) {
        for node in (0..self.nodes.len()).filter(|node| *node != seed) {
            let out = self.nodes[node].join(&[addr(seed)]);
            self.apply(node, out);
        }
    }

    /// Runs until `until` (simulated).
    fn run_until(&mut self, until: Duration) {
        while let Some(Reverse((at, key))) = self.queue.peek().copied() {
            if at > until {
                break;
            }
            self.queue.pop();
            self.now = at;
            let Some(event) = self.events.remove(&key) else {
                continue;
            };
            let (node, out) = match event {
                Event::Packet { from, to, bytes }
                    if self.alive[to] && !self.isolated[from] && !self.isolated[to] =>
                {
                    (to, self.nodes[to].on_packet(&bytes))
                }
                Event::Timer { node, timer } if self.alive[node] => {
                    (node, Ok(self.nodes[node].on_timer(timer)))
                }
                _ => continue,
            };
            if let Ok(out) = out {
                self.apply(node, out);
            }
        }
        self.now = until;
    }

    /// Steps by 10 ms until `done` holds; the simulated time it took, or `None` by `limit`.
    fn time_until(&mut self, limit: Duration, done: impl Fn(&Sim) -> bool) -> Option<Duration> {
        let start = self.now;
        while self.now - start <= limit {
            if done(self) {
                return Some(self.now - start);
            }
            let next = self.now + Duration::from_millis(10);
            self.run_until(next);
        }
        None
    }

    fn converged(&self) -> bool {
        let alive = self.alive.iter().filter(|alive| **alive).count();
        if self.isolated.iter().any(|isolated| *isolated) {
            return false;
        }
        (0..self.nodes.len())
            .filter(|node| self.alive[*node])
            .all(|node| self.nodes[node].members().len() == alive - 1)
    }

    fn all_saw_down(&self, victim: usize) -> bool {
        let id = self.nodes[victim].me().node;
        (0..self.nodes.len())
            .filter(|node| self.alive[*node] && *node != victim)
            .all(|node| self.downs[node].contains_key(&id))
    }
}

#[test]
fn a_hundred_nodes_converge_within_five_seconds_from_one_seed() {
    for seed in 0..3 {
        let mut sim = Sim::new(100, seed);
        sim.join_all_through(0);
        let took = sim.time_until(Duration::from_secs(5), Sim::converged);
        println!("swim.converge_100\t{:?}\tseed {seed}", took);
        assert!(
            took.is_some(),
            "seed {seed}: no single view of 100 nodes within 5 s"
        );
    }
}

#[test]
fn a_killed_node_is_seen_down_by_all_within_the_suspicion_time() {
    for seed in 0..20 {
        let mut sim = Sim::new(30, seed);
        sim.join_all_through(0);
        assert!(sim.time_until(Duration::from_secs(5), Sim::converged).is_some());
        sim.run_until(sim.now + Duration::from_secs(2));
        sim.alive[7] = false;
        // Detection: a probe must miss it first (each node probes one member a period, in a
        // shuffled round, so within a few periods someone has), then the suspicion runs
        // out, then the word spreads in milliseconds.
        let bound = sim.timings.suspicion + sim.timings.probe_period * 8;
        let took = sim.time_until(bound, |sim| sim.all_saw_down(7));
        println!(
            "swim.down_30\t{took:?}\tseed {seed}, suspicion {:?}",
            sim.timings.suspicion
        );
        assert!(
            took.is_some(),
            "seed {seed}: not everyone saw node 7 down within {bound:?}"
        );
        assert!(
            sim.time_until(Duration::from_secs(1), Sim::converged).is_some(),
            "the others agree on who is left"
        );
    }
}

#[test]
fn a_node_that_leaves_is_seen_gone_at_once() {
    let mut sim = Sim::new(10, 4);
    sim.join_all_through(0);
    assert!(sim.time_until(Duration::from_secs(5), Sim::converged).is_some());
    let out = sim.nodes[3].leave();
    sim.apply(3, out);
    sim.alive[3] = false;
    let took = sim.time_until(Duration::from_secs(2), |sim| sim.all_saw_down(3));
    assert!(took.is_some(), "a leave spreads well before any suspicion would");
}

#[test]
fn packets_without_the_cluster_key_are_refused_and_change_nothing() {
    let mut sim = Sim::new(3, 1);
    sim.join_all_through(0);
    assert!(sim.time_until(Duration::from_secs(5), Sim::converged).is_some());
    // A node with another cookie: its announcement is refused by the cluster.
    let stranger = Member {
        node: NodeId::from_u64(99),
        addr: addr(9),
        started: 1,
        generation: 0,
    };
    let mut outsider = Swim::new(stranger, b"another cookie", sim.timings, 3, 9).expect("a cookie");
    let announce = outsider.join(&[addr(0)]);
    for (_, packet) in announce.sends {
        assert_eq!(sim.nodes[0].on_packet(&packet).err(), Some(Refused::Unsealed));
    }
    assert_eq!(sim.nodes[0].on_packet(b"").err(), Some(Refused::Unsealed));
    assert_eq!(sim.nodes[0].on_packet(&[7; 40]).err(), Some(Refused::Unsealed));
    assert_eq!(
        sim.nodes[0].on_packet(&[0; 2000]).err(),
        Some(Refused::Oversize(2000))
    );
    assert_eq!(sim.nodes[0].members().len(), 2, "nothing learnt from them");
}

#[test]
fn a_node_cut_off_past_its_suspicion_comes_back_as_the_same_node() {
    let mut sim = Sim::new(8, 5);
    sim.join_all_through(0);
    assert!(sim.time_until(Duration::from_secs(5), Sim::converged).is_some());
    sim.isolated[5] = true;
    let bound = sim.timings.suspicion + sim.timings.probe_period * 8;
    assert!(sim.time_until(bound, |sim| sim.all_saw_down(5)).is_some());
    sim.isolated[5] = false;
    // Told it was declared down, it rejoins under its next generation: the others count
    // it in again, as the same node (an Up, with no Down after the heal).
    let back = sim.time_until(Duration::from_secs(10), Sim::converged);
    assert!(back.is_some(), "the cluster never took it back");
    let id = sim.nodes[5].me().node;
    assert!(
        (0..8).all(|node| !sim.downs[node].contains_key(&id)),
        "nobody holds it down"
    );
    assert_eq!(sim.nodes[5].me().generation, 1);
}

#[test]
fn a_member_announcing_made_up_members_fills_a_bounded_table() {
    let mut sim = Sim::new(3, 2);
    sim.join_all_through(0);
    assert!(sim.time_until(Duration::from_secs(5), Sim::converged).is_some());
    // One holder of the cookie announces itself under thousands of made-up identities.
    let mut refused = 0;
    for fake in 0..MAX_MEMBERS as u64 + 500 {
        let identity = Member {
            node: NodeId::from_u64(1_000_000 + fake),
            addr: SocketAddr::from(([127, 0, 1, (fake % 250) as u8], 30_000 + (fake / 250) as u16)),
            started: 1,
            generation: 0,
        };
        let mut liar = Swim::new(identity, COOKIE, sim.timings, 3, fake).expect("a cookie");
        for (_, packet) in liar.join(&[addr(0)]).sends {
            if sim.nodes[0].on_packet(&packet).is_err() {
                refused += 1;
            }
        }
    }
    assert!(sim.nodes[0].held() <= MAX_MEMBERS, "{} held", sim.nodes[0].held());
    assert!(refused >= 500, "{refused} refused");
    // The real members are still there, and still gossip.
    let real: Vec<NodeId> = (1..3).map(|node| sim.nodes[node].me().node).collect();
    assert!(real
        .iter()
        .all(|id| sim.nodes[0].members().iter().any(|member| member.node == *id)));
}
