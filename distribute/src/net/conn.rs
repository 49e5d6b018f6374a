//! The life of one connection: accept or connect, handshake, then a reader and a writer
//! task until the connection ends.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::peer::PeerSlot;
use super::queue::SendQueue;
use super::remote::{reject, Undelivered};
use super::wire::{read_reply, Control, FoundActor, KnownNode, MessageHeader};
use super::{ConnectError, Net, NodeDownReason, NodeEvent};
use crate::actor::{AnyCell, Endpoint, NodeId, Signal, Watcher};
use crate::node::Node;
use crate::transport::handshake::{fresh_nonce, Handshake, HandshakeConfig, Peer, Step, MAX_MESSAGE_LEN};
use crate::transport::{encode_frame, FrameDecoder, FrameKind};

/// Capabilities this build announces in its Hello (none defined yet).
const CAPABILITIES: u64 = 0;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The five bytes of a heartbeat frame.
const HEARTBEAT: [u8; 5] = [0, 0, 0, 1, FrameKind::Heartbeat.as_u8()];

pub(super) async fn accept_loop(net: Arc<Net>, listener: TcpListener) {
    let mut closing = net.closing();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = closing.changed() => break,
        };
        match accepted {
            Ok((stream, addr)) => {
                let net = Arc::clone(&net);
                tokio::spawn(async move {
                    if let Err(error) = establish(&net, stream, addr, false).await {
                        net.stats.connections_rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%addr, %error, "incoming connection rejected");
                        net.emit(NodeEvent::ConnectionRejected { error });
                    }
                });
            }
            Err(error) => {
                // Out of file descriptors, say: let the others finish before trying again.
                tracing::warn!(%error, "accept failed");
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
    if addr == net.listen {
        return Err(ConnectError::SelfConnection { addr });
    }
    let timeout = net.config.handshake_timeout;
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            return Err(ConnectError::Io {
                addr,
                error: error.to_string(),
            })
        }
        Err(_) => return Err(ConnectError::Timeout { addr, timeout }),
    };
    establish(net, stream, addr, true).await
}

async fn establish(
    net: &Arc<Net>,
    stream: TcpStream,
    addr: SocketAddr,
    initiated: bool,
) -> Result<NodeId, ConnectError> {
    let _ = stream.set_nodelay(true);
    #[cfg(feature = "tls")]
    if let Some(tls) = &net.config.tls {
        let tls_error = |error: super::tls::TlsError| ConnectError::Tls {
            addr,
            error: error.to_string(),
        };
        let timeout = net.config.handshake_timeout;
        let wrap = async {
            if initiated {
                let stream = super::tls::connect(tls, stream).await.map_err(tls_error)?;
                let (rd, wr) = tokio::io::split(stream);
                run(net, rd, Out::Stream(wr), addr, initiated).await
            } else {
                let stream = super::tls::accept(tls, stream).await.map_err(tls_error)?;
                let (rd, wr) = tokio::io::split(stream);
                run(net, rd, Out::Stream(wr), addr, initiated).await
            }
        };
        return match tokio::time::timeout(timeout, wrap).await {
            Ok(result) => result,
            Err(_) => Err(ConnectError::Timeout { addr, timeout }),
        };
    }
    let (rd, wr) = stream.into_split();
    run(net, rd, Out::<OwnedWriteHalf>::Tcp(Arc::new(wr)), addr, initiated).await
}

/// The writing side of a connection. Plain TCP is shared with the peer's send queue, whose
/// senders write calls and replies straight to it when the writer is idle; any other stream
/// (TLS) is written by the writer task alone.
enum Out<W> {
    Tcp(Arc<OwnedWriteHalf>),
    #[cfg_attr(not(feature = "tls"), allow(dead_code, reason = "only TLS streams use it"))]
    Stream(W),
}

impl<W: AsyncWrite + Unpin> Out<W> {
    async fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Tcp(half) => {
                while !bytes.is_empty() {
                    half.writable().await?;
                    match half.try_write(bytes) {
                        Ok(written) => bytes = bytes.get(written..).unwrap_or_default(),
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(error) => return Err(error),
                    }
                }
                Ok(())
            }
            Out::Stream(stream) => stream.write_all(bytes).await,
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Tcp(_) => Ok(()),
            Out::Stream(stream) => stream.flush().await,
        }
    }

    /// Closes the writing direction (a TCP write half shuts down when its last holder drops it).
    async fn shutdown(self) {
        if let Out::Stream(mut stream) = self {
            let _ = stream.shutdown().await;
        }
    }
}

