//! [`TestCluster`]: N nodes of one process on turmoil's simulated network and clock.
//!
//! Each node runs on a simulated host of its own, with its own tokio runtime, so crashing a
//! node drops its runtime: its actors, tasks and connections vanish at once, as in a power
//! cut. The scenario runs on a host of its own too and reaches the nodes through commands
//! that run on the node's host ([`SimNode::run`]), so what it spawns lives and dies with
//! that node. Everything runs on the calling thread, one host after another, tick by tick;
//! with the same seed, the same scenario produces the same trace.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::history::{History, Op};
use super::transport::SimTransport;
use crate::actor::{Actor, ActorId, ActorRef, NodeId};
use crate::node::{Node, NodeBuilder};
use crate::BoxError;

/// The port every simulated node listens on (each host has an address of its own).
const PORT: u16 = 4369;

/// How long, in simulated time, a scenario may run before it is failed as hung.
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(600);

/// How long the cluster must look settled before it is judged: twice the simulated
/// heartbeat timeout, so that a connection stalled by a short partition has been found
/// broken (and the registry resynchronised over the next one) before the registries are
/// compared.
const DEFAULT_SETTLE_WINDOW: Duration = Duration::from_secs(1);

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;
type Command = Box<dyn FnOnce(Node) -> LocalFuture<()>>;
type Configure = Rc<dyn Fn(usize, NodeBuilder) -> NodeBuilder>;

/// Builds and runs a [`TestCluster`].
#[must_use = "a builder does nothing until `run` is called"]
pub struct TestClusterBuilder {
    nodes: usize,
    seed: u64,
    tick: Duration,
    latency: (Duration, Duration),
    time_limit: Duration,
    settle_window: Duration,
    configure: Option<Configure>,
}

impl fmt::Debug for TestClusterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClusterBuilder")
            .field("nodes", &self.nodes)
            .field("seed", &self.seed)
            .field("tick", &self.tick)
            .field("latency", &self.latency)
            .field("time_limit", &self.time_limit)
            .field("settle_window", &self.settle_window)
            .finish_non_exhaustive()
    }
}

impl Default for TestClusterBuilder {
    fn default() -> Self {
        TestClusterBuilder {
            nodes: 3,
            seed: 0,
            tick: Duration::from_millis(1),
            latency: (Duration::from_millis(1), Duration::from_millis(5)),
            time_limit: DEFAULT_TIME_LIMIT,
            settle_window: DEFAULT_SETTLE_WINDOW,
            configure: None,
        }
    }
}

