//! The sealed-record session that follows the handshake: what a peer without the session
//! keys, or a relay that alters the records, can make a node accept.

use super::{check, Input, Outcome, Violation};
use crate::transport::frame::{encode_frame, Frame, FrameDecoder, FrameKind, FRAME_HEADER_LEN};
use crate::transport::handshake::{Handshake, HandshakeConfig, Step, NONCE_LEN};
use crate::transport::session::{SessionDecoder, SessionKeys, MAX_RECORD_PAYLOAD};

/// Frame cap of the inner stream: small, so that oversize inner frames are reachable.
const MAX_FRAME: usize = 4096;

/// Input `mode | ...`. An even mode pushes arbitrary bytes, as records, to a node's session
/// (see `forged`); an odd mode seals frames built from the input and lets a relay flip one
/// byte of the records on the way (see `relayed`).
pub fn session(data: &[u8]) -> Outcome {
    let mut input = Input(data);
    let mode = input.byte();
    let (keys_a, keys_b) = established()?;
    if mode % 2 == 0 {
        forged(keys_b, input)
    } else {
        relayed(keys_a, keys_b, input)
    }
}

/// Keys of both ends of an honest handshake between `a` and `b`.
fn established() -> Result<(SessionKeys, SessionKeys), Violation> {
    let config = |name: &str| HandshakeConfig {
        name: name.into(),
        incarnation: 1,
        capabilities: 1,
        cookie: b"fuzz cookie".to_vec(),
    };
    let refused = |e| Violation::new(format!("an honest handshake failed: {e}"));
    let (mut a, hello_a) = Handshake::new(config("a"), [1; NONCE_LEN]).map_err(refused)?;
    let (mut b, hello_b) = Handshake::new(config("b"), [2; NONCE_LEN]).map_err(refused)?;
    let (Step::Send(proof_a), Step::Send(proof_b)) = (
        a.receive(&hello_b).map_err(refused)?,
        b.receive(&hello_a).map_err(refused)?,
    ) else {
        return Err(Violation::new("a Hello established a peer"));
    };
    match (
        a.receive(&proof_b).map_err(refused)?,
        b.receive(&proof_a).map_err(refused)?,
    ) {
        (Step::Established(_, keys_a), Step::Established(_, keys_b)) => Ok((*keys_a, *keys_b)),
        _ => Err(Violation::new("an honest handshake did not establish")),
    }
}