async fn run<R, W>(
    net: &Arc<Net>,
    mut rd: R,
    mut wr: Out<W>,
    addr: SocketAddr,
    initiated: bool,
) -> Result<NodeId, ConnectError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let timeout = net.config.handshake_timeout;
    let (peer, decoder) = match tokio::time::timeout(timeout, handshake(net, &mut rd, &mut wr, addr)).await {
        Ok(result) => result?,
        Err(_) => return Err(ConnectError::Timeout { addr, timeout }),
    };
    let peer_id = NodeId::from_u64(peer.incarnation);
    if peer_id == net.id {
        return Err(ConnectError::SelfConnection { addr });
    }
    let Some(node) = net.node.upgrade() else {
        return Err(ConnectError::NotNetworked);
    };
    let slot = net.slot(peer_id);
    if slot.has_departed() {
        // A connection that finished its handshake after the peer's goodbye.
        return Err(ConnectError::PeerDeparted { addr });
    }
    let connection = net.next_connection();
    // Of two connections between the same nodes, both keep the one opened by the node with
    // the lower id; the other is drained and closed.
    let preferred = initiated == (net.id < peer_id);
    let installed = preferred || !slot.has_connection();
    let closed = Arc::new(Notify::new());
    let cut = Arc::new(Notify::new());
    if installed {
        let (epoch, came_up) = slot.attach(connection, Arc::clone(&cut), &peer.name);
        tracing::info!(node = %node.name(), peer = %peer.name, %addr, connection, "connected");
        if came_up {
            net.emit(NodeEvent::NodeUp {
                node: peer_id,
                name: peer.name.clone(),
            });
        }
        slot.send_control(&Control::Introduce {
            listen: Some(net.listen),
            known: known_nodes(net, peer_id),
        });
        node.registry_peer_up(slot.id);
        if let Out::Tcp(half) = &wr {
            slot.queue.set_direct(epoch, Arc::clone(half));
        }
        let guard = net.writer_started();
        tokio::spawn(writer(
            guard,
            Arc::clone(&slot),
            epoch,
            wr,
            net.config.heartbeat_interval,
            net.closing(),
            Arc::clone(&closed),
        ));
    } else {
        // The peer may be using this connection already: tell it to move to the other one,
        // and keep reading this one until the peer closes it.
        tracing::debug!(peer = %peer.name, connection, "duplicate connection; draining it");
        let _ = write_control(&mut wr, &Control::Superseded, net.config.max_frame).await;
        wr.shutdown().await;
    }
    let (greeted, greeting) = oneshot::channel();
    let signals = ConnectionSignals { closed, cut, greeted };
    tokio::spawn(reader(
        Arc::clone(net),
        node,
        slot,
        connection,
        rd,
        decoder,
        signals,
    ));
    if installed && initiated {
        // Return once the peer has installed the connection too and its registry is merged
        // here, so that both nodes can use each other (and the names) as soon as `connect`
        // returns.
        let _ = tokio::time::timeout(timeout, greeting).await;
    }
    Ok(peer_id)
}

