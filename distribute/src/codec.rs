//! Wire codecs: how a message's arguments and replies become bytes and back.
//!
//! The codec layer sits between typed messages and the transport. On the sending side the
//! runtime asks a [`Codec`] to append the encoding of a value to a frame body; on the receiving
//! side it hands the codec the body of one frame and expects exactly one value back. A codec
//! never sees sockets, frame headers or message tags: framing belongs to the transport, and
//! tags to the `#[actor]` expansion.
//!
//! # One codec per actor type
//!
//! Each actor type names its codec in the `Actor::Codec` associated type (written
//! `#[actor(codec = Path)]`, [`DefaultCodec`] when omitted), and every message to that actor
//! and every reply from it goes through that codec when it crosses the network. The choice is static:
//! [`Codec::encode`] and [`Codec::decode`] are generic over the value, so each message type
//! gets its own monomorphised serializer with no vtable, no boxing and no `dyn Codec` (the
//! trait is not object safe, on purpose). Both ends of a conversation name the same actor
//! type and therefore the same codec, so they agree on the format by construction; changing
//! an actor's codec changes its wire format and is a breaking change for a running cluster.
//! Per-type choice also lets one actor trade the default for another format, or for a tighter
//! size limit (`Bincode<1024>`), without touching the rest of the system.
//!
//! # Strictness
//!
//! Bytes arriving from a peer are untrusted, so both codecs here decode strictly:
//!
//! - **One value, whole input.** A frame body holds exactly one value. Bytes left over after it
//!   are an error ([`CodecError::TrailingBytes`]), never silently ignored: leftovers mean a
//!   framing bug or two nodes that disagree on a type.
//! - **A size limit both ways.** Each codec carries a limit (`LIMIT`, [`DEFAULT_LIMIT`] unless
//!   chosen). Encoding a larger value fails with [`CodecError::TooLarge`] and leaves the output
//!   buffer as it was; decoding input longer than the limit fails before any parsing.
//! - **Length prefixes are claims, not facts.** A length read from the wire never makes the
//!   decoder allocate in proportion to the claim: a string or byte buffer gets at most the
//!   limit (bincode) or the bytes actually present (postcard), and serde reserves at most
//!   1 MiB up front for a sequence or map, which then fails when the input runs out. A forged
//!   prefix ends in [`CodecError::TooLarge`] or [`CodecError::Decode`].
//! - **Unknown is an error.** An enum variant index the type does not have, an `Option` or
//!   `bool` tag other than 0 or 1, or invalid UTF-8 in a string fails with
//!   [`CodecError::Decode`].
//! - **No panics.** No input makes `decode` panic; the unit tests in this module and the property tests
//!   in `tests/codec_roundtrip.rs` feed truncated, padded and random bytes to check it.
//!
//! What the limits do not bound: both formats spend no byte on a zero-sized value, so a
//! forged length in front of a sequence of `()` (or of any zero-sized type) makes the decoder
//! loop that many times; and a recursive message type (a tree of `Box`es) nests the decoder
//! once per level, so deep input can exhaust the stack. Keep such shapes out of message types
//! that cross trust boundaries. Both formats are also not self-describing, so serde features
//! that rely on field names or on looking ahead (`#[serde(untagged)]`, `#[serde(flatten)]`,
//! internally tagged enums, `skip_serializing_if`) fail to encode or do not decode back.
//!
//! # bincode's maintenance status
//!
//! [`Bincode`], the default codec, is built on the `bincode` crate, version 2. On 2025-12-16
//! the bincode team stopped developing the crate for good, after a doxxing and harassment
//! incident, and the RustSec advisory RUSTSEC-2025-0141 marks it unmaintained. The advisory
//! reports no vulnerability: it means that fixes will not come from upstream, and
//! `cargo audit` or `cargo deny` will flag the dependency until it is replaced.
//!
//! The crate is therefore kept behind the [`Codec`] trait. This module is the only place that
//! names `bincode`; the runtime, the transport and the macros speak only of `Codec` and of
//! [`DefaultCodec`]. Replacing the default is a one-line change to that alias, and `Postcard`
//! (cargo feature `postcard`) is already here as an alternative with the same contract; an
//! actor can also opt out on its own with `#[actor(codec = Path)]`. Until a replacement is chosen,
//! the strict decoding rules above, the explicit size limit, and the unit and property tests
//! that throw truncated, mutated and random bytes at the decoder (a small in-tree fuzzer)
//! guard the part of bincode that faces the network: its parser.

