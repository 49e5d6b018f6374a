//! Procedural macros of [`distribute`](https://docs.rs/distribute): `#[actor]` declares an
//! actor, `#[supervised(...)]` how it is supervised, `#[registered("name")]` its name in the
//! cluster-wide registry. Use them through `distribute`, which
//! re-exports them (`use distribute::prelude::*;`); the generated code names `::distribute`
//! and does not work without it.
//!
//! # `#[actor]`
//!
//! One attribute, in two places: on the struct that holds the actor's state, and on the
//! struct's inherent `impl` block, where it turns the methods marked `#[message]` into
//! messages.
//!
//! ```
//! use distribute::prelude::*;
//!
//! #[actor(mailbox = 64, name = "counter")]
//! #[derive(Default)]
//! struct Counter {
//!     n: u64,
//! }
//!
//! #[actor]
//! impl Counter {
//!     /// A tell: no return value, the caller does not wait for the handler.
//!     #[message]
//!     fn add(&mut self, by: u64) {
//!         self.n += by;
//!     }
//!
//!     /// An ask: the caller gets the return value.
//!     #[message]
//!     fn get(&self) -> u64 {
//!         self.n
//!     }
//!
//!     /// Async methods work the same; `ctx` is the actor's context, not part of the message.
//!     #[message(tag = 7)]
//!     async fn add_then_get(&mut self, by: u64, ctx: &mut Context<Self>) -> u64 {
//!         let _ = ctx.id();
//!         self.n += by;
//!         self.n
//!     }
//!
//!     /// A hook: runs before the first message.
//!     #[on_start]
//!     fn init(&mut self) {}
//!
//!     /// Not marked: an ordinary method.
//!     fn double(&self) -> u64 {
//!         self.n * 2
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::new();
//! let counter = node.spawn(Counter::default()).await?;
//! counter.add(5).await?; // `CounterClient::add`
//! assert_eq!(counter.get().await?, 5);
//! assert_eq!(counter.add_then_get(1).await?, 6);
//! # Ok(()) }
//! ```
//!
//! ## On the struct
//!
//! `#[actor]` or `#[actor(option = value, ...)]`, every option optional:
//!
//! | option | value | default |
//! |---|---|---|
//! | `mailbox` | the mailbox capacity, an integer literal ≥ 1 | `distribute::DEFAULT_MAILBOX_CAPACITY` |
//! | `name` | the actor's name in logs and metrics, a non-empty string literal | the struct's name |
//! | `codec` | the wire codec, a type implementing `distribute::codec::Codec` | `distribute::codec::Bincode` |
//! | `remote_spawn` | other nodes may start it with `Node::spawn_on`: alone, the struct itself travels as the start arguments (derive `Serialize` and `Deserialize`); `remote_spawn = Args`, the actor is made `From<Args>` | not spawnable remotely |
//!
//! It generates `impl distribute::__private::ActorConfig` with these settings, which the
//! `impl Actor` generated from the impl block reads; an impl block whose struct lacks
//! `#[actor]` is reported as "`Counter` is not an actor". Generic structs are not supported.
//! With `remote_spawn`, it also generates `impl distribute::RemoteSpawn`, and a check that
//! reports a struct or argument type that cannot travel ("`Counter` cannot be sent to another
//! node as start arguments") or an actor that is not `From` its arguments. The node an
//! actor is started on must allow its type: `node.allow_remote_spawn::<Counter>()`.
//!
//! ## On the impl block
//!
//! **Messages.** Only methods marked `#[message]` (or `#[message(tag = N)]`) are messages.
//! A message method:
//! - takes `&self` or `&mut self`, is not generic (no type, const or lifetime parameters, no
//!   `impl Trait`), not `unsafe`, not `extern`;
//! - takes its arguments by value, each with a plain name (`by: u64`): they travel in the
//!   message, so `&str` is `String`, `&[T]` is `Vec<T>`, and every argument type must be
//!   `Serialize + DeserializeOwned + Send + 'static` (checked, with the error on the type); at
//!   most 16 arguments;
//! - may declare one `ctx: &mut Context<Self>` (or `&Context<Self>`) parameter anywhere in its
//!   list: the dispatch passes the actor's context there, it is not part of the message;
//! - is a **tell** when it returns nothing (or `()`), an **ask** when it returns a type `R`,
//!   which must also be serializable (and nameable: no `impl Trait`);
//! - may be `async`.
//!
//! **Wire tags.** Each message has a `u32` tag. An explicit `#[message(tag = N)]` takes
//! `0..=0x7FFF_FFFF`; the others get the low 32 bits of the FNV-1a 64 hash of the method name
//! with the top bit set, so reordering, adding or removing methods never changes the tag of
//! another. Two messages with the same tag are an error (for a hash collision: give one an
//! explicit tag). The **fingerprint** hashes the actor's name and, in tag order, each
//! message's tag, name, argument types and reply type as written (so `Vec<u8>` and
//! `std::vec::Vec<u8>` differ; argument names do not count).
//!
//! **Hooks.** Methods marked with a hook attribute are forwarded from the `Actor` trait; each
//! may be `async`, take `&mut self` (or `&self`), and take `ctx: &mut Context<Self>` first:
//!
//! | attribute | signature | `Actor` method |
//! |---|---|---|
//! | `#[on_start]` | `fn(&mut self [, ctx]) [-> Result<(), E>]`, `E: Into<BoxError>` | `started` |
//! | `#[on_stop]` | `fn(&mut self [, ctx], reason: &ExitReason)` | `stopped` |
//! | `#[on_exit]` | `fn(&mut self [, ctx], signal: ExitSignal)` | `on_exit` |
//! | `#[on_down]` | `fn(&mut self [, ctx], down: Down)` | `on_down` |
//!
//! At most one hook of each kind. Everything else in the block is left alone. An impl block
//! without messages is allowed.
//!
//! ## What it generates
//!
//! Next to `#[actor] impl Counter { ... }` (which is emitted unchanged, minus the helper
//! attributes), all documented, all naming the runtime by absolute paths:
//!
//! - `enum CounterMsg`: one variant per message, named after the method in UpperCamelCase
//!   (`add_then_get` → `AddThenGet`), with the arguments as named fields and, for an ask,
//!   `reply: ReplyTo<R>`;
//! - `impl Serialize for CounterMsg` (the arguments as a tuple, never the reply) and
//!   `impl Message for CounterMsg`: `FINGERPRINT`, `TAGS`, `tag()`, `name()`, `encode_body`,
//!   `decode_body` (strict; an unknown tag is `CodecError::UnknownTag`);
//! - `impl Actor for Counter`: the settings of the struct's `#[actor(...)]`, an exhaustive
//!   `match` from `CounterMsg` to the methods (asks answer through `reply.send(..)`), and
//!   the hooks;
//! - `trait CounterClient: Recipient<Counter>`, implemented for every `Recipient<Counter>`
//!   (`ActorRef<Counter>`, `with_timeout` views, ...), with one method per message taking the
//!   same arguments: a tell returns `Result<(), CallError>`, an ask `Result<R, CallError>`
//!   (so a method returning `Result<T, E>` gives `Result<Result<T, E>, CallError>`); and
//!   beside each, `try_` + its name, which fails at once with `CallError::MailboxFull` on a
//!   full mailbox instead of waiting for room (a tell's returns `Result<(), CallError>`
//!   without `async`; an ask's sends at once or fails, then awaits the reply). A message
//!   named `try_x` beside a message `x` is an error;
//! - a compile-time check (`assert_wire`) of every argument and reply type.
//!
//! For the first two methods of the example, the core of it reads:
//!
//! ```ignore
//! pub(crate) enum CounterMsg {
//!     Add { by: u64 },
//!     Get { reply: ::distribute::ReplyTo<u64> },
//! }
//!
//! impl ::distribute::Actor for Counter {
//!     type Msg = CounterMsg;
//!     // ... settings from `ActorConfig`, hooks ...
//!     async fn handle(&mut self, msg: CounterMsg, ctx: &mut ::distribute::Context<Self>) {
//!         match msg {
//!             CounterMsg::Add { by } => self.add(by),
//!             CounterMsg::Get { reply } => reply.send(self.get()),
//!         }
//!     }
//! }
//!
//! pub(crate) trait CounterClient: ::distribute::Recipient<Counter> {
//!     fn add(&self, by: u64) -> impl Future<Output = Result<(), CallError>> + Send {
//!         ::distribute::Recipient::tell(self, CounterMsg::Add { by })
//!     }
//!     fn get(&self) -> impl Future<Output = Result<u64, CallError>> + Send {
//!         ::distribute::Recipient::ask(self, move |reply| CounterMsg::Get { reply })
//!     }
//! }
//!
//! impl<R: ?Sized + ::distribute::Recipient<Counter>> CounterClient for R {}
//! ```
//!
//! **Visibility.** `CounterMsg` and `CounterClient` take the visibility of the most visible
//! message method, and at least `pub(crate)`: `impl Actor for Counter` names the enum, and
//! the compiler rejects an enum less visible than the struct (which the impl block cannot
//! see). So a `pub` actor needs at least one `pub` message method, which is what its users
//! outside the crate need anyway; without one, `#[actor]` says so on the first message
//! method (or on the impl's type when it has none), with the two ways out: make the messages
//! outsiders may send `pub`, or the struct `pub(crate)`. The client trait must be in scope
//! to call its methods (it is, in the module of the impl block). A method of `ActorRef` with
//! the same name as a message or its `try_` twin (`stop`, `link`, `try_tell` for a message
//! `tell`, ...) takes precedence; call the message as `CounterClient::stop(&counter)`.
//!
//! ## Errors
//!
//! Mistakes are compile errors spanned on the offending token, each with a help line showing
//! the right form, all reported at once. The item is still emitted (without the helper
//! attributes) and nothing is generated from an impl block with errors, so no unrelated
//! errors follow.
//!
//! # `#[supervised(...)]`
//!
//! On the struct of an actor, next to `#[actor]` (before or after it), declares how the actor
//! is supervised, and generates a one-call start under a supervisor:
//!
//! ```
//! use distribute::prelude::*;
//!
//! #[actor]
//! #[supervised(restart = transient, max_restarts = 5, within = "10s", shutdown = "1s")]
//! #[derive(Default)]
//! struct Cache {
//!     entries: u64,
//! }
//!
//! #[actor]
//! impl Cache {
//!     #[message]
//!     fn put(&mut self) -> u64 {
//!         self.entries += 1;
//!         self.entries
//!     }
//! }
//!
//! #[actor]
//! #[supervised(pool = 4, routing = least_loaded)]
//! #[derive(Default)]
//! struct Worker;
//!
//! #[actor]
//! impl Worker {
//!     #[message]
//!     fn work(&self, job: u64) -> u64 {
//!         job * 2
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::new();
//! // The supervisor, and a ref to the actor that stays valid across restarts.
//! let (_supervisor, cache) = Cache::start_supervised(&node, Cache::default).await?;
//! assert_eq!(cache.put().await?, 1);
//!
//! // With `pool = N`: a `Pool<Worker>`, on which the client methods route to a worker.
//! let pool = Worker::start_supervised(&node, Worker::default).await?;
//! assert_eq!(pool.size(), 4);
//! assert_eq!(pool.work(21).await?, 42);
//!
//! // The options, and specs to build a larger tree with.
//! assert_eq!(Cache::SUPERVISION.intensity.max_restarts, 5);
//! let spec = Cache::child_spec("cache", Cache::default);
//! assert_eq!(spec.restart_type(), distribute::supervision::Restart::Transient);
//! # Ok(()) }
//! ```
//!
//! ## Options
//!
//! `#[supervised]` or `#[supervised(option = value, ...)]`, every option optional; an option
//! left out takes its value from `distribute::supervision::SupervisionOptions::DEFAULT`:
//!
//! | option | value | default |
//! |---|---|---|
//! | `restart` | when the actor is restarted: `permanent` (always), `transient` (after a failure, not after a normal stop), `temporary` (never) | `permanent` |
//! | `strategy` | which children its supervisor restarts when one fails: `one_for_one`, `one_for_all`, `rest_for_one` | `one_for_one` |
//! | `max_restarts` | the restart intensity: at most this many restarts (an integer literal, `u32`) within `within`, or the supervisor gives up and fails; give both or neither | 3 |
//! | `within` | the intensity's window, a duration, not zero | `"5s"` |
//! | `shutdown` | how long the actor may take to stop before it is killed, a duration (`"0s"`: killed at once) | `"5s"` |
//! | `backoff` | the pause before a restart, a duration, not zero: the first one, doubling after each restart up to 30 times it | none |
//! | `pool` | run as a pool of this many workers: an integer literal from 1 to 65536, or any expression of type `usize`, evaluated each time the pool starts (`pool = cpus() * 2`; zero fails that start with `SpawnError::InvalidPoolSize`) | no pool |
//! | `routing` | how the pool picks a worker (needs `pool`): `round_robin`, `random`, `least_loaded`, `key_hash` | `round_robin` |
//!
//! A duration is a string literal: an integer and a unit, `ms`, `s`, `m` or `h`
//! (`"250ms"`, `"5s"`, `"2m"`, `"1h"`).
//!
//! ## What it generates
//!
//! The struct is emitted unchanged. Next to it, for the first example above:
//!
//! ```ignore
//! impl ::distribute::supervision::Supervised for Cache {
//!     const SUPERVISION: ::distribute::supervision::SupervisionOptions =
//!         ::distribute::supervision::SupervisionOptions {
//!             restart: ::distribute::supervision::Restart::Transient,
//!             intensity: ::distribute::supervision::Intensity {
//!                 max_restarts: 5,
//!                 within: ::core::time::Duration::from_millis(10000),
//!             },
//!             shutdown: ::core::time::Duration::from_millis(1000),
//!             ..::distribute::supervision::SupervisionOptions::DEFAULT
//!         };
//! }
//!
//! impl Cache {
//!     async fn start_supervised(
//!         node: &::distribute::Node,
//!         factory: impl Fn() -> Self + Send + Sync + 'static,
//!     ) -> Result<(ActorRef<Supervisor>, ActorRef<Self>), SpawnError> {
//!         ::distribute::supervision::start_supervised(node, factory).await
//!     }
//! }
//! ```
//!
//! - `impl Supervised` holds the options in `SUPERVISION`; the trait's provided methods turn
//!   them into a `ChildSpec` (`Cache::child_spec("cache", Cache::default)`, to put the
//!   actor in a larger tree), a `SupervisorSpec` or a `PoolSpec`.
//! - `start_supervised`, with the struct's visibility, starts the actor under a new supervisor
//!   and returns the supervisor and the actor's ref. `factory` makes the actor, and a new one
//!   at each restart, behind the same ref. With `pool = N` it returns a `Pool<Worker>` instead
//!   (through `supervision::start_pool`).
//! - A compile-time check that the struct is an actor: `#[supervised]` on a struct without
//!   `#[actor]` (or without its `#[actor] impl` block) is reported as "`Worker` is not an
//!   actor", on the struct's name.
//!
//! Each option is checked alone (a name among the valid ones, a duration that parses and fits,
//! an integer in range) and together (`routing` needs `pool`; `max_restarts` and `within` come
//! together). As with `#[actor]`, every mistake is reported at once, with a help line; the
//! impl and `start_supervised` are still generated, with the defaults for the wrong options,
//! so the code that uses them reports nothing more.
//!
//! # `#[registered("name")]`
//!
//! On the struct of an actor, next to `#[actor]` (before or after it) and *above*
//! `#[supervised]` if there is one, declares the actor's name in the cluster-wide registry and
//! generates a typed start and typed lookups:
//!
//! ```
//! use distribute::prelude::*;
//!
//! #[actor]
//! #[registered("billing")]
//! #[derive(Default)]
//! struct Billing {
//!     invoices: u64,
//! }
//!
//! #[actor]
//! impl Billing {
//!     #[message]
//!     fn invoice(&mut self) -> u64 {
//!         self.invoices += 1;
//!         self.invoices
//!     }
//! }
//!
//! #[actor]
//! #[registered("workers")] // above `#[supervised]`, which it reads
//! #[supervised(pool = 2)]
//! #[derive(Default)]
//! struct Worker;
//!
//! #[actor]
//! impl Worker {}
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::new();
//! // Spawned, then registered as "billing" on every node of the cluster.
//! let billing = Billing::start_registered(&node, Billing::default()).await?;
//! // Found by name, typed, from any node.
//! let found: ActorRef<Billing> = Billing::lookup(&node)?;
//! assert_eq!(found.id(), billing.id());
//! assert_eq!(found.invoice().await?, 1);
//! assert_eq!(Billing::REGISTERED_NAME.as_str(), "billing");
//!
//! // A pool: the workers register as "workers_1", "workers_2", in the group "workers".
//! let pool = Worker::start_registered(&node, Worker::default).await?;
//! assert_eq!(node.registered_names("workers_"), ["workers_1", "workers_2"]);
//! assert_eq!(node.members::<Worker>("workers").len(), pool.size());
//! # Ok(()) }
//! ```
//!
//! ## The name
//!
//! One string literal: 1 to 255 characters of `A-Z`, `a-z`, `0-9`, `.`, `_` and `-`, the
//! registry's rules, checked at compile time (an empty name, a character outside the set, a
//! name too long, also for the `name_N` of each worker of a pool, are errors on the literal).
//!
//! ## What it generates
//!
//! The struct is emitted unchanged. Next to it, for `Billing` above:
//!
//! ```ignore
//! impl ::distribute::registry::Registered for Billing {
//!     const REGISTERED_AS: ::distribute::registry::Name<Self> =
//!         ::distribute::registry::Name::checked_by_macro("billing");
//! }
//!
//! impl Billing {
//!     const REGISTERED_NAME: Name<Self> = Name::checked_by_macro("billing");
//!     fn lookup(node: &Node) -> Result<ActorRef<Self>, RegistryError> { ... }
//!     async fn lookup_with_timeout(
//!         node: &Node,
//!         timeout: Duration,
//!     ) -> Result<ActorRef<Self>, RegistryError> {
//!         ...
//!     }
//!     async fn start_registered(node: &Node, actor: Self) -> Result<ActorRef<Self>, RegisterError> {
//!         ::distribute::registry::start_registered(node, actor).await
//!     }
//! }
//! ```
//!
//! - `REGISTERED_AS` (in the trait) and `REGISTERED_NAME` (on the type) are the typed name:
//!   `Billing::REGISTERED_NAME.lookup(&node)` is an `ActorRef<Billing>`.
//! - `lookup` reads the node's copy of the registry (no round trip); `lookup_with_timeout`
//!   waits for the name to be registered.
//! - `start_registered` follows `#[supervised]`: without it, it spawns `actor` and registers
//!   it; with `#[supervised(...)]` it takes a `factory` like `start_supervised` and returns
//!   the supervisor and the actor's ref (the name stays with the ref across restarts); with
//!   `#[supervised(pool = N)]` it returns the `Pool`, its workers registered as `name_1` to
//!   `name_N` and members of the process group `name`. If the registration fails
//!   (`RegisterError::Registry`, such as `RegistryError::AlreadyRegistered`), what was started
//!   is stopped again.
//! - The inherent items take the struct's visibility, as `start_supervised` does.
//! - A compile-time check that the struct is an actor, on its name, as for `#[supervised]`.
//!
//! `#[registered]` must come before `#[supervised]`: it reads the `#[supervised(...)]`
//! attribute below it to know which `start_registered` to generate. Written after, it is an
//! error, spanned on it, that says to move it up.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attr;
mod ctx;
mod expand;
mod hash;
mod model;
mod validate;

