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

mod bytes;
pub use bytes::Bytes;

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
mod tests;
