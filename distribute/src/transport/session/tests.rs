//! Tests of the session: keys, records, and the decoder.

use super::*;
use crate::transport::frame::{encode_frame, DEFAULT_MAX_FRAME};
use crate::transport::handshake::{Handshake, HandshakeConfig, Step, NONCE_LEN};

fn config(name: &str, cookie: &[u8]) -> HandshakeConfig {
    HandshakeConfig {
        name: name.to_owned(),
        incarnation: 40 + name.len() as u64,
        capabilities: 0b11,
        cookie: cookie.to_vec(),
    }
}

/// Runs a whole handshake between "a" and "b" sharing `cookie`; returns a's keys and
/// b's keys.
fn session(cookie: &[u8], nonces: (u8, u8)) -> (SessionKeys, SessionKeys) {
    let (mut a, hello_a) = Handshake::new(config("a", cookie), [nonces.0; NONCE_LEN]).expect("config");
    let (mut b, hello_b) = Handshake::new(config("b", cookie), [nonces.1; NONCE_LEN]).expect("config");
    let Ok(Step::Send(proof_a)) = a.receive(&hello_b) else {
        panic!("a's proof")
    };
    let Ok(Step::Send(proof_b)) = b.receive(&hello_a) else {
        panic!("b's proof")
    };
    let Ok(Step::Established(_, keys_a)) = a.receive(&proof_b) else {
        panic!("a established")
    };
    let Ok(Step::Established(_, keys_b)) = b.receive(&proof_a) else {
        panic!("b established")
    };
    (*keys_a, *keys_b)
}

/// The hashed cookie, as the handshake computes it.
fn cookie_key(cookie: &[u8]) -> [u8; 32] {
    Sha256::new_with_prefix(b"distribute-cookie-v1")
        .chain_update(cookie)
        .finalize()
        .into()
}

fn keys() -> (SessionKeys, SessionKeys) {
    session(b"cookie", (1, 2))
}

/// Opens a copy of `record` (opening works in place): what `opener` makes of it.
fn open(opener: &mut Opener, record: &[u8]) -> Result<Vec<u8>, SessionError> {
    let mut copy = record.to_vec();
    opener.open(&mut copy).map(<[u8]>::to_vec)
}

/// One record sealed by `sealer`, as the body of its frame (`ciphertext || tag`).
fn record(sealer: &mut Sealer, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    sealer.seal(payload, &mut out).expect("seal");
    assert_eq!(out.len(), RECORD_OVERHEAD + payload.len());
    assert_eq!(out[4], FrameKind::Sealed.as_u8());
    out.split_off(FRAME_HEADER_LEN)
}

#[test]
fn records_round_trip_in_both_directions() {
    let (mut a, mut b) = keys();
    for payload in [&b"first"[..], b"", &[7; MAX_RECORD_PAYLOAD]] {
        let sealed = record(&mut a.seal, payload);
        assert_eq!(open(&mut b.open, &sealed), Ok(payload.to_vec()));
        let back = record(&mut b.seal, payload);
        assert_eq!(open(&mut a.open, &back), Ok(payload.to_vec()));
    }
    assert_eq!(a.seal.next_sequence(), 3);
    assert_eq!(b.open.next_sequence(), 3);
}

#[test]
fn a_record_carries_its_payload_encrypted() {
    let (mut a, mut b) = keys();
    let secret = b"the cookie of another cluster, say";
    let sealed = record(&mut a.seal, secret);
    assert!(!sealed.windows(8).any(|w| secret.windows(8).any(|s| s == w)));
    // The same payload sealed again (next nonce) gives another ciphertext.
    let again = record(&mut a.seal, secret);
    assert_ne!(sealed, again);
    assert_eq!(open(&mut b.open, &sealed), Ok(secret.to_vec()));
    assert_eq!(open(&mut b.open, &again), Ok(secret.to_vec()));
}

#[test]
fn altering_any_byte_of_a_record_fails_it() {
    let (mut a, _) = keys();
    let sealed = record(&mut a.seal, b"kill the actor, please");
    for index in 0..sealed.len() {
        for flip in [0x01, 0x80] {
            let (_, mut b) = keys();
            let mut altered = sealed.clone();
            altered[index] ^= flip;
            assert_eq!(
                open(&mut b.open, &altered),
                Err(SessionError::Forged { sequence: 0 }),
                "byte {index}"
            );
        }
    }
}

