//! The argument lists of the attributes, parsed the same way for all of them: the options of
//! `#[actor(...)]`, `#[message(...)]` and `#[supervised(...)]` (`key = value, ...`), and the
//! arguments of `#[registered(...)]`, split at commas.
//!
//! Each attribute names its options with custom keywords and peeks them on the `lookahead1`
//! that [`parse_list`] hands it, so an unknown option is reported as "expected one of
//! `mailbox`, `name`, `codec`". Everything else is here, written once: a missing `=` or
//! value, a second occurrence of an option, and recovery at the next comma after a bad option,
//! so that every bad option of one attribute is reported at once.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Lookahead1, Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::Token;

use crate::ctx::{with_help, Ctxt};

/// An option as given: where its name is, and its value unless the value was invalid (in
/// which case the error has been reported).
pub(crate) struct Setting<T> {
    /// The option's name, `pool` in `pool = 3`.
    pub(crate) key: Span,
    /// The checked value; `None` when it was invalid.
    pub(crate) value: Option<T>,
}

/// The valid value of an option given and valid.
pub(crate) fn value<T>(setting: &Option<Setting<T>>) -> Option<&T> {
    setting.as_ref().and_then(|setting| setting.value.as_ref())
}

/// The valid value of an option given and valid, taken out of its setting.
pub(crate) fn into_value<T>(setting: Option<Setting<T>>) -> Option<T> {
    setting.and_then(|setting| setting.value)
}

/// Parses `args`, a comma-separated list of options. For each, `option` peeks its keywords on
/// the lookahead, parses the option whose keyword is next (with [`option`] or [`option_with`])
/// and returns `true`; when none is, it returns `false` and the list reports an unknown option
/// listing every keyword peeked. `form`, the attribute's complete form, is the help line of
/// that error and of a syntax error between options.
pub(crate) fn parse_list(
    cx: &Ctxt,
    args: TokenStream,
    form: &str,
    mut option: impl FnMut(ParseStream<'_>, &Lookahead1<'_>) -> syn::Result<bool>,
) {
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if !option(input, &lookahead)? {
                let error = lookahead.error();
                cx.error_help_at(error.span(), format!("unknown option: {error}"), form);
                skip_value(input)?;
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(error) = parser.parse2(args) {
        cx.push(syn::Error::new(error.span(), with_help(error, form)));
    }
}

/// Parses `key = value` into `slot`, with `key` the custom keyword `K` and `value` the tokens
/// up to the next comma, which `check` turns into the option's value (or reports). `example`
/// is the option written correctly, for the help line of a missing `=` or value.
pub(crate) fn option<K, T>(
    cx: &Ctxt,
    input: ParseStream<'_>,
    slot: &mut Option<Setting<T>>,
    example: &str,
    check: impl FnOnce(&Ctxt, TokenStream) -> Option<T>,
) -> syn::Result<()>
where
    K: Parse + ToTokens,
{
    option_with(
        cx,
        input,
        slot,
        |cx, input, key: &K| key_value(cx, input, key, example),
        check,
    )
}

/// Parses the option whose keyword `K` is next into `slot`: `read` parses what follows the
/// keyword (reporting a missing or malformed value), then `check` checks the value, for the
/// first occurrence only. A second occurrence is reported and leaves `slot` as it was.
pub(crate) fn option_with<K, V, T>(
    cx: &Ctxt,
    input: ParseStream<'_>,
    slot: &mut Option<Setting<T>>,
    read: impl FnOnce(&Ctxt, ParseStream<'_>, &K) -> syn::Result<Option<V>>,
    check: impl FnOnce(&Ctxt, V) -> Option<T>,
) -> syn::Result<()>
where
    K: Parse + ToTokens,
{
    let key: K = input.parse()?;
    let value = read(cx, input, &key)?;
    if slot.is_some() {
        let name = key.to_token_stream().to_string();
        cx.error_help(
            &key,
            format!("duplicate option `{name}`"),
            "give each option at most once",
        );
    } else {
        *slot = Some(Setting {
            key: key.span(),
            value: value.and_then(|value| check(cx, value)),
        });
    }
    Ok(())
}

/// Parses `= value` after `key` and returns the value's tokens (up to the next comma), or
/// `None` after reporting a missing `=` or value.
fn key_value(
    cx: &Ctxt,
    input: ParseStream<'_>,
    key: &dyn ToTokens,
    example: &str,
) -> syn::Result<Option<TokenStream>> {
    if input.parse::<Option<Token![=]>>()?.is_none() {
        cx.error_help(
            key,
            "expected `=` and a value after the option name",
            format!("`{example}`"),
        );
        skip_value(input)?;
        return Ok(None);
    }
    let value = skip_value(input)?;
    if value.is_empty() {
        cx.error_help(key, "missing value", format!("`{example}`"));
        return Ok(None);
    }
    Ok(Some(value))
}

/// Consumes the tokens up to the next top-level comma and returns them.
pub(crate) fn skip_value(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}

/// The tokens between top-level commas, without the commas; a trailing comma adds nothing.
/// `a, , b` gives `a`, an empty argument and `b`, so that an empty argument can be reported
/// where it is.
pub(crate) fn split_at_commas(args: TokenStream) -> Vec<TokenStream> {
    let mut arguments = Vec::new();
    let mut current = TokenStream::new();
    let mut trailing = true;
    for token in args {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                arguments.push(std::mem::take(&mut current));
                trailing = true;
            }
            _ => {
                current.extend([token]);
                trailing = false;
            }
        }
    }
    if !trailing || !current.is_empty() {
        arguments.push(current);
    }
    arguments
}

