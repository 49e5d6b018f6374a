//! Procedural macros for `distribute` (placeholder, being written).
use proc_macro::TokenStream;

/// Declares an actor.
#[proc_macro_attribute]
pub fn actor(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
