//! The send queue of one peer: a byte buffer that senders append whole frames to and the
//! connection's writer drains with one write per batch.
//!
//! Senders encode straight into the shared buffer, so a message costs no allocation of its
//! own, and a writer that wakes up finds every frame queued since its last write and sends
//! them in one syscall. The buffer is bounded: once it holds `limit` bytes, senders of
//! messages wait until the writer has taken the batch, so a slow peer (or a slow network)
//! backpressures the actors sending to it instead of growing memory. Replies, control and
//! handler frames are produced where no one can wait (a reply sent from a handler, a DOWN sent
//! while an actor exits), so they are appended past the bound, but they count against it all
//! the same (see [`Bounds`]): past the bound plus one frame the connection's reader stops
//! reading from the peer (a peer that does not read cannot make us produce more replies to
//! it), and past a hard ceiling the append fails with [`PushError::Overloaded`] and the peer
//! is disconnected.
//!
//! The queue belongs to the peer, not to a connection: a reconnect drains the same queue, so
//! refs to the peer stay valid. While no connection is up the queue is closed and every
//! append fails at once.
//!
//! Everything leaves the queue sealed (`crate::transport::session`), with the [`Sealer`] of
//! the connection it goes to, given at [`open`](SendQueue::open) and
//! [`hand_over`](SendQueue::hand_over). Records must reach the socket in the order of their
//! sequence numbers, so numbers are taken under the lock in the order the bytes are handed
//! to the socket: a writer reserves its batch's numbers when it takes the batch (and
//! computes the tags outside the lock); a direct write, one small frame, is sealed under the
//! lock, and what the socket does not take at once is kept, sealed, for the writer to send
//! before anything else.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

use super::NetStats;
use crate::meter::PeerMeters;
use crate::transport::frame::FRAME_HEADER_LEN;
use crate::transport::session::TAG_LEN;
use crate::transport::{Sealer, SessionError, MAX_RECORD_PAYLOAD};

/// A writer keeps a batch buffer of up to this capacity between batches; a larger one (left
/// by a burst of big frames) is released.
const RETAINED_CAPACITY: usize = 256 * 1024;

struct State {
    /// Frames not yet sealed.
    buf: Vec<u8>,
    /// Sealed bytes a direct write left over; they go out before `buf`.
    sealed: Vec<u8>,
    /// Seals for the connection of this epoch.
    sealer: Option<Sealer>,
    /// Earlier epochs' sessions, after hand-overs: each one's writer still owes its
    /// connection the leftover sealed bytes and a `Superseded`, and removes its entry when it
    /// stops (one per connection whose writer has not yet stopped).
    retired: Vec<Retired>,
    open: bool,
    /// Bumped on every close and hand-over, so a writer that outlived its connection stops.
    epoch: u64,
    /// The writer of this epoch holds a batch it has not finished writing.
    writing: bool,
    /// The TCP connection of the current epoch, for direct writes (see [`SendQueue::push`]).
    direct: Option<(u64, Arc<OwnedWriteHalf>)>,
    /// Frames appended since the queue was made: how the idle check sees traffic.
    appended: u64,
}

/// What the writer of a handed-over epoch still writes to its own connection.
pub(crate) struct Retired {
    epoch: u64,
    pub(crate) sealer: Sealer,
    /// Sealed bytes a direct write left for that connection.
    pub(crate) leftover: Vec<u8>,
    /// Why the connection was retired: what its writer tells the peer last.
    pub(crate) notice: Notice,
}

/// What the writer of a retired connection writes after its leftover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Another connection carries the traffic (`Control::Superseded`).
    Superseded,
    /// The connection closes because it was idle (`Control::Idle`).
    Idle,
}

/// A writer's batch: the frames it took, and their sealed form once [`seal`](Self::seal)ed.
#[derive(Default)]
pub(crate) struct Batch {
    plain: Vec<u8>,
    /// Starts with what a direct write left over (already sealed).
    wire: Vec<u8>,
    /// The sequence numbers reserved for `plain`.
    sealer: Option<Result<Sealer, SessionError>>,
    /// Bytes of `plain` sealed so far by [`next_part`](Self::next_part).
    sealed: usize,
    /// Whether `next_part` has returned the leftover of a direct write already.
    started: bool,
    /// The frame header of the record `next_part` returned last.
    header: [u8; FRAME_HEADER_LEN],
    /// The tag of the record `next_part` returned last.
    tag: [u8; TAG_LEN],
}

