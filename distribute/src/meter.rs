//! The metrics the runtime reports, and the one place their names live.
//!
//! The runtime reports through the [`metrics`](https://docs.rs/metrics) facade and installs
//! no recorder: install one (a Prometheus exporter, say) **before building the nodes** to
//! collect them, since each node and actor type registers its handles once, when first
//! used, and a handle made while no recorder was installed stays silent. Without the
//! `metrics` feature (on by default) the crate does not depend on `metrics` and every call
//! below compiles to nothing.
//!
//! Labels: `actor` is the actor type's [`Actor::NAME`](crate::Actor::NAME) (a supervisor's
//! child type for restarts), `node` the reporting node's name, `peer` the other node's name,
//! `direction` `in` or `out` as seen by `node`, `kind` the [`CallError`](crate::CallError)
//! variant in snake case (see [`CallError::kind`](crate::CallError::kind)).
//!
//! | Name | Type | Labels | Meaning |
//! | --- | --- | --- | --- |
//! | `distribute_messages_handled_total` | counter | `actor`, `node` | Messages the receiving actor took from its mailbox and handled (a handler that panicked counts). Counted by the actor's task with its yield budget and added once per batch: when the mailbox runs empty, every 128 messages (when the actor yields), and when an incarnation ends (the last batch of a killed actor is not counted). |
//! | `distribute_handler_seconds` | histogram | `actor`, `node` | Wall time of one handler, from its start to its end, awaits included. **Sampled**: one message in 64 of each actor is timed, so the cost is two clock reads per 64 messages. |
//! | `distribute_mailbox_depth` | histogram | `actor`, `node` | Messages waiting for the actor (the one taken included) as it took them from its mailbox, **sampled** once per batch: when the actor takes its first message after being idle or after yielding. |
//! | `distribute_actors_alive` | gauge | `actor`, `node` | Actors of the type running on the node: up when one is spawned, down when it stops for good (a restart keeps it). |
//! | `distribute_call_errors_total` | counter | `actor`, `node`, `kind` | Failed tells and calls, counted by the caller: `actor` is the target's type, `node` the caller's node, `kind` one of `timeout`, `actor_stopped`, `actor_failed`, `mailbox_full`, `node_down`, `connection_lost`, `encode`, `decode`, `payload_too_large`, `protocol_mismatch`. |
//! | `distribute_restarts_total` | counter | `actor`, `node` | Restarts of a supervised child, by the child's type, counted by its supervisor's node. |
//! | `distribute_peer_messages_total` | counter | `node`, `peer`, `direction` | Actor messages (tells and calls) sent to (`out`, when queued) or received from (`in`, when delivered to a mailbox) another node, from the first connection with it on. |
//! | `distribute_wire_bytes_total` | counter | `node`, `peer`, `direction` | Bytes written to (`out`) or read from (`in`) the connections with a peer, TLS and session overhead included. |
//! | `distribute_wire_frames_total` | counter | `node`, `peer`, `direction` | Frames queued for (`out`) or read from (`in`) a peer: messages, replies, signals, control frames and heartbeats. |
//! | `distribute_node_up_total` | counter | `node`, `peer` | Times a peer came up (the `NodeUp` event). |
//! | `distribute_node_down_total` | counter | `node`, `peer` | Times a peer went down (the `NodeDown` event). |
//! | `distribute_registry_names` | gauge | `node` | Global names in the node's replica of the registry. |
//! | `distribute_registry_groups` | gauge | `node` | Process groups with at least one member in the node's replica. |
//! | `distribute_messages_rejected_total` | counter | `node`, `peer` | Messages from a peer that did not decode, spoke another protocol or had no actor. |
//! | `distribute_signals_refused_total` | counter | | Signals (links, monitors, exits) from peers refused for a bound. |
//! | `distribute_signals_paused_total` | counter | | Times a connection stopped reading because an actor's queue of signals from peers was full. |
//! | `distribute_reader_paused_total` | counter | | Times a connection stopped reading because the peer did not read what this node sent. |
//! | `distribute_registry_refused_total` | counter | `why` | Registry entries from peers refused (`why`: `cap`, or the authority rule that refused them). |
//! | `distribute_registry_invalid_frames_total` | counter | | Registry frames from peers refused whole as a protocol violation. |
//! | `distribute_registry_suspected_total` | counter | | Times the registry's sequencer suspected a peer that did not answer. |
//! | `distribute_membership_packets_refused_total` | counter | | Membership (SWIM) packets refused (bad authentication, oversize, undecodable). |
//!
//! A node registers the unlabelled counters at zero when it is built, its registry gauges
//! with it, an actor type's handles when its first actor is spawned there, and a peer's
//! counters when the first connection with it is installed: a scrape shows them at zero
//! before anything happened. Call errors and restarts appear when the first one happens.

