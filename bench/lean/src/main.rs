//! `distribute-bench-lean <messages>`: the local tell throughput, as `distribute-bench`'s
//! child `--tell-tput none` measures it, of `distribute` built without its `tracing` feature
//! (no span, no event, no `tracing` in the build), or, with this package's feature
//! `tracing`, of the same program with tracing compiled in and no subscriber. The two builds
//! differ in that feature only, so their ratio is the price of tracing compiled in, free of
//! the layout of a larger program. `distribute-bench local` runs both in the same rounds
//! (`local.tell_tput.without_tracing`, `local.tell_tput.lean_traced`) when they are built:
//!
//! ```text
//! cargo build --release --manifest-path bench/lean/Cargo.toml
//! cargo build --release --manifest-path bench/lean/Cargo.toml --features tracing \
//!     --target-dir bench/lean/target-traced
//! ```
//!
//! Prints messages per second on one line, or why it could not, and exits non-zero.

use std::time::Instant;

use distribute::prelude::*;

#[actor(mailbox = 1024)]
#[derive(Default)]
struct Sink {
    n: u64,
}

#[actor]
impl Sink {
    #[message]
    fn push(&mut self, v: u64) {
        self.n = self.n.wrapping_add(v);
    }

    #[message]
    fn get(&self) -> u64 {
        self.n
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    if distribute::trace::COMPILED_IN != cfg!(feature = "tracing") {
        return Err(
            "distribute's tracing feature differs from this package's: build this package on its own".into(),
        );
    }
    let messages: u64 = std::env::args()
        .nth(1)
        .ok_or("usage: distribute-bench-lean <messages>")?
        .parse()?;
    let node = Node::new();
    let sink = node.spawn(Sink::default()).await?;
    // The same warm-up and measure as distribute-bench's child.
    for i in 0..messages / 10 {
        sink.push(i).await?;
    }
    sink.get().await?;
    // From a task on a worker, as `local.tell_tput` measures it.
    let start = Instant::now();
    tokio::spawn(async move {
        for i in 0..messages {
            sink.push(i).await?;
        }
        sink.get().await
    })
    .await??;
    println!("{}", messages as f64 / start.elapsed().as_secs_f64());
    std::process::exit(0)
}
