//! `#[supervised(...)]`: for `struct Worker`, generates
//!
//! - `impl Supervised for Worker`, whose `SUPERVISION` constant holds the declared options
//!   (the others from `SupervisionOptions::DEFAULT`); the trait's provided methods turn them
//!   into a `ChildSpec`, a `SupervisorSpec` or a `PoolSpec`;
//! - `Worker::start_supervised(&node, factory)`, which starts the actor under a new supervisor
//!   (`supervision::start_supervised`) or, with `pool = N`, a pool (`supervision::start_pool`);
//! - a check, spanned on the struct's name, that `Worker` is an actor.
//!
//! All of it could be written by hand against the public API.
//!
//! A `#[registered]` attribute below `#[supervised]` is an error (it must come first, to read
//! the supervision); `#[supervised]` reports it and expands it in its place, with the
//! supervision it declares, so that nothing else is reported.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, ItemStruct};

use super::docs::doc;
use super::emit::emit;
use crate::attr::options::value;
use crate::attr::supervised::{Duration, PoolSize};
use crate::ctx::Ctxt;
use crate::model::{self, SupervisedStruct, Supervision};
use crate::validate;

/// `#[supervised(...)]` on a struct.
pub(super) fn expand_struct(args: TokenStream, mut item: ItemStruct) -> TokenStream {
    let cx = Ctxt::new();
    let mut model = model::parse_supervised(&cx, args.clone(), &mut item);
    validate::check_supervised(&cx, &model);
    // Generated even when an option is wrong (the wrong ones left at their defaults), so that
    // code calling `start_supervised` or reading `SUPERVISION` reports only the real mistake.
    let mut generated = TokenStream::new();
    if !model.generic {
        generated.extend(generate(&model));
    }
    if let Some(attr) = model.registered_below.take() {
        generated.extend(registered_below(&cx, &args, &attr, &mut item, &model));
    }
    let mut tokens = emit(item, cx);
    tokens.extend(generated);
    tokens
}

/// Reports a `#[registered]` attribute below `#[supervised]`, and expands it as if it were
/// above.
fn registered_below(
    cx: &Ctxt,
    args: &TokenStream,
    attr: &Attribute,
    item: &mut ItemStruct,
    model: &SupervisedStruct,
) -> Option<TokenStream> {
    let registered_args = model::registered_attr_args(cx, attr)?;
    let registered = if registered_args.is_empty() {
        "#[registered(\"name\")]".to_string()
    } else {
        format!("#[registered({registered_args})]")
    };
    let supervised = if args.is_empty() {
        "#[supervised]".to_string()
    } else {
        format!("#[supervised({args})]")
    };
    cx.error_help(
        attr,
        "`#[registered]` must come before `#[supervised]`: it reads `#[supervised]` to know how to start \
         the actor (alone, under a supervisor, or as a pool)",
        format!(
            "put it above: `{registered}` then `{supervised}`, then `struct {}`",
            model.ident
        ),
    );
    let supervision = Supervision::of(&model.options);
    super::registered::generate_for(
        cx,
        registered_args,
        &attr.to_token_stream(),
        item,
        Some(supervision),
    )
}