#[test]
fn replayed_reordered_and_dropped_records_fail() {
    let (mut a, _) = keys();
    let first = record(&mut a.seal, b"one");
    let second = record(&mut a.seal, b"two");
    // Replay.
    let (_, mut b) = keys();
    assert_eq!(open(&mut b.open, &first), Ok(b"one".to_vec()));
    assert_eq!(
        open(&mut b.open, &first),
        Err(SessionError::Forged { sequence: 1 })
    );
    // Reorder, or a dropped first record.
    let (_, mut b) = keys();
    assert_eq!(
        open(&mut b.open, &second),
        Err(SessionError::Forged { sequence: 0 })
    );
    // A failed opener stays failed, even for the right record.
    assert_eq!(
        open(&mut b.open, &first),
        Err(SessionError::Forged { sequence: 0 })
    );
}

#[test]
fn a_record_reflected_to_its_sender_fails() {
    let (mut a, _) = keys();
    let sealed = record(&mut a.seal, b"echo");
    assert_eq!(
        open(&mut a.open, &sealed),
        Err(SessionError::Forged { sequence: 0 })
    );
}

#[test]
fn keys_of_another_session_or_cookie_do_not_open() {
    let (mut a, _) = keys();
    let sealed = record(&mut a.seal, b"payload");
    // Same nodes and cookie, other nonces: another session.
    let (_, mut other) = session(b"cookie", (3, 4));
    assert_eq!(
        open(&mut other.open, &sealed),
        Err(SessionError::Forged { sequence: 0 })
    );
    // The same Hellos, another cookie key: what a relaying party without the cookie has.
    let (_, hello_a) = Handshake::new(config("a", b"cookie"), [1; NONCE_LEN]).expect("config");
    let (_, hello_b) = Handshake::new(config("b", b"cookie"), [2; NONCE_LEN]).expect("config");
    let mut guessed = SessionKeys::derive(&[0; 32], &hello_b, &hello_a).expect("derive");
    assert_eq!(
        open(&mut guessed.open, &sealed),
        Err(SessionError::Forged { sequence: 0 })
    );
    // The right derivation opens it (the test above is not vacuous).
    let (mut right_a, _) = session(b"cookie", (1, 2));
    let mut right_b = SessionKeys::derive(&cookie_key(b"cookie"), &hello_b, &hello_a).expect("derive");
    let again = record(&mut right_a.seal, b"payload");
    assert_eq!(open(&mut right_b.open, &again), Ok(b"payload".to_vec()));
}

#[test]
fn sizes_are_checked_on_both_sides() {
    let (mut a, mut b) = keys();
    let mut out = Vec::new();
    assert_eq!(
        a.seal.seal(&[0; MAX_RECORD_PAYLOAD + 1], &mut out),
        Err(SessionError::Oversize {
            len: MAX_RECORD_PAYLOAD + 1
        })
    );
    assert!(out.is_empty());
    assert_eq!(a.seal.next_sequence(), 0);
    assert_eq!(
        open(&mut b.open, &[0; TAG_LEN - 1]),
        Err(SessionError::Truncated { len: TAG_LEN - 1 })
    );
    let (_, mut b) = keys();
    assert_eq!(
        open(&mut b.open, &vec![0; MAX_RECORD_PAYLOAD + TAG_LEN + 1]),
        Err(SessionError::Oversize {
            len: MAX_RECORD_PAYLOAD + 1
        })
    );
}

#[test]
fn a_reserved_run_seals_exactly_its_records_in_order() {
    let (mut a, mut b) = keys();
    let batch = vec![9u8; 2 * MAX_RECORD_PAYLOAD + 10];
    let mut run = a.seal.reserve(batch.len()).expect("reserve");
    assert_eq!(a.seal.next_sequence(), 3);
    // What is sealed after the reservation goes out after the run: numbered after it.
    let mut later = Vec::new();
    a.seal.seal(b"later", &mut later).expect("seal");
    let mut wire = Vec::new();
    run.seal_all(&batch, &mut wire).expect("run");
    assert_eq!(run.seal(b"x", &mut Vec::new()), Err(SessionError::Exhausted));
    wire.extend_from_slice(&later);
    // The batch is not a frame stream: open the records one by one.
    let mut records = FrameDecoder::new(MAX_RECORD_FRAME);
    records.push(&wire);
    let mut opened = Vec::new();
    while let Ok(Some(frame)) = records.next() {
        opened.extend_from_slice(&open(&mut b.open, &frame.body).expect("opens"));
    }
    assert_eq!(opened, [batch.as_slice(), b"later"].concat());
    assert_eq!(b.open.next_sequence(), 4);
    assert!(a.seal.reserve(0).is_ok());
    assert_eq!(a.seal.next_sequence(), 4);
}

