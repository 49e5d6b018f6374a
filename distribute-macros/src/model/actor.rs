//! The model of `#[actor]`: the options on the struct, and on the impl block the methods marked
//! as messages or hooks.

use proc_macro2::{Ident, TokenStream};
use syn::{Attribute, ImplItem, ImplItemFn, ItemImpl, ItemStruct, Type};

use super::generics::{generics_tokens, reject_generics};
use super::method::{parse_hook, parse_message, Hook, MessageFn};
use crate::attr::{self, ActorOptions, Marker};
use crate::ctx::Ctxt;

/// `#[actor]` on a struct.
pub(crate) struct ActorStruct {
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The options of `#[actor(...)]`.
    pub(crate) options: ActorOptions,
    /// Whether the struct has generics; its settings cannot be generated then.
    pub(crate) generic: bool,
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

/// Adds `method` to `messages` or `hooks` according to its first marker, after reporting the
/// markers after the first (a method is one message or one hook) and a `#[cfg]` on it.
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
