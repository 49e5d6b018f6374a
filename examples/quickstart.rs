//! Quickstart: one actor, its messages, and what a caller sees when it fails.
//!
//! Run with `cargo run --example quickstart`. No configuration is needed: a node starts
//! inside this process and hosts the actors.

use std::time::Duration;

use distribute::prelude::*;

/// A counter. `#[actor]` on the struct declares it an actor; its mailbox holds up to 64
/// messages before senders wait.
#[actor(mailbox = 64)]
#[derive(Default)]
struct Counter {
    n: u64,
}

/// `#[actor]` on the impl block turns each `#[message]` method into a message, generates
/// `CounterMsg`, the dispatch, and the `CounterClient` trait with typed client methods.
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the demo's output readable: print panics in one line instead of the default hook.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("  (runtime log) handler panicked: {info}")
    }));

    let node = Node::new();
    println!("1. Started node {} ({}).", node.name(), node.id());

    let counter: ActorRef<Counter> = node.spawn(Counter::default()).await?;
    println!("2. Spawned a Counter actor, {}.", counter.id());

    counter.add(5).await?;
    counter.add(37).await?;
    println!("3. Told it `add(5)` and `add(37)`: tells return once the message is in the mailbox.");

    let n = counter.get().await?;
    println!("4. Asked `get()`: the typed reply is {n}. Messages from one sender arrive in order.");

    let halved = counter.divide(2).await?;
    println!("5. Asked `divide(2)`: {halved}.");

    println!("6. Now asking `divide(0)`, whose handler panics...");
    match counter.divide(0).await {
        Ok(value) => println!("   unexpected answer {value}"),
        Err(err @ CallError::ActorFailed { .. }) => {
            println!("   The caller got a typed error at once, not a timeout: {err}.");
        }
        Err(other) => println!("   unexpected error: {other}"),
    }
    let reason = counter.wait_for_stop().await;
    println!("   The actor stopped with exit reason `{reason}`; the panic did not reach the node.");

    match counter.get().await {
        Err(err @ CallError::ActorStopped { .. }) => {
            println!("7. Later calls fail at once as well: {err}.");
        }
        other => println!("7. unexpected: {other:?}"),
    }

    let fresh = node.spawn(Counter::default()).await?;
    fresh.add(1).await?;
    println!(
        "8. The node keeps serving: a new counter {} answers {}.",
        fresh.id(),
        fresh.with_timeout(Duration::from_millis(500)).get().await?
    );

    node.shutdown().await;
    println!(
        "9. Node shut down; {} actors left.\n   Next: `cargo run --example supervision` restarts failed actors behind the same ref.",
        node.actor_count()
    );
    Ok(())
}
