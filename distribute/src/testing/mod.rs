//! Deterministic tests of whole clusters: [`TestCluster`] (feature `testing`).
//!
//! A [`TestCluster`] runs N nodes in one process over a simulated network and clock
//! ([turmoil](https://docs.rs/turmoil)): each node on a simulated host with its own runtime,
//! connected over simulated TCP through [`SimTransport`]. A scenario partitions and heals
//! sets of nodes, adds latency, jitter and loss to links, crashes nodes (everything on them
//! vanishes at once) and restarts them as new incarnations, and lets simulated time pass.
//! Everything runs on the test's thread, step by step: the same seed replays the same run.
//!
//! Every registration, lookup, call and node event goes into a [`History`], which
//! [`TestCluster::check`] judges: after a heal every node holds the same owner for every
//! name, every node emits exactly one `NameConflict` per disputed name, no acknowledged
//! registration is lost while its owner lives, and no call hangs.
//!
//! ```no_run
//! use std::time::Duration;
//! use distribute::testing::TestCluster;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! TestCluster::builder().nodes(3).seed(7).run(|cluster| async move {
//!     cluster.wait_connected(Duration::from_secs(5)).await?;
//!     cluster.partition(&[0], &[1, 2]);
//!     cluster.sleep(Duration::from_secs(2)).await;
//!     cluster.heal();
//!     cluster.check(Duration::from_secs(5)).await?;
//!     Ok(())
//! })?;
//! # Ok(())
//! # }
//! ```

mod cluster;
mod history;
mod recorded;
mod sweep;
mod transport;

pub use cluster::{NodeCrashed, Report, SimError, SimNode, TestCluster, TestClusterBuilder};
pub use history::{Entry, FinalState, HealView, History, NodeView, Op, Violation, Violations};
pub use sweep::{Sweep, SweepFailed, Swept, SEEDS_ENV, SEED_ENV};
pub use transport::SimTransport;