use proc_macro::TokenStream;

/// Declares an actor: on a struct, its settings; on its inherent impl block, its messages
/// and hooks.
///
/// ```
/// use distribute::prelude::*;
///
/// #[actor(mailbox = 64)] // options: `mailbox = N`, `name = "..."`, `codec = Type`, `remote_spawn`
/// #[derive(Default)]
/// struct Counter {
///     n: u64,
/// }
///
/// #[actor]
/// impl Counter {
///     #[message] // a tell: no return value
///     fn add(&mut self, by: u64) {
///         self.n += by;
///     }
///
///     #[message(tag = 7)] // an ask, with an explicit wire tag
///     async fn get(&self) -> u64 {
///         self.n
///     }
///
///     #[on_stop] // also `#[on_start]`, `#[on_exit]`, `#[on_down]`
///     fn stopped(&mut self, reason: &ExitReason) {
///         let _ = reason;
///     }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = Node::new();
/// let counter: ActorRef<Counter> = node.spawn(Counter::default()).await?;
/// counter.add(5).await?;               // generated `CounterClient::add`
/// assert_eq!(counter.get().await?, 5); // generated `CounterClient::get`
/// counter.tell(CounterMsg::Add { by: 1 }).await?; // the generated enum, by hand
/// # Ok(()) }
/// ```
///
/// On the struct it implements the actor's settings; on the impl block it generates the
/// message enum `CounterMsg` (with `Serialize` and `Message`), `impl Actor for Counter`
/// dispatching each message to its method, the client trait `CounterClient` implemented for
/// every `Recipient<Counter>`, and compile-time checks that every argument and reply can
/// travel in a message. Only methods marked `#[message]` are messages; they take `&self` or
/// `&mut self`, owned arguments and optionally a `ctx: &mut Context<Self>` parameter. See the
/// [crate documentation](crate) for every rule and option.
#[proc_macro_attribute]
pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::actor(args.into(), input.into()).into()
}

