//! `impl Actor for Counter`: the settings from `ActorConfig`, the exhaustive dispatch from the
//! message enum to the methods, and the hooks forwarded to their methods.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ReturnType;

use super::names::Names;
use super::spans::relocate;
use crate::attr::HookKind;
use crate::model::{ActorImpl, Hook, HookParam, MessageFn, Param};

pub(super) fn actor_impl(model: &ActorImpl, names: &Names) -> TokenStream {
    let actor = &model.self_ty;
    let msg = &names.msg;
    // Spanned on the actor's name: when the struct lacks `#[actor]`, the compiler reports
    // `ActorConfig`'s "`Counter` is not an actor" there.
    let span = model.self_name.span();
    let config = quote_spanned!(span=> <#actor as ::distribute::__private::ActorConfig>);
    let settings = quote_spanned! {span=>
        type Codec = #config::Codec;
        const MAILBOX_CAPACITY: usize = #config::MAILBOX_CAPACITY;
        const NAME: &'static str = #config::NAME;
    };

    let msg_var = Ident::new("msg", Span::mixed_site());
    let uses_ctx = model
        .messages
        .iter()
        .any(|message| message.params.iter().any(|p| matches!(p, Param::Context)));
    let ctx = context_ident(uses_ctx);
    let arms = model
        .messages
        .iter()
        .map(|message| dispatch_arm(message, &names.msg, &ctx));
    let handle_body = if model.messages.is_empty() {
        quote!(match #msg_var {})
    } else {
        quote!(match #msg_var { #(#arms)* })
    };

    let has_started_hook = model.hooks.iter().any(|hook| hook.kind == HookKind::Start);
    let hooks = model.hooks.iter().map(hook_fn);
    quote! {
        impl ::distribute::Actor for #actor {
            type Msg = #msg;
            #settings
            const HAS_STARTED_HOOK: bool = #has_started_hook;

            async fn handle(&mut self, #msg_var: #msg, #ctx: &mut ::distribute::Context<Self>) {
                #handle_body
            }

            #(#hooks)*
        }
    }
}

/// The context parameter of a generated method, `_`-prefixed when nothing uses it. Hygienic,
/// so that it never clashes with an argument the user named `ctx`.
fn context_ident(used: bool) -> Ident {
    Ident::new(if used { "ctx" } else { "_ctx" }, Span::mixed_site())
}

/// `CounterMsg::Add { by } => self.add(by),` or, for an ask,
/// `CounterMsg::Get { reply } => reply.send(self.get()),`.
fn dispatch_arm(message: &MessageFn, msg: &Ident, ctx: &Ident) -> TokenStream {
    let variant = &message.variant;
    let method = &message.method;
    let fields: Vec<&Ident> = message.args().map(|arg| &arg.name).collect();
    let args = message.params.iter().map(|param| match param {
        Param::Context => quote!(#ctx),
        Param::Arg(arg) => {
            let name = &arg.name;
            quote!(#name)
        }
    });
    let mut call = quote!(self.#method(#(#args),*));
    if message.is_async {
        call = quote!(#call.await);
    }
    match message.reply {
        Some(_) => quote!(#msg::#variant { #(#fields,)* reply } => reply.send(#call),),
        None => quote!(#msg::#variant { #(#fields),* } => #call,),
    }
}

/// The `Actor` method that forwards to a hook.
fn hook_fn(hook: &Hook) -> TokenStream {
    let method = &hook.method;
    let payload_name = match hook.kind {
        HookKind::Start => "_",
        HookKind::Stop => "reason",
        HookKind::Exit => "signal",
        HookKind::Down => "down",
    };
    let uses_ctx = hook
        .params
        .iter()
        .any(|param| matches!(param, HookParam::Context));
    let ctx = context_ident(uses_ctx);
    let payload = Ident::new(payload_name, Span::mixed_site());
    let args = hook.params.iter().map(|param| match param {
        HookParam::Context => quote!(#ctx),
        // Located at the user's declared type, so that a wrong type is reported there.
        HookParam::Payload { ty_span } => {
            let located = Ident::new(payload_name, Span::mixed_site().located_at(*ty_span));
            quote!(#located)
        }
    });
    let mut call = quote!(self.#method(#(#args),*));
    if hook.is_async {
        call = quote!(#call.await);
    }
    let context = quote!(&mut ::distribute::Context<Self>);
    match hook.kind {
        HookKind::Start => {
            let span = match &hook.output {
                ReturnType::Type(_, ty) => ty.span(),
                ReturnType::Default => method.span(),
            };
            // Located at the return type: a hook returning something else is reported there.
            let convert = relocate(
                quote!(::distribute::__private::IntoStartResult::into_start_result(#call)),
                span,
            );
            quote! {
                async fn started(&mut self, #ctx: #context) -> ::core::result::Result<(), ::distribute::BoxError> {
                    #convert
                }
            }
        }
        HookKind::Stop => quote! {
            async fn stopped(&mut self, #ctx: #context, #payload: &::distribute::ExitReason) {
                #call;
            }
        },
        HookKind::Exit => quote! {
            async fn on_exit(&mut self, #ctx: #context, #payload: ::distribute::ExitSignal) {
                #call;
            }
        },
        HookKind::Down => quote! {
            async fn on_down(&mut self, #ctx: #context, #payload: ::distribute::Down) {
                #call;
            }
        },
    }
}

/// The `Actor` impl emitted in place of the real one when the impl block has errors: it keeps
/// the `Context<Self>` parameters of the block valid, so that only the real errors show.
pub(super) fn placeholder_actor_impl(model: &ActorImpl) -> TokenStream {
    let actor = &model.self_ty;
    let name = model.self_name.to_string();
    let msg = Ident::new("msg", Span::mixed_site());
    quote! {
        impl ::distribute::Actor for #actor {
            type Msg = ::distribute::__private::NoMessage;
            type Codec = ::distribute::codec::Bincode;
            const NAME: &'static str = #name;

            async fn handle(&mut self, #msg: Self::Msg, _: &mut ::distribute::Context<Self>) {
                match #msg {}
            }
        }
    }
}
