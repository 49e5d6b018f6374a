//! Length-prefixed frames: the unit in which two nodes talk.
//!
//! ```text
//!  0        4      5                      4 + length
//!  +--------+------+----------------------+
//!  | length | kind | body                 |
//!  | u32 BE | u8   | length - 1 bytes     |
//!  +--------+------+----------------------+
//! ```
//!
//! `length` counts the kind byte and the body, not the four length bytes, so the smallest frame
//! is five bytes long (a kind and an empty body) and a length of 0 is malformed. Every frame is
//! capped: a sender refuses to build a frame whose length exceeds its cap
//! ([`FrameError::PayloadTooLarge`]), and a receiver rejects a larger claim as soon as it has
//! the four length bytes ([`FrameError::Oversize`]), before it buffers a single body byte, so a
//! forged length never makes it allocate.
//!
//! [`FrameDecoder`] is incremental and does no I/O: the connection pushes whatever bytes the
//! socket returned and pulls complete frames out, in order. Any error is final: the byte
//! stream has lost its framing and cannot be resynchronised, so the decoder keeps returning
//! the same error and the connection must be closed.

/// The default cap on a frame's `length` field (kind byte plus body): 4 MiB.
pub const DEFAULT_MAX_FRAME: usize = 4 * 1024 * 1024;

/// Bytes in front of a frame's body: the 4-byte length and the kind byte.
pub const FRAME_HEADER_LEN: usize = 5;

/// Bytes of the length field.
const LENGTH_LEN: usize = 4;

/// A drained decoder keeps a buffer up to this capacity for the next frames; a larger one
/// (left over from a big frame) is released, so an idle connection does not pin megabytes.
/// Room for two full session records and a read: a busy connection's record decoder reuses
/// its buffer instead of allocating one per record.
const RETAINED_CAPACITY: usize = 256 * 1024;

/// What a frame carries, from its kind byte.
///
/// The byte values are part of the wire protocol and never change; 0 is deliberately unused,
/// so a run of zero bytes is never a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum FrameKind {
    /// One handshake message (`Hello` or `Proof`, see [`super::handshake`]).
    Handshake = 1,
    /// A message to an actor (a tell or the request of an ask).
    Message = 2,
    /// The reply to an ask.
    Reply = 3,
    /// A signal: exit, link, monitor or down notification.
    Signal = 4,
    /// A liveness probe; its body is empty.
    Heartbeat = 5,
    /// Global registry and process group traffic.
    Registry = 6,
    /// An orderly close, with the reason in the body.
    Close = 7,
    /// One sealed record of the session that follows the handshake: a slice of the inner
    /// stream of frames, then a 16-byte tag (see [`super::session`]). After the handshake it
    /// is the only kind on the wire; every other frame travels inside records.
    Sealed = 8,
    /// Remote spawn: a request to start an actor of a named type, and its answer.
    Spawn = 9,
    /// A message to an actor sent from inside a traced span: a W3C trace context
    /// ([`TRACE_CONTEXT_LEN`](crate::trace::TRACE_CONTEXT_LEN) bytes, see
    /// [`TraceContext`](crate::trace::TraceContext)), then the body of a `Message` frame.
    /// Untraced messages go as `Message` and pay nothing for tracing.
    TracedMessage = 10,
    /// Introspection: a request for a node's snapshot of itself, and its answer.
    Introspect = 11,
}

impl FrameKind {
    /// The byte that encodes this kind on the wire.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

impl From<FrameKind> for u8 {
    fn from(kind: FrameKind) -> u8 {
        kind.as_u8()
    }
}

impl TryFrom<u8> for FrameKind {
    type Error = FrameError;