/// Declares how an actor is supervised: its restart type, its supervisor's strategy and
/// restart intensity, its shutdown timeout, a restart backoff, or a pool of workers.
///
/// **Restart intensity.** Without `max_restarts` and `within`, the supervisor allows 3
/// restarts within 5 seconds. A failure past that (the fourth within 5 s, by default) makes it
/// give up: it stops its other children, newest first, and exits with
/// `ExitReason::MaxRestartsExceeded { child, reason, max_restarts, within }`, where `reason`
/// is why that child's last incarnation ended. A parent supervisor takes that as the failure
/// of a child and restarts the subtree under its own intensity (escalation), and lists it as
/// the child's `last_exit` in `which_children`; a top-level one stays down, and its monitors
/// and links hear the reason.
///
/// ```
/// use distribute::prelude::*;
///
/// #[actor]
/// #[supervised(
///     restart = transient,    // or `permanent` (the default), `temporary`
///     strategy = one_for_all, // or `one_for_one` (the default), `rest_for_one`
///     max_restarts = 5,       // at most 5 restarts ...
///     within = "10s",         // ... within 10 seconds (durations: "250ms", "5s", "2m", "1h")
///     shutdown = "1s",        // time to stop before being killed
///     backoff = "100ms",      // pause before a restart, doubling each time
///     pool = 3,               // three workers behind one `Pool<Worker>`
///     routing = least_loaded, // or `round_robin` (the default), `random`, `key_hash`
/// )]
/// #[derive(Default)]
/// struct Worker;
///
/// #[actor]
/// impl Worker {
///     #[message]
///     fn work(&self) -> u32 {
///         42
///     }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = Node::new();
/// let pool: Pool<Worker> = Worker::start_supervised(&node, Worker::default).await?;
/// assert_eq!(pool.work().await?, 42);
/// # Ok(()) }
/// ```
///
/// It goes on the struct of an actor, before or after `#[actor]`, and generates
/// `impl Supervised for Worker` (the options, in `Worker::SUPERVISION`, and the child,
/// supervisor and pool specs they imply) and `Worker::start_supervised(&node, factory)`, which
/// returns the supervisor and a ref that stays valid across restarts, or with `pool = N` a
/// `Pool<Worker>`. Every option is optional. See the [crate documentation](crate) for each
/// option and for the generated code.
#[proc_macro_attribute]
pub fn supervised(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::supervised(args.into(), input.into()).into()
}