/// Frames of several kinds, sealed in records cut at arbitrary places.
fn sealed_stream(sealer: &mut Sealer, cut: usize) -> (Vec<u8>, Vec<(FrameKind, Vec<u8>)>) {
    let frames: Vec<(FrameKind, Vec<u8>)> = (0..40u8)
        .map(|i| {
            let kind = [FrameKind::Message, FrameKind::Reply, FrameKind::Heartbeat][usize::from(i % 3)];
            (kind, vec![i; usize::from(i) * 97])
        })
        .collect();
    let mut inner = Vec::new();
    for (kind, body) in &frames {
        encode_frame(*kind, body, DEFAULT_MAX_FRAME, &mut inner).expect("frame");
    }
    let mut wire = Vec::new();
    for chunk in inner.chunks(cut) {
        sealer.seal(chunk, &mut wire).expect("seal");
    }
    (wire, frames)
}

#[test]
fn the_session_decoder_yields_the_inner_frames_across_any_cuts() {
    for cut in [1, 7, 100, 4096, MAX_RECORD_PAYLOAD] {
        let (mut a, b) = keys();
        let (wire, frames) = sealed_stream(&mut a.seal, cut);
        let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, DEFAULT_MAX_FRAME);
        let mut got = Vec::new();
        for read in wire.chunks(333) {
            decoder.push(read);
            while let Some((kind, body)) = decoder.next_borrowed().expect("valid") {
                got.push((kind, body.to_vec()));
            }
        }
        assert_eq!(got, frames, "records cut every {cut} bytes");
        assert_eq!(decoder.finish(), Ok(()));
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn the_session_decoder_refuses_unsealed_frames_and_forged_records() {
    let (_, b) = keys();
    let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, DEFAULT_MAX_FRAME);
    let mut plain = Vec::new();
    encode_frame(FrameKind::Signal, b"kill", DEFAULT_MAX_FRAME, &mut plain).expect("frame");
    decoder.push(&plain);
    let unsealed = Err(SessionError::Unsealed {
        kind: FrameKind::Signal,
    });
    assert_eq!(decoder.next_borrowed(), unsealed);
    assert_eq!(decoder.next_borrowed(), unsealed);
    assert_eq!(
        decoder.finish(),
        Err(SessionError::Unsealed {
            kind: FrameKind::Signal
        })
    );

    // A record sealed with a made-up key, carrying a valid inner frame.
    let (mut mallory, _) = session(b"guess", (1, 2));
    let (_, b) = keys();
    let mut forged = Vec::new();
    mallory.seal.seal(&plain, &mut forged).expect("seal");
    let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, DEFAULT_MAX_FRAME);
    decoder.push(&forged);
    assert_eq!(decoder.next_borrowed(), Err(SessionError::Forged { sequence: 0 }));

    // A record frame over the cap is refused from its header.
    let (_, b) = keys();
    let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, DEFAULT_MAX_FRAME);
    decoder.push(&[0, 1, 0, 0x12, FrameKind::Sealed.as_u8()]);
    assert!(matches!(
        decoder.next_borrowed(),
        Err(SessionError::Frame(FrameError::Oversize { .. }))
    ));
}

#[test]
fn the_inner_frame_cap_still_holds_inside_records() {
    let (mut a, b) = keys();
    let mut inner = Vec::new();
    encode_frame(FrameKind::Message, &[0; 200], DEFAULT_MAX_FRAME, &mut inner).expect("frame");
    let mut wire = Vec::new();
    a.seal.seal_all(&inner, &mut wire).expect("seal");
    let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, 100);
    decoder.push(&wire);
    assert_eq!(
        decoder.next_borrowed(),
        Err(SessionError::Frame(FrameError::Oversize {
            claimed: 201,
            limit: 100
        }))
    );
    // Half a record, then the end of the stream.
    let (mut a, b) = keys();
    let mut wire = Vec::new();
    a.seal.seal(b"cut short", &mut wire).expect("seal");
    let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, 100);
    decoder.push(&wire[..10]);
    assert_eq!(decoder.next_borrowed(), Ok(None));
    assert!(matches!(
        decoder.finish(),
        Err(SessionError::Frame(FrameError::Truncated { .. }))
    ));
}

