//! The model of the methods marked `#[message]` or with a hook attribute, and their parsing.

use proc_macro2::{Ident, Span};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ImplItemFn, Pat, PatType, ReturnType, Signature, Type, Visibility};

use super::names::{replace_self, variant_name, UnrawString};
use super::signature::{
    check_owned, check_plain_signature, check_receiver, is_context_by_value, is_context_ref, is_unit, Role,
};
use crate::attr::{self, HookKind};
use crate::ctx::Ctxt;
use crate::hash::generated_tag;

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
    /// The method's visibility; the generated enum and trait take the most visible one.
    pub(crate) vis: Visibility,
    /// Whether the method is `async`, so that the dispatch awaits it.
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
    /// The parameter's name, which is also the name of its field in the message.
    pub(crate) name: Ident,
    /// The type, `Self` replaced by the actor type (the message enum and the client trait are
    /// other types, where `Self` would mean something else).
    pub(crate) ty: Type,
}

/// A lifecycle hook.
pub(crate) struct Hook {
    /// Which hook it is.
    pub(crate) kind: HookKind,
    /// The method the `Actor` method forwards to.
    pub(crate) method: Ident,
    /// The attribute, for errors about a second hook of the same kind.
    pub(crate) attr_span: Span,
    /// Whether the method is `async`, so that the forwarding awaits it.
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

/// The most arguments a message may have: the arity of the largest tuple serde implements
/// (and of the largest `distribute::__private::decode_args_N`).
const MAX_ARGS: usize = 16;

/// Parses a method marked `#[message]` (`attr`); `None` when no variant name can be made
/// from its name. Every other mistake is reported and leaves a usable model.
pub(super) fn parse_message(
    cx: &Ctxt,
    self_ty: &Type,
    method: &ImplItemFn,
    attr: &Attribute,
) -> Option<MessageFn> {
    let options = attr::parse_message_options(cx, attr);
    let sig = &method.sig;
    check_plain_signature(cx, sig, "message methods");
    check_receiver(cx, sig, "message methods");
    let reply = reply_type(cx, sig, self_ty);
    let params = message_params(cx, sig, self_ty, reply.is_some());
    check_arg_count(cx, &params);

    let name = sig.ident.unraw_string();
    let variant = variant_name(cx, &sig.ident, &name)?;
    let (tag, explicit_tag) = match options.tag {
        Some((tag, lit)) => (tag, Some(lit)),
        None => (generated_tag(&name), None),
    };
    Some(MessageFn {
        method: sig.ident.clone(),
        name,
        variant,
        tag,
        explicit_tag,
        vis: method.vis.clone(),
        is_async: sig.asyncness.is_some(),
        params,
        reply,
    })
}

/// The reply type of a message method, `Self` replaced by the actor type; `None` for a tell
/// (no return type, or `()`).
fn reply_type(cx: &Ctxt, sig: &Signature, self_ty: &Type) -> Option<Type> {
    match &sig.output {
        ReturnType::Type(_, ty) if !is_unit(ty) => {
            check_owned(cx, ty, Role::Reply);
            Some(replace_self(ty, self_ty))
        }
        _ => None,
    }
}

/// The parameters of a message method after `self`: the context, at most once, and the
/// arguments. A parameter that cannot be either is reported and left out.
fn message_params(cx: &Ctxt, sig: &Signature, self_ty: &Type, has_reply: bool) -> Vec<Param> {
    let mut params = Vec::new();
    let mut context: Option<&Type> = None;
    for input in &sig.inputs {
        let FnArg::Typed(typed) = input else { continue };
        if is_context_ref(&typed.ty) {
            if context.is_some() {
                cx.error_help(
                    &typed.ty,
                    "a second `Context` parameter",
                    "declare the context once",
                );
            }
            context = Some(&typed.ty);
            params.push(Param::Context);
            continue;
        }
        if is_context_by_value(&typed.ty) {
            cx.error_help(
                &typed.ty,
                "the context is borrowed, not moved",
                "`ctx: &mut Context<Self>`",
            );
            continue;
        }
        params.extend(message_arg(cx, typed, self_ty, has_reply).map(Param::Arg));
    }
    params
}

/// An argument of a message method: a plain name, not `reply` when the message has a reply
/// field, and an owned type.
fn message_arg(cx: &Ctxt, typed: &PatType, self_ty: &Type, has_reply: bool) -> Option<Arg> {
    let name = match &*typed.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
        pat => {
            cx.error_help(
                pat,
                "message arguments need a plain name: each becomes a field of the message",
                "name the argument, e.g. `by: u64`, and destructure it in the body",
            );
            return None;
        }
    };
    if has_reply && name == "reply" {
        cx.error_help(
            &name,
            "`reply` is the name of the reply field of this message",
            "rename this argument",
        );
    }
    check_owned(cx, &typed.ty, Role::Argument);
    Some(Arg {
        name,
        ty: replace_self(&typed.ty, self_ty),
    })
}

