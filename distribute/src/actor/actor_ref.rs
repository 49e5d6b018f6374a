//! [`ActorRef`]: the typed address of an actor.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::cell::Cell;
use super::deadline;
use super::endpoint::{link, Endpoint};
use super::mailbox::TrySendError;
use super::monitor::Monitor;
use super::remote::{self, RemotePeer, Room};
use super::reply::{NoReply, ReplyTo};
use super::signal::Signal;
use super::{Actor, ActorId, ExitReason};
use crate::actor::CallError;

/// How long a call waits for its reply unless told otherwise: 5 seconds.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A value that can travel in a message: an argument, or the reply of a call (a reply to a
/// remote call is encoded by the callee's node and decoded by the caller's with the actor's
/// codec). Implemented for every `Serialize + DeserializeOwned + Send + 'static` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel in a message",
    label = "not serializable",
    note = "message arguments and replies cross the network, so they must implement `serde::Serialize` and `serde::de::DeserializeOwned` and be `Send + 'static`",
    note = "derive them: `#[derive(serde::Serialize, serde::Deserialize)]`"
)]
pub trait Wire: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {}

impl<T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static> Wire for T {}

/// The typed address of an actor of type `A`, on this node or on another.
///
/// Cheap to clone (one reference count), `Send + Sync`, comparable and hashable by
/// [`ActorId`]. A ref stays valid for the actor's whole life; once the actor has stopped,
/// sends fail at once with [`CallError::ActorStopped`].
///
/// A ref to an actor on another node works the same way: `tell`, `ask` and the generated
/// client methods encode the message with the actor's codec and send it over the connection
/// to that node; errors of the network arrive as [`CallError::NodeDown`],
/// [`CallError::PayloadTooLarge`], [`CallError::ProtocolMismatch`] and the codec errors. A
/// ref serializes as its actor's id and protocol fingerprint, so it can travel inside
/// messages: the node that decodes it gets a working ref (local again if it comes home).
///
/// The typed client methods that `#[actor]` generates (`counter.add(5).await?`) are defined
/// on every [`Recipient`], which `ActorRef` is; the methods below are what they use.
pub struct ActorRef<A: Actor> {
    pub(crate) kind: RefKind<A>,
}

pub(crate) enum RefKind<A: Actor> {
    Local(Arc<Cell<A>>),
    Remote(RemoteTarget),
}

/// Where a remote actor lives: its id and the peer that hosts it.
///
/// Three words: every actor's context holds a ref, and a word more there makes every actor's
/// task larger; so the id is kept as the actor's number, its node being the peer's.
#[derive(Clone)]
pub(crate) struct RemoteTarget {
    pub(crate) local: u64,
    pub(crate) peer: Arc<dyn RemotePeer>,
}

impl RemoteTarget {
    pub(crate) fn id(&self) -> ActorId {
        ActorId::new(self.peer.node(), self.local)
    }
}

impl<A: Actor> ActorRef<A> {
    pub(crate) fn from_cell(cell: Arc<Cell<A>>) -> Self {
        ActorRef {
            kind: RefKind::Local(cell),
        }
    }

    pub(crate) fn remote(id: ActorId, peer: Arc<dyn RemotePeer>) -> Self {
        ActorRef {
            kind: RefKind::Remote(RemoteTarget {
                local: id.local(),
                peer,
            }),
        }
    }

    /// The actor's shared cell, if it lives on this node.
    pub(crate) fn local_cell(&self) -> Option<&Arc<Cell<A>>> {
        match &self.kind {
            RefKind::Local(cell) => Some(cell),
            RefKind::Remote(_) => None,
        }
    }

    pub(crate) fn endpoint(&self) -> Endpoint {
        match &self.kind {
            RefKind::Local(cell) => Endpoint::Local(cell.clone()),
            RefKind::Remote(target) => Endpoint::Remote {
                id: target.id(),
                peer: Arc::clone(&target.peer),
            },
        }
    }

    /// The actor's identity.
    pub fn id(&self) -> ActorId {
        match &self.kind {
            RefKind::Local(cell) => cell.core.id,
            RefKind::Remote(target) => target.id(),
        }
    }

    /// Whether the actor lives on this node.
    pub fn is_local(&self) -> bool {
        matches!(self.kind, RefKind::Local(_))
    }