impl TestClusterBuilder {
    /// How many nodes the cluster starts with (default 3), named `node-0`, `node-1`, ...
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.nodes = nodes;
        self
    }

    /// The seed: node ids, latencies, losses, jitter and the order of events all follow
    /// from it (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The least and the most a segment takes across a link by default (default 1 to 5 ms);
    /// [`TestCluster::set_latency`] changes one link.
    pub fn latency(mut self, min: Duration, max: Duration) -> Self {
        self.latency = (min, max.max(min));
        self
    }

    /// How far the simulated clock moves per step (default 1 ms). Timers inside a node
    /// fire at their exact times whatever the tick; a longer tick makes deliveries between
    /// hosts coarser and the simulation faster.
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick.max(Duration::from_micros(100));
        self
    }

    /// Simulated time after which a scenario that has not finished fails as hung
    /// (default 600 s).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// How long [`TestCluster::check`] waits for the cluster to stay meshed with every
    /// registry in agreement before it judges the history (default 1 s: twice the
    /// heartbeat timeout). Raise it with longer heartbeats.
    pub fn settle_window(mut self, window: Duration) -> Self {
        self.settle_window = window;
        self
    }

    /// Adjusts each node's [`NodeBuilder`] (given the node's index) before it starts, on
    /// its first start and on every restart. The cluster has already set the name, cookie,
    /// transport, shorter heartbeats (100 ms, timed out after 500 ms) and a faster failure
    /// detection (probes every 250 ms, 100 ms to answer, 1 s of suspicion: a dead node is
    /// declared down about 2 s after it stops answering).
    pub fn configure(mut self, configure: impl Fn(usize, NodeBuilder) -> NodeBuilder + 'static) -> Self {
        self.configure = Some(Rc::new(configure));
        self
    }

    /// Runs `scenario` against the cluster and returns what happened. Fails if the
    /// scenario returns an error or runs past the time limit.
    pub fn run<F, Fut>(self, scenario: F) -> Result<Report, SimError>
    where
        F: FnOnce(TestCluster) -> Fut + 'static,
        Fut: Future<Output = Result<(), BoxError>> + 'static,
    {
        // The thread's generator feeds jitter and random routing; the simulation runs on
        // this thread alone, so seeding it here makes them follow the seed.
        fastrand::seed(self.seed);
        let shared = Rc::new(Shared::new(&self));
        let mut sim = turmoil::Builder::new()
            .rng_seed(self.seed)
            .tick_duration(self.tick)
            .simulation_duration(self.time_limit)
            .min_message_latency(self.latency.0)
            .max_message_latency(self.latency.1)
            // Every node may dial one node at once as the cluster forms (turmoil panics when
            // a listener's queue overflows), and gossip arrives in bursts.
            .tcp_capacity(64.max(self.nodes * 4))
            .udp_capacity(256.max(self.nodes * 4))
            .build();
        for index in 0..self.nodes {
            let shared = Rc::clone(&shared);
            sim.host(host_name(index), move || software(Rc::clone(&shared), index));
        }
        let cluster = TestCluster {
            shared: Rc::clone(&shared),
        };
        sim.client("scenario", async move {
            scenario(cluster)
                .await
                .map_err(|error| match error.downcast::<SimError>() {
                    Ok(error) => error.message.into(),
                    Err(error) => error.to_string().into(),
                })
        });
        drive(&mut sim, &shared)?;
        Ok(shared.report(sim.elapsed()))
    }
}

/// Steps the simulation until the scenario ends, applying between steps what needs the
/// simulation itself (crashes, restarts, link settings).
fn drive(sim: &mut turmoil::Sim<'_>, shared: &Rc<Shared>) -> Result<(), SimError> {
    loop {
        let finished = sim
            .step()
            .map_err(|error| SimError::new(shared, error.to_string()))?;
        shared.history.set_clock(sim.elapsed());
        if finished {
            return Ok(());
        }
        loop {
            let next = shared.requests.borrow_mut().pop_front();
            let Some((request, done)) = next else { break };
            apply(sim, shared, request);
            let _ = done.send(());
        }
    }
}

fn apply(sim: &mut turmoil::Sim<'_>, shared: &Shared, request: Request) {
    match request {
        Request::Crash(index) => power_cut(sim, shared, index),
        Request::Restart(index) => {
            if sim.is_host_running(host_name(index)) {
                power_cut(sim, shared, index);
            }
            sim.bounce(host_name(index));
        }
        Request::Latency { a, b, min, max } => {
            // Sets both bounds to `min`, then raises the upper one.
            sim.set_link_latency(host_name(a), host_name(b), min);
            sim.set_link_max_message_latency(host_name(a), host_name(b), max.max(min));
        }
        Request::Loss { a, b, rate } => {
            sim.set_link_fail_rate(host_name(a), host_name(b), rate);
            shared.links.borrow_mut().set_loss(a, b, rate);
        }
    }
}