use serde::{de::DeserializeOwned, Serialize};

/// Default cap on one encoded value, in bytes (4 MiB, the same as the transport's frame cap).
pub const DEFAULT_LIMIT: usize = 4 * 1024 * 1024;

/// The codec an actor uses unless it names another one with `#[actor(codec = Path)]`.
///
/// Code outside this module names the default through this alias, never `Bincode` itself, so
/// that changing the default format (see "bincode's maintenance status" in the
/// [module docs](self)) is a change to this line alone.
pub type DefaultCodec = Bincode<DEFAULT_LIMIT>;

/// Turns values into frame bodies and back.
///
/// Implementations must keep the contract described in the [module docs](self): `encode`
/// appends or leaves `out` untouched, `decode` consumes the whole input or fails, and neither
/// panics on any value or any bytes.
///
/// # Example
///
/// A codec that wraps [`Bincode`] with a 1 KiB limit and puts a format version byte in front,
/// so that a later format change can be detected instead of misread:
///
/// ```
/// use distribute::codec::{Bincode, Codec, CodecError};
/// use serde::{de::DeserializeOwned, Serialize};
///
/// #[derive(Debug, Default)]
/// struct VersionedBincode {
///     inner: Bincode<1024>,
/// }
///
/// const VERSION: u8 = 1;
///
/// impl Codec for VersionedBincode {
///     const NAME: &'static str = "bincode-v1";
///
///     fn encode<T: Serialize + ?Sized>(
///         &self,
///         value: &T,
///         out: &mut Vec<u8>,
///     ) -> Result<(), CodecError> {
///         let start = out.len();
///         out.push(VERSION);
///         // The inner codec restores `out` to how it found it (with our version byte),
///         // so drop the byte too to keep the "unchanged on error" promise.
///         self.inner.encode(value, out).inspect_err(|_| out.truncate(start))
///     }
///
///     fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
///         match bytes.split_first() {
///             Some((&VERSION, body)) => self.inner.decode(body),
///             Some((other, _)) => Err(CodecError::Decode(format!("unknown version {other}"))),
///             None => Err(CodecError::Decode("empty input".to_owned())),
///         }
///     }
/// }
///
/// let codec = VersionedBincode::default();
/// let mut frame = Vec::new();
/// codec.encode(&("ping", 7u32), &mut frame)?;
/// assert_eq!(frame[0], VERSION);
/// assert_eq!(codec.decode::<(String, u32)>(&frame)?, ("ping".to_owned(), 7));
///
/// // Over the 1 KiB limit: an error, and `frame` is untouched.
/// let before = frame.clone();
/// let err = codec.encode(&vec![0u8; 2048], &mut frame).unwrap_err();
/// assert!(matches!(err, CodecError::TooLarge { limit: 1024, .. }));
/// assert_eq!(frame, before);
/// # Ok::<(), CodecError>(())
/// ```
pub trait Codec: Default + Send + Sync + 'static {
    /// A short name for logs and metrics (`"bincode"`, `"postcard"`).
    const NAME: &'static str;

    /// Appends the encoding of `value` to `out`. On error `out` is left as it was.
    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Decodes exactly one value from the whole of `bytes`.
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

/// Why a value could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The value, or a length inside it, exceeds the codec's size limit.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size seen (or claimed by a length prefix), in bytes.
        size: usize,
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// A value decoded but bytes were left over.
    #[error("{extra} trailing bytes after the value")]
    TrailingBytes {
        /// How many bytes were left.
        extra: usize,
    },
    /// A message tag that the receiving actor does not know.
    #[error("unknown message tag {tag:#010x}")]
    UnknownTag {
        /// The tag read from the wire.
        tag: u32,
    },
    /// The value could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The bytes are not a valid encoding of the expected type.
    #[error("cannot decode: {0}")]
    Decode(String),
}