/// Runs the handshake over a fresh stream; returns the authenticated peer and the decoder,
/// which may already hold the first frames after the handshake.
async fn handshake<R, W>(
    net: &Net,
    rd: &mut R,
    wr: &mut Out<W>,
    addr: SocketAddr,
) -> Result<(Peer, FrameDecoder), ConnectError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let io = |error: std::io::Error| ConnectError::Io {
        addr,
        error: error.to_string(),
    };
    let fail = |error| ConnectError::Handshake { addr, error };
    let nonce = fresh_nonce().map_err(io)?;
    let config = HandshakeConfig {
        name: net.config.name.clone(),
        incarnation: net.id.as_u64(),
        capabilities: CAPABILITIES,
        cookie: net.config.cookie.clone(),
    };
    let (mut machine, hello) = Handshake::new(config, nonce).map_err(fail)?;
    let mut out = Vec::new();
    encode_frame(FrameKind::Handshake, &hello, MAX_MESSAGE_LEN + 1, &mut out)
        .map_err(|error| ConnectError::Framing { addr, error })?;
    wr.write_all(&out).await.map_err(io)?;
    wr.flush().await.map_err(io)?;
    // Until the peer is authenticated, frames are capped at the size of a handshake message.
    let mut decoder = FrameDecoder::new(MAX_MESSAGE_LEN + 1);
    let mut buf = vec![0; 4096];
    loop {
        let frame = match decoder.next() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                let n = rd.read(&mut buf).await.map_err(io)?;
                if n == 0 {
                    return Err(match decoder.finish() {
                        Err(error) => ConnectError::Framing { addr, error },
                        Ok(()) => io(std::io::ErrorKind::UnexpectedEof.into()),
                    });
                }
                decoder.push(&buf[..n]);
                continue;
            }
            Err(error) => return Err(ConnectError::Framing { addr, error }),
        };
        if frame.kind != FrameKind::Handshake {
            return Err(fail(crate::transport::HandshakeError::Malformed(
                "a frame other than a handshake message before the handshake completed",
            )));
        }
        match machine.receive(&frame.body).map_err(fail)? {
            Step::Send(proof) => {
                out.clear();
                encode_frame(FrameKind::Handshake, &proof, MAX_MESSAGE_LEN + 1, &mut out)
                    .map_err(|error| ConnectError::Framing { addr, error })?;
                wr.write_all(&out).await.map_err(io)?;
                wr.flush().await.map_err(io)?;
            }
            Step::Established(peer) => {
                decoder.set_max(net.config.max_frame);
                return Ok((peer, decoder));
            }
        }
    }
}

fn known_nodes(net: &Net, except: NodeId) -> Vec<KnownNode> {
    net.connected()
        .into_iter()
        .filter(|slot| slot.id != except)
        .filter_map(|slot| {
            Some(KnownNode {
                id: slot.id,
                name: slot.name(),
                addr: slot.listen_addr()?,
            })
        })
        .collect()
}

async fn writer<W: AsyncWrite + Unpin>(
    _guard: super::WriterGuard,
    slot: Arc<PeerSlot>,
    epoch: u64,
    mut wr: Out<W>,
    heartbeat: Duration,
    mut closing: tokio::sync::watch::Receiver<bool>,
    closed: Arc<Notify>,
) {
    let mut batch = Vec::new();
    // Heartbeats go out when nothing else was written for a while; the timer is moved only
    // when it fires, not on every batch.
    let mut last_write = Instant::now();
    let idle = tokio::time::sleep(heartbeat);
    tokio::pin!(idle);
    loop {
        let written = tokio::select! {
            taken = slot.queue.take(epoch, &mut batch) => {
                if !taken {
                    if slot.queue.handed_over(epoch) {
                        let _ = write_control(&mut wr, &Control::Superseded, slot.max_frame).await;
                    }
                    break;
                }
                let written = wr.write_all(&batch).await;
                slot.queue.done_writing(epoch);
                slot.stats.bytes_out.fetch_add(batch.len() as u64, Ordering::Relaxed);
                SendQueue::recycle(&mut batch);
                last_write = Instant::now();
                // Let the senders that were woken by this batch's room queue more before the
                // next take: fewer, larger writes under load, one yield when idle.
                tokio::task::yield_now().await;
                written
            }
            () = &mut idle => {
                let due = last_write + heartbeat;
                if Instant::now() < due {
                    idle.as_mut().reset(due);
                    continue;
                }
                last_write = Instant::now();
                idle.as_mut().reset(last_write + heartbeat);
                wr.write_all(&HEARTBEAT).await
            }
            _ = closing.changed() => {
                // Flush what is queued (the goodbye) before closing.
                if slot.queue.take_now(epoch, &mut batch) {
                    let _ = wr.write_all(&batch).await;
                }
                break;
            }
        };
        if let Err(error) = written {
            tracing::debug!(peer = %slot.id, %error, "write failed");
            closed.notify_one();
            break;
        }
    }
    slot.queue.clear_direct(epoch);
    let _ = wr.flush().await;
    wr.shutdown().await;
}

