//! The send queue of one peer: a byte buffer that senders append whole frames to and the
//! connection's writer drains with one write per batch.
//!
//! Senders encode straight into the shared buffer, so a message costs no allocation of its
//! own, and a writer that wakes up finds every frame queued since its last write and sends
//! them in one syscall. The buffer is bounded: once it holds `limit` bytes, senders of
//! messages wait until the writer has taken the batch, so a slow peer (or a slow network)
//! backpressures the actors sending to it instead of growing memory. Replies and control
//! frames are appended regardless of the bound: they are produced where no one can wait (a
//! reply sent from a handler, a DOWN sent while an actor exits), and their number is bounded
//! by the calls and monitors in flight.
//!
//! The queue belongs to the peer, not to a connection: a reconnect drains the same queue, so
//! refs to the peer stay valid. While no connection is up the queue is closed and every
//! append fails at once.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// A writer keeps a batch buffer of up to this capacity between batches; a larger one (left
/// by a burst of big frames) is released.
const RETAINED_CAPACITY: usize = 256 * 1024;

struct State {
    buf: Vec<u8>,
    open: bool,
    /// Bumped on every close, so a writer that outlived its connection stops draining.
    epoch: u64,
}

pub(crate) struct SendQueue {
    state: Mutex<State>,
    /// Wakes the writer: bytes were appended, or the queue closed.
    ready: Notify,
    /// Wakes senders waiting for room, after the writer took a batch or the queue closed.
    room: Notify,
    pub(crate) limit: usize,
}

/// Why an append failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushError<E> {
    /// No connection is up.
    Closed,
    /// The frame could not be built; the queue is unchanged.
    Encode(E),
}

impl SendQueue {
    pub(crate) fn new(limit: usize) -> Self {
        SendQueue {
            state: Mutex::new(State {
                buf: Vec::new(),
                open: false,
                epoch: 0,
            }),
            ready: Notify::new(),
            room: Notify::new(),
            limit: limit.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the queue for a new connection; returns the epoch its writer drains.
    pub(crate) fn open(&self) -> u64 {
        let mut state = self.lock();
        state.open = true;
        state.buf.clear();
        state.epoch
    }

    /// Closes the queue: discards what was not written and fails waiting and later senders.
    pub(crate) fn close(&self) {
        {
            let mut state = self.lock();
            state.open = false;
            state.epoch += 1;
            state.buf = Vec::new();
        }
        self.room.notify_waiters();
        self.ready.notify_waiters();
    }

    /// Hands the queue over to a new connection's writer without losing what is queued: the
    /// old writer stops at its next wake-up. Returns the new writer's epoch.
    pub(crate) fn hand_over(&self) -> u64 {
        let epoch = {
            let mut state = self.lock();
            state.open = true;
            state.epoch += 1;
            state.epoch
        };
        self.ready.notify_waiters();
        self.ready.notify_one();
        epoch
    }

    /// Appends one frame that `build` makes from `value`, waiting while the queue holds
    /// `limit` bytes or more. `build` appends to the buffer and must leave it unchanged on
    /// error. The value is owned by the waiting future and only borrowed while no await is
    /// pending, so the future is `Send` whenever `T` is, even if `T` is not `Sync`.
    pub(crate) async fn push<T, E>(
        &self,
        value: T,
        build: impl Fn(&mut Vec<u8>, &T) -> Result<(), E>,
    ) -> Result<(), PushError<E>> {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut state = self.lock();
                if !state.open {
                    return Err(PushError::Closed);
                }
                if state.buf.len() < self.limit {
                    let was_empty = state.buf.is_empty();
                    build(&mut state.buf, &value).map_err(PushError::Encode)?;
                    drop(state);
                    if was_empty {
                        self.ready.notify_one();
                    }
                    return Ok(());
                }
            }
            room.await;
        }
    }

    /// Appends one frame at once, beyond the bound if need be (replies and control frames).
    pub(crate) fn push_now<E>(
        &self,
        build: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), PushError<E>> {
        let mut state = self.lock();
        if !state.open {
            return Err(PushError::Closed);
        }
        let was_empty = state.buf.is_empty();
        build(&mut state.buf).map_err(PushError::Encode)?;
        drop(state);
        if was_empty {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Bytes waiting to be written.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.lock().buf.len()
    }

    /// Waits for bytes to write and swaps them into `batch` (which must be empty). Returns
    /// false once the queue was closed after `epoch` began: the writer must stop.
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
                    drop(state);
                    self.room.notify_waiters();
                    return true;
                }
            }
            ready.await;
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
        queue.push((), move |buf, ()| build(buf)).await
    }

    #[tokio::test]
    async fn closed_queue_refuses_at_once() {
        let queue = SendQueue::new(16);
        assert_eq!(push(&queue, b"x").await, Err(PushError::Closed));
        assert_eq!(queue.push_now(frame(b"x")), Err(PushError::Closed));
    }

    #[tokio::test]
    async fn batches_everything_queued_since_the_last_take() {
        let queue = SendQueue::new(1024);
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
        let queue = SendQueue::new(1024);
        queue.open();
        let failed = queue.push((), |_buf: &mut Vec<u8>, ()| Err("too big")).await;
        assert_eq!(failed, Err(PushError::Encode("too big")));
        assert_eq!(queue.queued_bytes(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_makes_senders_wait_until_the_writer_takes_a_batch() {
        let queue = Arc::new(SendQueue::new(4));
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
        assert_eq!(queue.push_now(frame(b"6789")), Ok(()));
        assert_eq!(queue.queued_bytes(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn closing_fails_waiting_senders_and_stops_the_writer() {
        let queue = Arc::new(SendQueue::new(1));
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
        assert_eq!(queue.push_now(frame(b"3")), Ok(()));
        assert!(!queue.take_now(epoch, &mut batch));
        assert!(queue.take_now(next, &mut batch));
        assert_eq!(batch, b"3");
    }
}
