//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their corpus
//! (`tests/fuzz_corpus.rs`). Not part of the API: names and signatures here may change in any
//! release.
//!
//! Each function takes the bytes a hostile peer controls, drives one decoder of the crate
//! (including those that are crate-private) and checks the invariants that decoder promises:
//! that it returns a value or a typed error (never a panic), and that whatever decodes
//! encodes back to something that decodes the same. A broken invariant is returned as a
//! [`Violation`], never raised as a panic here, so this module adds no panic to the library;
//! the fuzz target or the test that calls it turns the violation into a failure.

mod codec;
mod handshake;
mod session;

use std::fmt;

use crate::actor::MessageHead;
use crate::net::wire::{read_reply, reply_error, write_reply_header, Control, MessageHeaderWire};
use crate::node::introspect_wire::{decode_outcome, IntrospectWire};
use crate::node::spawn::SpawnWire;
use crate::registry::wire::RegistryMsg;
use crate::trace::{TraceContext, TRACE_CONTEXT_LEN};
use crate::transport::frame::{Frame, FrameDecoder, FrameError};
use crate::{ActorId, NodeId};

pub use codec::codec_bincode;
#[cfg(feature = "postcard")]
pub use codec::codec_postcard;
pub use handshake::handshake;
pub use session::session;

/// A broken invariant: what was expected and what happened instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(String);

impl Violation {
    fn new(what: impl Into<String>) -> Self {
        Violation(what.into())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// What a fuzz entry point returns: `Ok` when every invariant held.
pub type Outcome = Result<(), Violation>;

/// Fails with `what` unless `holds`.
fn check(holds: bool, what: impl FnOnce() -> String) -> Outcome {
    if holds {
        Ok(())
    } else {
        Err(Violation::new(what()))
    }
}

/// A fuzz entry point: the raw input, then whether every invariant held.
pub type Target = fn(&[u8]) -> Outcome;

/// Every entry point, by the name of its fuzz target (and corpus directory).
pub const TARGETS: &[(&str, Target)] = &[
    ("frame_decoder", frame_decoder),
    ("handshake", handshake),
    ("session", session),
    ("message_head", message_head),
    ("traced_message", traced_message),
    ("control", control),
    ("registry", registry),
    ("spawn", spawn),
    ("introspect", introspect),
    ("codec_bincode", codec_bincode),
    #[cfg(feature = "postcard")]
    ("codec_postcard", codec_postcard),
];

/// Reads fields from the front of the fuzzer's input; missing bytes read as zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        bytes.iter_mut().for_each(|b| *b = self.byte());
        u64::from_be_bytes(bytes)
    }

    /// Up to `len` bytes, fewer if the input runs out.
    fn take(&mut self, len: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn rest(&mut self) -> &'a [u8] {
        self.take(self.0.len())
    }
}

/// What a frame decoder made of a whole stream: its frames, then its error or leftover bytes.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    frames: Vec<Frame>,
    end: Result<usize, FrameError>,
}

/// The frame decoder: input `max selector | chunking seed (2) | stream`.
///
/// The stream is decoded three ways: pushed whole, pushed in chunks of pseudo-random sizes
/// (from the seed) with owned frames, and in the same chunks with borrowed frames. All three
/// must yield the same frames and end the same way (the same error, or the same number of
/// bytes left over); every frame respects the cap; and the frames re-encoded are exactly
/// the bytes they were decoded from.
pub fn frame_decoder(data: &[u8]) -> Outcome {
    let mut input = Input(data);
    // Caps from 1 byte to 64 KiB, so that oversize lengths are reachable.
    let max = 1usize << (input.byte() % 17);
    let mut rng = fastrand::Rng::with_seed(u64::from(input.u16()));
    let stream = input.rest();
    let whole = decode_stream(max, &[stream], false);
    let mut chunks = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rng.usize(1..=rest.len().min(64)));
        chunks.push(chunk);
        rest = tail;
    }
    let owned = decode_stream(max, &chunks, false);
    let borrowed = decode_stream(max, &chunks, true);
    check(whole == owned && owned == borrowed, || {
        format!("chunking changed the decoding: whole {whole:?}, chunked {owned:?}, borrowed {borrowed:?}")
    })?;
    let mut encoded = Vec::new();
    for frame in &whole.frames {
        check(frame.body.len() < max, || {
            format!("a frame of {} body bytes passed a cap of {max}", frame.body.len())
        })?;
        frame
            .encode(max, &mut encoded)
            .map_err(|e| Violation::new(format!("a decoded frame does not encode: {e}")))?;
    }
    check(stream.starts_with(&encoded), || {
        "decoded frames re-encode to other bytes than they came from".to_owned()
    })?;
    if let Ok(left) = whole.end {
        check(encoded.len() + left == stream.len(), || {
            format!(
                "{} bytes decoded + {left} left over != {} received",
                encoded.len(),
                stream.len()
            )
        })?;
    }
    Ok(())
}

