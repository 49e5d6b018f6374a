//! Helpers shared by the integration tests: test actors and waiting with a deadline.

use std::future::Future;
use std::time::Duration;

pub mod fake_peer;
pub mod introspect;
pub mod process;
pub mod wire;

use distribute::prelude::*;
use tokio::sync::watch;

/// How long a test waits for an event before it fails. Generous: a deadline, not a
/// measurement.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test with `what` if it does not finish within [`DEADLINE`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A gate that handlers can wait on, opened by the test.
#[derive(Clone)]
pub struct Gate {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Gate {
            tx: std::sync::Arc::new(watch::channel(false).0),
        }
    }

    /// Opens the gate for every waiter, now and later.
    pub fn open(&self) {
        self.tx.send_replace(true);
    }

    /// Waits until the gate is open.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|open| *open).await;
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

/// A counter with a gate: `hold` blocks the actor until the gate opens, `boom` panics.
#[actor]
pub struct Counter {
    pub n: u64,
    pub gate: Gate,
}

impl Counter {
    /// A counter at zero behind a closed gate.
    pub fn new(gate: Gate) -> Self {
        Counter { n: 0, gate }
    }
}

#[actor]
impl Counter {
    /// Adds `by`.
    #[message]
    pub fn add(&mut self, by: u64) {
        self.n += by;
    }

    /// The current value.
    #[message]
    pub fn get(&self) -> u64 {
        self.n
    }

    /// Blocks the actor until the gate opens.
    #[message]
    pub async fn hold(&mut self) {
        self.gate.wait().await;
    }

    /// Blocks until the gate opens, then answers.
    #[message]
    pub async fn hold_then_get(&mut self) -> u64 {
        self.gate.wait().await;
        self.n
    }

    /// Panics with the given text.
    #[message]
    pub fn boom(&mut self, text: String) -> u64 {
        panic!("{text}")
    }
}

/// Waits (yielding) until `done` holds; fails the test after [`DEADLINE`] of wall-clock time,
/// also under a paused tokio clock, where a busy wait would never let tokio time advance.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + DEADLINE;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::task::yield_now().await;
    }
}

/// Queues `n` calls to `get` behind the `behind` messages the counter has yet to take, and
/// returns them once they are all in its mailbox.
pub async fn queue_gets(
    counter: &ActorRef<Counter>,
    behind: usize,
    n: usize,
) -> Vec<tokio::task::JoinHandle<Result<u64, CallError>>> {
    let calls = (0..n)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move { counter.get().await })
        })
        .collect();
    until("queued calls", || counter.mailbox_len() >= behind + n).await;
    calls
}

/// The cookie of the test clusters.
pub const COOKIE: &str = "distribute-test-cookie";

/// A networked node named `name` on 127.0.0.1 with an OS-chosen port.
pub async fn net_node(name: &str) -> Node {
    match Node::builder().name(name).cookie(COOKIE).start().await {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

/// Waits until every node of `nodes` counts every other in its membership.
pub async fn converged(nodes: &[&Node]) {
    poll_until("every node to count every other in", || {
        nodes
            .iter()
            .all(|node| node.cluster_members().len() == nodes.len() - 1)
    })
    .await;
}

/// Starts the node `builder` makes on a runtime of its own, on threads of its own:
/// [`crash`] drops the runtime as a crash would (its tasks and sockets vanish, nothing says
/// goodbye).
pub async fn on_own_runtime(builder: distribute::NodeBuilder) -> (tokio::runtime::Runtime, Node) {
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|error| panic!("a runtime: {error}"));
        let node = runtime.block_on(builder.start());
        (runtime, node.unwrap_or_else(|error| panic!("{error}")))
    })
    .await
    .unwrap_or_else(|error| panic!("{error}"))
}

/// Crashes the node of a runtime from [`on_own_runtime`].
pub async fn crash(runtime: tokio::runtime::Runtime) {
    tokio::task::spawn_blocking(move || runtime.shutdown_background())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
}

