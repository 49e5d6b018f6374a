//! `distribute-bench-lean <messages>`: the local tell throughput, as `distribute-bench`'s
//! child `--tell-tput none` measures it, of `distribute` built without its `tracing` feature
//! (no span, no event, no `tracing` in the build). `distribute-bench local` runs it in the
//! same rounds as the default build with no subscriber (`local.tell_tput.without_tracing`),
//! when it is built: `cargo build --release --manifest-path bench/lean/Cargo.toml`.
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
    if distribute::trace::COMPILED_IN {
        return Err("distribute was built with its tracing feature: build this package on its own".into());
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
