//! The argument of `#[registered("name")]`: one string literal, a valid registry name.
//!
//! The name is checked here against the registry's rules (the runtime's `validate_name`: 1 to
//! 255 characters of `[A-Za-z0-9._-]`), so that a bad name is a compile error on the literal
//! rather than an `InvalidName` at the first start. The rule that needs the pool size (the
//! names of a pool's workers, `name_1` to `name_N`, must fit too) is in `validate.rs`.

use proc_macro2::{TokenStream, TokenTree};
use syn::{Attribute, Lit, LitStr};

use super::options::{is_option, split_at_commas};
use crate::ctx::Ctxt;

/// The longest registry name, in characters; the runtime's `registry::MAX_NAME_LEN`.
pub(crate) const MAX_NAME_LEN: usize = 255;

/// The characters a name may use, in messages.
pub(crate) const ALPHABET: &str = "`A-Z`, `a-z`, `0-9`, `.`, `_` and `-`";

/// The form of `#[registered(...)]`, shown in help lines, with `example` as the name.
pub(crate) fn registered_form(example: &str) -> String {
    format!("`#[registered(\"{example}\")]` (the name: 1 to {MAX_NAME_LEN} characters of {ALPHABET})")
}

/// A name to show in help lines for the struct `ident`: its name in snake case (`AuditLog`
/// gives `audit_log`), or `billing` when that is not a valid name.
pub(crate) fn example_name(ident: &proc_macro2::Ident) -> String {
    let mut name = String::new();
    let mut after_lower = false;
    for c in ident.to_string().trim_start_matches("r#").chars() {
        if c.is_uppercase() && after_lower {
            name.push('_');
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
        name.extend(c.to_lowercase());
    }
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || !name.chars().all(is_name_char) {
        return "billing".to_string();
    }
    name
}

/// Parses the arguments of `#[registered(...)]`: the name, or `None` after reporting what is
/// wrong with it. `attr` is the attribute, to report a missing name on; empty for the
/// attribute being expanded (whose span is the call site). `example` is a name for the help
/// lines (see [`example_name`]).
pub(crate) fn parse_registered_args(
    cx: &Ctxt,
    args: TokenStream,
    attr: &TokenStream,
    example: &str,
) -> Option<LitStr> {
    let mut arguments = split_at_commas(args);
    if arguments.is_empty() {
        cx.error_help(
            attr,
            "`#[registered]` needs the name the actor registers under",
            registered_form(example),
        );
        return None;
    }
    let name = name_value(cx, arguments.remove(0), example);
    let extra: Vec<TokenStream> = arguments.into_iter().filter(|extra| !extra.is_empty()).collect();
    if let Some(first) = extra.first() {
        let shown = name.as_ref().map_or(example.to_string(), LitStr::value);
        let options: Vec<String> = extra
            .iter()
            .filter(|extra| is_option(extra))
            .map(|option| option.to_string())
            .collect();
        let help = if options.is_empty() {
            format!("`#[registered({shown:?})]`: an actor type has one registered name")
        } else {
            format!(
                "`#[registered({shown:?})]`, and supervision options in `#[supervised({})]` below it",
                options.join(", ")
            )
        };
        let all: TokenStream = extra.iter().cloned().collect();
        let tokens = if extra.len() == 1 { first.clone() } else { all };
        cx.error_help(tokens, "`#[registered]` takes one argument, the name", help);
    }
    name
}

/// Checks the name argument.
fn name_value(cx: &Ctxt, value: TokenStream, example: &str) -> Option<LitStr> {
    let lit = match syn::parse2::<Lit>(value.clone()) {
        Ok(Lit::Str(lit)) => lit,
        Ok(other) => {
            let (what, written) = match &other {
                Lit::Int(int) => ("", Some(int.base10_digits().to_string())),
                Lit::Float(float) => ("", Some(float.base10_digits().to_string())),
                Lit::ByteStr(bytes) => (
                    ", not a byte string",
                    Some(String::from_utf8_lossy(&bytes.value()).into_owned()),
                ),
                Lit::Char(c) => (", not a character", Some(c.value().to_string())),
                _ => ("", None),
            };
            let help = match written {
                Some(written) => format!("`#[registered({written:?})]`"),
                None => registered_form(example),
            };
            cx.error_help(
                value,
                format!("`#[registered]` takes the name as a string literal{what}"),
                help,
            );
            return None;
        }
        Err(_) => {
            not_a_string(cx, value, example);
            return None;
        }
    };
    if !lit.suffix().is_empty() {
        cx.error_help(
            &lit,
            format!("unexpected suffix `{}` on the name", lit.suffix()),
            format!("`#[registered({:?})]`", lit.value()),
        );
        return None;
    }
    check_name(cx, &lit, example).then_some(lit)
}

/// Reports a name argument that is not a literal: a bare name (`billing`), an option
/// (`name = "billing"`), or something else.
fn not_a_string(cx: &Ctxt, value: TokenStream, example: &str) {
    let tokens: Vec<TokenTree> = value.clone().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(ident)] => cx.error_help(
            ident,
            "`#[registered]` takes the name as a string literal, not an identifier",
            format!(
                "`#[registered(\"{}\")]`",
                ident.to_string().trim_start_matches("r#")
            ),
        ),
        [TokenTree::Ident(key), TokenTree::Punct(eq), rest @ ..] if eq.as_char() == '=' => {
            let rest: TokenStream = rest.iter().cloned().collect();
            let help = match syn::parse2::<LitStr>(rest) {
                Ok(lit) => format!("`#[registered({:?})]`", lit.value()),
                Err(_) => registered_form(example),
            };
            cx.error_help(
                value,
                format!("`#[registered]` takes the name alone, not as an option `{key} = ...`"),
                help,
            );
        }
        _ => cx.error_help(
            value,
            "`#[registered]` takes the name as a string literal",
            registered_form(example),
        ),
    }
}

