//! [`NodeBuilder`]: the configuration of a networked node, and the wiring of its layers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::actor::{Node, NodeId, WeakNode};
use crate::membership::gossip;
use crate::membership::join::{self, JoinPolicy};
use crate::membership::{Discovery, DiscoveryError, DnsSeeds, FailureDetection};
use crate::net::PeerLimits;
use crate::net::{
    FrameHandler, FrameHandlers, Net, NetConfig, Reconnect, StartError, TcpTransport, Transport, Wiring,
    COOKIE_ENV, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_SEND_QUEUE_BYTES,
};
use crate::registry::ConflictPolicy;
use crate::transport::handshake::is_valid_node_name;
use crate::transport::{FrameKind, DEFAULT_MAX_FRAME};

/// The cookie of insecure local mode: public, so it only keeps apart clusters that use
/// different cookies by mistake; never use it off one machine.
const INSECURE_COOKIE: &[u8] = b"distribute-insecure-local-cookie";

/// Builds a networked [`Node`]; made by [`Node::builder`](crate::Node::builder).
///
/// ```no_run
/// # use distribute::prelude::*;
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = Node::builder()
///     .name("a")
///     .cookie("secret")                       // or DISTRIBUTE_COOKIE
///     .listen("127.0.0.1:0".parse()?)          // the default
///     .start()
///     .await?;
/// println!("listening on {:?}", node.listen_addr());
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct NodeBuilder {
    name: Option<String>,
    listen: SocketAddr,
    cookie: Option<Vec<u8>>,
    insecure: bool,
    peers: Vec<SocketAddr>,
    seeds: Vec<String>,
    discoveries: Vec<Arc<dyn Discovery>>,
    advertise: Option<SocketAddr>,
    membership: bool,
    failure_detection: FailureDetection,
    idle_timeout: Option<Duration>,
    max_frame: usize,
    send_queue_bytes: usize,
    heartbeat_interval: Duration,
    heartbeat_timeout: Duration,
    handshake_timeout: Duration,
    reconnect: Option<Reconnect>,
    limits: PeerLimits,
    conflicts: ConflictPolicy,
    transport: Option<Arc<dyn Transport>>,
    registry_claim_timeout: Duration,
    max_global_names_per_node: usize,
    max_remote_spawned: usize,
    remote_introspection: bool,
    id: Option<NodeId>,
}

impl fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("name", &self.name)
            .field("listen", &self.listen)
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .field("peers", &self.peers)
            .field("seeds", &self.seeds)
            .field("discoveries", &self.discoveries.len())
            .field("advertise", &self.advertise)
            .finish_non_exhaustive()
    }
}

impl Default for NodeBuilder {
    fn default() -> Self {
        NodeBuilder {
            name: None,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            cookie: None,
            insecure: false,
            peers: Vec::new(),
            seeds: Vec::new(),
            discoveries: Vec::new(),
            advertise: None,
            membership: true,
            failure_detection: FailureDetection::default(),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_frame: DEFAULT_MAX_FRAME,
            send_queue_bytes: DEFAULT_SEND_QUEUE_BYTES,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            reconnect: Some(Reconnect::default()),
            limits: PeerLimits::default(),
            conflicts: Default::default(),
            transport: None,
            registry_claim_timeout: crate::registry::DEFAULT_CLAIM_TIMEOUT,
            max_global_names_per_node: crate::registry::DEFAULT_MAX_NAMES_PER_NODE,
            max_remote_spawned: crate::DEFAULT_MAX_REMOTE_SPAWNED,
            remote_introspection: true,
            id: None,
        }
    }
}

impl NodeBuilder {
    /// The node's name, unique in the cluster: 1 to 255 characters of
    /// `A-Z a-z 0-9 . _ @ -`. Default: `node-` and the node's id.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Where to listen. Default: 127.0.0.1 with a port chosen by the OS; see
    /// [`Node::listen_addr`](crate::Node::listen_addr).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The cluster's shared secret. Without it the node reads the `DISTRIBUTE_COOKIE`
    /// environment variable, and refuses to start if that is not set either.
    pub fn cookie(mut self, cookie: impl AsRef<[u8]>) -> Self {
        self.cookie = Some(cookie.as_ref().to_vec());
        self
    }

