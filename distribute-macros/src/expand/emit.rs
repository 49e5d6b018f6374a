//! What every expansion returns around its generated items: the user's item, then the errors.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

use crate::ctx::Ctxt;

/// The user's item followed by the errors, if any.
pub(super) fn emit(item: impl ToTokens, cx: Ctxt) -> TokenStream {
    let errors = cx.check().err().map(|error| error.to_compile_error());
    quote!(#item #errors)
}
