//! A node in its own OS process, for the tests in `net_process.rs` and `registry_faults.rs`.
//!
//! Usage: `test-node <name> [--join <addr>] [--peers <n>] [--register <global name>]...`,
//! with the cluster cookie in `DISTRIBUTE_COOKIE`. The node listens on 127.0.0.1 with an
//! OS-chosen port, heartbeats every 100 ms (peers silent for 500 ms are down), and hosts two
//! `Sleeper` actors sharing one counter, registered (in its local registry) as `sleeper` and
//! `watcher`.
//!
//! With `--join <addr>` it connects to the node listening at `addr`, and with `--peers <n>`
//! it then waits until it is connected to at least `n` nodes (the joined node introduces the
//! others). Each `--register <name>` spawns one more `Sleeper` (sharing the counter) and
//! registers it in the cluster-wide registry under `name`; registrations are made only after
//! joining, so that they go through the cluster's sequencer.
//!
//! When it is ready (joined and registered, if asked) it prints one line,
//! `ready <listen address>`, to stdout.
//!
//! Its stdin is a lifeline: when it closes (the parent closed it, or died), the node shuts
//! down cleanly and the process exits with status 0. So a test can ask for an orderly
//! shutdown by closing the pipe, and the process never outlives the test.

use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use distribute::prelude::*;
use distribute_tests::Sleeper;

/// How long the node waits for the peers it was asked to see.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);

/// The command line, past the node's name.
#[derive(Default)]
struct Options {
    join: Option<SocketAddr>,
    peers: usize,
    register: Vec<String>,
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, Box<dyn Error>> {
    let mut options = Options::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--join" => options.join = Some(value()?.parse()?),
            "--peers" => options.peers = value()?.parse()?,
            "--register" => options.register.push(value()?),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(options)
}

/// Connects to `addr`, then waits until `peers` nodes are connected.
async fn join(node: &Node, addr: SocketAddr, peers: usize) -> Result<(), Box<dyn Error>> {
    let mut events = node.events();
    node.connect(addr).await?;
    let enough = async {
        while node.connected_nodes().len() < peers {
            if events.recv().await.is_none() {
                return Err("the node stopped while joining");
            }
        }
        Ok(())
    };
    match tokio::time::timeout(JOIN_DEADLINE, enough).await {
        Ok(joined) => Ok(joined?),
        Err(_) => Err(format!("timed out waiting to see {peers} nodes").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "child".to_owned());
    let options = options(args)?;
    let node = Node::builder()
        .name(name)
        .heartbeat(Duration::from_millis(100), Duration::from_millis(500))
        .start()
        .await?;
    let addr = node.listen_addr().ok_or("the node is not networked")?;

    let waiting = Arc::new(AtomicU64::new(0));
    for name in ["sleeper", "watcher"] {
        let sleeper = node.spawn(Sleeper::new(Arc::clone(&waiting))).await?;
        node.register_local(name, &sleeper)?;
    }

    if let Some(peer) = options.join {
        join(&node, peer, options.peers).await?;
    }
    for name in &options.register {
        let sleeper = node.spawn(Sleeper::new(Arc::clone(&waiting))).await?;
        node.register_global(name, &sleeper).await?;
    }

    // Watch stdin on a thread of its own: reading it blocks.
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        // Returns at end of file, or on an error: either way the parent is gone or done.
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = closed_tx.send(());
    });

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready {addr}")?;
    stdout.flush()?;
    drop(stdout);

    // Either stdin closes, or this process is killed while it waits.
    let _ = closed_rx.await;
    eprintln!("test-node {}: stdin closed, shutting down", node.name());
    node.shutdown().await;
    Ok(())
}
