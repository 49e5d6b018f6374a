//! The handles of one node, one actor type on a node, and one peer of a node: registered
//! once, so that the paths that count never build labels.

use std::sync::Arc;

use super::{counter, gauge, histogram, Counter, Gauge, Histogram, Label};

/// One handler in this many is timed (`distribute_handler_seconds`); a power of two.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) const HANDLER_SAMPLE_EVERY: u8 = 64;

/// A node's handles: its name as a label, and the handles made from it.
pub(crate) struct NodeMeters {
    node: Label,
}

impl NodeMeters {
    /// The handles of node `node`; registers the unlabelled counters at zero, so that a
    /// scrape lists them before anything happened.
    pub(crate) fn new(node: &str) -> Self {
        for name in super::UNLABELLED {
            counter!(*name).increment(0);
        }
        counter!(super::REGISTRY_REFUSED, "why" => "cap").increment(0);
        NodeMeters {
            node: Label::from(node),
        }
    }

    /// The handles of actor type `actor` on this node; made once per type and node by the
    /// caller, which shares them among the type's actors.
    pub(crate) fn actor(&self, actor: &'static str) -> ActorMeters {
        ActorMeters::new(actor, &self.node)
    }

    /// A supervisor of this node restarted a child of type `child`.
    pub(crate) fn restarted(&self, child: &'static str) {
        counter!(super::RESTARTS, "actor" => child, "node" => Arc::clone(&self.node)).increment(1);
    }

    /// A tell or call from this node to an actor of type `actor` failed with `kind`.
    pub(crate) fn call_error(&self, actor: &'static str, kind: &'static str) {
        call_error(actor, &self.node, kind);
    }
}

fn call_error(actor: &'static str, node: &Label, kind: &'static str) {
    counter!(super::CALL_ERRORS, "actor" => actor, "node" => Arc::clone(node), "kind" => kind).increment(1);
}

/// The handles of one actor type on one node, shared by its actors.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct ActorMeters {
    actor: &'static str,
    node: Label,
    handled: Counter,
    handler_seconds: Histogram,
    mailbox_depth: Histogram,
    alive: Gauge,
}

impl ActorMeters {
    fn new(actor: &'static str, node: &Label) -> Self {
        ActorMeters {
            actor,
            node: Arc::clone(node),
            handled: counter!(super::MESSAGES_HANDLED, "actor" => actor, "node" => Arc::clone(node)),
            handler_seconds: histogram!(super::HANDLER_SECONDS, "actor" => actor, "node" => Arc::clone(node)),
            mailbox_depth: histogram!(super::MAILBOX_DEPTH, "actor" => actor, "node" => Arc::clone(node)),
            alive: gauge!(super::ACTORS_ALIVE, "actor" => actor, "node" => Arc::clone(node)),
        }
    }

    /// Handles that report nothing, for the cells of actors that are gone.
    pub(crate) fn detached(actor: &'static str) -> Self {
        ActorMeters {
            actor,
            node: Label::from(""),
            handled: Counter::default(),
            handler_seconds: Histogram::default(),
            mailbox_depth: Histogram::default(),
            alive: Gauge::default(),
        }
    }

    /// The actor type's name.
    pub(crate) fn actor(&self) -> &'static str {
        self.actor
    }

    /// An actor of this type started running on the node.
    pub(crate) fn spawned(&self) {
        self.alive.increment(1.0);
    }

    /// An actor of this type stopped for good.
    pub(crate) fn stopped(&self) {
        self.alive.decrement(1.0);
    }

    /// A tell or call to an actor of this type, from its own node, failed with `kind`.
    pub(crate) fn call_error(&self, kind: &'static str) {
        call_error(self.actor, &self.node, kind);
    }
}

