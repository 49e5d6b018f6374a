//! Membership: how a node finds and joins the other nodes of its cluster.
//!
//! [`Discovery`] gives addresses (a fixed list, DNS names, or the user's own source); the
//! node dials them when it starts and again now and then, so that a seed that is down at
//! start is joined once it is up. Above the network layer, below the registry.

pub mod discovery;
pub(crate) mod join;

pub use discovery::{DiscoverFuture, Discovery, DiscoveryError, DnsSeeds, StaticSeeds};