/// Checks a name against the registry's rules; reports every rule it breaks, on the literal.
fn check_name(cx: &Ctxt, lit: &LitStr, example: &str) -> bool {
    let name = lit.value();
    if name.is_empty() {
        cx.error_help(
            lit,
            "the registered name cannot be empty",
            registered_form(example),
        );
        return false;
    }
    let mut valid = true;
    let bad: Vec<(usize, char)> = name
        .chars()
        .enumerate()
        .filter(|(_, c)| !is_name_char(*c))
        .collect();
    if let Some(&(index, first)) = bad.first() {
        let others = match bad.len() {
            1 => String::new(),
            2 => ", and 1 more after it".to_string(),
            n => format!(", and {} more after it", n - 1),
        };
        cx.error_help(
            lit,
            format!(
                "invalid character {first:?} in the registered name {}, at character {}{others}: a name uses \
                 only {ALPHABET}",
                shown(&name),
                index + 1,
            ),
            format!("`#[registered({:?})]`", suggestion(&name)),
        );
        valid = false;
    }
    let length = name.chars().count();
    if length > MAX_NAME_LEN {
        cx.error_help(
            lit,
            format!("the registered name is {length} characters long, more than the limit of {MAX_NAME_LEN}"),
            format!(
                "shorten it to at most {MAX_NAME_LEN} characters, such as `#[registered(\"{example}\")]`"
            ),
        );
        valid = false;
    }
    valid
}

/// Whether `c` may appear in a registry name.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// The name with every invalid character replaced by `_`, for a help line.
fn suggestion(name: &str) -> String {
    name.chars()
        .map(|c| if is_name_char(c) { c } else { '_' })
        .take(MAX_NAME_LEN)
        .collect()
}

/// The name quoted for a message, cut after 40 characters.
pub(crate) fn shown(name: &str) -> String {
    const SHOWN: usize = 40;
    if name.chars().count() <= SHOWN {
        format!("{name:?}")
    } else {
        let start: String = name.chars().take(SHOWN).collect();
        format!("{:?}...", start)
    }
}

/// Whether `attr` is `#[registered(...)]` or `#[distribute::registered(...)]`.
pub(crate) fn is_registered_attr(attr: &Attribute) -> bool {
    let path = attr.path();
    path.segments
        .last()
        .is_some_and(|last| last.ident == "registered")
        && (path.segments.len() == 1
            || path
                .segments
                .first()
                .is_some_and(|first| first.ident == "distribute"))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(args: TokenStream) -> (Option<String>, usize) {
        let cx = Ctxt::new();
        let name = parse_registered_args(&cx, args, &TokenStream::new(), "billing").map(|lit| lit.value());
        let errors = cx.check().err().map_or(0, |error| error.into_iter().count());
        (name, errors)
    }

    #[test]
    fn valid_names_parse() {
        assert_eq!(parse(quote!("billing")), (Some("billing".into()), 0));
        assert_eq!(
            parse(quote!("auth_service-v1.2")),
            (Some("auth_service-v1.2".into()), 0)
        );
        assert_eq!(parse(quote!(r"billing",)), (Some("billing".into()), 0));
        let longest = "x".repeat(MAX_NAME_LEN);
        assert_eq!(parse(quote!(#longest)), (Some(longest.clone()), 0));
    }

    #[test]
    fn invalid_names_are_errors() {
        let too_long = "x".repeat(MAX_NAME_LEN + 1);
        let too_long_and_bad = " ".repeat(MAX_NAME_LEN + 1);
        for (args, errors) in [
            (quote!(), 1),
            (quote!(,), 1),
            (quote!(""), 1),
            (quote!("has space"), 1),
            (quote!("émoji"), 1),
            (quote!(#too_long), 1),
            (quote!(#too_long_and_bad), 2),
            (quote!(billing), 1),
            (quote!(5), 1),
            (quote!(b"billing"), 1),
            (quote!(name = "billing"), 1),
            (quote!("billing"suffix), 1),
            (quote!("bad name", pool = 3), 2),
        ] {
            let (name, reported) = parse(args.clone());
            assert_eq!((name, reported), (None, errors), "{args}");
        }
    }

    #[test]
    fn extra_arguments_are_errors_and_keep_the_name() {
        assert_eq!(parse(quote!("billing", "other")), (Some("billing".into()), 1));
        assert_eq!(parse(quote!("billing", pool = 3, x)), (Some("billing".into()), 1));
        assert_eq!(parse(quote!("billing",,)), (Some("billing".into()), 0));
    }

    #[test]
    fn examples_are_the_struct_name_in_snake_case() {
        use proc_macro2::{Ident, Span};
        let example = |name: &str| example_name(&Ident::new(name, Span::call_site()));
        assert_eq!(example("Billing"), "billing");
        assert_eq!(example("AuditLog"), "audit_log");
        assert_eq!(example("HTTPServer2Go"), "httpserver2_go");
        assert_eq!(example_name(&Ident::new_raw("match", Span::call_site())), "match");
        assert_eq!(example("Café"), "billing");
    }

    #[test]
    fn suggestions_replace_bad_characters() {
        assert_eq!(suggestion("billing/eu west"), "billing_eu_west");
        assert_eq!(shown("billing"), "\"billing\"");
        assert!(shown(&"x".repeat(100)).ends_with("\"..."));
    }
}
