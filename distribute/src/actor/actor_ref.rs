//! [`ActorRef`]: the typed address of an actor.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::cell::{link, AnyCell, Cell};
use super::mailbox::TrySendError;
use super::monitor::Monitor;
use super::reply::{NoReply, ReplyTo};
use super::signal::Signal;
use super::{Actor, ActorId, ExitReason};
use crate::error::CallError;

/// How long a call waits for its reply unless told otherwise: 5 seconds.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The typed address of an actor of type `A`.
///
/// Cheap to clone (one reference count), `Send + Sync`, comparable and hashable by
/// [`ActorId`]. A ref stays valid for the actor's whole life; once the actor has stopped,
/// sends fail at once with [`CallError::ActorStopped`].
///
/// The typed client methods that `#[actor]` generates (`counter.add(5).await?`) are defined
/// on every [`Recipient`], which `ActorRef` is; the methods below are what they use.
pub struct ActorRef<A: Actor> {
    pub(crate) cell: Arc<Cell<A>>,
}

impl<A: Actor> ActorRef<A> {
    pub(crate) fn from_cell(cell: Arc<Cell<A>>) -> Self {
        ActorRef { cell }
    }

    pub(crate) fn erased(&self) -> Arc<dyn AnyCell> {
        self.cell.clone()
    }

    /// The actor's identity.
    pub fn id(&self) -> ActorId {
        self.cell.core.id
    }

    /// Whether the actor is still running (it may stop the next instant).
    pub fn is_alive(&self) -> bool {
        self.cell.core.is_alive()
    }

    /// The reason the actor stopped, or `None` while it runs.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.cell.core.exit_reason().cloned()
    }

    /// Messages waiting in the mailbox now.
    pub fn mailbox_len(&self) -> usize {
        self.cell.mailbox.len()
    }

    /// The mailbox's capacity.
    pub fn mailbox_capacity(&self) -> usize {
        self.cell.mailbox.capacity()
    }

    /// Sends a message without waiting for a reply. Waits while the mailbox is full
    /// (backpressure). Fails with [`CallError::ActorStopped`] if the actor has stopped.
    pub async fn tell(&self, msg: A::Msg) -> Result<(), CallError> {
        self.cell
            .mailbox
            .send(msg)
            .await
            .map_err(|_| CallError::ActorStopped { actor: self.id() })
    }

    /// Sends a message if the mailbox has room now; [`CallError::MailboxFull`] otherwise.
    /// On failure the message is dropped.
    pub fn try_tell(&self, msg: A::Msg) -> Result<(), CallError> {
        self.cell.mailbox.try_send(msg).map_err(|e| match e {
            TrySendError::Full(_) => CallError::MailboxFull { actor: self.id() },
            TrySendError::Closed(_) => CallError::ActorStopped { actor: self.id() },
        })
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
    pub async fn ask<R, F>(&self, make: F) -> Result<R, CallError>
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        self.ask_timeout(make, DEFAULT_CALL_TIMEOUT).await
    }

    /// Like [`ask`](Self::ask) with an explicit timeout, which also bounds the wait for room
    /// in a full mailbox. Fails with [`CallError::Timeout`] when it elapses,
    /// [`CallError::ActorFailed`] if the handler of this message panicked, and
    /// [`CallError::ActorStopped`] if the actor stopped before handling it; both of the
    /// latter at once, not at the timeout.
    pub async fn ask_timeout<R, F>(&self, make: F, timeout: Duration) -> Result<R, CallError>
    where
        R: Send + 'static,
        F: FnOnce(ReplyTo<R>) -> A::Msg + Send,
    {
        let actor = self.id();
        let (tx, rx) = oneshot::channel();
        let msg = make(ReplyTo::new(tx));
        let exchange = async {
            self.cell
                .mailbox
                .send(msg)
                .await
                .map_err(|_| CallError::ActorStopped { actor })?;
            match rx.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(NoReply::Failed)) => Err(CallError::ActorFailed { actor }),
                Ok(Err(NoReply::Stopped)) | Err(_) => Err(CallError::ActorStopped { actor }),
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout { actor, timeout }),
        }
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
    /// differ if it was already stopping).
    pub async fn stop(&self, reason: ExitReason) -> ExitReason {
        let _ = self.cell.core.signals.push(Signal::Stop(reason));
        self.wait_for_stop().await
    }

    /// Stops the actor at once, even in the middle of a handler. Its `stopped` hook does not
    /// run; links and monitors see [`ExitReason::Killed`].
    pub fn kill(&self) {
        self.cell.core.kill();
    }

    /// Waits until the actor has stopped (and its links, monitors and node were told), and
    /// returns why it stopped.
    pub async fn wait_for_stop(&self) -> ExitReason {
        self.cell.core.wait_for_stop().await
    }

    /// Monitors the actor: the returned [`Monitor`] resolves to a [`Down`](super::Down)
    /// with the exit reason when the actor stops, at once if it has already stopped.
    pub fn monitor(&self) -> Monitor {
        let (monitor, watcher) = Monitor::new(self.id());
        self.cell.core.add_watcher(watcher);
        monitor
    }

    /// Links this actor with `other`: when either exits abnormally, the other receives its
    /// exit signal and, unless it traps exits, stops with [`ExitReason::Linked`]. Linking to
    /// an actor that has already stopped delivers an exit with [`ExitReason::NoProc`].
    pub fn link<B: Actor>(&self, other: &ActorRef<B>) {
        link(&self.erased(), &other.erased());
    }

    /// Removes a link between this actor and `other`, in both directions.
    pub fn unlink<B: Actor>(&self, other: &ActorRef<B>) {
        let _ = self.cell.core.signals.push(Signal::Unlink(other.id()));
        let _ = other.cell.core.signals.push(Signal::Unlink(self.id()));
    }
}

impl<A: Actor> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        ActorRef {
            cell: Arc::clone(&self.cell),
        }
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

/// Anything that delivers messages to actors of type `A`: an [`ActorRef`], a
/// [`WithTimeout`] view of one, and (later) pools and remote refs.
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
}
