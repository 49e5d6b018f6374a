//! Expansion: from a checked model to the generated items.
//!
//! Each attribute has its own module (`actor.rs`, `supervised.rs`, `registered.rs`); `#[actor]`
//! on an impl block delegates to `message.rs`, `dispatch.rs` and `client.rs`. What several of
//! them use has a module of its own, which imports none of them: `names.rs` (the names of the
//! generated items), `spans.rs` (generated tokens spanned on the user's), `docs.rs` (the doc
//! comments) and `emit.rs` (the item and its errors). Imports between these modules thus go one
//! way only.
//!
//! The generated code names everything by absolute path (`::distribute::...`, `::core::...`)
//! and documents every public item, so it compiles in any module, under
//! `#![deny(missing_docs)]`, whatever the user imported.
//!
//! On error the user's item is emitted unchanged (helper attributes removed) next to the
//! `compile_error!`s, and nothing is generated from it, so the user sees only the real mistakes.

mod actor;
mod client;
mod dispatch;
mod docs;
mod emit;
mod message;
mod names;
mod registered;
mod spans;
mod supervised;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Item;

use crate::ctx::Ctxt;
use emit::emit;

/// Parses the annotated item; on failure, the input unchanged plus the parse error.
fn parse_item(input: TokenStream) -> Result<Item, TokenStream> {
    syn::parse2::<Item>(input.clone()).map_err(|error| {
        let error = error.to_compile_error();
        quote!(#input #error)
    })
}

/// `#[actor]`: on a struct, declares the actor; on its impl block, generates its messages.
pub(crate) fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match parse_item(input) {
        Ok(item) => item,
        Err(tokens) => return tokens,
    };
    match item {
        Item::Struct(item) => actor::expand_struct(args, item),
        Item::Impl(item) => actor::expand_impl(args, item),
        item => {
            let cx = Ctxt::new();
            let (head, what) = describe(&item);
            cx.error_help(
                head,
                format!("`#[actor]` goes on a struct (the actor's state) or on its impl block, not on {what}"),
                "`#[actor] struct Counter { n: u64 }` declares the actor, `#[actor] impl Counter { ... }` its messages",
            );
            emit(item, cx)
        }
    }
}

/// `#[supervised(...)]`: on an actor's struct, declares how it is supervised.
pub(crate) fn supervised(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match parse_item(input) {
        Ok(item) => item,
        Err(tokens) => return tokens,
    };
    match item {
        Item::Struct(item) => supervised::expand_struct(args, item),
        item => {
            let cx = Ctxt::new();
            let (head, what) = describe(&item);
            cx.error_help(
                head,
                format!("`#[supervised]` goes on the struct of an actor, not on {what}"),
                "`#[actor] #[supervised(restart = transient)] struct Worker { ... }`",
            );
            emit(item, cx)
        }
    }
}

/// `#[registered("name")]`: on an actor's struct, its name in the cluster-wide registry.
pub(crate) fn registered(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match parse_item(input) {
        Ok(item) => item,
        Err(tokens) => return tokens,
    };
    match item {
        Item::Struct(item) => registered::expand_struct(args, item),
        item => {
            let cx = Ctxt::new();
            let (head, what) = describe(&item);
            cx.error_help(
                head,
                format!("`#[registered]` goes on the struct of an actor, not on {what}"),
                "`#[actor] #[registered(\"billing\")] struct Billing { ... }`",
            );
            emit(item, cx)
        }
    }
}

/// The head of a misplaced item (`enum Light`), to span the error on, and what it is.
fn describe(item: &Item) -> (TokenStream, &'static str) {
    fn head(keyword: &dyn ToTokens, ident: &syn::Ident) -> TokenStream {
        quote!(#keyword #ident)
    }
    match item {
        Item::Enum(item) => (head(&item.enum_token, &item.ident), "an enum"),
        Item::Union(item) => (head(&item.union_token, &item.ident), "a union"),
        Item::Fn(item) => (head(&item.sig.fn_token, &item.sig.ident), "a function"),
        Item::Trait(item) => (head(&item.trait_token, &item.ident), "a trait"),
        Item::Type(item) => (head(&item.type_token, &item.ident), "a type alias"),
        Item::Mod(item) => (head(&item.mod_token, &item.ident), "a module"),
        Item::Impl(item) => {
            let (impl_token, self_ty) = (&item.impl_token, &item.self_ty);
            (quote!(#impl_token #self_ty), "an impl block")
        }
        other => (other.to_token_stream(), "this item"),
    }
}
