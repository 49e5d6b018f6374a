//! The hash of the `distribute` wire protocol: 64-bit FNV-1a.
//!
//! `#[actor]` hashes at compile time, in `distribute-macros`, to generate the wire tag of a
//! message without an explicit one and the fingerprint of an actor's protocol; the runtime
//! hashes in constants (the supervisor's fingerprint) and re-exports the function as
//! `distribute::__private::fnv1a64`, so that tests can recompute what the macro wrote. Both
//! call this one function, so the two sides cannot drift apart.
//!
//! Its output is part of the wire protocol: nodes built with a different hash would disagree
//! on every generated tag and fingerprint. It must never change.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The FNV-1a offset basis for 64 bits.
const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// The FNV prime for 64 bits.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`.
///
/// A `const fn`, so that constants such as a protocol fingerprint are computed at compile time.
///
/// ```
/// assert_eq!(distribute_hash::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = OFFSET_BASIS;
    // A `while` loop because iterators are not available in a `const fn`.
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fnv1a64_is_usable_in_constants() {
        const HASH: u64 = fnv1a64(b"foobar");
        assert_eq!(HASH, 0x8594_4171_f739_67e8);
    }
}