impl Batch {
    /// Seals the frames taken; returns every byte to write, in order.
    pub(crate) fn seal(&mut self) -> Result<&[u8], SessionError> {
        if !self.plain.is_empty() {
            let mut sealer = self.sealer.take().unwrap_or(Err(SessionError::Exhausted))?;
            sealer.seal_all(&self.plain, &mut self.wire)?;
        }
        Ok(&self.wire)
    }

    /// Seals the next part of the batch and returns the bytes to write next, as slices to
    /// write in order with one vectored write: first what a direct write left over (with the
    /// first record), then one record (up to 64 KiB of frames) at a time, as its header, its
    /// payload (encrypted in place in the frames taken: never copied) and its tag; `None`
    /// once everything is out. Writing record by record lets the peer verify and deliver the
    /// first frames while the next record is sealed, instead of after the whole batch.
    pub(crate) fn next_part(&mut self) -> Option<Result<[&[u8]; 4], SessionError>> {
        if self.started {
            self.wire.clear();
        }
        self.started = true;
        let rest = self.plain.get_mut(self.sealed..).unwrap_or_default();
        let len = rest.len().min(MAX_RECORD_PAYLOAD);
        let part = rest.get_mut(..len).unwrap_or_default();
        if part.is_empty() {
            return (!self.wire.is_empty()).then_some(Ok([&self.wire[..], &[], &[], &[]]));
        }
        let sealed = match self.sealer.as_mut() {
            Some(Ok(sealer)) => sealer.seal_parts(part),
            Some(Err(error)) => Err(error.clone()),
            None => Err(SessionError::Exhausted),
        };
        match sealed {
            Ok((header, tag)) => {
                self.header = header;
                self.tag = tag;
                self.sealed += len;
                Some(Ok([&self.wire[..], &self.header[..], part, &self.tag[..]]))
            }
            Err(error) => Some(Err(error)),
        }
    }

    /// The frames taken, before sealing.
    #[cfg(test)]
    pub(crate) fn plain(&self) -> &[u8] {
        &self.plain
    }

    /// Readies a written batch for reuse.
    pub(crate) fn recycle(&mut self) {
        for buf in [&mut self.plain, &mut self.wire] {
            buf.clear();
            if buf.capacity() > RETAINED_CAPACITY {
                *buf = Vec::new();
            }
        }
        self.sealer = None;
        self.sealed = 0;
        self.started = false;
    }
}

pub(crate) struct SendQueue {
    state: Mutex<State>,
    /// Wakes the writer: bytes were appended, or the queue closed.
    ready: Notify,
    /// Wakes senders waiting for room, after the writer took a batch or the queue closed.
    room: Notify,
    pub(crate) limit: usize,
    /// Where the reader pauses and where forced appends fail.
    pub(crate) bounds: Bounds,
    /// Bytes written by senders themselves, counted with the writer's.
    bytes_out: Arc<NetStats>,
    /// Bytes written to this peer, by the writer and by senders: its traffic out.
    written: AtomicU64,
    /// The peer's metric handles, set when its first connection is installed (its name is
    /// known from then on).
    pub(crate) meters: OnceLock<PeerMeters>,
}

/// Why an append failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushError<E> {
    /// No connection is up.
    Closed,
    /// The frame could not be built; the queue is unchanged.
    Encode(E),
    /// A forced append would have taken the queue past its hard ceiling: the peer does not
    /// read what it is sent. The queue is unchanged.
    Overloaded {
        /// Bytes queued.
        queued: usize,
        /// The ceiling.
        limit: usize,
    },
}

/// The byte bounds of one peer's queue, all derived from the configured bound (`limit`) and
/// the frame cap.
///
/// - Senders of messages wait while the queue holds `limit` bytes or more, so messages alone
///   take it to at most `limit` plus one frame.
/// - [`pause`](Self::pause): the connection's reader stops reading from the peer while the
///   queue holds this much, which messages alone never reach: only replies, control and
///   handler frames do, and those are what a peer can make us produce by sending. So two
///   nodes flooding each other with messages never both stop reading.
/// - [`ceiling`](Self::ceiling): a forced append that would go past it fails, and the peer is
///   disconnected as [`Overloaded`](super::NodeDownReason::Overloaded). The room between the
///   two takes what was already on its way when the reader paused: the replies of calls
///   already in mailboxes, and what one read of the socket held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) pause: usize,
    pub(crate) ceiling: usize,
}

/// Frame header bytes (length and kind) added to a body.
const FRAME_OVERHEAD: usize = 5;

impl Bounds {
    pub(crate) fn new(limit: usize, max_frame: usize) -> Self {
        let limit = limit.max(1);
        let pause = limit.saturating_add(max_frame).saturating_add(FRAME_OVERHEAD);
        Bounds {
            pause,
            ceiling: pause.saturating_add(limit),
        }
    }
}

