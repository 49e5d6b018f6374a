//! Membership: how a node finds and joins the other nodes of its cluster, and who is in it.
//!
//! [`Discovery`] gives addresses (a fixed list, DNS names, or the user's own source); the
//! node dials them when it starts and again now and then, so that a seed that is down at
//! start is joined once it is up. Beside its connections, every node runs SWIM (through
//! foca) over datagrams on its own port, authenticated with the cluster's key: members probe
//! each other directly and through others, suspect those that do not answer, and spread who
//! joined, left or was declared down; [`Node::members`](crate::Node::cluster_members) is the view,
//! and a node the cluster declares down has its connection cut. Above the network layer,
//! below the registry.

pub mod discovery;
pub(crate) mod gossip;
pub(crate) mod join;
pub(crate) mod member;
pub(crate) mod swim;

pub use discovery::{DiscoverFuture, Discovery, DiscoveryError, DnsSeeds, StaticSeeds};
pub use gossip::MemberInfo;