/// Crashes node `index` as a machine that loses power: nothing it had in flight arrives and
/// its sockets close without a word (no FIN, no RST), so its peers learn of it from their
/// heartbeats, or from a reset once it runs again. Its links are cut while its runtime is
/// dropped (with their losses off, so that the cut draws nothing from the seeded generator:
/// the order in which tokio drops the node's tasks varies between runs of one process), and
/// then restored as the scenario left them.
fn power_cut(sim: &mut turmoil::Sim<'_>, shared: &Shared, index: usize) {
    let others: Vec<usize> = (0..shared.slots.borrow().len())
        .filter(|&other| other != index)
        .collect();
    for &other in &others {
        sim.set_link_fail_rate(host_name(index), host_name(other), 0.0);
        sim.partition(host_name(index), host_name(other));
    }
    sim.crash(host_name(index));
    shared.crashed(index);
    let links = shared.links.borrow();
    for &other in &others {
        if !links.partitioned(index, other) {
            sim.repair(host_name(index), host_name(other));
        }
        let rate = links.loss(index, other);
        if rate > 0.0 {
            sim.set_link_fail_rate(host_name(index), host_name(other), rate);
        }
    }
}

/// What the scenario set on the links: which are cut and how lossy each is.
#[derive(Default)]
struct Links {
    partitioned: BTreeSet<(usize, usize)>,
    losses: BTreeMap<(usize, usize), f64>,
}

impl Links {
    fn key(a: usize, b: usize) -> (usize, usize) {
        (a.min(b), a.max(b))
    }

    fn partition(&mut self, a: usize, b: usize) {
        self.partitioned.insert(Self::key(a, b));
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        self.partitioned.contains(&Self::key(a, b))
    }

    fn set_loss(&mut self, a: usize, b: usize, rate: f64) {
        self.losses.insert(Self::key(a, b), rate);
    }

    fn loss(&self, a: usize, b: usize) -> f64 {
        self.losses.get(&Self::key(a, b)).copied().unwrap_or(0.0)
    }
}

/// The simulated host name of node `index`.
fn host_name(index: usize) -> String {
    format!("node-{index}")
}

/// What the scenario asks of the simulation itself.
enum Request {
    Crash(usize),
    Restart(usize),
    Latency {
        a: usize,
        b: usize,
        min: Duration,
        max: Duration,
    },
    Loss {
        a: usize,
        b: usize,
        rate: f64,
    },
}

/// One node as the simulation knows it.
struct Slot {
    incarnation: u32,
    running: Option<Running>,
    /// Set on a crash, cleared by the restart.
    crashed: bool,
}

struct Running {
    node: Node,
    commands: mpsc::UnboundedSender<Command>,
}

/// What the driver, the hosts and the scenario share (all on one thread).
struct Shared {
    seed: u64,
    settle_window: Duration,
    configure: Option<Configure>,
    slots: RefCell<Vec<Slot>>,
    requests: RefCell<VecDeque<(Request, oneshot::Sender<()>)>>,
    links: RefCell<Links>,
    history: History,
}

impl Shared {
    fn new(builder: &TestClusterBuilder) -> Self {
        let slots = (0..builder.nodes)
            .map(|_| Slot {
                incarnation: 0,
                running: None,
                crashed: false,
            })
            .collect();
        Shared {
            seed: builder.seed,
            settle_window: builder.settle_window,
            configure: builder.configure.clone(),
            slots: RefCell::new(slots),
            requests: RefCell::new(VecDeque::new()),
            links: RefCell::new(Links::default()),
            history: History::default(),
        }
    }

    /// Starts the next incarnation of node `index`; the first is 0.
    fn begin(&self, index: usize) -> u32 {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        if slot.crashed || slot.running.is_some() {
            slot.incarnation += 1;
        }
        slot.crashed = false;
        slot.running = None;
        slot.incarnation
    }

    fn crashed(&self, index: usize) {
        let running = {
            let mut slots = self.slots.borrow_mut();
            slots[index].crashed = true;
            slots[index].running.take()
        };
        self.history.record(index, Op::Crashed);
        drop(running);
    }

    fn running(&self, index: usize) -> Option<(Node, mpsc::UnboundedSender<Command>)> {
        let slots = self.slots.borrow();
        let running = slots.get(index)?.running.as_ref()?;
        Some((running.node.clone(), running.commands.clone()))
    }

    fn report(&self, elapsed: Duration) -> Report {
        Report {
            seed: self.seed,
            elapsed,
            history: self.history.clone(),
        }
    }
}

