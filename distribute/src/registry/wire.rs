//! The registry's wire messages: the body of every `Registry` frame.
//!
//! What each message means, and when a node sends it, is the protocol's business
//! ([`protocol`](super::protocol)); this module only fixes their shape and encoding. Decoding is
//! strict (bincode with a size limit): garbage, a cut-short body or trailing bytes are errors,
//! which the network layer turns into the peer's disconnection.

use serde::{Deserialize, Serialize};

use crate::actor::{ActorId, NodeId};
use crate::codec::{Bincode, Codec, CodecError};

/// A registered name's owner (or a group member), as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GlobalEntry {
    /// The actor.
    pub(crate) owner: ActorId,
    /// Its protocol's fingerprint, checked by typed lookups.
    pub(crate) fingerprint: u64,
    /// Its type's name, for `TypeMismatch` errors.
    pub(crate) type_name: String,
}

/// Registry traffic between nodes (the body of a Registry frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RegistryMsg {
    /// To the sequencer: register `name` to `entry`.
    Claim {
        request: u64,
        name: String,
        entry: GlobalEntry,
    },
    /// To the sequencer: `owner` releases `name`.
    Unclaim {
        request: u64,
        name: String,
        owner: ActorId,
    },
    /// From the sequencer to the claimant, at once: the change is made. The claimant applies
    /// it (unless a [`Relayed`](RegistryMsg::Relayed) copy came first), acknowledges commit
    /// `commit` to the sequencer, and waits until each of `others`, the nodes the sequencer
    /// sent the commit to, relayed it (or the sequencer's [`ClaimReply`](RegistryMsg::ClaimReply)).
    Decided {
        request: u64,
        commit: u64,
        change: Committed,
        others: Vec<NodeId>,
    },
    /// From the sequencer to the claimant, the final answer: refused with the name's owner
    /// (none for an unclaim of a name no one holds, or a claim for an actor of a node the
    /// sequencer saw go down) or already granted, at once; or done, once every node
    /// acknowledged the commit, if the claimant may be waiting still.
    ClaimReply {
        request: u64,
        result: Result<(), Option<ActorId>>,
    },
    /// From the sequencer to every node but the claimant: apply `change`, acknowledge it to the
    /// sequencer, and relay it to the claimant, if any (none for a change of the sequencer's
    /// own).
    Commit {
        request: u64,
        change: Committed,
        claimant: Option<Claimant>,
    },
    /// To the sequencer: commit `request` is applied, and the claimant needs nothing more from
    /// the sequencer about it (`settled`): the sender relayed it to the claimant, or is the
    /// claimant and was granted its claim already (true too when there is no claimant). Once
    /// every node acknowledged it, the sequencer confirms the change to a claimant that may be
    /// waiting still ([`ClaimReply`](RegistryMsg::ClaimReply)).
    CommitAck { request: u64, settled: bool },
    /// To the claimant, from a node that applied commit `commit` of the sequencer: the
    /// answer to its claim `request`, as in [`Decided`](RegistryMsg::Decided). The claimant
    /// may finish on the relays alone, before the sequencer's own answer arrives.
    Relayed {
        request: u64,
        commit: u64,
        change: Committed,
        others: Vec<NodeId>,
    },
    /// The sender's replica, or a part of it: merged by the receiver. Sent whole on
    /// connecting.
    Snapshot {
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
    },
    /// To every node: `member` joined `group`.
    Join { group: String, member: GlobalEntry },
    /// To every node: `member` left `group`.
    Leave { group: String, member: ActorId },
}

/// A change the sequencer made, as every node applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Committed {
    /// `name` now belongs to `entry`.
    Registered { name: String, entry: GlobalEntry },
    /// `owner` released `name`.
    Released { name: String, owner: ActorId },
}

impl Committed {
    /// The name changed.
    pub(crate) fn name(&self) -> &str {
        match self {
            Committed::Registered { name, .. } | Committed::Released { name, .. } => name,
        }
    }
}

/// Who submitted a change, so that the nodes applying it can relay it: its node, its request,
/// and the nodes the change went to besides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claimant {
    /// The claimant's node.
    pub(crate) node: NodeId,
    /// The claimant's request.
    pub(crate) request: u64,
    /// The nodes the change went to besides the claimant.
    pub(crate) others: Vec<NodeId>,
}

/// The sequencer's answer to a change: done, or refused with the name's owner (none for a
/// release of a name no one holds, or a claim for an actor of a node that went down).
pub(crate) type Decision = Result<(), Option<ActorId>>;

/// Registry frames may carry a whole replica.
const REGISTRY_LIMIT: usize = 4 * 1024 * 1024;

impl RegistryMsg {
    /// Appends the message's encoding to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        Bincode::<REGISTRY_LIMIT>.encode(self, out)
    }

    /// Decodes a frame body; anything but exactly one well-formed message is an error.
    pub(crate) fn decode(body: &[u8]) -> Result<RegistryMsg, CodecError> {
        Bincode::<REGISTRY_LIMIT>.decode(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixtures::{entry, id, node};

    #[test]
    fn registry_messages_round_trip_and_garbage_fails() {
        let msg = RegistryMsg::Claim {
            request: 3,
            name: "svc".into(),
            entry: entry(id(1, 2)),
        };
        let decided = RegistryMsg::Decided {
            request: 3,
            commit: 9,
            change: Committed::Released {
                name: "svc".into(),
                owner: id(1, 2),
            },
            others: vec![node(2), node(5)],
        };
        let commit = RegistryMsg::Commit {
            request: 9,
            change: Committed::Registered {
                name: "svc".into(),
                entry: entry(id(1, 2)),
            },
            claimant: Some(Claimant {
                node: node(1),
                request: 3,
                others: vec![node(2)],
            }),
        };
        let relayed = RegistryMsg::Relayed {
            request: 3,
            commit: 9,
            change: Committed::Registered {
                name: "svc".into(),
                entry: entry(id(1, 2)),
            },
            others: vec![node(2)],
        };
        for msg in [msg, decided, commit, relayed] {
            let mut out = Vec::new();
            assert!(msg.encode(&mut out).is_ok());
            assert_eq!(RegistryMsg::decode(&out), Ok(msg.clone()));
            // Cut short anywhere, it fails to decode rather than panicking.
            for len in 0..out.len() {
                assert!(RegistryMsg::decode(&out[..len]).is_err());
            }
        }
        assert!(RegistryMsg::decode(&[0xFF; 3]).is_err());
    }
}
