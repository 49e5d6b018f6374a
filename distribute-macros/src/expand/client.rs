//! The client trait (`CounterClient`): two methods per message, implemented for every
//! `Recipient<Counter>`, so that `counter.add(5).await?` works on an `ActorRef<Counter>`:
//! the method itself, which waits for room in a full mailbox, and `try_` + its name, which
//! fails at once with `CallError::MailboxFull` instead.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::docs;
use super::names::Names;
use crate::model::{ActorImpl, MessageFn};

pub(super) fn client_trait(model: &ActorImpl, names: &Names) -> TokenStream {
    let Names { msg, client, vis } = names;
    let actor = &model.self_ty;
    let doc = docs::client_trait(model, &msg.to_string());
    let methods = model.messages.iter().flat_map(|message| {
        [
            client_method(model, message, names),
            try_client_method(model, message, names),
        ]
    });
    quote! {
        #doc
        #vis trait #client: ::distribute::Recipient<#actor> {
            #(#methods)*
        }

        impl<__R: ?::core::marker::Sized + ::distribute::Recipient<#actor>> #client for __R {}
    }
}

/// Clippy's default `too_many_arguments_threshold`.
const CLIPPY_TOO_MANY_ARGUMENTS: usize = 7;

/// The method's parameters, `name: Type` each, and the names alone, for the variant's fields.
fn params_and_fields(message: &MessageFn) -> (Vec<TokenStream>, Vec<&Ident>) {
    let params = message
        .args()
        .map(|arg| {
            let (name, ty) = (&arg.name, &arg.ty);
            quote!(#name: #ty)
        })
        .collect();
    (params, message.args().map(|arg| &arg.name).collect())
}

/// Same arguments as the user's method, which is where clippy reports (and the user allows)
/// a long argument list; the generated copies would be reported again.
fn allow_many_arguments(message: &MessageFn) -> Option<TokenStream> {
    (message.args().count() + 1 > CLIPPY_TOO_MANY_ARGUMENTS)
        .then(|| quote!(#[allow(clippy::too_many_arguments)]))
}

/// A tell returns `Result<(), CallError>`, an ask `Result<R, CallError>`.
fn client_method(model: &ActorImpl, message: &MessageFn, names: &Names) -> TokenStream {
    let msg = &names.msg;
    let doc = docs::client_method(model, message, &msg.to_string());
    let (method, variant) = (&message.method, &message.variant);
    let (params, fields) = params_and_fields(message);
    let (output, body) = match &message.reply {
        Some(reply) => (
            quote!(#reply),
            quote!(::distribute::Recipient::ask(self, move |reply| #msg::#variant { #(#fields,)* reply })),
        ),
        None => (
            quote!(()),
            quote!(::distribute::Recipient::tell(self, #msg::#variant { #(#fields),* })),
        ),
    };
    let allow = allow_many_arguments(message);
    quote! {
        #doc
        #allow
        fn #method(&self, #(#params),*) -> impl ::core::future::Future<
            Output = ::core::result::Result<#output, ::distribute::CallError>,
        > + ::core::marker::Send {
            #body
        }
    }
}

/// The name of the `try_` client method of `message`: `try_` and the method's name.
pub(crate) fn try_name(method: &Ident) -> Ident {
    format_ident!(
        "try_{}",
        method.to_string().trim_start_matches("r#"),
        span = method.span()
    )
}

/// A tell's `try_` method returns `Result<(), CallError>` without waiting; an ask's returns
/// a future of `Result<R, CallError>` that fails at once when the mailbox is full and
/// otherwise waits for the reply.
fn try_client_method(model: &ActorImpl, message: &MessageFn, names: &Names) -> TokenStream {
    let msg = &names.msg;
    let doc = docs::try_client_method(model, message, &msg.to_string());
    let (method, variant) = (try_name(&message.method), &message.variant);
    let (params, fields) = params_and_fields(message);
    let allow = allow_many_arguments(message);
    match &message.reply {
        Some(reply) => quote! {
            #doc
            #allow
            fn #method(&self, #(#params),*) -> impl ::core::future::Future<
                Output = ::core::result::Result<#reply, ::distribute::CallError>,
            > + ::core::marker::Send {
                ::distribute::Recipient::try_ask(self, move |reply| #msg::#variant { #(#fields,)* reply })
            }
        },
        None => quote! {
            #doc
            #allow
            fn #method(&self, #(#params),*) -> ::core::result::Result<(), ::distribute::CallError> {
                ::distribute::Recipient::try_tell(self, #msg::#variant { #(#fields),* })
            }
        },
    }
}
