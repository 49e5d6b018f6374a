//! The public types of the cluster-wide registry's API: what [`Node::watch`](crate::Node::watch)
//! streams and how [`Node::register_with_retry`](crate::Node::register_with_retry) retries.

use std::time::Duration;

use crate::actor::ActorId;
use crate::backoff::Backoff;

/// A change of one name, as streamed by [`NameWatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameChange {
    /// The name.
    pub name: String,
    /// Its owner now; `None` once it is released.
    pub owner: Option<ActorId>,
}

/// How [`Node::register_with_retry`](crate::Node::register_with_retry) retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all (at least one).
    pub attempts: u32,
    /// The first wait; each later one doubles, plus up to 25 % of jitter.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, from 50 ms up to 1 s apart.
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            initial: Duration::from_millis(50),
            max: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The waits between tries, as the crate's one backoff policy.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::new(self.initial, self.max)
    }
}

/// The changes of one name, from [`Node::watch`](crate::Node::watch).
#[derive(Debug)]
pub struct NameWatch {
    name: String,
    first: Option<NameChange>,
    rx: tokio::sync::broadcast::Receiver<NameChange>,
}

impl NameWatch {
    /// A watch of `name` that yields `first` (the current owner, if any), then the changes
    /// `rx` carries for `name`.
    pub(crate) fn new(
        name: String,
        first: Option<NameChange>,
        rx: tokio::sync::broadcast::Receiver<NameChange>,
    ) -> Self {
        NameWatch { name, first, rx }
    }

    /// The next change of the name; `None` once the node is gone. A watcher more than 1024
    /// changes (of any name) behind skips the oldest.
    pub async fn next(&mut self) -> Option<NameChange> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        loop {
            match self.rx.recv().await {
                Ok(change) if change.name == self.name => return Some(change),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    crate::trace::trace_event!(warn, missed, name = %self.name, "name watcher lagged behind");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_policy_waits_as_its_backoff_says() {
        let policy = RetryPolicy {
            attempts: 3,
            initial: Duration::from_millis(10),
            max: Duration::from_millis(30),
        };
        let backoff = policy.backoff();
        assert_eq!(
            (0..3).map(|n| backoff.delay(n)).collect::<Vec<_>>(),
            [10, 20, 30].map(Duration::from_millis)
        );
    }
}