/// The id of incarnation `incarnation` of node `index` under `seed`: distinct for every
/// node and incarnation, and the same on every run of the seed.
fn node_id(seed: u64, index: usize, incarnation: u32) -> NodeId {
    let mut x = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(incarnation) << 48);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^= x >> 33;
    NodeId::from_u64(x)
}

/// How the simulated nodes' membership finds deaths: as fast as the simulated network
/// allows, so that scenarios need not wait out a LAN's suspicion (a dead node is declared
/// down within about 1.5 s).
const SIM_FAILURE_DETECTION: crate::membership::FailureDetection = crate::membership::FailureDetection {
    probe_period: Duration::from_millis(250),
    probe_timeout: Duration::from_millis(100),
    suspicion: Duration::from_secs(1),
};

/// The software of node `index`'s host: start the node, join the cluster, then run the
/// scenario's commands until the host crashes.
async fn software(shared: Rc<Shared>, index: usize) -> turmoil::Result {
    let incarnation = shared.begin(index);
    let ip = turmoil::lookup(host_name(index));
    let builder = Node::builder()
        .name(host_name(index))
        .cookie(format!("distribute-testing-{}", shared.seed))
        .listen(SocketAddr::new(ip, PORT))
        .transport(SimTransport::new(ip))
        .heartbeat(Duration::from_millis(100), Duration::from_millis(500))
        .failure_detection(SIM_FAILURE_DETECTION)
        .identity(node_id(shared.seed, index, incarnation));
    let builder = match &shared.configure {
        Some(configure) => configure(index, builder),
        None => builder,
    };
    let node = builder.start().await?;
    let (commands, mut incoming) = mpsc::unbounded_channel::<Command>();
    shared.slots.borrow_mut()[index].running = Some(Running {
        node: node.clone(),
        commands,
    });
    shared.history.record(
        index,
        Op::Started {
            id: node.id(),
            incarnation,
        },
    );
    tokio::task::spawn_local(record_events(Rc::clone(&shared), index, node.clone()));
    tokio::task::spawn_local(join(Rc::clone(&shared), index, node.clone()));
    while let Some(command) = incoming.recv().await {
        tokio::task::spawn_local(command(node.clone()));
    }
    Ok(())
}

/// Records the node's events into the history, as they happen.
async fn record_events(shared: Rc<Shared>, index: usize, node: Node) {
    let mut events = node.events();
    drop(node);
    while let Some(event) = events.recv().await {
        shared.history.record(index, Op::Event(event));
    }
}

/// Connects the node to the first other node that answers, as a new member would through
/// its seed list; introductions and the registry's sync do the rest.
async fn join(shared: Rc<Shared>, index: usize, node: Node) {
    let count = shared.slots.borrow().len();
    loop {
        for other in (0..count).filter(|&other| other != index) {
            let addr = SocketAddr::new(turmoil::lookup(host_name(other)), PORT);
            if node.connect(addr).await.is_ok() {
                return;
            }
        }
        if count < 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The cluster as a scenario sees it: its nodes, its links and its clock.
#[derive(Clone)]
pub struct TestCluster {
    shared: Rc<Shared>,
}

impl fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCluster")
            .field("seed", &self.shared.seed)
            .field("nodes", &self.len())
            .finish()
    }
}

impl TestCluster {
    /// A builder: 3 nodes, seed 0.
    pub fn builder() -> TestClusterBuilder {
        TestClusterBuilder::default()
    }

    /// The seed this run follows.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// How many nodes the cluster has (running or not).
    pub fn len(&self) -> usize {
        self.shared.slots.borrow().len()
    }

    /// Whether the cluster has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Node `index`.
    pub fn node(&self, index: usize) -> SimNode {
        SimNode {
            index,
            shared: Rc::clone(&self.shared),
        }
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_default()
    }

    /// Lets `duration` of simulated time pass.
    pub async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// What has been recorded so far.
    pub fn history(&self) -> History {
        self.shared.history.clone()
    }

