//! The raw tokio baselines: what an actor is made of (a task and a bounded mpsc channel),
//! with no runtime around it. Every peer figure is divided by one of these, measured in the
//! same run, in the same rounds.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::{p50, BoxError, MAILBOX};

/// What the raw "actor" of the throughput figure understands: the tells, and the ask that
/// waits behind them.
enum Msg {
    Push(u64),
    Get(oneshot::Sender<u64>),
}

/// p50 of `samples` asks (a oneshot sender through an mpsc channel, answered by a task),
/// after `warmup` unmeasured ones, in microseconds.
pub(crate) async fn ask_p50(warmup: usize, samples: usize) -> Result<f64, BoxError> {
    let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u64>>(MAILBOX);
    let server = tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(1);
        }
    });
    let mut measured = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let start = Instant::now();
        let (reply, answer) = oneshot::channel();
        tx.send(reply).await.map_err(|_| "raw server gone")?;
        answer.await?;
        if i >= warmup {
            measured.push(start.elapsed());
        }
    }
    drop(tx);
    server.await?;
    Ok(p50(&mut measured))
}

/// Messages per second from one sender through a 1024-slot channel, until an ask sent
/// behind them is answered.
pub(crate) async fn tell_tput(messages: u64) -> Result<f64, BoxError> {
    let (tx, mut rx) = mpsc::channel::<Msg>(MAILBOX);
    let server = tokio::spawn(async move {
        let mut sum = 0u64;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Push(v) => sum = sum.wrapping_add(v),
                Msg::Get(reply) => {
                    let _ = reply.send(sum);
                }
            }
        }
    });
    let start = Instant::now();
    for i in 0..messages {
        tx.send(Msg::Push(i)).await.map_err(|_| "raw server gone")?;
    }
    let (reply, answer) = oneshot::channel();
    tx.send(Msg::Get(reply)).await.map_err(|_| "raw server gone")?;
    answer.await?;
    let tput = messages as f64 / start.elapsed().as_secs_f64();
    drop(tx);
    server.await?;
    Ok(tput)
}

/// Microseconds per spawned task, each with its channel and waiting on it (as
/// distribute-bench's `raw.spawn_per_task`).
pub(crate) async fn spawn_per_task(count: usize) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut senders = Vec::with_capacity(count);
    for _ in 0..count {
        senders.push(idle_task());
    }
    let per_task = start.elapsed().as_secs_f64() * 1e6 / count as f64;
    drop(senders);
    // Let the tasks see their channels closed before the next figure.
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(per_task)
}

/// A task waiting on its own 1024-slot channel, as an idle actor does.
pub(crate) fn idle_task() -> mpsc::Sender<u64> {
    let (tx, mut rx) = mpsc::channel::<u64>(MAILBOX);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tx
}
