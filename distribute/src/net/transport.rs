//! [`Transport`]: how a node opens and accepts the byte streams its connections run over.
//!
//! The network layer needs only a stream in each direction per connection; where it comes
//! from is the transport's business: [`TcpTransport`] (the default), TLS over TCP (feature
//! `tls`, chosen with [`NodeBuilder::tls`](crate::NodeBuilder::tls)) and [`MemoryTransport`],
//! which connects nodes of one process through in-memory pipes, without sockets. Everything
//! above the transport (the handshake, framing, queues, heartbeats) is the same for all.
//!
//! TCP is special in one way: its write half can be written to without a task
//! (`try_write`), which lets a caller write its own call or reply to an idle connection
//! instead of waking the connection's writer. Other streams are written by the writer task.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::lock::lock;

/// A future returned by a transport.
pub type TransportFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The reading half of a connection.
pub type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;

/// Why a transport could not open or accept a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The underlying stream failed (refused, unreachable, reset, ...).
    #[error("{0}")]
    Io(String),
    /// The stream opened, but its security layer (TLS) refused the peer.
    #[error("{0}")]
    Security(String),
}

impl From<io::Error> for TransportError {
    fn from(error: io::Error) -> Self {
        TransportError::Io(error.to_string())
    }
}

/// One connection's two directions, as a transport hands them over.
pub struct Connection {
    pub(crate) read: ReadHalf,
    pub(crate) write: Out,
}

impl Connection {
    /// A connection over any pair of byte streams.
    pub fn new(
        read: impl AsyncRead + Send + Unpin + 'static,
        write: impl AsyncWrite + Send + Unpin + 'static,
    ) -> Self {
        Connection {
            read: Box::new(read),
            write: Out::Stream(Box::new(write)),
        }
    }

    /// A TCP connection, whose write half also takes direct writes.
    pub fn tcp(stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        Connection {
            read: Box::new(read),
            write: Out::Tcp(Arc::new(write)),
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.write {
            Out::Tcp(_) => "tcp",
            Out::Stream(_) => "stream",
        };
        f.debug_struct("Connection").field("kind", &kind).finish()
    }
}

/// An accepted connection whose set-up (a TLS handshake, say) is still to run; the node runs
/// it on the connection's own task, under the handshake timeout, never in the accept loop.
pub type Accepted = TransportFuture<'static, Result<Connection, TransportError>>;

/// Where a node accepts connections.
pub trait Listener: Send + 'static {
    /// The address peers connect to.
    fn local_addr(&self) -> SocketAddr;

    /// Waits for the next connection and the address it came from.
    fn accept(&mut self) -> TransportFuture<'_, io::Result<(Accepted, SocketAddr)>>;
}

/// A socket for datagrams: the membership protocol's gossip, sent to and received from the
/// same port number as the node's connections.
pub trait DatagramSocket: Send + Sync + 'static {
    /// Where the socket is bound.
    fn local_addr(&self) -> SocketAddr;

    /// Sends one datagram to `to`.
    fn send_to<'a>(&'a self, data: &'a [u8], to: SocketAddr) -> TransportFuture<'a, io::Result<()>>;

    /// Waits for the next datagram: its length in `buf` (cut to `buf`'s size) and its sender.
    fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> TransportFuture<'a, io::Result<(usize, SocketAddr)>>;
}

/// Opens connections to other nodes and listens for theirs.
pub trait Transport: Send + Sync + 'static {
    /// Starts listening at `addr` (port 0: one the transport picks).
    fn listen(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn Listener>>>;

    /// Opens a connection to the node listening at `addr`.
    fn connect(&self, addr: SocketAddr) -> TransportFuture<'_, Result<Connection, TransportError>>;

    /// Binds a datagram socket at `addr` for the membership protocol. A transport without
    /// datagrams (the default) runs nodes without membership gossip: they learn of each
    /// other through their connections only.
    fn bind_datagram(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn DatagramSocket>>> {
        let _ = addr;
        Box::pin(async {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this transport has no datagrams",
            ))
        })
    }
}

