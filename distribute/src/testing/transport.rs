//! [`SimTransport`]: a node's connections over turmoil's simulated TCP.
//!
//! Turmoil gives every simulated host its own address, runtime and clock, and carries TCP
//! segments between hosts with the latency, loss and partitions the test sets. A node on a
//! simulated host opens and accepts connections through it exactly as it would through the
//! operating system: the handshake, sealing, queues and heartbeats above are unchanged.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use turmoil::net::{TcpListener, TcpStream, UdpSocket};

use crate::net::{
    Accepted, Connection, DatagramSocket, Listener, Transport, TransportError, TransportFuture,
};

/// Connections over turmoil's simulated network, for a node running on the simulated host
/// whose address is `host`. Only usable inside a turmoil simulation (a [`TestCluster`]).
///
/// [`TestCluster`]: super::TestCluster
#[derive(Debug, Clone, Copy)]
pub struct SimTransport {
    host: IpAddr,
}

impl SimTransport {
    /// Connections for the simulated host at `host`.
    pub fn new(host: IpAddr) -> Self {
        SimTransport { host }
    }
}

struct SimListener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Listener for SimListener {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn accept(&mut self) -> TransportFuture<'_, io::Result<(Accepted, SocketAddr)>> {
        Box::pin(async move {
            let (stream, from) = self.listener.accept().await?;
            let accepted: Accepted = Box::pin(async move { Ok(split(stream)) });
            Ok((accepted, from))
        })
    }
}

fn split(stream: TcpStream) -> Connection {
    let (read, write) = stream.into_split();
    Connection::new(read, write)
}

impl Transport for SimTransport {
    fn listen(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            // A simulated host binds the unspecified address; peers reach it at its own.
            let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), addr.port());
            let listener = TcpListener::bind(any).await?;
            let port = listener.local_addr()?.port();
            let addr = SocketAddr::new(self.host, port);
            Ok(Box::new(SimListener { listener, addr }) as Box<dyn Listener>)
        })
    }

    fn connect(&self, addr: SocketAddr) -> TransportFuture<'_, Result<Connection, TransportError>> {
        Box::pin(async move { Ok(split(TcpStream::connect(addr).await?)) })
    }

    /// Membership gossip over turmoil's simulated UDP, which the test's partitions,
    /// latencies and losses apply to as well.
    fn bind_datagram(&self, addr: SocketAddr) -> TransportFuture<'_, io::Result<Box<dyn DatagramSocket>>> {
        Box::pin(async move {
            let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), addr.port());
            let socket = UdpSocket::bind(any).await?;
            let addr = SocketAddr::new(self.host, addr.port());
            Ok(Box::new(SimDatagrams { socket, addr }) as Box<dyn DatagramSocket>)
        })
    }
}

struct SimDatagrams {
    socket: UdpSocket,
    addr: SocketAddr,
}

impl DatagramSocket for SimDatagrams {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn send_to<'a>(&'a self, data: &'a [u8], to: SocketAddr) -> TransportFuture<'a, io::Result<()>> {
        Box::pin(async move { self.socket.send_to(data, to).await.map(|_| ()) })
    }

    fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> TransportFuture<'a, io::Result<(usize, SocketAddr)>> {
        Box::pin(self.socket.recv_from(buf))
    }
}
