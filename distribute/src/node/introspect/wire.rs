//! What goes in a [`FrameKind::Introspect`](crate::transport::FrameKind::Introspect) frame,
//! and how an answer is cut to fit in one.
//!
//! Supervision trees travel flat: each tree once, its children naming their subtree by index,
//! so that decoding never recurses on what a peer sent (a nested encoding would let a peer
//! nest trees until the decoder's stack overflows). The receiver rebuilds the trees with
//! each index used at most once and a bounded depth, so what it builds is never larger than
//! what it received.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::admission::Refusal;
use crate::actor::{ActorId, NodeId};
use crate::codec::{Bincode, Codec, CodecError};
use crate::introspect::{
    ActorSnapshot, ChildSnapshot, GroupSnapshot, NameSnapshot, NodeSnapshot, NodeTotals, PeerSnapshot,
    TreeSnapshot,
};
use crate::transport::DEFAULT_MAX_FRAME;

/// Trees nested deeper than this are refused when rebuilt.
const MAX_DEPTH: usize = 64;

/// Room left in a frame for what wraps the answer (the frame header, the request number
/// and the variant tags).
const ANSWER_OVERHEAD: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum IntrospectWire {
    /// Asks for the node's snapshot: at most `max_actors` actors, in at most `max_bytes`.
    Request {
        request: u64,
        max_actors: u32,
        max_bytes: u32,
    },
    /// The answer to request `request`: an [`Outcome`], encoded apart, so that the asker
    /// learns which of its requests a malformed answer was for.
    Answer { request: u64, outcome: Vec<u8> },
}

/// What an answer says: the snapshot, or why not.
pub(crate) type Outcome = Result<WireSnapshot, Refusal>;

impl IntrospectWire {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        Bincode::<DEFAULT_MAX_FRAME>.encode(self, out)
    }

    pub(crate) fn decode(body: &[u8]) -> Result<IntrospectWire, CodecError> {
        Bincode::<DEFAULT_MAX_FRAME>.decode(body)
    }

    /// The answer to `request` saying `outcome`.
    pub(crate) fn answer(request: u64, outcome: &Outcome) -> Result<Self, CodecError> {
        let mut encoded = Vec::new();
        Bincode::<DEFAULT_MAX_FRAME>.encode(outcome, &mut encoded)?;
        Ok(IntrospectWire::Answer {
            request,
            outcome: encoded,
        })
    }
}

/// Reads the outcome carried by an answer.
pub(crate) fn decode_outcome(bytes: &[u8]) -> Result<Outcome, CodecError> {
    Bincode::<DEFAULT_MAX_FRAME>.decode(bytes)
}

