//! A connection's reader: opens the peer's sealed records (a record that fails closes the
//! connection as a protocol violation, and nothing from it is dispatched), cuts what they
//! carry into frames, hands each to [`dispatch`], and when
//! the connection ends (closed, broken, silent too long, cut, or the node closing) marks the
//! peer down and decides whether to reconnect.
//!
//! Backpressure: while the peer's send queue holds more than its pause point (see
//! `queue.rs`: only replies, control and handler frames take it there, which is what a peer
//! can make us produce by sending), the reader stops reading from the peer, so a peer that
//! does not read cannot make us produce more for it. A paused reader still wakes when room
//! appears, the connection is cut or fails, or the node closes. While paused it hears no
//! heartbeats, since it reads nothing: room appearing (the writer got a batch out, so the
//! peer reads) counts as hearing from the peer instead, and a peer whose queue does not drain
//! below the pause point within the heartbeat timeout is disconnected as
//! [`NodeDownReason::Overloaded`]. That also ends the one deadlock pausing could add: two
//! nodes each paused on the other, which needs replies and control frames past the pause
//! point on both sides at once (messages alone never reach it). A legitimate peer behind a
//! link too slow to write one batch within the heartbeat timeout is dropped the same way,
//! and reconnects.
//!
//! Signals from a peer wait the same way: a signal that finds its actor's queue full of
//! signals from peers
//! ([`MAX_PEER_SIGNAL_BYTES_PER_ACTOR`](crate::MAX_PEER_SIGNAL_BYTES_PER_ACTOR)) is held by
//! the reader, which reads nothing more from the peer until the actor takes one
//! (or exits, or the connection is cut, or the node closes). An actor that takes none within
//! the heartbeat timeout gets the peer disconnected as
//! [`NodeDownReason::SignalsOverloaded`]: the peer's signals keep their order and none is
//! lost, and a peer flooding a busy actor stalls only its own connection. As with a full
//! mailbox, an actor that waits in its handler for something this very peer must send (a
//! reply) while the peer's signals fill its queue holds the reader up until the heartbeat
//! timeout ends it; honest peers rarely send 1 024 signals to one actor in one handler's time.

use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::control::Blocked;
use super::dispatch::{dispatch, ReaderState, TargetCache};
use super::peer::PeerSlot;
use super::reconnect::reconnect_loop;
use super::transport::ReadHalf;
use super::{Net, NodeDownReason};
use crate::actor::Node;
use crate::transport::SessionDecoder;

/// A read buffer, limited to how much to read into it.
fn limited((buf, room): (&mut Vec<u8>, usize)) -> bytes::buf::Limit<&mut Vec<u8>> {
    bytes::BufMut::limit(buf, room)
}

/// How the writer (its write failed) and the node (`disconnect`) tell a reader to stop.
#[derive(Default)]
pub(super) struct Stops {
    pub(super) closed: Arc<Notify>,
    pub(super) cut: Arc<Notify>,
}

/// What a reader is told, and tells: when to stop, and (to `connect`) that the peer has
/// greeted us.
pub(super) struct ConnectionSignals {
    pub(super) stops: Stops,
    /// Fired once the peer's greeting (what it sends on connecting) was taken in, or by its
    /// notice that this connection is a duplicate.
    pub(super) greeted: oneshot::Sender<()>,
}

/// The reading side of an authenticated connection.
pub(super) struct Inbound {
    pub(super) read: ReadHalf,
    /// Opens the peer's sealed records; may already hold the first ones.
    pub(super) decoder: SessionDecoder,
}

pub(super) async fn reader(
    net: Arc<Net>,
    node: Node,
    slot: Arc<PeerSlot>,
    connection: u64,
    inbound: Inbound,
    signals: ConnectionSignals,
) {
    let ConnectionSignals { stops, greeted } = signals;
    let mut state = ReaderState::new(greeted, &slot, connection);
    let reason = read_frames(&net, &node, &slot, inbound, &mut state, &stops).await;
    let reason = match reason {
        NodeDownReason::Disconnected => slot.cut_reason(connection),
        other => other,
    };
    stops.closed.notify_one();
    drop(node);
    connection_ended(net, slot, connection, reason, state.superseded).await;
}