/// An actor task's part in the metrics. The task counts the messages of a batch with its
/// yield budget and reports them once per batch ([`flush`](Self::flush)); this holds only
/// the sampling of handler times, one byte that sits in the padding of the actor's
/// `Context`, so that idle actors pay nothing for it. Without the `metrics` feature it is
/// empty and every method does nothing.
#[derive(Default)]
pub(crate) struct Batch {
    /// Messages taken so far, wrapping: every [`HANDLER_SAMPLE_EVERY`]th is timed.
    #[cfg(feature = "metrics")]
    pub(super) seq: u8,
}

impl Batch {
    /// The actor took a message from its mailbox, the `first` of a batch or not: the first
    /// samples the mailbox's depth (`waiting`: messages left, this one excluded). Returns
    /// whether this message's handler is to be timed.
    #[inline]
    pub(crate) fn took(
        &mut self,
        meters: &ActorMeters,
        first: bool,
        waiting: impl FnOnce() -> usize,
    ) -> bool {
        #[cfg(feature = "metrics")]
        {
            if first {
                meters.mailbox_depth.record(waiting().saturating_add(1) as f64);
            }
            self.seq = self.seq.wrapping_add(1);
            self.seq % HANDLER_SAMPLE_EVERY == 0
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = (meters, first, waiting);
            false
        }
    }

    /// Records how long a timed handler took.
    #[inline]
    pub(crate) fn timed(meters: &ActorMeters, took: Option<std::time::Duration>) {
        #[cfg(feature = "metrics")]
        if let Some(took) = took {
            meters.handler_seconds.record(took.as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (meters, took);
    }

    /// Reports the `handled` messages of a batch that ended: the mailbox ran empty, the
    /// actor yielded, or the incarnation ended.
    #[inline]
    pub(crate) fn flush(meters: &ActorMeters, handled: u32) {
        #[cfg(feature = "metrics")]
        if handled != 0 {
            meters.handled.increment(u64::from(handled));
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (meters, handled);
    }
}

/// The handles of one peer of a node, made when its first connection is installed.
pub(crate) struct PeerMeters {
    pub(crate) messages_in: Counter,
    pub(crate) messages_out: Counter,
    pub(crate) bytes_in: Counter,
    pub(crate) bytes_out: Counter,
    pub(crate) frames_in: Counter,
    pub(crate) frames_out: Counter,
    pub(crate) rejected: Counter,
    pub(crate) up: Counter,
    pub(crate) down: Counter,
}

impl PeerMeters {
    /// The handles of peer `peer` of node `node`, all registered at zero.
    pub(crate) fn new(node: &str, peer: &str) -> Self {
        let (node, peer) = (Label::from(node), Label::from(peer));
        let (n, p) = (|| Arc::clone(&node), || Arc::clone(&peer));
        let meters = PeerMeters {
            messages_in: counter!(super::PEER_MESSAGES, "node" => n(), "peer" => p(), "direction" => "in"),
            messages_out: counter!(super::PEER_MESSAGES, "node" => n(), "peer" => p(), "direction" => "out"),
            bytes_in: counter!(super::WIRE_BYTES, "node" => n(), "peer" => p(), "direction" => "in"),
            bytes_out: counter!(super::WIRE_BYTES, "node" => n(), "peer" => p(), "direction" => "out"),
            frames_in: counter!(super::WIRE_FRAMES, "node" => n(), "peer" => p(), "direction" => "in"),
            frames_out: counter!(super::WIRE_FRAMES, "node" => n(), "peer" => p(), "direction" => "out"),
            rejected: counter!(super::MESSAGES_REJECTED, "node" => n(), "peer" => p()),
            up: counter!(super::NODE_UP, "node" => n(), "peer" => p()),
            down: counter!(super::NODE_DOWN, "node" => n(), "peer" => p()),
        };
        for counter in [
            &meters.messages_in,
            &meters.messages_out,
            &meters.bytes_in,
            &meters.bytes_out,
            &meters.frames_in,
            &meters.frames_out,
            &meters.rejected,
            &meters.up,
            &meters.down,
        ] {
            counter.increment(0);
        }
        meters
    }
}
