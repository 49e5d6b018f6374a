//! `#[registered("billing")]`: for `struct Billing`, generates
//!
//! - `impl Registered for Billing`, whose `REGISTERED_AS` is the typed name
//!   `Name::<Billing>`, checked at compile time;
//! - inherent items on `Billing`, with the struct's visibility: `REGISTERED_NAME` (the same
//!   name), `lookup(&node)`, `lookup_with_timeout(&node, timeout)` and
//!   `start_registered(&node, ...)`, whose form follows `#[supervised]`: the actor alone
//!   (`registry::start_registered`), under a supervisor (`start_registered_supervised`) or a
//!   pool (`start_registered_pool`);
//! - a check, spanned on the struct's name, that `Billing` is an actor.
//!
//! `#[registered]` must be above `#[supervised]`, whose attribute it reads to know which
//! `start_registered` to generate. When it is below, `#[supervised]` reports it and expands it
//! itself, with the supervision it knows, so that only the order is reported.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{ItemStruct, LitStr};

use super::docs::doc;
use super::emit::emit;
use crate::ctx::Ctxt;
use crate::model::{self, RegisteredStruct, Supervision};
use crate::validate;

/// `#[registered("name")]` on a struct.
pub(super) fn expand_struct(args: TokenStream, mut item: ItemStruct) -> TokenStream {
    let cx = Ctxt::new();
    let generated = generate_for(&cx, args, &TokenStream::new(), &mut item, None);
    let mut tokens = emit(item, cx);
    tokens.extend(generated);
    tokens
}

/// Parses and checks `#[registered(args)]` on `item` (removing a second `#[registered]`
/// from it), reports its mistakes to `cx`, and returns the generated items, if any. Used by
/// `#[supervised]` too, for a `#[registered]` below it: `attr` is then that attribute (else
/// empty), and `supervision` what `#[supervised]` declares.
pub(super) fn generate_for(
    cx: &Ctxt,
    args: TokenStream,
    attr: &TokenStream,
    item: &mut ItemStruct,
    supervision: Option<Supervision>,
) -> Option<TokenStream> {
    let model = model::parse_registered(cx, args, attr, item, supervision);
    validate::check_registered(cx, &model);
    // Generated even when the name is wrong (the wrong name stands in for it), so that code
    // calling `start_registered` or `lookup` reports only the real mistake.
    (!model.generic).then(|| generate(&model))
}

fn generate(model: &RegisteredStruct) -> TokenStream {
    let ident = &model.ident;
    // When the struct is not an actor, the first error: "`Billing` is not an actor", on its
    // name (see `supervised.rs` for why the check is in an array length).
    let assert_actor = quote_spanned!(ident.span()=> ::distribute::__private::assert_actor::<#ident>);
    let name = name_lit(model);
    let registry = quote!(::distribute::registry);
    let doc = doc(&registered_as_doc(model));
    let inherent = inherent_impl(model, &name);
    quote! {
        const _: [(); { #assert_actor(); 0 }] = [];

        impl #registry::Registered for #ident {
            #doc
            const REGISTERED_AS: #registry::Name<Self> = #registry::Name::checked_by_macro(#name);
        }

        #inherent
    }
}

/// The name as a literal: the valid one, or the struct's name in its place when it was wrong
/// (the error has been reported; the generated code only has to type-check).
fn name_lit(model: &RegisteredStruct) -> LitStr {
    match &model.name {
        Some(lit) => lit.clone(),
        None => LitStr::new(
            model.ident.to_string().trim_start_matches("r#"),
            model.ident.span(),
        ),
    }
}

/// The name as text, for the docs.
fn name_text(model: &RegisteredStruct) -> String {
    name_lit(model).value()
}

/// `impl Billing { REGISTERED_NAME, lookup, lookup_with_timeout, start_registered }`.
fn inherent_impl(model: &RegisteredStruct, name: &LitStr) -> TokenStream {
    let (ident, vis) = (&model.ident, &model.vis);
    let node = Ident::new("node", Span::mixed_site());
    let timeout = Ident::new("timeout", Span::mixed_site());
    let span = ident.span();
    let registry = quote!(::distribute::registry);
    let result = quote!(::core::result::Result);
    let lookup_output = quote_spanned! {span=>
        #result<::distribute::ActorRef<Self>, ::distribute::RegistryError>
    };
    let bound = quote_spanned!(span=> ::distribute::registry::Registered);
    let start_fn = start_fn(model);
    let name_doc = doc(&name_doc(model));
    let lookup_doc = doc(&lookup_doc(model));
    let lookup_with_timeout_doc = doc(&lookup_with_timeout_doc(model));
    // The bound holds whenever the code compiles (the `Registered` impl above exists). When the
    // struct is not an actor, the compiler reports that once for the bound instead of once for
    // each `ActorRef<Self>` and each call below, which it checks under the bound.
    quote_spanned! {span=>
        // A private actor may be looked up or started some other way.
        #[allow(dead_code)]
        impl #ident where Self: #bound {
            #name_doc
            #vis const REGISTERED_NAME: #registry::Name<Self> = #registry::Name::checked_by_macro(#name);

            #lookup_doc
            #vis fn lookup(#node: &::distribute::Node) -> #lookup_output {
                #registry::Name::lookup(&Self::REGISTERED_NAME, #node)
            }

            #lookup_with_timeout_doc
            #vis async fn lookup_with_timeout(
                #node: &::distribute::Node,
                #timeout: ::core::time::Duration,
            ) -> #lookup_output {
                #registry::Name::lookup_with_timeout(&Self::REGISTERED_NAME, #node, #timeout).await
            }

            #start_fn
        }
    }
}

