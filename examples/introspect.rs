//! Seeing a running cluster: three nodes in one process over TCP, a supervision tree on each,
//! and the snapshot one node gathers of all three, printed as a tree.
//!
//! Run with `cargo run --example introspect`. The program starts nodes `a`, `b` and `c` on
//! 127.0.0.1 (ports chosen by the OS), starts on each a supervisor with a worker, a nested
//! supervisor and a pool of three, registers names, kills a worker once so that its
//! restart shows, queues messages behind a busy worker so that its mailbox shows, then asks
//! `a` for `introspect_cluster()` and prints:
//!
//! ```text
//! node a (25d8a0bea2bfa1be) at 127.0.0.1:39221: 8 actors, 28 messages handled
//!   Supervisor <25d8a0bea2bfa1be:1> OneForOne (supervisor)
//!     counter: Counter <25d8a0bea2bfa1be:2> idle, restarts 1, mailbox 0/1024, handled 21, names [a-counter]
//!     inner: supervisor <25d8a0bea2bfa1be:3> idle, restarts 0, mailbox 0/1024, handled 2
//!       Supervisor <25d8a0bea2bfa1be:3> RestForOne (supervisor)
//!         busy: Counter <25d8a0bea2bfa1be:4> running, restarts 0, mailbox 4/1024, handled 0, names [a-busy]
//!     ...
//!   peers: b 1.2 KiB in / 331 B out (8 / 7 frames), c 986 B in / 177 B out (3 / 2 frames)
//! ```

use std::error::Error;
use std::time::Duration;

use distribute::introspect::{ActorSnapshot, NodeEntry, NodeSnapshot, TreeSnapshot};
use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use distribute::PoolSpec;
use tokio::sync::watch;

/// A worker that counts, fails on request, and can be held busy.
#[actor]
struct Counter {
    n: u64,
    /// `hold` waits until this says `true`.
    release: watch::Receiver<bool>,
}

#[actor]
impl Counter {
    #[message]
    fn add(&mut self, by: u64) -> u64 {
        self.n += by;
        self.n
    }

    /// Counts one, without a reply: a tell.
    #[message]
    fn bump(&mut self) {
        self.n += 1;
    }

    /// Keeps the worker busy until released: what comes meanwhile waits in its mailbox.
    #[message]
    async fn hold(&mut self) {
        let _ = self.release.wait_for(|released| *released).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (release, released) = watch::channel(false);
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        let node = Node::builder()
            .name(name)
            .cookie("introspect-example")
            .start()
            .await?;
        if let Some(first) = nodes.first().and_then(Node::listen_addr) {
            node.connect(first).await?;
        }
        nodes.push(node);
    }
    for node in &nodes {
        wait_for_peers(node, 2).await?;
    }
    for node in &nodes {
        populate(node, &released).await?;
    }

    let cluster = nodes[0].introspect_cluster().await;
    for entry in &cluster.nodes {
        match entry {
            NodeEntry::Snapshot(snapshot) => print_node(snapshot),
            NodeEntry::Unavailable { name, error, .. } => println!("node {name}: unavailable ({error})"),
            other => println!("{other:?}"),
        }
    }
    release.send_replace(true);
    for node in nodes.iter().rev() {
        node.shutdown().await;
    }
    Ok(())
}

/// Waits until `node` sees `n` peers.
async fn wait_for_peers(node: &Node, n: usize) -> Result<(), Box<dyn Error>> {
    let mut events = node.events();
    tokio::time::timeout(Duration::from_secs(10), async {
        while node.connected_nodes().len() < n {
            events.recv().await;
        }
    })
    .await?;
    Ok(())
}

/// A tree on `node`: a worker `counter` (killed once), a nested supervisor with a `busy`
/// worker that holds messages in its mailbox, and a pool of three; a local and a global name.
async fn populate(node: &Node, released: &watch::Receiver<bool>) -> Result<(), Box<dyn Error>> {
    let worker = |id: &str| {
        let released = released.clone();
        ChildSpec::worker(id, move || Counter {
            n: 0,
            release: released.clone(),
        })
    };
    let pool_release = released.clone();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("counter"))
        .child(
            SupervisorSpec::new(Strategy::RestForOne)
                .child(worker("busy"))
                .into_child("inner"),
        )
        .child(
            PoolSpec::new(3, move || Counter {
                n: 0,
                release: pool_release.clone(),
            })
            .into_child("pool"),
        )
        .start(node)
        .await?;
    let counter = root.child::<Counter>("counter").await?;
    node.register_local(&format!("{}-counter", node.name()), &counter)?;
    for n in 1..=20 {
        counter.add(n).await?;
    }
    counter.kill();
    // Restarted behind the same ref: this call reaches the new incarnation.
    counter.add(1).await?;
    let busy = root
        .child::<Supervisor>("inner")
        .await?
        .child::<Counter>("busy")
        .await?;
    node.register_global(&format!("{}-busy", node.name()), &busy)
        .await?;
    busy.hold().await?;
    for _ in 0..4 {
        busy.try_bump()?;
    }
    Ok(())
}

fn print_node(snapshot: &NodeSnapshot) {
    let listen = snapshot
        .listen
        .map(|addr| format!(" at {addr}"))
        .unwrap_or_default();
    println!(
        "node {} ({}){listen}: {} actors, {} messages handled{}",
        snapshot.name,
        snapshot.node,
        snapshot.totals.actors,
        snapshot.totals.messages_handled,
        if snapshot.truncated {
            " (list truncated)"
        } else {
            ""
        },
    );
    for tree in &snapshot.trees {
        print_tree(snapshot, tree, 1);
    }
    let peers: Vec<String> = snapshot
        .peers
        .iter()
        .map(|peer| {
            format!(
                "{} {} in / {} out ({} / {} frames)",
                peer.name,
                bytes(peer.bytes_in),
                bytes(peer.bytes_out),
                peer.frames_in,
                peer.frames_out
            )
        })
        .collect();
    println!("  peers: {}", peers.join(", "));
    for group in &snapshot.groups {
        println!("  group {}: {} members here", group.name, group.members.len());
    }
    println!();
}

fn print_tree(snapshot: &NodeSnapshot, tree: &TreeSnapshot, depth: usize) {
    let indent = "  ".repeat(depth);
    println!(
        "{indent}{} {} {} ({})",
        tree.type_name, tree.supervisor, tree.strategy, tree.name
    );
    for child in &tree.children {
        let actor = child
            .actor
            .and_then(|id| snapshot.actors.iter().find(|actor| actor.id == id));
        match actor {
            Some(actor) => println!("{indent}  {}: {}", child.id, describe(actor)),
            None => println!("{indent}  {}: {}", child.id, child.state.to_lowercase()),
        }
        if let Some(subtree) = &child.subtree {
            print_tree(snapshot, subtree, depth + 2);
        }
    }
}

/// What a line of the tree says about an actor.
fn describe(actor: &ActorSnapshot) -> String {
    let names = if actor.names.is_empty() {
        String::new()
    } else {
        format!(", names [{}]", actor.names.join(", "))
    };
    format!(
        "{} {} {}, restarts {}, mailbox {}/{}, handled {}{names}",
        actor.type_name,
        actor.id,
        format!("{:?}", actor.state).to_lowercase(),
        actor.restarts,
        actor.mailbox_len,
        actor.mailbox_capacity,
        actor.messages_handled,
    )
}

fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}
