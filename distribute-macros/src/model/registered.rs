//! The model of a `#[registered("name")]` struct: its name, its visibility, the registry
//! name, and how it is supervised, read from the `#[supervised(...)]` attribute below it.

use proc_macro2::{Ident, TokenStream};
use syn::{Attribute, ItemStruct, LitStr, Meta, Visibility};

use super::generics::reject_generics;
use crate::attr::options::value;
use crate::attr::registered::{self, registered_form};
use crate::attr::supervised as supervised_attr;
use crate::ctx::Ctxt;

/// How a registered actor is started, which decides the form of `start_registered`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Supervision {
    /// No `#[supervised]`: spawned alone.
    Unsupervised,
    /// `#[supervised(...)]` without `pool`: under a supervisor of its own.
    Supervisor,
    /// `#[supervised(pool = N, ...)]`: a pool; the size when it is a valid literal (not
    /// when it is computed at start).
    Pool(Option<usize>),
}

impl Supervision {
    /// How `#[supervised(...)]` with these options starts the actor. Like `start_supervised`,
    /// an invalid `pool = ...` still means a pool, so the two functions agree.
    pub(crate) fn of(options: &supervised_attr::SupervisedOptions) -> Self {
        match &options.pool {
            Some(_) => Supervision::Pool(value(&options.pool).and_then(|size| match size {
                supervised_attr::PoolSize::Fixed(size) => Some(*size),
                supervised_attr::PoolSize::Computed(_) => None,
            })),
            None => Supervision::Supervisor,
        }
    }
}

/// `#[registered("name")]` on a struct.
pub(crate) struct RegisteredStruct {
    pub(crate) ident: Ident,
    /// The struct's visibility, given to the generated associated items.
    pub(crate) vis: Visibility,
    /// The name, when it is valid.
    pub(crate) name: Option<LitStr>,
    pub(crate) supervision: Supervision,
    /// Whether the struct has generics; nothing can be generated then.
    pub(crate) generic: bool,
}

/// Parses `#[registered(...)]` on a struct. `attr` is the attribute, to report a missing name
/// on (empty for the attribute being expanded).
/// `supervision` is known when `#[supervised]` (wrongly above) expands the attribute; else it
/// is read from a `#[supervised(...)]` attribute still on the struct.
pub(crate) fn parse_registered(
    cx: &Ctxt,
    args: TokenStream,
    attr: &TokenStream,
    item: &mut ItemStruct,
    supervision: Option<Supervision>,
) -> RegisteredStruct {
    let example = registered::example_name(&item.ident);
    let name = registered::parse_registered_args(cx, args, attr, &example);
    let generic = reject_generics(cx, &item.generics);
    item.attrs.retain(|attr| {
        let again = registered::is_registered_attr(attr);
        if again {
            cx.error_help(
                attr,
                "`#[registered]` is applied twice to this item",
                "remove one of them: an actor type has one registered name (register other refs by hand, \
                 with `node.register_global(\"name\", &actor)`)",
            );
        }
        !again
    });
    let supervision = supervision.unwrap_or_else(|| read_supervision(&item.attrs));
    RegisteredStruct {
        ident: item.ident.clone(),
        vis: item.vis.clone(),
        name,
        supervision,
        generic,
    }
}

/// How the `#[supervised(...)]` attribute among `attrs`, if any, starts the actor. Its options
/// are parsed with `#[supervised]`'s own parser, their errors left for `#[supervised]` to
/// report when it expands.
fn read_supervision(attrs: &[Attribute]) -> Supervision {
    let Some(attr) = attrs
        .iter()
        .find(|attr| supervised_attr::is_supervised_attr(attr))
    else {
        return Supervision::Unsupervised;
    };
    let args = match &attr.meta {
        Meta::List(list) => list.tokens.clone(),
        Meta::Path(_) | Meta::NameValue(_) => TokenStream::new(),
    };
    Supervision::of(&supervised_attr::parse_supervised_options(&Ctxt::new(), args))
}

/// The arguments of a `#[registered(...)]` attribute found on an item, for `#[supervised]`
/// to expand it; `None` after reporting an attribute that is not `#[registered(...)]`.
pub(crate) fn registered_attr_args(cx: &Ctxt, attr: &Attribute) -> Option<TokenStream> {
    match &attr.meta {
        Meta::Path(_) => Some(TokenStream::new()),
        Meta::List(list) => Some(list.tokens.clone()),
        Meta::NameValue(_) => {
            cx.error_help(
                attr,
                "malformed `#[registered]` attribute",
                registered_form("billing"),
            );
            None
        }
    }
}
