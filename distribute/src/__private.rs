//! Items used by the code that `#[actor]` and `#[supervised]` generate. Not a public API:
//! names and signatures here may change in any release.

pub use serde;

use crate::actor::BoxError;
use crate::codec::{Codec, CodecError};

/// Per-struct settings written by `#[actor]` on the struct, read by `#[actor]` on the `impl`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an actor",
    label = "this type has `#[actor]` methods but is not declared as an actor",
    note = "add `#[actor]` to the definition of `{Self}`: `#[actor] struct {Self} {{ ... }}`"
)]
pub trait ActorConfig {
    /// Mailbox capacity (`#[actor(mailbox = N)]`).
    const MAILBOX_CAPACITY: usize;
    /// Name in logs (`#[actor(name = "...")]`, default: the struct's name).
    const NAME: &'static str;
    /// Wire codec (`#[actor(codec = Path)]`, default: bincode).
    type Codec: Codec;
    /// Whether the struct is `pub`: its message enum must then be `pub` too, which `#[actor]`
    /// on the impl block checks (it cannot see the struct).
    const PUBLIC: bool = false;
}

/// Implemented by every actor. `#[supervised]` checks it on its struct, spanned on the struct's
/// name, so that a struct that is not an actor is first reported as "`Worker` is not an actor"
/// with what to add, before the compiler's own "`Worker: Actor` is not satisfied" for the
/// generated `impl Supervised` (`Actor` has no message of its own).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an actor",
    label = "`#[supervised]` and `#[registered]` need an actor",
    note = "declare it with `#[actor] struct {Self} {{ ... }}` and give it an `#[actor] impl {Self} {{ ... }}` block (which may be empty)"
)]
pub trait IsActor {}

impl<A: crate::actor::Actor> IsActor for A {}

/// Compile-time check that `A` is an actor; see [`IsActor`].
pub const fn assert_actor<A: IsActor>() {}

pub use crate::actor::Wire;

/// Compile-time check that an actor's start arguments can travel to another node, generated
/// for `#[actor(remote_spawn)]` and spanned on the option.
pub const fn assert_spawn_args<T: crate::SpawnArgs>() {}

/// An actor made from its start arguments `A`: any `From<A>`. A trait of its own so that an
/// actor that is not says what `#[actor(remote_spawn = A)]` needs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be made from its start arguments `{A}`",
    label = "no `From<{A}>`",
    note = "`#[actor(remote_spawn = {A})]` makes the actor from a `{A}` on the node it starts on: implement `From<{A}> for {Self}`"
)]
pub trait MadeFrom<A> {
    /// The actor, from its arguments.
    fn made_from(args: A) -> Self;
}

impl<A, T: From<A>> MadeFrom<A> for T {
    fn made_from(args: A) -> Self {
        T::from(args)
    }
}

/// Compile-time check that `T` can travel in a message; generated once per argument and reply
/// type, spanned on the type, so the error points at it.
pub const fn assert_wire<T: Wire>() {}

/// The reply-channel operations that generated code needs for a reply type `R`, called as
/// `(&ReplyOps::<R>::new()).attach::<C>(slot)`. For a type that can travel, method resolution
/// picks [`WireReplyOps`]; for one that cannot, it falls back to [`NoWireReplyOps`], which
/// compiles to nothing useful, so that the only error the user sees is the one
/// [`assert_wire`] reports on the type, not one more per generated function.
pub struct ReplyOps<R>(core::marker::PhantomData<fn() -> R>);

impl<R> ReplyOps<R> {
    /// The operations for `R`.
    pub const fn new() -> Self {
        ReplyOps(core::marker::PhantomData)
    }
}

impl<R> Default for ReplyOps<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// Reply-channel operations for a reply type that can travel.
pub trait WireReplyOps<R> {
    /// [`ReplyTo::attach`](crate::ReplyTo::attach).
    fn attach<C: Codec>(&self, slot: crate::ReplySlot) -> crate::ReplyTo<R>;
    /// [`ReplyTo::erase`](crate::ReplyTo::erase).
    fn erase<C: Codec>(&self, reply: &mut crate::ReplyTo<R>) -> Option<crate::ErasedReply>;
}

impl<R: Wire> WireReplyOps<R> for ReplyOps<R> {
    fn attach<C: Codec>(&self, slot: crate::ReplySlot) -> crate::ReplyTo<R> {
        crate::ReplyTo::attach::<C>(slot)
    }

