//! [`Member`]: a node as SWIM knows it.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::actor::NodeId;

/// A node as the membership protocol knows it: its id (one run of the node), the address
/// its gossip goes to, when that run started, and a generation that grows each time it
/// rejoins after being declared down by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Member {
    pub(crate) node: NodeId,
    pub(crate) addr: SocketAddr,
    /// Milliseconds since the Unix epoch when this run of the node started (0: unknown).
    pub(crate) started: u64,
    pub(crate) generation: u16,
}

impl Member {
    /// What a node knows of a seed before it answers: its address only. SWIM accepts an
    /// announcement addressed to any identity at its address, and the seed's answer carries
    /// its real one.
    pub(crate) fn seed(addr: SocketAddr) -> Self {
        Member {
            node: NodeId::from_u64(0),
            addr,
            started: 0,
            generation: 0,
        }
    }
}

impl foca::Identity for Member {
    type Addr = SocketAddr;

    /// Declared down by mistake (it is still running), a node rejoins as the next
    /// generation of the same run.
    fn renew(&self) -> Option<Self> {
        Some(Member {
            generation: self.generation.wrapping_add(1),
            ..*self
        })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Two identities at one address: the later run wins, then the later generation.
    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        (self.started, self.generation, self.node) > (adversary.started, adversary.generation, adversary.node)
    }
}

#[cfg(test)]
mod tests {
    use foca::Identity;

    use super::*;

    fn member(node: u64, started: u64, generation: u16) -> Member {
        Member {
            node: NodeId::from_u64(node),
            addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
            started,
            generation,
        }
    }

    #[test]
    fn the_later_run_then_the_later_generation_wins_an_address() {
        assert!(member(1, 20, 0).win_addr_conflict(&member(2, 10, 5)));
        assert!(!member(2, 10, 5).win_addr_conflict(&member(1, 20, 0)));
        assert!(member(1, 10, 1).win_addr_conflict(&member(1, 10, 0)));
        assert!(member(1, 10, 0).win_addr_conflict(&Member::seed(member(1, 10, 0).addr)));
        let renewed = member(1, 10, 0).renew();
        assert_eq!(renewed.map(|member| member.generation), Some(1));
    }
}
