//! `#[actor]`: the actor's settings from its struct, everything else from its impl block.
//!
//! For `#[actor] struct Counter` it generates `impl ActorConfig for Counter`. For
//! `#[actor] impl Counter` it generates, next to the impl block:
//! `enum CounterMsg` with `impl Serialize` and `impl Message` (`message.rs`),
//! `impl Actor for Counter` (`dispatch.rs`), `trait CounterClient` and its blanket impl
//! (`client.rs`), and a compile-time check that every argument and reply type can travel in a
//! message.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::{ItemImpl, ItemStruct, LitStr, Type, Visibility};

use super::{client, dispatch, emit, message};
use crate::ctx::Ctxt;
use crate::model::{self, ActorImpl, ActorStruct, MessageFn};
use crate::validate;

/// `#[actor]` on a struct.
pub(super) fn expand_struct(args: TokenStream, mut item: ItemStruct) -> TokenStream {
    let cx = Ctxt::new();
    let model = model::parse_struct(&cx, args, &mut item);
    // Generated even when an option is wrong (with the defaults for the wrong ones), so that
    // the impl block does not also report "not an actor".
    let config = (!model.generic).then(|| config_impl(&model));
    let mut tokens = emit(item, cx);
    tokens.extend(config);
    tokens
}

fn config_impl(model: &ActorStruct) -> TokenStream {
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

/// The names of the generated items, shared by the generators.
pub(super) struct Names {
    /// The message enum, `CounterMsg`.
    pub(super) msg: Ident,
    /// The client trait, `CounterClient`.
    pub(super) client: Ident,
    /// The visibility of both.
    pub(super) vis: Visibility,
}

fn generate(model: &ActorImpl) -> TokenStream {
    let base = model.self_name.to_string();
    let base = base.trim_start_matches("r#");
    let names = Names {
        msg: format_ident!("{}Msg", base),
        client: format_ident!("{}Client", base),
        vis: visibility(&model.messages),
    };
    let message_enum = message::message_enum(model, &names);
    let serialize = message::serialize_impl(model, &names);
    let message_impl = message::message_impl(model, &names);
    let actor_impl = dispatch::actor_impl(model, &names);
    let client = client::client_trait(model, &names);
    let wire_checks = wire_checks(model);
    quote! {
        #message_enum
        #serialize
        #message_impl
        #actor_impl
        #client
        #wire_checks
    }
}

/// The most visible of the message methods' visibilities (`pub` > `pub(crate)` > other
/// restricted forms > private), and at least `pub(crate)`.
///
/// The floor exists because `impl Actor for Counter` names the enum (`type Msg = CounterMsg`),
/// and the compiler rejects an enum less visible than the actor struct (E0446), which this
/// macro cannot see. `pub(crate)` covers every struct that is not `pub`; a `pub` actor needs
/// a `pub` message method, which is what its users outside the crate need anyway.
fn visibility(messages: &[MessageFn]) -> Visibility {
    fn rank(vis: &Visibility) -> u8 {
        match vis {
            Visibility::Public(_) => 2,
            Visibility::Restricted(restricted)
                if restricted.path.is_ident("crate") && restricted.in_token.is_none() =>
            {
                1
            }
            _ => 0,
        }
    }
    match messages
        .iter()
        .map(|message| &message.vis)
        .max_by_key(|vis| rank(vis))
    {
        Some(vis) if rank(vis) > 0 => vis.clone(),
        _ => syn::parse_quote!(pub(crate)),
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

/// `::distribute::__private::assert_wire::<T>();`, spanned on `ty`.
pub(super) fn assert_wire(ty: &Type) -> TokenStream {
    let call = spanned_path(ty, quote!(::distribute::__private::assert_wire::<), quote!(>));
    quote!(#call();)
}

/// `head ty tail`, e.g. `path::to::function::<ty>`, with `head` spanned on the first token of
/// `ty` and `tail` on its last one: the compiler then reports a bound of the function that `ty`
/// does not meet on all of `ty` as written.
pub(super) fn spanned_path(ty: &Type, head: TokenStream, tail: TokenStream) -> TokenStream {
    let (first, last) = outer_spans(ty.to_token_stream());
    let head = respan(head, first);
    let tail = respan(tail, last);
    quote!(#head #ty #tail)
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// The spans of the first and of the last token of `tokens`.
fn outer_spans(tokens: TokenStream) -> (Span, Span) {
    let mut tokens = tokens.into_iter();
    let first = tokens.next();
    let last = tokens.last().or_else(|| first.clone());
    let span = |token: Option<TokenTree>| match token {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(token) => token.span(),
        None => Span::call_site(),
    };
    let first_span = match &first {
        Some(TokenTree::Group(group)) => group.span_open(),
        Some(token) => token.span(),
        None => Span::call_site(),
    };
    (first_span, span(last))
}
