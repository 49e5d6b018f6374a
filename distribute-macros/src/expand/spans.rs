//! Generated tokens placed on the user's tokens, so that the compiler reports a mistake where
//! the user wrote it rather than on the whole attribute.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::Type;

/// `::distribute::__private::assert_wire::<T>();`, spanned on `ty`: a type that cannot travel
/// in a message is reported where it is written, with `Wire`'s explanation.
pub(super) fn assert_wire(ty: &Type) -> TokenStream {
    let call = spanned_path(ty, quote!(::distribute::__private::assert_wire::<), quote!(>));
    quote!(#call();)
}

/// `head ty tail`, e.g. `path::to::function::<ty>`, with `head` spanned on the first token of
/// `ty` and `tail` on its last one: the compiler then reports a bound of the function that `ty`
/// does not meet on all of `ty` as written.
pub(super) fn spanned_path(ty: &Type, head: TokenStream, tail: TokenStream) -> TokenStream {
    let (first, last) = outer_spans(ty.to_token_stream());
    let head = respan(head, first);
    let tail = respan(tail, last);
    quote!(#head #ty #tail)
}

/// `tokens`, every one spanned at `span` (groups keep their contents' spans).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// The spans of the first and of the last token of `tokens`.
fn outer_spans(tokens: TokenStream) -> (Span, Span) {
    let mut tokens = tokens.into_iter();
    let first = tokens.next();
    let last = tokens.last().or_else(|| first.clone());
    let span = |token: Option<TokenTree>| match token {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(token) => token.span(),
        None => Span::call_site(),
    };
    let first_span = match &first {
        Some(TokenTree::Group(group)) => group.span_open(),
        Some(token) => token.span(),
        None => Span::call_site(),
    };
    (first_span, span(last))
}

/// `tokens` moved to the location of `span`, each keeping its own hygiene.
pub(super) fn relocate(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut moved = proc_macro2::Group::new(group.delimiter(), relocate(group.stream(), span));
                moved.set_span(group.span().located_at(span));
                TokenTree::Group(moved)
            }
            mut token => {
                token.set_span(token.span().located_at(span));
                token
            }
        })
        .collect()
}