/// Whether a frame should go out now: a call or a reply, whose sender waits for the answer,
/// versus a tell, which is better batched with the tells that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Urgency {
    Batch,
    Flush,
    /// A heartbeat: batched, and not counted as traffic by the idle check.
    Heartbeat,
}

impl SendQueue {
    pub(crate) fn new(limit: usize, max_frame: usize, stats: Arc<NetStats>) -> Self {
        SendQueue {
            state: Mutex::new(State {
                buf: Vec::new(),
                sealed: Vec::new(),
                sealer: None,
                retired: Vec::new(),
                open: false,
                epoch: 0,
                writing: false,
                direct: None,
                appended: 0,
            }),
            ready: Notify::new(),
            room: Notify::new(),
            limit: limit.max(1),
            bounds: Bounds::new(limit, max_frame),
            bytes_out: stats,
            written: AtomicU64::new(0),
            meters: OnceLock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock::lock(&self.state)
    }

    /// Opens the queue for a new connection, whose session `sealer` seals; returns the epoch
    /// its writer drains.
    pub(crate) fn open(&self, sealer: Sealer) -> u64 {
        let mut state = self.lock();
        state.open = true;
        state.writing = false;
        state.buf.clear();
        state.sealed.clear();
        state.sealer = Some(sealer);
        state.epoch
    }

    /// Hands the queue over to a new connection's writer (its session's `sealer`) without
    /// losing what is queued: the old writer stops at its next wake-up. Returns the new
    /// writer's epoch.
    pub(crate) fn hand_over(&self, sealer: Sealer) -> u64 {
        let epoch = {
            let mut state = self.lock();
            let old = state.sealer.replace(sealer);
            let leftover = std::mem::take(&mut state.sealed);
            if let Some(sealer) = old {
                let epoch = state.epoch;
                state.retired.push(Retired {
                    epoch,
                    sealer,
                    leftover,
                    notice: Notice::Superseded,
                });
            }
            state.open = true;
            state.epoch += 1;
            state.writing = false;
            state.direct = None;
            state.epoch
        };
        self.ready.notify_waiters();
        self.ready.notify_one();
        epoch
    }

    /// Closes the queue: discards what was not written and fails waiting and later senders.
    pub(crate) fn close(&self) {
        {
            let mut state = self.lock();
            state.open = false;
            state.epoch += 1;
            state.writing = false;
            state.direct = None;
            state.buf = Vec::new();
            state.sealed = Vec::new();
            state.sealer = None;
            state.retired = Vec::new();
        }
        self.room.notify_waiters();
        self.ready.notify_waiters();
    }

    /// Opens the queue with no connection yet (a member that is reachable but not connected
    /// to): frames wait in it, within the same bounds, for the next connection's writer.
    pub(crate) fn open_unattached(&self) {
        let mut state = self.lock();
        if !state.open {
            state.open = true;
            state.epoch += 1;
            state.writing = false;
            state.direct = None;
            state.buf.clear();
            state.sealed.clear();
            state.sealer = None;
        }
    }

    /// Detaches the queue from its connection but keeps it open: frames not yet taken by the
    /// writer wait for the next connection (see [`hand_over`](Self::hand_over)). With
    /// `notice`, the writer of the connection still writes the sealed bytes it was left and
    /// then the notice (an orderly close); without, they are dropped with the connection.
    /// Nothing happens if the queue is closed or already detached.
    pub(crate) fn detach(&self, notice: Option<Notice>) {
        {
            let mut state = self.lock();
            if !state.open {
                return;
            }
            let Some(sealer) = state.sealer.take() else {
                return;
            };
            let leftover = std::mem::take(&mut state.sealed);
            if let Some(notice) = notice {
                let epoch = state.epoch;
                state.retired.push(Retired {
                    epoch,
                    sealer,
                    leftover,
                    notice,
                });
            } else {
                // The writer of a broken connection stops without a word.
                state.retired.clear();
            }
            state.epoch += 1;
            state.writing = false;
            state.direct = None;
        }
        self.room.notify_waiters();
        self.ready.notify_waiters();
    }

    /// Keeps, of the frames not yet taken by a writer, those whose kind `keep` accepts, in
    /// order; drops the others. The frames in `buf` are whole: a length, a kind, a body.
    pub(crate) fn retain_frames(&self, keep: impl Fn(u8) -> bool) {
        let mut state = self.lock();
        let old = std::mem::take(&mut state.buf);
        let mut rest = old.as_slice();
        while let Some((frame, after)) = split_frame(rest) {
            if frame.get(4).is_some_and(|kind| keep(*kind)) {
                state.buf.extend_from_slice(frame);
            }
            rest = after;
        }
        drop(state);
        self.room.notify_waiters();
    }

    /// Whether the queue is open with no connection to write to: what it holds waits.
    pub(crate) fn is_detached(&self) -> bool {
        let state = self.lock();
        state.open && state.sealer.is_none()
    }

    /// Frames appended so far (a count that only grows while the queue lives).
    pub(crate) fn appended(&self) -> u64 {
        self.lock().appended
    }

    /// Lets senders of calls and replies write straight to `half` while the writer of `epoch`
    /// is idle.
    pub(crate) fn set_direct(&self, epoch: u64, half: Arc<OwnedWriteHalf>) {
        let mut state = self.lock();
        if state.epoch == epoch {
            state.direct = Some((epoch, half));
        }
    }

    /// Withdraws the direct path of `epoch` (its writer is stopping).
    pub(crate) fn clear_direct(&self, epoch: u64) {
        let mut state = self.lock();
        if state.direct.as_ref().is_some_and(|(e, _)| *e == epoch) {
            state.direct = None;
        }
    }

    /// Appends one frame that `build` makes from `value`, waiting while the queue holds
    /// `limit` bytes or more. `build` appends to the buffer and must leave it unchanged on
    /// error. The value is owned by the waiting future and only borrowed while no await is
    /// pending, so the future is `Send` whenever `T` is, even if `T` is not `Sync`.
    ///
    /// With [`Urgency::Flush`], a frame that finds the queue empty and the writer idle is
    /// written by the caller itself, without waking the writer: one hand-off less for a call
    /// and for its reply. Tells are left to the writer, which batches them.
    pub(crate) async fn push<T, E>(
        &self,
        mut value: T,
        urgency: Urgency,
        mut build: impl FnMut(&mut Vec<u8>, &mut T) -> Result<(), E>,
    ) -> Result<(), PushError<E>> {
        // The common case, room at once, costs one lock and no wait handle.
        if let Some(done) = self.try_append(|buf| build(buf, &mut value), urgency, false) {
            return done;
        }
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if let Some(done) = self.try_append(|buf| build(buf, &mut value), urgency, false) {
                return done;
            }
            room.await;
        }
    }

