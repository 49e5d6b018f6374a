//! A connection's writer: drains the peer's send queue into the connection, one write per
//! batch, and sends a heartbeat when it has had nothing to send for a while.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::peer::PeerSlot;
use super::queue::SendQueue;
use super::transport::Out;
use super::wire::Control;
use super::WriterGuard;
use crate::transport::{encode_frame, FrameKind};

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
    let mut batch = Vec::new();
    // Heartbeats go out when nothing else was written for a while; the timer is moved only
    // when it fires, not on every batch.
    let mut last_write = Instant::now();
    let idle = tokio::time::sleep(heartbeat);
    tokio::pin!(idle);
    loop {
        let written = tokio::select! {
            taken = slot.queue.take(epoch, &mut batch) => {
                if !taken {
                    if slot.queue.handed_over(epoch) {
                        let _ = write_control(&mut wr, &Control::Superseded, slot.max_frame).await;
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
                wr.write_all(&HEARTBEAT).await
            }
            _ = closing.changed() => {
                // Flush what is queued (the goodbye) before closing.
                if slot.queue.take_now(epoch, &mut batch) {
                    let _ = wr.write_all(&batch).await;
                }
                break;
            }
        };
        if let Err(error) = written {
            tracing::debug!(peer = %slot.id, %error, "write failed");
            closed.notify_one();
            break;
        }
    }
    slot.queue.clear_direct(epoch);
    let _ = wr.flush().await;
    wr.shutdown().await;
}

async fn write_batch(slot: &PeerSlot, epoch: u64, wr: &mut Out, batch: &mut Vec<u8>) -> std::io::Result<()> {
    let written = wr.write_all(batch).await;
    slot.queue.done_writing(epoch);
    slot.stats
        .bytes_out
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    SendQueue::recycle(batch);
    written
}

/// Writes one control frame straight to a connection that has no writer (any more).
pub(super) async fn write_control(wr: &mut Out, control: &Control, max: usize) -> std::io::Result<()> {
    let mut body = Vec::new();
    let mut frame = Vec::new();
    if control.encode(&mut body).is_ok() && encode_frame(FrameKind::Signal, &body, max, &mut frame).is_ok() {
        wr.write_all(&frame).await?;
    }
    wr.flush().await
}