/// Whether `tokens` look like an option, `key = value`.
pub(crate) fn is_option(tokens: &TokenStream) -> bool {
    let mut tokens = tokens.clone().into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(TokenTree::Ident(_)), Some(TokenTree::Punct(eq))) if eq.as_char() == '='
    )
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    mod kw {
        syn::custom_keyword!(alpha);
        syn::custom_keyword!(beta);
    }

    /// Parses `args` as a list of `alpha = <int>` and `beta = <int>`; returns their values and
    /// the error messages.
    fn parse(args: TokenStream) -> (Option<u8>, Option<u8>, Vec<String>) {
        let cx = Ctxt::new();
        let (mut alpha, mut beta) = (None, None);
        let int = |_: &Ctxt, value: TokenStream| syn::parse2::<syn::LitInt>(value).ok()?.base10_parse().ok();
        parse_list(&cx, args, "`#[test(alpha = 1)]`", |input, lookahead| {
            if lookahead.peek(kw::alpha) {
                option::<kw::alpha, _>(&cx, input, &mut alpha, "alpha = 1", int)?;
            } else if lookahead.peek(kw::beta) {
                option::<kw::beta, _>(&cx, input, &mut beta, "beta = 1", int)?;
            } else {
                return Ok(false);
            }
            Ok(true)
        });
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        };
        (into_value(alpha), into_value(beta), errors)
    }

    #[test]
    fn options_parse_in_any_order() {
        assert_eq!(parse(quote!(beta = 2, alpha = 1,)), (Some(1), Some(2), vec![]));
        assert_eq!(parse(quote!()), (None, None, vec![]));
    }

    #[test]
    fn every_bad_option_is_reported_and_the_good_ones_kept() {
        let (alpha, beta, errors) = parse(quote!(gamma = 3, alpha = 1, alpha = 2, beta, beta = 4));
        assert_eq!((alpha, beta), (Some(1), None));
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].starts_with("unknown option: expected `alpha` or `beta`"),
            "{errors:?}"
        );
        assert!(errors[1].starts_with("duplicate option `alpha`"));
        assert!(errors[2].starts_with("expected `=` and a value after the option name"));
        assert!(errors[3].starts_with("duplicate option `beta`"));
    }

    #[test]
    fn arguments_split_at_top_level_commas() {
        let split = |args: TokenStream| -> Vec<String> {
            split_at_commas(args).iter().map(ToString::to_string).collect()
        };
        assert_eq!(split(quote!()), Vec::<String>::new());
        assert_eq!(split(quote!(a)), ["a"]);
        assert_eq!(split(quote!(a,)), ["a"]);
        assert_eq!(split(quote!(,)), [""]);
        assert_eq!(split(quote!(a, , f(b, c))), ["a", "", "f (b , c)"]);
        assert!(is_option(&quote!(pool = 3)));
        assert!(!is_option(&quote!("billing")));
    }
}
