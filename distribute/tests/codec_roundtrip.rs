//! Property tests of the codec contract: what encodes decodes to the same value, and no
//! byte string (random, truncated, padded or mutated) makes a decoder panic.

#[cfg(feature = "postcard")]
use distribute::codec::Postcard;
use distribute::codec::{Bincode, Codec, CodecError};
use proptest::prelude::*;
use proptest::sample::Index;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Inner {
    Unit,
    Pair(i16, String),
    Named { flag: bool, children: Vec<Inner> },
    Boxed(Box<Inner>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sample {
    small: u8,
    big: u64,
    signed: i64,
    real: f64,
    text: String,
    blob: Vec<u8>,
    maybe: Option<u32>,
    inner: Inner,
}

/// Field-wise equality with `real` compared bit for bit, so that NaNs (which proptest does
/// generate) count as equal to themselves and `-0.0` differs from `0.0`.
impl PartialEq for Sample {
    fn eq(&self, other: &Self) -> bool {
        self.small == other.small
            && self.big == other.big
            && self.signed == other.signed
            && self.real.to_bits() == other.real.to_bits()
            && self.text == other.text
            && self.blob == other.blob
            && self.maybe == other.maybe
            && self.inner == other.inner
    }
}

fn inner() -> impl Strategy<Value = Inner> {
    let leaf = prop_oneof![
        Just(Inner::Unit),
        (any::<i16>(), ".{0,12}").prop_map(|(n, s)| Inner::Pair(n, s)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (any::<bool>(), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(flag, children)| Inner::Named { flag, children }),
            inner.prop_map(|i| Inner::Boxed(Box::new(i))),
        ]
    })
}

prop_compose! {
    fn sample()(
        small in any::<u8>(),
        big in any::<u64>(),
        signed in any::<i64>(),
        real in any::<f64>(),
        text in ".{0,40}",
        blob in prop::collection::vec(any::<u8>(), 0..64),
        maybe in any::<Option<u32>>(),
        inner in inner(),
    ) -> Sample {
        Sample { small, big, signed, real, text, blob, maybe, inner }
    }
}

/// The codecs as actors get them by default, with the default size limit.
fn bincode() -> Bincode {
    Bincode
}

#[cfg(feature = "postcard")]
fn postcard() -> Postcard {
    Postcard
}

fn encode<C: Codec>(codec: &C, value: &Sample) -> Result<Vec<u8>, TestCaseError> {
    let mut out = Vec::new();
    codec
        .encode(value, &mut out)
        .map_err(|e| TestCaseError::fail(format!("{} cannot encode: {e}", C::NAME)))?;
    Ok(out)
}

fn round_trips<C: Codec>(codec: C, value: &Sample) -> Result<(), TestCaseError> {
    let bytes = encode(&codec, value)?;
    prop_assert_eq!(codec.decode::<Sample>(&bytes), Ok(value.clone()));
    Ok(())
}

fn extra_bytes_are_trailing<C: Codec>(codec: C, value: &Sample, extra: &[u8]) -> Result<(), TestCaseError> {
    let mut bytes = encode(&codec, value)?;
    bytes.extend_from_slice(extra);
    prop_assert_eq!(
        codec.decode::<Sample>(&bytes),
        Err(CodecError::TrailingBytes { extra: extra.len() })
    );
    Ok(())
}

fn strict_prefix_fails<C: Codec>(codec: C, value: &Sample, cut: Index) -> Result<(), TestCaseError> {
    let bytes = encode(&codec, value)?;
    prop_assume!(!bytes.is_empty());
    let len = cut.index(bytes.len());
    let result = codec.decode::<Sample>(&bytes[..len]);
    prop_assert!(
        matches!(result, Err(CodecError::Decode(_))),
        "prefix of {} of {} bytes gave {:?}",
        len,
        bytes.len(),
        result
    );
    Ok(())
}

/// Decodes `bytes` as several types; the result does not matter, only that it returns.
fn decode_returns<C: Codec>(codec: C, bytes: &[u8]) {
    let _ = codec.decode::<Sample>(bytes);
    let _ = codec.decode::<Inner>(bytes);
    let _ = codec.decode::<Vec<Inner>>(bytes);
    let _ = codec.decode::<(String, Vec<u64>)>(bytes);
    let _ = codec.decode::<Option<f64>>(bytes);
}

fn mutated_decode_returns<C: Codec>(
    codec: C,
    value: &Sample,
    at: Index,
    flip: u8,
) -> Result<(), TestCaseError> {
    let mut bytes = encode(&codec, value)?;
    let i = at.index(bytes.len());
    bytes[i] ^= flip | 1;
    decode_returns(codec, &bytes);
    Ok(())
}

proptest! {
    #[test]
    fn bincode_decode_inverts_encode(value in sample()) {
        round_trips(bincode(), &value)?;
    }

    #[test]
    fn bincode_rejects_extra_bytes_as_trailing(
        value in sample(),
        extra in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        extra_bytes_are_trailing(bincode(), &value, &extra)?;
    }

    #[test]
    fn bincode_rejects_every_strict_prefix(value in sample(), cut in any::<Index>()) {
        strict_prefix_fails(bincode(), &value, cut)?;
    }

    #[test]
    fn bincode_decode_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        decode_returns(bincode(), &bytes);
    }

    #[test]
    fn bincode_decode_never_panics_on_mutated_encodings(
        value in sample(),
        at in any::<Index>(),
        flip in any::<u8>(),
    ) {
        mutated_decode_returns(bincode(), &value, at, flip)?;
    }
}

#[cfg(feature = "postcard")]
proptest! {
    #[test]
    fn postcard_decode_inverts_encode(value in sample()) {
        round_trips(postcard(), &value)?;
    }

    #[test]
    fn postcard_rejects_extra_bytes_as_trailing(
        value in sample(),
        extra in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        extra_bytes_are_trailing(postcard(), &value, &extra)?;
    }

    #[test]
    fn postcard_rejects_every_strict_prefix(value in sample(), cut in any::<Index>()) {
        strict_prefix_fails(postcard(), &value, cut)?;
    }

    #[test]
    fn postcard_decode_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        decode_returns(postcard(), &bytes);
    }

    #[test]
    fn postcard_decode_never_panics_on_mutated_encodings(
        value in sample(),
        at in any::<Index>(),
        flip in any::<u8>(),
    ) {
        mutated_decode_returns(postcard(), &value, at, flip)?;
    }
}