/// Reports the first argument past [`MAX_ARGS`].
fn check_arg_count(cx: &Ctxt, params: &[Param]) {
    let args = params.iter().filter_map(|param| match param {
        Param::Arg(arg) => Some(arg),
        Param::Context => None,
    });
    if let Some(extra) = args.clone().nth(MAX_ARGS) {
        cx.error_help(
            &extra.name,
            format!("a message takes at most {MAX_ARGS} arguments (serde encodes tuples of up to {MAX_ARGS} values)"),
            "group arguments in a struct that derives `Serialize` and `Deserialize`",
        );
    }
}

/// Parses a method marked with a hook attribute (`attr`, of kind `kind`), reporting what
/// does not match the hook's signature.
pub(super) fn parse_hook(cx: &Ctxt, kind: HookKind, method: &ImplItemFn, attr: &Attribute) -> Option<Hook> {
    attr::check_hook_attr(cx, kind, attr);
    let sig = &method.sig;
    let what = format!("`#[{}]` hooks", kind.attr_name());
    check_plain_signature(cx, sig, &what);
    check_receiver(cx, sig, &what);

    let mut params = Vec::new();
    let mut payloads = Vec::new();
    let mut has_context = false;
    for input in &sig.inputs {
        let FnArg::Typed(typed) = input else { continue };
        if is_context_ref(&typed.ty) && !has_context {
            has_context = true;
            params.push(HookParam::Context);
        } else {
            payloads.push(&*typed.ty);
            params.push(HookParam::Payload {
                ty_span: typed.ty.span(),
            });
        }
    }
    if payloads.len() > kind.payloads() {
        let message = match kind.payload() {
            None => format!("{what} take no parameter besides `self` and the context"),
            Some(payload) => format!("{what} take one parameter besides `self` and the context: {payload}"),
        };
        if let Some(extra) = payloads.get(kind.payloads()) {
            cx.error_help(extra, message, kind.form());
        }
    } else if payloads.len() < kind.payloads() {
        let payload = kind.payload().unwrap_or("a value");
        cx.error_help_at(
            sig.paren_token.span.join(),
            format!("{what} receive {payload}"),
            kind.form(),
        );
    } else if let Some(payload) = payloads.first() {
        let is_ref = matches!(payload, Type::Reference(_));
        match kind {
            HookKind::Stop if !is_ref => {
                cx.error_help(payload, "`#[on_stop]` hooks borrow the exit reason", kind.form());
            }
            HookKind::Exit | HookKind::Down if is_ref => {
                let what = if kind == HookKind::Exit {
                    "exit signal"
                } else {
                    "DOWN notification"
                };
                cx.error_help(
                    payload,
                    format!("`#[{}]` hooks receive the {what} by value", kind.attr_name()),
                    kind.form(),
                );
            }
            _ => {}
        }
    }
    if kind != HookKind::Start {
        if let ReturnType::Type(_, ty) = &sig.output {
            if !is_unit(ty) {
                cx.error_help(ty, format!("{what} return nothing"), kind.form());
            }
        }
    }
    Some(Hook {
        kind,
        method: sig.ident.clone(),
        attr_span: attr::path_span(attr),
        is_async: sig.asyncness.is_some(),
        params,
        output: sig.output.clone(),
    })
}
