//! The bounded mailbox behind every actor.
//!
//! A queue under a short lock, stored inline in the actor's cell: no allocation until the
//! first message arrives, and about a hundred bytes for an idle actor (a tokio channel costs
//! a separate allocation of over a kilobyte for its first block of slots). Senders are FIFO
//! per sender; `send` waits while the mailbox is full, `try_send` fails at once.
//!
//! The actor's task is the only receiver. It takes the whole queue at once into its
//! [`Inbox`], so senders and the receiver meet at the lock once per batch rather than once
//! per message. A counter of messages not yet handed to the actor keeps the capacity exact
//! across that split. Senders waiting for room are woken all at once when the mailbox has
//! drained to half its capacity: one wake-up per waiting sender per half-mailbox of messages,
//! not one per message. An idle actor hands its empty buffer back to the queue, so that a
//! request-reply exchange uses one buffer and allocates nothing per message.
//!
//! A message's [`Caller`] (the span it was sent from, the parent of its handler's span) is
//! known only while spans are recorded. It does not travel beside every message, which would
//! make each slot a word larger and every move of a message slower: the few known callers
//! wait in a side table, keyed by their message's position in its batch, and a flag tells
//! the receiver whether to look there at all.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::actor::SpawnError;
use crate::trace::Caller;

/// Mailbox capacity used when neither `#[actor(mailbox = N)]` nor `SpawnOptions` sets one.
///
/// 1024 messages: large enough that a burst of tells from a few senders rarely waits, small
/// enough that a stalled actor pushes back on its senders quickly. Capacity costs no memory
/// up front; the queue grows as messages arrive.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 1024;

/// The largest mailbox capacity the runtime accepts.
pub const MAX_MAILBOX_CAPACITY: usize = usize::MAX >> 3;

/// An actor's mailbox: shared by every ref through the actor's cell.
pub(crate) struct Mailbox<M> {
    state: Mutex<State<M>>,
    /// Messages sent and not yet handed to the actor, in the queue or in its inbox.
    len: AtomicUsize,
    /// Whether senders wait for room (set under the lock).
    senders_waiting: AtomicBool,
    /// Set when the actor exits; from then on every send fails. Written under the lock.
    closed: AtomicBool,
    /// Whether `State::callers` holds callers (written under the lock): the receiver
    /// takes the lock for a message's caller only while this is set.
    traced: AtomicBool,
    capacity: usize,
}

struct State<M> {
    queue: VecDeque<M>,
    /// The actor's task, when it waits for a message.
    receiver: Option<Waker>,
    /// Senders waiting for room.
    senders: Vec<Waker>,
    /// The known callers of queued messages; `None` while there are none.
    callers: Option<Box<Callers>>,
}

/// The known callers of the messages in the queue and in the receiver's batch, each with
/// its message's position there. Positions grow in each list, as messages are queued.
#[derive(Default)]
struct Callers {
    /// Callers of messages still in the queue: (index in the queue, caller).
    queued: VecDeque<(usize, Caller)>,
    /// Callers of messages in the receiver's batch: (index in the batch, caller).
    batch: VecDeque<(usize, Caller)>,
    /// How many messages the receiver's batch held when it was taken from the queue.
    batch_len: usize,
}

/// The receiver's side: the batch taken from the queue, owned by the actor's task.
pub(crate) struct Inbox<M> {
    batch: VecDeque<M>,
}

impl<M> Inbox<M> {
    /// Messages taken from the queue and not yet handed to the actor.
    pub(crate) fn len(&self) -> usize {
        self.batch.len()
    }
}

impl<M> Default for Inbox<M> {
    fn default() -> Self {
        Inbox {
            batch: VecDeque::new(),
        }
    }
}

/// Why `try_send` failed; the message is handed back.
pub(crate) enum TrySendError<M> {
    Full(M),
    Closed(M),
}

impl<M> Mailbox<M> {
    /// An open mailbox holding at most `capacity` messages.
    pub(crate) fn new(capacity: usize) -> Result<Self, SpawnError> {
        if capacity == 0 || capacity > MAX_MAILBOX_CAPACITY {
            return Err(SpawnError::InvalidMailboxCapacity {
                capacity,
                max: MAX_MAILBOX_CAPACITY,
            });
        }
        Ok(Self::with_state(capacity, false))
    }

    /// The mailbox of an actor that is already gone: every send fails with `Closed`.
    pub(crate) fn closed() -> Self {
        Self::with_state(1, true)
    }