fn generate(model: &SupervisedStruct) -> TokenStream {
    let ident = &model.ident;
    // When the struct is not an actor, the first error: "`Worker` is not an actor", on its
    // name. The check is in an array length, which the compiler evaluates while it checks the
    // constant's type, before it checks the impl below (a check in the constant's value would
    // come after the impl's "`Worker: Actor` is not satisfied"). `start_supervised` is spanned
    // on the name too, so that all the errors point there.
    let assert_actor = quote_spanned!(ident.span()=> ::distribute::__private::assert_actor::<#ident>);
    let supervised_impl = supervised_impl(model);
    let start_fn = start_fn(model);
    quote! {
        const _: [(); { #assert_actor(); 0 }] = [];

        #supervised_impl

        #start_fn
    }
}

/// `impl Supervised for Worker { const SUPERVISION: SupervisionOptions = ...; }`.
fn supervised_impl(model: &SupervisedStruct) -> TokenStream {
    let ident = &model.ident;
    let options = &model.options;
    let supervision = quote!(::distribute::supervision);
    let mut fields = Vec::new();
    if let Some(restart) = value(&options.restart) {
        let variant = &restart.variant;
        fields.push(quote!(restart: #supervision::Restart::#variant));
    }
    if let Some(strategy) = value(&options.strategy) {
        let variant = &strategy.variant;
        fields.push(quote!(strategy: #supervision::Strategy::#variant));
    }
    if let (Some(max_restarts), Some(within)) = (value(&options.max_restarts), value(&options.within)) {
        let max_restarts = Literal::u32_unsuffixed(*max_restarts);
        let within = duration(within);
        fields.push(quote! {
            intensity: #supervision::Intensity { max_restarts: #max_restarts, within: #within }
        });
    }
    if let Some(shutdown) = value(&options.shutdown) {
        let shutdown = duration(shutdown);
        fields.push(quote!(shutdown: #shutdown));
    }
    if let Some(backoff) = value(&options.backoff) {
        let initial = duration(backoff);
        fields.push(quote! {
            backoff: ::core::option::Option::Some(#supervision::SupervisionOptions::backoff_from(#initial))
        });
    }
    if let Some(size) = value(&options.pool) {
        let size = match size {
            PoolSize::Fixed(size) => {
                let size = Literal::usize_unsuffixed(*size);
                quote!(#supervision::PoolSize::Fixed(#size))
            }
            // A fn item, so that the expression is evaluated at each start, not in the const.
            PoolSize::Computed(expr) => quote_spanned! {expr.span()=>
                #supervision::PoolSize::Computed({
                    fn __distribute_pool_size() -> usize {
                        #expr
                    }
                    __distribute_pool_size
                })
            },
        };
        fields.push(quote!(pool: ::core::option::Option::Some(#size)));
    }
    if let Some(routing) = value(&options.routing) {
        let variant = &routing.variant;
        fields.push(quote!(routing: ::distribute::Routing::#variant));
    }
    // The base keeps the literal valid if the runtime adds an option; with every option
    // given it updates nothing, which clippy would point out in the user's crate.
    let allow = (fields.len() == FIELDS).then(|| quote!(#[allow(clippy::needless_update)]));
    let doc = doc(&options_doc(model));
    quote! {
        impl #supervision::Supervised for #ident {
            #doc
            #allow
            const SUPERVISION: #supervision::SupervisionOptions = #supervision::SupervisionOptions {
                #(#fields,)*
                ..#supervision::SupervisionOptions::DEFAULT
            };
        }
    }
}

/// The fields of `SupervisionOptions`.
const FIELDS: usize = 7;

/// `::core::time::Duration::from_millis(N)`.
fn duration(duration: &Duration) -> TokenStream {
    let millis = Literal::u64_unsuffixed(duration.millis);
    quote!(::core::time::Duration::from_millis(#millis))
}

/// `impl Worker { async fn start_supervised(node, factory) -> ... }`.
fn start_fn(model: &SupervisedStruct) -> TokenStream {
    let (ident, vis) = (&model.ident, &model.vis);
    let node = Ident::new("node", Span::mixed_site());
    let factory = Ident::new("factory", Span::mixed_site());
    let span = ident.span();
    let (output, start) = if model.options.pool.is_some() {
        (
            quote_spanned! {span=>
                ::core::result::Result<::distribute::Pool<Self>, ::distribute::SpawnError>
            },
            quote!(::distribute::supervision::start_pool),
        )
    } else {
        (
            quote_spanned! {span=>
                ::core::result::Result<
                    (::distribute::ActorRef<::distribute::supervision::Supervisor>, ::distribute::ActorRef<Self>),
                    ::distribute::SpawnError,
                >
            },
            quote!(::distribute::supervision::start_supervised),
        )
    };
    let doc = doc(&start_doc(model));
    quote_spanned! {span=>
        impl #ident {
            #doc
            // A private actor may be started some other way (`child_spec`, `pool_spec`).
            #[allow(dead_code)]
            #vis async fn start_supervised(
                #node: &::distribute::Node,
                #factory: impl ::core::ops::Fn() -> Self + ::core::marker::Send + ::core::marker::Sync + 'static,
            ) -> #output {
                #start(#node, #factory).await
            }
        }
    }
}

/// The doc of `SUPERVISION`: the declared options, one per line.
fn options_doc(model: &SupervisedStruct) -> Vec<String> {
    let options = &model.options;
    let mut declared = Vec::new();
    if let Some(restart) = value(&options.restart) {
        declared.push(format!("- restart: `{}`", restart.name));
    }
    if let Some(strategy) = value(&options.strategy) {
        declared.push(format!("- strategy: `{}`", strategy.name));
    }
    if let (Some(max_restarts), Some(within)) = (value(&options.max_restarts), value(&options.within)) {
        declared.push(format!(
            "- intensity: at most {max_restarts} restarts within `{}`",
            within.text
        ));
    }
    if let Some(shutdown) = value(&options.shutdown) {
        declared.push(format!("- shutdown: `{}`", shutdown.text));
    }
    if let Some(backoff) = value(&options.backoff) {
        declared.push(format!(
            "- backoff: `{}` before the first restart, doubling up to 30 times that",
            backoff.text
        ));
    }
    if let Some(size) = value(&options.pool) {
        declared.push(format!("- pool: {}", pool_text(size)));
    }
    if let Some(routing) = value(&options.routing) {
        declared.push(format!("- routing: `{}`", routing.name));
    }
    let ident = &model.ident;
    if declared.is_empty() {
        return vec![format!(
            "How `{ident}` is supervised: `#[supervised]` declares no options, so all are \
             `SupervisionOptions::DEFAULT`'s."
        )];
    }
    let mut lines = vec![
        format!("How `{ident}` is supervised, as its `#[supervised(...)]` attribute declares:"),
        String::new(),
    ];
    lines.extend(declared);
    lines.extend([
        String::new(),
        "The options not declared are `SupervisionOptions::DEFAULT`'s.".to_string(),
    ]);
    lines
}

/// A pool's size as the docs say it.
fn pool_text(size: &PoolSize) -> String {
    match size {
        PoolSize::Fixed(size) => format!("{size} workers"),
        PoolSize::Computed(expr) => format!("`{}` workers, computed at each start", expr.to_token_stream()),
    }
}

/// The doc of `start_supervised`.
fn start_doc(model: &SupervisedStruct) -> Vec<String> {
    let ident = &model.ident;
    let mut lines = match value(&model.options.pool) {
        Some(size) => vec![
            format!(
                "Starts `{ident}` as a pool of {} under a new supervisor, as `#[supervised(...)]` \
                 declares (`Supervised::pool_spec`), and returns the pool's handle.",
                pool_text(size)
            ),
            String::new(),
            format!(
                "`factory` makes each worker, and a new one each time a worker is restarted, behind the same ref. \
                 The client methods of `{ident}` work on the `Pool` as on a single ref: each call goes to the \
                 worker its routing picks. The same as `distribute::supervision::start_pool(node, factory)`."
            ),
        ],
        None => vec![
            format!(
                "Starts `{ident}` under a new supervisor, as `#[supervised(...)]` declares \
                 (`Supervised::supervisor_spec`), and returns the supervisor and the actor's ref."
            ),
            String::new(),
            "`factory` makes the actor, and a new one each time it is restarted, behind the same ref: the ref \
             stays valid across restarts. The same as `distribute::supervision::start_supervised(node, factory)`."
                .to_string(),
        ],
    };
    lines.extend([
        String::new(),
        "# Errors".to_string(),
        String::new(),
        "`SpawnError::StartFailed` when the actor's `started` hook fails, `SpawnError::NodeShuttingDown` when \
         the node no longer accepts actors."
            .to_string(),
    ]);
    lines
}
