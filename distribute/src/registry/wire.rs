//! The registry's wire messages: the body of every `Registry` frame.
//!
//! Not a public API: public (and hidden from the docs) only so that hostile-peer tests can
//! build registry frames with the encoder nodes use.
//!
//! What each message means, and when a node sends it, is the protocol's business (the
//! registry's `protocol` module); this module only fixes their shape and encoding. Decoding is
//! strict (bincode with a size limit): garbage, a cut-short body or trailing bytes are errors,
//! which the network layer turns into the peer's disconnection. A message that decodes but
//! carries an invalid name or type name ([`RegistryMsg::validate`]) is refused whole, the same
//! way: no honest node sends one (each validates its names before it sends them).

use serde::{Deserialize, Serialize};

use super::{validate_name, RegistryError};
use crate::actor::{ActorId, NodeId};
use crate::codec::{Bincode, Codec, CodecError};

/// A registered name's owner (or a group member), as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalEntry {
    /// The actor.
    pub owner: ActorId,
    /// Its protocol's fingerprint, checked by typed lookups.
    pub fingerprint: u64,
    /// Its type's name, for `TypeMismatch` errors.
    #[serde(deserialize_with = "lent_str::deserialize")]
    pub type_name: String,
}

/// Registry traffic between nodes (the body of a Registry frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum RegistryMsg {
    /// To the sequencer: register `name` to `entry`.
    Claim {
        request: u64,
        #[serde(deserialize_with = "lent_str::deserialize")]
        name: String,
        entry: GlobalEntry,
    },
    /// To the sequencer: `owner` releases `name`.
    Unclaim {
        request: u64,
        #[serde(deserialize_with = "lent_str::deserialize")]
        name: String,
        owner: ActorId,
    },
    /// From the sequencer to the claimant, its answer when no [`Commit`](RegistryMsg::Commit)
    /// of the change is: refused with the name's owner (none for an unclaim of a name no one
    /// holds, or a claim for an actor of a node the sequencer saw go down) or already granted,
    /// at once; or done, once the change is applied everywhere (or given up on) if its commit
    /// did not answer the claimant (see [`Commit`](RegistryMsg::Commit)).
    ClaimReply {
        request: u64,
        result: Result<(), Option<ActorId>>,
    },
    /// To a node whose release `request` this node cannot take: it is not the sequencer, and
    /// cannot pass a release on (the sequencer takes a release from the owner's node only).
    /// The claimant tries again, with the sequencer once it can reach it.
    NotSequencer { request: u64 },
    /// From the sequencer to every node, the claimant included: apply `change` and
    /// acknowledge it to the sequencer (all but the claimant, which does not acknowledge its
    /// own copy: the sequencer is done with the change once it sent it). `claimant` names the node and request that asked for
    /// it (none for a change the sequencer makes on its own to bring replicas back in line, a
    /// *sync*). The claimant's copy goes out last, once every other node acknowledged the
    /// change (or was given up on), with `answer` set: it is the claimant's answer, the change
    /// done. A copy the sequencer had to send sooner, to keep its order ahead of other frames
    /// to the claimant, has `answer` unset (as every other node's copy), and a
    /// [`ClaimReply`](RegistryMsg::ClaimReply) answers the claimant once the change is done.
    Commit {
        request: u64,
        change: Committed,
        claimant: Option<Claimant>,
        answer: bool,
    },
    /// To the sequencer: commit `request` is applied.
    CommitAck { request: u64 },
    /// The sender's replica, or a part of it: merged by the receiver. Sent whole on
    /// connecting. A replica too large for one frame goes as [`SnapshotPart`]s followed by
    /// this message, its last chunk: the receiver takes them together.
    ///
    /// [`SnapshotPart`]: RegistryMsg::SnapshotPart
    Snapshot {
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
    },
    /// A chunk of a snapshot, more to follow: held by the receiver (within its bounds) until
    /// the [`Snapshot`](RegistryMsg::Snapshot) that ends it.
    SnapshotPart {
        entries: Vec<(String, GlobalEntry)>,
        groups: Vec<(String, GlobalEntry)>,
    },
    /// From `member`'s node to its sequencer, which passes it on to every other node:
    /// `member` joined `group`.
    Join {
        #[serde(deserialize_with = "lent_str::deserialize")]
        group: String,
        member: GlobalEntry,
    },
    /// From `member`'s node to its sequencer, which passes it on to every other node:
    /// `member` left `group`.
    Leave {
        #[serde(deserialize_with = "lent_str::deserialize")]
        group: String,
        member: ActorId,
    },
    /// From the sequencer to every other node: the complete list of the memberships of
    /// `node`'s actors, as `node` last told it (in a snapshot).
    Groups {
        node: NodeId,
        groups: Vec<(String, GlobalEntry)>,
    },
    /// From the node of `loser` to its sequencer, which passes it on to every other node: its
    /// actor `loser` lost `name` to `winner` (two sides of a partition had registered it).
    /// Sent when it happens and, for a while, to every node that comes up, so that every node
    /// reports the conflict, including nodes that never held either owner.
    Lost {
        #[serde(deserialize_with = "lent_str::deserialize")]
        name: String,
        winner: ActorId,
        loser: ActorId,
    },
}

