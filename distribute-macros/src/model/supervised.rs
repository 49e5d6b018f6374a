//! The model of a `#[supervised(...)]` struct: its name, its visibility and its options.

use proc_macro2::{Ident, TokenStream};
use syn::{ItemStruct, Visibility};

use super::signature::generics_tokens;
use crate::attr::supervised::{self, SupervisedOptions};
use crate::ctx::Ctxt;

/// `#[supervised(...)]` on a struct.
pub(crate) struct SupervisedStruct {
    pub(crate) ident: Ident,
    /// The struct's visibility, given to the generated `start_supervised`.
    pub(crate) vis: Visibility,
    pub(crate) options: SupervisedOptions,
    /// Whether the struct has generics; nothing can be generated then.
    pub(crate) generic: bool,
}

/// Parses `#[supervised(...)]` on a struct.
pub(crate) fn parse_supervised(cx: &Ctxt, args: TokenStream, item: &mut ItemStruct) -> SupervisedStruct {
    let options = supervised::parse_supervised_options(cx, args);
    let generics = &item.generics;
    let generic = !generics.params.is_empty() || generics.where_clause.is_some();
    if generic {
        // The same error as `#[actor]`'s, which the compiler shows once when both report it.
        cx.error_help(
            generics_tokens(generics),
            "generic actors are not supported",
            "an actor is one concrete type: remove the generic parameters, or wrap each instantiation in its own struct",
        );
    }
    item.attrs.retain(|attr| {
        let again = supervised::is_supervised_attr(attr);
        if again {
            cx.error_help(
                attr,
                "`#[supervised]` is applied twice to this item",
                "remove one of them",
            );
        }
        !again
    });
    SupervisedStruct {
        ident: item.ident.clone(),
        vis: item.vis.clone(),
        options,
        generic,
    }
}
