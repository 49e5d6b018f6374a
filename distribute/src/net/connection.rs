//! The life of one connection up to its reader and writer: accept or connect over the node's
//! [`Transport`](super::Transport), run the handshake, install the connection as the one that
//! carries the peer's traffic (or drain it as a duplicate), introduce the nodes we know.
//!
//! Incoming connections still in their handshake are capped per listener (see `pending.rs`),
//! and a connection may not take the id of a node known under another name, nor the traffic
//! of a node connected for longer than a simultaneous connect takes.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::handshake::{handshake, CAP_MEMBERSHIP};
use super::peer::PeerSlot;
use super::pending::Pending;
use super::reader::{reader, ConnectionSignals, Inbound, Stops};
use super::transport::{Accepted, Connection, Listener, Out, TransportError};
use super::wire::{Control, KnownNode};
use super::writer::{write_control, writer};
use super::{ConnectError, Net, NodeEvent};
use crate::actor::NodeId;
use crate::lock::lock;
use crate::trace::{trace_span, Empty};
use crate::transport::{Peer, Sealer};

/// The handshakes of one listener in progress; dropping an entry's sender drops the handshake.
type Handshakes = Arc<Mutex<Pending<oneshot::Sender<()>>>>;

/// A pending handshake's place in [`Handshakes`], given up when dropped.
struct Ticket {
    handshakes: Handshakes,
    ticket: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        lock(&self.handshakes).finish(self.ticket);
    }
}

