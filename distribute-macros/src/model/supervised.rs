//! The model of a `#[supervised(...)]` struct: its name, its visibility and its options, and
//! a `#[registered]` attribute wrongly placed below it.

use proc_macro2::{Ident, TokenStream};
use syn::{Attribute, ItemStruct, Visibility};

use super::generics::reject_generics;
use crate::attr::registered::is_registered_attr;
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
    /// A `#[registered(...)]` attribute below `#[supervised]`, taken off the struct: it should
    /// have come first, to read the supervision; `#[supervised]` reports it and expands it.
    pub(crate) registered_below: Option<Attribute>,
}

/// Parses `#[supervised(...)]` on a struct.
pub(crate) fn parse_supervised(cx: &Ctxt, args: TokenStream, item: &mut ItemStruct) -> SupervisedStruct {
    let options = supervised::parse_supervised_options(cx, args);
    let generic = reject_generics(cx, &item.generics);
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
    let registered_below = item
        .attrs
        .iter()
        .position(is_registered_attr)
        .map(|index| item.attrs.remove(index));
    SupervisedStruct {
        ident: item.ident.clone(),
        vis: item.vis.clone(),
        options,
        generic,
        registered_below,
    }
}