    /// Whether the actor is alive, as far as this node knows (it may stop the next instant).
    ///
    /// For an actor on this node the answer is exact: it has not stopped (a supervised actor
    /// between a failure and its restart is alive: its ref still works). For an actor on
    /// another node, this node cannot watch it run: `false` once its node is disconnected or
    /// down, or once that node told us the actor stopped (a [`monitor`](Self::monitor) of it
    /// fired, as [`stop`](Self::stop) and [`wait_for_stop`](Self::wait_for_stop) use, or a
    /// linked actor's exit arrived); `true` otherwise, even if it stopped without this node
    /// asking. To learn of a remote actor's stop, monitor it.
    pub fn is_alive(&self) -> bool {
        match &self.kind {
            RefKind::Local(cell) => cell.core.is_alive(),
            RefKind::Remote(target) => target.peer.is_up() && !target.peer.is_known_stopped(target.local),
        }
    }

    /// Whether the actor's node is reachable now: always `true` for an actor on this node;
    /// for one on another node, whether the connection to that node is up. Says nothing of
    /// the actor itself; see [`is_alive`](Self::is_alive).
    pub fn is_node_up(&self) -> bool {
        match &self.kind {
            RefKind::Local(_) => true,
            RefKind::Remote(target) => target.peer.is_up(),
        }
    }

