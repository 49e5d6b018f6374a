//! The message enum (`CounterMsg`), its `Serialize` impl and its `Message` impl: wire tags,
//! fingerprint, encoding and decoding of the arguments.

use distribute_hash::fnv1a64;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::LitInt;

use super::docs;
use super::names::Names;
use super::spans::{assert_wire, spanned_path};
use crate::hash::{canonical, GENERATED_TAG_BIT};
use crate::model::{ActorImpl, MessageFn};

/// `enum CounterMsg`: one variant per message, its arguments as fields, and a `reply` field
/// for an ask.
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

/// The hygienic names of the parameters of the generated `Message` methods: they never clash
/// with an argument or a type of the user's.
struct Params {
    /// The codec, `&__C`.
    codec: Ident,
    /// The buffer `encode_body` writes to.
    out: Ident,
    /// The tag `decode_body` reads.
    tag: Ident,
    /// The encoded arguments `decode_body` reads.
    body: Ident,
    /// Where the reply of a decoded ask goes.
    slot: Ident,
}

impl Params {
    /// The names, with the macro's own hygiene.
    fn new() -> Self {
        let hygienic = |name| Ident::new(name, Span::mixed_site());
        Params {
            codec: hygienic("codec"),
            out: hygienic("out"),
            tag: hygienic("tag"),
            body: hygienic("body"),
            slot: hygienic("reply_slot"),
        }
    }
}

/// `impl Message for CounterMsg`: the protocol's constants, then each method's body from the
/// functions below.
pub(super) fn message_impl(model: &ActorImpl, names: &Names) -> TokenStream {
    let msg = &names.msg;
    let params = Params::new();
    let Params {
        codec,
        out,
        tag,
        body,
        slot,
    } = &params;
    let codec_trait = quote!(::distribute::codec::Codec);
    let result = quote!(::core::result::Result);

    let (fingerprint, tags) = protocol(model);
    let (tag_fn, name_fn) = tag_and_name(model, msg);
    let encode = encode(model, &params);
    let decode = decode(model, msg, &params);
    let take_reply = take_reply(model, msg);

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

/// `FINGERPRINT` and the entries of `TAGS`, `(tag, "name")` in tag order.
fn protocol(model: &ActorImpl) -> (LitInt, Vec<TokenStream>) {
    let mut sorted: Vec<&MessageFn> = model.messages.iter().collect();
    sorted.sort_by_key(|message| message.tag);
    let fingerprint = hex_literal(fingerprint(model, &sorted));
    let tags = sorted
        .iter()
        .map(|message| {
            let (tag, name) = (tag_literal(message), &message.name);
            quote!((#tag, #name))
        })
        .collect();
    (fingerprint, tags)
}

/// The bodies of `Message::tag` and `Message::name`: the variant's tag, and its name.
fn tag_and_name(model: &ActorImpl, msg: &Ident) -> (TokenStream, TokenStream) {
    let messages = &model.messages;
    if messages.is_empty() {
        return (quote!(match *self {}), quote!(match *self {}));
    }
    let variants: Vec<&Ident> = messages.iter().map(|message| &message.variant).collect();
    let tag_values = messages.iter().map(tag_literal);
    let names = messages.iter().map(|message| &message.name);
    (
        quote!(match self { #(#msg::#variants { .. } => #tag_values,)* }),
        quote!(match self { #(#msg::#variants { .. } => #names,)* }),
    )
}

/// The body of `Message::encode_body`: the arguments through the `Serialize` impl.
fn encode(model: &ActorImpl, params: &Params) -> TokenStream {
    let Params { codec, out, .. } = params;
    if model.messages.is_empty() {
        quote! {
            let _ = (#codec, #out);
            match *self {}
        }
    } else {
        quote!(::distribute::codec::Codec::encode(#codec, self, #out))
    }
}

/// The body of `Message::decode_body`: one arm per tag, which decodes the arguments and
/// attaches the reply channel; an unknown tag is an error.
fn decode(model: &ActorImpl, msg: &Ident, params: &Params) -> TokenStream {
    let Params {
        codec,
        tag,
        body,
        slot,
        ..
    } = params;
    let result = quote!(::core::result::Result);
    if model.messages.is_empty() {
        return quote! {
            let _ = (#codec, #body, #slot);
            #result::Err(::distribute::codec::CodecError::UnknownTag { tag: #tag })
        };
    }
    let arms = model
        .messages
        .iter()
        .map(|message| decode_arm(message, msg, params));
    let checks = arg_checks(model);
    quote! {
        #checks
        #[allow(unused_imports)]
        use ::distribute::__private::{NoWireReplyOps as _, WireReplyOps as _};
        let _ = &#slot;
        match #tag {
            #(#arms)*
            _ => #result::Err(::distribute::codec::CodecError::UnknownTag { tag: #tag }),
        }
    }
}

/// `tag => { let (a, b) = decode_args_2(codec, body)?; Ok(CounterMsg::Add { a, b, reply }) }`.
fn decode_arm(message: &MessageFn, msg: &Ident, params: &Params) -> TokenStream {
    let Params {
        codec, body, slot, ..
    } = params;
    let codec_trait = quote!(::distribute::codec::Codec);
    let result = quote!(::core::result::Result);
    let variant = &message.variant;
    let value = tag_literal(message);
    let fields: Vec<&Ident> = message.args().map(|arg| &arg.name).collect();
    let types: Vec<&syn::Type> = message.args().map(|arg| &arg.ty).collect();
    let reply = message.reply.as_ref().map(
        |reply| quote!(reply: (&::distribute::__private::ReplyOps::<#reply>::new()).attach::<__C>(#slot),),
    );
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
}

/// The body of `Message::take_reply`: the reply channel of an ask, erased; `None` for a tell.
fn take_reply(model: &ActorImpl, msg: &Ident) -> TokenStream {
    let messages = &model.messages;
    if messages.is_empty() {
        return quote!(match *self {});
    }
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