/// The default codec: bincode 2 in serde mode, with variable-length integers
/// (`bincode::config::standard()`) and a size limit of `LIMIT` bytes.
///
/// `Bincode` (that is, `Bincode<DEFAULT_LIMIT>`) caps values at 4 MiB; pick another cap
/// with the const parameter, for example `Bincode<1024>`.
///
/// On encoding, `LIMIT` caps the encoded size exactly: a larger value fails with
/// [`CodecError::TooLarge`] carrying its true encoded size, and no more than `LIMIT` bytes
/// are ever buffered for it. On decoding, input longer than `LIMIT` fails up front with
/// `TooLarge { size: input length }`. Past that check, bincode enforces `LIMIT` as a budget on
/// what the value claims while it is decoded, and this budget counts integers and length
/// prefixes at their in-memory width (8 bytes for a `u64` or a length, 16 for a `u128`)
/// even when the varint on the wire is a single byte. It is what stops a forged string length
/// from allocating more than `LIMIT` bytes, but it also means that a value whose encoding is
/// close to `LIMIT`, or small and integer-heavy (a long `Vec<u64>` of small numbers), can
/// encode and then fail to decode. Choose `LIMIT` with headroom. When the budget runs out the
/// true size is unknown, and the error reports `size: LIMIT + 1`, the smallest size that
/// exceeds it.
///
/// `LIMIT` is thus also the most that one forged length prefix can make the decoder allocate
/// before the input runs out, so keep it to what a node can afford per message; a very large
/// `LIMIT` (`usize::MAX`) removes that protection and is only for trusted input.
///
/// See the [module docs](self) for the strictness rules and for bincode's maintenance status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Bincode<const LIMIT: usize = DEFAULT_LIMIT>;

impl<const LIMIT: usize> Bincode<LIMIT> {
    /// The size limit of this codec, in bytes.
    pub const LIMIT: usize = LIMIT;

    const fn config() -> bincode::config::Configuration<
        bincode::config::LittleEndian,
        bincode::config::Varint,
        bincode::config::Limit<LIMIT>,
    > {
        bincode::config::standard().with_limit::<LIMIT>()
    }
}

impl<const LIMIT: usize> Codec for Bincode<LIMIT> {
    const NAME: &'static str = "bincode";

    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let mut sink = CappedAppend::new(out, LIMIT);
        match bincode::serde::encode_into_writer(value, &mut sink, Self::config()) {
            Ok(()) => sink.finish(),
            Err(err) => {
                sink.abandon();
                Err(CodecError::Encode(err.to_string()))
            }
        }
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        check_input_len(bytes, LIMIT)?;
        let (value, read) = bincode::serde::decode_from_slice(bytes, Self::config())
            .map_err(|err| bincode_decode_error(err, LIMIT))?;
        whole_input_used(value, bytes.len(), read)
    }
}

/// Translates bincode's decode errors into [`CodecError`], with messages meant for a log
/// line rather than bincode's `Debug` output.
fn bincode_decode_error(err: bincode::error::DecodeError, limit: usize) -> CodecError {
    use bincode::error::DecodeError as E;
    match err {
        E::LimitExceeded => CodecError::TooLarge {
            size: limit.saturating_add(1),
            limit,
        },
        E::UnexpectedEnd { additional } => CodecError::Decode(format!(
            "input ends early: at least {additional} more bytes needed"
        )),
        E::UnexpectedVariant { type_name, found, .. } => {
            CodecError::Decode(format!("unknown variant index {found} for {type_name}"))
        }
        E::Utf8 { inner } => CodecError::Decode(format!("invalid UTF-8 in a string: {inner}")),
        E::OutsideUsizeRange(len) => CodecError::Decode(format!("length {len} does not fit in usize")),
        // Messages raised through serde (unknown variant of a derived enum, wrong length of
        // a tuple, custom `Deserialize` errors) are already written for humans.
        E::OtherString(message) => CodecError::Decode(message),
        other => CodecError::Decode(other.to_string()),
    }
}