    /// Appends one frame if the queue holds less than `limit` bytes; `None` if it is full.
    pub(crate) fn push_if_room<E>(
        &self,
        urgency: Urgency,
        build: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Option<Result<(), PushError<E>>> {
        self.try_append(build, urgency, false)
    }

    /// Appends one frame at once, beyond the bound if need be (replies and control frames),
    /// but not past the hard ceiling ([`PushError::Overloaded`]).
    pub(crate) fn push_now<E>(
        &self,
        urgency: Urgency,
        build: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), PushError<E>> {
        self.try_append(build, urgency, true)
            .unwrap_or(Err(PushError::Closed))
    }

    /// One attempt under the lock: `None` if the queue is full (and `force` is false).
    fn try_append<E>(
        &self,
        build: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
        urgency: Urgency,
        force: bool,
    ) -> Option<Result<(), PushError<E>>> {
        let mut state = self.lock();
        if !state.open {
            return Some(Err(PushError::Closed));
        }
        if !force && state.buf.len() >= self.limit {
            return None;
        }
        let was_empty = state.buf.is_empty() && state.sealed.is_empty();
        let before = state.buf.len();
        if let Err(error) = build(&mut state.buf) {
            return Some(Err(PushError::Encode(error)));
        }
        state.appended += u64::from(urgency != Urgency::Heartbeat);
        if let Some(meters) = self.meters.get() {
            meters.frames_out.increment(1);
        }
        if force && state.buf.len() + state.sealed.len() > self.bounds.ceiling {
            state.buf.truncate(before);
            return Some(Err(PushError::Overloaded {
                queued: before,
                limit: self.bounds.ceiling,
            }));
        }
        if !was_empty {
            // The writer was already woken for the bytes before these.
            return Some(Ok(()));
        }
        if urgency == Urgency::Flush && !state.writing {
            self.write_direct(&mut state);
        }
        let wake = !state.buf.is_empty() || !state.sealed.is_empty();
        drop(state);
        if wake {
            self.ready.notify_one();
        }
        Some(Ok(()))
    }

    /// Seals what `buf` holds (one frame, queued while the writer is idle) and writes it to
    /// the direct path, if there is one; whatever the socket does not take now stays in
    /// `sealed`, for the writer to send first.
    fn write_direct(&self, state: &mut State) {
        let epoch = state.epoch;
        let State {
            buf,
            sealed,
            sealer,
            direct,
            ..
        } = state;
        let (Some((_, half)), Some(sealer)) = (direct.as_ref().filter(|(e, _)| *e == epoch), sealer.as_mut())
        else {
            return;
        };
        if sealer.seal_all(buf, sealed).is_err() {
            // Out of sequence numbers: leave the frame to the writer, whose seal fails too
            // and closes the connection.
            sealed.clear();
            return;
        }
        buf.clear();
        // Non-blocking: whatever the socket does not take now is left to the writer.
        if let Ok(written) = half.try_write(sealed) {
            self.count_written(written);
            let written = written.min(sealed.len());
            sealed.drain(..written);
        }
    }

    /// Counts `bytes` written to the peer, in the node's counters and the peer's.
    pub(crate) fn count_written(&self, bytes: usize) {
        self.bytes_out
            .bytes_out
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.written.fetch_add(bytes as u64, Ordering::Relaxed);
        if let Some(meters) = self.meters.get() {
            meters.bytes_out.increment(bytes as u64);
        }
    }

    /// Bytes written to the peer since the queue was made.
    pub(crate) fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Bytes waiting to be written.
    pub(crate) fn queued_bytes(&self) -> usize {
        let state = self.lock();
        state.buf.len() + state.sealed.len()
    }

    /// Whether the reader should stop reading from the peer: the queue is open and holds
    /// [`Bounds::pause`] bytes or more.
    pub(crate) fn should_pause(&self) -> bool {
        let state = self.lock();
        state.open && state.buf.len() + state.sealed.len() >= self.bounds.pause
    }

    /// Waits until the queue holds less than [`Bounds::pause`] bytes, or is closed or handed
    /// over (then the reader finds out on its own).
    pub(crate) async fn below_pause(&self) {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if !self.should_pause() {
                return;
            }
            room.await;
        }
    }

