//! The W3C trace context (<https://www.w3.org/TR/trace-context/>): the identity of a span as
//! it travels between nodes, in its binary form (the prefix of a TracedMessage frame) and in
//! the text form of a `traceparent` header. Pure: no I/O, no feature needed.
//!
//! ```text
//!  0         1                    17                25      26
//!  +---------+--------------------+-----------------+-------+
//!  | version | trace id           | parent span id  | flags |
//!  | 0x00    | 16 bytes, not all 0| 8 bytes, not 0  | u8    |
//!  +---------+--------------------+-----------------+-------+
//! ```

use std::fmt;
use std::str::FromStr;

/// Bytes of a trace context in binary form: version, trace id, parent span id, flags.
pub const TRACE_CONTEXT_LEN: usize = 1 + 16 + 8 + 1;

/// The only version of the format this crate writes and reads.
const VERSION: u8 = 0;

/// Characters of a version-00 `traceparent` string.
const TRACEPARENT_LEN: usize = 2 + 1 + 32 + 1 + 16 + 1 + 2;

/// A W3C trace context: which trace a span belongs to and which span is the parent of the
/// next one, as a `traceparent` header says it.
///
/// Made by the network layer from the current span's OpenTelemetry context (feature
/// `opentelemetry`) and sent with a remote message; usable on its own to read and write
/// `traceparent` strings:
///
/// ```
/// use distribute::trace::TraceContext;
///
/// let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let context: TraceContext = text.parse()?;
/// assert!(context.is_sampled());
/// assert_eq!(context.to_string(), text);
/// # Ok::<(), distribute::trace::TraceContextError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
}

/// Why bytes or text are not a valid trace context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceContextError {
    /// Fewer bytes (or characters) than the format needs, or more in text.
    #[error("a trace context takes {expected} bytes, got {got}")]
    Length {
        /// What the format needs.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A version other than 00: later versions may change the layout.
    #[error("trace context version {0:#04x} is not supported (only 00)")]
    Version(u8),
    /// A trace id of all zeros, which the W3C format forbids.
    #[error("trace context with an all-zero trace id")]
    ZeroTraceId,
    /// A parent span id of all zeros, which the W3C format forbids.
    #[error("trace context with an all-zero parent span id")]
    ZeroParentId,
    /// Text that is not `version-traceid-parentid-flags` in lowercase hex.
    #[error("not a traceparent string (00-<32 hex>-<16 hex>-<2 hex>)")]
    Syntax,
}

impl TraceContext {
    /// A trace context; fails if either id is all zeros (invalid in W3C trace context).
    pub fn new(trace_id: [u8; 16], parent_id: [u8; 8], flags: u8) -> Result<Self, TraceContextError> {
        if trace_id == [0; 16] {
            return Err(TraceContextError::ZeroTraceId);
        }
        if parent_id == [0; 8] {
            return Err(TraceContextError::ZeroParentId);
        }
        Ok(TraceContext {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The trace's id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The id of the span that is the parent of the receiver's span.
    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    /// The trace flags (bit 0: sampled).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller recorded its span (the `sampled` flag).
    pub fn is_sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// Appends the binary form, [`TRACE_CONTEXT_LEN`] bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(VERSION);
        out.extend_from_slice(&self.trace_id);
        out.extend_from_slice(&self.parent_id);
        out.push(self.flags);
    }

    /// Reads the binary form from the front of `bytes`; returns it and the bytes after it.
    ///
    /// # Errors
    ///
    /// [`TraceContextError::Length`] when `bytes` is shorter than [`TRACE_CONTEXT_LEN`],
    /// [`TraceContextError::Version`] for a version other than 0, and the zero-id errors.
    pub fn decode_prefix(bytes: &[u8]) -> Result<(Self, &[u8]), TraceContextError> {
        let Some((prefix, rest)) = bytes.split_at_checked(TRACE_CONTEXT_LEN) else {
            return Err(TraceContextError::Length {
                expected: TRACE_CONTEXT_LEN,
                got: bytes.len(),
            });
        };
        let (version, prefix) = prefix.split_at(1);
        if version[0] != VERSION {
            return Err(TraceContextError::Version(version[0]));
        }
        let (trace_id, prefix) = prefix.split_at(16);
        let (parent_id, flags) = prefix.split_at(8);
        let mut context = TraceContext {
            trace_id: [0; 16],
            parent_id: [0; 8],
            flags: flags[0],
        };
        context.trace_id.copy_from_slice(trace_id);
        context.parent_id.copy_from_slice(parent_id);
        let context = TraceContext::new(context.trace_id, context.parent_id, context.flags)?;
        Ok((context, rest))
    }
}

/// The `traceparent` form: `00-<trace id, 32 hex>-<parent id, 16 hex>-<flags, 2 hex>`.
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{VERSION:02x}-")?;
        for byte in self.trace_id {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("-")?;
        for byte in self.parent_id {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "-{:02x}", self.flags)
    }
}

/// Parses a version-00 `traceparent` string, strictly: lowercase hex, exact length.
impl FromStr for TraceContext {
    type Err = TraceContextError;