/// postcard 1 (varint integers, no framing), with a size limit of `LIMIT` bytes.
///
/// Enabled by the cargo feature `postcard`. The contract is the one of [`Bincode`]: encoding
/// a value larger than `LIMIT` fails with [`CodecError::TooLarge`] and leaves the output as it
/// was, input longer than `LIMIT` is rejected before decoding, and leftover bytes are an
/// error. postcard checks every string and byte-buffer length against the bytes actually
/// left in the input, so a forged length fails with [`CodecError::Decode`] and never sizes an
/// allocation; and there is no decode budget: whatever encodes within `LIMIT` decodes.
///
/// The two formats are not compatible; both ends of a conversation use the same codec because
/// they name the same actor type.
#[cfg(feature = "postcard")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Postcard<const LIMIT: usize = DEFAULT_LIMIT>;

#[cfg(feature = "postcard")]
impl<const LIMIT: usize> Postcard<LIMIT> {
    /// The size limit of this codec, in bytes.
    pub const LIMIT: usize = LIMIT;
}

#[cfg(feature = "postcard")]
impl<const LIMIT: usize> Codec for Postcard<LIMIT> {
    const NAME: &'static str = "postcard";

    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let mut sink = CappedAppend::new(out, LIMIT);
        match postcard::serialize_with_flavor(value, &mut sink) {
            Ok(()) => sink.finish(),
            Err(err) => {
                sink.abandon();
                Err(CodecError::Encode(err.to_string()))
            }
        }
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        check_input_len(bytes, LIMIT)?;
        let (value, rest) =
            postcard::take_from_bytes(bytes).map_err(|err| CodecError::Decode(err.to_string()))?;
        let read = bytes.len().saturating_sub(rest.len());
        whole_input_used(value, bytes.len(), read)
    }
}

/// Rejects an input longer than the limit before a parser sees it.
fn check_input_len(bytes: &[u8], limit: usize) -> Result<(), CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    Ok(())
}

/// Accepts a decoded value only if it used the whole input.
fn whole_input_used<T>(value: T, total: usize, read: usize) -> Result<T, CodecError> {
    match total.saturating_sub(read) {
        0 => Ok(value),
        extra => Err(CodecError::TrailingBytes { extra }),
    }
}

/// An encoder's output: appends to `out` while the encoding fits in `limit` bytes, then only
/// counts. An oversize value thus costs the time to measure it but never more than `limit`
/// bytes of buffer, and the error can still report its exact size.
struct CappedAppend<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    limit: usize,
    size: usize,
}

impl<'a> CappedAppend<'a> {
    fn new(out: &'a mut Vec<u8>, limit: usize) -> Self {
        let start = out.len();
        Self {
            out,
            start,
            limit,
            size: 0,
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len());
        if self.size <= self.limit {
            self.out.extend_from_slice(bytes);
        }
    }

