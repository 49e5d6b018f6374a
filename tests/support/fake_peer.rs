//! A peer speaking the node protocol by hand, for hostile tests: it completes the handshake
//! with whatever cookie it is given, then writes and reads frames of its own choosing.
//!
//! Tests write and read frames only through [`FakePeer::send_frame`] and
//! [`FakePeer::next_frame`]: like a real node, the peer seals what it sends and opens what it
//! reads with the session keys of its own handshake, here, in one place. A test that wants
//! to break the session writes to [`FakePeer::stream`] itself.
//!
//! [`relay_handshake`] plays the attacker without the cookie: it passes two real nodes'
//! handshake messages to each other, so that both accept its sockets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use distribute::codec::{Bincode, Codec};
use distribute::prelude::*;
use distribute::transport::handshake::{fresh_nonce, Handshake, HandshakeConfig, HandshakeError, Step};
use distribute::transport::{encode_frame, FrameDecoder, FrameKind, Sealer, SessionDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::within;

/// An authenticated connection driven by the test.
pub struct FakePeer {
    /// The socket, for tests that write raw bytes or wait for it to close.
    pub stream: TcpStream,
    /// Seals what the peer sends.
    sealer: Sealer,
    /// Opens what the node sends.
    decoder: SessionDecoder,
}

impl FakePeer {
    /// Connects to `to` and runs the handshake as the node `name` holding `cookie`.
    pub async fn connect(to: SocketAddr, name: &str, cookie: &str) -> Result<FakePeer, HandshakeError> {
        let incarnation = 0x5eed_0000_0000_0001 ^ u64::from(std::process::id()) ^ fastrand::u64(..) << 16;
        FakePeer::connect_as(to, name, incarnation, cookie).await
    }

    /// [`connect`](Self::connect) with a chosen incarnation (the node id it announces).
    pub async fn connect_as(
        to: SocketAddr,
        name: &str,
        incarnation: u64,
        cookie: &str,
    ) -> Result<FakePeer, HandshakeError> {
        let mut stream = TcpStream::connect(to).await.expect("tcp connect");
        let config = HandshakeConfig {
            name: name.into(),
            incarnation,
            capabilities: 0,
            cookie: cookie.as_bytes().to_vec(),
        };
        let (mut machine, hello) = Handshake::new(config, fresh_nonce().expect("nonce"))?;
        let mut decoder = FrameDecoder::new(1024);
        write_frame(&mut stream, FrameKind::Handshake, &hello).await;
        let mut buf = [0u8; 4096];
        loop {
            while let Ok(Some(frame)) = decoder.next() {
                match machine.receive(&frame.body)? {
                    Step::Send(proof) => write_frame(&mut stream, FrameKind::Handshake, &proof).await,
                    Step::Established(_, keys) => {
                        let keys = *keys;
                        let decoder = SessionDecoder::new(decoder, keys.open, 64 << 20);
                        return Ok(FakePeer {
                            stream,
                            sealer: keys.seal,
                            decoder,
                        });
                    }
                }
            }
            let n = stream.read(&mut buf).await.unwrap_or(0);
            assert!(n > 0, "the node closed the connection during the handshake");
            decoder.push(&buf[..n]);
        }
    }

    /// Sends one frame of `kind` with `body`, sealed in the session.
    pub async fn send_frame(&mut self, kind: FrameKind, body: &[u8]) {
        let mut frame = Vec::new();
        encode_frame(kind, body, usize::MAX, &mut frame).expect("frame");
        let mut sealed = Vec::new();
        self.sealer.seal_all(&frame, &mut sealed).expect("seal");
        self.stream.write_all(&sealed).await.expect("write");
    }

    /// A Message frame for `target`, with the header the node expects.
    pub async fn send_message(
        &mut self,
        target: ActorId,
        fingerprint: u64,
        tag: u32,
        call: u64,
        args: &[u8],
    ) {
        let body = message_body(target, fingerprint, tag, call, args);
        self.send_frame(FrameKind::Message, &body).await;
    }

    /// The next frame from the node; `None` once the connection is closed or broken.
    pub async fn next_frame(&mut self) -> Option<(FrameKind, Vec<u8>)> {
        let mut buf = [0u8; 4096];
        loop {
            match self.decoder.next_borrowed() {
                Ok(Some((kind, body))) => return Some((kind, body.to_vec())),
                Ok(None) => {}
                Err(_) => return None,
            }
            match self.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.decoder.push(&buf[..n]),
            }
        }
    }

    /// Reads frames until a Reply to `call` arrives; returns its status byte and payload.
    pub async fn reply(&mut self, call: u64) -> (u8, Vec<u8>) {
        within("a reply", async {
            loop {
                let (kind, body) = self
                    .next_frame()
                    .await
                    .expect("connection closed before the reply");
                if kind == FrameKind::Reply && body[..8] == call.to_be_bytes() {
                    return (body[8], body[9..].to_vec());
                }
            }
        })
        .await
    }
}