    /// Runs without a secret cookie (a public, built-in one), for a cluster on this machine
    /// only: the node then refuses to listen on anything but a loopback address. A cookie
    /// given with [`cookie`](Self::cookie) or the environment still wins.
    pub fn insecure_local(mut self) -> Self {
        self.insecure = true;
        self
    }

    /// A node to connect to when starting; `start` fails if it cannot be reached (see
    /// [`seed`](Self::seed) for one that is joined whenever it is up).
    pub fn peer(mut self, addr: SocketAddr) -> Self {
        self.peers.push(addr);
        self
    }

    /// A node to join, as `host:port`: a DNS name (every address it resolves to; a
    /// Kubernetes headless service gives every pod) or an IP. Unlike [`peer`](Self::peer), a
    /// seed that cannot be reached does not fail [`start`](Self::start): the node resolves
    /// and dials its seeds when it starts, then again with backoff (100 ms doubling to 5 s,
    /// jittered) while it has no peer, and every 30 s once it has one, so that it joins a
    /// seed that comes up later and finds nodes added behind a name. A seed that is not
    /// `host:port` fails `start` with [`StartError::InvalidSeed`]. Call it once per seed.
    pub fn seed(mut self, seed: impl Into<String>) -> Self {
        self.seeds.push(seed.into());
        self
    }

    /// A source of seeds of your own (see [`Discovery`]), asked as [`seed`](Self::seed)s
    /// are resolved. [`StaticSeeds`](crate::membership::StaticSeeds) and
    /// [`DnsSeeds`](crate::membership::DnsSeeds) are built in.
    pub fn discovery(mut self, discovery: impl Discovery) -> Self {
        self.discoveries.push(Arc::new(discovery));
        self
    }

    /// The address this node tells its peers to reach it at, when it is not the one it
    /// listens on: behind NAT or port forwarding, or when listening on every interface
    /// (`0.0.0.0`). Port 0 stands for the port bound. Without it, a node listening on an
    /// unspecified IP is reached at the IP each peer sees its connection come from.
    pub fn advertise(mut self, addr: SocketAddr) -> Self {
        self.advertise = Some(addr);
        self
    }

    /// Whether the node runs the cluster's membership protocol (SWIM, through foca) over
    /// UDP on its own port, beside its connections (default: yes, where the transport has
    /// datagrams). Members probe each other and spread who joined, left or stopped
    /// answering; [`Node::members`] is the view. With it, only the membership says a node
    /// is down ([`NodeDownReason::DeclaredDown`](crate::NodeDownReason)): members are
    /// connected on demand, a broken connection to a live member is only that (calls in
    /// flight on it fail with `ConnectionLost`), and idle connections close (see
    /// [`idle_timeout`](Self::idle_timeout)). Without it, nodes form a full mesh and a lost
    /// connection is the node down. Packets are authenticated with a key derived from the
    /// cookie.
    pub fn membership(mut self, enabled: bool) -> Self {
        self.membership = enabled;
        self
    }

    /// How the membership decides that a member is dead (default:
    /// [`FailureDetection::lan`] for 16 nodes: a dead node is declared down 5 to 8 s after
    /// it stops answering). Shorter timings find deaths sooner and risk declaring a slow
    /// node dead; every node of a cluster should use the same.
    pub fn failure_detection(mut self, detection: FailureDetection) -> Self {
        self.failure_detection = detection;
        self
    }

