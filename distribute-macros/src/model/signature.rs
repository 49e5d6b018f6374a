//! Rules for signatures and argument types: what a generated call and a message on the wire
//! can handle.

use quote::ToTokens;
use syn::visit::Visit;
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Signature, Type};

use super::generics::generics_tokens;
use super::names::UnrawString;
use crate::ctx::Ctxt;
use crate::hash::canonical;

const RECEIVER_HELP: &str = "write `&self` or `&mut self` as the first parameter";

/// Rejects what a generated call cannot handle: generics, `unsafe`, `extern`, variadics.
pub(super) fn check_plain_signature(cx: &Ctxt, sig: &Signature, what: &str) {
    let generics = &sig.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        cx.error_help(
            generics_tokens(generics),
            format!("{what} cannot be generic"),
            "use concrete types: each argument becomes a field of the message enum",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        cx.error_help(
            unsafety,
            format!("{what} cannot be `unsafe`"),
            "remove `unsafe`; use an `unsafe` block inside",
        );
    }
    if let Some(abi) = &sig.abi {
        cx.error_help(abi, format!("{what} cannot be `extern`"), "remove the ABI");
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_help(
            variadic,
            format!("{what} cannot be variadic"),
            "pass a `Vec` instead",
        );
    }
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            if let Some(impl_trait) = find_impl_trait(&typed.ty) {
                cx.error_help(
                    impl_trait,
                    format!("{what} cannot be generic"),
                    "use a concrete type instead of `impl Trait`",
                );
            }
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Some(impl_trait) = find_impl_trait(ty) {
            cx.error_help(
                impl_trait,
                format!("{what} cannot return `impl Trait`"),
                "name the concrete type: the reply type is a field of the message enum",
            );
        }
    }
}

/// Checks that the first parameter is `&self` or `&mut self`.
pub(super) fn check_receiver(cx: &Ctxt, sig: &Signature, what: &str) {
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => {
            let by_reference = match &*receiver.ty {
                Type::Reference(reference) => {
                    matches!(&*reference.elem, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
                }
                _ => false,
            };
            if !by_reference {
                cx.error_help(
                    receiver,
                    format!("{what} take `&self` or `&mut self`"),
                    "the actor keeps its state from one message to the next: take `&self` or `&mut self` instead",
                );
            }
        }
        _ => cx.error_help_at(
            sig.paren_token.span.join(),
            format!("{what} take `&self` or `&mut self`"),
            format!(
                "{RECEIVER_HELP}: `fn {}(&mut self, ...)`",
                sig.ident.unraw_string()
            ),
        ),
    }
}

/// Whether the return type is `()`.
pub(super) fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// Whether `ty` is `&Context<..>` or `&mut Context<..>` (any path ending in `Context`).
pub(super) fn is_context_ref(ty: &Type) -> bool {
    matches!(ty, Type::Reference(reference) if is_context_path(&reference.elem))
}

/// Whether `ty` is `Context<Self>` or `Context<Actor>` taken by value: a mistake, since
/// messages cannot carry a context.
pub(super) fn is_context_by_value(ty: &Type) -> bool {
    is_context_path(ty)
}

fn is_context_path(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    last.ident == "Context"
        && matches!(&last.arguments, PathArguments::AngleBracketed(args)
            if args.args.len() == 1 && matches!(args.args.first(), Some(GenericArgument::Type(_))))
}

/// Where a type appears, for error messages.
#[derive(Clone, Copy)]
pub(super) enum Role {
    Argument,
    Reply,
}

/// Reports a borrowed type in an argument or reply: messages are sent by value.
pub(super) fn check_owned(cx: &Ctxt, ty: &Type, role: Role) {
    let Some(borrow) = find_borrow(ty) else { return };
    let (message, verb) = match role {
        Role::Argument => ("message arguments are sent by value", "use"),
        Role::Reply => ("replies are sent by value", "return"),
    };
    match borrow {
        Borrow::Reference(reference) => {
            let owned = owned_form(&reference.elem);
            let borrowed = canonical(&reference.to_token_stream());
            cx.error_help(
                reference,
                format!("{message}: {verb} `{owned}` instead of `{borrowed}`"),
                format!("a message may cross the network, so it cannot borrow: {verb} an owned type"),
            );
        }
        Borrow::Lifetime(lifetime) => cx.error_help(
            lifetime,
            format!("{message}: they cannot borrow"),
            format!("{verb} an owned type (only `'static` lifetimes are allowed)"),
        ),
    }
}

/// The owned counterpart of a borrowed type: `str` → `String`, `[T]` → `Vec<T>`, `T` → `T`.
fn owned_form(elem: &Type) -> String {
    match elem {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => "String".to_string(),
        Type::Slice(slice) => format!("Vec<{}>", canonical(&slice.elem.to_token_stream())),
        Type::Reference(inner) => owned_form(&inner.elem),
        other => canonical(&other.to_token_stream()),
    }
}

enum Borrow<'a> {
    Reference(&'a syn::TypeReference),
    Lifetime(&'a syn::Lifetime),
}

/// The first reference or non-`'static` lifetime in `ty`.
fn find_borrow(ty: &Type) -> Option<Borrow<'_>> {
    struct Finder<'a>(Option<Borrow<'a>>);
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_type_reference(&mut self, reference: &'a syn::TypeReference) {
            if self.0.is_none() {
                self.0 = Some(Borrow::Reference(reference));
            }
        }
        fn visit_lifetime(&mut self, lifetime: &'a syn::Lifetime) {
            if self.0.is_none() && lifetime.ident != "static" {
                self.0 = Some(Borrow::Lifetime(lifetime));
            }
        }
        // Function pointers and trait objects borrow in their own signatures; they are
        // not serializable anyway, which the `Wire` check reports.
        fn visit_type_bare_fn(&mut self, _: &'a syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments(&mut self, _: &'a syn::ParenthesizedGenericArguments) {}
    }
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}

/// The first `impl Trait` in `ty`.
fn find_impl_trait(ty: &Type) -> Option<&syn::TypeImplTrait> {
    struct Finder<'a>(Option<&'a syn::TypeImplTrait>);
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_type_impl_trait(&mut self, impl_trait: &'a syn::TypeImplTrait) {
            self.0.get_or_insert(impl_trait);
        }
    }
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}
