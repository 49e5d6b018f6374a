//! What one step of the state machine asks the outside world to do.
//!
//! The protocol only describes effects; the driver carries them out in this order: frames are
//! queued in the order they were produced (so each peer receives them in protocol order), then
//! watchers are told of name changes, then claims are answered, losers stopped and conflicts
//! reported.

use crate::actor::{ActorId, ExitReason, NodeId};
use crate::registry::api::NameChange;
use crate::registry::wire::{Decision, RegistryMsg};

/// The effects of one input.
#[derive(Debug, Default)]
#[must_use = "the effects of a step must be carried out"]
pub(crate) struct Outputs {
    /// Frames to send, in order; one to a peer that is not connected is dropped.
    pub(crate) frames: Vec<(NodeId, RegistryMsg)>,
    /// Changes of names, in the order they were made, for watchers.
    pub(crate) changes: Vec<NameChange>,
    /// Whether the replica (names or groups) may have changed: waiting lookups look again.
    pub(crate) touched: bool,
    /// Name conflicts settled by this step, to report.
    pub(crate) conflicts: Vec<Conflict>,
    /// Local actors that lost a conflict and are to be stopped, with the reason.
    pub(crate) stops: Vec<(ActorId, ExitReason)>,
    /// Answers to this node's submitted changes, by request.
    pub(crate) answers: Vec<(u64, Answer)>,
}

impl Outputs {
    /// Queues `msg` for `to`.
    pub(super) fn send(&mut self, to: NodeId, msg: RegistryMsg) {
        self.frames.push((to, msg));
    }

    /// Records that `name` now belongs to `owner` (or to no one).
    pub(super) fn changed(&mut self, name: &str, owner: Option<ActorId>) {
        self.touched = true;
        self.changes.push(NameChange {
            name: name.to_owned(),
            owner,
        });
    }

    /// Answers this node's request `request`.
    pub(super) fn answer(&mut self, request: u64, answer: Answer) {
        self.answers.push((request, answer));
    }

    /// Empties the outputs, keeping their buffers; false if one grew past
    /// [`KEPT_CAPACITY`] (a snapshot's step), which is then not worth keeping.
    pub(super) fn clear(&mut self) -> bool {
        self.frames.clear();
        self.changes.clear();
        self.touched = false;
        self.conflicts.clear();
        self.stops.clear();
        self.answers.clear();
        [
            self.frames.capacity(),
            self.changes.capacity(),
            self.conflicts.capacity(),
            self.stops.capacity(),
            self.answers.capacity(),
        ]
        .into_iter()
        .all(|capacity| capacity <= KEPT_CAPACITY)
    }
}

/// The most items of each kind that recycled outputs keep room for.
const KEPT_CAPACITY: usize = 64;

/// A name held by two owners, settled for `winner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The name.
    pub(crate) name: String,
    /// The owner that keeps it.
    pub(crate) winner: ActorId,
    /// The owner that lost it.
    pub(crate) loser: ActorId,
}

/// How a change this node submitted ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The sequencer decided: made (and applied by every node it went to), or refused with
    /// the name's owner.
    Decided(Decision),
    /// The sequencer went down first: the change may or may not have been made; submit it
    /// again (to the next sequencer), which answers a change already made the same way.
    SequencerLost,
}