/// Reads and dispatches frames until the connection ends; returns why it did.
async fn read_frames(
    net: &Net,
    node: &Node,
    slot: &Arc<PeerSlot>,
    inbound: Inbound,
    state: &mut ReaderState,
    stops: &Stops,
) -> NodeDownReason {
    let Inbound {
        read: mut rd,
        mut decoder,
    } = inbound;
    let mut closing = net.closing();
    let timeout = net.config.heartbeat_timeout;
    let mut target = TargetCache::default();
    // One timer for the connection, moved only when it fires: re-arming a timeout around
    // every read would cost more than the read.
    let mut last_heard = Instant::now();
    let silence = tokio::time::sleep(timeout);
    tokio::pin!(silence);
    loop {
        loop {
            match decoder.next_borrowed() {
                Ok(Some((kind, body))) => match count_frame_in(
                    slot,
                    dispatch(net, node, slot, kind, body, state, &mut target).await,
                ) {
                    Ok(None) => {}
                    Ok(Some(blocked)) => {
                        if let Err(reason) = signal_room(slot, blocked, &mut closing, stops, timeout).await {
                            return reason;
                        }
                        last_heard = Instant::now();
                    }
                    Err(reason) => return reason,
                },
                Ok(None) => break,
                Err(error) => return NodeDownReason::ProtocolViolation(error.to_string()),
            }
        }
        if slot.queue.should_pause() {
            if let Err(reason) = paused(slot, &mut closing, stops, timeout).await {
                return reason;
            }
            last_heard = Instant::now();
        }
        // Biased, so that the same wake-ups give the same outcome on every run (a seeded
        // simulation replays exactly): local decisions, then what the peer sent, its silence.
        // Straight into the decoder's buffer: the socket's bytes are not copied on their way.
        let mut into = limited(decoder.read_buffer());
        let read = tokio::select! {
            biased;
            _ = closing.changed() => return NodeDownReason::LocalShutdown,
            () = stops.cut.notified() => return NodeDownReason::Disconnected,
            () = stops.closed.notified() => return NodeDownReason::ConnectionError("write failed".into()),
            read = rd.read_buf(&mut into) => read,
            () = &mut silence => {
                let due = last_heard + timeout;
                if Instant::now() < due {
                    silence.as_mut().reset(due);
                    continue;
                }
                return NodeDownReason::HeartbeatTimeout(timeout);
            }
        };
        match read {
            Ok(0) => {
                return match decoder.finish() {
                    Ok(()) => NodeDownReason::ConnectionClosed,
                    Err(error) => NodeDownReason::ProtocolViolation(error.to_string()),
                }
            }
            Ok(n) => {
                last_heard = Instant::now();
                slot.count_read(n);
            }
            Err(error) => return NodeDownReason::ConnectionError(error.to_string()),
        }
    }
}

/// Counts a frame read in the peer's metrics; returns what its dispatch did.
fn count_frame_in<T>(slot: &PeerSlot, dispatched: T) -> T {
    if let Some(meters) = slot.meters() {
        meters.frames_in.increment(1);
    }
    dispatched
}