fn decode_stream(max: usize, chunks: &[&[u8]], borrowed: bool) -> Decoded {
    let mut decoder = FrameDecoder::new(max);
    let mut frames = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        loop {
            let next = if borrowed {
                decoder
                    .next_borrowed()
                    .map(|frame| frame.map(|(kind, body)| Frame::new(kind, body.to_vec())))
            } else {
                decoder.next()
            };
            match next {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(error) => {
                    return Decoded {
                        frames,
                        end: Err(error),
                    }
                }
            }
        }
    }
    let end = match decoder.finish() {
        Ok(()) => Ok(0),
        Err(FrameError::Truncated { buffered }) => Ok(buffered),
        Err(error) => Err(error),
    };
    Decoded { frames, end }
}

/// The fixed headers of Message and Reply frames: whatever reads as a header writes back
/// as the same bytes, and a Reply's status and payload always make a typed error.
pub fn message_head(data: &[u8]) -> Outcome {
    if let Some((head, args)) = MessageHead::read(data) {
        let mut out = Vec::new();
        head.write(&mut out);
        out.extend_from_slice(args);
        check(out == data, || {
            format!("message header {head:?} rewrites differently")
        })?;
    }
    if let Some((call, status, payload)) = read_reply(data) {
        let mut out = Vec::new();
        write_reply_header(call, &status, &mut out);
        out.extend_from_slice(payload);
        check(out == data, || {
            format!("reply header {call} {status:?} rewrites differently")
        })?;
        let _ = reply_error(ActorId::new(NodeId::from_u64(1), call), &status, payload);
    }
    Ok(())
}

/// TracedMessage frame bodies: a trace context prefix that decodes writes back as the same
/// bytes, and what follows it is a Message body (checked as by [`message_head`]); a prefix
/// that does not decode is a typed error.
pub fn traced_message(data: &[u8]) -> Outcome {
    let Ok((context, rest)) = TraceContext::decode_prefix(data) else {
        return Ok(());
    };
    let mut out = Vec::new();
    context.encode(&mut out);
    check(out.len() == TRACE_CONTEXT_LEN, || {
        format!("trace context {context} encodes to {} bytes", out.len())
    })?;
    out.extend_from_slice(rest);
    check(out == data, || {
        format!("trace context {context} rewrites differently")
    })?;
    let text = context.to_string();
    let parsed = text.parse::<TraceContext>();
    check(parsed.as_ref() == Ok(&context), || {
        format!("traceparent {text} parses as {parsed:?}")
    })?;
    message_head(rest)
}

/// Signal frames (`Control`): a decoded value re-encodes, decodes to the same value and
/// re-encodes to the same bytes; an exit reason in it rebuilds or is refused, without panic.
pub fn control(data: &[u8]) -> Outcome {
    let Ok(control) = Control::decode(data) else {
        return Ok(());
    };
    let mut encoded = Vec::new();
    control
        .encode(&mut encoded)
        .map_err(|e| Violation::new(format!("decoded control {control:?} does not encode: {e}")))?;
    let again = Control::decode(&encoded);
    check(again.as_ref() == Ok(&control), || {
        format!("control {control:?} re-decodes as {again:?}")
    })?;
    let mut twice = Vec::new();
    let _ = control.encode(&mut twice);
    check(twice == encoded, || {
        format!("control {control:?} encodes two ways")
    })?;
    if let Control::Exit { reason, .. } | Control::Down { reason, .. } | Control::Stop { reason, .. } =
        control
    {
        let _ = reason.into_reason();
    }
    Ok(())
}

/// Registry frames (`RegistryMsg`): a decoded value re-encodes and decodes to the same value.
pub fn registry(data: &[u8]) -> Outcome {
    let Ok(msg) = RegistryMsg::decode(data) else {
        return Ok(());
    };
    let mut encoded = Vec::new();
    msg.encode(&mut encoded)
        .map_err(|e| Violation::new(format!("decoded registry message {msg:?} does not encode: {e}")))?;
    let again = RegistryMsg::decode(&encoded);
    check(again.as_ref() == Ok(&msg), || {
        format!("registry message {msg:?} re-decodes as {again:?}")
    })
}

/// Spawn frame bodies (`SpawnWire`): decoded values encode and decode the same.
pub fn spawn(data: &[u8]) -> Outcome {
    let Ok(msg) = SpawnWire::decode(data) else {
        return Ok(());
    };
    let mut encoded = Vec::new();
    msg.encode(&mut encoded)
        .map_err(|e| Violation::new(format!("decoded spawn frame {msg:?} does not encode: {e}")))?;
    let again = SpawnWire::decode(&encoded);
    check(again.as_ref() == Ok(&msg), || {
        format!("spawn frame {msg:?} re-decodes as {again:?}")
    })
}