/// Accepts connections until the node closes; each one sets up on a task of its own.
pub(super) async fn accept_loop(net: Arc<Net>, mut listener: Box<dyn Listener>) {
    let mut closing = net.closing();
    let handshakes: Handshakes = Arc::new(Mutex::new(Pending::new(net.config.limits.max_pending_handshakes)));
    loop {
        let accepted = tokio::select! {
            biased;
            _ = closing.changed() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((accepted, addr)) => {
                let (evict, evicted) = oneshot::channel();
                // Dropping the oldest handshake's sender (if any) ends it.
                let (ticket, _oldest) = lock(&handshakes).admit(evict);
                let ticket = Ticket {
                    handshakes: Arc::clone(&handshakes),
                    ticket,
                };
                let net = Arc::clone(&net);
                tokio::spawn(async move {
                    if let Err(error) = establish_accepted(&net, accepted, addr, ticket, evicted).await {
                        net.stats.connections_rejected.fetch_add(1, Ordering::Relaxed);
                        if matches!(error, ConnectError::HandshakeEvicted { .. }) {
                            crate::trace::trace_event!(debug, %addr, %error, "incoming connection rejected");
                        } else {
                            crate::trace::trace_event!(warn, %addr, %error, "incoming connection rejected");
                        }
                        net.emit(NodeEvent::ConnectionRejected { error });
                    }
                });
            }
            Err(error) => {
                // Out of file descriptors, say: let the others finish before trying again.
                crate::trace::trace_event!(warn, %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Connects to `addr`. Boxed with an explicit `Send` bound: connections spawn readers that
/// may reconnect, and the compiler cannot infer `Send` through that cycle of futures.
pub(super) fn connect(
    net: &Arc<Net>,
    addr: SocketAddr,
) -> Pin<Box<dyn Future<Output = Result<NodeId, ConnectError>> + Send + '_>> {
    Box::pin(connect_inner(net, addr))
}

async fn connect_inner(net: &Arc<Net>, addr: SocketAddr) -> Result<NodeId, ConnectError> {
    if net.is_closing() {
        return Err(ConnectError::NotNetworked);
    }
    if net.is_me(addr) {
        return Err(ConnectError::SelfConnection { addr });
    }
    let timeout = net.config.handshake_timeout;
    let setup = async {
        let connection = net
            .transport
            .connect(addr)
            .await
            .map_err(|error| transport_error(addr, error))?;
        authenticate(net, connection, addr).await
    };
    let authenticated = tokio::time::timeout(timeout, setup)
        .await
        .unwrap_or(Err(ConnectError::Timeout { addr, timeout }))?;
    run(net, authenticated, addr, true).await
}

/// Finishes an accepted connection's set-up (TLS, say) and runs it, unless `evicted` fires
/// first (a newer connection needed its place among the pending handshakes).
async fn establish_accepted(
    net: &Arc<Net>,
    accepted: Accepted,
    addr: SocketAddr,
    ticket: Ticket,
    evicted: oneshot::Receiver<()>,
) -> Result<NodeId, ConnectError> {
    let timeout = net.config.handshake_timeout;
    let setup = async {
        let connection = accepted.await.map_err(|error| transport_error(addr, error))?;
        authenticate(net, connection, addr).await
    };
    let authenticated = tokio::select! {
        biased;
        done = tokio::time::timeout(timeout, setup) => done.unwrap_or(Err(ConnectError::Timeout { addr, timeout }))?,
        _ = evicted => return Err(ConnectError::HandshakeEvicted { addr }),
    };
    drop(ticket);
    run(net, authenticated, addr, false).await
}

fn transport_error(addr: SocketAddr, error: TransportError) -> ConnectError {
    match error {
        TransportError::Io(error) => ConnectError::Io { addr, error },
        TransportError::Security(error) => ConnectError::Tls { addr, error },
    }
}

/// A connection whose peer proved it holds the cookie.
struct Authenticated {
    inbound: Inbound,
    write: Out,
    /// Seals everything written to `write`.
    sealer: Sealer,
    peer: Peer,
}

async fn authenticate(
    net: &Net,
    connection: Connection,
    addr: SocketAddr,
) -> Result<Authenticated, ConnectError> {
    let Connection { mut read, mut write } = connection;
    let span = trace_span!(info, "handshake", node = %net.config.name, %addr, peer = Empty, outcome = Empty);
    let session = span
        .clone()
        .instrument(handshake(net, &mut read, &mut write, addr))
        .await;
    match &session {
        Ok(session) => {
            span.record_display("peer", &session.peer.name);
            span.record("outcome", "ok");
        }
        Err(error) => span.record_display("outcome", error),
    }
    let session = session?;
    Ok(Authenticated {
        inbound: Inbound {
            read,
            decoder: session.decoder,
        },
        write,
        sealer: session.sealer,
        peer: session.peer,
    })
}

/// Installs an authenticated connection (or drains it as a duplicate) and starts its reader;
/// an installed one also gets a writer.
async fn run(
    net: &Arc<Net>,
    authenticated: Authenticated,
    addr: SocketAddr,
    initiated: bool,
) -> Result<NodeId, ConnectError> {
    let Authenticated {
        inbound,
        write,
        sealer,
        peer,
    } = authenticated;
    let peer_id = NodeId::from_u64(peer.incarnation);
    if peer_id == net.id {
        return Err(ConnectError::SelfConnection { addr });
    }
    let Some(node) = net.node.upgrade() else {
        return Err(ConnectError::NotNetworked);
    };
    if net.is_closing() {
        // A handshake that finished while the node shut down: nothing may come up now.
        return Err(ConnectError::NotNetworked);
    }
    let slot = net.adopt(peer_id);
    if let Err(error) = admissible(&slot, &peer.name, addr) {
        net.release(&slot);
        return Err(error);
    }
    let window = net.config.handshake_timeout;
    match second_connection(slot.connection_age(), initiated, window) {
        Second::Proceed => {}
        Second::KeepExisting => {
            crate::trace::trace_event!(debug, peer = %peer.name, %addr, "already connected; the new connection is closed");
            write.shutdown().await;
            return Ok(peer_id);
        }
        Second::Refuse => {
            crate::trace::trace_event!(warn, peer = %peer.name, id = %peer_id, %addr, "connection refused: the node is connected already");
            return Err(ConnectError::IdInUse { addr, id: peer_id });
        }
    }
    let connection = net.next_connection();
    // Of two connections between the same nodes, both keep the one opened by the node with
    // the lower id; the other is drained and closed.
    let preferred = initiated == (net.id < peer_id);
    let installed = preferred || !slot.has_connection();
    let stops = Stops::default();
    let mut resynced = false;
    if installed {
        let attached = Attached {
            connection,
            name: &peer.name,
            addr,
            write,
            sealer,
            gossips: peer.capabilities & CAP_MEMBERSHIP != 0,
        };
        resynced = install(net, &slot, attached, &stops);
    } else {
        crate::trace::trace_event!(debug, peer = %peer.name, connection, "duplicate connection; draining it");
        supersede(write, sealer, net.config.max_frame).await;
    }
    let (greeted, greeting) = oneshot::channel();
    let signals = ConnectionSignals { stops, greeted };
    tokio::spawn(reader(Arc::clone(net), node, slot, connection, inbound, signals));
    if resynced && initiated && net.awaits_greeting() {
        // Return once the peer has installed the connection too and what it sends on
        // connecting (through the frame handlers the node registered) is taken in,
        // so that both nodes can use each other as soon as `connect` returns.
        let _ = tokio::time::timeout(net.config.handshake_timeout, greeting).await;
    }
    Ok(peer_id)
}

/// A duplicate connection the peer may be using already: tells it to move to the other
/// one, and stops writing; its reader reads it until the peer closes it.
async fn supersede(mut write: Out, mut sealer: Sealer, max_frame: usize) {
    let _ = write_control(&mut write, &mut sealer, &Control::Superseded, max_frame).await;
    write.shutdown().await;
}

/// A connection about to carry a peer's traffic.
struct Attached<'a> {
    connection: u64,
    name: &'a str,
    addr: SocketAddr,
    write: Out,
    /// This connection's keys for what we send: the peer's queue seals with them from now on.
    sealer: Sealer,
    /// Whether the peer runs the membership too (it said so in its handshake).
    gossips: bool,
}

/// Whether a connection that announced the id of `slot` and the name `name` may carry its
/// traffic: not after the node said goodbye, and not under another name than the one the
/// node with this id has (a node cannot take another node's id; a node that restarts comes
/// back under a new id).
fn admissible(slot: &PeerSlot, name: &str, addr: SocketAddr) -> Result<(), ConnectError> {
    if slot.has_departed() {
        // A connection that finished its handshake after the peer's goodbye.
        return Err(ConnectError::PeerDeparted { addr });
    }
    if !same_node(&slot.name(), name) {
        crate::trace::trace_event!(warn, id = %slot.id, known = %slot.name(), announced = %name, %addr, "connection refused: the id belongs to another node");
        return Err(ConnectError::IdInUse { addr, id: slot.id });
    }
    Ok(())
}

/// What to do with a new connection to a node that may be connected already.
#[derive(Debug, PartialEq, Eq)]
enum Second {
    /// Set it up (no connection yet, or the two nodes connected to each other at the same
    /// moment: the usual rules pick one of the two).
    Proceed,
    /// We dialled a node that is connected already: keep the connection it has.
    KeepExisting,
    /// The peer dialled us under the id of a node that has had a connection for longer
    /// than a simultaneous connect would take: refused, so that no one takes over a healthy
    /// connection's traffic. A node that really lost its connection closed it first, so we
    /// see it go (or, if the network failed silently, time it out) and its next attempt
    /// succeeds.
    Refuse,
}

/// Decides about a new connection (`initiated` by us or not) to a node whose current
/// connection, if any, was installed `existing_age` ago; connections set up within `window`
/// of each other are a simultaneous connect.
fn second_connection(existing_age: Option<Duration>, initiated: bool, window: Duration) -> Second {
    match existing_age {
        Some(age) if age > window && initiated => Second::KeepExisting,
        Some(age) if age > window => Second::Refuse,
        _ => Second::Proceed,
    }
}

/// Whether a connection announcing `announced` can be the node known as `known` (empty if
/// it never connected).
fn same_node(known: &str, announced: &str) -> bool {
    known.is_empty() || known == announced
}

/// Makes `connection` the one that carries the peer's traffic: the peer is up, it learns
/// where we listen and whom we know, the frame handlers hear of it, and a writer drains the
/// peer's send queue into it. Returns whether the frame handlers heard of it: the peer came
/// up, its last connection broke (frames may have been lost with it), it took over from
/// another (a simultaneous connect), or the node runs no membership (then every connection
/// is news). A member's connection that replaces one closed as idle is not.
fn install(net: &Arc<Net>, slot: &Arc<PeerSlot>, attached: Attached<'_>, stops: &Stops) -> bool {
    let Attached {
        connection,
        name,
        addr,
        write,
        sealer,
        gossips,
    } = attached;
    slot.set_observed_ip(addr.ip());
    slot.set_gossips(gossips);
    let fresh = !slot.is_up();
    let (epoch, took_over) = slot.attach(connection, Arc::clone(&stops.cut), name, sealer);
    slot.init_meters(&net.config.name, name);
    crate::trace::trace_event!(info, node = %net.config.name, peer = %name, %addr, connection, "connected");
    // The introduction is the first frame on the connection; then the frame handlers hear of
    // the peer (and queue what they send on connecting) before anyone can see it up.
    slot.send_control(&Control::Introduce {
        listen: Some(net.advertised),
        known: known_nodes(net, slot),
    });
    let lossy = slot.take_lossy();
    // Of two simultaneous connections, the one kept is greeted too: whoever dialled it may
    // be waiting for the greeting on it.
    let resync = fresh || lossy || took_over || !net.runs_membership();
    if resync {
        net.handlers.connected(slot.id);
    }
    if lossy {
        slot.resend_watches();
    }
    slot.mark_up();
    if slot.announce() {
        if let Some(meters) = slot.meters() {
            meters.up.increment(1);
        }
        net.emit(NodeEvent::NodeUp {
            node: slot.id,
            name: name.to_owned(),
        });
    }
    if let Out::Tcp(half) = &write {
        slot.queue.set_direct(epoch, Arc::clone(half));
    }
    let guard = net.writer_started();
    tokio::spawn(writer(
        guard,
        Arc::clone(slot),
        epoch,
        write,
        net.config.heartbeat_interval,
        net.closing(),
        Arc::clone(&stops.closed),
    ));
    net.keep(slot);
    resync
}

/// The nodes to introduce to the peer of `to`: every connected node, but to a peer that
/// runs the membership with us, only those that do not (it learns of the others from it).
fn known_nodes(net: &Net, to: &PeerSlot) -> Vec<KnownNode> {
    net.connected()
        .into_iter()
        .filter(|slot| slot.id != to.id)
        .filter(|slot| !(net.gossips(to) && net.gossips(slot)))
        .filter_map(|slot| {
            Some(KnownNode {
                id: slot.id,
                name: slot.name(),
                addr: slot.listen_addr()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{same_node, second_connection, Second};

    #[test]
    fn a_second_connection_is_set_up_only_in_a_simultaneous_connect() {
        let window = Duration::from_secs(5);
        let (young, old) = (Some(Duration::from_millis(3)), Some(Duration::from_secs(6)));
        for initiated in [false, true] {
            assert_eq!(second_connection(None, initiated, window), Second::Proceed);
            assert_eq!(second_connection(young, initiated, window), Second::Proceed);
        }
        assert_eq!(second_connection(old, true, window), Second::KeepExisting);
        assert_eq!(second_connection(old, false, window), Second::Refuse);
    }

    #[test]
    fn an_id_is_taken_only_under_the_name_it_is_known_by() {
        assert!(same_node("", "anyone"), "an id never connected is free");
        assert!(same_node("a", "a"), "a reconnect or a duplicate connection");
        assert!(!same_node("a", "mallory"));
    }
}
