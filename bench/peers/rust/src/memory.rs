//! Resident memory per idle actor that has answered one message, measured in a fresh child
//! process (this binary again, with a hidden argument) so that memory freed by the other
//! figures cannot be reused and hide the cost; read from `/proc/self/statm` as
//! distribute-bench does.

use std::process::Command;
use std::time::Duration;

use crate::{with_kameo, with_ractor, with_tokio, BoxError};

/// Hidden argument that turns this binary into the memory probe:
/// `--idle-memory <tasks|ractor|kameo> <count>`.
pub(crate) const IDLE_MEMORY_ARG: &str = "--idle-memory";

/// Warm-up items spawned before the first reading (allocator arenas, runtime queues).
const WARM: usize = 1000;

/// Runs the probe for `what` in a child process and returns its bytes per item.
pub(crate) fn idle_bytes(what: &str, count: usize) -> Result<f64, BoxError> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .args([IDLE_MEMORY_ARG, what, &count.to_string()])
        .output()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("idle-memory probe `{what}` failed: {stderr}").into());
    }
    let stdout = String::from_utf8(output.stdout)?;
    Ok(stdout.trim().parse()?)
}

/// The probe itself: spawns `count` items, sends each one message (an ask where there is a
/// reply), keeps their handles, and prints the growth of resident memory per item, less the
/// handles' own vector.
pub(crate) async fn probe(args: &[String]) -> Result<(), BoxError> {
    let (Some(what), Some(count)) = (args.first(), args.get(1)) else {
        return Err(format!("usage: {IDLE_MEMORY_ARG} <tasks|ractor|kameo> <count>").into());
    };
    let count: usize = count.parse()?;
    let per_item = match what.as_str() {
        "tasks" => tasks(count).await?,
        "ractor" => ractor(count).await?,
        "kameo" => kameo(count).await?,
        other => return Err(format!("unknown idle-memory probe `{other}`").into()),
    };
    println!("{per_item}");
    // No shutdown: the figure is taken, and stopping 100 000 actors only costs time.
    std::process::exit(0)
}

async fn tasks(count: usize) -> Result<f64, BoxError> {
    let warm: Vec<_> = (0..WARM).map(|_| with_tokio::idle_task()).collect();
    let before = resident_bytes()?;
    let mut senders = Vec::with_capacity(count);
    for _ in 0..count {
        let tx = with_tokio::idle_task();
        tx.send(1).await.map_err(|_| "raw task gone")?;
        senders.push(tx);
    }
    settle().await;
    drop(warm);
    per_item(before, count, std::mem::size_of_val(&senders[..]))
}

async fn ractor(count: usize) -> Result<f64, BoxError> {
    let mut warm = Vec::with_capacity(WARM);
    for _ in 0..WARM {
        warm.push(with_ractor::spawn().await?);
    }
    let before = resident_bytes()?;
    let mut actors = Vec::with_capacity(count);
    for _ in 0..count {
        actors.push(with_ractor::spawn().await?);
    }
    for (actor, _) in &actors {
        with_ractor::ask(actor).await?;
    }
    settle().await;
    per_item(before, count, std::mem::size_of_val(&actors[..]))
}

async fn kameo(count: usize) -> Result<f64, BoxError> {
    let warm: Vec<_> = (0..WARM).map(|_| with_kameo::spawn()).collect();
    for actor in &warm {
        with_kameo::ask(actor).await?;
    }
    let before = resident_bytes()?;
    let actors: Vec<_> = (0..count).map(|_| with_kameo::spawn()).collect();
    for actor in &actors {
        with_kameo::ask(actor).await?;
    }
    settle().await;
    per_item(before, count, std::mem::size_of_val(&actors[..]))
}

/// Lets every task reach its wait for the next message.
async fn settle() {
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn per_item(before: usize, count: usize, handles: usize) -> Result<f64, BoxError> {
    let grown = resident_bytes()?.saturating_sub(before);
    Ok(grown.saturating_sub(handles) as f64 / count as f64)
}

/// This process's resident set size, from `/proc/self/statm`.
fn resident_bytes() -> Result<usize, BoxError> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .ok_or("malformed /proc/self/statm")?
        .parse()?;
    Ok(pages * 4096)
}