    /// Reads a kind byte; a byte that names no kind is [`FrameError::UnknownKind`].
    fn try_from(byte: u8) -> Result<Self, FrameError> {
        Ok(match byte {
            1 => FrameKind::Handshake,
            2 => FrameKind::Message,
            3 => FrameKind::Reply,
            4 => FrameKind::Signal,
            5 => FrameKind::Heartbeat,
            6 => FrameKind::Registry,
            7 => FrameKind::Close,
            8 => FrameKind::Sealed,
            9 => FrameKind::Spawn,
            10 => FrameKind::TracedMessage,
            11 => FrameKind::Introspect,
            other => return Err(FrameError::UnknownKind(other)),
        })
    }
}

/// Why a frame could not be encoded or decoded.
///
/// Every decoding error means the peer's byte stream is broken or hostile: the connection must
/// be closed, with this error as the logged reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Encoding: the frame (kind byte plus body) would exceed the cap. Nothing was written.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The frame's `length`: body length plus one.
        size: usize,
        /// The cap in force (never above `u32::MAX`, the largest length the header can hold).
        limit: usize,
    },
    /// Decoding: the peer announced a frame longer than the cap. Detected from the length
    /// field alone; the body was neither buffered nor allocated.
    #[error("peer announced a frame of {claimed} bytes, over the limit of {limit} bytes")]
    Oversize {
        /// The length the peer announced.
        claimed: usize,
        /// The receiver's cap.
        limit: usize,
    },
    /// Decoding: the peer sent a length of 0, a frame without even a kind byte.
    #[error("peer sent a frame of length 0")]
    Empty,
    /// Decoding: the kind byte names no [`FrameKind`].
    #[error("peer sent a frame of unknown kind {0:#04x}")]
    UnknownKind(u8),
    /// Decoding: the stream ended in the middle of a frame ([`FrameDecoder::finish`]).
    #[error("stream ended inside a frame, with {buffered} bytes of it received")]
    Truncated {
        /// Bytes of the unfinished frame that had arrived.
        buffered: usize,
    },
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What the body carries.
    pub kind: FrameKind,
    /// The body, without the header.
    pub body: Vec<u8>,
}

impl Frame {
    /// A frame of `kind` carrying `body`.
    pub fn new(kind: FrameKind, body: Vec<u8>) -> Self {
        Frame { kind, body }
    }

    /// Appends this frame's wire form to `out`; see [`encode_frame`].
    pub fn encode(&self, max: usize, out: &mut Vec<u8>) -> Result<(), FrameError> {
        encode_frame(self.kind, &self.body, max, out)
    }
}

/// Appends one frame (header, then `body`) to `out`.
///
/// `max` caps the frame's `length` (kind byte plus body), as [`FrameDecoder::new`] does on the
/// receiving side; [`DEFAULT_MAX_FRAME`] unless configured. Appending lets a writer batch
/// many frames into one buffer and one syscall.
///
/// # Errors
///
/// [`FrameError::PayloadTooLarge`] when `body.len() + 1` exceeds `max` (or `u32::MAX`);
/// `out` is then left exactly as it was.
///
/// # Example
///
/// ```
/// use distribute::transport::frame::{encode_frame, FrameKind, DEFAULT_MAX_FRAME};
///
/// let mut out = Vec::new();
/// encode_frame(FrameKind::Message, b"hi", DEFAULT_MAX_FRAME, &mut out)?;
/// assert_eq!(out, [0, 0, 0, 3, FrameKind::Message.as_u8(), b'h', b'i']);
/// # Ok::<(), distribute::transport::frame::FrameError>(())
/// ```
pub fn encode_frame(kind: FrameKind, body: &[u8], max: usize, out: &mut Vec<u8>) -> Result<(), FrameError> {
    let size = body.len().saturating_add(1);
    let limit = max.min(usize::try_from(u32::MAX).unwrap_or(usize::MAX));
    let length = match u32::try_from(size) {
        Ok(length) if size <= limit => length,
        _ => return Err(FrameError::PayloadTooLarge { size, limit }),
    };
    out.reserve(LENGTH_LEN + size);
    out.extend_from_slice(&length.to_be_bytes());
    out.push(kind.as_u8());
    out.extend_from_slice(body);
    Ok(())
}

