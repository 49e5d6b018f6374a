//! A node in its own OS process, for the tests in `net_process.rs`.
//!
//! Usage: `test-node <name>`, with the cluster cookie in `DISTRIBUTE_COOKIE`. The node
//! listens on 127.0.0.1 with an OS-chosen port, heartbeats every 100 ms (peers silent for
//! 500 ms are down), and hosts two `Sleeper` actors sharing one counter, registered as
//! `sleeper` and `watcher`. When it is ready it prints one line, `ready <listen address>`,
//! to stdout.
//!
//! Its stdin is a lifeline: when it closes (the parent closed it, or died), the node shuts
//! down cleanly and the process exits with status 0. So a test can ask for an orderly
//! shutdown by closing the pipe, and the process never outlives the test.

use std::error::Error;
use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use distribute::prelude::*;
use distribute_tests::Sleeper;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "child".to_owned());
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