/// The body of a Message frame for `target`, with the header the node expects.
pub fn message_body(target: ActorId, fingerprint: u64, tag: u32, call: u64, args: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&target.local().to_be_bytes());
    body.extend_from_slice(&fingerprint.to_be_bytes());
    body.extend_from_slice(&tag.to_be_bytes());
    body.extend_from_slice(&call.to_be_bytes());
    body.extend_from_slice(args);
    body
}

/// The body of the Signal frame that kills `target` (the node's `Control::Kill`: variant 8
/// of the control enum, then the actor id, in the control codec, bincode).
pub fn kill_signal(target: ActorId) -> Vec<u8> {
    let mut body = Vec::new();
    Bincode::<{ distribute::codec::DEFAULT_LIMIT }>
        .encode(&(8u32, target), &mut body)
        .expect("encode");
    body
}

/// Writes one frame straight to a socket (handshake messages, or frames before a session).
pub async fn write_frame(stream: &mut TcpStream, kind: FrameKind, body: &[u8]) {
    let mut out = Vec::new();
    encode_frame(kind, body, usize::MAX, &mut out).expect("frame");
    stream.write_all(&out).await.expect("write");
}

/// Reads exactly one frame from `stream` (no byte of the next one); `None` if the stream
/// ends first.
async fn read_one_frame(stream: &mut TcpStream) -> Option<(FrameKind, Vec<u8>)> {
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await.ok()?;
    let mut frame = vec![0u8; u32::from_be_bytes(length) as usize];
    stream.read_exact(&mut frame).await.ok()?;
    let mut decoder = FrameDecoder::new(frame.len());
    decoder.push(&length);
    decoder.push(&frame);
    decoder.next().ok()?.map(|frame| (frame.kind, frame.body))
}

/// The attacker without the cookie: connects to the nodes at `v` and `w` and passes each
/// one's handshake messages (Hello, then Proof) to the other, unchanged, until both have
/// accepted. Returns the two sockets (to `v`, to `w`), each authenticated in its node's
/// eyes; nothing after the handshake has been read from them.
pub async fn relay_handshake(v: SocketAddr, w: SocketAddr) -> (TcpStream, TcpStream) {
    let mut to_v = TcpStream::connect(v).await.expect("tcp connect to v");
    let mut to_w = TcpStream::connect(w).await.expect("tcp connect to w");
    within("the relayed handshake", async {
        // Each node sends its Hello at once and its Proof once it has the other's Hello.
        for _ in 0..2 {
            let (kind, body) = read_one_frame(&mut to_v).await.expect("v's handshake message");
            assert_eq!(kind, FrameKind::Handshake);
            write_frame(&mut to_w, kind, &body).await;
            let (kind, body) = read_one_frame(&mut to_w).await.expect("w's handshake message");
            assert_eq!(kind, FrameKind::Handshake);
            write_frame(&mut to_v, kind, &body).await;
        }
    })
    .await;
    (to_v, to_w)
}