/// Splits a byte stream into frames, incrementally and without I/O.
///
/// Push bytes as they arrive with [`push`](Self::push), then call [`next`](Self::next) until
/// it returns `Ok(None)`. Unconsumed bytes are kept in one buffer read from a moving offset;
/// they are moved to the front only when the buffer would otherwise have to grow, so each
/// byte is copied at most about twice on its way in (once into the buffer, amortised once by
/// compaction) plus once into its frame's body.
///
/// # Example
///
/// ```
/// use distribute::transport::frame::{encode_frame, FrameDecoder, FrameKind, DEFAULT_MAX_FRAME};
///
/// let mut wire = Vec::new();
/// encode_frame(FrameKind::Heartbeat, b"", DEFAULT_MAX_FRAME, &mut wire)?;
/// encode_frame(FrameKind::Message, b"hello", DEFAULT_MAX_FRAME, &mut wire)?;
///
/// let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME);
/// decoder.push(&wire[..7]); // a read may end anywhere
/// assert_eq!(decoder.next()?.map(|f| f.kind), Some(FrameKind::Heartbeat));
/// assert_eq!(decoder.next()?, None); // the second frame is incomplete
/// decoder.push(&wire[7..]);
/// assert_eq!(decoder.next()?.map(|f| f.body), Some(b"hello".to_vec()));
/// # Ok::<(), distribute::transport::frame::FrameError>(())
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    /// Cap on a frame's `length` field.
    max: usize,
    /// Received bytes; `buf[start..]` is not yet consumed.
    buf: Vec<u8>,
    /// Read offset into `buf`; always `<= buf.len()`.
    start: usize,
    /// The first error, returned again by every later call.
    failed: Option<FrameError>,
}

impl Default for FrameDecoder {
    /// A decoder with the [`DEFAULT_MAX_FRAME`] cap.
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameDecoder {
    /// A decoder that accepts frames whose `length` (kind byte plus body) is at most `max`.
    pub fn new(max: usize) -> Self {
        FrameDecoder {
            max,
            buf: Vec::new(),
            start: 0,
            failed: None,
        }
    }

    /// The cap on a frame's `length` field.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Changes the cap for the frames not yet returned, e.g. from a small handshake cap to the
    /// configured one once the peer is authenticated.
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    /// Bytes received and not yet returned as part of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The error that stopped this decoder, if any.
    pub fn error(&self) -> Option<&FrameError> {
        self.failed.as_ref()
    }

    /// Appends bytes received from the peer. After an error they are discarded.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() || bytes.is_empty() {
            return;
        }
        self.make_room(bytes.len(), 0);
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer to read the next bytes from the peer into, with room for at least `room`
    /// bytes past what it holds: a connection reads straight into it (appending, e.g. with
    /// `AsyncReadExt::read_buf` limited to `room`) instead of reading into a buffer of its
    /// own and [`push`](Self::push)ing a copy. Bytes appended after an error are discarded.
    ///
    /// `room` is the caller's choice, not the peer's: what the buffer holds beyond `room`
    /// is the unfinished frame, which the cap bounds. A buffer that must grow grows to
    /// [`RETAINED_CAPACITY`] past what it holds (256 KiB for a drained one, which it then
    /// keeps), so that the unfinished frame moves to the front once every few reads.
    pub fn read_buffer(&mut self, room: usize) -> &mut Vec<u8> {
        if self.failed.is_some() {
            self.buf.clear();
            self.start = 0;
        }
        self.make_room(room, RETAINED_CAPACITY.saturating_sub(room));
        &mut self.buf
    }

