//! [`SimTransport`]: a node's connections over turmoil's simulated TCP.
//!
//! Turmoil gives every simulated host its own address, runtime and clock, and carries TCP
//! segments between hosts with the latency, loss and partitions the test sets. A node on a
//! simulated host opens and accepts connections through it exactly as it would through the
//! operating system: the handshake, sealing, queues and heartbeats above are unchanged.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use turmoil::net::{TcpListener, TcpStream};

use crate::net::{Accepted, Connection, Listener, Transport, TransportError, TransportFuture};

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
}