/// Decodes a string field as bincode lends it (from the frame's bytes) and copies it once.
/// Serde's own `String` asks the decoder for an owned string, which bincode builds in a
/// zeroed buffer: an allocation through `calloc`, which skips the allocator's per-thread cache
/// and cost five times the copy (a registration decodes eight such strings on its way).
mod lent_str {
    use std::fmt;

    use serde::de::{Deserializer, Error, Visitor};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(decoder: D) -> Result<String, D::Error> {
        decoder.deserialize_str(Owned)
    }

    struct Owned;

    impl Visitor<'_> for Owned {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: Error>(self, lent: &str) -> Result<String, E> {
            Ok(lent.to_owned())
        }

        fn visit_string<E: Error>(self, owned: String) -> Result<String, E> {
            Ok(owned)
        }
    }
}

/// A change the sequencer made, as every node applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Committed {
    /// `name` now belongs to `entry`.
    Registered {
        #[serde(deserialize_with = "lent_str::deserialize")]
        name: String,
        entry: GlobalEntry,
    },
    /// `owner` released `name`.
    Released {
        #[serde(deserialize_with = "lent_str::deserialize")]
        name: String,
        owner: ActorId,
    },
}

impl Committed {
    /// The name changed.
    pub fn name(&self) -> &str {
        match self {
            Committed::Registered { name, .. } | Committed::Released { name, .. } => name,
        }
    }
}

/// Who submitted a change: its node and its request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimant {
    /// The claimant's node.
    pub node: NodeId,
    /// The claimant's request.
    pub request: u64,
}

/// The sequencer's answer to a change: done, or refused with the name's owner (none for a
/// release of a name no one holds, or a claim for an actor of a node that went down).
pub type Decision = Result<(), Option<ActorId>>;

/// No registry frame is larger than the largest frame a node accepts (snapshots are chunked
/// well under it).
const REGISTRY_LIMIT: usize = 4 * 1024 * 1024;

/// The longest type name a replicated entry may carry, in bytes: a Rust type path, generics
/// included, is far shorter.
pub const MAX_TYPE_NAME_LEN: usize = 1024;

impl RegistryMsg {
    /// Appends the message's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        Bincode::<REGISTRY_LIMIT>.encode(self, out)
    }

    /// Decodes a frame body; anything but exactly one well-formed message is an error.
    pub fn decode(body: &[u8]) -> Result<RegistryMsg, CodecError> {
        Bincode::<REGISTRY_LIMIT>.decode(body)
    }

    /// Checks every name and group in the message with [`validate_name`] (the rule local
    /// names follow) and every type name against [`MAX_TYPE_NAME_LEN`]. A peer that sends an
    /// invalid one is not a node of this crate playing by its rules: the whole message is
    /// refused and the peer disconnected.
    pub fn validate(&self) -> Result<(), RegistryError> {
        match self {
            RegistryMsg::Claim { name, entry, .. } => {
                validate_name(name)?;
                validate_entry(entry)
            }
            RegistryMsg::Unclaim { name, .. } => validate_name(name),
            RegistryMsg::Commit { change, .. } => match change {
                Committed::Registered { name, entry } => {
                    validate_name(name)?;
                    validate_entry(entry)
                }
                Committed::Released { name, .. } => validate_name(name),
            },
            RegistryMsg::ClaimReply { .. }
            | RegistryMsg::CommitAck { .. }
            | RegistryMsg::NotSequencer { .. } => Ok(()),
            RegistryMsg::Snapshot { entries, groups } | RegistryMsg::SnapshotPart { entries, groups } => {
                validate_entries(entries.iter().chain(groups))
            }
            RegistryMsg::Groups { groups, .. } => validate_entries(groups),
            RegistryMsg::Join { group, member } => {
                validate_name(group)?;
                validate_entry(member)
            }
            RegistryMsg::Leave { group, .. } => validate_name(group),
            RegistryMsg::Lost { name, .. } => validate_name(name),
        }
    }
}

/// The id of actor `local` of node `node`, as a peer may name it on the wire: for tests that
/// play a hostile peer. Not a public API.
#[doc(hidden)]
pub fn actor_id(node: u64, local: u64) -> ActorId {
    ActorId::new(NodeId::from_u64(node), local)
}

fn validate_entries<'a>(
    entries: impl IntoIterator<Item = &'a (String, GlobalEntry)>,
) -> Result<(), RegistryError> {
    for (name, entry) in entries {
        validate_name(name)?;
        validate_entry(entry)?;
    }
    Ok(())
}

fn validate_entry(entry: &GlobalEntry) -> Result<(), RegistryError> {
    if entry.type_name.len() > MAX_TYPE_NAME_LEN {
        return Err(RegistryError::InvalidName {
            name: entry.type_name.chars().take(64).collect(),
            why: "a type name is at most 1024 bytes",
        });
    }
    Ok(())
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
        let commit = RegistryMsg::Commit {
            request: 9,
            change: Committed::Registered {
                name: "svc".into(),
                entry: entry(id(1, 2)),
            },
            claimant: Some(Claimant {
                node: node(1),
                request: 3,
            }),
            answer: true,
        };
        let groups = RegistryMsg::Groups {
            node: node(2),
            groups: vec![("workers".into(), entry(id(2, 4)))],
        };
        for msg in [msg, commit, groups, RegistryMsg::CommitAck { request: 9 }] {
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