/// A snapshot as it travels: [`NodeSnapshot`]'s fields, but its trees flat. Not a
/// `NodeSnapshot` inside, whose trees would decode recursively.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireSnapshot {
    node: NodeId,
    name: String,
    listen: Option<SocketAddr>,
    taken_at_ms: u64,
    actors: Vec<ActorSnapshot>,
    truncated: bool,
    names: Vec<NameSnapshot>,
    groups: Vec<GroupSnapshot>,
    peers: Vec<PeerSnapshot>,
    totals: NodeTotals,
    trees: Vec<FlatTree>,
    /// The trees that are roots, by index.
    roots: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FlatTree {
    supervisor: ActorId,
    type_name: String,
    name: String,
    strategy: String,
    children: Vec<FlatChild>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FlatChild {
    id: String,
    actor: Option<ActorId>,
    state: String,
    restarts: u32,
    incarnation: u64,
    last_exit: Option<String>,
    /// Its tree, by index, when it is a supervisor.
    subtree: Option<u32>,
}

impl WireSnapshot {
    /// The wire form of `snapshot`.
    pub(crate) fn new(snapshot: NodeSnapshot) -> Self {
        let mut trees = Vec::new();
        let roots = snapshot
            .trees
            .into_iter()
            .map(|tree| flatten(tree, &mut trees))
            .collect();
        WireSnapshot {
            node: snapshot.node,
            name: snapshot.name,
            listen: snapshot.listen,
            taken_at_ms: snapshot.taken_at_ms,
            actors: snapshot.actors,
            truncated: snapshot.truncated,
            names: snapshot.names,
            groups: snapshot.groups,
            peers: snapshot.peers,
            totals: snapshot.totals,
            trees,
            roots,
        }
    }

    /// The snapshot again, trees rebuilt and checked, whatever node it says it describes.
    pub(crate) fn into_snapshot_of_its_node(self) -> Result<NodeSnapshot, String> {
        let node = self.node;
        self.into_snapshot(node)
    }

    /// The snapshot again, checked: it must describe `node`, and its trees must be trees.
    pub(crate) fn into_snapshot(self, node: NodeId) -> Result<NodeSnapshot, String> {
        if self.node != node {
            return Err(format!("the answer describes node {}", self.node));
        }
        let mut slots: Vec<Option<FlatTree>> = self.trees.into_iter().map(Some).collect();
        let trees = self
            .roots
            .into_iter()
            .map(|root| rebuild(root, &mut slots, 0))
            .collect::<Result<_, _>>()?;
        Ok(NodeSnapshot {
            node: self.node,
            name: self.name,
            listen: self.listen,
            taken_at_ms: self.taken_at_ms,
            actors: self.actors,
            truncated: self.truncated,
            trees,
            names: self.names,
            groups: self.groups,
            peers: self.peers,
            totals: self.totals,
        })
    }
}

/// Appends `tree` and its subtrees to `out`; returns its index.
fn flatten(tree: TreeSnapshot, out: &mut Vec<FlatTree>) -> u32 {
    let index = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out.push(FlatTree {
        supervisor: tree.supervisor,
        type_name: tree.type_name,
        name: tree.name,
        strategy: tree.strategy,
        children: Vec::new(),
    });
    let children: Vec<FlatChild> = tree
        .children
        .into_iter()
        .map(|child| FlatChild {
            id: child.id,
            actor: child.actor,
            state: child.state,
            restarts: child.restarts,
            incarnation: child.incarnation,
            last_exit: child.last_exit,
            subtree: child.subtree.map(|subtree| flatten(*subtree, out)),
        })
        .collect();
    if let Some(flat) = out.get_mut(index as usize) {
        flat.children = children;
    }
    index
}

/// Takes tree `index` out of `slots` with its subtrees: an index out of range, used twice
/// or nested deeper than [`MAX_DEPTH`] is an error.
fn rebuild(index: u32, slots: &mut [Option<FlatTree>], depth: usize) -> Result<TreeSnapshot, String> {
    if depth > MAX_DEPTH {
        return Err(format!("supervision trees nested deeper than {MAX_DEPTH}"));
    }
    let flat = slots
        .get_mut(index as usize)
        .and_then(Option::take)
        .ok_or_else(|| format!("tree {index} is missing or used twice"))?;
    let mut children = Vec::with_capacity(flat.children.len());
    for child in flat.children {
        let subtree = match child.subtree {
            Some(subtree) => Some(Box::new(rebuild(subtree, slots, depth + 1)?)),
            None => None,
        };
        children.push(ChildSnapshot {
            id: child.id,
            actor: child.actor,
            state: child.state,
            restarts: child.restarts,
            incarnation: child.incarnation,
            last_exit: child.last_exit,
            subtree,
        });
    }
    Ok(TreeSnapshot {
        supervisor: flat.supervisor,
        type_name: flat.type_name,
        name: flat.name,
        strategy: flat.strategy,
        children,
    })
}

/// The answer to `request`, encoded in at most `max_bytes` (less the frame's overhead): the
/// snapshot cut as needed, actors first, then everything else, half at a time, and marked
/// [`truncated`](NodeSnapshot::truncated) if it was cut. `None` if even an empty snapshot
/// does not fit.
pub(crate) fn encode_answer(request: u64, snapshot: NodeSnapshot, max_bytes: usize) -> Option<Vec<u8>> {
    let limit = max_bytes.saturating_sub(ANSWER_OVERHEAD);
    let mut snapshot = snapshot;
    loop {
        let answer = IntrospectWire::answer(request, &Ok(WireSnapshot::new(snapshot.clone())));
        let mut body = Vec::new();
        if answer.is_ok_and(|answer| answer.encode(&mut body).is_ok()) && body.len() <= limit {
            return Some(body);
        }
        if !shrink(&mut snapshot) {
            return None;
        }
        snapshot.truncated = true;
    }
}

/// Halves the snapshot's lists: the actors while there are any, then all the others.
/// Returns false when there was nothing left to cut.
fn shrink(snapshot: &mut NodeSnapshot) -> bool {
    fn halve<T>(list: &mut Vec<T>) -> bool {
        let before = list.len();
        list.truncate(before / 2);
        before > 0
    }
    if halve(&mut snapshot.actors) {
        return true;
    }
    let mut cut = halve(&mut snapshot.names);
    cut |= halve(&mut snapshot.groups);
    cut |= halve(&mut snapshot.peers);
    cut |= halve(&mut snapshot.trees);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::introspect::ActorState;

    fn node() -> NodeId {
        NodeId::from_u64(7)
    }

    fn child(id: &str, subtree: Option<TreeSnapshot>) -> ChildSnapshot {
        ChildSnapshot {
            id: id.to_owned(),
            actor: Some(ActorId::new(node(), 3)),
            state: "Running".to_owned(),
            restarts: 2,
            incarnation: 3,
            last_exit: Some("panicked: boom".to_owned()),
            subtree: subtree.map(Box::new),
        }
    }

    fn tree(supervisor: u64, children: Vec<ChildSnapshot>) -> TreeSnapshot {
        TreeSnapshot {
            supervisor: ActorId::new(node(), supervisor),
            type_name: "Supervisor".to_owned(),
            name: "supervisor".to_owned(),
            strategy: "OneForOne".to_owned(),
            children,
        }
    }

    fn snapshot(actors: usize) -> NodeSnapshot {
        let actor = |n: usize| ActorSnapshot {
            id: ActorId::new(node(), n as u64),
            type_name: "Worker".to_owned(),
            names: vec![format!("worker_{n}")],
            mailbox_len: n,
            mailbox_capacity: 1024,
            state: ActorState::Idle,
            restarts: 0,
            parent: None,
            messages_handled: 0,
            is_supervisor: false,
        };
        let nested = tree(2, vec![child("leaf", None)]);
        NodeSnapshot {
            node: node(),
            name: "a".to_owned(),
            listen: None,
            taken_at_ms: 1,
            actors: (0..actors).map(actor).collect(),
            truncated: false,
            trees: vec![
                tree(1, vec![child("inner", Some(nested)), child("w", None)]),
                tree(9, vec![]),
            ],
            names: Vec::new(),
            groups: Vec::new(),
            peers: Vec::new(),
            totals: NodeTotals::default(),
        }
    }

    fn round_trip(wire: &IntrospectWire) -> IntrospectWire {
        let mut body = Vec::new();
        wire.encode(&mut body).unwrap();
        IntrospectWire::decode(&body).unwrap()
    }

    #[test]
    fn requests_and_answers_round_trip_with_nested_trees() {
        let request = IntrospectWire::Request {
            request: 4,
            max_actors: 10,
            max_bytes: 1 << 20,
        };
        assert_eq!(round_trip(&request), request);
        let original = snapshot(3);
        let answer = IntrospectWire::answer(5, &Ok(WireSnapshot::new(original.clone()))).unwrap();
        assert_eq!(
            outcome_of(&round_trip(&answer)).unwrap().into_snapshot(node()),
            Ok(original)
        );
        let refused = IntrospectWire::answer(6, &Err(Refusal::Busy { limit: 2 })).unwrap();
        assert_eq!(round_trip(&refused), refused);
        assert_eq!(outcome_of(&refused), Err(Refusal::Busy { limit: 2 }));
    }

    fn outcome_of(wire: &IntrospectWire) -> Outcome {
        let IntrospectWire::Answer { outcome, .. } = wire else {
            panic!("not an answer: {wire:?}");
        };
        decode_outcome(outcome).unwrap()
    }

    #[test]
    fn an_answer_about_another_node_is_refused() {
        let wire = WireSnapshot::new(snapshot(1));
        assert!(wire.into_snapshot(NodeId::from_u64(8)).is_err());
    }

    #[test]
    fn a_tree_used_twice_out_of_range_or_too_deep_is_refused() {
        let mut wire = WireSnapshot::new(snapshot(0));
        wire.roots = vec![0, 0];
        assert!(wire.clone().into_snapshot(node()).is_err());
        wire.roots = vec![99];
        assert!(wire.into_snapshot(node()).is_err());
        // A chain of trees deeper than the bound.
        let mut deep = tree(0, vec![]);
        for n in 1..=(MAX_DEPTH as u64 + 2) {
            deep = tree(n, vec![child("down", Some(deep))]);
        }
        let mut nested = snapshot(0);
        nested.trees = vec![deep];
        assert!(WireSnapshot::new(nested).into_snapshot(node()).is_err());
    }

    #[test]
    fn an_answer_too_large_is_cut_to_the_byte_limit_and_marked_truncated() {
        let whole = encode_answer(1, snapshot(1000), usize::MAX).unwrap();
        let limit = whole.len() / 3;
        let cut = encode_answer(1, snapshot(1000), limit).unwrap();
        assert!(cut.len() <= limit - ANSWER_OVERHEAD, "{} > {limit}", cut.len());
        let wire = outcome_of(&IntrospectWire::decode(&cut).unwrap()).unwrap();
        let snapshot = wire.into_snapshot(node()).unwrap();
        assert!(snapshot.truncated);
        assert!(!snapshot.actors.is_empty() && snapshot.actors.len() < 1000);
        // What fits nowhere is not sent.
        assert_eq!(encode_answer(1, self::snapshot(10), 70), None);
        // What fits is not cut.
        let wire = outcome_of(&IntrospectWire::decode(&whole).unwrap()).unwrap();
        assert!(!wire.into_snapshot(node()).unwrap().truncated);
    }

    #[test]
    fn garbage_and_truncated_bodies_are_errors() {
        let mut body = Vec::new();
        Bincode::<DEFAULT_MAX_FRAME>
            .encode(&Outcome::Ok(WireSnapshot::new(snapshot(5))), &mut body)
            .unwrap();
        for end in 0..body.len() {
            assert!(decode_outcome(&body[..end]).is_err(), "cut at {end}");
        }
        let mut rng = fastrand::Rng::with_seed(18);
        for _ in 0..2000 {
            let len = rng.usize(0..200);
            let garbage: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let _ = IntrospectWire::decode(&garbage);
            let _ = decode_outcome(&garbage);
        }
        body.push(0);
        assert!(decode_outcome(&body).is_err(), "trailing bytes");
    }
}
