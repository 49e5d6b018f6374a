//! What generated wire tags and fingerprints are made of: the tag of a message without an
//! explicit one, and the canonical text of a type that fingerprints hash.
//!
//! The hash itself, FNV-1a, is `distribute_hash::fnv1a64`, which the runtime re-exports as
//! `distribute::__private::fnv1a64` so that tests can recompute what the macro wrote. A change
//! to what is hashed here changes every generated tag or fingerprint: a wire-protocol break.

use distribute_hash::fnv1a64;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Tags below this bit are explicit (`#[message(tag = N)]`); generated tags have it set.
pub(crate) const GENERATED_TAG_BIT: u32 = 0x8000_0000;

/// The largest explicit tag.
pub(crate) const MAX_EXPLICIT_TAG: u32 = GENERATED_TAG_BIT - 1;

/// The tag of a message without an explicit one: the low 32 bits of the hash of the method
/// name, in the upper half of the `u32` range. Depends only on the name, so reordering or
/// adding methods never changes it.
pub(crate) fn generated_tag(method_name: &str) -> u32 {
    (fnv1a64(method_name.as_bytes()) as u32) | GENERATED_TAG_BIT
}

/// A canonical text of `tokens`, independent of the source's spacing and of how the compiler
/// version prints token streams: tokens are concatenated, with one space between two words
/// and after each comma or semicolon. Used in fingerprints and in error messages.
pub(crate) fn canonical(tokens: &TokenStream) -> String {
    let mut out = String::new();
    write_canonical(tokens, &mut out);
    out
}

fn write_canonical(tokens: &TokenStream, out: &mut String) {
    for token in tokens.clone() {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                write_canonical(&group.stream(), out);
                out.push_str(close);
            }
            TokenTree::Ident(ident) => {
                if out.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    out.push(' ');
                }
                out.push_str(&ident.to_string());
            }
            TokenTree::Punct(punct) => {
                out.push(punct.as_char());
                if matches!(punct.as_char(), ',' | ';') {
                    out.push(' ');
                }
            }
            TokenTree::Literal(literal) => {
                if out.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    out.push(' ');
                }
                out.push_str(&literal.to_string());
            }
        }
    }
    // A trailing comma leaves a trailing space; groups then close right after it.
    if out.ends_with(", ") {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn generated_tags_are_in_the_upper_half() {
        for name in ["add", "get", "a", "slow_add"] {
            assert!(generated_tag(name) >= GENERATED_TAG_BIT);
        }
        assert_eq!(generated_tag("a"), 0x8601_ec8c);
    }

    #[test]
    fn canonical_text_ignores_source_spacing() {
        assert_eq!(canonical(&quote!(Vec<u8>)), "Vec<u8>");
        assert_eq!(
            canonical(&quote!(std :: collections :: HashMap<String,u8>)),
            "std::collections::HashMap<String, u8>"
        );
        assert_eq!(canonical(&quote!(&'static str)), "&'static str");
        assert_eq!(canonical(&quote!((u8, u16,))), "(u8, u16,)");
        assert_eq!(canonical(&quote!([u8; 4])), "[u8; 4]");
    }
}
