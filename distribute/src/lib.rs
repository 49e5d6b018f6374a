//! # distribute
//!
//! Typed, supervised actors for Rust, in the tradition of Erlang/OTP.
//!
//! Annotate a struct and its `impl` block with `#[actor]` and you get an actor: a message
//! enum with stable wire tags, exhaustive dispatch, and typed client methods on
//! [`ActorRef`]:
//!
//! ```
//! use distribute::prelude::*;
//!
//! #[actor]
//! #[derive(Default)]
//! struct Counter { n: u64 }
//!
//! #[actor]
//! impl Counter {
//!     #[message] fn add(&mut self, by: u64) { self.n += by }
//!     #[message] fn get(&self) -> u64 { self.n }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let node = Node::new();
//!     let counter: ActorRef<Counter> = node.spawn(Counter::default()).await?;
//!     counter.add(5).await?;               // tell: waits for room, not for the handler
//!     assert_eq!(counter.get().await?, 5); // ask: typed reply, 5 s default timeout
//!     Ok(())
//! }
//! ```
//!
//! ## Design decisions
//!
//! These choices are made once, here, because every later layer (supervision, the network,
//! the registry) builds on them.
//!
//! - **One ref type.** [`ActorRef<A>`] is the only address of an actor, whether it runs on
//!   this node or (with the network layer) on another. A local send moves the message into
//!   the mailbox and never serializes; a remote send encodes once with the actor's
//!   [`Codec`](codec::Codec).
//! - **Stable refs.** An actor's [`ActorId`] and mailbox belong to the ref, not to one run of
//!   the actor, so a supervisor can restart an actor behind the same ref and names in a
//!   registry stay valid.
//! - **Bounded mailboxes.** Every mailbox has a capacity ([`DEFAULT_MAILBOX_CAPACITY`] unless
//!   `#[actor(mailbox = N)]` or [`SpawnOptions::mailbox_capacity`] says otherwise).
//!   [`ActorRef::tell`] waits for room (backpressure); [`ActorRef::try_tell`] fails with
//!   [`CallError::MailboxFull`], as do the generated `try_` methods (`counter.try_add(1)`).
//!   Order is FIFO per sender.
//! - **Calls always time out.** [`ActorRef::ask`] and the generated ask methods wait at most
//!   [`DEFAULT_CALL_TIMEOUT`] (5 s), overridable per call with [`ActorRef::with_timeout`].
//!   A call never waits for its timeout to learn that the actor is gone: the reply channel
//!   travels with the message and reports [`CallError::ActorFailed`] if the handler of that
//!   very message panicked, [`CallError::ActorStopped`] if the actor stopped first.
//! - **Panics are exits.** A panic in a handler or hook is caught; the actor stops with
//!   [`ExitReason::Panicked`], its links and monitors are told, and nothing else is affected.
//!   The panic hook still writes its report first; with `RUST_BACKTRACE=1` call
//!   [`actor::defer_panic_reports`] so that callers need not wait for the backtrace.
//! - **Signals bypass the mailbox.** Stop requests, exits of linked actors and monitor
//!   bookkeeping are handled before the next message, even when the mailbox is full.
//! - **The codec is a boundary.** Wire encoding goes through the [`Codec`](codec::Codec)
//!   trait, chosen per actor type (`#[actor(codec = ...)]`); bincode 2 is the default and
//!   nothing else in the crate names it.
//! - **Stable wire tags.** Each message has a `u32` tag: explicit (`#[message(tag = 7)]`,
//!   below 2^31) or a hash of the method name (upper half), so reordering methods never
//!   changes the protocol; a fingerprint of the whole message set detects mismatched peers.
//!
//! ## What `#[actor]` generates
//!
//! For `struct Counter` and its `#[actor] impl` block:
//!
//! - `impl Actor for Counter`, dispatching each message to its method;
//! - `enum CounterMsg`, one variant per `#[message]` method, with the arguments as named
//!   fields and a `reply: ReplyTo<R>` field when the method returns `R`;
//! - `impl Message for CounterMsg` with the wire tags, the fingerprint, the encoding of the
//!   arguments (reply channels are never encoded) and the decoding that attaches a remote
//!   caller's reply channel;
//! - `trait CounterClient`, implemented for every [`Recipient<Counter>`], with one method per
//!   message: methods without a return value are tells (`Result<(), CallError>`), the others
//!   are asks returning `Result<R, CallError>` (so a `Result` reply arrives as
//!   `Result<Result<T, E>, CallError>`); beside each, a `try_` twin that fails at once with
//!   [`CallError::MailboxFull`] instead of waiting for room in a full mailbox (a tell's is not
//!   `async`; an ask's still awaits the reply).
//!
//! Only methods marked `#[message]` become messages; other methods stay ordinary methods.
//! The generated items take the visibility of the most visible message method, and at least
//! `pub(crate)` (the `Actor` impl names the enum, so it may not be less visible than a
//! crate-visible struct): a `pub fn` message makes the enum and the client trait `pub`.
//! Hooks are marked in the same block: `#[on_start]`, `#[on_stop]`, `#[on_exit]`,
//! `#[on_down]`; each may take `ctx: &mut Context<Self>` first, then respectively nothing,
//! `reason: &ExitReason`, `signal: ExitSignal` or `down: Down`.
//!
//! ## Nodes on a network
//!
//! [`Node::builder`] starts a node that listens on TCP and authenticates its peers with a
//! shared cookie (see [`net`]); [`Node::connect`] joins another node, and the two introduce
//! the nodes they know so that the cluster is a full mesh. A ref to an actor on another node
//! (from [`Node::lookup_on`], or received inside a message or a reply) is an `ActorRef` like
//! any other:
//!
//! ```no_run
//! # use distribute::prelude::*;
//! # #[actor] #[derive(Default)] struct Counter { n: u64 }
//! # #[actor] impl Counter { #[message] fn add(&mut self, by: u64) { self.n += by } #[message] fn get(&self) -> u64 { self.n } }
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let a = Node::builder().name("a").cookie("secret").start().await?;
//! let b = Node::builder().name("b").cookie("secret").start().await?;
//! b.connect(a.listen_addr().ok_or("not listening")?).await?;
//!
//! let counter = a.spawn(Counter::default()).await?;
//! a.register_local("counter", &counter)?;
//! let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await?;
//! remote.add(2).await?;                  // encoded once, sent over the connection
//! assert_eq!(remote.get().await?, 2);   // the reply comes back typed
//! # Ok(()) }
//! ```
//!
//! - **What crosses the wire.** A message goes out as its target, the protocol fingerprint,
//!   its tag, a call number and its arguments encoded with the actor's codec. The receiving
//!   node checks the fingerprint and the tag before decoding; a mismatch is answered with
//!   [`CallError::ProtocolMismatch`], an undecodable body is dropped, counted
//!   ([`net::NetStats::undecodable`]) and, for a call, answered with [`CallError::Decode`].
//! - **Refs travel.** A ref serializes as its actor's id and fingerprint; the node that
//!   decodes it binds it to the peer that hosts the actor (or to the local actor when it comes
//!   home), and rejects a ref made for another protocol.
//! - **Failures are prompt and typed.** Pending calls to a lost node fail with
//!   [`CallError::NodeDown`] at once; monitors fire and links propagate with
//!   [`ExitReason::NodeDown`]; [`Node::events`] reports [`NodeEvent::NodeDown`] with a
//!   [`NodeDownReason`].
//! - **Backpressure crosses nodes.** Each peer has a send queue bounded in bytes; a full
//!   remote mailbox stops the connection's reader, TCP fills, the queue fills, and senders
//!   wait. The price is head-of-line blocking: one slow actor delays the other messages from
//!   the same node until it makes room.
//! - **A peer cannot make a node hold more than its bounds**, cookie or not: everything
//!   queued for a peer (replies and control frames too) counts against its bound, and a peer
//!   that does not read is first no longer read from, then disconnected
//!   ([`NodeDownReason::Overloaded`]); a peer speaks only for its own actors, its links and
//!   monitors on ours are capped ([`NodeBuilder::max_links_per_peer`],
//!   [`NodeBuilder::max_monitors_per_peer`]) and go with it; an actor's signal queue takes
//!   at most [`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`] of signals from peers (then their reader waits;
//!   [`NodeDownReason::SignalsOverloaded`] after a heartbeat timeout); nothing is kept for node ids a
//!   peer merely mentions; introductions dial a bounded number of nodes; pending handshakes
//!   are capped ([`NodeBuilder::max_pending_handshakes`]). See [`net`] for the whole list.
//!
//! ## Cancellation: `tell` and `ask` inside `select!`
//!
//! Every call future may be dropped before it completes (a `tokio::select!` whose other
//! branch won, a timeout around it), and what that leaves behind is fixed:
//!
//! - **`tell(..).await`** (and a generated method without a reply) is cancellation safe:
//!   the message is queued in the poll that completes the future, or not at all. A `tell`
//!   dropped while it waits for room in a full mailbox (or, for a remote actor, in the
//!   peer's send queue) has sent nothing, and the message is dropped with it; call it again
//!   to retry. `try_tell` and the `try_` methods never wait.
//! - **`ask`** (a generated method with a reply) is not a transaction: once its request is
//!   queued, dropping the future does not withdraw it. The actor still handles the request
//!   and its reply is discarded (for a remote actor, the pending call is forgotten on this
//!   node, and a reply that comes later is dropped). Dropped while it still waits for room,
//!   it has sent nothing, as a `tell` has. So in a `select!`, an `ask` whose branch lost may
//!   or may not have taken effect: make such requests idempotent, or ask again to learn the
//!   state.
//!
//! ## Traces
//!
//! With the default feature `tracing`, the runtime records [`tracing`](https://docs.rs/tracing)
//! spans (it installs no subscriber; without one they cost one relaxed atomic load per send):
//!
//! | span | level | fields | covers |
//! | --- | --- | --- | --- |
//! | `handle` | `debug` | `actor_type`, `actor`, `message`, `outcome` (`ok` / `panicked`), `remote_parent` | one handled message; target `distribute::actor` |
//! | `spawn` | `debug` | `actor_type`, `actor`, `outcome` | [`Node::spawn`], up to the end of the start hook |
//! | `register_global` | `debug` | `name`, `actor_type`, `actor`, `outcome` | [`Node::register_global`] |
//! | `restart` | `info` | `supervisor`, `child`, `restarts`, `reason`, `outcome` | a supervisor restarting a child |
//! | `handshake` | `info` | `node`, `addr`, `peer`, `outcome` | a connection's authentication, on both sides |
//!
//! `outcome` is `ok`, or the error's text. So `RUST_LOG=info` shows connections and restarts,
//! and `RUST_LOG=distribute=debug` every message.
//!
//! **The caller's span is the parent of the handler's span.** A tell or ask made while a
//! span is current carries that span through the mailbox, and the actor's `handle` span for
//! the message is its child; a message sent outside any span is handled in a root span.
//!
//! **Across nodes**, with the feature `opentelemetry`, a message sent while the current span
//! has an OpenTelemetry context (a [`tracing-opentelemetry`](https://docs.rs/tracing-opentelemetry)
//! layer is installed) carries it as a W3C trace context ([`trace::TraceContext`], the fields
//! of a `traceparent` header) in its frame, and the receiving node makes it the remote parent
//! of the handler's span: one trace, from the call on node A to its handler on node B. Without
//! the feature the context still arrives, recorded as the `remote_parent` field. Messages sent
//! outside a span are sent as before, with no trace context:
//!
// The example compiles and runs where the feature is on (docs.rs, CI's doc tests with it).
#![cfg_attr(feature = "opentelemetry", doc = "```")]
#![cfg_attr(not(feature = "opentelemetry"), doc = "```ignore")]
//! use distribute::prelude::*;
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing::Instrument as _;
//! use tracing_subscriber::layer::SubscriberExt as _;
//!
//! #[actor]
//! #[derive(Default)]
//! struct Counter { n: u64 }
//!
//! #[actor]
//! impl Counter {
//!     #[message] fn get(&self) -> u64 { self.n }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Any OpenTelemetry tracer: an OTLP exporter's in production; this one exports nowhere.
//!     let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
//!     let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("billing"));
//!     tracing::subscriber::set_global_default(tracing_subscriber::registry().with(otel))?;
//!
//!     let node = Node::new();
//!     let counter = node.spawn(Counter::default()).await?;
//!     // The handler's `handle` span is a child of `request`, on this node or another.
//!     let n = counter.get().instrument(tracing::info_span!("request")).await?;
//!     assert_eq!(n, 0);
//!     Ok(())
//! }
//! ```
//!
//! Without the feature `tracing` (`default-features = false`) the crate does not depend on
//! `tracing`, and every span and event compiles to nothing.
//!
//! ## Choosing the wire codec: bincode or postcard
//!
//! An actor's messages and replies cross the network in the format of its codec, chosen per
//! actor type, not per node: `#[actor]` without a `codec` option uses
//! [`codec::Bincode`] (bincode 2), and a hand-written [`Actor`] impl names its codec in
//! `type Codec`. bincode 2 is no longer maintained (RUSTSEC-2025-0141, an "unmaintained"
//! notice, not a vulnerability; see [`codec`]), so the crate also ships postcard. To move an
//! actor to it, enable the `postcard` feature:
//!
//! ```toml
//! distribute = { version = "0.1", features = ["postcard"] }
//! ```
//!
//! and name the codec on the actor's struct (a tighter size limit is `Postcard<1024>`):
//!
//! ```ignore
//! #[actor(codec = distribute::codec::Postcard)]
//! #[derive(Default)]
//! struct Counter { n: u64 }
//! ```
//!
//! Every node that talks to that actor uses the same actor type and therefore the same codec,
//! so nothing else is configured on the [`Node`]; but changing an existing actor's codec
//! changes its wire format, so upgrade every node of a running cluster together. The node's
//! own traffic (links, monitors, exits, lookups, the registry, supervisors' messages) keeps
//! its bincode encoding with fixed size limits whatever the actors use, so the `bincode`
//! crate stays in the build; its decoders are fuzzed (see `fuzz/` in the repository).
//!
//! ## The cluster-wide registry
//!
//! Every node keeps a replica of the global names and process groups (see [`registry`]).
//! Lookups ([`Node::lookup`]) are local reads; registrations
//! ([`Node::register_global`]) and releases ([`Node::unregister_global`]) go to one node, the
//! *sequencer* (the member with the lowest id), which decides them one at a time and
//! returns once every member has applied them: of concurrent registrations of one name
//! exactly one wins, and a release and the next registration reach every node in order.
//! Registry traffic goes between the sequencer and each node only, so a node needs one
//! connection for it, not one to every member. Names go when their actor stops for good or
//! its node goes down. A node and its sequencer exchange replicas when they meet; a name
//! registered on both sides of a
//! partition keeps one owner on every node (the lowest id unless
//! [`NodeBuilder::resolve_conflicts_with`] says otherwise) and the loser is stopped. This is a
//! registry with deterministic conflict resolution, not consensus.
//!
//! ## Metrics
//!
//! With the `metrics` feature (on by default) the runtime reports messages handled, mailbox
//! depths, sampled handler times, call errors by kind, restarts, actors alive, wire traffic
//! per peer, registry sizes and node up/down through the [`metrics`](https://docs.rs/metrics)
//! facade, labelled by actor type and node. The names, types, labels and meanings are in
//! one table, in [`meter`]; `examples/prometheus.rs` exports them to Prometheus.
//!
//! ## How the crate is built
//!
//! Layers, each importing only those before it: [`codec`] (the `Codec` trait); the wire
//! format (frames and the handshake, I/O-free); [`actor`](mod@actor) (the local runtime: cells,
//! mailboxes, refs, links, monitors, the table of a node's actors; another node is only a
//! `RemotePeer` trait object to it); [`supervision`] and [`pool`]; [`net`] (connections over
//! a [`Transport`](net::Transport), per-peer queues, heartbeats, reconnects; it implements
//! `RemotePeer` and hands the frame kinds it does not own to handlers the node registers);
//! [`registry`] (node-local and cluster-wide names, process groups; the cluster-wide
//! registry is a state machine driven by a thin async layer); and the node facade, where
//! [`Node`] is built ([`Node::new`], [`NodeBuilder`]) and the layers are wired together.
//!
//! ## What `#[supervised]` generates
//!
//! On an actor struct, `#[supervised(restart = transient, max_restarts = 3, within = "5s",
//! pool = 4, routing = least_loaded)]` generates `impl Supervised` (its
//! [`SUPERVISION`](supervision::Supervised::SUPERVISION) options, inspectable in tests, and the
//! [`child_spec`](supervision::Supervised::child_spec) they imply) and
//! `start_supervised(&node, factory)`: the supervisor and the actor's ref, or a [`Pool`] when
//! `pool = N`. Every option is listed in [`supervision::SupervisionOptions`].
//!
//! ## What `#[registered]` generates
//!
//! On an actor struct, `#[registered("billing")]` (above `#[supervised]`, if any) generates
//! `impl Registered` (its [`REGISTERED_AS`](registry::Registered::REGISTERED_AS), a typed
//! [`Name`](registry::Name) checked at compile time: 1 to 255 characters of
//! `[A-Za-z0-9._-]`), `Billing::REGISTERED_NAME` (the same name), `Billing::lookup(&node)`
//! and `Billing::lookup_with_timeout(&node, timeout)` (typed lookups in the cluster-wide
//! registry), and `Billing::start_registered(&node, ...)`: the actor spawned and registered
//! ([`registry::start_registered`]), or with `#[supervised]` started under its supervisor
//! ([`registry::start_registered_supervised`]), or with `pool = N` a [`Pool`] whose workers
//! register as `billing_1` to `billing_N` ([`registry::start_registered_pool`]). If the name
//! is taken, what was started is stopped again and the error is a
//! [`RegisterError`](registry::RegisterError).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// docs.rs builds with every feature and `--cfg docsrs`: items behind a feature show it.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod actor;
mod backoff;
pub mod codec;
pub mod introspect;
mod lock;
pub mod membership;
pub mod meter;
pub mod net;
mod node;
pub mod pool;
pub mod registry;
pub mod supervision;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
// The wire format under the network layer (frames, the handshake): not part of the
// documented API, public only for the hostile-peer tests, which speak it by hand.
#[doc(hidden)]
pub mod transport;

