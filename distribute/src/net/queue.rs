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

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

use super::NetStats;

/// A writer keeps a batch buffer of up to this capacity between batches; a larger one (left
/// by a burst of big frames) is released.
const RETAINED_CAPACITY: usize = 256 * 1024;

struct State {
    buf: Vec<u8>,
    open: bool,
    /// Bumped on every close and hand-over, so a writer that outlived its connection stops.
    epoch: u64,
    /// The writer of this epoch holds a batch it has not finished writing.
    writing: bool,
    /// The TCP connection of the current epoch, for direct writes (see [`SendQueue::push`]).
    direct: Option<(u64, Arc<OwnedWriteHalf>)>,
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
}

impl SendQueue {
    pub(crate) fn new(limit: usize, max_frame: usize, stats: Arc<NetStats>) -> Self {
        SendQueue {
            state: Mutex::new(State {
                buf: Vec::new(),
                open: false,
                epoch: 0,
                writing: false,
                direct: None,
            }),
            ready: Notify::new(),
            room: Notify::new(),
            limit: limit.max(1),
            bounds: Bounds::new(limit, max_frame),
            bytes_out: stats,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock::lock(&self.state)
    }

    /// Opens the queue for a new connection; returns the epoch its writer drains.
    pub(crate) fn open(&self) -> u64 {
        let mut state = self.lock();
        state.open = true;
        state.writing = false;
        state.buf.clear();
        state.epoch
    }

    /// Hands the queue over to a new connection's writer without losing what is queued: the
    /// old writer stops at its next wake-up. Returns the new writer's epoch.
    pub(crate) fn hand_over(&self) -> u64 {
        let epoch = {
            let mut state = self.lock();
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
        }
        self.room.notify_waiters();
        self.ready.notify_waiters();
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
        let was_empty = state.buf.is_empty();
        let before = state.buf.len();
        if let Err(error) = build(&mut state.buf) {
            return Some(Err(PushError::Encode(error)));
        }
        if force && state.buf.len() > self.bounds.ceiling {
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
            let epoch = state.epoch;
            if let Some((_, half)) = state.direct.as_ref().filter(|(e, _)| *e == epoch) {
                // Non-blocking: whatever the socket does not take now is left to the writer.
                if let Ok(written) = half.try_write(&state.buf) {
                    self.bytes_out
                        .bytes_out
                        .fetch_add(written as u64, Ordering::Relaxed);
                    let written = written.min(state.buf.len());
                    state.buf.drain(..written);
                }
            }
        }
        let wake = !state.buf.is_empty();
        drop(state);
        if wake {
            self.ready.notify_one();
        }
        Some(Ok(()))
    }

    /// Bytes waiting to be written.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.lock().buf.len()
    }

    /// Whether the reader should stop reading from the peer: the queue is open and holds
    /// [`Bounds::pause`] bytes or more.
    pub(crate) fn should_pause(&self) -> bool {
        let state = self.lock();
        state.open && state.buf.len() >= self.bounds.pause
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

    /// Waits for bytes to write and swaps them into `batch` (which must be empty). Returns
    /// false once the queue was closed or handed over after `epoch` began: the writer must
    /// stop. The writer calls [`done_writing`](Self::done_writing) once the batch is out.
    pub(crate) async fn take(&self, epoch: u64, batch: &mut Vec<u8>) -> bool {
        loop {
            let ready = self.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            {
                let mut state = self.lock();
                if !state.open || state.epoch != epoch {
                    return false;
                }
                if !state.buf.is_empty() {
                    std::mem::swap(&mut state.buf, batch);
                    state.writing = true;
                    drop(state);
                    self.room.notify_waiters();
                    return true;
                }
            }
            ready.await;
        }
    }

    /// The writer of `epoch` has written its batch.
    pub(crate) fn done_writing(&self, epoch: u64) {
        let mut state = self.lock();
        if state.epoch == epoch {
            state.writing = false;
        }
    }

    /// Takes whatever is queued now, without waiting (used for the last flush).
    pub(crate) fn take_now(&self, epoch: u64, batch: &mut Vec<u8>) -> bool {
        let mut state = self.lock();
        if !state.open || state.epoch != epoch || state.buf.is_empty() {
            return false;
        }
        std::mem::swap(&mut state.buf, batch);
        drop(state);
        self.room.notify_waiters();
        true
    }

    /// Whether the writer of `epoch` stopped because another connection took the queue over
    /// (rather than because the peer was lost).
    pub(crate) fn handed_over(&self, epoch: u64) -> bool {
        let state = self.lock();
        state.open && state.epoch != epoch
    }

    /// Readies a written batch buffer for reuse.
    pub(crate) fn recycle(batch: &mut Vec<u8>) {
        batch.clear();
        if batch.capacity() > RETAINED_CAPACITY {
            *batch = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

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

    fn queue(limit: usize) -> SendQueue {
        SendQueue::new(limit, 16, Arc::default())
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
        let epoch = queue.open();
        for chunk in [&b"ab"[..], b"cd", b"ef"] {
            assert_eq!(push(&queue, chunk).await, Ok(()));
        }
        let mut batch = Vec::new();
        assert!(queue.take(epoch, &mut batch).await);
        assert_eq!(batch, b"abcdef");
        assert_eq!(queue.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn encode_errors_leave_the_queue_unchanged() {
        let queue = queue(1024);
        queue.open();
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
        let epoch = queue.open();
        assert_eq!(push(&queue, b"1234").await, Ok(()));
        let sender = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { push(&queue, b"5").await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sender.is_finished(), "the sender must wait for room");
        assert_eq!(queue.queued_bytes(), 4);
        let mut batch = Vec::new();
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
        let epoch = queue.open();
        assert_eq!(push(&queue, b"1").await, Ok(()));
        let sender = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { push(&queue, b"2").await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        queue.close();
        assert_eq!(sender.await.ok(), Some(Err(PushError::Closed)));
        let mut batch = Vec::new();
        assert!(!queue.take(epoch, &mut batch).await);
        // A new connection drains the same queue under a new epoch; the old writer stays out.
        let next = queue.open();
        assert_ne!(next, epoch);
        assert_eq!(push_now(&queue, b"3"), Ok(()));
        assert!(!queue.take_now(epoch, &mut batch));
        assert!(queue.take_now(next, &mut batch));
        assert_eq!(batch, b"3");
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
        queue.open();
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
            let epoch = queue.open();
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
                let mut batch = Vec::new();
                assert!(queue.take(epoch, &mut batch).await);
            }
            assert!(tokio::time::timeout(Duration::from_secs(1), reader).await.is_ok());
        }
    }
}
