//! Bulk data across nodes: 64 KiB messages told from node `a` to an actor on node `b` (both in
//! this process, over loopback TCP), next to raw loopback TCP moving the same bytes as
//! length-prefixed 64 KiB frames. The two are measured in alternating rounds (see
//! [`crate::interleave`]: raw first in even rounds, the tells first in odd ones) and reported
//! as medians over the rounds; the ratio is the median of the per-round ratios, with its
//! spread (`(max - min) / median` of those ratios).

use std::time::Instant;

use distribute::prelude::*;
use distribute::Bytes;

use crate::interleave::{interleave, Names, Rounds};
use crate::{raw_tcp, BoxError};

/// Bytes of one message body.
pub(crate) const PAYLOAD: usize = 64 * 1024;

const COOKIE: &str = "bench-cookie";
const NAME: &str = "bulk";

/// Counts the bytes it is sent.
#[actor]
#[derive(Default)]
pub(crate) struct Bulk {
    bytes: u64,
}

#[actor]
impl Bulk {
    #[message]
    fn put(&mut self, data: Bytes) {
        self.bytes = self.bytes.wrapping_add(data.len() as u64);
    }

    #[message]
    fn received(&self) -> u64 {
        self.bytes
    }
}

/// How much to measure.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    /// Messages per round, for each figure.
    pub(crate) messages: usize,
    /// Measured rounds (after one unmeasured round of each).
    pub(crate) rounds: usize,
}

/// Bytes per second of one run of `messages` tells to `bulk`, until an ask behind them is
/// answered. The messages are built before the clock starts: the figure is what the library
/// does with a value it is handed, not the cost of making it. Sent from a task on a worker,
/// as raw TCP's frames are.
async fn tells(bulk: &ActorRef<Bulk>, messages: usize) -> Result<f64, BoxError> {
    let bulk = bulk.clone();
    tokio::spawn(async move { tells_here(&bulk, messages).await }).await?
}

/// [`tells`] from the calling task.
async fn tells_here(bulk: &ActorRef<Bulk>, messages: usize) -> Result<f64, BoxError> {
    let before = bulk.received().await?;
    let body: Vec<u8> = (0..PAYLOAD).map(|i| (i % 251) as u8).collect();
    let values: Vec<Bytes> = (0..messages).map(|_| Bytes::from(body.clone())).collect();
    let start = Instant::now();
    for value in values {
        bulk.put(value).await?;
    }
    let after = bulk.received().await?;
    let elapsed = start.elapsed().as_secs_f64();
    let expected = (messages * PAYLOAD) as u64;
    if after.wrapping_sub(before) != expected {
        return Err(format!(
            "the actor received {} bytes of {expected}",
            after.wrapping_sub(before)
        )
        .into());
    }
    Ok(expected as f64 / elapsed)
}

/// Bytes per second of raw TCP moving `messages` frames of [`PAYLOAD`] bytes.
async fn raw(messages: usize) -> Result<f64, BoxError> {
    let per_second = raw_tcp::throughput(messages as u64, PAYLOAD).await?;
    Ok(per_second * PAYLOAD as f64)
}

/// The rounds of raw TCP and remote tells, alternating (see [`interleave`]), after one
/// unmeasured round of each.
async fn rounds(bulk: &ActorRef<Bulk>, plan: Plan) -> Result<Rounds<f64, f64>, BoxError> {
    raw(plan.messages).await?;
    tells(bulk, plan.messages).await?;
    interleave(
        plan.rounds,
        async || raw(plan.messages).await,
        async || tells(bulk, plan.messages).await,
    )
    .await
}

/// Measures and prints `raw.tcp.tput_64KiB`, `remote.tell_bytes_64KiB` and their ratio.
pub(crate) async fn bulk(plan: Plan) -> Result<(), BoxError> {
    let b = Node::builder().name("bulk-b").cookie(COOKIE).start().await?;
    let a = match Node::builder().name("bulk-a").cookie(COOKIE).start().await {
        Ok(a) => a,
        Err(error) => {
            b.shutdown().await;
            return Err(error.into());
        }
    };
    let measured = async {
        let actor = b.spawn(Bulk::default()).await?;
        b.register_local(NAME, &actor)?;
        let addr = b.listen_addr().ok_or("node b is not networked")?;
        let id = a.connect(addr).await?;
        let remote = a.lookup_on::<Bulk>(id, NAME).await?;
        if remote.is_local() {
            return Err(BoxError::from("the looked-up actor is local"));
        }
        rounds(&remote, plan).await
    }
    .await;
    a.shutdown().await;
    b.shutdown().await;
    let rounds = measured?;
    Names::new(
        "raw.tcp.tput_64KiB",
        "remote.tell_bytes_64KiB",
        "ratio.remote.tell_bytes_64KiB_vs_raw_tcp",
    )
    .unit("bytes/s")
    .report(&rounds, true);
    Ok(())
}
