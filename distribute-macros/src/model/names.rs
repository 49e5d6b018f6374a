//! Names and types derived from the user's: variant names, `Self` replaced by the actor type.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, ToTokens};
use syn::Type;

use crate::ctx::Ctxt;

/// `ty` with every `Self` replaced by the actor type, spanned where `Self` was.
pub(super) fn replace_self(ty: &Type, self_ty: &Type) -> Type {
    let replaced = replace_self_tokens(ty.to_token_stream(), &self_ty.to_token_stream());
    syn::parse2(replaced).unwrap_or_else(|_| ty.clone())
}

fn replace_self_tokens(tokens: TokenStream, self_ty: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|token| -> Vec<TokenTree> {
            match token {
                TokenTree::Ident(ident) if ident == "Self" => {
                    respan(self_ty.clone(), ident.span()).into_iter().collect()
                }
                TokenTree::Group(group) => {
                    let mut new = proc_macro2::Group::new(
                        group.delimiter(),
                        replace_self_tokens(group.stream(), self_ty),
                    );
                    new.set_span(group.span());
                    vec![TokenTree::Group(new)]
                }
                other => vec![other],
            }
        })
        .collect()
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut new = proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                token = TokenTree::Group(new);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The variant name of a message: the method name in UpperCamelCase.
pub(super) fn variant_name(cx: &Ctxt, method: &Ident, name: &str) -> Option<Ident> {
    let camel = upper_camel(name);
    match syn::parse_str::<Ident>(&camel) {
        Ok(_) if camel != "Self" => Some(format_ident!("{}", camel)),
        _ => {
            cx.error_help(
                method,
                format!("cannot derive a variant name from `{name}` (`{camel}` is not an identifier)"),
                "rename the method",
            );
            None
        }
    }
}

/// `get_total` → `GetTotal`, `getTotal` → `GetTotal`, `__x` → `X`.
fn upper_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name.split('_').filter(|word| !word.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// `r#type` → `type`.
pub(super) trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        let text = self.to_string();
        match text.strip_prefix("r#") {
            Some(unraw) => unraw.to_string(),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::canonical;

    #[test]
    fn variant_names_are_upper_camel_case() {
        assert_eq!(upper_camel("get"), "Get");
        assert_eq!(upper_camel("get_total"), "GetTotal");
        assert_eq!(upper_camel("getTotal"), "GetTotal");
        assert_eq!(upper_camel("_private_thing"), "PrivateThing");
        assert_eq!(upper_camel("a__b"), "AB");
        assert_eq!(upper_camel("x_1"), "X1");
    }

    #[test]
    fn self_is_replaced_in_nested_types() {
        let ty: Type = syn::parse_quote!(Option<Vec<Self>>);
        let self_ty: Type = syn::parse_quote!(Counter);
        assert_eq!(
            canonical(&replace_self(&ty, &self_ty).to_token_stream()),
            "Option<Vec<Counter>>"
        );
    }
}