/// UDP, beside the TCP transport.
struct Udp(tokio::net::UdpSocket);

impl DatagramSocket for Udp {
    fn local_addr(&self) -> SocketAddr {
        self.0
            .local_addr()
            .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0))
    }

    fn send_to<'a>(&'a self, data: &'a [u8], to: SocketAddr) -> TransportFuture<'a, io::Result<()>> {
        Box::pin(async move { self.0.send_to(data, to).await.map(|_| ()) })
    }

    fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> TransportFuture<'a, io::Result<(usize, SocketAddr)>> {
        Box::pin(self.0.recv_from(buf))
    }
}

/// Plain TCP, the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpTransport;

struct TcpAcceptor(TcpListener);

/// The address a TCP listener is bound to (unspecified if the OS will not say).
pub(crate) fn bound_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0))
}

impl Listener for TcpAcceptor {
    fn local_addr(&self) -> SocketAddr {
        bound_addr(&self.0)
    }

    fn accept(&mut self) -> TransportFuture<'_, io::Result<(Accepted, SocketAddr)>> {
        Box::pin(async move {
            let (stream, addr) = self.0.accept().await?;
            let accepted: Accepted = Box::pin(async move { Ok(Connection::tcp(stream)) });
            Ok((accepted, addr))
        })
    }
}

impl Transport for TcpTransport {
    fn listen(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let listener = TcpListener::bind(addr).await?;
            Ok(Box::new(TcpAcceptor(listener)) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: SocketAddr) -> TransportFuture<'_, Result<Connection, TransportError>> {
        Box::pin(async move { Ok(Connection::tcp(TcpStream::connect(addr).await?)) })
    }

    fn bind_datagram(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn DatagramSocket>>> {
        Box::pin(async move {
            let socket = tokio::net::UdpSocket::bind(addr).await?;
            Ok(Box::new(Udp(socket)) as Box<dyn DatagramSocket>)
        })
    }
}

/// The writing side of a connection. Plain TCP is shared with the peer's send queue, whose
/// senders write calls and replies straight to it when the writer is idle; any other stream
/// is written by the writer task alone.
pub(crate) enum Out {
    Tcp(Arc<OwnedWriteHalf>),
    Stream(Box<dyn AsyncWrite + Send + Unpin>),
}

impl Out {
    pub(crate) async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        match self {
            Out::Tcp(half) => {
                while !bytes.is_empty() {
                    half.writable().await?;
                    match half.try_write(bytes) {
                        Ok(written) => bytes = bytes.get(written..).unwrap_or_default(),
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                        Err(error) => return Err(error),
                    }
                }
                Ok(())
            }
            Out::Stream(stream) => stream.write_all(bytes).await,
        }
    }

    /// Writes `parts` in order, as few vectored writes as the connection takes them in: a
    /// record goes out with its header and tag around its payload without being copied
    /// into one buffer first.
    pub(crate) async fn write_all_vectored<const N: usize>(&mut self, parts: [&[u8]; N]) -> io::Result<()> {
        let mut storage = parts.map(io::IoSlice::new);
        let mut slices = &mut storage[..];
        let mut left: usize = parts.iter().map(|part| part.len()).sum();
        io::IoSlice::advance_slices(&mut slices, 0);
        while left > 0 {
            let written = match self {
                Out::Tcp(half) => {
                    half.writable().await?;
                    match half.try_write_vectored(slices) {
                        Ok(written) => written,
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(error) => return Err(error),
                    }
                }
                Out::Stream(stream) => stream.write_vectored(slices).await?,
            };
            if written == 0 || written > left {
                return Err(io::ErrorKind::WriteZero.into());
            }
            left -= written;
            io::IoSlice::advance_slices(&mut slices, written);
        }
        Ok(())
    }

    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Tcp(_) => Ok(()),
            Out::Stream(stream) => stream.flush().await,
        }
    }

    /// Closes the writing direction (a TCP write half shuts down when its last holder drops it).
    pub(crate) async fn shutdown(self) {
        if let Out::Stream(mut stream) = self {
            let _ = stream.shutdown().await;
        }
    }
}