    /// The reason the actor stopped, or `None` while it runs. Always `None` for an actor on
    /// another node, whose exit is learnt with [`monitor`](Self::monitor).
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.local_cell()
            .and_then(|cell| cell.core.exit_reason().cloned())
    }

    /// Messages waiting in the mailbox now; 0 for an actor on another node, whose mailbox
    /// this node cannot see.
    pub fn mailbox_len(&self) -> usize {
        self.local_cell().map_or(0, |cell| cell.mailbox.len())
    }

    /// The mailbox's capacity; 0 for an actor on another node.
    pub fn mailbox_capacity(&self) -> usize {
        self.local_cell().map_or(0, |cell| cell.mailbox.capacity())
    }

    /// Sends a message without waiting for a reply. Waits while the mailbox is full
    /// (backpressure); for a remote actor, while the connection's send queue is full. Fails
    /// with [`CallError::ActorStopped`] if the actor has stopped, [`CallError::NodeDown`] if
    /// its node is not connected.
    pub async fn tell(&self, msg: A::Msg) -> Result<(), CallError> {
        let told = match &self.kind {
            // Room now, the common case, costs no waiting future: the message goes from this
            // future's state into the mailbox, not through the states of `send`'s layers.
            RefKind::Local(cell) => match cell.try_send(msg) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(msg)) => cell
                    .send(msg)
                    .await
                    .map_err(|_| CallError::ActorStopped { actor: cell.core.id }),
                Err(TrySendError::Closed(_)) => Err(CallError::ActorStopped { actor: cell.core.id }),
            },
            RefKind::Remote(target) => remote::tell::<A>(target, msg).await,
        };
        self.counted(told)
    }

    /// Counts a failed tell or call in `distribute_call_errors_total`; returns `outcome`.
    /// Inlined, with the counting out of line: a send that succeeds pays one branch, not a
    /// call that moves its result.
    #[inline(always)]
    fn counted<T>(&self, outcome: Result<T, CallError>) -> Result<T, CallError> {
        if let Err(error) = &outcome {
            self.count_error(error);
        }
        outcome
    }

    #[cold]
    #[inline(never)]
    fn count_error(&self, error: &CallError) {
        match &self.kind {
            RefKind::Local(cell) => cell.core.shared.meters.call_error(error.kind()),
            RefKind::Remote(target) => target.peer.call_error(A::NAME, error.kind()),
        }
    }

    /// Sends a message if the mailbox has room now; [`CallError::MailboxFull`] otherwise.
    /// On failure the message is dropped. For a remote actor, "room" is room in the
    /// connection's send queue.
    pub fn try_tell(&self, msg: A::Msg) -> Result<(), CallError> {
        let told = match &self.kind {
            RefKind::Local(cell) => cell.try_send(msg).map_err(|e| match e {
                TrySendError::Full(_) => CallError::MailboxFull { actor: cell.core.id },
                TrySendError::Closed(_) => CallError::ActorStopped { actor: cell.core.id },
            }),
            RefKind::Remote(target) => remote::try_tell::<A>(target, &msg),
        };
        self.counted(told)
    }

    /// Sends the message that `make` builds around a reply channel and waits for the reply,
    /// for at most [`DEFAULT_CALL_TIMEOUT`].
    ///
    /// ```
    /// # use distribute::prelude::*;
    /// # #[actor] #[derive(Default)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[message] fn get(&self) -> u64 { self.n } }
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = Node::new();
    /// let counter = node.spawn(Counter::default()).await?;
    /// // What the generated `counter.get()` does:
    /// let n = counter.ask(|reply| CounterMsg::Get { reply }).await?;
    /// assert_eq!(n, 0);
    /// # Ok(()) }
    /// ```
    // Not `async fn`s, these three: each returns `call`'s future as it is, without a state
    // machine of its own around it (an ask is a few hundred nanoseconds; every layer moves).
    pub fn ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send + use<'_, A, R, F>
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        self.call(make, DEFAULT_CALL_TIMEOUT, Room::Wait)
    }

    /// Like [`ask`](Self::ask) with an explicit timeout, which also bounds the wait for room
    /// in a full mailbox. Fails with [`CallError::Timeout`] when it elapses,
    /// [`CallError::ActorFailed`] if the handler of this message panicked, and
    /// [`CallError::ActorStopped`] if the actor stopped before handling it; both of the
    /// latter at once, not at the timeout. A call to a remote actor whose node goes down
    /// fails with [`CallError::NodeDown`] at once, too.
    pub fn ask_timeout<R, F>(
        &self,
        make: F,
        timeout: Duration,
    ) -> impl Future<Output = Result<R, CallError>> + Send + use<'_, A, R, F>
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        self.call(make, timeout, Room::Wait)
    }

    /// Like [`ask`](Self::ask), but fails at once with [`CallError::MailboxFull`] when the
    /// mailbox (for a remote actor, the connection's send queue) has no room now, instead of
    /// waiting for room; once the message is in, waits for the reply as `ask` does, for at
    /// most [`DEFAULT_CALL_TIMEOUT`]. On failure the message is dropped. The generated
    /// `try_` client methods of an ask use it.
    pub fn try_ask<R, F>(
        &self,
        make: F,
    ) -> impl Future<Output = Result<R, CallError>> + Send + use<'_, A, R, F>
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        self.call(make, DEFAULT_CALL_TIMEOUT, Room::Now)
    }

    async fn call<R, F>(&self, make: F, timeout: Duration, room: Room) -> Result<R, CallError>
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        let answer = match &self.kind {
            RefKind::Local(cell) => local_ask(cell, make, timeout, room).await,
            RefKind::Remote(target) => remote::ask::<A, R, F>(target, make, timeout, room).await,
        };
        self.counted(answer)
    }

    /// A view of this ref whose calls use `timeout` instead of [`DEFAULT_CALL_TIMEOUT`]:
    /// `counter.with_timeout(Duration::from_millis(50)).get().await`.
    pub fn with_timeout(&self, timeout: Duration) -> WithTimeout<'_, A> {
        WithTimeout {
            target: self,
            timeout,
        }
    }

    /// Asks the actor to stop with `reason` after the message it is handling, and waits until
    /// it has stopped. Messages still queued are dropped; their callers get
    /// [`CallError::ActorStopped`]. Returns the reason the actor stopped with (which may
    /// differ if it was already stopping, and is [`ExitReason::NodeDown`] if the actor's
    /// node was lost first).
    pub async fn stop(&self, reason: ExitReason) -> ExitReason {
        match &self.kind {
            RefKind::Local(cell) => {
                let _ = cell.core.signal(Signal::Stop(reason));
            }
            RefKind::Remote(target) => {
                let monitor = self.monitor();
                target.peer.stop(target.id(), &reason);
                return monitor.await.reason;
            }
        }
        self.wait_for_stop().await
    }

    /// Stops the actor at once, even in the middle of a handler. Its `stopped` hook does not
    /// run; links and monitors see [`ExitReason::Killed`].
    pub fn kill(&self) {
        match &self.kind {
            RefKind::Local(cell) => cell.core.kill(),
            RefKind::Remote(target) => target.peer.kill(target.id()),
        }
    }

    /// Waits until the actor has stopped (and its links, monitors and node were told), and
    /// returns why it stopped.
    pub async fn wait_for_stop(&self) -> ExitReason {
        match &self.kind {
            RefKind::Local(cell) => cell.core.wait_for_stop().await,
            RefKind::Remote(_) => self.monitor().await.reason,
        }
    }

    /// Monitors the actor: the returned [`Monitor`] resolves to a [`Down`](super::Down)
    /// with the exit reason when the actor stops, at once if it has already stopped. For an
    /// actor on another node, it also resolves, with [`ExitReason::NodeDown`], when the
    /// connection to that node is lost.
    pub fn monitor(&self) -> Monitor {
        let (monitor, watcher) = Monitor::new(self.id());
        self.endpoint().add_watcher(watcher);
        monitor
    }

    /// Links this actor with `other`: when either exits abnormally, the other receives its
    /// exit signal and, unless it traps exits, stops with [`ExitReason::Linked`]. Linking to
    /// an actor that has already stopped delivers an exit with [`ExitReason::NoProc`]; a
    /// link to an actor on a node that goes down delivers [`ExitReason::NodeDown`].
    pub fn link<B: Actor>(&self, other: &ActorRef<B>) {
        link(&self.endpoint(), &other.endpoint());
    }

    /// Removes a link between this actor and `other`, in both directions.
    pub fn unlink<B: Actor>(&self, other: &ActorRef<B>) {
        self.endpoint().remove_link(other.id());
        other.endpoint().remove_link(self.id());
    }
}