/// `start_registered(node, ...)`, in the form `Supervision` calls for.
fn start_fn(model: &RegisteredStruct) -> TokenStream {
    let (ident, vis) = (&model.ident, &model.vis);
    let node = Ident::new("node", Span::mixed_site());
    let factory = Ident::new("factory", Span::mixed_site());
    let actor = Ident::new("actor", Span::mixed_site());
    let span = ident.span();
    let registry = quote!(::distribute::registry);
    let result = quote!(::core::result::Result);
    let error = quote!(#registry::RegisterError);
    let factory_ty = quote! {
        impl ::core::ops::Fn() -> Self + ::core::marker::Send + ::core::marker::Sync + 'static
    };
    let (input, output, call) = match model.supervision {
        Supervision::Unsupervised => (
            quote!(#actor: Self),
            quote_spanned!(span=> #result<::distribute::ActorRef<Self>, #error>),
            quote!(#registry::start_registered(#node, #actor)),
        ),
        Supervision::Supervisor => (
            quote!(#factory: #factory_ty),
            quote_spanned! {span=>
                #result<
                    (
                        ::distribute::ActorRef<::distribute::supervision::Supervisor>,
                        ::distribute::ActorRef<Self>,
                    ),
                    #error,
                >
            },
            quote!(#registry::start_registered_supervised(#node, #factory)),
        ),
        Supervision::Pool(_) => (
            quote!(#factory: #factory_ty),
            quote_spanned!(span=> #result<::distribute::Pool<Self>, #error>),
            quote!(#registry::start_registered_pool(#node, #factory)),
        ),
    };
    let doc = doc(&start_doc(model));
    quote_spanned! {span=>
        #doc
        #vis async fn start_registered(#node: &::distribute::Node, #input) -> #output {
            #call.await
        }
    }
}

/// The doc of `REGISTERED_AS`.
fn registered_as_doc(model: &RegisteredStruct) -> Vec<String> {
    let (ident, name) = (&model.ident, name_text(model));
    vec![
        format!(
            "The name `{ident}` registers under in the cluster-wide registry, `\"{name}\"`, as its \
             `#[registered(\"{name}\")]` attribute declares (checked at compile time)."
        ),
        String::new(),
        format!("Also `{ident}::REGISTERED_NAME`."),
    ]
}

/// The doc of `REGISTERED_NAME`.
fn name_doc(model: &RegisteredStruct) -> Vec<String> {
    let (ident, name) = (&model.ident, name_text(model));
    vec![
        format!(
            "The name `{ident}` registers under in the cluster-wide registry, `\"{name}\"`, as \
             `#[registered(\"{name}\")]` declares; typed, so that \
             `{ident}::REGISTERED_NAME.lookup(&node)` gives an `ActorRef<{ident}>`."
        ),
        String::new(),
        format!("The same as `<{ident} as distribute::registry::Registered>::REGISTERED_AS`."),
    ]
}

/// For a pool, what `lookup` does not find, and where its workers are.
fn pool_note(model: &RegisteredStruct) -> Option<String> {
    let (ident, name) = (&model.ident, name_text(model));
    matches!(model.supervision, Supervision::Pool(_)).then(|| {
        format!(
            "The workers of a pool started with `{ident}::start_registered` register as \
             `\"{name}_1\"`, `\"{name}_2\"`, ..., not as `\"{name}\"`: find them with \
             `node.members::<{ident}>(\"{name}\")` or `node.registered_names(\"{name}_\")`."
        )
    })
}

/// The doc of `lookup`.
fn lookup_doc(model: &RegisteredStruct) -> Vec<String> {
    let (ident, name) = (&model.ident, name_text(model));
    let mut lines = vec![
        format!(
            "The `{ident}` registered as `\"{name}\"`, read from `node`'s copy of the cluster-wide registry \
             (no network round trip): `node.lookup::<{ident}>(\"{name}\")`."
        ),
        String::new(),
        "# Errors".to_string(),
        String::new(),
        format!(
            "`RegistryError::NotFound` when no actor holds the name, `RegistryError::TypeMismatch` when the \
             actor that holds it is not a `{ident}`."
        ),
    ];
    if let Some(note) = pool_note(model) {
        lines.splice(1..1, [String::new(), note]);
    }
    lines
}

/// The doc of `lookup_with_timeout`.
fn lookup_with_timeout_doc(model: &RegisteredStruct) -> Vec<String> {
    let (ident, name) = (&model.ident, name_text(model));
    let mut lines = vec![
        format!(
            "The `{ident}` registered as `\"{name}\"`, waiting up to `timeout` for an actor to \
             register under the name: `node.lookup_with_timeout::<{ident}>(\"{name}\", timeout)`."
        ),
        String::new(),
        "# Errors".to_string(),
        String::new(),
        format!(
            "`RegistryError::LookupTimeout` when no actor registers in time, `RegistryError::InvalidTimeout` \
             for a zero timeout, `RegistryError::TypeMismatch` when the actor that holds the name is not a \
             `{ident}`."
        ),
    ];
    if let Some(note) = pool_note(model) {
        lines.splice(1..1, [String::new(), note]);
    }
    lines
}

/// The doc of `start_registered`.
fn start_doc(model: &RegisteredStruct) -> Vec<String> {
    let (ident, name) = (&model.ident, name_text(model));
    let mut lines = match model.supervision {
        Supervision::Unsupervised => vec![
            format!(
                "Spawns `actor` on `node` and registers it as `\"{name}\"` in the cluster-wide \
                 registry, where `{ident}::lookup(&node)` finds it from any node of the cluster."
            ),
            String::new(),
            "The same as `distribute::registry::start_registered(node, actor)`.".to_string(),
        ],
        Supervision::Supervisor => vec![
            format!(
                "Starts `{ident}` under a new supervisor, as `#[supervised(...)]` declares, and \
                 registers it as `\"{name}\"` in the cluster-wide registry once it has started; returns the \
                 supervisor and the actor's ref."
            ),
            String::new(),
            "`factory` makes the actor, and a new one each time it is restarted, behind the same ref: \
             the name stays with the ref across restarts. The same as \
             `distribute::registry::start_registered_supervised(node, factory)`."
                .to_string(),
        ],
        Supervision::Pool(size) => {
            let (pool, last) = match size {
                Some(size) => (format!("a pool of {size} workers"), format!("{name}_{size}")),
                None => ("a pool".to_string(), format!("{name}_N")),
            };
            vec![
                format!(
                    "Starts `{ident}` as {pool} under a new supervisor, as `#[supervised(...)]` declares, \
                     registers the workers as `\"{name}_1\"` to `\"{last}\"` and adds them to the process \
                     group `\"{name}\"` (`node.members::<{ident}>(\"{name}\")`); returns the pool's handle."
                ),
                String::new(),
                "`factory` makes each worker, and a new one each time a worker is restarted, behind the same \
                 ref. The same as `distribute::registry::start_registered_pool(node, factory)`."
                    .to_string(),
            ]
        }
    };
    let cleanup = match model.supervision {
        Supervision::Unsupervised => "the actor is stopped again, never left running without its name",
        Supervision::Supervisor => "the supervisor is stopped with its child",
        Supervision::Pool(_) => "the names already taken are released and the pool is stopped",
    };
    lines.extend([
        String::new(),
        "# Errors".to_string(),
        String::new(),
        format!(
            "`RegisterError::Spawn` when the actor does not start. `RegisterError::Registry` when it \
             cannot be registered, `RegistryError::AlreadyRegistered` when another actor holds the name: \
             {cleanup}."
        ),
    ]);
    lines
}