/// Bytes buffered in each direction of an in-memory connection.
const MEMORY_PIPE_BYTES: usize = 256 * 1024;

/// Nodes of one process connected through in-memory pipes: no sockets, no ports. Clones
/// share one network; a node listening on it gets the next address `127.0.0.1:<n>`
/// (addresses are names here; nothing is bound).
#[derive(Clone, Default)]
pub struct MemoryTransport {
    network: Arc<MemoryNetwork>,
}

#[derive(Default)]
struct MemoryNetwork {
    listeners: Mutex<HashMap<SocketAddr, mpsc::Sender<(Connection, SocketAddr)>>>,
    next_port: Mutex<u16>,
}

impl MemoryTransport {
    /// A new, empty in-memory network.
    pub fn new() -> Self {
        Self::default()
    }

    fn next_addr(&self) -> SocketAddr {
        let mut port = lock(&self.network.next_port);
        *port = port.wrapping_add(1).max(1);
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), *port)
    }
}

impl fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listeners = lock(&self.network.listeners).len();
        f.debug_struct("MemoryTransport")
            .field("listeners", &listeners)
            .finish()
    }
}

struct MemoryListener {
    addr: SocketAddr,
    incoming: mpsc::Receiver<(Connection, SocketAddr)>,
    network: Arc<MemoryNetwork>,
}

impl Listener for MemoryListener {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn accept(&mut self) -> TransportFuture<'_, io::Result<(Accepted, SocketAddr)>> {
        Box::pin(async move {
            let (connection, from) = self
                .incoming
                .recv()
                .await
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
            let accepted: Accepted = Box::pin(async move { Ok(connection) });
            Ok((accepted, from))
        })
    }
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        lock(&self.network.listeners).remove(&self.addr);
    }
}

impl Transport for MemoryTransport {
    fn listen(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let addr = if addr.port() == 0 { self.next_addr() } else { addr };
            let (tx, incoming) = mpsc::channel(64);
            let mut listeners = lock(&self.network.listeners);
            if listeners.contains_key(&addr) {
                return Err(io::Error::from(io::ErrorKind::AddrInUse));
            }
            listeners.insert(addr, tx);
            let network = Arc::clone(&self.network);
            Ok(Box::new(MemoryListener {
                addr,
                incoming,
                network,
            }) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: SocketAddr) -> TransportFuture<'_, Result<Connection, TransportError>> {
        Box::pin(async move {
            let listener = lock(&self.network.listeners).get(&addr).cloned();
            let listener = listener.ok_or_else(|| io::Error::from(io::ErrorKind::ConnectionRefused))?;
            let (ours, theirs) = tokio::io::duplex(MEMORY_PIPE_BYTES);
            let from = self.next_addr();
            let (their_read, their_write) = tokio::io::split(theirs);
            listener
                .send((Connection::new(their_read, their_write), from))
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
            let (read, write) = tokio::io::split(ours);
            Ok(Connection::new(read, write))
        })
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn vectored_writes_deliver_every_part_in_order_through_short_writes() {
        // A pipe of 7 bytes takes each write in pieces that end inside a part.
        let (client, mut server) = tokio::io::duplex(7);
        let mut out = Out::Stream(Box::new(client));
        let body: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let parts: [&[u8]; 4] = [b"", b"head!", &body, b"tail"];
        let reading = tokio::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.map(|_| got)
        });
        out.write_all_vectored(parts).await.expect("written");
        out.write_all_vectored([&b"more"[..]]).await.expect("written");
        out.shutdown().await;
        let got = reading.await.expect("joined").expect("read");
        assert_eq!(got, [&b"head!"[..], &body, b"tail", b"more"].concat());
    }
}
