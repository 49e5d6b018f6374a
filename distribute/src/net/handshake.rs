//! The node handshake over a fresh connection: each side proves it holds the cookie (see
//! `crate::transport::handshake` for the I/O-free state machine this drives) and both derive
//! the session keys that seal every byte after it (`crate::transport::session`).

use std::net::SocketAddr;

use tokio::io::AsyncReadExt;

use super::transport::{Out, ReadHalf};
use super::{ConnectError, Net};
use crate::transport::handshake::{fresh_nonce, Handshake, HandshakeConfig, Peer, Step, MAX_MESSAGE_LEN};
use crate::transport::{encode_frame, FrameDecoder, FrameKind, HandshakeError, Sealer, SessionDecoder};

/// The capability a node announces in its Hello when it runs the membership: two nodes that
/// both do leave introductions to it.
pub(super) const CAP_MEMBERSHIP: u64 = 1;

/// An authenticated connection's session: who the peer is, how to seal what we send, and the
/// decoder that opens what it sends (it may already hold the first records).
pub(super) struct Session {
    pub(super) peer: Peer,
    pub(super) sealer: Sealer,
    pub(super) decoder: SessionDecoder,
}

/// Runs the handshake; returns the authenticated peer and the session's keys.
pub(super) async fn handshake(
    net: &Net,
    rd: &mut ReadHalf,
    wr: &mut Out,
    addr: SocketAddr,
) -> Result<Session, ConnectError> {
    let io = |error: std::io::Error| ConnectError::Io {
        addr,
        error: error.to_string(),
    };
    let fail = |error| ConnectError::Handshake { addr, error };
    let nonce = fresh_nonce().map_err(io)?;
    let config = HandshakeConfig {
        name: net.config.name.clone(),
        incarnation: net.id.as_u64(),
        capabilities: if net.runs_membership() { CAP_MEMBERSHIP } else { 0 },
        cookie: net.config.cookie.clone(),
    };
    let (mut machine, hello) = Handshake::new(config, nonce).map_err(fail)?;
    send(wr, &hello, addr).await?;
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
                decoder.push(buf.get(..n).unwrap_or_default());
                continue;
            }
            Err(error) => return Err(ConnectError::Framing { addr, error }),
        };
        if frame.kind != FrameKind::Handshake {
            return Err(fail(HandshakeError::Malformed(
                "a frame other than a handshake message before the handshake completed",
            )));
        }
        match machine.receive(&frame.body).map_err(fail)? {
            Step::Send(proof) => send(wr, &proof, addr).await?,
            Step::Established(peer, keys) => {
                let keys = *keys;
                return Ok(Session {
                    peer,
                    sealer: keys.seal,
                    decoder: SessionDecoder::new(decoder, keys.open, net.config.max_frame),
                });
            }
        }
    }
}

/// Writes one handshake message as a frame.
async fn send(wr: &mut Out, message: &[u8], addr: SocketAddr) -> Result<(), ConnectError> {
    let mut out = Vec::new();
    encode_frame(FrameKind::Handshake, message, MAX_MESSAGE_LEN + 1, &mut out)
        .map_err(|error| ConnectError::Framing { addr, error })?;
    let io = |error: std::io::Error| ConnectError::Io {
        addr,
        error: error.to_string(),
    };
    wr.write_all(&out).await.map_err(io)?;
    wr.flush().await.map_err(io)
}
