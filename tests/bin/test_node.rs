//! A node in its own OS process, for the tests in `net_process.rs` and `registry_faults.rs`.
//!
//! Usage: `test-node <name> [--join <addr> | --seed <host:port>] [--peers <n>]
//! [--register <global name>]... [--register-many <prefix> <count>] [--fast-detection]`,
//! with the cluster cookie in `DISTRIBUTE_COOKIE`. The node listens on 127.0.0.1 with an
//! OS-chosen port, heartbeats every 100 ms (peers silent for 500 ms are down), and hosts two
//! `Sleeper` actors sharing one counter, registered (in its local registry) as `sleeper` and
//! `watcher`.
//!
//! It allows peers to start `Roamer` actors on it (`Node::spawn_on`), and with
//! `--fast-detection` its membership finds dead members as fast as the tests' own nodes do.
//!
//! It also hosts an `Inspector` (its view of the global registry) under the local name
//! `inspector`. With `--seed <host:port>` it joins through that seed (a name resolves);
//! with `--join <addr>` it connects to the node listening at `addr`, and with `--peers <n>`
//! it then waits until it is connected to at least `n` nodes (the joined node introduces the
//! others). Each `--register <name>` spawns one more `Sleeper` (sharing the counter) and
//! registers it in the cluster-wide registry under `name`; registrations are made only after
//! joining, so that they go through the cluster's sequencer.
//!
//! With `TEST_NODE_LOG=<dir>` in its environment, the node writes its `tracing` events, at
//! debug level and above, to `<dir>/<name>-<pid>.log`: what each process saw when a test of
//! several processes fails.
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
use distribute_tests::{Inspector, Roamer, Sleeper, FAST_DETECTION};

/// How long the node waits for the peers it was asked to see.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);

/// The command line, past the node's name.
#[derive(Default)]
struct Options {
    join: Option<SocketAddr>,
    seed: Option<String>,
    peers: usize,
    register: Vec<String>,
    /// A prefix and a count: one more `Sleeper`, registered as `prefix-0` ... `prefix-(count-1)`.
    register_many: Option<(String, usize)>,
    /// Find dead members fast (`FAST_DETECTION`), as the tests' in-process nodes do.
    fast_detection: bool,
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, Box<dyn Error>> {
    let mut options = Options::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--join" => options.join = Some(value()?.parse()?),
            "--peers" => options.peers = value()?.parse()?,
            "--register" => options.register.push(value()?),
            "--seed" => options.seed = Some(value()?),
            "--fast-detection" => options.fast_detection = true,
            "--register-many" => {
                let prefix = value()?;
                options.register_many = Some((prefix, value()?.parse()?));
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(options)
}

/// Connects to `addr`, then waits until `peers` nodes are connected.
async fn join(node: &Node, addr: SocketAddr, peers: usize) -> Result<(), Box<dyn Error>> {
    node.connect(addr).await?;
    see(node, peers).await
}

/// Waits until `peers` nodes are connected.
async fn see(node: &Node, peers: usize) -> Result<(), Box<dyn Error>> {
    let mut events = node.events();
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

/// Writes this process's `tracing` events, debug and above, to a file of its own in `dir`.
fn log_to(dir: &str, name: &str) -> Result<(), Box<dyn Error>> {
    let file = std::fs::File::create(format!("{dir}/{name}-{}.log", std::process::id()))?;
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .init();
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "child".to_owned());
    let options = options(args)?;
    if let Ok(dir) = std::env::var("TEST_NODE_LOG") {
        log_to(&dir, &name)?;
    }
    let mut builder = Node::builder()
        .name(name)
        .heartbeat(Duration::from_millis(100), Duration::from_millis(500));
    if let Some(seed) = &options.seed {
        builder = builder.seed(seed);
    }
    if options.fast_detection {
        builder = builder.failure_detection(FAST_DETECTION);
    }
    let node = builder.start().await?;
    node.allow_remote_spawn::<Roamer>();
    let addr = node.listen_addr().ok_or("the node is not networked")?;

    let waiting = Arc::new(AtomicU64::new(0));
    for name in ["sleeper", "watcher"] {
        let sleeper = node.spawn(Sleeper::new(Arc::clone(&waiting))).await?;
        node.register_local(name, &sleeper)?;
    }

    let inspector = node.spawn(Inspector { node: node.clone() }).await?;
    node.register_local("inspector", &inspector)?;

    if let Some(peer) = options.join {
        join(&node, peer, options.peers).await?;
    } else if options.seed.is_some() {
        see(&node, options.peers).await?;
    }
    if let Some((prefix, count)) = &options.register_many {
        let sleeper = node.spawn(Sleeper::new(Arc::clone(&waiting))).await?;
        for index in 0..*count {
            node.register_global(&format!("{prefix}-{index}"), &sleeper)
                .await?;
        }
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