    /// Waits for bytes to write and moves them into `batch` (which must be empty), with the
    /// sequence numbers they need. Returns false once the queue was closed or handed over
    /// after `epoch` began: the writer must stop. The writer seals the batch outside the lock
    /// and calls [`done_writing`](Self::done_writing) once it is out.
    pub(crate) async fn take(&self, epoch: u64, batch: &mut Batch) -> bool {
        loop {
            let ready = self.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            {
                let mut state = self.lock();
                if !state.open || state.epoch != epoch {
                    return false;
                }
                if Self::take_locked(&mut state, batch) {
                    state.writing = true;
                    drop(state);
                    self.room.notify_waiters();
                    return true;
                }
            }
            ready.await;
        }
    }

    /// Moves what is queued into `batch` and reserves the sequence numbers of its frames;
    /// false if nothing is queued.
    fn take_locked(state: &mut State, batch: &mut Batch) -> bool {
        if state.buf.is_empty() && state.sealed.is_empty() {
            return false;
        }
        std::mem::swap(&mut state.buf, &mut batch.plain);
        std::mem::swap(&mut state.sealed, &mut batch.wire);
        let len = batch.plain.len();
        batch.sealer = Some(
            state
                .sealer
                .as_mut()
                .ok_or(SessionError::Exhausted)
                .and_then(|sealer| sealer.reserve(len)),
        );
        true
    }

    /// The writer of `epoch` has written its batch.
    pub(crate) fn done_writing(&self, epoch: u64) {
        let mut state = self.lock();
        if state.epoch == epoch {
            state.writing = false;
        }
    }

    /// Takes whatever is queued now, without waiting (used for the last flush). The writer
    /// stays marked as writing: no direct write may overtake the last batch on the socket,
    /// since its records would arrive out of sequence.
    pub(crate) fn take_now(&self, epoch: u64, batch: &mut Batch) -> bool {
        let mut state = self.lock();
        if !state.open || state.epoch != epoch || !Self::take_locked(&mut state, batch) {
            return false;
        }
        state.writing = true;
        drop(state);
        self.room.notify_waiters();
        true
    }

    /// After the queue was handed over from `epoch` to another connection: what the writer of
    /// `epoch` still owes its own connection (see [`Retired`]). `None` if the queue was
    /// closed instead.
    pub(crate) fn retired(&self, epoch: u64) -> Option<Retired> {
        let mut state = self.lock();
        let index = state.retired.iter().position(|retired| retired.epoch == epoch)?;
        Some(state.retired.swap_remove(index))
    }
}