#[test]
fn random_bytes_never_panic_and_never_open() {
    let mut rng = fastrand::Rng::with_seed(0x5eed_5e55_1011);
    for round in 0..3000 {
        let len = rng.usize(..300);
        let mut bytes = vec![0; len];
        rng.fill(&mut bytes);
        if round % 2 == 1 && len >= 5 {
            // Steer half of them into a plausible record header.
            let body = u32::try_from(len - 4).expect("small");
            bytes[..4].copy_from_slice(&body.to_be_bytes());
            bytes[4] = FrameKind::Sealed.as_u8();
        }
        let (_, b) = keys();
        let mut decoder = SessionDecoder::new(FrameDecoder::new(64), b.open, DEFAULT_MAX_FRAME);
        decoder.push(&bytes);
        assert!(!matches!(decoder.next_borrowed(), Ok(Some(_))), "round {round}");
        let (_, mut b) = keys();
        assert!(open(&mut b.open, &bytes).is_err());
    }
}

#[test]
fn debug_output_never_shows_keys() {
    let (a, _) = keys();
    let text = format!("{a:?}");
    assert!(
        text.contains("<redacted>") && !text.contains("LessSafeKey"),
        "{text}"
    );
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SessionKeys>();
    assert_send_sync::<SessionDecoder>();
    assert_send_sync::<SessionError>();
}

#[test]
fn a_record_sealed_in_parts_is_the_record_sealed_whole() {
    let (a, _) = keys();
    let (mut whole, mut parts) = (a.seal.clone(), a.seal);
    for payload in [&b""[..], b"frames", &[3; MAX_RECORD_PAYLOAD]] {
        let mut out = Vec::new();
        whole.seal(payload, &mut out).expect("seal");
        let mut in_place = payload.to_vec();
        let (header, tag) = parts.seal_parts(&mut in_place).expect("seal");
        assert_eq!(out, [&header[..], &in_place, &tag[..]].concat());
        assert!(payload.len() < 16 || in_place != payload, "encrypted in place");
    }
    assert_eq!(parts.next_sequence(), 3);
    let mut oversize = vec![0; MAX_RECORD_PAYLOAD + 1];
    assert_eq!(
        parts.seal_parts(&mut oversize),
        Err(SessionError::Oversize {
            len: MAX_RECORD_PAYLOAD + 1
        })
    );
    assert!(
        oversize.iter().all(|byte| *byte == 0),
        "a refused payload is unchanged"
    );
    assert_eq!(
        parts.next_sequence(),
        3,
        "a refused payload uses no sequence number"
    );
}

#[test]
fn a_large_frame_read_straight_into_the_decoder_spans_its_records() {
    let body: Vec<u8> = (0..MAX_RECORD_PAYLOAD + 777).map(|i| (i % 253) as u8).collect();
    let mut frames = Vec::new();
    encode_frame(FrameKind::Message, &body, DEFAULT_MAX_FRAME, &mut frames).expect("frame");
    encode_frame(FrameKind::Heartbeat, b"", DEFAULT_MAX_FRAME, &mut frames).expect("frame");
    for room in [1, 4096, MAX_RECORD_FRAME + 4, 4 * MAX_RECORD_FRAME] {
        let (mut a, b) = keys();
        let mut wire = Vec::new();
        a.seal.seal_all(&frames, &mut wire).expect("seal");
        let mut decoder = SessionDecoder::new(FrameDecoder::default(), b.open, DEFAULT_MAX_FRAME);
        let mut got = Vec::new();
        for chunk in wire.chunks(room) {
            let (buf, _) = decoder.read_buffer();
            buf.extend_from_slice(chunk);
            while let Some((kind, frame)) = decoder.next_borrowed().expect("valid") {
                got.push((kind, frame.to_vec()));
            }
        }
        assert_eq!(
            got,
            [
                (FrameKind::Message, body.clone()),
                (FrameKind::Heartbeat, Vec::new())
            ]
        );
        assert_eq!(decoder.finish(), Ok(()));
    }
}

/// Feeds `wire` to `decoder` through its read buffer, in reads of the sizes `rng`
/// draws (at most what the decoder asks for), and collects the frames.
fn read_all(decoder: &mut SessionDecoder, wire: &[u8], rng: &mut fastrand::Rng) -> Vec<(FrameKind, Vec<u8>)> {
    let mut got = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let (buf, room) = decoder.read_buffer();
        let take = rng.usize(1..=room.min(rest.len()));
        buf.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        while let Some((kind, frame)) = decoder.next_borrowed().expect("valid") {
            got.push((kind, frame.to_vec()));
        }
    }
    got
}