/// Writes one control frame straight to a connection that has no writer (any more).
async fn write_control<W: AsyncWrite + Unpin>(
    wr: &mut Out<W>,
    control: &Control,
    max: usize,
) -> std::io::Result<()> {
    let mut body = Vec::new();
    let mut frame = Vec::new();
    if control.encode(&mut body).is_ok() && encode_frame(FrameKind::Signal, &body, max, &mut frame).is_ok() {
        wr.write_all(&frame).await?;
    }
    wr.flush().await
}

/// How the writer (its write failed) and the node (`disconnect`) tell a reader to stop.
struct ConnectionSignals {
    closed: Arc<Notify>,
    cut: Arc<Notify>,
    /// Fired once the peer's registry snapshot (sent right after its introduction) is merged,
    /// or by its notice that this connection is a duplicate.
    greeted: oneshot::Sender<()>,
}

/// What the reader learns from the frames it dispatches.
struct ReaderState {
    superseded: bool,
    greeted: Option<oneshot::Sender<()>>,
}

async fn reader<R: AsyncRead + Unpin>(
    net: Arc<Net>,
    node: Node,
    slot: Arc<PeerSlot>,
    connection: u64,
    mut rd: R,
    mut decoder: FrameDecoder,
    signals: ConnectionSignals,
) {
    let ConnectionSignals { closed, cut, greeted } = signals;
    let mut state = ReaderState {
        superseded: false,
        greeted: Some(greeted),
    };
    let mut closing = net.closing();
    let timeout = net.config.heartbeat_timeout;
    let mut buf = vec![0; READ_CHUNK];
    let mut target = TargetCache::default();
    // One timer for the connection, moved only when it fires: re-arming a timeout around
    // every read would cost more than the read.
    let mut last_heard = Instant::now();
    let silence = tokio::time::sleep(timeout);
    tokio::pin!(silence);
    let reason = 'connection: loop {
        loop {
            match decoder.next_borrowed() {
                Ok(Some((kind, body))) => {
                    let dispatched = dispatch(&net, &node, &slot, kind, body, &mut state, &mut target).await;
                    if let Err(reason) = dispatched {
                        break 'connection reason;
                    }
                }
                Ok(None) => break,
                Err(error) => break 'connection NodeDownReason::ProtocolViolation(error.to_string()),
            }
        }
        let read = tokio::select! {
            read = rd.read(&mut buf) => read,
            () = &mut silence => {
                let due = last_heard + timeout;
                if Instant::now() < due {
                    silence.as_mut().reset(due);
                    continue;
                }
                break NodeDownReason::HeartbeatTimeout(timeout);
            }
            _ = closing.changed() => break NodeDownReason::LocalShutdown,
            () = closed.notified() => break NodeDownReason::ConnectionError("write failed".into()),
            () = cut.notified() => break NodeDownReason::Disconnected,
        };
        match read {
            Ok(0) => {
                break match decoder.finish() {
                    Ok(()) => NodeDownReason::ConnectionClosed,
                    Err(error) => NodeDownReason::ProtocolViolation(error.to_string()),
                }
            }
            Ok(n) => {
                last_heard = Instant::now();
                slot.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                decoder.push(buf.get(..n).unwrap_or_default());
            }
            Err(error) => break NodeDownReason::ConnectionError(error.to_string()),
        }
    };
    closed.notify_one();
    if reason == NodeDownReason::LocalShutdown {
        // Detaching discards the queue: let the writers flush the goodbyes first.
        net.writers_flushed().await;
    }
    if reason == NodeDownReason::PeerShutdown {
        slot.mark_departed();
    }
    if state.superseded && reason == NodeDownReason::ConnectionClosed {
        // The peer moved to another connection; the peer is not down unless that one never
        // arrives here.
        slot.wait_for_successor(connection, net.config.handshake_timeout)
            .await;
    }
    if !slot.detach(connection) {
        tracing::debug!(peer = %slot.id, connection, %reason, "superseded connection closed");
        return;
    }
    node.registry_peer_down(slot.id);
    let name = slot.name();
    match &reason {
        NodeDownReason::ProtocolViolation(_) | NodeDownReason::ConnectionError(_) => {
            tracing::warn!(node = %node.name(), peer = %name, %reason, "node down");
        }
        _ => tracing::info!(node = %node.name(), peer = %name, %reason, "node down"),
    }
    metrics::counter!("distribute_node_down_total").increment(1);
    let reconnect = !matches!(
        reason,
        NodeDownReason::PeerShutdown
            | NodeDownReason::LocalShutdown
            | NodeDownReason::ProtocolViolation(_)
            | NodeDownReason::Disconnected
    );
    net.emit(NodeEvent::NodeDown {
        node: slot.id,
        name,
        reason,
    });
    if reconnect {
        if let (Some(policy), Some(addr)) = (net.config.reconnect, slot.listen_addr()) {
            tokio::spawn(reconnect_loop(net, slot, addr, policy));
        }
    }
}