/// Waits, without reading, until the peer's send queue is below its pause point: `Ok` once
/// it is (the peer read what we sent, so it is alive), or why the connection ends.
async fn paused(
    slot: &PeerSlot,
    closing: &mut tokio::sync::watch::Receiver<bool>,
    stops: &Stops,
    timeout: std::time::Duration,
) -> Result<(), NodeDownReason> {
    crate::trace::trace_event!(debug, peer = %slot.id, queued = slot.queue.queued_bytes(), "peer does not read: reading paused");
    crate::meter::counter!(crate::meter::READER_PAUSED).increment(1);
    tokio::select! {
        biased;
        () = slot.queue.below_pause() => Ok(()),
        () = tokio::time::sleep(timeout) => Err(NodeDownReason::Overloaded {
            queued: slot.queue.queued_bytes(),
            limit: slot.queue.bounds.pause,
        }),
        _ = closing.changed() => Err(NodeDownReason::LocalShutdown),
        () = stops.closed.notified() => Err(NodeDownReason::ConnectionError("write failed".into())),
        () = stops.cut.notified() => Err(NodeDownReason::Disconnected),
    }
}

/// Waits, without reading, until the actor of a blocked signal takes signals from peers
/// again, and queues it: `Ok` once queued (or answered, if the actor exited), or why the
/// connection ends. Each wait for room is bounded by the heartbeat timeout.
async fn signal_room(
    slot: &Arc<PeerSlot>,
    mut blocked: Blocked,
    closing: &mut tokio::sync::watch::Receiver<bool>,
    stops: &Stops,
    timeout: std::time::Duration,
) -> Result<(), NodeDownReason> {
    crate::trace::trace_event!(debug, peer = %slot.id, actor = %blocked.actor(), "an actor's signal queue is full: reading paused");
    crate::meter::counter!(crate::meter::SIGNALS_PAUSED).increment(1);
    loop {
        tokio::select! {
            biased;
            () = blocked.room() => {}
            () = tokio::time::sleep(timeout) => return Err(NodeDownReason::SignalsOverloaded {
                actor: blocked.actor(),
                limit: crate::MAX_PEER_SIGNAL_BYTES_PER_ACTOR,
            }),
            _ = closing.changed() => return Err(NodeDownReason::LocalShutdown),
            () = stops.closed.notified() => return Err(NodeDownReason::ConnectionError("write failed".into())),
            () = stops.cut.notified() => return Err(NodeDownReason::Disconnected),
        }
        match blocked.retry(slot) {
            None => return Ok(()),
            Some(again) => blocked = again,
        }
    }
}

/// After the connection ended: unless another connection took over, the peer is down.
async fn connection_ended(
    net: Arc<Net>,
    slot: Arc<PeerSlot>,
    connection: u64,
    reason: NodeDownReason,
    superseded: bool,
) {
    if reason == NodeDownReason::LocalShutdown {
        // Detaching discards the queue: let the writers flush the goodbyes first.
        net.writers_flushed().await;
    }
    if reason == NodeDownReason::PeerShutdown {
        slot.mark_departed();
    }
    if superseded && reason == NodeDownReason::ConnectionClosed {
        // The peer moved to another connection; the peer is not down unless that one never
        // arrives here.
        slot.wait_for_successor(connection, net.config.handshake_timeout)
            .await;
    }
    if net.holds_through(&slot, &reason) {
        // Membership still counts the peer in: it is not down for one broken connection.
        if net.connection_broke(&slot, connection) {
            crate::trace::trace_event!(info, node = %net.config.name, peer = %slot.name(), %reason, "connection lost; the peer is still a member");
        }
        return;
    }
    if !slot.detach(connection) {
        crate::trace::trace_event!(debug, peer = %slot.id, connection, %reason, "superseded connection closed");
        return;
    }
    let reconnect = !matches!(
        reason,
        NodeDownReason::PeerShutdown
            | NodeDownReason::LocalShutdown
            | NodeDownReason::ProtocolViolation(_)
            | NodeDownReason::Overloaded { .. }
            | NodeDownReason::SignalsOverloaded { .. }
            | NodeDownReason::Disconnected
            | NodeDownReason::DeclaredDown
    );
    net.handlers.disconnected(slot.id);
    net.peer_down(&slot, reason);
    if reconnect {
        if let (Some(policy), Some(addr)) = (net.config.reconnect, slot.listen_addr()) {
            tokio::spawn(reconnect_loop(net, slot, addr, policy));
        }
    }
}