    /// How long a connection to a member may carry nothing (heartbeats aside) before it is
    /// closed, in order and losing nothing; `None` keeps connections open for good (default:
    /// [`DEFAULT_IDLE_TIMEOUT`](crate::net::DEFAULT_IDLE_TIMEOUT), 60 s). With a membership,
    /// a node connects to a member when it first sends it something (a message, a call, a
    /// monitor, a registry update) and again after an idle close, so a closed connection
    /// is never a node down: only the membership declares a member dead. Without one, this
    /// has no effect.
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// The cap on a frame, in bytes (default 4 MiB): larger messages fail on the sender with
    /// `PayloadTooLarge`, and a peer announcing a larger frame is disconnected.
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes.clamp(64, u32::MAX as usize);
        self
    }

    /// The bound of each peer's send queue, in bytes (default 8 MiB). Everything queued for
    /// a peer counts against it: messages wait for room below it; replies, control and
    /// registry frames, which cannot wait, go past it, but once the queue holds the bound
    /// plus one frame (`max_frame`) the node stops reading from the peer until it drains,
    /// and at twice the bound plus a frame (or after a heartbeat timeout without draining)
    /// the peer is disconnected as [`NodeDownReason::Overloaded`](crate::NodeDownReason).
    /// So a peer that never reads costs at most that ceiling in its queue, plus the one batch
    /// its writer holds while the socket refuses it (at most the ceiling too): about 40 MiB
    /// with the defaults, whatever it sends.
    pub fn send_queue_bytes(mut self, bytes: usize) -> Self {
        self.send_queue_bytes = bytes.max(1);
        self
    }

    /// The most links one peer's actors may hold on this node's actors (default 10 000). A
    /// link past it is answered at once with an exit whose reason is
    /// `ExitReason::Error("system limit: ...")`, as if the link had been made and broken.
    /// A peer's links go with the peer.
    pub fn max_links_per_peer(mut self, links: usize) -> Self {
        self.limits.max_links = links;
        self
    }

    /// The most monitors one peer's actors may hold on this node's actors (default 10 000).
    /// A monitor past it is answered at once with a DOWN whose reason is
    /// `ExitReason::Error("system limit: ...")`. A peer's monitors go with the peer.
    pub fn max_monitors_per_peer(mut self, monitors: usize) -> Self {
        self.limits.max_monitors = monitors;
        self
    }

    /// The most actors that peers may have started on this node with
    /// [`Node::spawn_on`](crate::Node::spawn_on) and that still run, all peers together
    /// (default [`DEFAULT_MAX_REMOTE_SPAWNED`](crate::DEFAULT_MAX_REMOTE_SPAWNED)). A request
    /// past it is refused with [`RemoteSpawnError::TooMany`](crate::RemoteSpawnError::TooMany).
    pub fn max_remote_spawned(mut self, actors: usize) -> Self {
        self.max_remote_spawned = actors;
        self
    }

    /// Whether peers may ask this node for its snapshot with
    /// [`Node::introspect_node`](crate::Node::introspect_node) (default: allowed). A node
    /// that does not answers every request with
    /// [`IntrospectError::Refused`](crate::introspect::IntrospectError::Refused). A snapshot
    /// shows the node's actors, names, groups and peers to every node holding the cookie;
    /// turn it off where that is more than they should see.
    pub fn allow_remote_introspection(mut self, allow: bool) -> Self {
        self.remote_introspection = allow;
        self
    }

    /// The most incoming connections that may be in their handshake at a time (default
    /// 256, at least 1). When a connection arrives at the cap, the oldest pending handshake
    /// is dropped ([`ConnectError::HandshakeEvicted`](crate::ConnectError)): idle sockets
    /// wait out the handshake timeout, real peers finish in about a millisecond, so a flood
    /// of idle sockets cannot lock real peers out or exhaust file descriptors.
    pub fn max_pending_handshakes(mut self, handshakes: usize) -> Self {
        self.limits.max_pending_handshakes = handshakes.max(1);
        self
    }

    /// Heartbeat interval on an idle connection, and the silence after which a peer is
    /// declared down (defaults: 1 s and 5 s). The timeout is at least twice the interval.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat_interval = interval.max(Duration::from_millis(1));
        self.heartbeat_timeout = timeout.max(interval * 2);
        self
    }

    /// Bound on connecting plus the handshake (default 5 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// How to reconnect after a lost connection; `None` never reconnects.
    pub fn reconnect(mut self, policy: Option<Reconnect>) -> Self {
        self.reconnect = policy;
        self
    }

    /// Chooses which owner keeps a global name registered on both sides of a healed partition
    /// (default: the lowest actor id). Give every node of the cluster the same resolver.
    pub fn resolve_conflicts_with(
        mut self,
        resolver: impl Fn(&str, crate::ActorId, crate::ActorId) -> crate::ActorId + Send + Sync + 'static,
    ) -> Self {
        self.conflicts.resolver = Some(Arc::new(resolver));
        self
    }

    /// Leaves the losing owner of a name conflict running (it is only told, through
    /// `NodeEvent::NameConflict`), instead of stopping it as OTP does.
    pub fn keep_conflict_losers(mut self) -> Self {
        self.conflicts.stop_losers = false;
        self
    }

    /// How long a global registration waits for a first word from the node that orders
    /// registrations (the sequencer) before it suspects that node, skips it, and asks the
    /// next one (default 500 ms; keep it well under the 5 s call timeout). A suspected node is
    /// tried again once it is heard from, reconnects, or after twenty such deadlines. Taken
    /// between 1 ms and an hour.
    pub fn registry_claim_timeout(mut self, timeout: Duration) -> Self {
        self.registry_claim_timeout = timeout.clamp(Duration::from_millis(1), Duration::from_secs(3600));
        self
    }

    /// The most global names (and, apart, process-group memberships) the actors of one node
    /// may hold, on every node (default 100 000). Past it `register_global` fails with
    /// [`RegistryError::TooManyNames`](crate::RegistryError::TooManyNames), and a peer's
    /// further names are refused. Give every node of the cluster the same cap.
    pub fn max_global_names_per_node(mut self, cap: usize) -> Self {
        self.max_global_names_per_node = cap.max(1);
        self
    }

    /// Runs every connection over mutual TLS (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::net::tls::TlsConfig) -> Self {
        self.transport = Some(Arc::new(crate::net::TlsTransport { config }));
        self
    }

    /// Runs the node's connections over `transport` instead of TCP: for example a
    /// [`MemoryTransport`](crate::net::MemoryTransport), which connects the nodes of one
    /// process without sockets.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The node's id, chosen by a simulation rather than minted: a seed must give the same
    /// ids, hence the same order of nodes, on every run.
    #[cfg(feature = "testing")]
    pub(crate) fn identity(mut self, id: NodeId) -> Self {
        self.id = Some(id);
        self
    }

    /// Starts the node: listens, then connects to the peers given.
    pub async fn start(self) -> Result<Node, StartError> {
        tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let cookie = self.resolve_cookie()?;
        let discoveries = self.discoveries()?;
        let id = self.id.unwrap_or_else(NodeId::fresh);
        let name = self.name.clone().unwrap_or_else(|| format!("node-{id}"));
        if !is_valid_node_name(&name) {
            return Err(StartError::InvalidName(name));
        }
        let node = Node::with_identity(id, name.clone());
        node.set_conflict_policy(self.conflicts.clone());
        node.spawner().set_max_running(self.max_remote_spawned);
        node.introspector().set_allowed(self.remote_introspection);
        node.configure_registry(crate::registry::RegistryConfig {
            ack_timeout: crate::DEFAULT_CALL_TIMEOUT,
            claim_timeout: self.registry_claim_timeout,
            max_names_per_node: self.max_global_names_per_node,
            // Chunks well under the frame cap: the estimate of an entry's size is an upper
            // bound, and the frame adds a header.
            snapshot_chunk_bytes: (self.max_frame / 4)
                .clamp(1, crate::registry::DEFAULT_SNAPSHOT_CHUNK_BYTES),
        });
        let gossip_cookie = cookie.clone();
        let config = NetConfig {
            name,
            cookie,
            max_frame: self.max_frame,
            send_queue_bytes: self.send_queue_bytes,
            heartbeat_interval: self.heartbeat_interval,
            heartbeat_timeout: self.heartbeat_timeout,
            handshake_timeout: self.handshake_timeout,
            reconnect: self.reconnect,
            limits: self.limits,
            advertise: self.advertise,
            idle_timeout: self.idle_timeout,
        };
        let net = Net::start(
            config,
            self.listen,
            node.downgrade(),
            id,
            wiring(&node, self.transport),
        )
        .await?;
        node.attach_net(Arc::clone(&net));
        crate::trace::trace_event!(info, node = %node.name(), listen = %net.listen, "node listening");
        if self.membership {
            if let Some(gossip) = gossip::start(&net, &gossip_cookie, &self.failure_detection).await {
                node.attach_gossip(gossip);
            }
        }
        for peer in self.peers {
            net.connect(peer).await?;
        }
        if !discoveries.is_empty() {
            tokio::spawn(join::run(
                Arc::downgrade(&net),
                discoveries,
                JoinPolicy::default(),
            ));
        }
        Ok(node)
    }

    /// The discoveries to join through: the seeds given (checked), then the user's.
    fn discoveries(&self) -> Result<Vec<Arc<dyn Discovery>>, StartError> {
        let mut discoveries = Vec::with_capacity(self.discoveries.len() + 1);
        if !self.seeds.is_empty() {
            let seeds = DnsSeeds::new(self.seeds.iter().cloned()).map_err(|error| match error {
                DiscoveryError::InvalidSeed { seed, why } => StartError::InvalidSeed { seed, why },
                other => StartError::InvalidSeed {
                    seed: other.to_string(),
                    why: "unreadable",
                },
            })?;
            discoveries.push(Arc::new(seeds) as Arc<dyn Discovery>);
        }
        discoveries.extend(self.discoveries.iter().cloned());
        Ok(discoveries)
    }

    /// The cookie given, or from the environment, or the insecure one if allowed.
    fn resolve_cookie(&self) -> Result<Vec<u8>, StartError> {
        let cookie = match (&self.cookie, std::env::var_os(COOKIE_ENV)) {
            (Some(cookie), _) => cookie.clone(),
            (None, Some(env)) => env.into_encoded_bytes(),
            (None, None) if self.insecure => INSECURE_COOKIE.to_vec(),
            (None, None) => return Err(StartError::MissingCookie),
        };
        if cookie.is_empty() {
            return Err(StartError::EmptyCookie);
        }
        if self.insecure && cookie == INSECURE_COOKIE {
            for addr in std::iter::once(self.listen).chain(self.advertise) {
                if !addr.ip().is_loopback() {
                    return Err(StartError::InsecureNotLoopback(addr));
                }
            }
        }
        Ok(cookie)
    }
}

