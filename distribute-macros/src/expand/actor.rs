//! `#[actor]`: the actor's settings from its struct, everything else from its impl block.
//!
//! For `#[actor] struct Counter` it generates `impl ActorConfig for Counter`. For
//! `#[actor] impl Counter` it generates, next to the impl block:
//! `enum CounterMsg` with `impl Serialize` and `impl Message` (`message.rs`),
//! `impl Actor for Counter` (`dispatch.rs`), `trait CounterClient` and its blanket impl
//! (`client.rs`), and a compile-time check that every argument and reply type can travel in a
//! message.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{ItemImpl, ItemStruct, LitStr};

use super::emit::emit;
use super::names::Names;
use super::spans::assert_wire;
use super::{client, dispatch, message};
use crate::ctx::Ctxt;
use crate::model::{self, ActorImpl, ActorStruct};
use crate::validate;

/// `#[actor]` on a struct.
pub(super) fn expand_struct(args: TokenStream, mut item: ItemStruct) -> TokenStream {
    let cx = Ctxt::new();
    let model = model::parse_struct(&cx, args, &mut item);
    // Generated even when an option is wrong (with the defaults for the wrong ones), so that
    // the impl block does not also report "not an actor".
    let public = matches!(item.vis, syn::Visibility::Public(_));
    let config = (!model.generic).then(|| config_impl(&model, public));
    let remote_spawn = if model.generic {
        None
    } else {
        remote_spawn_impl(&model)
    };
    let mut tokens = emit(item, cx);
    tokens.extend(config);
    tokens.extend(remote_spawn);
    tokens
}

/// `impl RemoteSpawn` for `#[actor(remote_spawn)]`, with checks that report a struct that
/// cannot travel, or an argument type the actor is not `From`, with what to write instead.
fn remote_spawn_impl(model: &ActorStruct) -> Option<TokenStream> {
    let spawn = model.options.remote_spawn.as_ref()?;
    let ident = &model.ident;
    let (args, from_args) = match &spawn.args {
        None => (quote!(#ident), quote!(args)),
        Some(ty) => (
            quote!(#ty),
            quote_spanned!(spawn.span=> <#ident as ::distribute::__private::MadeFrom<#ty>>::made_from(args)),
        ),
    };
    let check = quote_spanned!(spawn.span=> ::distribute::__private::assert_spawn_args::<#args>());
    Some(quote! {
        impl ::distribute::RemoteSpawn for #ident {
            type Args = #args;
            fn from_args(args: Self::Args) -> Self {
                #from_args
            }
        }
        const _: () = #check;
    })
}

fn config_impl(model: &ActorStruct, public: bool) -> TokenStream {
    let ident = &model.ident;
    let options = &model.options;
    let mailbox = match &options.mailbox {
        Some(lit) => lit.to_token_stream(),
        None => quote!(::distribute::DEFAULT_MAILBOX_CAPACITY),
    };
    let name = match &options.name {
        Some(lit) => lit.clone(),
        None => LitStr::new(ident.to_string().trim_start_matches("r#"), ident.span()),
    };
    let codec = match &options.codec {
        Some(ty) => ty.to_token_stream(),
        None => quote!(::distribute::codec::Bincode),
    };
    quote! {
        impl ::distribute::__private::ActorConfig for #ident {
            const MAILBOX_CAPACITY: usize = #mailbox;
            const NAME: &'static str = #name;
            type Codec = #codec;
            const PUBLIC: bool = #public;
        }
    }
}

/// `#[actor]` on an impl block.
pub(super) fn expand_impl(args: TokenStream, mut item: ItemImpl) -> TokenStream {
    let cx = Ctxt::new();
    let model = model::parse_impl(&cx, args, &mut item);
    if let Some(model) = &model {
        validate::check_impl(&cx, model);
    }
    match model {
        Some(model) if !cx.has_errors() => {
            let generated = generate(&model);
            quote!(#item #generated)
        }
        Some(model) => {
            let mut tokens = emit(item, cx);
            tokens.extend(dispatch::placeholder_actor_impl(&model));
            tokens
        }
        None => emit(item, cx),
    }
}

fn generate(model: &ActorImpl) -> TokenStream {
    let names = Names::of(model);
    let message_enum = message::message_enum(model, &names);
    let serialize = message::serialize_impl(model, &names);
    let message_impl = message::message_impl(model, &names);
    let actor_impl = dispatch::actor_impl(model, &names);
    let client = client::client_trait(model, &names);
    let wire_checks = wire_checks(model);
    let visibility_check = visibility_check(model, &names);
    quote! {
        #visibility_check
        #message_enum
        #serialize
        #message_impl
        #actor_impl
        #client
        #wire_checks
    }
}

/// When no message method is `pub`, the message enum is `pub(crate)` at most, and a `pub`
/// actor struct cannot name it in `impl Actor` (rustc's E0446, reported on `#[actor]` with no
/// hint of the cause). The struct is out of this macro's sight, so its `#[actor]` records
/// whether it is `pub` (`ActorConfig::PUBLIC`) and this check, spanned on the most visible
/// message method (or the impl's type, without messages), says what is wrong and the fix.
fn visibility_check(model: &ActorImpl, names: &Names) -> TokenStream {
    if matches!(names.vis, syn::Visibility::Public(_)) {
        return TokenStream::new();
    }
    let actor = &model.self_ty;
    let (span, text) = match model.messages.first() {
        Some(first) => (
            first.method.span(),
            format!(
                "`{name}` is `pub`, but none of its `#[message]` methods is: `{msg}` takes the visibility of the most \
                 visible message method, and a `pub` actor cannot have a crate-private message enum (E0446). Make \
                 the messages that users outside the crate may send `pub` (`pub fn {method}(..)`), or make `{name}` \
                 `pub(crate)`.",
                name = model.self_name,
                msg = names.msg,
                method = first.method,
            ),
        ),
        None => (
            actor.span(),
            format!(
                "`{name}` is `pub`, but it has no `#[message]` method, so `{msg}` is crate-private and a `pub` actor \
                 cannot name it (E0446). Add a `pub` message method, or make `{name}` `pub(crate)`.",
                name = model.self_name,
                msg = names.msg,
            ),
        ),
    };
    quote_spanned! {span=>
        const _: () = ::core::assert!(
            !<#actor as ::distribute::__private::ActorConfig>::PUBLIC,
            #text
        );
    }
}

/// `assert_wire::<T>()` for every argument and reply type, spanned on the type so that a type
/// that cannot travel is reported where it is written, with `Wire`'s explanation.
fn wire_checks(model: &ActorImpl) -> TokenStream {
    let types = model
        .messages
        .iter()
        .flat_map(|message| message.args().map(|arg| &arg.ty).chain(&message.reply));
    let checks: Vec<TokenStream> = types.map(assert_wire).collect();
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const _: () = {
            #(#checks)*
        };
    }
}