/// Tries to reach a lost peer again, with exponential backoff and jitter, until it is up
/// (through this or another connection), the node closes, or the policy gives up.
async fn reconnect_loop(net: Arc<Net>, slot: Arc<PeerSlot>, addr: SocketAddr, policy: super::Reconnect) {
    let started = tokio::time::Instant::now();
    let mut delay = policy.initial;
    let mut jitter = JitterSource::new(slot.id.as_u64() ^ net.id.as_u64());
    while started.elapsed() < policy.give_up_after && !net.is_closing() && !slot.is_up() {
        tokio::time::sleep(jitter.apply(delay)).await;
        if slot.is_up() || net.is_closing() {
            return;
        }
        match connect(&net, addr).await {
            Ok(id) if id == slot.id => return,
            Ok(id) => {
                tracing::info!(old = %slot.id, new = %id, %addr, "peer restarted under a new id");
                return;
            }
            Err(error) => tracing::debug!(%addr, %error, "reconnect failed"),
        }
        delay = (delay * 2).min(policy.max);
    }
}

/// A small xorshift generator for reconnect jitter; not for anything secret.
struct JitterSource(u64);

impl JitterSource {
    fn new(seed: u64) -> Self {
        JitterSource(seed | 1)
    }

    /// `delay` plus up to 25 % more.
    fn apply(&mut self, delay: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let quarter = delay.as_micros() as u64 / 4;
        let extra = if quarter == 0 { 0 } else { self.0 % quarter };
        delay + Duration::from_micros(extra)
    }
}

/// Handles one frame from an established connection. An error closes the connection.
/// The last actor a reader delivered to: consecutive messages for the same actor (the common
/// case) skip the lookup in the node's table.
#[derive(Default)]
struct TargetCache(Option<(u64, Arc<dyn AnyCell>)>);

impl TargetCache {
    fn get(&mut self, node: &Node, local: u64) -> Option<Arc<dyn AnyCell>> {
        if let Some((cached, cell)) = &self.0 {
            if *cached == local && cell.core().is_alive() {
                return Some(Arc::clone(cell));
            }
        }
        let cell = node.local_cell_numbered(local)?;
        self.0 = Some((local, Arc::clone(&cell)));
        Some(cell)
    }
}

async fn dispatch(
    net: &Net,
    node: &Node,
    slot: &Arc<PeerSlot>,
    kind: FrameKind,
    body: &[u8],
    state: &mut ReaderState,
    target: &mut TargetCache,
) -> Result<(), NodeDownReason> {
    match kind {
        FrameKind::Message => {
            let Some((header, body)) = MessageHeader::read(body) else {
                return Err(violation("message frame shorter than its header"));
            };
            let Some(cell) = target.get(node, header.target) else {
                reject(slot, &header, Undelivered::Stopped);
                return Ok(());
            };
            match cell.deliver_remote(node, &header, body, slot) {
                Ok(pending) => {
                    if let Some(pending) = pending {
                        pending.await;
                    }
                    slot.stats.messages_in.fetch_add(1, Ordering::Relaxed);
                }
                Err(why) => reject(slot, &header, why),
            }
            Ok(())
        }
        FrameKind::Reply => {
            let Some((call, status, payload)) = read_reply(body) else {
                return Err(violation("malformed reply frame"));
            };
            slot.on_reply(node, call, status, payload);
            Ok(())
        }
        FrameKind::Signal => {
            let control = Control::decode(body)
                .map_err(|error| violation(&format!("undecodable control frame: {error}")))?;
            let greets = control == Control::Superseded;
            if control == Control::Superseded {
                state.superseded = true;
            } else {
                on_control(net, node, slot, control)?;
            }
            // After the introduction was taken in, so that whoever `connect` returns to sees
            // where the peer listens.
            if greets {
                if let Some(greeted) = state.greeted.take() {
                    let _ = greeted.send(());
                }
            }
            Ok(())
        }
        FrameKind::Heartbeat => Ok(()),
        FrameKind::Close => Err(NodeDownReason::PeerShutdown),
        FrameKind::Registry => {
            let snapshot = node
                .registry_frame(slot.id, body)
                .map_err(|error| violation(&format!("undecodable registry frame: {error}")))?;
            // The peer's replica is merged: whoever waits in `connect` may use it now.
            if snapshot {
                if let Some(greeted) = state.greeted.take() {
                    let _ = greeted.send(());
                }
            }
            Ok(())
        }
        FrameKind::Handshake => Err(violation("handshake message after the handshake")),
    }
}

