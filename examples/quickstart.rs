//! Quickstart: a supervised service on a three-node cluster on this machine.
//!
//! Run with `cargo run --example quickstart`. No configuration is needed: three nodes start
//! inside this process, listen on 127.0.0.1 with ports from the OS, authenticate each other
//! (insecure local mode: a built-in cookie, loopback only; set `DISTRIBUTE_COOKIE` for a
//! real one) and call each other's actors over TCP exactly as they call local ones.
//!
//! Node a runs a supervised pool of counters registered as the service `counter`; nodes b
//! and c find the workers by name and call them; a handler panics (the caller gets a typed
//! error at once), a worker is killed, both come back behind the same ref and name; then
//! node a leaves and its names disappear from the others.

use std::time::Duration;

use distribute::prelude::*;
use distribute::NodeDownReason;

/// A counter. `#[actor]` on the struct declares it an actor; its mailbox holds up to 64
/// messages before senders wait. `#[registered]` names it in the cluster-wide registry;
/// `#[supervised]` (below it) declares how it runs: a pool of 3 workers, each restarted by the
/// pool's supervisor when it fails (at most 3 times in 5 s).
#[actor(mailbox = 64)]
#[registered("counter")]
#[supervised(pool = 3, max_restarts = 3, within = "5s")]
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

/// Waits for the node called `name` to go down; returns why.
async fn node_down(
    events: &mut distribute::NodeEvents,
    name: &str,
) -> Result<NodeDownReason, Box<dyn std::error::Error>> {
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.recv().await {
            match event {
                NodeEvent::NodeDown {
                    name: down, reason, ..
                } if down == name => return Some(reason),
                _ => {}
            }
        }
        None
    })
    .await?;
    Ok(reason.ok_or("the event stream ended")?)
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
    b.connect(a.listen_addr().ok_or("node a does not listen")?)
        .await?;
    c.connect(b.listen_addr().ok_or("node b does not listen")?)
        .await?;
    for node in [&a, &b, &c] {
        wait_for_peers(node, 2).await?;
    }
    println!("2. b connected to a, c to b; they introduced each other: every node sees the other two.");

    let pool = Counter::start_registered(&a, Counter::default).await?;
    println!(
        "3. Counter::start_registered(&a, ..) started a pool of {} supervised counters, the service \
         `{}`:\n   each worker has a name in the cluster-wide registry, on every node. c lists them: {:?}.",
        pool.size(),
        Counter::REGISTERED_NAME,
        c.registered_names("counter_")
    );

    // A lookup is a local read of the registry's replica: no network round trip.
    let from_c: ActorRef<Counter> = c.lookup("counter_2")?;
    let from_b: ActorRef<Counter> = b.lookup("counter_2")?;
    from_c.add(5).await?;
    println!(
        "4. c looked up `counter_2`: {} (local: {}). c told it `add(5)`, then asked `get()`: {}.",
        from_c.id(),
        from_c.is_local(),
        from_c.get().await?
    );
    from_b.add(37).await?;
    println!(
        "   b found the same worker, told it `add(37)` and asked `get()`: {} (each sender's messages \
         arrive in order).\n   a asks through its pool handle's local ref: {}.",
        from_b.get().await?,
        pool.worker_refs()[1].get().await?
    );

    println!("5. c asks `divide(0)`, whose handler panics...");
    match from_c.divide(0).await {
        Ok(value) => println!("   unexpected answer {value}"),
        Err(err @ CallError::ActorFailed { .. }) => {
            println!("   c got a typed error at once, across the network, not a timeout: {err}.");
        }
        Err(other) => println!("   unexpected error: {other}"),
    }
    from_c.add(1).await?;
    println!(
        "   The supervisor restarted the worker behind the same ref and name: `counter_2` is still {};\n   \
         fresh state, so after `add(1)` it answers {}.",
        c.lookup::<Counter>("counter_2")?.id(),
        from_c.get().await?
    );

    let first = b.lookup::<Counter>("counter_1")?;
    first.add(2).await?;
    let before = first.get().await?;
    first.kill();
    first.add(3).await?;
    println!(
        "6. b told `counter_1` `add(2)` (get: {before}), then killed it outright from b. Its supervisor \
         restarted it,\n   and b's calls through the same ref keep working: `add(3)`, `get()`: {} \
         (a fresh incarnation).",
        first.get().await?
    );

    let mut b_events = b.events();
    let mut c_events = c.events();
    a.shutdown().await;
    let reason = node_down(&mut b_events, "a").await?;
    node_down(&mut c_events, "a").await?;
    println!(
        "7. a shut down; b and c saw it go ({reason}). Its names went with it: b now lists {:?}, c {:?}.",
        b.registered_names(""),
        c.registered_names("")
    );
    match from_c.get().await {
        Err(err @ CallError::NodeDown { .. }) => println!("   c's old ref fails at once: {err}."),
        other => println!("   unexpected: {other:?}"),
    }

    c.shutdown().await;
    b.shutdown().await;
    println!(
        "8. All nodes shut down; {} actors left on a.\n   Next: `cargo run --example registry_patterns` \
         shows every way to name and find actors across nodes;\n   `supervision` restarts failed actors \
         behind the same ref; `two_nodes` runs nodes as separate processes;\n   `typed_messaging` sends \
         refs inside messages.",
        a.actor_count()
    );
    Ok(())
}
