//! The model of an `#[actor]` item, parsed from syn's syntax tree; that of a
//! `#[supervised]` struct is in `supervised.rs`, that of a `#[registered]` struct in
//! `registered.rs`.
//!
//! Parsing checks the rules that concern one item at a time: a method's signature
//! (`signature.rs`), an argument's type, a name (`names.rs`). Rules that need the whole model
//! (duplicate tags or names) are in `validate.rs`. Every mistake is reported to the [`Ctxt`]
//! and parsing keeps going, so one compilation shows them all; the model is only expanded
//! when no error was reported.

mod method;
mod names;
mod registered;
mod signature;
mod supervised;

use proc_macro2::{Ident, Span, TokenStream};
use syn::{Attribute, ImplItem, ImplItemFn, ItemImpl, ItemStruct, ReturnType, Type, Visibility};

use crate::attr::{self, ActorOptions, HookKind, Marker};
use crate::ctx::Ctxt;
use method::{parse_hook, parse_message};
pub(crate) use registered::{parse_registered, registered_attr_args, RegisteredStruct, Supervision};
use signature::generics_tokens;
pub(crate) use supervised::{parse_supervised, SupervisedStruct};

/// `#[actor]` on a struct.
pub(crate) struct ActorStruct {
    pub(crate) ident: Ident,
    pub(crate) options: ActorOptions,
    /// Whether the struct has generics; its settings cannot be generated then.
    pub(crate) generic: bool,
}

/// Reports generic parameters on an actor struct; returns whether there were any. `#[actor]`,
/// `#[supervised]` and `#[registered]` report the same error, which the compiler shows once.
pub(crate) fn reject_generics(cx: &Ctxt, generics: &syn::Generics) -> bool {
    let generic = !generics.params.is_empty() || generics.where_clause.is_some();
    if generic {
        cx.error_help(
            generics_tokens(generics),
            "generic actors are not supported",
            "an actor is one concrete type: remove the generic parameters, or wrap each instantiation in its own struct",
        );
    }
    generic
}

/// Parses `#[actor(...)]` on a struct.
pub(crate) fn parse_struct(cx: &Ctxt, args: TokenStream, item: &mut ItemStruct) -> ActorStruct {
    let options = attr::parse_actor_options(cx, args);
    let generic = reject_generics(cx, &item.generics);
    check_actor_applied_once(cx, &mut item.attrs);
    ActorStruct {
        ident: item.ident.clone(),
        options,
        generic,
    }
}

/// `#[actor]` on the actor's inherent impl block.
pub(crate) struct ActorImpl {
    /// The actor type as written after `impl`.
    pub(crate) self_ty: Type,
    /// Its name: the last segment of the path.
    pub(crate) self_name: Ident,
    /// The `#[message]` methods, in declaration order.
    pub(crate) messages: Vec<MessageFn>,
    /// The hooks, in declaration order.
    pub(crate) hooks: Vec<Hook>,
}

/// A `#[message]` method.
pub(crate) struct MessageFn {
    /// The method's identifier, as written (possibly raw, `r#type`).
    pub(crate) method: Ident,
    /// The method's name without `r#`: the message's name on the wire and in logs.
    pub(crate) name: String,
    /// The enum variant: the name in UpperCamelCase (`get_total` → `GetTotal`).
    pub(crate) variant: Ident,
    /// The wire tag: explicit, or generated from the name.
    pub(crate) tag: u32,
    /// The `tag = N` literal when the tag is explicit.
    pub(crate) explicit_tag: Option<syn::LitInt>,
    pub(crate) vis: Visibility,
    pub(crate) is_async: bool,
    /// The parameters after `self`, in declaration order.
    pub(crate) params: Vec<Param>,
    /// The return type, `Self` replaced by the actor type; `None` for a tell.
    pub(crate) reply: Option<Type>,
}

impl MessageFn {
    /// The arguments that travel in the message (every parameter but the context).
    pub(crate) fn args(&self) -> impl Iterator<Item = &Arg> {
        self.params.iter().filter_map(|param| match param {
            Param::Context => None,
            Param::Arg(arg) => Some(arg),
        })
    }
}

/// A parameter of a message method.
// A handful per method, built once per compilation: boxing `Arg` would only add noise.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Param {
    /// `ctx: &mut Context<Self>` (or `&Context<Self>`): passed by the dispatch, not sent.
    Context,
    /// An argument: a field of the message.
    Arg(Arg),
}

/// An argument of a message method.
pub(crate) struct Arg {
    pub(crate) name: Ident,
    /// The type, `Self` replaced by the actor type (the message enum and the client trait are
    /// other types, where `Self` would mean something else).
    pub(crate) ty: Type,
}

/// A lifecycle hook.
pub(crate) struct Hook {
    pub(crate) kind: HookKind,
    pub(crate) method: Ident,
    /// The attribute, for errors about a second hook of the same kind.
    pub(crate) attr_span: Span,
    pub(crate) is_async: bool,
    /// The parameters after `self`, in declaration order.
    pub(crate) params: Vec<HookParam>,
    /// The return type, to span the check of an `#[on_start]` result on it.
    pub(crate) output: ReturnType,
}

