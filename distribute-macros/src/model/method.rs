//! Parsing of the methods marked `#[message]` or with a hook attribute.

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ImplItemFn, Pat, ReturnType, Type};

use super::names::{replace_self, variant_name, UnrawString};
use super::signature::{
    check_owned, check_plain_signature, check_receiver, is_context_by_value, is_context_ref, is_unit, Role,
};
use super::{Arg, Hook, HookParam, MessageFn, Param};
use crate::attr::{self, HookKind};
use crate::ctx::Ctxt;
use crate::hash::generated_tag;

/// The most arguments a message may have: the arity of the largest tuple serde implements
/// (and of the largest `distribute::__private::decode_args_N`).
const MAX_ARGS: usize = 16;

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

    let reply = match &sig.output {
        ReturnType::Type(_, ty) if !is_unit(ty) => {
            check_owned(cx, ty, Role::Reply);
            Some(replace_self(ty, self_ty))
        }
        _ => None,
    };

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
        let name = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
            pat => {
                cx.error_help(
                    pat,
                    "message arguments need a plain name: each becomes a field of the message",
                    "name the argument, e.g. `by: u64`, and destructure it in the body",
                );
                continue;
            }
        };
        if reply.is_some() && name == "reply" {
            cx.error_help(
                &name,
                "`reply` is the name of the reply field of this message",
                "rename this argument",
            );
        }
        check_owned(cx, &typed.ty, Role::Argument);
        params.push(Param::Arg(Arg {
            name,
            ty: replace_self(&typed.ty, self_ty),
        }));
    }

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