/// Registers an actor under a name in the cluster-wide registry: a typed start and typed
/// lookups.
///
/// ```
/// use distribute::prelude::*;
///
/// #[actor]
/// #[registered("billing")] // 1 to 255 characters of `A-Z`, `a-z`, `0-9`, `.`, `_`, `-`
/// #[supervised]            // optional; `#[registered]` goes above it
/// #[derive(Default)]
/// struct Billing;
///
/// #[actor]
/// impl Billing {
///     #[message]
///     fn ping(&self) -> u8 {
///         1
///     }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = Node::new();
/// let (_supervisor, billing) = Billing::start_registered(&node, Billing::default).await?;
/// let found: ActorRef<Billing> = Billing::lookup(&node)?;
/// assert_eq!(found.id(), billing.id());
/// assert_eq!(found.ping().await?, 1);
/// # Ok(()) }
/// ```
///
/// It goes on the struct of an actor, before or after `#[actor]`, before `#[supervised]`, and
/// generates `impl Registered for Billing` (the typed name, also `Billing::REGISTERED_NAME`),
/// `Billing::lookup(&node)`, `Billing::lookup_with_timeout(&node, timeout)` and
/// `Billing::start_registered(&node, ...)`, which takes the actor, or with `#[supervised]` a
/// factory (and returns the supervisor and the ref, or the `Pool` with `pool = N`). See the
/// [crate documentation](crate) for the rules of the name and for the generated code.
#[proc_macro_attribute]
pub fn registered(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::registered(args.into(), input.into()).into()
}