/// `distribute_messages_handled_total`: see the [table](self).
pub const MESSAGES_HANDLED: &str = "distribute_messages_handled_total";
/// `distribute_handler_seconds`: see the [table](self).
pub const HANDLER_SECONDS: &str = "distribute_handler_seconds";
/// `distribute_mailbox_depth`: see the [table](self).
pub const MAILBOX_DEPTH: &str = "distribute_mailbox_depth";
/// `distribute_actors_alive`: see the [table](self).
pub const ACTORS_ALIVE: &str = "distribute_actors_alive";
/// `distribute_call_errors_total`: see the [table](self).
pub const CALL_ERRORS: &str = "distribute_call_errors_total";
/// `distribute_restarts_total`: see the [table](self).
pub const RESTARTS: &str = "distribute_restarts_total";
/// `distribute_peer_messages_total`: see the [table](self).
pub const PEER_MESSAGES: &str = "distribute_peer_messages_total";
/// `distribute_wire_bytes_total`: see the [table](self).
pub const WIRE_BYTES: &str = "distribute_wire_bytes_total";
/// `distribute_wire_frames_total`: see the [table](self).
pub const WIRE_FRAMES: &str = "distribute_wire_frames_total";
/// `distribute_node_up_total`: see the [table](self).
pub const NODE_UP: &str = "distribute_node_up_total";
/// `distribute_node_down_total`: see the [table](self).
pub const NODE_DOWN: &str = "distribute_node_down_total";
/// `distribute_registry_names`: see the [table](self).
pub const REGISTRY_NAMES: &str = "distribute_registry_names";
/// `distribute_registry_groups`: see the [table](self).
pub const REGISTRY_GROUPS: &str = "distribute_registry_groups";
/// `distribute_messages_rejected_total`: see the [table](self).
pub const MESSAGES_REJECTED: &str = "distribute_messages_rejected_total";
/// `distribute_signals_refused_total`: see the [table](self).
pub const SIGNALS_REFUSED: &str = "distribute_signals_refused_total";
/// `distribute_signals_paused_total`: see the [table](self).
pub const SIGNALS_PAUSED: &str = "distribute_signals_paused_total";
/// `distribute_reader_paused_total`: see the [table](self).
pub const READER_PAUSED: &str = "distribute_reader_paused_total";
/// `distribute_registry_refused_total`: see the [table](self).
pub const REGISTRY_REFUSED: &str = "distribute_registry_refused_total";
/// `distribute_registry_invalid_frames_total`: see the [table](self).
pub const REGISTRY_INVALID_FRAMES: &str = "distribute_registry_invalid_frames_total";
/// `distribute_registry_suspected_total`: see the [table](self).
pub const REGISTRY_SUSPECTED: &str = "distribute_registry_suspected_total";
/// `distribute_membership_packets_refused_total`: see the [table](self).
pub const MEMBERSHIP_PACKETS_REFUSED: &str = "distribute_membership_packets_refused_total";

/// Every metric name the runtime reports, in the order of the [table](self).
pub const ALL: &[&str] = &[
    MESSAGES_HANDLED,
    HANDLER_SECONDS,
    MAILBOX_DEPTH,
    ACTORS_ALIVE,
    CALL_ERRORS,
    RESTARTS,
    PEER_MESSAGES,
    WIRE_BYTES,
    WIRE_FRAMES,
    NODE_UP,
    NODE_DOWN,
    REGISTRY_NAMES,
    REGISTRY_GROUPS,
    MESSAGES_REJECTED,
    SIGNALS_REFUSED,
    SIGNALS_PAUSED,
    READER_PAUSED,
    REGISTRY_REFUSED,
    REGISTRY_INVALID_FRAMES,
    REGISTRY_SUSPECTED,
    MEMBERSHIP_PACKETS_REFUSED,
];

/// The unlabelled counters, registered at zero by every node.
const UNLABELLED: &[&str] = &[
    SIGNALS_REFUSED,
    SIGNALS_PAUSED,
    READER_PAUSED,
    REGISTRY_INVALID_FRAMES,
    REGISTRY_SUSPECTED,
    MEMBERSHIP_PACKETS_REFUSED,
];

mod handles;
mod scopes;

pub(crate) use handles::{Counter, Gauge, Histogram, Label};
pub(crate) use scopes::{ActorMeters, Batch, NodeMeters, PeerMeters};

/// A counter handle: `counter!(NAME, "label" => value, ...)`, as `metrics::counter!`, or a
/// handle that does nothing without the `metrics` feature (the label values are then not
/// evaluated beyond a borrow).
macro_rules! counter {
    ($name:expr $(, $key:literal => $value:expr)* $(,)?) => {{
        #[cfg(feature = "metrics")]
        let handle = $crate::meter::Counter::from(::metrics::counter!($name $(, $key => $value)*));
        #[cfg(not(feature = "metrics"))]
        let handle = {
            let _ = ($name, $(&$value,)*);
            $crate::meter::Counter::default()
        };
        handle
    }};
}

/// A gauge handle, as [`counter!`].
macro_rules! gauge {
    ($name:expr $(, $key:literal => $value:expr)* $(,)?) => {{
        #[cfg(feature = "metrics")]
        let handle = $crate::meter::Gauge::from(::metrics::gauge!($name $(, $key => $value)*));
        #[cfg(not(feature = "metrics"))]
        let handle = {
            let _ = ($name, $(&$value,)*);
            $crate::meter::Gauge::default()
        };
        handle
    }};
}

/// A histogram handle, as [`counter!`].
macro_rules! histogram {
    ($name:expr $(, $key:literal => $value:expr)* $(,)?) => {{
        #[cfg(feature = "metrics")]
        let handle = $crate::meter::Histogram::from(::metrics::histogram!($name $(, $key => $value)*));
        #[cfg(not(feature = "metrics"))]
        let handle = {
            let _ = ($name, $(&$value,)*);
            $crate::meter::Histogram::default()
        };
        handle
    }};
}

pub(crate) use {counter, gauge, histogram};

#[cfg(test)]
mod tests;