    /// Ends a successful encoding: keeps the bytes if they fit, else restores `out`.
    fn finish(self) -> Result<(), CodecError> {
        if self.size > self.limit {
            self.out.truncate(self.start);
            return Err(CodecError::TooLarge {
                size: self.size,
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// Ends a failed encoding: restores `out`.
    fn abandon(self) {
        self.out.truncate(self.start);
    }
}

impl bincode::enc::write::Writer for CappedAppend<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.append(bytes);
        Ok(())
    }
}

#[cfg(feature = "postcard")]
impl postcard::ser_flavors::Flavor for &mut CappedAppend<'_> {
    type Output = ();

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.append(&[byte]);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.append(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::{BTreeMap, HashMap};
    use std::fmt::Debug;

    const SMALL: usize = 1024;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Empty,
        Circle { radius: f64 },
        Polygon(Vec<(i32, i32)>),
        Tagged(String, Option<Box<Shape>>),
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Drawing {
        id: u64,
        title: String,
        shapes: Vec<Shape>,
        layers: HashMap<String, Vec<u8>>,
        ordered: BTreeMap<u16, Option<i64>>,
        owner: Option<String>,
        unit: (),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Small {
        A,
        B(u8),
        C { x: u16 },
    }

    fn drawing() -> Drawing {
        Drawing {
            id: u64::MAX - 7,
            title: "plan — ground floor ✓".to_owned(),
            shapes: vec![
                Shape::Empty,
                Shape::Circle { radius: -2.5 },
                Shape::Polygon(vec![(0, 0), (i32::MIN, i32::MAX), (-1, 1)]),
                Shape::Tagged(
                    "nested".to_owned(),
                    Some(Box::new(Shape::Tagged(String::new(), None))),
                ),
            ],
            layers: HashMap::from([
                ("base".to_owned(), vec![1, 2, 3]),
                ("empty".to_owned(), Vec::new()),
            ]),
            ordered: BTreeMap::from([(1, Some(-1)), (600, None), (u16::MAX, Some(i64::MIN))]),
            owner: None,
            unit: (),
        }
    }

    fn encoded<C: Codec, T: Serialize + ?Sized>(codec: &C, value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        let result = codec.encode(value, &mut out);
        assert_eq!(result, Ok(()), "{} failed to encode", C::NAME);
        out
    }

    fn round_trip<C, T>(codec: &C, value: T)
    where
        C: Codec,
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let bytes = encoded(codec, &value);
        assert_eq!(codec.decode::<T>(&bytes), Ok(value), "{}", C::NAME);
    }

    /// The codec's encoding of a length (a `u64` and a `usize` share the varint form in both
    /// formats), used to forge length prefixes.
    fn length_prefix<C: Codec>(codec: &C, len: u64) -> Vec<u8> {
        encoded(codec, &len)
    }

    /// Tests of the contract every codec keeps, run once per codec.
    macro_rules! contract_tests {
        ($module:ident, $codec:ident) => {
            mod $module {
                use super::*;

                type Limited = $codec<SMALL>;
                type Unlimited = $codec<{ usize::MAX }>;

                #[test]
                fn round_trips_primitives() {
                    let c = Limited::default();
                    round_trip(&c, 0u8);
                    round_trip(&c, u8::MAX);
                    round_trip(&c, u16::MAX);
                    round_trip(&c, u32::MAX);
                    round_trip(&c, u64::MAX);
                    round_trip(&c, u128::MAX);
                    round_trip(&c, i8::MIN);
                    round_trip(&c, i32::MIN);
                    round_trip(&c, i64::MIN);
                    round_trip(&c, i64::MAX);
                    round_trip(&c, i128::MIN);
                    round_trip(&c, -1.5f32);
                    round_trip(&c, f64::MAX);
                    round_trip(&c, f64::NEG_INFINITY);
                    round_trip(&c, true);
                    round_trip(&c, false);
                    round_trip(&c, 'é');
                    round_trip(&c, '\u{10FFFF}');
                    round_trip(&c, ());
                    round_trip(&c, usize::MAX);
                }

                #[test]
                fn round_trips_nan_bit_for_bit() {
                    let c = Limited::default();
                    let nan = f64::from_bits(0x7ff8_0000_dead_beef);
                    let back: f64 = c.decode(&encoded(&c, &nan)).unwrap();
                    assert_eq!(back.to_bits(), nan.to_bits());
                }

                #[test]
                fn round_trips_strings() {
                    let c = Limited::default();
                    round_trip(&c, String::new());
                    round_trip(&c, "hello".to_owned());
                    round_trip(&c, "ünïcødé 🦀 漢字".to_owned());
                    round_trip(&c, "x".repeat(300));
                }

                #[test]
                fn round_trips_nested_structs_enums_and_collections() {
                    let c = Limited::default();
                    round_trip(&c, drawing());
                    round_trip(&c, Some(vec![Small::A, Small::B(9), Small::C { x: 700 }]));
                    round_trip(&c, Option::<Small>::None);
                    round_trip(&c, vec![Vec::<u64>::new(), vec![1, u64::MAX]]);
                    round_trip(&c, HashMap::from([(1u8, "one".to_owned())]));
                    round_trip(&c, (1u8, "two".to_owned(), [3u16; 4]));
                }

                #[test]
                fn encode_appends_after_existing_bytes() {
                    let c = Limited::default();
                    // One value encoded twice: its HashMap iterates in the same order.
                    let value = drawing();
                    let mut out = vec![0xAA, 0xBB];
                    c.encode(&value, &mut out).unwrap();
                    assert_eq!(&out[..2], &[0xAA, 0xBB]);
                    assert_eq!(&out[2..], encoded(&c, &value).as_slice());
                    assert_eq!(c.decode::<Drawing>(&out[2..]), Ok(value));
                }

                #[test]
                fn decode_rejects_trailing_bytes() {
                    let c = Limited::default();
                    let mut bytes = encoded(&c, &drawing());
                    bytes.push(0);
                    assert_eq!(
                        c.decode::<Drawing>(&bytes),
                        Err(CodecError::TrailingBytes { extra: 1 })
                    );
                    bytes.extend_from_slice(&[1, 2]);
                    assert_eq!(
                        c.decode::<Drawing>(&bytes),
                        Err(CodecError::TrailingBytes { extra: 3 })
                    );
                    assert_eq!(
                        c.decode::<()>(&[7]),
                        Err(CodecError::TrailingBytes { extra: 1 })
                    );
                }

                #[test]
                fn decode_rejects_every_truncation() {
                    let c = Limited::default();
                    let bytes = encoded(&c, &drawing());
                    for len in 0..bytes.len() {
                        let result = c.decode::<Drawing>(&bytes[..len]);
                        assert!(
                            matches!(result, Err(CodecError::Decode(_))),
                            "prefix of {len} bytes gave {result:?}"
                        );
                    }
                }

                #[test]
                fn decode_rejects_unknown_enum_variant() {
                    let c = Limited::default();
                    // Variant index 3 of a three-variant enum, in both formats a single byte.
                    let result = c.decode::<Small>(&[3]);
                    assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
                    let result = c.decode::<Small>(&length_prefix(&c, 1 << 40));
                    assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
                }

                #[test]
                fn decode_rejects_bad_bool_option_and_utf8() {
                    let c = Limited::default();
                    assert!(matches!(c.decode::<bool>(&[2]), Err(CodecError::Decode(_))));
                    assert!(matches!(
                        c.decode::<Option<u8>>(&[2, 0]),
                        Err(CodecError::Decode(_))
                    ));
                    assert!(matches!(
                        c.decode::<String>(&[2, 0xC3, 0x28]),
                        Err(CodecError::Decode(_))
                    ));
                }

                #[test]
                fn decode_rejects_input_longer_than_limit() {
                    let c = Limited::default();
                    let bytes = vec![0u8; SMALL + 1];
                    assert_eq!(
                        c.decode::<Vec<u8>>(&bytes),
                        Err(CodecError::TooLarge {
                            size: SMALL + 1,
                            limit: SMALL
                        })
                    );
                }

                #[test]
                fn decode_rejects_huge_length_prefix_without_allocating() {
                    let c = Limited::default();
                    let mut bytes = length_prefix(&c, 1 << 60);
                    bytes.extend_from_slice(b"abc");
                    // Each of these would need 2^60 elements: an attempt to reserve them
                    // would abort the test process, so reaching the asserts is the check.
                    assert!(c.decode::<Vec<u8>>(&bytes).is_err());
                    assert!(c.decode::<Vec<u64>>(&bytes).is_err());
                    assert!(c.decode::<String>(&bytes).is_err());
                    assert!(c.decode::<HashMap<u8, u8>>(&bytes).is_err());
                    let unlimited = Unlimited::default();
                    assert!(unlimited.decode::<Vec<u8>>(&bytes).is_err());
                }

                #[test]
                fn decode_rejects_length_prefix_longer_than_input() {
                    let c = Limited::default();
                    let mut bytes = length_prefix(&c, 10);
                    bytes.extend_from_slice(b"abc");
                    let result = c.decode::<String>(&bytes);
                    assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
                    let result = c.decode::<Vec<u8>>(&bytes);
                    assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
                }

                #[test]
                fn encode_over_limit_fails_and_leaves_out_unchanged() {
                    let c = Limited::default();
                    let value = vec![7u8; SMALL];
                    let true_size = encoded(&Unlimited::default(), &value).len();
                    assert!(true_size > SMALL);
                    let mut out = vec![1, 2, 3];
                    assert_eq!(
                        c.encode(&value, &mut out),
                        Err(CodecError::TooLarge {
                            size: true_size,
                            limit: SMALL
                        })
                    );
                    assert_eq!(out, [1, 2, 3]);
                }

                #[test]
                fn encode_accepts_exactly_limit_bytes_and_rejects_one_more() {
                    let c = Limited::default();
                    let unlimited = Unlimited::default();
                    let fits = (0..=SMALL)
                        .find(|&n| encoded(&unlimited, &vec![0u8; n]).len() == SMALL)
                        .unwrap();
                    let mut out = Vec::new();
                    c.encode(&vec![0u8; fits], &mut out).unwrap();
                    assert_eq!(out.len(), SMALL);
                    let over = vec![0u8; fits + 1];
                    assert!(matches!(
                        c.encode(&over, &mut out),
                        Err(CodecError::TooLarge { .. })
                    ));
                }

                #[test]
                fn encode_failure_from_serialize_leaves_out_unchanged() {
                    struct Unencodable;
                    impl Serialize for Unencodable {
                        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                            use serde::ser::{Error, SerializeSeq};
                            let mut seq = s.serialize_seq(Some(2))?;
                            seq.serialize_element(&42u32)?;
                            Err(S::Error::custom("refused"))
                        }
                    }
                    let c = Limited::default();
                    let mut out = vec![9];
                    let result = c.encode(&Unencodable, &mut out);
                    assert!(matches!(result, Err(CodecError::Encode(_))), "{result:?}");
                    assert_eq!(out, [9]);
                }

                #[test]
                fn encode_rejects_sequence_without_length() {
                    struct Unsized;
                    impl Serialize for Unsized {
                        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                            // A filtered iterator cannot tell its length in advance.
                            s.collect_seq([1u8, 2, 3].iter().filter(|_| true))
                        }
                    }
                    let c = Limited::default();
                    let mut out = Vec::new();
                    let result = c.encode(&Unsized, &mut out);
                    assert!(matches!(result, Err(CodecError::Encode(_))), "{result:?}");
                    assert!(out.is_empty());
                }

                #[test]
                fn decode_never_panics_on_single_bytes() {
                    let c = Limited::default();
                    for byte in 0..=u8::MAX {
                        let input = [byte];
                        let _ = c.decode::<Drawing>(&input);
                        let _ = c.decode::<Shape>(&input);
                        let _ = c.decode::<String>(&input);
                        let _ = c.decode::<Option<Small>>(&input);
                        let _ = c.decode::<u64>(&input);
                        let _ = c.decode::<char>(&input);
                    }
                }

                #[test]
                fn decode_never_panics_on_garbage() {
                    let c = Limited::default();
                    // A small xorshift generator keeps the garbage reproducible.
                    let mut state = 0x2545_f491_4f6c_dd1d_u64;
                    let mut next = move || {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state
                    };
                    for round in 0..2000 {
                        let len = (next() % 64) as usize;
                        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                        let _ = c.decode::<Drawing>(&bytes);
                        let _ = c.decode::<Vec<Shape>>(&bytes);
                        let _ = c.decode::<HashMap<String, Vec<u8>>>(&bytes);
                        // Real encodings with random bytes flipped hit deeper paths.
                        let mut mutated = encoded(&c, &drawing());
                        let at = (next() as usize) % mutated.len();
                        mutated[at] ^= (round as u8) | 1;
                        let _ = c.decode::<Drawing>(&mutated);
                    }
                }

                #[test]
                fn limit_is_reported_and_default_is_default_limit() {
                    assert_eq!(Limited::LIMIT, SMALL);
                    assert_eq!(<$codec>::LIMIT, DEFAULT_LIMIT);
                }
            }
        };
    }

