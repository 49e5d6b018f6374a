//! Generic parameters, which no actor may have: a message enum and a registry entry are made
//! for one concrete type.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ctx::Ctxt;

/// The parameters and the where clause of `generics`, to span errors on (syn prints them
/// apart).
pub(super) fn generics_tokens(generics: &syn::Generics) -> TokenStream {
    let mut tokens = generics.to_token_stream();
    generics.where_clause.to_tokens(&mut tokens);
    tokens
}

/// Reports generic parameters on an actor struct; returns whether there were any. `#[actor]`,
/// `#[supervised]` and `#[registered]` report the same error, which the compiler shows once.
pub(super) fn reject_generics(cx: &Ctxt, generics: &syn::Generics) -> bool {
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
