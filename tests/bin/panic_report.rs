//! Panicking handlers in a process of their own, for `actor_panic_report.rs` and to measure
//! how long a panic takes to reach its caller.
//!
//! Usage:
//!
//! - `panic-report order`: installs a hook of its own that writes `previous hook: <message>`
//!   to standard output, then [`defer_panic_reports`]; calls a handler that panics while it
//!   holds standard error's lock, and writes `caller got: <result>` there before it lets go.
//!   A report written before the caller was answered would come first (the standard hook
//!   writes without that lock); a deferred report waits for it. Then it panics on a plain
//!   thread, which must go to the previous hook, and writes `plain thread ended: panicked`
//!   to standard output.
//! - `panic-report measure <default|deferred> [pause ms]`: with the standard hook, or with
//!   [`defer_panic_reports`] installed, calls three handlers that panic, one after the
//!   other (after a pause, 0 ms unless given), and prints to standard output how long each
//!   took to reach its caller as `ActorFailed`, in milliseconds. Run it with
//!   `RUST_BACKTRACE=1` to see the cost of the backtrace.

use std::error::Error;
use std::io::Write;
use std::time::Instant;

use distribute::actor::defer_panic_reports;
use distribute::prelude::*;
use distribute_tests::{Counter, CounterClient, Gate};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["order"] => order(),
        ["measure", hook, pause @ ..] if matches!(*hook, "default" | "deferred") => {
            let pause = match pause {
                [] => 0,
                [ms] => ms.parse()?,
                _ => return Err("one pause at most".into()),
            };
            if *hook == "deferred" {
                defer_panic_reports();
            }
            measure(std::time::Duration::from_millis(pause))
        }
        _ => Err("usage: panic-report order | measure <default|deferred> [pause ms]".into()),
    }
}

fn order() -> Result<(), Box<dyn Error>> {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<&str>().copied().unwrap_or("?");
        println!("previous hook: {message}");
    }));
    defer_panic_reports();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let node = Node::new();
        let counter = node.spawn(Counter::new(Gate::new())).await?;
        let mut stderr = std::io::stderr().lock();
        let result = counter.boom("handler exploded".into()).await;
        writeln!(stderr, "caller got: {result:?}")?;
        drop(stderr);
        counter.wait_for_stop().await;
        Ok::<_, Box<dyn Error>>(())
    })?;
    // Dropping the runtime waits for its blocking threads, the report's writer among them.
    drop(runtime);
    let outside = std::thread::spawn(|| panic!("outside any actor")).join();
    println!(
        "plain thread ended: {}",
        if outside.is_err() { "panicked" } else { "ok" }
    );
    Ok(())
}

fn measure(pause: std::time::Duration) -> Result<(), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let node = Node::new();
        for i in 1..=3 {
            tokio::time::sleep(pause).await;
            let counter = node.spawn(Counter::new(Gate::new())).await?;
            let started = Instant::now();
            let result = counter.boom(format!("measured panic {i}")).await;
            let elapsed = started.elapsed();
            println!(
                "panic {i}: {:.2} ms to the caller ({result:?})",
                elapsed.as_secs_f64() * 1000.0
            );
            counter.wait_for_stop().await;
        }
        Ok::<_, Box<dyn Error>>(())
    })
}