    contract_tests!(bincode_contract, Bincode);
    #[cfg(feature = "postcard")]
    contract_tests!(postcard_contract, Postcard);

    #[test]
    fn codecs_are_send_sync_copy_and_errors_are_send_sync() {
        fn codec_traits<T: Codec + Copy>() {}
        fn error_traits<T: std::error::Error + Send + Sync + 'static>() {}
        codec_traits::<DefaultCodec>();
        codec_traits::<Bincode>();
        codec_traits::<Bincode<16>>();
        #[cfg(feature = "postcard")]
        codec_traits::<Postcard>();
        error_traits::<CodecError>();
    }

    #[test]
    fn bincode_name_is_bincode() {
        assert_eq!(<Bincode as Codec>::NAME, "bincode");
    }

    #[test]
    fn bincode_string_with_huge_length_prefix_is_too_large() {
        // 0xFD announces a u64 varint: this claims a 2^60-byte string.
        let bytes = [0xFD, 0, 0, 0, 0, 0, 0, 0, 0x10, b'a'];
        assert_eq!(
            Bincode::<SMALL>.decode::<String>(&bytes),
            Err(CodecError::TooLarge {
                size: SMALL + 1,
                limit: SMALL
            })
        );
    }

    #[test]
    fn bincode_vec_with_huge_length_prefix_runs_out_of_input() {
        // serde reserves a bounded capacity for sequences and then meets the end of input.
        let bytes = [0xFD, 0, 0, 0, 0, 0, 0, 0, 0x10, 1, 2, 3];
        let result = Bincode::<SMALL>.decode::<Vec<u8>>(&bytes);
        assert!(
            matches!(&result, Err(CodecError::Decode(m)) if m.contains("ends early")),
            "{result:?}"
        );
    }