/// The first whole frame of `bytes` (length, kind, body) and what follows it; `None` at
/// the end or before a frame cut short (which the queue never holds).
fn split_frame(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = bytes.get(..4)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let end = len.checked_add(4)?;
    (end <= bytes.len()).then(|| bytes.split_at(end))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::transport::{encode_frame, FrameDecoder, FrameKind, Opener, SessionDecoder, SessionKeys};

    fn frame(bytes: &[u8]) -> impl Fn(&mut Vec<u8>) -> Result<(), ()> + '_ {
        move |buf| {
            buf.extend_from_slice(bytes);
            Ok(())
        }
    }

    async fn push(queue: &SendQueue, bytes: &'static [u8]) -> Result<(), PushError<()>> {
        let build = frame(bytes);
        queue
            .push((), Urgency::Batch, move |buf, _: &mut ()| build(buf))
            .await
    }

    fn push_now(queue: &SendQueue, bytes: &'static [u8]) -> Result<(), PushError<()>> {
        queue.push_now(Urgency::Batch, frame(bytes))
    }

    #[test]
    fn only_the_frames_kept_stay_in_order_when_a_queue_is_filtered() {
        let queue = queue(1 << 20);
        queue.open_unattached();
        let frames: [(FrameKind, &[u8]); 4] = [
            (FrameKind::Message, b"m1"),
            (FrameKind::Registry, b"claim"),
            (FrameKind::Reply, b"r"),
            (FrameKind::Message, b"m2"),
        ];
        for (kind, body) in frames {
            let _ = queue.push_now(Urgency::Batch, |buf| encode_frame(kind, body, 1 << 20, buf));
        }
        queue.retain_frames(|kind| kind == FrameKind::Message.as_u8());
        let mut expected = Vec::new();
        for body in [b"m1", b"m2"] {
            let _ = encode_frame(FrameKind::Message, body, 1 << 20, &mut expected);
        }
        assert_eq!(queue.lock().buf, expected);
    }

    fn queue(limit: usize) -> SendQueue {
        SendQueue::new(limit, 16, Arc::default())
    }

    /// Both ends of one direction of a session: a's sealer and b's opener.
    fn session_with(cookie_key: u8) -> (Sealer, Opener) {
        let a = SessionKeys::derive(&[cookie_key; 32], b"hello a", b"hello b").expect("keys");
        let b = SessionKeys::derive(&[cookie_key; 32], b"hello b", b"hello a").expect("keys");
        (a.seal, b.open)
    }

    fn session() -> (Sealer, Opener) {
        session_with(1)
    }

    fn sealer() -> Sealer {
        session().0
    }

    #[tokio::test]
    async fn closed_queue_refuses_at_once() {
        let queue = queue(16);
        assert_eq!(push(&queue, b"x").await, Err(PushError::Closed));
        assert_eq!(push_now(&queue, b"x"), Err(PushError::Closed));
    }

    #[tokio::test]
    async fn batches_everything_queued_since_the_last_take() {
        let queue = queue(1024);
        let epoch = queue.open(sealer());
        for chunk in [&b"ab"[..], b"cd", b"ef"] {
            assert_eq!(push(&queue, chunk).await, Ok(()));
        }
        let mut batch = Batch::default();
        assert!(queue.take(epoch, &mut batch).await);
        assert_eq!(batch.plain(), b"abcdef");
        assert_eq!(queue.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn encode_errors_leave_the_queue_unchanged() {
        let queue = queue(1024);
        queue.open(sealer());
        let failed = queue
            .push((), Urgency::Batch, |_buf: &mut Vec<u8>, _: &mut ()| {
                Err("too big")
            })
            .await;
        assert_eq!(failed, Err(PushError::Encode("too big")));
        assert_eq!(queue.queued_bytes(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_makes_senders_wait_until_the_writer_takes_a_batch() {
        let queue = Arc::new(queue(4));
        let epoch = queue.open(sealer());
        assert_eq!(push(&queue, b"1234").await, Ok(()));
        let sender = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { push(&queue, b"5").await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sender.is_finished(), "the sender must wait for room");
        assert_eq!(queue.queued_bytes(), 4);
        let mut batch = Batch::default();
        assert!(queue.take(epoch, &mut batch).await);
        assert_eq!(sender.await.ok(), Some(Ok(())));
        assert_eq!(queue.queued_bytes(), 1);
        // Replies go through regardless of the bound.
        assert_eq!(push_now(&queue, b"6789"), Ok(()));
        assert_eq!(queue.queued_bytes(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn closing_fails_waiting_senders_and_stops_the_writer() {
        let queue = Arc::new(queue(1));
        let epoch = queue.open(sealer());
        assert_eq!(push(&queue, b"1").await, Ok(()));
        let sender = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { push(&queue, b"2").await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        queue.close();
        assert_eq!(sender.await.ok(), Some(Err(PushError::Closed)));
        let mut batch = Batch::default();
        assert!(!queue.take(epoch, &mut batch).await);
        // A new connection drains the same queue under a new epoch; the old writer stays out.
        let next = queue.open(sealer());
        assert_ne!(next, epoch);
        assert_eq!(push_now(&queue, b"3"), Ok(()));
        assert!(!queue.take_now(epoch, &mut batch));
        assert!(queue.take_now(next, &mut batch));
        assert_eq!(batch.plain(), b"3");
    }

    /// Opens everything read so far from `read` as a session and returns the inner frames'
    /// bodies.
    async fn read_frames(
        read: &mut tokio::net::tcp::OwnedReadHalf,
        decoder: &mut SessionDecoder,
        want: usize,
    ) -> Vec<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let mut frames = Vec::new();
        let mut buf = [0u8; 4096];
        while frames.len() < want {
            while let Some((_, body)) = decoder.next_borrowed().expect("sealed in order") {
                frames.push(body.to_vec());
            }
            if frames.len() >= want {
                break;
            }
            let n = read.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed");
            decoder.push(&buf[..n]);
        }
        frames
    }

    fn frame_of(body: &'static [u8]) -> impl Fn(&mut Vec<u8>) -> Result<(), ()> {
        move |buf| encode_frame(FrameKind::Message, body, 1024, buf).map_err(|_| ())
    }

    #[tokio::test]
    async fn direct_writes_and_batches_are_sealed_in_socket_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let (mut read, _keep) = server.into_split();
        let (_, write) = client.into_split();

        let (sealer, opener) = session();
        let queue = queue(1 << 20);
        let epoch = queue.open(sealer);
        queue.set_direct(epoch, Arc::new(write));
        let mut decoder = SessionDecoder::new(FrameDecoder::new(64), opener, 1 << 20);
        // A call on an idle queue goes out at once, sealed, without a writer.
        assert_eq!(queue.push_now(Urgency::Flush, frame_of(b"call")), Ok(()));
        assert_eq!(queue.queued_bytes(), 0);
        assert_eq!(read_frames(&mut read, &mut decoder, 1).await, [b"call".to_vec()]);
        // Tells wait for the writer, which seals them after what went out directly.
        assert_eq!(queue.push_now(Urgency::Batch, frame_of(b"tell 1")), Ok(()));
        assert_eq!(queue.push_now(Urgency::Flush, frame_of(b"tell 2")), Ok(()));
        let mut batch = Batch::default();
        assert!(queue.take(epoch, &mut batch).await);
        // While the writer holds a batch, a call is queued behind it, not written directly.
        assert_eq!(queue.push_now(Urgency::Flush, frame_of(b"call 2")), Ok(()));
        assert!(queue.queued_bytes() > 0);
        let half = queue
            .lock()
            .direct
            .as_ref()
            .map(|(_, half)| Arc::clone(half))
            .expect("direct");
        let bytes = batch.seal().expect("seal").to_vec();
        let mut written = 0;
        while written < bytes.len() {
            half.writable().await.expect("writable");
            written += half.try_write(&bytes[written..]).unwrap_or(0);
        }
        queue.done_writing(epoch);
        batch.recycle();
        assert!(queue.take(epoch, &mut batch).await);
        let bytes = batch.seal().expect("seal").to_vec();
        half.writable().await.expect("writable");
        assert_eq!(half.try_write(&bytes).ok(), Some(bytes.len()));
        assert_eq!(
            read_frames(&mut read, &mut decoder, 3).await,
            [b"tell 1".to_vec(), b"tell 2".to_vec(), b"call 2".to_vec()]
        );
    }

    #[tokio::test]
    async fn a_hand_over_leaves_the_old_session_to_its_writer() {
        let queue = queue(1024);
        let (old_sealer, mut old_opener) = session();
        let old = queue.open(old_sealer);
        let (new_sealer, mut new_opener) = session_with(2);
        let new = queue.hand_over(new_sealer);
        assert_ne!(old, new);
        let mut batch = Batch::default();
        assert!(!queue.take(old, &mut batch).await);
        // The old writer seals its goodbye in the old session; the new one in the new.
        let mut retired = queue.retired(old).expect("retired");
        assert!(queue.retired(old).is_none());
        let mut goodbye = Vec::new();
        retired.sealer.seal(b"old", &mut goodbye).expect("seal");
        assert_eq!(old_opener.open(&mut goodbye[5..]), Ok(&b"old"[..]));
        assert_eq!(queue.push_now(Urgency::Batch, frame_of(b"new")), Ok(()));
        assert!(queue.take(new, &mut batch).await);
        let mut wire = batch.seal().expect("seal").to_vec();
        let payload = new_opener.open(&mut wire[5..]).expect("new session").to_vec();
        assert!(payload.ends_with(b"new"));
        batch.recycle();
        // Two hand-overs before the writers wake: each keeps its own session.
        let third = queue.hand_over(session_with(3).0);
        let fourth = queue.hand_over(session_with(4).0);
        assert!(queue.retired(new).is_some());
        assert!(queue.retired(third).is_some());
        // A closed queue retires nothing.
        queue.close();
        assert!(queue.retired(fourth).is_none());
    }

    #[tokio::test]
    async fn a_batch_goes_out_one_record_per_part_after_the_direct_leftover() {
        let (mut sealer, mut opener) = session();
        let queue = queue(1 << 20);
        // What a direct write left: the tail of record 0.
        let mut direct = Vec::new();
        sealer.seal(b"direct", &mut direct).expect("seal");
        let epoch = queue.open(sealer);
        queue.lock().sealed = direct.split_off(3);
        let frames = vec![7u8; 2 * MAX_RECORD_PAYLOAD + 100];
        assert_eq!(
            queue.push_now(Urgency::Batch, |buf| {
                buf.extend_from_slice(&frames);
                Ok::<(), ()>(())
            }),
            Ok(())
        );
        let mut batch = Batch::default();
        assert!(queue.take(epoch, &mut batch).await);
        let mut parts = Vec::new();
        while let Some(part) = batch.next_part() {
            parts.push(part.expect("sealed").concat());
        }
        assert_eq!(parts.len(), 3);
        // The leftover (all of record 0 but its first 3 bytes), then one full record.
        let record = |payload: usize| payload + 21;
        assert_eq!(parts[0].len(), record(6) - 3 + record(MAX_RECORD_PAYLOAD));
        assert_eq!(parts[1].len(), record(MAX_RECORD_PAYLOAD));
        assert_eq!(parts[2].len(), record(100));
        let wire = [direct, parts.concat()].concat();
        let mut records = crate::transport::FrameDecoder::new(crate::transport::session::MAX_RECORD_FRAME);
        records.push(&wire);
        let mut opened = Vec::new();
        while let Ok(Some(mut record)) = records.next() {
            opened.extend_from_slice(opener.open(&mut record.body).expect("in sequence"));
        }
        assert_eq!(opened, [&b"direct"[..], &frames].concat());
    }

    #[test]
    fn messages_alone_never_reach_the_pause_and_the_ceiling_leaves_room_past_it() {
        let bounds = Bounds::new(8 << 20, 4 << 20);
        // A sender appends while under the bound: at most the bound plus one whole frame.
        assert!(bounds.pause >= (8 << 20) + (4 << 20) + FRAME_OVERHEAD);
        assert_eq!(bounds.ceiling, bounds.pause + (8 << 20));
        // Absurd configurations saturate instead of overflowing.
        let huge = Bounds::new(usize::MAX, usize::MAX);
        assert_eq!((huge.pause, huge.ceiling), (usize::MAX, usize::MAX));
        assert_eq!(Bounds::new(0, 0).pause, 1 + FRAME_OVERHEAD);
    }

    #[test]
    fn a_forced_append_past_the_ceiling_fails_and_leaves_the_queue_unchanged() {
        let queue = queue(4);
        queue.open(sealer());
        let ceiling = queue.bounds.ceiling;
        let fill = vec![7u8; ceiling - 1];
        assert_eq!(
            queue.push_now(Urgency::Batch, |buf: &mut Vec<u8>| {
                buf.extend_from_slice(&fill);
                Ok::<(), ()>(())
            }),
            Ok(())
        );
        assert!(queue.should_pause());
        assert_eq!(push_now(&queue, b"x"), Ok(()));
        assert_eq!(
            push_now(&queue, b"y"),
            Err(PushError::Overloaded {
                queued: ceiling,
                limit: ceiling
            })
        );
        assert_eq!(queue.queued_bytes(), ceiling);
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_reader_wakes_when_the_writer_takes_a_batch_or_the_queue_closes() {
        for close in [false, true] {
            let queue = Arc::new(queue(4));
            let epoch = queue.open(sealer());
            let fill = vec![0u8; queue.bounds.pause];
            let _ = queue.push_now(Urgency::Batch, |buf: &mut Vec<u8>| {
                buf.extend_from_slice(&fill);
                Ok::<(), ()>(())
            });
            let reader = {
                let queue = Arc::clone(&queue);
                tokio::spawn(async move { queue.below_pause().await })
            };
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(!reader.is_finished(), "the reader must wait for room");
            if close {
                queue.close();
            } else {
                let mut batch = Batch::default();
                assert!(queue.take(epoch, &mut batch).await);
            }
            assert!(tokio::time::timeout(Duration::from_secs(1), reader).await.is_ok());
        }
    }
}