#[test]
fn frames_of_any_size_come_out_whole_across_any_records_and_reads() {
    let mut rng = fastrand::Rng::with_seed(0xae_ad);
    for round in 0..40 {
        let frames: Vec<(FrameKind, Vec<u8>)> = (0..rng.usize(1..12))
            .map(|i| {
                let len = [rng.usize(..100), rng.usize(..70_000), rng.usize(..300_000)][i % 3];
                (FrameKind::Message, (0..len).map(|_| rng.u8(..)).collect())
            })
            .collect();
        let mut inner = Vec::new();
        for (kind, body) in &frames {
            encode_frame(*kind, body, DEFAULT_MAX_FRAME, &mut inner).expect("frame");
        }
        let (mut a, b) = keys();
        let mut wire = Vec::new();
        let mut rest = inner.as_slice();
        while !rest.is_empty() {
            let cut = rng.usize(1..=MAX_RECORD_PAYLOAD).min(rest.len());
            a.seal.seal(&rest[..cut], &mut wire).expect("seal");
            rest = &rest[cut..];
        }
        let mut decoder = SessionDecoder::new(FrameDecoder::default(), b.open, DEFAULT_MAX_FRAME);
        assert_eq!(read_all(&mut decoder, &wire, &mut rng), frames, "round {round}");
        assert_eq!(decoder.finish(), Ok(()));
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn tiny_records_do_not_make_the_decoder_hold_their_headers_and_tags() {
    // A 200 KiB frame in records of one byte each: 21 bytes of header and tag per byte
    // of payload, 4.4 MB on the wire. The decoder holds the frame, not the gaps.
    let body = vec![5u8; 200 * 1024];
    let mut inner = Vec::new();
    encode_frame(FrameKind::Message, &body, DEFAULT_MAX_FRAME, &mut inner).expect("frame");
    let (mut a, b) = keys();
    let mut wire = Vec::new();
    for byte in inner.chunks(1) {
        a.seal.seal(byte, &mut wire).expect("seal");
    }
    let mut decoder = SessionDecoder::new(FrameDecoder::default(), b.open, DEFAULT_MAX_FRAME);
    let mut most = 0;
    let mut got = Vec::new();
    for read in wire.chunks(READ_ROOM) {
        let (buf, _) = decoder.read_buffer();
        buf.extend_from_slice(read);
        most = most.max(decoder.buf.capacity());
        while let Some((kind, frame)) = decoder.next_borrowed().expect("valid") {
            got.push((kind, frame.to_vec()));
        }
    }
    assert_eq!(got, [(FrameKind::Message, body)]);
    assert!(
        most <= inner.len() + READ_ROOM + 2 * GROWTH,
        "buffer grew to {most} bytes for a frame of {}",
        inner.len()
    );
}

#[test]
fn a_decoder_that_took_over_the_handshake_stream_keeps_its_records_or_its_error() {
    let (mut a, b) = keys();
    let mut inner = Vec::new();
    encode_frame(FrameKind::Heartbeat, b"", DEFAULT_MAX_FRAME, &mut inner).expect("frame");
    let mut wire = Vec::new();
    a.seal.seal(&inner, &mut wire).expect("seal");
    // The handshake's decoder read the first record along with the last handshake frame.
    let mut handshake = FrameDecoder::new(64);
    let mut stream = Vec::new();
    encode_frame(FrameKind::Handshake, b"proof", 64, &mut stream).expect("frame");
    stream.extend_from_slice(&wire);
    handshake.push(&stream);
    assert!(matches!(
        handshake.next_borrowed(),
        Ok(Some((FrameKind::Handshake, _)))
    ));
    let mut decoder = SessionDecoder::new(handshake, b.open, DEFAULT_MAX_FRAME);
    assert_eq!(
        decoder.next_borrowed(),
        Ok(Some((FrameKind::Heartbeat, &b""[..])))
    );
    // A handshake decoder that failed hands its error over.
    let mut broken = FrameDecoder::new(64);
    broken.push(&[0, 0, 0, 0]);
    assert_eq!(broken.next_borrowed(), Err(FrameError::Empty));
    let (_, b) = keys();
    let mut decoder = SessionDecoder::new(broken, b.open, DEFAULT_MAX_FRAME);
    assert_eq!(
        decoder.next_borrowed(),
        Err(SessionError::Frame(FrameError::Empty))
    );
}