    #[test]
    fn bincode_unknown_variant_message_names_the_index() {
        let result = Bincode::<SMALL>.decode::<Option<u8>>(&[5, 0]);
        assert!(
            matches!(&result, Err(CodecError::Decode(m)) if m.contains("variant index 5")),
            "{result:?}"
        );
    }

    #[test]
    fn bincode_decode_budget_counts_integers_at_memory_width() {
        // 100 small u64s encode as 101 bytes, within the limit of 128, but bincode's decode
        // budget charges 8 bytes per integer and per length: the documented asymmetry.
        let codec = Bincode::<128>;
        let value = vec![1u64; 100];
        let bytes = encoded(&codec, &value);
        assert_eq!(bytes.len(), 101);
        assert_eq!(
            codec.decode::<Vec<u64>>(&bytes),
            Err(CodecError::TooLarge {
                size: 129,
                limit: 128
            })
        );
        assert_eq!(Bincode::<1024>.decode::<Vec<u64>>(&bytes), Ok(value));
    }

    #[test]
    fn bincode_wire_format_is_standard_varint() {
        // Pinned so that an accidental config change (fixint, big endian) is caught: it would
        // break every node still running the old build.
        assert_eq!(encoded(&Bincode::<SMALL>, &(250u32, 251u32)), [250, 0xFB, 251, 0]);
        assert_eq!(encoded(&Bincode::<SMALL>, &"hi"), [2, b'h', b'i']);
    }