    /// Bytes still missing from the frame being received, once its length field has
    /// arrived (and is within the cap); `None` before that, or when a whole frame is
    /// buffered. Lets a reader read exactly to a large frame's end, so that the buffer is
    /// drained and starts over instead of moving the next frame's head to its front.
    pub fn missing(&self) -> Option<usize> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        let length = pending.first_chunk::<LENGTH_LEN>()?;
        let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
        if self.failed.is_some() || length > self.max {
            return None;
        }
        length
            .checked_add(LENGTH_LEN)?
            .checked_sub(pending.len())
            .filter(|n| *n > 0)
    }

    /// Makes room for `room` more bytes. A drained buffer starts over (and is released if a
    /// big frame left it larger than [`RETAINED_CAPACITY`]); otherwise the consumed prefix
    /// (less than one frame) is moved out only when the room is short, and a buffer still
    /// short grows by `slack` more than the room (`0`: as `Vec` grows), so that what moves
    /// moves once every few reads, not on every one.
    fn make_room(&mut self, room: usize, slack: usize) {
        if self.start == self.buf.len() {
            if self.buf.capacity() > RETAINED_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.start = 0;
        }
        if self.buf.capacity() - self.buf.len() >= room {
            return;
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if slack > 0 && self.buf.capacity() - self.buf.len() < room {
            // Once: from then on the unfinished frame (at most what `slack` was chosen to
            // cover) plus `room` fit after every move.
            self.buf.reserve_exact(room.saturating_add(slack));
        }
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    ///
    /// [`FrameError::Oversize`], [`FrameError::Empty`] or [`FrameError::UnknownKind`] when the
    /// stream is malformed. The decoder then stays failed: every later call returns the same
    /// error, and the connection must be closed.
    #[allow(
        clippy::should_implement_trait,
        reason = "fallible, and `None` means 'not yet', not 'done'"
    )]
    pub fn next(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.decode() {
            Ok(frame) => Ok(frame),
            Err(error) => {
                self.failed = Some(error.clone());
                self.buf = Vec::new();
                self.start = 0;
                Err(error)
            }
        }
    }

    /// Like [`next`](Self::next), but lends the body instead of copying it: the frame stays
    /// valid until the decoder is used again. What a connection's reader uses, so that a
    /// frame costs no allocation of its own.
    ///
    /// # Errors
    ///
    /// As [`next`](Self::next).
    pub fn next_borrowed(&mut self) -> Result<Option<(FrameKind, &[u8])>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.locate() {
            Ok(None) => Ok(None),
            Ok(Some((kind, body_start, end))) => {
                self.start = end;
                Ok(Some((kind, self.buf.get(body_start..end).unwrap_or_default())))
            }
            Err(error) => {
                self.failed = Some(error.clone());
                self.buf = Vec::new();
                self.start = 0;
                Err(error)
            }
        }
    }

    /// Whether [`next`](Self::next) would return something now: a complete frame, or an
    /// error. Consumes nothing; lets a caller that feeds the decoder from another source
    /// decide whether to feed it more first.
    pub fn is_ready(&self) -> bool {
        self.failed.is_some() || !matches!(self.locate(), Ok(None))
    }

    /// Checks that the stream may end here: call it when the peer closes its side.
    ///
    /// # Errors
    ///
    /// [`FrameError::Truncated`] if part of a frame is buffered; the decoder's own error if it
    /// had already failed.
    pub fn finish(&self) -> Result<(), FrameError> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None if self.buffered() > 0 => Err(FrameError::Truncated {
                buffered: self.buffered(),
            }),
            None => Ok(()),
        }
    }

    /// Finds the next complete frame: its kind, and where its body starts and the frame ends
    /// (offsets into `buf`). Consumes nothing.
    fn locate(&self) -> Result<Option<(FrameKind, usize, usize)>, FrameError> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        Ok(locate_frame(pending, self.max)?
            .map(|(kind, body_start, end)| (kind, self.start + body_start, self.start + end)))
    }

    /// The bytes received and not yet returned as frames, and the decoder's error if it
    /// failed: what a decoder that takes over the stream starts from.
    pub(crate) fn into_pending(mut self) -> (Vec<u8>, Option<FrameError>) {
        self.buf.drain(..self.start);
        (self.buf, self.failed)
    }

    fn decode(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some((kind, body_start, end)) = self.locate()? else {
            return Ok(None);
        };
        let frame = Frame {
            kind,
            body: self.buf.get(body_start..end).unwrap_or_default().to_vec(),
        };
        self.start = end;
        if self.start == self.buf.len() {
            self.start = 0;
            if self.buf.capacity() > RETAINED_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        }
        Ok(Some(frame))
    }
}

