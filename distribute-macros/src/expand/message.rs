//! The message enum (`CounterMsg`), its `Serialize` impl and its `Message` impl: wire tags,
//! fingerprint, encoding and decoding of the arguments.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::LitInt;

use super::docs;
use super::names::Names;
use super::spans::{assert_wire, spanned_path};
use crate::hash::{canonical, fnv1a64, GENERATED_TAG_BIT};
use crate::model::{ActorImpl, MessageFn};

pub(super) fn message_enum(model: &ActorImpl, names: &Names) -> TokenStream {
    let Names { msg, vis, client } = names;
    let doc = docs::message_enum(model, &msg.to_string(), &client.to_string());
    let variants = model.messages.iter().map(|message| {
        let variant = &message.variant;
        let doc = docs::variant(model, message);
        let args = message.args().map(|arg| {
            let (name, ty) = (&arg.name, &arg.ty);
            let doc = docs::argument(model, message, &name.to_string());
            quote!(#doc #name: #ty,)
        });
        let reply = message.reply.as_ref().map(|reply| {
            let doc = docs::reply_field(model, message);
            quote!(#doc reply: ::distribute::ReplyTo<#reply>,)
        });
        quote! {
            #doc
            #variant { #(#args)* #reply }
        }
    });
    quote! {
        #doc
        #vis enum #msg {
            #(#variants,)*
        }
    }
}

/// `Serialize` writes a message's arguments as a tuple, element by element (what the `Serialize`
/// impl of the tuple does), or as `()` for a message without arguments; the reply channel is
/// skipped. `encode_body` uses it. There is no `Deserialize`: decoding needs the tag
/// (`Message::decode_body`).
///
/// Each element is serialized with its type named and spanned as written, after the
/// `assert_wire` checks of the argument types: a type that cannot travel is then reported once,
/// on that type, by `Wire`'s explanation, not again by serde on the whole expansion.
pub(super) fn serialize_impl(model: &ActorImpl, names: &Names) -> TokenStream {
    let msg = &names.msg;
    let serde = quote!(::distribute::__private::serde);
    let serializer = Ident::new("serializer", Span::mixed_site());
    let tuple = Ident::new("tuple", Span::mixed_site());
    let body = if model.messages.is_empty() {
        quote! {
            let _ = #serializer;
            match *self {}
        }
    } else {
        let arms = model.messages.iter().map(|message| {
            let variant = &message.variant;
            let fields: Vec<&Ident> = message.args().map(|arg| &arg.name).collect();
            if fields.is_empty() {
                return quote!(#msg::#variant { .. } => #serde::Serializer::serialize_unit(#serializer),);
            }
            let len = fields.len();
            let elements = message.args().map(|arg| {
                let call = spanned_path(
                    &arg.ty,
                    quote!(#serde::ser::SerializeTuple::serialize_element::<),
                    quote!(>),
                );
                let name = &arg.name;
                quote!(#call(&mut #tuple, #name)?;)
            });
            quote! {
                #msg::#variant { #(#fields,)* .. } => {
                    let mut #tuple = #serde::Serializer::serialize_tuple(#serializer, #len)?;
                    #(#elements)*
                    #serde::ser::SerializeTuple::end(#tuple)
                }
            }
        });
        let checks = arg_checks(model);
        quote! {
            #checks
            match self { #(#arms)* }
        }
    };
    quote! {
        impl #serde::Serialize for #msg {
            fn serialize<__S>(&self, #serializer: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: #serde::Serializer,
            {
                #body
            }
        }
    }
}

/// `assert_wire` for every argument type, at the start of a body that serializes or
/// deserializes arguments (see [`serialize_impl`]).
fn arg_checks(model: &ActorImpl) -> TokenStream {
    model
        .messages
        .iter()
        .flat_map(MessageFn::args)
        .map(|arg| assert_wire(&arg.ty))
        .collect()
}

pub(super) fn message_impl(model: &ActorImpl, names: &Names) -> TokenStream {
    let msg = &names.msg;
    let codec = Ident::new("codec", Span::mixed_site());
    let out = Ident::new("out", Span::mixed_site());
    let tag = Ident::new("tag", Span::mixed_site());
    let body = Ident::new("body", Span::mixed_site());
    let slot = Ident::new("reply_slot", Span::mixed_site());
    let codec_trait = quote!(::distribute::codec::Codec);
    let result = quote!(::core::result::Result);

    let mut sorted: Vec<&MessageFn> = model.messages.iter().collect();
    sorted.sort_by_key(|message| message.tag);
    let fingerprint = hex_literal(fingerprint(model, &sorted));
    let tags = sorted.iter().map(|message| {
        let (tag, name) = (tag_literal(message), &message.name);
        quote!((#tag, #name))
    });

    let messages = &model.messages;
    let variants: Vec<&Ident> = messages.iter().map(|message| &message.variant).collect();
    let tag_values = messages.iter().map(tag_literal);
    let names_ = messages.iter().map(|message| &message.name);
    let take_reply = if messages.is_empty() {
        quote!(match *self {})
    } else {
        let arms = messages.iter().map(|message| {
            let variant = &message.variant;
            match &message.reply {
                Some(reply) => {
                    quote!(#msg::#variant { reply, .. } => (&::distribute::__private::ReplyOps::<#reply>::new()).erase::<__C>(reply),)
                }
                None => quote!(#msg::#variant { .. } => ::core::option::Option::None,),
            }
        });
        quote! {
            #[allow(unused_imports)]
            use ::distribute::__private::{NoWireReplyOps as _, WireReplyOps as _};
            match self { #(#arms)* }
        }
    };
    let (tag_fn, name_fn, encode, decode) = if messages.is_empty() {
        (
            quote!(match *self {}),
            quote!(match *self {}),
            quote! {
                let _ = (#codec, #out);
                match *self {}
            },
            quote! {
                let _ = (#codec, #body, #slot);
                #result::Err(::distribute::codec::CodecError::UnknownTag { tag: #tag })
            },
        )
    } else {
        let decode_arms = messages.iter().map(|message| {
            let variant = &message.variant;
            let value = tag_literal(message);
            let fields: Vec<&Ident> = message.args().map(|arg| &arg.name).collect();
            let types: Vec<&syn::Type> = message.args().map(|arg| &arg.ty).collect();
            let reply = message.reply.as_ref().map(|reply| {
                quote!(reply: (&::distribute::__private::ReplyOps::<#reply>::new()).attach::<__C>(#slot),)
            });
            let read = if fields.is_empty() {
                quote!(#codec_trait::decode::<()>(#codec, #body)?;)
            } else {
                let decode_args = format_ident!("decode_args_{}", fields.len());
                quote! {
                    let (#(#fields,)*) = ::distribute::__private::#decode_args::<__C, #(#types),*>(#codec, #body)?;
                }
            };
            quote! {
                #value => {
                    #read
                    #result::Ok(#msg::#variant { #(#fields,)* #reply })
                }
            }
        });
        let checks = arg_checks(model);
        (
            quote!(match self { #(#msg::#variants { .. } => #tag_values,)* }),
            quote!(match self { #(#msg::#variants { .. } => #names_,)* }),
            quote!(#codec_trait::encode(#codec, self, #out)),
            quote! {
                #checks
                #[allow(unused_imports)]
                use ::distribute::__private::{NoWireReplyOps as _, WireReplyOps as _};
                let _ = &#slot;
                match #tag {
                    #(#decode_arms)*
                    _ => #result::Err(::distribute::codec::CodecError::UnknownTag { tag: #tag }),
                }
            },
        )
    };

    quote! {
        impl ::distribute::Message for #msg {
            const FINGERPRINT: u64 = #fingerprint;
            const TAGS: &'static [(u32, &'static str)] = &[#(#tags),*];

            fn tag(&self) -> u32 {
                #tag_fn
            }

            fn name(&self) -> &'static str {
                #name_fn
            }

            fn encode_body<__C: #codec_trait>(
                &self,
                #codec: &__C,
                #out: &mut ::std::vec::Vec<u8>,
            ) -> #result<(), ::distribute::codec::CodecError> {
                #encode
            }

            fn decode_body<__C: #codec_trait>(
                #codec: &__C,
                #tag: u32,
                #body: &[u8],
                #slot: ::distribute::ReplySlot,
            ) -> #result<Self, ::distribute::codec::CodecError> {
                #decode
            }

            fn take_reply<__C: #codec_trait>(&mut self) -> ::core::option::Option<::distribute::ErasedReply> {
                #take_reply
            }
        }
    }
}

/// The fingerprint: FNV-1a of a canonical text of the protocol, the actor's name then, in tag
/// order, each message's tag, name, argument types and reply type. Argument names are not
/// part of it: renaming an argument does not change what travels.
fn fingerprint(model: &ActorImpl, sorted: &[&MessageFn]) -> u64 {
    let mut text = model.self_name.to_string();
    for message in sorted {
        let args: Vec<String> = message
            .args()
            .map(|arg| canonical(&arg.ty.to_token_stream()))
            .collect();
        let reply = match &message.reply {
            Some(reply) => canonical(&reply.to_token_stream()),
            None => "()".to_string(),
        };
        text.push_str(&format!(
            ";{}:{}({})->{}",
            message.tag,
            message.name,
            args.join(", "),
            reply
        ));
    }
    fnv1a64(text.as_bytes())
}

/// An explicit tag as written (decimal), a generated one in hexadecimal.
fn tag_literal(message: &MessageFn) -> LitInt {
    if message.tag & GENERATED_TAG_BIT == 0 {
        LitInt::new(&message.tag.to_string(), Span::call_site())
    } else {
        hex_literal(u64::from(message.tag))
    }
}

/// `0x1234_5678` (or `0x0123_4567_89ab_cdef` for values above `u32::MAX`).
fn hex_literal(value: u64) -> LitInt {
    let digits = if value > u64::from(u32::MAX) {
        format!("{value:016x}")
    } else {
        format!("{value:08x}")
    };
    let groups: Vec<&str> = digits
        .as_bytes()
        .chunks(4)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    LitInt::new(&format!("0x{}", groups.join("_")), Span::call_site())
}