#[doc(hidden)]
pub mod __private;

// Entry points for the fuzz targets in `fuzz/` and the test that replays their corpus: they
// reach the crate-private decoders. Not part of the API.
#[doc(hidden)]
pub mod __fuzz;

pub use actor::{
    Actor, ActorId, ActorRef, Context, Down, ErasedReply, ExitReason, ExitSignal, Message, Monitor,
    MonitorRef, NodeId, Recipient, ReplySlot, ReplyTo, Wire, WithTimeout, DEFAULT_CALL_TIMEOUT,
    DEFAULT_MAILBOX_CAPACITY, MAX_MAILBOX_CAPACITY, MAX_PEER_SIGNAL_BYTES_PER_ACTOR,
};
pub use actor::{BoxError, CallError, SpawnError};
pub use actor::{TimerHandle, MIN_TIMER_PERIOD};
pub use codec::Bytes;
pub use distribute_macros::{actor, registered, supervised};
pub use net::{ConnectError, NodeDownReason, NodeEvent, NodeEvents, PeerInfo, StartError};
pub use node::remote_child::{
    Placement, PlacementFn, PlacementInput, RemoteChild, RemoteChildMsg, RemoteChildSpec,
};
pub use node::spawn::{
    RemoteSpawn, RemoteSpawnError, SpawnArgs, SpawnOn, DEFAULT_MAX_REMOTE_SPAWNED, DEFAULT_SPAWN_TIMEOUT,
    MAX_SPAWN_REQUESTS_PER_PEER,
};
pub use node::{Node, NodeBuilder, NodeStats, SpawnOptions, DEFAULT_SHUTDOWN_TIMEOUT};
pub use pool::{Pool, PoolSpec, Routing};
pub use registry::RegistryError;

/// The names most programs need: `use distribute::prelude::*;`.
pub mod prelude {
    pub use crate::supervision::Supervised;
    pub use crate::TimerHandle;
    pub use crate::{actor, registered, supervised};
    pub use crate::{
        Actor, ActorId, ActorRef, CallError, Context, Down, ExitReason, ExitSignal, Node, NodeEvent, NodeId,
        Recipient, SpawnError, SpawnOptions,
    };
    pub use crate::{Pool, Routing};
}