/// Finds the first complete frame of `pending` under the cap `max`: its kind, and where its
/// body starts and the frame ends (offsets into `pending`); `Ok(None)` if it is not whole
/// yet. The length and the kind are checked as soon as they arrive, so garbage and an
/// oversize claim are refused before a body is awaited.
pub(crate) fn locate_frame(
    pending: &[u8],
    max: usize,
) -> Result<Option<(FrameKind, usize, usize)>, FrameError> {
    let Some(length) = pending.first_chunk::<LENGTH_LEN>() else {
        return Ok(None);
    };
    let length = usize::try_from(u32::from_be_bytes(*length)).unwrap_or(usize::MAX);
    if length == 0 {
        return Err(FrameError::Empty);
    }
    if length > max {
        return Err(FrameError::Oversize {
            claimed: length,
            limit: max,
        });
    }
    let Some(&kind) = pending.get(LENGTH_LEN) else {
        return Ok(None);
    };
    let kind = FrameKind::try_from(kind)?;
    let Some(total) = length.checked_add(LENGTH_LEN) else {
        return Err(FrameError::Oversize {
            claimed: length,
            limit: max,
        });
    };
    if pending.len() < total {
        return Ok(None);
    }
    Ok(Some((kind, FRAME_HEADER_LEN, total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_KINDS: [FrameKind; 11] = [
        FrameKind::Handshake,
        FrameKind::Message,
        FrameKind::Reply,
        FrameKind::Signal,
        FrameKind::Heartbeat,
        FrameKind::Registry,
        FrameKind::Close,
        FrameKind::Sealed,
        FrameKind::Spawn,
        FrameKind::TracedMessage,
        FrameKind::Introspect,
    ];

    /// `len` bytes from `rng`: reproducible garbage, since the seed is fixed.
    fn random_bytes(rng: &mut fastrand::Rng, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        rng.fill(&mut bytes);
        bytes
    }

    fn encode(kind: FrameKind, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(kind, body, DEFAULT_MAX_FRAME, &mut out).expect("frame fits");
        out
    }

    /// Pulls frames until the decoder needs more bytes.
    fn drain(decoder: &mut FrameDecoder) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next().expect("valid stream") {
            frames.push(frame);
        }
        frames
    }

    /// Pulls frames until the decoder waits or fails, counting them.
    #[test]
    fn borrowed_frames_match_owned_ones_across_any_split() {
        let mut wire = Vec::new();
        for (kind, body) in [
            (FrameKind::Message, &b"first"[..]),
            (FrameKind::Heartbeat, b""),
            (FrameKind::Reply, b"third"),
        ] {
            encode_frame(kind, body, DEFAULT_MAX_FRAME, &mut wire).unwrap_or_default();
        }
        for split in 0..wire.len() {
            let mut owned = FrameDecoder::default();
            let mut borrowed = FrameDecoder::default();
            let mut expected = Vec::new();
            let mut got = Vec::new();
            for part in [&wire[..split], &wire[split..]] {
                owned.push(part);
                borrowed.push(part);
                while let Ok(Some(frame)) = owned.next() {
                    expected.push((frame.kind, frame.body));
                }
                while let Ok(Some((kind, body))) = borrowed.next_borrowed() {
                    got.push((kind, body.to_vec()));
                }
            }
            assert_eq!(got, expected, "split at {split}");
            assert_eq!(got.len(), 3);
            assert_eq!(borrowed.finish(), Ok(()));
        }
        let mut bad = FrameDecoder::new(8);
        bad.push(&[0, 0, 1, 0, 2]);
        assert!(matches!(bad.next_borrowed(), Err(FrameError::Oversize { .. })));
        assert!(bad.next_borrowed().is_err());
    }

    fn decode_all(decoder: &mut FrameDecoder) -> Result<usize, FrameError> {
        let mut count = 0;
        while decoder.next()?.is_some() {
            count += 1;
        }
        Ok(count)
    }

    fn sample_frames() -> Vec<Frame> {
        vec![
            Frame::new(FrameKind::Handshake, b"hello".to_vec()),
            Frame::new(FrameKind::Heartbeat, Vec::new()),
            Frame::new(FrameKind::Message, (0..=255).collect()),
            Frame::new(FrameKind::Close, b"bye".to_vec()),
        ]
    }

    #[test]
    fn kind_bytes_round_trip_and_others_are_unknown() {
        for kind in ALL_KINDS {
            assert_eq!(FrameKind::try_from(kind.as_u8()), Ok(kind));
            assert_eq!(u8::from(kind), kind.as_u8());
        }
        for byte in (0..=255u8).filter(|b| !(1..=11).contains(b)) {
            assert_eq!(FrameKind::try_from(byte), Err(FrameError::UnknownKind(byte)));
        }
    }

    #[test]
    fn encoding_writes_big_endian_length_of_kind_plus_body() {
        let wire = encode(FrameKind::Reply, &[9; 300]);
        assert_eq!(wire[..5], [0, 0, 1, 45, 3]);
        assert_eq!(wire.len(), 5 + 300);
        assert_eq!(encode(FrameKind::Heartbeat, b""), [0, 0, 0, 1, 5]);
    }

    #[test]
    fn every_kind_and_body_round_trips() {
        for kind in ALL_KINDS {
            for len in [0, 1, 4, 5, 1000] {
                let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut decoder = FrameDecoder::default();
                decoder.push(&encode(kind, &body));
                assert_eq!(decoder.next(), Ok(Some(Frame { kind, body })));
                assert_eq!(decoder.next(), Ok(None));
                assert_eq!(decoder.buffered(), 0);
                assert_eq!(decoder.finish(), Ok(()));
            }
        }
    }

    #[test]
    fn frame_of_exactly_the_cap_is_accepted_one_more_byte_is_not() {
        let max = 16;
        let mut out = Vec::new();
        encode_frame(FrameKind::Message, &[1; 15], max, &mut out).expect("length 16 fits a cap of 16");
        let mut decoder = FrameDecoder::new(max);
        decoder.push(&out);
        assert_eq!(decoder.next().map(|f| f.map(|f| f.body.len())), Ok(Some(15)));

        let before = b"previous frames".to_vec();
        let mut out = before.clone();
        assert_eq!(
            encode_frame(FrameKind::Message, &[1; 16], max, &mut out),
            Err(FrameError::PayloadTooLarge { size: 17, limit: 16 })
        );
        assert_eq!(out, before, "output untouched on error");
        assert_eq!(out.capacity(), before.capacity(), "nothing reserved on error");
    }

    #[test]
    fn many_frames_in_one_push_come_out_in_order() {
        let frames: Vec<Frame> = (0..1000u32)
            .map(|i| {
                Frame::new(
                    ALL_KINDS[i as usize % ALL_KINDS.len()],
                    i.to_be_bytes().repeat(i as usize % 5),
                )
            })
            .collect();
        let mut wire = Vec::new();
        for frame in &frames {
            frame.encode(DEFAULT_MAX_FRAME, &mut wire).expect("fits");
        }
        let mut decoder = FrameDecoder::default();
        decoder.push(&wire);
        assert_eq!(drain(&mut decoder), frames);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn a_stream_split_at_every_byte_boundary_decodes_the_same() {
        let frames = sample_frames();
        let mut wire = Vec::new();
        for frame in &frames {
            frame.encode(DEFAULT_MAX_FRAME, &mut wire).expect("fits");
        }
        for split in 0..=wire.len() {
            let mut decoder = FrameDecoder::default();
            decoder.push(&wire[..split]);
            let mut got = drain(&mut decoder);
            decoder.push(&wire[split..]);
            got.extend(drain(&mut decoder));
            assert_eq!(got, frames, "split at {split}");
            assert_eq!(decoder.finish(), Ok(()));
        }
        let mut decoder = FrameDecoder::default();
        let mut got = Vec::new();
        for byte in &wire {
            decoder.push(std::slice::from_ref(byte));
            got.extend(drain(&mut decoder));
        }
        assert_eq!(got, frames, "one byte at a time");
    }

    #[test]
    fn oversize_length_is_rejected_from_the_header_without_allocating() {
        let mut decoder = FrameDecoder::default();
        decoder.push(&[0xff, 0xff, 0xff, 0xff, FrameKind::Message.as_u8()]);
        let error = FrameError::Oversize {
            claimed: u32::MAX as usize,
            limit: DEFAULT_MAX_FRAME,
        };
        assert_eq!(decoder.next(), Err(error.clone()));
        assert!(
            decoder.buf.capacity() < 64,
            "no room was made for the claimed body"
        );

        // A claim within the cap is not allocated up front either: memory follows the bytes.
        let mut decoder = FrameDecoder::default();
        decoder.push(&[0x00, 0x40, 0x00, 0x00, FrameKind::Message.as_u8()]);
        assert_eq!(decoder.next(), Ok(None));
        assert!(decoder.buf.capacity() < 64, "capacity {}", decoder.buf.capacity());

        // Only the length field is needed, not even the kind byte.
        let mut decoder = FrameDecoder::new(10);
        decoder.push(&11u32.to_be_bytes());
        assert_eq!(
            decoder.next(),
            Err(FrameError::Oversize {
                claimed: 11,
                limit: 10
            })
        );
    }

    #[test]
    fn errors_are_sticky_and_later_bytes_are_ignored() {
        let mut decoder = FrameDecoder::default();
        decoder.push(&[0, 0, 0, 0]);
        assert_eq!(decoder.next(), Err(FrameError::Empty));
        decoder.push(&encode(FrameKind::Message, b"valid"));
        assert_eq!(decoder.next(), Err(FrameError::Empty));
        assert_eq!(decoder.buffered(), 0);
        assert_eq!(decoder.error(), Some(&FrameError::Empty));
        assert_eq!(decoder.finish(), Err(FrameError::Empty));
    }

    #[test]
    fn zero_length_is_empty_and_unknown_kind_bytes_are_rejected() {
        let mut decoder = FrameDecoder::default();
        decoder.push(&[0, 0, 0, 0, 1]);
        assert_eq!(decoder.next(), Err(FrameError::Empty));

        for kind in [0u8, 12, 0x7f, 0xff] {
            let mut decoder = FrameDecoder::default();
            decoder.push(&[0, 0, 0, 3, kind]); // the body has not even arrived
            assert_eq!(decoder.next(), Err(FrameError::UnknownKind(kind)));
        }
    }

    #[test]
    fn a_frame_cut_short_by_the_end_of_the_stream_is_truncated() {
        let wire = encode(FrameKind::Message, b"abcdef");
        let mut decoder = FrameDecoder::default();
        decoder.push(&wire[..7]);
        assert_eq!(decoder.next(), Ok(None));
        assert_eq!(decoder.finish(), Err(FrameError::Truncated { buffered: 7 }));
    }

    #[test]
    fn consumed_bytes_are_reclaimed_so_the_buffer_stays_small() {
        let mut wire = Vec::new();
        for i in 0..10_000u32 {
            encode_frame(FrameKind::Message, &[i as u8; 100], DEFAULT_MAX_FRAME, &mut wire).expect("fits");
        }
        let mut decoder = FrameDecoder::default();
        let mut count = 0;
        for chunk in wire.chunks(37) {
            decoder.push(chunk);
            count += drain(&mut decoder).len();
            assert!(
                decoder.buf.capacity() <= 1024,
                "capacity {}",
                decoder.buf.capacity()
            );
        }
        assert_eq!(count, 10_000);
    }

    #[test]
    fn a_large_buffer_is_released_once_drained() {
        let mut decoder = FrameDecoder::default();
        decoder.push(&encode(FrameKind::Message, &vec![0; 1 << 20]));
        assert!(decoder.next().expect("valid").is_some());
        assert!(decoder.buf.capacity() <= RETAINED_CAPACITY);
    }

    #[test]
    fn every_single_byte_as_a_header_never_panics() {
        for byte in 0..=255u8 {
            let mut decoder = FrameDecoder::new(64);
            decoder.push(&[byte; FRAME_HEADER_LEN]);
            let _ = decode_all(&mut decoder);
            let mut decoder = FrameDecoder::new(64);
            decoder.push(&[0, 0, 0, 1, byte]);
            let expected = FrameKind::try_from(byte).map(|kind| {
                Some(Frame {
                    kind,
                    body: Vec::new(),
                })
            });
            assert_eq!(decoder.next(), expected, "kind byte {byte}");
        }
    }

    #[test]
    fn random_garbage_never_panics_and_failures_stay_failed() {
        let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let mut decoder = FrameDecoder::new(1 + rng.usize(..64));
            let len = rng.usize(..128);
            let mut bytes = random_bytes(&mut rng, len);
            if rng.usize(..2) == 0 && bytes.len() >= 4 {
                // Plausible lengths reach the kind and body checks more often.
                bytes[..4].copy_from_slice(&(rng.usize(..40) as u32).to_be_bytes());
            }
            let mut outcome = Ok(0);
            let mut offset = 0;
            while offset < bytes.len() {
                let step = 1 + rng.usize(..16);
                let end = (offset + step).min(bytes.len());
                decoder.push(&bytes[offset..end]);
                offset = end;
                outcome = decode_all(&mut decoder);
                if outcome.is_err() {
                    break;
                }
            }
            if let Err(error) = outcome {
                assert_eq!(decoder.next(), Err(error.clone()));
                assert_eq!(decoder.finish(), Err(error));
            }
        }
    }

    #[test]
    fn random_frames_in_random_chunks_round_trip() {
        let mut rng = fastrand::Rng::with_seed(42);
        for _ in 0..200 {
            let frames: Vec<Frame> = (0..rng.usize(..20))
                .map(|_| {
                    let kind = ALL_KINDS[rng.usize(..ALL_KINDS.len())];
                    let len = rng.usize(..300);
                    Frame::new(kind, random_bytes(&mut rng, len))
                })
                .collect();
            let mut wire = Vec::new();
            for frame in &frames {
                frame.encode(DEFAULT_MAX_FRAME, &mut wire).expect("fits");
            }
            let mut decoder = FrameDecoder::default();
            let mut got = Vec::new();
            let mut offset = 0;
            while offset < wire.len() {
                let end = (offset + 1 + rng.usize(..64)).min(wire.len());
                decoder.push(&wire[offset..end]);
                offset = end;
                got.extend(drain(&mut decoder));
            }
            assert_eq!(got, frames);
        }
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FrameDecoder>();
        assert_send_sync::<Frame>();
        assert_send_sync::<FrameError>();
        assert_send_sync::<FrameKind>();
    }

    /// Appends `bytes` the way a connection reads: into [`FrameDecoder::read_buffer`],
    /// at most `room` at a time.
    fn read_into(decoder: &mut FrameDecoder, mut bytes: &[u8], room: usize) -> Vec<Frame> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let n = bytes.len().min(room);
            let buf = decoder.read_buffer(room);
            assert!(buf.capacity() - buf.len() >= room, "room was made");
            buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            frames.extend(drain(decoder));
        }
        frames
    }

    #[test]
    fn frames_read_straight_into_the_buffer_survive_any_split() {
        let mut wire = Vec::new();
        let bodies: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 1 + usize::from(i) * 97]).collect();
        for body in &bodies {
            wire.extend_from_slice(&encode(FrameKind::Message, body));
        }
        for room in [1, 5, 6, 37, 4096, wire.len()] {
            let mut decoder = FrameDecoder::default();
            let frames = read_into(&mut decoder, &wire, room);
            let got: Vec<Vec<u8>> = frames.into_iter().map(|f| f.body).collect();
            assert_eq!(got, bodies, "room {room}");
            assert_eq!(decoder.finish(), Ok(()));
        }
    }

    #[test]
    fn a_large_frame_read_in_pieces_arrives_whole_and_the_buffer_stays_bounded() {
        let body: Vec<u8> = (0..3 * 65_536 + 11).map(|i| (i % 251) as u8).collect();
        let wire = [
            encode(FrameKind::Message, &body),
            encode(FrameKind::Heartbeat, b""),
        ]
        .concat();
        let mut decoder = FrameDecoder::default();
        let room = 65_536 + 25;
        let frames = read_into(&mut decoder, &wire, room);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].body, body);
        // What it holds: at most the frame plus two reads' room.
        assert!(
            decoder.buf.capacity() <= body.len() + 5 + 3 * room,
            "capacity {}",
            decoder.buf.capacity()
        );
        assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn an_oversize_frame_read_into_the_buffer_is_rejected_before_its_body() {
        let mut decoder = FrameDecoder::new(1024);
        let buf = decoder.read_buffer(16);
        buf.extend_from_slice(&1025u32.to_be_bytes());
        buf.push(FrameKind::Message.as_u8());
        let error = FrameError::Oversize {
            claimed: 1025,
            limit: 1024,
        };
        assert_eq!(decoder.next_borrowed(), Err(error.clone()));
        // Nothing was allocated for the claim: the buffer is what the reader asked for.
        assert!(
            decoder.buf.capacity() <= 64,
            "capacity {}",
            decoder.buf.capacity()
        );
        // Bytes read after the error are discarded, and the error stays.
        decoder.read_buffer(16).extend_from_slice(&[0, 0, 0, 1, 5]);
        assert_eq!(decoder.next(), Err(error));
    }

    #[test]
    fn missing_counts_what_the_pending_frame_still_needs() {
        let wire = encode(FrameKind::Message, &[1; 100]);
        let mut decoder = FrameDecoder::default();
        assert_eq!(decoder.missing(), None);
        decoder.push(&wire[..3]);
        assert_eq!(decoder.missing(), None, "no length field yet");
        decoder.push(&wire[3..40]);
        assert_eq!(decoder.missing(), Some(wire.len() - 40));
        decoder.push(&wire[40..]);
        assert_eq!(decoder.missing(), None, "a whole frame is buffered");
        assert!(decoder.next().expect("valid").is_some());
        // An oversize claim asks for nothing.
        let mut decoder = FrameDecoder::new(10);
        decoder.push(&11u32.to_be_bytes());
        assert_eq!(decoder.missing(), None);
    }
}