    fn from_str(text: &str) -> Result<Self, TraceContextError> {
        let bytes = text.as_bytes();
        if bytes.len() < 2 {
            return Err(TraceContextError::Syntax);
        }
        let version = hex_byte(bytes[0], bytes[1])?;
        if version != VERSION {
            return Err(TraceContextError::Version(version));
        }
        if bytes.len() != TRACEPARENT_LEN {
            return Err(TraceContextError::Length {
                expected: TRACEPARENT_LEN,
                got: bytes.len(),
            });
        }
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return Err(TraceContextError::Syntax);
        }
        let mut trace_id = [0; 16];
        hex_into(&bytes[3..35], &mut trace_id)?;
        let mut parent_id = [0; 8];
        hex_into(&bytes[36..52], &mut parent_id)?;
        let flags = hex_byte(bytes[53], bytes[54])?;
        TraceContext::new(trace_id, parent_id, flags)
    }
}

fn hex_into(text: &[u8], out: &mut [u8]) -> Result<(), TraceContextError> {
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = hex_byte(pair[0], pair[1])?;
    }
    Ok(())
}

fn hex_byte(high: u8, low: u8) -> Result<u8, TraceContextError> {
    Ok(hex_digit(high)? << 4 | hex_digit(low)?)
}

fn hex_digit(c: u8) -> Result<u8, TraceContextError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(TraceContextError::Syntax),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the W3C recommendation, section 3.2.2.
    const SPEC_EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn spec_context() -> TraceContext {
        TraceContext::new(
            [
                0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
                0x36,
            ],
            [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
            1,
        )
        .unwrap()
    }

    #[test]
    fn the_spec_example_parses_to_its_fields_and_formats_back() {
        let context: TraceContext = SPEC_EXAMPLE.parse().unwrap();
        assert_eq!(context, spec_context());
        assert!(context.is_sampled());
        assert_eq!(context.to_string(), SPEC_EXAMPLE);
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        assert!(!unsampled.parse::<TraceContext>().unwrap().is_sampled());
    }

    #[test]
    fn malformed_traceparent_strings_are_refused() {
        let cases = [
            ("", TraceContextError::Syntax),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                TraceContextError::Version(0xff),
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
                TraceContextError::Length {
                    expected: 55,
                    got: 54,
                },
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                TraceContextError::Syntax,
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                TraceContextError::Syntax,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                TraceContextError::Syntax,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                TraceContextError::ZeroTraceId,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                TraceContextError::ZeroParentId,
            ),
        ];
        for (text, error) in cases {
            assert_eq!(text.parse::<TraceContext>(), Err(error), "{text:?}");
        }
    }

    #[test]
    fn the_binary_form_round_trips_and_leaves_the_rest() {
        let mut out = Vec::new();
        spec_context().encode(&mut out);
        assert_eq!(out.len(), TRACE_CONTEXT_LEN);
        assert_eq!(out[0], 0);
        assert_eq!(out[25], 1);
        out.extend_from_slice(b"body");
        assert_eq!(
            TraceContext::decode_prefix(&out),
            Ok((spec_context(), &b"body"[..]))
        );
    }

    #[test]
    fn malformed_binary_prefixes_are_refused() {
        let mut good = Vec::new();
        spec_context().encode(&mut good);
        for len in 0..TRACE_CONTEXT_LEN {
            assert_eq!(
                TraceContext::decode_prefix(&good[..len]),
                Err(TraceContextError::Length {
                    expected: TRACE_CONTEXT_LEN,
                    got: len
                })
            );
        }
        let mut version = good.clone();
        version[0] = 1;
        assert_eq!(
            TraceContext::decode_prefix(&version),
            Err(TraceContextError::Version(1))
        );
        let mut zero_trace = good.clone();
        zero_trace[1..17].fill(0);
        assert_eq!(
            TraceContext::decode_prefix(&zero_trace),
            Err(TraceContextError::ZeroTraceId)
        );
        let mut zero_parent = good;
        zero_parent[17..25].fill(0);
        assert_eq!(
            TraceContext::decode_prefix(&zero_parent),
            Err(TraceContextError::ZeroParentId)
        );
    }
}