    /// Cuts every link between a node of `a` and a node of `b`, both ways; what was in
    /// flight on them is lost.
    pub fn partition(&self, a: &[usize], b: &[usize]) {
        for &x in a {
            for &y in b {
                if x != y {
                    turmoil::partition(host_name(x), host_name(y));
                    self.shared.links.borrow_mut().partition(x, y);
                }
            }
        }
        self.shared.history.record_cluster(Op::Partition {
            a: a.to_vec(),
            b: b.to_vec(),
        });
    }

    /// Repairs every link between two nodes.
    pub fn heal(&self) {
        let views = (0..self.len())
            .filter_map(|index| self.node(index).global_names().map(|names| (index, names)))
            .collect();
        let count = self.len();
        for x in 0..count {
            for y in x + 1..count {
                turmoil::repair(host_name(x), host_name(y));
            }
        }
        self.shared.links.borrow_mut().partitioned.clear();
        self.shared.history.record_cluster(Op::Heal { views });
    }

    /// Sets the latency of the link between nodes `a` and `b`: each segment takes between
    /// `min` and `max` (the difference is the jitter), drawn from the seed.
    pub async fn set_latency(&self, a: usize, b: usize, min: Duration, max: Duration) {
        self.request(Request::Latency { a, b, min, max }).await;
    }

    /// Makes the link between nodes `a` and `b` lossy: at each step it breaks with
    /// probability `rate`, dropping what is in flight (a TCP stream that lost a segment
    /// stalls, and the nodes' heartbeats find it), and a broken link is repaired at the
    /// simulator's repair rate. A rate of 0 stops the losses (a broken link stays broken
    /// until repaired: [`heal`](Self::heal) repairs every link).
    pub async fn set_loss(&self, a: usize, b: usize, rate: f64) {
        self.request(Request::Loss { a, b, rate }).await;
    }

    /// Crashes node `index`: its runtime is dropped with every actor, task and connection
    /// on it, at once and without a goodbye. Its peers find out as they would from a
    /// machine that lost power: their heartbeats time out (calls in flight fail with
    /// `ConnectionLost`), and the membership declares it down (everything else waiting on
    /// it fails with `NodeDown`).
    pub async fn crash(&self, index: usize) {
        self.request(Request::Crash(index)).await;
    }

    /// Starts node `index` again as a new incarnation (a new node id), crashing it first
    /// if it runs. Returns once it runs (not yet joined: see [`TestCluster::wait_connected`]).
    pub async fn restart(&self, index: usize) {
        self.request(Request::Restart(index)).await;
        while self.shared.running(index).is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    pub(super) fn error(&self, message: String) -> SimError {
        SimError::new(&self.shared, message)
    }

    async fn request(&self, request: Request) {
        let (done, applied) = oneshot::channel();
        self.shared.requests.borrow_mut().push_back((request, done));
        let _ = applied.await;
    }

    /// Waits until every running node is connected to every other running node, polling
    /// the simulated clock; fails after `timeout`.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), SimError> {
        let deadline = self.elapsed() + timeout;
        while !self.meshed() {
            if self.elapsed() >= deadline {
                let message = format!("the running nodes did not all connect within {timeout:?}");
                return Err(SimError::new(&self.shared, message));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Whether every running node is connected to every other running node.
    pub fn meshed(&self) -> bool {
        let running: Vec<Node> = (0..self.len())
            .filter_map(|index| self.shared.running(index).map(|(node, _)| node))
            .collect();
        let ids: Vec<NodeId> = running.iter().map(Node::id).collect();
        running.iter().all(|node| {
            let connected: Vec<NodeId> = node.connected_nodes().iter().map(|peer| peer.id).collect();
            ids.iter().all(|id| *id == node.id() || connected.contains(id))
        })
    }

    /// How long the cluster must stay meshed and agreed before [`check`](Self::check)
    /// judges it.
    pub(super) fn settle_window(&self) -> Duration {
        self.shared.settle_window
    }
}

/// One node of a [`TestCluster`], across its incarnations.
#[derive(Clone)]
pub struct SimNode {
    index: usize,
    shared: Rc<Shared>,
}

impl fmt::Debug for SimNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimNode").field("index", &self.index).finish()
    }
}

impl SimNode {
    /// The node's index in the cluster.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The running incarnation's [`Node`], or `None` while it is crashed or starting. Use
    /// it to read (lookups, peers); run what spawns or connects with [`run`](Self::run), so
    /// that it lives on the node's host.
    pub fn get(&self) -> Option<Node> {
        self.shared.running(self.index).map(|(node, _)| node)
    }

