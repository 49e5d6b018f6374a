//! A peer speaking the node protocol by hand, for hostile tests: it completes the handshake
//! with whatever cookie it is given, then writes and reads frames of its own choosing.
//!
//! Tests write and read frames only through [`FakePeer::send_frame`] and
//! [`FakePeer::next_frame`], so that what a session adds around frames after the handshake
//! lives here, in one place.

use std::net::SocketAddr;

use distribute::prelude::*;
use distribute::transport::handshake::{fresh_nonce, Handshake, HandshakeConfig, HandshakeError, Step};
use distribute::transport::{encode_frame, FrameDecoder, FrameKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::within;

/// An authenticated connection driven by the test.
pub struct FakePeer {
    /// The socket, for tests that write raw bytes or wait for it to close.
    pub stream: TcpStream,
    decoder: FrameDecoder,
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
                    Step::Established(_) => {
                        decoder.set_max(64 << 20);
                        return Ok(FakePeer { stream, decoder });
                    }
                }
            }
            let n = stream.read(&mut buf).await.unwrap_or(0);
            assert!(n > 0, "the node closed the connection during the handshake");
            decoder.push(&buf[..n]);
        }
    }

    /// Sends one frame of `kind` with `body`.
    pub async fn send_frame(&mut self, kind: FrameKind, body: &[u8]) {
        write_frame(&mut self.stream, kind, body).await;
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
        let mut body = Vec::new();
        body.extend_from_slice(&target.local().to_be_bytes());
        body.extend_from_slice(&fingerprint.to_be_bytes());
        body.extend_from_slice(&tag.to_be_bytes());
        body.extend_from_slice(&call.to_be_bytes());
        body.extend_from_slice(args);
        self.send_frame(FrameKind::Message, &body).await;
    }

    /// The next frame from the node; `None` once the connection is closed or broken.
    pub async fn next_frame(&mut self) -> Option<(FrameKind, Vec<u8>)> {
        let mut buf = [0u8; 4096];
        loop {
            match self.decoder.next() {
                Ok(Some(frame)) => return Some((frame.kind, frame.body)),
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

/// Writes one frame straight to a socket (handshake messages, or frames before a session).
pub async fn write_frame(stream: &mut TcpStream, kind: FrameKind, body: &[u8]) {
    let mut out = Vec::new();
    encode_frame(kind, body, usize::MAX, &mut out).expect("frame");
    stream.write_all(&out).await.expect("write");
}