/// What the node plugs into its network: the transport (TCP unless told otherwise), the
/// cluster-wide registry's frames, and its node-local names for peers' lookups.
fn wiring(node: &Node, transport: Option<Arc<dyn Transport>>) -> Wiring {
    let mut handlers = FrameHandlers::default();
    handlers.register(
        FrameKind::Registry,
        Arc::new(RegistryFrames {
            node: node.downgrade(),
        }),
    );
    handlers.register(
        FrameKind::Spawn,
        Arc::new(super::spawn::SpawnFrames {
            node: node.downgrade(),
        }),
    );
    handlers.register(
        FrameKind::Introspect,
        Arc::new(super::introspect::IntrospectFrames {
            node: node.downgrade(),
        }),
    );
    let names = node.downgrade();
    Wiring {
        transport: transport.unwrap_or_else(|| Arc::new(TcpTransport)),
        handlers,
        whereis: Box::new(move |name| names.upgrade().and_then(|node| node.whereis_local(name))),
    }
}

/// Hands the registry's frames, and the peers coming and going, to the node's registry.
struct RegistryFrames {
    node: WeakNode,
}

impl FrameHandler for RegistryFrames {
    fn connected(&self, peer: NodeId) {
        if let Some(node) = self.node.upgrade() {
            node.registry_peer_up(peer);
        }
    }

    fn disconnected(&self, peer: NodeId) {
        if let Some(node) = self.node.upgrade() {
            node.registry_peer_down(peer);
        }
    }

    fn frame(&self, peer: NodeId, body: &[u8]) -> Result<bool, String> {
        match self.node.upgrade() {
            Some(node) => node.registry_frame(peer, body),
            None => Ok(false),
        }
    }
}