    fn with_state(capacity: usize, closed: bool) -> Self {
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                receiver: None,
                senders: Vec::new(),
                callers: None,
            }),
            len: AtomicUsize::new(0),
            senders_waiting: AtomicBool::new(false),
            closed: AtomicBool::new(closed),
            traced: AtomicBool::new(false),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        // Nothing panics while holding the lock; a poisoned lock still holds a valid queue.
        crate::lock::lock(&self.state)
    }

    /// Enqueues `msg`, sent by `caller`, if there is room now.
    #[inline]
    pub(crate) fn try_send(&self, msg: M, caller: Caller) -> Result<(), TrySendError<M>> {
        self.push(msg, caller).map_err(|error| match error {
            TrySendError::Full((msg, caller)) => {
                caller.discard();
                TrySendError::Full(msg)
            }
            TrySendError::Closed((msg, caller)) => {
                caller.discard();
                TrySendError::Closed(msg)
            }
        })
    }

    /// [`try_send`](Self::try_send), giving the caller back with the message on failure.
    #[inline]
    fn push(&self, msg: M, caller: Caller) -> Result<(), TrySendError<(M, Caller)>> {
        let mut state = self.lock();
        if self.closed.load(Ordering::Relaxed) {
            return Err(TrySendError::Closed((msg, caller)));
        }
        // Only the receiver lowers the count, outside the lock: the check errs on the full
        // side, never over capacity.
        if self.len.load(Ordering::SeqCst) >= self.capacity {
            return Err(TrySendError::Full((msg, caller)));
        }
        if caller.is_known() {
            self.note_caller(&mut state, caller);
        } else {
            caller.discard();
        }
        if state.queue.capacity() == 0 {
            // One slot, not the four a first push would allocate: an actor answering one
            // call at a time never needs more, and its idle buffer is 72 bytes smaller. A
            // burst grows it as usual; the buffer is kept (see `poll_ready`).
            state.queue.reserve_exact(1);
        }
        state.queue.push_back(msg);
        self.len.fetch_add(1, Ordering::SeqCst);
        let receiver = state.receiver.take();
        drop(state);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
        Ok(())
    }

    /// Records the caller of the message about to be queued. Out of line: callers are known
    /// only while spans are recorded.
    #[cold]
    #[inline(never)]
    fn note_caller(&self, state: &mut State<M>, caller: Caller) {
        let position = state.queue.len();
        let callers = state.callers.get_or_insert_with(Box::default);
        callers.queued.push_back((position, caller));
        self.traced.store(true, Ordering::Relaxed);
    }

    /// Waits for room, then enqueues `msg`, sent by `caller`. Gives the message back if the
    /// actor has stopped.
    pub(crate) async fn send(&self, msg: M, caller: Caller) -> Result<(), M> {
        let mut msg = Some((msg, caller));
        poll_fn(|cx| match msg.take() {
            Some((m, caller)) => match self.poll_send(cx, m, caller) {
                Ok(outcome) => Poll::Ready(outcome),
                Err(m) => {
                    msg = Some(m);
                    Poll::Pending
                }
            },
            // Not reached: the future completes as soon as the message is taken.
            None => Poll::Ready(Ok(())),
        })
        .await
    }

    /// One attempt of `send`: `Ok` with the outcome, or `Err` with the message and its
    /// caller after registering to be woken when there is room.
    fn poll_send(&self, cx: &mut Context<'_>, msg: M, caller: Caller) -> Result<Result<(), M>, (M, Caller)> {
        match self.push(msg, caller) {
            Ok(()) => Ok(Ok(())),
            Err(TrySendError::Closed((msg, caller))) => {
                caller.discard();
                Ok(Err(msg))
            }
            Err(TrySendError::Full(msg)) => {
                let mut state = self.lock();
                if self.closed.load(Ordering::Relaxed) {
                    let (msg, caller) = msg;
                    caller.discard();
                    return Ok(Err(msg));
                }
                self.senders_waiting.store(true, Ordering::SeqCst);
                if !state.senders.iter().any(|w| w.will_wake(cx.waker())) {
                    state.senders.push(cx.waker().clone());
                }
                // Re-checked after announcing the wait: either the receiver sees the flag
                // when it makes room, or this sees the room it made.
                if self.len.load(Ordering::SeqCst) < self.capacity {
                    drop(state);
                    cx.waker().wake_by_ref();
                }
                Err(msg)
            }
        }
    }

    /// Messages waiting: sent and not yet handed to the actor.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the actor's task waits for a message now: idle, not in a handler. Takes the
    /// lock; for introspection, not for the hot path.
    pub(crate) fn receiver_waiting(&self) -> bool {
        self.lock().receiver.is_some()
    }

    /// Takes the next message, if any. Only the actor's task receives, with its own inbox.
    #[cfg(test)]
    pub(crate) fn try_recv(&self, inbox: &mut Inbox<M>) -> Option<(M, Caller)> {
        if inbox.batch.is_empty() {
            let mut state = self.lock();
            Self::take_queue(&mut state, inbox);
        }
        self.take(inbox)
    }

    /// Waits for the next message; `None` once the mailbox is closed.
    #[cfg(test)]
    pub(crate) async fn recv(&self, inbox: &mut Inbox<M>) -> Option<(M, Caller)> {
        poll_fn(|cx| self.poll_recv(cx, inbox)).await
    }

    /// Takes the next message, or registers the task to be woken by the next send; `None`
    /// once the mailbox is closed.
    #[cfg(test)]
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>, inbox: &mut Inbox<M>) -> Poll<Option<(M, Caller)>> {
        match self.poll_ready(cx, inbox) {
            Poll::Ready(true) => match self.take(inbox) {
                Some(msg) => Poll::Ready(Some(msg)),
                None => Poll::Pending,
            },
            Poll::Ready(false) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Whether a message waits in `inbox` (`true`, refilled from the queue if it was empty)
    /// or the mailbox is closed (`false`); otherwise registers the task to be woken by the
    /// next send. The run loop then [`take`](Self::take)s the message itself: returned here,
    /// it would be moved through every layer's return value on its way to the handler.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, inbox: &mut Inbox<M>) -> Poll<bool> {
        if inbox.batch.is_empty() {
            let mut state = self.lock();
            if state.queue.is_empty() {
                if self.closed.load(Ordering::Relaxed) {
                    return Poll::Ready(false);
                }
                match &mut state.receiver {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                // Idle: the inbox's empty buffer goes back to the queue, where the next send
                // puts its message without allocating. Nothing is freed: a buffer freed here
                // would be allocated and grown again by the next burst.
                std::mem::swap(&mut state.queue, &mut inbox.batch);
                return Poll::Pending;
            }
            Self::take_queue(&mut state, inbox);
        }
        Poll::Ready(true)
    }

    /// Moves the queue into the receiver's empty batch, with its messages' callers.
    #[inline]
    fn take_queue(state: &mut State<M>, inbox: &mut Inbox<M>) {
        std::mem::swap(&mut state.queue, &mut inbox.batch);
        if let Some(callers) = state.callers.as_deref_mut() {
            // The batch was empty, so were its callers: every one was taken with its message.
            std::mem::swap(&mut callers.batch, &mut callers.queued);
            callers.batch_len = inbox.batch.len();
        }
    }

    /// Takes the message at the front of `inbox` (see [`poll_ready`](Self::poll_ready)),
    /// with its caller.
    #[inline]
    pub(crate) fn take(&self, inbox: &mut Inbox<M>) -> Option<(M, Caller)> {
        let remaining = inbox.batch.len();
        let msg = inbox.batch.pop_front()?;
        let caller = if Caller::TRACKED && self.traced.load(Ordering::Relaxed) {
            self.caller_of(remaining)
        } else {
            Caller::default()
        };
        self.taken();
        Some((msg, caller))
    }

    /// The caller of the message just taken from the front of a batch that held
    /// `remaining` messages before; forgets the side table once it is empty.
    #[cold]
    #[inline(never)]
    fn caller_of(&self, remaining: usize) -> Caller {
        let mut state = self.lock();
        let Some(callers) = state.callers.as_deref_mut() else {
            return Caller::default();
        };
        let position = callers.batch_len.checked_sub(remaining);
        let caller = match callers.batch.front() {
            Some(&(at, _)) if Some(at) == position => callers.batch.pop_front().map(|(_, caller)| caller),
            _ => None,
        };
        if callers.batch.is_empty() && callers.queued.is_empty() {
            state.callers = None;
            self.traced.store(false, Ordering::Relaxed);
        }
        caller.unwrap_or_default()
    }

    /// A message was handed to the actor: counts it out, and wakes the waiting senders once
    /// the mailbox is down to half its capacity.
    fn taken(&self) {
        let before = self.len.fetch_sub(1, Ordering::SeqCst);
        if before - 1 > self.capacity / 2 || !self.senders_waiting.load(Ordering::SeqCst) {
            return;
        }
        let senders = {
            let mut state = self.lock();
            self.senders_waiting.store(false, Ordering::SeqCst);
            std::mem::take(&mut state.senders)
        };
        for sender in senders {
            sender.wake();
        }
    }

    /// Refuses new messages and drops the queued ones, `inbox`'s too (their reply channels
    /// then report `ActorStopped` to their callers). Waiting senders are woken and fail.
    pub(crate) fn close_and_drain(&self, inbox: &mut Inbox<M>) {
        let (queue, senders, callers) = {
            let mut state = self.lock();
            self.closed.store(true, Ordering::Relaxed);
            self.traced.store(false, Ordering::Relaxed);
            state.receiver = None;
            self.len.store(0, Ordering::SeqCst);
            (
                std::mem::take(&mut state.queue),
                std::mem::take(&mut state.senders),
                state.callers.take(),
            )
        };
        // Dropped outside the lock: a message may hold refs whose drop does more work.
        drop(queue);
        drop(callers);
        drop(std::mem::take(&mut inbox.batch));
        for sender in senders {
            sender.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// The message of a received pair whose caller must be unknown.
    fn untraced<M>(received: Option<(M, Caller)>) -> Option<M> {
        received.map(|(msg, caller)| {
            assert!(!caller.is_known(), "a message sent without a caller got one");
            msg
        })
    }

    #[test]
    fn capacity_is_checked() {
        assert!(Mailbox::<u8>::new(0).is_err());
        assert!(Mailbox::<u8>::new(MAX_MAILBOX_CAPACITY + 1).is_err());
        assert!(Mailbox::<u8>::new(1).is_ok());
    }

    #[test]
    fn try_send_reports_full_and_closed() {
        let mailbox = Mailbox::new(2).unwrap();
        assert!(mailbox.try_send(1, Caller::default()).is_ok());
        assert!(mailbox.try_send(2, Caller::default()).is_ok());
        assert!(matches!(
            mailbox.try_send(3, Caller::default()),
            Err(TrySendError::Full(3))
        ));
        assert_eq!(mailbox.len(), 2);
        let mut inbox = Inbox::default();
        assert_eq!(untraced(mailbox.try_recv(&mut inbox)), Some(1));
        assert_eq!(mailbox.len(), 1);
        mailbox.close_and_drain(&mut inbox);
        assert_eq!(mailbox.len(), 0);
        assert!(matches!(
            mailbox.try_send(4, Caller::default()),
            Err(TrySendError::Closed(4))
        ));
        assert!(matches!(
            Mailbox::closed().try_send(5, Caller::default()),
            Err(TrySendError::Closed(5))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_mailbox_backpressures_and_keeps_each_senders_order() {
        let mailbox = Arc::new(Mailbox::new(4).unwrap());
        let senders: Vec<_> = (0..4u64)
            .map(|s| {
                let mailbox = Arc::clone(&mailbox);
                tokio::spawn(async move {
                    for i in 0..10_000u64 {
                        mailbox.send((s, i), Caller::default()).await.unwrap();
                    }
                })
            })
            .collect();
        let mut next = [0u64; 4];
        let mut inbox = Inbox::default();
        for _ in 0..40_000 {
            let received = tokio::time::timeout(Duration::from_secs(10), mailbox.recv(&mut inbox)).await;
            let (s, i) = untraced(received.unwrap()).unwrap();
            assert_eq!(next[s as usize], i, "sender {s} out of order");
            next[s as usize] += 1;
            assert!(mailbox.len() <= 4);
        }
        for sender in senders {
            sender.await.unwrap();
        }
    }

    #[test]
    fn an_idle_receiver_hands_its_empty_buffer_back_to_the_queue() {
        let mailbox = Mailbox::new(16).unwrap();
        let mut inbox = Inbox::default();
        let mut cx = Context::from_waker(Waker::noop());
        for msg in 0..3 {
            mailbox.try_send(msg, Caller::default()).ok().unwrap();
            let received = mailbox.poll_recv(&mut cx, &mut inbox).map(untraced);
            assert_eq!(received, Poll::Ready(Some(msg)));
            assert!(mailbox.poll_recv(&mut cx, &mut inbox).is_pending());
            // One buffer in all, ready for the next send.
            assert_eq!(inbox.batch.capacity(), 0);
            assert!(mailbox.lock().queue.capacity() > 0);
        }
    }

    #[tokio::test]
    async fn closing_fails_waiting_senders_and_ends_recv() {
        let mailbox = Arc::new(Mailbox::new(1).unwrap());
        mailbox.try_send(0u8, Caller::default()).ok().unwrap();
        let waiting = {
            let mailbox = Arc::clone(&mailbox);
            tokio::spawn(async move { mailbox.send(1, Caller::default()).await })
        };
        tokio::task::yield_now().await;
        let mut inbox = Inbox::default();
        mailbox.close_and_drain(&mut inbox);
        assert_eq!(waiting.await.unwrap(), Err(1));
        assert!(mailbox.recv(&mut inbox).await.is_none());
    }

    /// A known caller, told apart from others by `n` (its span's id).
    #[cfg(feature = "tracing")]
    fn known(n: u8) -> Caller {
        // A span id of zeros is invalid in W3C trace context: `n` is stored plus one.
        let context = crate::trace::TraceContext::new([1; 16], [n + 1; 8], 1).ok();
        assert!(context.is_some());
        Caller::remote(context)
    }

    /// Which caller a message got: its `n`, or `None` for an unknown one.
    #[cfg(feature = "tracing")]
    fn which(caller: &Caller) -> Option<u8> {
        caller.remote_context().map(|context| context.parent_id()[0] - 1)
    }

    #[cfg(feature = "tracing")]
    #[test]
    fn each_message_gets_its_own_caller_across_batches() {
        let mailbox = Mailbox::new(64).unwrap();
        let mut inbox = Inbox::default();
        let mut cx = Context::from_waker(Waker::noop());
        // Messages with a caller (the even ones below 20) among ones without, sent while
        // the receiver holds part of them in its batch.
        let caller_of = |msg: u8| (msg % 2 == 0 && msg < 20).then_some(msg);
        let send = |msg: u8| {
            let caller = caller_of(msg).map(known).unwrap_or_default();
            mailbox.try_send(msg, caller).ok().unwrap();
        };
        (0..5).for_each(send);
        let mut received = Vec::new();
        let mut receive = |inbox: &mut Inbox<u8>, count: usize| {
            for _ in 0..count {
                assert_eq!(mailbox.poll_ready(&mut cx, inbox), Poll::Ready(true));
                let (msg, caller) = mailbox.take(inbox).unwrap();
                received.push((msg, which(&caller)));
            }
        };
        receive(&mut inbox, 2);
        (5..12).for_each(send);
        receive(&mut inbox, 6);
        (12..30).for_each(send);
        receive(&mut inbox, 22);
        assert!(mailbox.poll_ready(&mut cx, &mut inbox).is_pending());
        let expected: Vec<_> = (0..30).map(|msg| (msg, caller_of(msg))).collect();
        assert_eq!(received, expected);
        // The side table is gone with its last caller: untraced messages look nowhere.
        assert!(!mailbox.traced.load(Ordering::Relaxed));
        assert!(mailbox.lock().callers.is_none());
    }

    #[cfg(feature = "tracing")]
    #[test]
    fn refused_and_drained_messages_leave_no_caller_behind() {
        let mailbox = Mailbox::new(2).unwrap();
        let mut inbox = Inbox::default();
        mailbox.try_send(1u8, known(1)).ok().unwrap();
        mailbox.try_send(2, Caller::default()).ok().unwrap();
        // Full: the refused message's caller is not recorded for a later message.
        assert!(matches!(
            mailbox.try_send(3, known(3)),
            Err(TrySendError::Full(3))
        ));
        let (msg, caller) = mailbox.try_recv(&mut inbox).unwrap();
        assert_eq!((msg, which(&caller)), (1, Some(1)));
        mailbox.try_send(4, Caller::default()).ok().unwrap();
        let (msg, caller) = mailbox.try_recv(&mut inbox).unwrap();
        assert_eq!((msg, which(&caller)), (2, None));
        let (msg, caller) = mailbox.try_recv(&mut inbox).unwrap();
        assert_eq!((msg, which(&caller)), (4, None));
        mailbox.try_send(5, known(5)).ok().unwrap();
        mailbox.close_and_drain(&mut inbox);
        assert!(mailbox.lock().callers.is_none());
        assert!(!mailbox.traced.load(Ordering::Relaxed));
    }
}
