//! [`NetStats`]: what a node's connections counted.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a networked node, readable with [`Node::net_stats`](crate::Node::net_stats).
#[derive(Debug, Default)]
pub struct NetStats {
    pub(crate) messages_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    pub(crate) undecodable: AtomicU64,
    pub(crate) mismatched: AtomicU64,
    pub(crate) dead_letters: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) connections_rejected: AtomicU64,
}

impl NetStats {
    /// Messages from other nodes delivered to local mailboxes.
    pub fn messages_in(&self) -> u64 {
        self.messages_in.load(Ordering::Relaxed)
    }

    /// Messages queued for other nodes.
    pub fn messages_out(&self) -> u64 {
        self.messages_out.load(Ordering::Relaxed)
    }

    /// Messages from other nodes dropped because their arguments did not decode.
    pub fn undecodable(&self) -> u64 {
        self.undecodable.load(Ordering::Relaxed)
    }

    /// Messages from other nodes refused for an unknown tag or a different fingerprint.
    pub fn mismatched(&self) -> u64 {
        self.mismatched.load(Ordering::Relaxed)
    }

    /// Messages from other nodes for actors that no longer run here.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }

    /// Bytes read from connections.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Bytes written to connections.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Connections closed before or during their handshake (wrong cookie, garbage, ...).
    pub fn connections_rejected(&self) -> u64 {
        self.connections_rejected.load(Ordering::Relaxed)
    }
}

/// The traffic between a node and one peer, as [`PeerSlot::traffic`](super::peer::PeerSlot)
/// counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PeerTraffic {
    /// Bytes read from its connections (sealed records, as on the wire).
    pub(crate) bytes_in: u64,
    /// Bytes written to its connections.
    pub(crate) bytes_out: u64,
    /// Frames received from it, heartbeats aside.
    pub(crate) frames_in: u64,
    /// Frames queued for it, heartbeats aside.
    pub(crate) frames_out: u64,
}
