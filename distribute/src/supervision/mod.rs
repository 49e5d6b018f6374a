//! Supervision: supervisors restart failed actors, as OTP's supervisors do.
//!
//! A [`Supervisor`] is an actor that starts its children in order (each after the previous
//! one's `started` hook returned), restarts them by [`Strategy`] and [`Restart`] type within
//! an [`Intensity`], and stops them in reverse order, each within its shutdown timeout.
//!
//! # Restarts keep the ref
//!
//! A restarted child runs behind the same [`ActorRef`](crate::ActorRef): same id, same
//! mailbox. Clients keep their refs; registry names stay valid.
//!
//! - The caller whose message was being handled when the child failed gets
//!   [`CallError::ActorFailed`](crate::CallError::ActorFailed) at once.
//! - Messages still queued in the mailbox are kept and delivered to the restarted instance,
//!   in order.
//! - Links and monitors follow the ref, not one incarnation: they fire when the child stops
//!   for good, not on a restart. `wait_for_stop` likewise.
//! - Timers ([`Context::send_after`](crate::Context::send_after) and the others) belong to
//!   one incarnation, as an Erlang timer belongs to one process: the failed incarnation's are
//!   cancelled before the restart, and the restarted child starts with none (set them again
//!   in its start hook). A timer message already in the mailbox when the child failed is
//!   kept, as every queued message is.
//! - When a supervisor is itself restarted (its intensity was exceeded and its parent
//!   restarted it, or its parent restarted it with a failed sibling), its children restart
//!   behind their refs too: a ref to a grandchild taken before the restart still reaches it,
//!   its queued messages are kept, and the names it registered stay. A supervisor stopped
//!   for good (a shutdown, `terminate_child`) stops its subtree for good, and that subtree
//!   starts afresh if it is started again.
//!
//! ```
//! use distribute::prelude::*;
//! use distribute::supervision::{ChildSpec, SupervisorSpec, Strategy};
//!
//! #[actor]
//! #[derive(Default)]
//! struct Worker { jobs: u64 }
//!
//! #[actor]
//! impl Worker {
//!     #[message] fn work(&mut self) -> u64 { self.jobs += 1; self.jobs }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::new();
//! let supervisor = SupervisorSpec::new(Strategy::OneForOne)
//!     .child(ChildSpec::worker("worker", Worker::default))
//!     .start(&node)
//!     .await?;
//! let worker = supervisor.child::<Worker>("worker").await?;
//! assert_eq!(worker.work().await?, 1);
//! # Ok(()) }
//! ```

// Imports among these files go one way, from each layer to the ones above it:
//
// 1. `strategy` (restart rules) and `info` (what a supervisor answers): no sibling.
// 2. `slot`, where a child's task meets its supervisor: knows the supervisor only as an
//    `ExitListener`, so the actor can sit above it.
// 3. `spec` (how to start a child into a slot), `handoff` (children kept across a
//    supervisor's restart), then `supervisor` (the actor), then `builder` (`SupervisorSpec`).
// 4. `crate::pool`, a supervisor of workers, then `options` (what `#[supervised]`
//    declares, which may be a pool).
//
// This file only declares and re-exports.
pub(crate) mod builder;
mod handoff;
pub(crate) mod info;
mod options;
mod slot;
pub(crate) mod spec;
pub(crate) mod strategy;
pub(crate) mod supervisor;

pub use crate::backoff::Backoff;
pub use builder::SupervisorSpec;
#[doc(hidden)]
pub use info::SupervisorReport;
pub use info::{ChildCounts, ChildError, ChildInfo, ChildState, SupervisorError};
pub use options::{start_pool, start_supervised, PoolSize, Supervised, SupervisionOptions};
pub use spec::{ChildHandle, ChildSpec, DEFAULT_CHILD_SHUTDOWN};
pub use strategy::{Intensity, Restart, Strategy};
pub use supervisor::{Supervisor, SupervisorMsg};
