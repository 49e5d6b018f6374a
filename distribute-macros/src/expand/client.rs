//! The client trait (`CounterClient`): one method per message, implemented for every
//! `Recipient<Counter>`, so that `counter.add(5).await?` works on an `ActorRef<Counter>`.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::names::Names;
use crate::model::{ActorImpl, MessageFn};

pub(super) fn client_trait(model: &ActorImpl, names: &Names) -> TokenStream {
    let Names { msg, client, vis } = names;
    let actor = &model.self_ty;
    let doc = docs::client_trait(model, &msg.to_string());
    let methods = model
        .messages
        .iter()
        .map(|message| client_method(model, message, names));
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

/// A tell returns `Result<(), CallError>`, an ask `Result<R, CallError>`.
fn client_method(model: &ActorImpl, message: &MessageFn, names: &Names) -> TokenStream {
    let msg = &names.msg;
    let doc = docs::client_method(model, message, &msg.to_string());
    let (method, variant) = (&message.method, &message.variant);
    let params = message.args().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote!(#name: #ty)
    });
    let fields: Vec<_> = message.args().map(|arg| &arg.name).collect();
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
    // Same arguments as the user's method, which is where clippy reports (and the user
    // allows) a long argument list; the generated copy would be reported again.
    let allow = (message.args().count() + 1 > CLIPPY_TOO_MANY_ARGUMENTS)
        .then(|| quote!(#[allow(clippy::too_many_arguments)]));
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