fn violation(why: &str) -> NodeDownReason {
    NodeDownReason::ProtocolViolation(why.to_owned())
}

fn on_control(net: &Net, node: &Node, slot: &Arc<PeerSlot>, control: Control) -> Result<(), NodeDownReason> {
    let reason = |wire: super::wire::WireReason| {
        wire.into_reason()
            .ok_or_else(|| violation("exit reason nested too deeply"))
    };
    match control {
        Control::Introduce { listen, known } => {
            slot.set_listen_addr(listen);
            for peer in known {
                if peer.id == net.id || net.connected_slot(peer.id).is_some() {
                    continue;
                }
                if let Some(net) = node.net() {
                    tokio::spawn(async move {
                        if let Err(error) = connect(&net, peer.addr).await {
                            tracing::debug!(peer = %peer.name, %error, "could not reach an introduced node");
                            // Keep trying as after a lost connection, if the node's policy does.
                            if let Some(policy) = net.config.reconnect {
                                let slot = net.slot(peer.id);
                                slot.set_listen_addr(Some(peer.addr));
                                reconnect_loop(net, slot, peer.addr, policy).await;
                            }
                        }
                    });
                }
            }
        }
        Control::Link { from, to } => {
            let from_end = match node.net() {
                Some(net) => Endpoint::Remote {
                    id: from,
                    peer: net.slot(from.node()),
                },
                None => return Ok(()),
            };
            let linked = node
                .local_cell(to)
                .is_some_and(|cell| cell.core().signal(Signal::Link(from_end.clone())).is_ok());
            if linked {
                if let Endpoint::Remote { peer, .. } = &from_end {
                    peer.remember_link(to, from);
                }
            } else {
                from_end.send_exit(to, crate::ExitReason::NoProc);
            }
        }
        Control::Unlink { from, to } => {
            if let Some(cell) = node.local_cell(to) {
                let _ = cell.core().signal(Signal::Unlink(from));
            }
            slot.forget_link(to, from);
        }
        Control::Exit {
            from,
            to,
            reason: wire,
        } => {
            let reason = reason(wire)?;
            slot.forget_link(to, from);
            if let Some(cell) = node.local_cell(to) {
                cell.core().send_exit(from, reason);
            }
        }
        Control::Monitor { monitor, target } => {
            let watcher = Watcher::Remote {
                monitor,
                peer: Arc::clone(slot),
            };
            match node.local_cell(target) {
                Some(cell) => cell.core().add_watcher(watcher),
                None => watcher.deliver(target, crate::ExitReason::NoProc),
            }
        }
        Control::Demonitor { monitor, target } => {
            if let Some(cell) = node.local_cell(target) {
                let _ = cell.core().signal(Signal::Demonitor(monitor));
            }
        }
        Control::Down {
            monitor,
            actor,
            reason: wire,
        } => {
            let reason = reason(wire)?;
            slot.on_down(monitor, actor, reason);
        }
        Control::Stop { target, reason: wire } => {
            let reason = reason(wire)?;
            if let Some(cell) = node.local_cell(target) {
                let _ = cell.core().signal(Signal::Stop(reason));
            }
        }
        Control::Kill { target } => {
            if let Some(cell) = node.local_cell(target) {
                cell.core().kill();
            }
        }
        Control::Whereis { request, name } => {
            let found: Option<FoundActor> = node.whereis_local(&name);
            slot.send_control(&Control::WhereisReply { request, found });
        }
        Control::WhereisReply { request, found } => slot.on_lookup_reply(request, found),
        Control::Goodbye => return Err(NodeDownReason::PeerShutdown),
        Control::Superseded => {}
    }
    Ok(())
}
