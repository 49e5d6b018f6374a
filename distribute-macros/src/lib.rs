//! Procedural macros of [`distribute`](https://docs.rs/distribute). Use them through
//! `distribute`, which re-exports them (`use distribute::prelude::*;`); the generated code
//! names `::distribute` and does not work without it.
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
//!
//! It generates `impl distribute::__private::ActorConfig` with these settings, which the
//! `impl Actor` generated from the impl block reads; an impl block whose struct lacks
//! `#[actor]` is reported as "`Counter` is not an actor". Generic structs are not supported.
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
//!   (so a method returning `Result<T, E>` gives `Result<Result<T, E>, CallError>`);
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
//! outside the crate need anyway. The client trait must be in scope to call its methods (it
//! is, in the module of the impl block). A method of `ActorRef` with the same name as a
//! message (`stop`, `link`, ...) takes precedence; call the message as
//! `CounterClient::stop(&counter)`.
//!
//! ## Errors
//!
//! Mistakes are compile errors spanned on the offending token, each with a help line showing
//! the right form, all reported at once. The item is still emitted (without the helper
//! attributes) and nothing is generated from an impl block with errors, so no unrelated
//! errors follow.
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
/// #[actor(mailbox = 64)] // options: `mailbox = N`, `name = "..."`, `codec = Type`
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