/// A call to an actor on this node: its reply comes back on a oneshot channel.
async fn local_ask<A, R, F>(cell: &Cell<A>, make: F, timeout: Duration, room: Room) -> Result<R, CallError>
where
    A: Actor,
    R: Send + 'static,
    F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
{
    let actor = cell.core.id;
    let (tx, rx) = oneshot::channel();
    let msg = make(ReplyTo::new(tx));
    let exchange = async {
        match room {
            // Room now, the common case, builds no waiting future (as a tell).
            Room::Wait => match cell.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(msg)) => cell
                    .send(msg)
                    .await
                    .map_err(|_| CallError::ActorStopped { actor })?,
                Err(TrySendError::Closed(_)) => return Err(CallError::ActorStopped { actor }),
            },
            Room::Now => cell.try_send(msg).map_err(|e| match e {
                TrySendError::Full(_) => CallError::MailboxFull { actor },
                TrySendError::Closed(_) => CallError::ActorStopped { actor },
            })?,
        }
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(NoReply::Failed)) => Err(CallError::ActorFailed { actor }),
            Ok(Err(NoReply::Error(error))) => Err(error),
            Ok(Err(NoReply::Stopped)) | Err(_) => Err(CallError::ActorStopped { actor }),
        }
    };
    deadline::within(timeout, exchange)
        .await
        .unwrap_or(Err(CallError::Timeout { actor, timeout }))
}

impl<A: Actor> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        let kind = match &self.kind {
            RefKind::Local(cell) => RefKind::Local(Arc::clone(cell)),
            RefKind::Remote(target) => RefKind::Remote(target.clone()),
        };
        ActorRef { kind }
    }
}

impl<A: Actor> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<A: Actor> Eq for ActorRef<A> {}

impl<A: Actor> Hash for ActorRef<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl<A: Actor> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorRef<{}>({})", A::NAME, self.id())
    }
}

/// Anything that delivers messages to actors of type `A`: an [`ActorRef`] (local or remote),
/// a [`WithTimeout`] view of one, and a [`Pool`](crate::Pool).
///
/// The client traits generated by `#[actor]` are implemented for every `Recipient<A>`, so
/// `counter.add(5)` works on all of them.
pub trait Recipient<A: Actor>: Send + Sync {
    /// Sends without waiting for a reply; waits for room in the mailbox.
    fn tell(&self, msg: A::Msg) -> impl Future<Output = Result<(), CallError>> + Send;

    /// Sends the message built around a reply channel and waits for the reply.
    fn ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send;

    /// Sends without waiting for a reply if the mailbox has room now;
    /// [`CallError::MailboxFull`] otherwise.
    fn try_tell(&self, msg: A::Msg) -> Result<(), CallError>;

    /// Sends the message built around a reply channel if the mailbox has room now, failing at
    /// once with [`CallError::MailboxFull`] otherwise, then waits for the reply.
    fn try_ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send;
}

impl<A: Actor> Recipient<A> for ActorRef<A> {
    fn tell(&self, msg: A::Msg) -> impl Future<Output = Result<(), CallError>> + Send {
        ActorRef::tell(self, msg)
    }

    fn ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        ActorRef::ask(self, make)
    }

    fn try_tell(&self, msg: A::Msg) -> Result<(), CallError> {
        ActorRef::try_tell(self, msg)
    }

    fn try_ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        ActorRef::try_ask(self, make)
    }
}

/// An [`ActorRef`] whose calls use a custom timeout; made by [`ActorRef::with_timeout`].
#[derive(Debug)]
pub struct WithTimeout<'a, A: Actor> {
    target: &'a ActorRef<A>,
    timeout: Duration,
}

impl<A: Actor> Recipient<A> for WithTimeout<'_, A> {
    fn tell(&self, msg: A::Msg) -> impl Future<Output = Result<(), CallError>> + Send {
        self.target.tell(msg)
    }

    fn ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        self.target.ask_timeout(make, self.timeout)
    }

    fn try_tell(&self, msg: A::Msg) -> Result<(), CallError> {
        self.target.try_tell(msg)
    }

    fn try_ask<R, F>(&self, make: F) -> impl Future<Output = Result<R, CallError>> + Send
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        self.target.call(make, self.timeout, Room::Now)
    }
}