/// A networked node without a membership: a full mesh in which a lost connection is the
/// node down (for tests that cut connections to make a partition, or relay them).
pub async fn mesh_node(name: &str) -> Node {
    match Node::builder()
        .name(name)
        .cookie(COOKIE)
        .membership(false)
        .start()
        .await
    {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

/// Failure detection for tests that kill nodes: a dead member is declared down by the
/// cluster about 1.5 s after it stops answering, instead of the LAN default's 5 to 8 s.
pub const FAST_DETECTION: distribute::membership::FailureDetection =
    distribute::membership::FailureDetection {
        probe_period: Duration::from_millis(200),
        probe_timeout: Duration::from_millis(100),
        suspicion: Duration::from_secs(1),
    };

/// A networked node like [`net_node`] whose membership finds deaths fast
/// ([`FAST_DETECTION`]).
pub async fn fast_node(name: &str) -> Node {
    let builder = Node::builder()
        .name(name)
        .cookie(COOKIE)
        .failure_detection(FAST_DETECTION);
    match builder.start().await {
        Ok(node) => node,
        Err(error) => panic!("node {name} did not start: {error}"),
    }
}

/// Waits, on the node's events rather than by polling, until `node` is connected to at least
/// `n` nodes; fails after [`DEADLINE`].
pub async fn wait_connected(node: &Node, n: usize) {
    let mut events = node.events();
    within(&format!("{} to see {n} nodes", node.name()), async {
        while node.connected_nodes().len() < n {
            events.recv().await;
        }
    })
    .await;
}

/// Waits for the first event that `matches` accepts and returns it; fails after [`DEADLINE`].
pub async fn wait_event(
    events: &mut distribute::NodeEvents,
    what: &str,
    mut matches: impl FnMut(&distribute::NodeEvent) -> bool,
) -> distribute::NodeEvent {
    within(what, async {
        loop {
            match events.recv().await {
                Some(event) if matches(&event) => return event,
                Some(_) => {}
                None => panic!("event stream ended while waiting for {what}"),
            }
        }
    })
    .await
}

/// Whether `event` is the down of node `id`.
pub fn is_node_down_of(event: &distribute::NodeEvent, id: distribute::NodeId) -> bool {
    matches!(event, distribute::NodeEvent::NodeDown { node, .. } if *node == id)
}

/// Waits for the down of node `id` (skipping other events) and returns why it went down;
/// fails after [`DEADLINE`].
pub async fn wait_node_down(
    events: &mut distribute::NodeEvents,
    what: &str,
    id: distribute::NodeId,
) -> distribute::NodeDownReason {
    match wait_event(events, what, |event| is_node_down_of(event, id)).await {
        distribute::NodeEvent::NodeDown { reason, .. } => reason,
        other => panic!("{what}: {other:?} is not a node down"),
    }
}

/// Waits until `done` holds, checking every millisecond; fails after [`DEADLINE`]. For
/// conditions that no event announces (a queue filling up).
pub async fn poll_until(what: &str, mut done: impl FnMut() -> bool) {
    within(what, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
}

/// Answers pings, or never answers: the actor of the `test-node` process (`bin/test_node.rs`)
/// that `net_process.rs` calls across processes.
#[actor]
pub struct Sleeper {
    pinged: u64,
    /// Calls of `wait_forever` in progress, shared by every sleeper of a process.
    waiting: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Sleeper {
    /// A sleeper counting its `wait_forever` calls in `waiting`.
    pub fn new(waiting: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Self {
        Sleeper { pinged: 0, waiting }
    }
}

#[actor]
impl Sleeper {
    /// Answers at once.
    #[message]
    pub fn ping(&mut self, text: String) -> String {
        self.pinged += 1;
        format!("pong {}: {text}", self.pinged)
    }

    /// Never answers; blocks this actor for good.
    #[message]
    pub async fn wait_forever(&mut self) -> u64 {
        self.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::future::pending::<()>().await;
        0
    }

    /// How many calls of `wait_forever` are in progress on any sleeper of this process.
    #[message]
    pub fn waiting(&self) -> u64 {
        self.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Where a networked node listens.
pub fn addr(node: &Node) -> std::net::SocketAddr {
    match node.listen_addr() {
        Some(addr) => addr,
        None => panic!("{} is not networked", node.name()),
    }
}

/// Three networked nodes `a`, `b`, `c`: `b` connects to `a`, `c` to `b`, and the
/// introductions make a full mesh before this returns.
pub async fn mesh() -> (Node, Node, Node) {
    let (a, b, c) = (net_node("a").await, net_node("b").await, net_node("c").await);
    if let Err(error) = b.connect(addr(&a)).await {
        panic!("b cannot connect to a: {error}");
    }
    if let Err(error) = c.connect(addr(&b)).await {
        panic!("c cannot connect to b: {error}");
    }
    for node in [&a, &b, &c] {
        wait_connected(node, 2).await;
    }
    (a, b, c)
}

/// Shuts the nodes down, in the order given.
pub async fn shutdown(nodes: &[&Node]) {
    for node in nodes {
        node.shutdown().await;
    }
}

/// The resident memory of this process (a victim node in it included), in bytes.
pub fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

/// The wire tag of the [`Counter`] message `name`.
pub fn counter_tag(name: &str) -> u32 {
    <CounterMsg as distribute::Message>::TAGS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(tag, _)| *tag)
        .expect("known message")
}

/// A second node connected to `victim`, with a counter on `victim` registered there as
/// `name`, which the second node calls: the witness that `victim` keeps serving its other
/// peers. Returns the witness node, the counter and the witness's ref to it.
pub async fn witness(victim: &Node, name: &str) -> (Node, ActorRef<Counter>, ActorRef<Counter>) {
    let counter = victim.spawn(Counter::new(Gate::new())).await.expect("spawn");
    victim.register_local(name, &counter).expect("register");
    let witness = net_node("witness").await;
    witness.connect(addr(victim)).await.expect("witness connects");
    let remote = witness
        .lookup_on::<Counter>(victim.id(), name)
        .await
        .expect("lookup");
    (witness, counter, remote)
}

/// Spawns a [`Counter`] behind a closed gate on node `index` of a simulated cluster.
pub async fn counter_on(
    cluster: &distribute::testing::TestCluster,
    index: usize,
) -> Result<ActorRef<Counter>, distribute::BoxError> {
    let spawned = cluster
        .node(index)
        .run(|node: Node| async move { node.spawn(Counter::new(Gate::new())).await })
        .await??;
    Ok(spawned)
}

/// Answers with its node's view of the cluster-wide registry: every name held by a
/// [`Sleeper`], with its owner, sorted by name. The `test-node` process hosts one, under
/// the local name `inspector`.
#[actor]
pub struct Inspector {
    pub node: Node,
}

#[actor]
impl Inspector {
    /// Every name and its owner, as this node's replica holds them.
    #[message]
    pub fn names(&self) -> Vec<(String, ActorId)> {
        sleeper_names(&self.node)
    }
}

/// Every name of `node`'s replica of the global registry held by a [`Sleeper`], with its
/// owner, sorted by name: what an [`Inspector`] answers.
pub fn sleeper_names(node: &Node) -> Vec<(String, ActorId)> {
    node.registered_names("")
        .into_iter()
        .filter_map(|name| node.lookup::<Sleeper>(&name).ok().map(|owner| (name, owner.id())))
        .collect()
}

/// A worker that other nodes may start with `Node::spawn_on` (the `test-node` process allows
/// it): it says which node serves each call.
#[actor(remote_spawn)]
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub struct Roamer {
    /// What the starting node called it.
    pub label: String,
    /// Calls served by this incarnation.
    pub served: u64,
}

#[actor]
impl Roamer {
    /// Serves one call: the node it runs on, and how many calls this incarnation served.
    #[message]
    pub fn serve(&mut self, ctx: &mut Context<Self>) -> (NodeId, u64) {
        self.served += 1;
        (ctx.node().id(), self.served)
    }

    /// Panics: the caller gets `ActorFailed`.
    #[message]
    pub fn fail(&mut self) -> u64 {
        panic!("{} was asked to fail after {} calls", self.label, self.served);
    }
}