    /// The running incarnation's id.
    pub fn id(&self) -> Option<NodeId> {
        self.get().map(|node| node.id())
    }

    /// Runs `work` on the node's host and returns its output, or [`NodeCrashed`] if the
    /// node is not running or crashes before `work` ends. What `work` spawns belongs to the
    /// node and vanishes with it.
    ///
    /// All nodes share one process, so a ref made on one node and moved into `work` for
    /// another still reaches its actor in-process, past the simulated network. Hand refs
    /// between nodes as a real cluster does: look the actor up by name on the node that
    /// calls it, or [`adopt`](Self::adopt) the ref first.
    pub async fn run<T, F, Fut>(&self, work: F) -> Result<T, NodeCrashed>
    where
        T: 'static,
        F: FnOnce(Node) -> Fut + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let (_, commands) = self.shared.running(self.index).ok_or(NodeCrashed(self.index))?;
        let (reply, output) = oneshot::channel();
        let command: Command = Box::new(move |node| {
            Box::pin(async move {
                let _ = reply.send(work(node).await);
            })
        });
        commands.send(command).map_err(|_| NodeCrashed(self.index))?;
        output.await.map_err(|_| NodeCrashed(self.index))
    }

    /// `actor` as this node sees it, as if the ref had reached it in a message: local if
    /// the actor lives here, otherwise through this node's connection to the actor's node,
    /// so that calls cross the simulated network and fail as it makes them fail.
    pub async fn adopt<A: Actor>(&self, actor: &ActorRef<A>) -> Result<ActorRef<A>, NodeCrashed> {
        let id = actor.id();
        self.run(move |node| async move { node.ref_to(id).unwrap_or_else(|| node.local_ref(id)) })
            .await
    }

    pub(super) fn history(&self) -> History {
        self.shared.history.clone()
    }

    /// The owner of every name in the node's replica of the global registry, by name.
    pub fn global_names(&self) -> Option<Vec<(String, ActorId)>> {
        self.get().map(|node| node.global_owners())
    }
}

/// A node was not running, or crashed before the work given to it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("node {0} is not running (crashed, or not started yet)")]
pub struct NodeCrashed(pub usize);

/// A simulation that failed: the scenario returned an error or hung.
#[derive(Debug, Clone, thiserror::Error)]
#[error("seed {seed}: {message}")]
pub struct SimError {
    /// The seed that replays it.
    pub seed: u64,
    /// What went wrong.
    pub message: String,
    /// What had been recorded when it failed.
    pub history: History,
}

impl SimError {
    fn new(shared: &Shared, message: String) -> Self {
        SimError {
            seed: shared.seed,
            message,
            history: shared.history.clone(),
        }
    }
}

/// What a finished simulation recorded.
#[derive(Debug, Clone)]
pub struct Report {
    /// The seed it ran with.
    pub seed: u64,
    /// Simulated time it took.
    pub elapsed: Duration,
    /// Everything recorded, in order.
    pub history: History,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_per_node_and_incarnation_and_repeat_per_seed() {
        let mut ids = Vec::new();
        for index in 0..4 {
            for incarnation in 0..4 {
                ids.push(node_id(7, index, incarnation));
            }
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        assert_eq!(node_id(7, 2, 1), node_id(7, 2, 1));
        assert_ne!(node_id(7, 2, 1), node_id(8, 2, 1));
    }
}