/// A parameter of a hook.
pub(crate) enum HookParam {
    /// The actor's context.
    Context,
    /// What the hook receives (`reason`, `signal`, `down`); `ty_span` is the span of its
    /// declared type, so a type mismatch points at it.
    Payload { ty_span: Span },
}

/// Parses `#[actor]` on an impl block, and strips the helper attributes from it. Returns
/// `None` when the block is not something an actor can be made from.
pub(crate) fn parse_impl(cx: &Ctxt, args: TokenStream, item: &mut ItemImpl) -> Option<ActorImpl> {
    if !args.is_empty() {
        cx.error_help(
            &args,
            "`#[actor]` on an impl block takes no options",
            "options go on the struct: `#[actor(mailbox = 64)] struct Counter { ... }`",
        );
    }
    check_actor_applied_once(cx, &mut item.attrs);
    let mut usable = true;
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_help(
            path,
            "`#[actor]` goes on the actor's inherent impl block, not on a trait impl",
            "write the messages in `#[actor] impl Counter { ... }`",
        );
        usable = false;
    }
    let generics = &item.generics;
    let generic = !generics.params.is_empty() || generics.where_clause.is_some();
    if generic {
        cx.error_help(
            generics_tokens(generics),
            "generic actors are not supported",
            "an actor is one concrete type",
        );
        usable = false;
    }
    let self_name = self_name(cx, &item.self_ty, generic);
    let self_ty = (*item.self_ty).clone();

    let mut messages = Vec::new();
    let mut hooks = Vec::new();
    for impl_item in &mut item.items {
        let (attrs, method) = match impl_item {
            ImplItem::Fn(method) => {
                let markers = attr::take_markers(&mut method.attrs);
                parse_method(cx, &self_ty, method, markers, &mut messages, &mut hooks);
                continue;
            }
            ImplItem::Const(item) => (&mut item.attrs, "an associated constant"),
            ImplItem::Type(item) => (&mut item.attrs, "an associated type"),
            ImplItem::Macro(item) => (&mut item.attrs, "a macro invocation"),
            _ => continue,
        };
        for (marker, attr) in attr::take_markers(attrs) {
            let name = marker.attr_name();
            let help = match marker {
                Marker::Message => "`#[message] fn name(&self, ...)`",
                Marker::Hook(kind) => kind.form(),
            };
            cx.error_help_at(
                attr::path_span(&attr),
                format!("`#[{name}]` goes on a method, not on {method}"),
                help,
            );
        }
    }
    let self_name = self_name?;
    usable.then_some(ActorImpl {
        self_ty,
        self_name,
        messages,
        hooks,
    })
}

/// Reports `#[actor]` applied twice to one item, and removes the second one so that it does
/// not expand again.
fn check_actor_applied_once(cx: &Ctxt, attrs: &mut Vec<Attribute>) {
    attrs.retain(|attr| {
        let again = attr::is_actor_attr(attr);
        if again {
            cx.error_help(
                attr,
                "`#[actor]` is applied twice to this item",
                "remove one of them",
            );
        }
        !again
    });
}

/// The name of the actor type: the last segment of a plain path.
/// `generics_reported`: the impl's own generics were reported already, so arguments of the
/// self type (`impl<K> Cache<K>`) are not reported again.
fn self_name(cx: &Ctxt, self_ty: &Type, generics_reported: bool) -> Option<Ident> {
    if let Type::Path(path) = self_ty {
        if path.qself.is_none() {
            if let Some(last) = path.path.segments.last() {
                if !last.arguments.is_empty() {
                    if generics_reported {
                        return None;
                    }
                    cx.error_help(
                        &last.arguments,
                        "generic actors are not supported",
                        "an actor is one concrete type",
                    );
                    return None;
                }
                return Some(last.ident.clone());
            }
        }
    }
    cx.error_help(
        self_ty,
        "`#[actor]` goes on the impl block of a struct",
        "`#[actor] impl Counter { ... }`, for a struct declared with `#[actor] struct Counter { ... }`",
    );
    None
}

fn parse_method(
    cx: &Ctxt,
    self_ty: &Type,
    method: &ImplItemFn,
    markers: Vec<(Marker, Attribute)>,
    messages: &mut Vec<MessageFn>,
    hooks: &mut Vec<Hook>,
) {
    let mut markers = markers.into_iter();
    let Some((marker, attr)) = markers.next() else {
        return;
    };
    for (second, second_attr) in markers {
        let message = if second == marker {
            format!("duplicate `#[{}]`", second.attr_name())
        } else {
            format!(
                "a method is a message or one hook, not both `#[{}]` and `#[{}]`",
                marker.attr_name(),
                second.attr_name()
            )
        };
        cx.error_help_at(attr::path_span(&second_attr), message, "keep one attribute");
    }
    if let Some(cfg) = method.attrs.iter().find(|attr| attr::is_cfg_attr(attr)) {
        cx.error_help(
            cfg,
            format!("`#[cfg]` is not supported on a `#[{}]` method", marker.attr_name()),
            "an actor's messages and hooks (and its protocol fingerprint) cannot depend on the configuration; put the `#[cfg]` inside the method's body",
        );
    }
    match marker {
        Marker::Message => messages.extend(parse_message(cx, self_ty, method, &attr)),
        Marker::Hook(kind) => hooks.extend(parse_hook(cx, kind, method, &attr)),
    }
}