/// Introspect frame bodies (`IntrospectWire`) and, inside answers, the outcome (a snapshot
/// with its trees flat, or a refusal): decoded values encode and decode the same, and a
/// decoded snapshot rebuilds its trees or is refused, without panic.
pub fn introspect(data: &[u8]) -> Outcome {
    let wire = IntrospectWire::decode(data).ok();
    if let Some(msg) = &wire {
        let mut encoded = Vec::new();
        msg.encode(&mut encoded)
            .map_err(|e| Violation::new(format!("decoded introspect frame {msg:?} does not encode: {e}")))?;
        let again = IntrospectWire::decode(&encoded);
        check(again.as_ref() == Ok(msg), || {
            format!("introspect frame {msg:?} re-decodes as {again:?}")
        })?;
    }
    let inner = match wire {
        Some(IntrospectWire::Answer { outcome, .. }) => Some(outcome),
        _ => None,
    };
    // The outcome decoder is fed the raw input too: in a real answer it reads bytes the
    // peer chose just as freely.
    for bytes in std::iter::once(data.to_vec()).chain(inner) {
        if let Ok(Ok(snapshot)) = decode_outcome(&bytes) {
            if let Ok(rebuilt) = snapshot.into_snapshot_of_its_node() {
                let round = crate::node::introspect_wire::WireSnapshot::new(rebuilt.clone())
                    .into_snapshot_of_its_node();
                check(round.as_ref() == Ok(&rebuilt), || {
                    format!("snapshot {rebuilt:?} rebuilds as {round:?}")
                })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::frame::{encode_frame, FrameKind, FRAME_HEADER_LEN};

    #[test]
    fn every_target_takes_empty_short_and_garbage_input() {
        for (name, target) in TARGETS {
            for input in [&[][..], &[1], &[0xff; 64], &[0; 300]] {
                assert_eq!(target(input), Ok(()), "{name} on {input:?}");
            }
        }
    }

    #[test]
    fn whole_frames_in_chunks_keep_the_frame_invariants() {
        let mut input = vec![12, 0, 7];
        for (kind, body) in [(FrameKind::Message, &b"hello"[..]), (FrameKind::Heartbeat, b"")] {
            assert!(encode_frame(kind, body, 4096, &mut input).is_ok());
        }
        input.extend_from_slice(&[0, 0, 0, 9, 2]); // a frame cut short
        assert_eq!(frame_decoder(&input), Ok(()));
    }

    /// Two nodes named "a" and "b" with distinct nonces, then the relay's bytes.
    fn relay_input(relay: &[u8]) -> Vec<u8> {
        let mut input = vec![1];
        for (letter, nonce) in [(0, 3), (1, 4)] {
            input.extend_from_slice(&[0, letter]);
            input.extend_from_slice(&[letter; 16]);
            input.extend_from_slice(&[nonce; 32]);
        }
        input.extend_from_slice(relay);
        input
    }

    #[test]
    fn an_untouched_relay_lets_both_nodes_authenticate_each_other() {
        // The check fails unless both nodes establish each other exactly.
        assert_eq!(handshake(&relay_input(&[])), Ok(()));
    }

    #[test]
    fn a_relay_that_flips_bits_never_gets_a_wrong_peer_accepted() {
        for position in 0..80u8 {
            for message in 0..4 {
                let mut relay = vec![0; 16];
                relay[message * 4..message * 4 + 4].copy_from_slice(&[1, 0, position, 0x20]);
                assert_eq!(
                    handshake(&relay_input(&relay)),
                    Ok(()),
                    "message {message} byte {position}"
                );
            }
        }
    }

    /// Session input: relay mode, `frames` of 100 bytes each, records cut every `cut` bytes,
    /// then the relay's flip.
    fn session_input(frames: u8, cut: u16, flip: (u16, u8)) -> Vec<u8> {
        let mut input = vec![1, frames];
        for kind in 0..frames {
            input.extend_from_slice(&[kind, 0, 100]);
            input.extend_from_slice(&[kind; 100]);
        }
        let stream = usize::from(frames) * (FRAME_HEADER_LEN + 100);
        for _ in 0..stream.div_ceil(usize::from(cut) + 1) {
            input.extend_from_slice(&cut.to_be_bytes());
        }
        input.extend_from_slice(&flip.0.to_be_bytes());
        input.push(flip.1);
        input
    }

    #[test]
    fn sealed_frames_arrive_whole_and_an_altered_record_delivers_nothing_after_it() {
        for cut in [49, 104, 300, 4000] {
            assert_eq!(session(&session_input(5, cut, (0, 0))), Ok(()), "cut {cut}");
            let records = (5 * (FRAME_HEADER_LEN + 100)).div_ceil(usize::from(cut) + 1);
            let wire = u16::try_from(5 * 105 + records * 21).unwrap_or(u16::MAX);
            for position in (0..wire).step_by(3) {
                let input = session_input(5, cut, (position, 0x08));
                assert_eq!(session(&input), Ok(()), "cut {cut}, byte {position} altered");
            }
        }
    }

    #[test]
    fn codecs_round_trip_values_built_from_input() {
        let input: Vec<u8> = (0..=255).collect();
        assert_eq!(codec_bincode(&input), Ok(()));
        #[cfg(feature = "postcard")]
        assert_eq!(codec_postcard(&input), Ok(()));
    }
}