/// What a [`Relay`] does to the connection to `v` besides forwarding, when told to.
#[derive(Debug, Clone)]
pub enum Inject {
    /// Writes a frame of this kind and body to `v`, unsealed.
    Unsealed(FrameKind, Vec<u8>),
    /// Writes a Sealed record carrying these bytes (frames) to `v`, with a made-up tag.
    Forged(Vec<u8>),
    /// Sends `v` again the last record `w` sent it (a replay).
    ReplayFromW,
    /// Sends `v` the last record `v` sent, back (a reflection).
    ReflectToV,
}

/// The attacker without the cookie, after [`relay_handshake`]: a pipe between two real nodes
/// that forwards every record unchanged and, on the test's command, adds its own.
pub struct Relay {
    commands: mpsc::UnboundedSender<Inject>,
    tasks: Vec<JoinHandle<()>>,
}

impl Relay {
    /// Relays the handshake between the nodes at `v` and `w`, then pipes their records.
    pub async fn start(v: SocketAddr, w: SocketAddr) -> Relay {
        let (to_v, to_w) = relay_handshake(v, w).await;
        let (v_read, v_write) = to_v.into_split();
        let (w_read, w_write) = to_w.into_split();
        let last_from_v = Arc::new(Mutex::new(None));
        let (commands, orders) = mpsc::unbounded_channel();
        let v_to_w = tokio::spawn(forward(v_read, w_write, Arc::clone(&last_from_v), None));
        let w_to_v = tokio::spawn(forward(
            w_read,
            v_write,
            Arc::new(Mutex::new(None)),
            Some((orders, last_from_v)),
        ));
        Relay {
            commands,
            tasks: vec![v_to_w, w_to_v],
        }
    }

    /// Has the relay do `what` on the connection to `v`, between two forwarded records.
    pub fn inject(&self, what: Inject) {
        self.commands.send(what).expect("the relay is running");
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

type Orders = (mpsc::UnboundedReceiver<Inject>, Arc<Mutex<Option<Vec<u8>>>>);

/// Forwards whole records from `from` to `to`, remembering the last one in `last`; with
/// `orders`, also carries out the test's injections on `to` (the connection to `v`).
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    last: Arc<Mutex<Option<Vec<u8>>>>,
    mut orders: Option<Orders>,
) {
    let mut decoder = FrameDecoder::new(1 << 20);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let order = async {
            match orders.as_mut() {
                Some((commands, _)) => commands.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = from.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                decoder.push(&buf[..n]);
                while let Ok(Some(frame)) = decoder.next() {
                    let mut bytes = Vec::new();
                    encode_frame(frame.kind, &frame.body, usize::MAX, &mut bytes).expect("frame");
                    if to.write_all(&bytes).await.is_err() {
                        return;
                    }
                    *last.lock().expect("lock") = Some(bytes);
                }
            }
            Some(order) = order => {
                let reflected = orders.as_ref().and_then(|(_, from_v)| from_v.lock().expect("lock").clone());
                let bytes = match order {
                    Inject::Unsealed(kind, body) => {
                        let mut bytes = Vec::new();
                        encode_frame(kind, &body, usize::MAX, &mut bytes).expect("frame");
                        bytes
                    }
                    Inject::Forged(frames) => {
                        let mut record = frames;
                        record.extend_from_slice(&[0x5a; 16]);
                        let mut bytes = Vec::new();
                        encode_frame(FrameKind::Sealed, &record, usize::MAX, &mut bytes).expect("frame");
                        bytes
                    }
                    Inject::ReplayFromW => last.lock().expect("lock").clone().expect("w sent a record"),
                    Inject::ReflectToV => reflected.expect("v sent a record"),
                };
                if to.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}
