//! Hashes behind generated wire tags and fingerprints.
//!
//! The runtime exposes the same FNV-1a as `distribute::__private::fnv1a64`, so tests can
//! recompute what the macro wrote. Both must stay identical: a change here changes every
//! generated tag and fingerprint, which is a wire-protocol break.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Tags below this bit are explicit (`#[message(tag = N)]`); generated tags have it set.
pub(crate) const GENERATED_TAG_BIT: u32 = 0x8000_0000;

/// The largest explicit tag.
pub(crate) const MAX_EXPLICIT_TAG: u32 = GENERATED_TAG_BIT - 1;

/// 64-bit FNV-1a.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

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
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

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
