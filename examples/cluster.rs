//! A cluster in two terminals: nodes that join through a seed, a service registered on one
//! and called by name from the others, and each node seeing the others come and go.
//!
//! In one terminal:
//!
//! ```sh
//! cargo run --example cluster -- --name a
//! ```
//!
//! It prints the command for the next one, for example:
//!
//! ```sh
//! cargo run --example cluster -- --name b --seed 127.0.0.1:40123
//! ```
//!
//! The first node (the one without a seed) registers the `echo` service cluster-wide; every
//! node that joins looks it up by name and calls it once a second. Stop either with Ctrl-C:
//! the other prints that the node left. A seed may be a DNS name (`--seed db-0.local:4000`);
//! a seed that is not up yet is retried until it is, so the terminals can start in any
//! order. Nodes share the built-in cookie of insecure local mode (loopback only) unless
//! `DISTRIBUTE_COOKIE` is set.
//!
//! Options: `--listen ADDR` (default `127.0.0.1:0`), `--seed HOST:PORT` (repeatable),
//! `--calls N` (exit after N answered calls), `--for SECONDS` (exit after that long).

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use distribute::prelude::*;
use distribute::{NodeEvent, RegistryError};

/// The service: answers with what it was sent and who answered.
#[actor]
#[registered("echo")]
struct Echo {
    node: String,
    served: u64,
}

#[actor]
impl Echo {
    /// `text`, as node `node` heard it for the `served`-th time.
    #[message]
    fn echo(&mut self, text: String) -> String {
        self.served += 1;
        format!("{text} (answered by {}, call #{})", self.node, self.served)
    }
}

/// The command line.
#[derive(Debug, Default)]
struct Options {
    name: String,
    listen: Option<SocketAddr>,
    seeds: Vec<String>,
    calls: Option<u64>,
    run_for: Option<Duration>,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--name" => options.name = value()?,
            "--listen" => options.listen = Some(value()?.parse()?),
            "--seed" => options.seeds.push(value()?),
            "--calls" => options.calls = Some(value()?.parse()?),
            "--for" => options.run_for = Some(Duration::from_secs(value()?.parse()?)),
            other => {
                return Err(format!("unknown option {other}: see the top of examples/cluster.rs").into())
            }
        }
    }
    if options.name.is_empty() {
        return Err("--name NAME is required, e.g. `cargo run --example cluster -- --name a`".into());
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let options = options()?;
    let mut builder = Node::builder().name(&options.name).insecure_local();
    if let Some(listen) = options.listen {
        builder = builder.listen(listen);
    }
    for seed in &options.seeds {
        builder = builder.seed(seed);
    }
    let node = builder.start().await?;
    let addr = node.listen_addr().ok_or("the node is not listening")?;
    println!("[{}] listening on {addr}", node.name());
    println!(
        "[{}] join it with: cargo run --example cluster -- --name <other> --seed {addr}",
        node.name()
    );
    tokio::spawn(report_events(node.clone()));

    if options.seeds.is_empty() {
        let echo = Echo::start_registered(
            &node,
            Echo {
                node: options.name.clone(),
                served: 0,
            },
        )
        .await?;
        println!("[{}] registered the `echo` service ({})", node.name(), echo.id());
    }
    let calling = call_echo(node.clone(), options.calls);
    let outcome = match options.run_for {
        Some(limit) => tokio::select! {
            outcome = calling => outcome,
            _ = tokio::signal::ctrl_c() => Ok(()),
            () = tokio::time::sleep(limit) => Ok(()),
        },
        None => tokio::select! {
            outcome = calling => outcome,
            _ = tokio::signal::ctrl_c() => Ok(()),
        },
    };
    println!("[{}] leaving", node.name());
    node.shutdown().await;
    outcome
}

/// Prints the nodes this one sees come and go.
async fn report_events(node: Node) {
    let mut events = node.events();
    while let Some(event) = events.recv().await {
        match event {
            NodeEvent::NodeUp { name, .. } => println!("[{}] node {name} joined", node.name()),
            NodeEvent::NodeDown { name, reason, .. } => {
                println!("[{}] node {name} left ({reason})", node.name())
            }
            _ => {}
        }
    }
}

/// Looks `echo` up by name and calls it once a second; returns after `calls` answers, or
/// never. The service may not be there yet (its node not joined, or gone): say so, wait.
async fn call_echo(node: Node, calls: Option<u64>) -> Result<(), Box<dyn Error>> {
    let mut answered = 0;
    loop {
        if calls.is_some_and(|calls| answered >= calls) {
            return Ok(());
        }
        match Echo::lookup_with_timeout(&node, Duration::from_secs(5)).await {
            Ok(echo) => match echo.echo(format!("hello from {}", node.name())).await {
                Ok(reply) => {
                    answered += 1;
                    println!("[{}] echo: {reply}", node.name());
                }
                Err(error) => println!("[{}] the call failed: {error}", node.name()),
            },
            Err(RegistryError::LookupTimeout { .. }) => {
                println!("[{}] no `echo` service in the cluster yet", node.name())
            }
            Err(error) => return Err(error.into()),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
