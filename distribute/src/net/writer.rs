//! A connection's writer: drains the peer's send queue into the connection, one write per
//! batch, sealed in records with the connection's session keys (a batch is a few records,
//! not one per frame), and queues a heartbeat when it has had nothing to send for a while.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::peer::PeerSlot;
use super::queue::{Batch, Notice, Retired, Urgency};
use super::transport::Out;
use super::wire::Control;
use super::WriterGuard;
use crate::transport::{encode_frame, FrameKind, Sealer};

/// The five bytes of a heartbeat frame.
const HEARTBEAT: [u8; 5] = [0, 0, 0, 1, FrameKind::Heartbeat.as_u8()];

/// Writes what the queue of `slot` holds under `epoch` until the queue closes or is handed
/// to another connection, the node closes, or a write fails (then `closed` tells the reader).
pub(super) async fn writer(
    _guard: WriterGuard,
    slot: Arc<PeerSlot>,
    epoch: u64,
    mut wr: Out,
    heartbeat: Duration,
    mut closing: watch::Receiver<bool>,
    closed: Arc<Notify>,
) {
    let mut batch = Batch::default();
    // Heartbeats go out when nothing else was written for a while; the timer is moved only
    // when it fires, not on every batch.
    let mut last_write = Instant::now();
    let idle = tokio::time::sleep(heartbeat);
    tokio::pin!(idle);
    loop {
        // Biased (deterministic under simulation): the close first (it flushes what is
        // queued), then queued frames, then the heartbeat.
        let written = tokio::select! {
            biased;
            _ = closing.changed() => {
                // Flush what is queued (the goodbye) before closing.
                if slot.queue.take_now(epoch, &mut batch) {
                    if let Ok(bytes) = batch.seal() {
                        let _ = wr.write_all(bytes).await;
                    }
                }
                break;
            }
            taken = slot.queue.take(epoch, &mut batch) => {
                if !taken {
                    if let Some(retired) = slot.queue.retired(epoch) {
                        write_superseded(&mut wr, retired, slot.max_frame).await;
                    }
                    break;
                }
                let written = write_batch(&slot, epoch, &mut wr, &mut batch).await;
                last_write = Instant::now();
                // Let the senders that were woken by this batch's room queue more before the
                // next take: fewer, larger writes under load, one yield when idle.
                tokio::task::yield_now().await;
                written
            }
            () = &mut idle => {
                let due = last_write + heartbeat;
                if Instant::now() < due {
                    idle.as_mut().reset(due);
                    continue;
                }
                last_write = Instant::now();
                idle.as_mut().reset(last_write + heartbeat);
                // Through the queue, so that it is sealed in sequence with everything else;
                // a closed queue needs no heartbeat.
                let _ = slot.queue.push_now(Urgency::Heartbeat, |buf| {
                    buf.extend_from_slice(&HEARTBEAT);
                    Ok::<(), std::convert::Infallible>(())
                });
                Ok(())
            }
        };
        if let Err(error) = written {
            crate::trace::trace_event!(debug, peer = %slot.id, %error, "write failed");
            closed.notify_one();
            break;
        }
    }
    slot.queue.clear_direct(epoch);
    let _ = wr.flush().await;
    wr.shutdown().await;
}

async fn write_batch(slot: &PeerSlot, epoch: u64, wr: &mut Out, batch: &mut Batch) -> std::io::Result<()> {
    let mut written = Ok(());
    while let Some(part) = batch.next_part() {
        written = match part {
            Ok(parts) => {
                slot.queue
                    .count_written(parts.iter().map(|part| part.len()).sum());
                wr.write_all_vectored(parts).await
            }
            Err(error) => Err(std::io::Error::other(error)),
        };
        if written.is_err() {
            break;
        }
    }
    slot.queue.done_writing(epoch);
    batch.recycle();
    written
}

/// Tells the peer, on a connection whose queue moved to another one, to move too: what a
/// direct write left for this connection, then `Superseded`, sealed in its own session.
async fn write_superseded(wr: &mut Out, retired: Retired, max: usize) {
    let Retired {
        mut sealer,
        leftover,
        notice,
        ..
    } = retired;
    let notice = match notice {
        Notice::Superseded => Control::Superseded,
        Notice::Idle => Control::Idle,
    };
    if wr.write_all(&leftover).await.is_ok() {
        let _ = write_control(wr, &mut sealer, &notice, max).await;
    }
}

/// Writes one control frame, sealed with `sealer`, straight to a connection that has no
/// writer (any more).
pub(super) async fn write_control(
    wr: &mut Out,
    sealer: &mut Sealer,
    control: &Control,
    max: usize,
) -> std::io::Result<()> {
    let mut body = Vec::new();
    let mut frame = Vec::new();
    let mut sealed = Vec::new();
    if control.encode(&mut body).is_ok()
        && encode_frame(FrameKind::Signal, &body, max, &mut frame).is_ok()
        && sealer.seal_all(&frame, &mut sealed).is_ok()
    {
        wr.write_all(&sealed).await?;
    }
    wr.flush().await
}
