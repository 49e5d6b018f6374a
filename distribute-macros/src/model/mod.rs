//! The models of the annotated items, parsed from syn's syntax tree: that of an `#[actor]`
//! struct or impl block in `actor.rs` (its methods in `method.rs`), that of a `#[supervised]`
//! struct in `supervised.rs`, that of a `#[registered]` struct in `registered.rs`.
//!
//! Parsing checks the rules that concern one item at a time: a method's signature
//! (`signature.rs`), an argument's type, a name (`names.rs`), the absence of generics
//! (`generics.rs`). Rules that need the whole model (duplicate tags or names) are in
//! `validate.rs`. Every mistake is reported to the [`Ctxt`](crate::ctx::Ctxt) and parsing keeps
//! going, so one compilation shows them all; the model is only expanded when no error was
//! reported.
//!
//! This file only gathers what the other phases use: the modules import from one another, never
//! from here, so their imports go one way.

mod actor;
mod generics;
mod method;
mod names;
mod registered;
mod signature;
mod supervised;

pub(crate) use actor::{parse_impl, parse_struct, ActorImpl, ActorStruct};
pub(crate) use method::{Hook, HookParam, MessageFn, Param};
pub(crate) use registered::{parse_registered, registered_attr_args, RegisteredStruct, Supervision};
pub(crate) use supervised::{parse_supervised, SupervisedStruct};