/// Every frame `decoder` yields from `wire` pushed in chunks of 1 to 256 bytes (sizes from
/// `input`), and whether it ended in an error.
fn drain(decoder: &mut SessionDecoder, wire: &[u8], input: &mut Input<'_>) -> (Vec<Frame>, bool) {
    let mut frames = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at((usize::from(input.byte()) + 1).min(rest.len()));
        rest = tail;
        decoder.push(chunk);
        loop {
            match decoder.next_borrowed() {
                Ok(Some((kind, body))) => frames.push(Frame::new(kind, body.to_vec())),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, decoder.finish().is_err())
}

/// Bytes from a party without the keys: whatever they are, no frame comes out of them.
fn forged(keys: SessionKeys, mut input: Input<'_>) -> Outcome {
    let wire = input.rest().to_vec();
    let mut decoder = SessionDecoder::new(FrameDecoder::new(MAX_FRAME), keys.open, MAX_FRAME);
    let (frames, _) = drain(&mut decoder, &wire, &mut Input(&wire));
    check(frames.is_empty(), || {
        format!("frames accepted without the keys: {frames:?}")
    })
}

/// Frames `count | (kind | len | body)*` from the input, and the inner stream they make.
fn frames(input: &mut Input<'_>) -> (Vec<Frame>, Vec<u8>) {
    let mut frames = Vec::new();
    let mut stream = Vec::new();
    for _ in 0..input.byte() % 8 {
        let kind = FrameKind::try_from(input.byte() % 7 + 2).unwrap_or(FrameKind::Message);
        let len = usize::from(input.u16()) % (2 * MAX_FRAME);
        let body = input.take(len).to_vec();
        if encode_frame(kind, &body, MAX_FRAME, &mut stream).is_ok() {
            frames.push(Frame::new(kind, body));
        }
    }
    (frames, stream)
}

/// Frames sealed by `a` in records cut where the input says, one wire byte flipped by a relay
/// where it says. `b` yields exactly the frames that end before the first altered record,
/// then fails; untouched, it yields all of them and the stream may end.
fn relayed(mut keys_a: SessionKeys, keys_b: SessionKeys, mut input: Input<'_>) -> Outcome {
    let (sent, stream) = frames(&mut input);
    let mut wire = Vec::new();
    // (wire offset where a record starts, inner bytes sealed before it)
    let mut records = Vec::new();
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let cut = (usize::from(input.u16()) % MAX_RECORD_PAYLOAD + 1).min(rest.len());
        let (payload, tail) = rest.split_at(cut);
        records.push((wire.len(), stream.len() - rest.len()));
        keys_a
            .seal
            .seal(payload, &mut wire)
            .map_err(|e| Violation::new(format!("sealing {cut} bytes failed: {e}")))?;
        rest = tail;
    }
    let (position, mask) = (usize::from(input.u16()), input.byte());
    let flipped = (mask != 0 && !wire.is_empty()).then(|| position % wire.len());
    if let Some(byte) = flipped.and_then(|at| wire.get_mut(at)) {
        *byte ^= mask;
    }
    // Inner bytes that arrive intact: all of them, or those sealed before the altered record.
    let intact = match flipped {
        None => stream.len(),
        Some(at) => records
            .iter()
            .rev()
            .find(|(start, _)| *start <= at)
            .map_or(0, |r| r.1),
    };
    let mut end = 0;
    let expected = sent
        .iter()
        .take_while(|frame| {
            end += FRAME_HEADER_LEN + frame.body.len();
            end <= intact
        })
        .count();
    let mut decoder = SessionDecoder::new(FrameDecoder::new(MAX_FRAME), keys_b.open, MAX_FRAME);
    let (received, failed) = drain(&mut decoder, &wire, &mut input);
    check(
        received.as_slice() == sent.get(..expected).unwrap_or_default(),
        || {
            format!(
                "sent {} frames, {expected} intact, received {received:?}",
                sent.len()
            )
        },
    )?;
    check(failed == flipped.is_some(), || {
        format!("a stream altered at {flipped:?} ended with failure {failed}")
    })
}

/// The keys of two ends of one handshake pair up: what one seals the other opens, and a
/// record reflected to its sender fails.
pub(super) fn keys_pair(a: &mut SessionKeys, b: &mut SessionKeys, payload: &[u8]) -> Outcome {
    let payload = payload
        .get(..MAX_RECORD_PAYLOAD.min(payload.len()))
        .unwrap_or_default();
    let seal = |keys: &mut SessionKeys| -> Result<Vec<u8>, Violation> {
        let mut record = Vec::new();
        keys.seal
            .seal(payload, &mut record)
            .map_err(|e| Violation::new(format!("sealing failed: {e}")))?;
        Ok(record.get(FRAME_HEADER_LEN..).unwrap_or_default().to_vec())
    };
    let (mut from_a, mut from_b) = (seal(a)?, seal(b)?);
    // Encrypted: 16 bytes or more of ciphertext equal to the payload would be a 2^-128
    // accident (a shorter one may match by chance).
    check(
        payload.len() < 16 || from_a.get(..payload.len()) != Some(payload),
        || "a record carries its payload in the clear".into(),
    )?;
    check(b.open.open(&mut from_a).ok() == Some(payload), || {
        "b cannot open a's record".into()
    })?;
    check(a.open.open(&mut from_b).ok() == Some(payload), || {
        "a cannot open b's record".into()
    })?;
    let mut reflected = seal(a)?;
    check(a.open.open(&mut reflected).is_err(), || {
        "a opened its own record".into()
    })
}