    fn erase<C: Codec>(&self, reply: &mut crate::ReplyTo<R>) -> Option<crate::ErasedReply> {
        reply.erase::<C>()
    }
}

/// The fallback of [`WireReplyOps`] for a reply type that cannot travel; only reached in a
/// program that does not compile anyway (its `assert_wire` check fails).
pub trait NoWireReplyOps<R> {
    /// A detached reply channel.
    fn attach<C: Codec>(&self, slot: crate::ReplySlot) -> crate::ReplyTo<R>;
    /// Nothing.
    fn erase<C: Codec>(&self, reply: &mut crate::ReplyTo<R>) -> Option<crate::ErasedReply>;
}

impl<R> NoWireReplyOps<R> for &ReplyOps<R> {
    fn attach<C: Codec>(&self, _: crate::ReplySlot) -> crate::ReplyTo<R> {
        crate::ReplyTo::detached()
    }

    fn erase<C: Codec>(&self, _: &mut crate::ReplyTo<R>) -> Option<crate::ErasedReply> {
        None
    }
}

/// What an `#[on_start]` hook may return: `()` or `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "an `#[on_start]` hook returns `()` or `Result<(), E>`, not `{Self}`",
    label = "expected `()` or `Result<(), E>` where `E: Into<BoxError>`",
    note = "an error stops the actor and fails its spawn with `SpawnError::StartFailed`"
)]
pub trait IntoStartResult {
    /// Converts into the result `Actor::started` returns.
    fn into_start_result(self) -> Result<(), BoxError>;
}

impl IntoStartResult for () {
    fn into_start_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoStartResult for Result<(), E> {
    fn into_start_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// FNV-1a, the hash behind generated tags and fingerprints; exposed so tests can check them.
/// The macros call the same function, from the `distribute-hash` crate.
pub use distribute_hash::fnv1a64;

// `decode_args_N`: decodes the N arguments of a message, the same as
// `codec.decode::<(T0, T1, ...)>(body)`. One function per arity, with one generic parameter per
// argument, so that an argument type that cannot travel is reported on that type alone (where
// the `assert_wire` check of the same type already reports it, so the compiler shows it once)
// rather than on the whole `#[actor]` expansion. Messages take at most 16 arguments, the
// largest tuple serde implements; `#[actor]` checks it.
macro_rules! decode_args {
    ($($name:ident($($arg:ident),+);)+) => {$(
        /// Decodes the arguments of a message, a tuple of this many values.
        pub fn $name<Cd: Codec, $($arg: Wire),+>(codec: &Cd, body: &[u8]) -> Result<($($arg,)+), CodecError> {
            codec.decode(body)
        }
    )+};
}

decode_args! {
    decode_args_1(T0);
    decode_args_2(T0, T1);
    decode_args_3(T0, T1, T2);
    decode_args_4(T0, T1, T2, T3);
    decode_args_5(T0, T1, T2, T3, T4);
    decode_args_6(T0, T1, T2, T3, T4, T5);
    decode_args_7(T0, T1, T2, T3, T4, T5, T6);
    decode_args_8(T0, T1, T2, T3, T4, T5, T6, T7);
    decode_args_9(T0, T1, T2, T3, T4, T5, T6, T7, T8);
    decode_args_10(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9);
    decode_args_11(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
    decode_args_12(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
    decode_args_13(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
    decode_args_14(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
    decode_args_15(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
    decode_args_16(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15);
}

/// The message type of the placeholder `Actor` impl that `#[actor]` emits next to an impl
/// block with errors, so that the compiler reports those errors and not also "`Counter: Actor`
/// is not satisfied" at every `Context<Self>` in the block. It has no values.
pub enum NoMessage {}

impl crate::actor::Message for NoMessage {
    const FINGERPRINT: u64 = 0;
    const TAGS: &'static [(u32, &'static str)] = &[];

    fn tag(&self) -> u32 {
        match *self {}
    }

    fn name(&self) -> &'static str {
        match *self {}
    }

    fn encode_body<C: Codec>(&self, _: &C, _: &mut Vec<u8>) -> Result<(), CodecError> {
        match *self {}
    }

    fn decode_body<C: Codec>(_: &C, tag: u32, _: &[u8], _: crate::ReplySlot) -> Result<Self, CodecError> {
        Err(CodecError::UnknownTag { tag })
    }

    fn take_reply<C: Codec>(&mut self) -> Option<crate::ErasedReply> {
        match *self {}
    }
}