    #[cfg(feature = "postcard")]
    mod postcard_format {
        use super::*;

        #[test]
        fn postcard_name_is_postcard() {
            assert_eq!(<Postcard as Codec>::NAME, "postcard");
        }

        #[test]
        fn postcard_huge_length_prefix_is_decode_error() {
            // LEB128 varint of 2^60: eight continuation bytes and 0x10.
            let mut bytes = vec![0x80; 8];
            bytes.push(0x10);
            bytes.extend_from_slice(b"abc");
            let codec = Postcard::<SMALL>;
            for result in [
                codec.decode::<String>(&bytes).map(drop),
                codec.decode::<Vec<u8>>(&bytes).map(drop),
                codec.decode::<Vec<String>>(&bytes).map(drop),
            ] {
                assert!(matches!(result, Err(CodecError::Decode(_))), "{result:?}");
            }
        }

        #[test]
        fn postcard_decodes_whatever_fits_the_limit() {
            // No decode budget: unlike bincode, integer-heavy values near the limit decode.
            let codec = Postcard::<128>;
            let value = vec![1u64; 100];
            let bytes = encoded(&codec, &value);
            assert_eq!(codec.decode::<Vec<u64>>(&bytes), Ok(value));
        }

        #[test]
        fn postcard_wire_format_is_leb128_varint() {
            assert_eq!(encoded(&Postcard::<SMALL>, &(127u32, 128u32)), [127, 0x80, 1]);
            assert_eq!(encoded(&Postcard::<SMALL>, &"hi"), [2, b'h', b'i']);
        }
    }
}
