//! Quickstart: an actor, its typed messages, and a three-node cluster on this machine.
//!
//! Run with `cargo run --example quickstart`. No configuration is needed: three nodes start
//! inside this process, listen on 127.0.0.1 with ports from the OS, authenticate each other
//! (insecure local mode: a built-in cookie, loopback only; set `DISTRIBUTE_COOKIE` for a
//! real one) and call each other's actors over TCP exactly as they call local ones.

use std::time::Duration;

use distribute::prelude::*;
use distribute::NodeDownReason;

/// A counter. `#[actor]` on the struct declares it an actor; its mailbox holds up to 64
/// messages before senders wait.
#[actor(mailbox = 64)]
#[derive(Default)]
struct Counter {
    n: u64,
}

/// `#[actor]` on the impl block turns each `#[message]` method into a message, generates
/// `CounterMsg` (with stable wire tags and a codec), the dispatch, and the `CounterClient`
/// trait with typed client methods, for local and remote refs alike.
#[actor]
impl Counter {
    /// A tell: no return value, so the caller waits only for room in the mailbox.
    #[message]
    fn add(&mut self, by: u64) {
        self.n += by;
    }

    /// An ask: the caller waits for the reply (5 s at most, unless told otherwise).
    #[message]
    fn get(&self) -> u64 {
        self.n
    }

    /// A handler with a bug: it panics when asked to divide by zero.
    #[message]
    fn divide(&mut self, by: u64) -> u64 {
        self.n /= by;
        self.n
    }
}

async fn start(name: &str) -> Result<Node, distribute::StartError> {
    Node::builder().name(name).insecure_local().start().await
}

/// Waits on the node's events until it is connected to `n` other nodes.
async fn wait_for_peers(node: &Node, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut events = node.events();
    tokio::time::timeout(Duration::from_secs(10), async {
        while node.connected_nodes().len() < n {
            events.recv().await;
        }
    })
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the demo's output readable: print panics in one line instead of the default hook.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("  (runtime log) handler panicked: {info}")
    }));

    let a = start("a").await?;
    let b = start("b").await?;
    let c = start("c").await?;
    for node in [&a, &b, &c] {
        println!(
            "1. Node {} ({}) listens on {}.",
            node.name(),
            node.id(),
            node.listen_addr().map_or("-".into(), |addr| addr.to_string())
        );
    }
    let a_addr = a.listen_addr().ok_or("node a does not listen")?;
    let b_addr = b.listen_addr().ok_or("node b does not listen")?;
    b.connect(a_addr).await?;
    c.connect(b_addr).await?;
    for node in [&a, &b, &c] {
        wait_for_peers(node, 2).await?;
    }
    println!("2. b connected to a, c to b; they introduced each other: every node sees the other two.");

    let counter: ActorRef<Counter> = a.spawn(Counter::default()).await?;
    a.register_local("counter", &counter)?;
    println!(
        "3. Spawned a Counter on a, {}, and named it `counter` on a.",
        counter.id()
    );

    let from_b: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await?;
    let from_c: ActorRef<Counter> = c.lookup_on(a.id(), "counter").await?;
    println!(
        "4. b and c looked it up on a: same id {}, remote refs (local: {}).",
        from_c.id(),
        from_c.is_local()
    );

    from_b.add(5).await?;
    let seen_by_b = from_b.get().await?;
    from_c.add(37).await?;
    println!(
        "5. b told it `add(5)`, then asked `get()`: {seen_by_b}. Same typed methods as for a local ref."
    );
    println!(
        "   c told it `add(37)`, then asked `get()`: {} (each sender's messages arrive in order). \
         a asks its local ref: {}.",
        from_c.get().await?,
        counter.get().await?
    );
    println!("   c asks `divide(2)`: {}.", from_c.divide(2).await?);

    let watch = from_b.monitor();
    println!("6. b monitors the counter on a. Now c asks `divide(0)`, whose handler panics...");
    match from_c.divide(0).await {
        Ok(value) => println!("   unexpected answer {value}"),
        Err(err @ CallError::ActorFailed { .. }) => {
            println!("   c got a typed error at once, across the network, not a timeout: {err}.");
        }
        Err(other) => println!("   unexpected error: {other}"),
    }
    let down = watch.await;
    println!(
        "   b's monitor fired: {} stopped with `{}`.",
        down.actor, down.reason
    );
    match from_b.get().await {
        Err(err @ CallError::ActorStopped { .. }) => println!("   Later calls fail at once: {err}."),
        other => println!("   unexpected: {other:?}"),
    }

    let fresh = a.spawn(Counter::default()).await?;
    a.register_local("fresh", &fresh)?;
    let fresh_from_c: ActorRef<Counter> = c.lookup_on(a.id(), "fresh").await?;
    fresh_from_c.add(1).await?;
    println!(
        "7. Node a keeps serving: a new counter {} answers c with {}.",
        fresh.id(),
        fresh_from_c
            .with_timeout(Duration::from_millis(500))
            .get()
            .await?
    );

    let mut events = a.events();
    c.shutdown().await;
    while let Some(event) = events.recv().await {
        if let NodeEvent::NodeDown { name, reason, .. } = event {
            let why = match reason {
                NodeDownReason::PeerShutdown => "it said goodbye".to_string(),
                other => other.to_string(),
            };
            println!("8. c shut down; a saw node `{name}` go down ({why}).");
            break;
        }
    }
    let left: Vec<String> = a.connected_nodes().into_iter().map(|peer| peer.name).collect();
    println!("   a is still connected to {left:?}.");

    b.shutdown().await;
    a.shutdown().await;
    println!(
        "9. All nodes shut down; {} actors left on a.\n   Next: `cargo run --example supervision` \
         restarts failed actors behind the same ref; `two_nodes` runs nodes as separate processes.",
        a.actor_count()
    );
    Ok(())
}
