//! The one task that takes cluster snapshots, for every client at once.
//!
//! Each tick it asks its source for a [`ClusterSnapshot`], computes rates against the
//! previous one, builds the view and serializes it once; every SSE client and every
//! `/api/cluster` request reads that shared frame. However many clients there are, the
//! cluster is introspected once per interval.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use distribute::introspect::ClusterSnapshot;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::rates::cluster_rates;
use crate::view::{cluster_view, ClusterView};

/// A snapshot in the making, as a source returns it.
pub(crate) type SnapshotFuture = Pin<Box<dyn Future<Output = ClusterSnapshot> + Send>>;

/// Where snapshots come from: a node's `introspect_cluster`, or anything else.
pub(crate) type Source = Arc<dyn Fn() -> SnapshotFuture + Send + Sync>;

/// The latest view, serialized once for all clients.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The view, as `/events` sends it.
    pub(crate) view_json: String,
    /// The view and the raw snapshot, as `/api/cluster` answers.
    pub(crate) api_json: String,
}

/// What `/api/cluster` answers: the view (with rates) and the snapshot it was built from.
#[derive(Serialize)]
struct ApiBody<'a> {
    view: &'a ClusterView,
    snapshot: &'a ClusterSnapshot,
}

/// The frame of one snapshot; `None` only if serialization failed, which plain data does not.
pub(crate) fn frame(previous: Option<&ClusterSnapshot>, next: &ClusterSnapshot, seq: u64) -> Option<Frame> {
    let rates = previous.map(|previous| cluster_rates(previous, next));
    let view = cluster_view(next, rates.as_ref(), seq);
    let view_json = serde_json::to_string(&view).ok()?;
    let api_json = serde_json::to_string(&ApiBody {
        view: &view,
        snapshot: next,
    })
    .ok()?;
    Some(Frame { view_json, api_json })
}

/// Takes a snapshot every `interval` until `stop` turns true, publishing each frame on
/// `frames`. A snapshot that takes longer than `budget` is abandoned and the last frame stays.
/// Ending drops `frames`' sender, which ends every SSE stream.
pub(crate) async fn run(
    source: Source,
    interval: Duration,
    budget: Duration,
    frames: watch::Sender<Option<Arc<Frame>>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut previous: Option<ClusterSnapshot> = None;
    let mut seq = 0u64;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        let snapshot = tokio::select! {
            taken = tokio::time::timeout(budget, source()) => match taken {
                Ok(snapshot) => snapshot,
                Err(_elapsed) => continue,
            },
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        seq += 1;
        if let Some(frame) = frame(previous.as_ref(), &snapshot, seq) {
            frames.send_replace(Some(Arc::new(frame)));
        }
        previous = Some(snapshot);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::fixtures::{cluster, node};

    #[test]
    fn a_frame_holds_the_view_for_events_and_view_plus_snapshot_for_the_api() {
        let before = cluster(vec![Ok(node(1, "a", 1_000, 0, &[], &[]))]);
        let after = cluster(vec![Ok(node(1, "a", 2_000, 30, &[], &[]))]);
        let frame = frame(Some(&before), &after, 2).expect("serializable");
        let view: serde_json::Value = serde_json::from_str(&frame.view_json).expect("json");
        assert_eq!(view["seq"], 2);
        assert_eq!(view["nodes"][0]["messages_per_sec"], 30.0);
        let api: serde_json::Value = serde_json::from_str(&frame.api_json).expect("json");
        assert_eq!(api["view"], view);
        assert_eq!(
            api["snapshot"]["nodes"][0]["Snapshot"]["totals"]["messages_handled"],
            30
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_sampler_publishes_numbered_frames_until_stopped() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let source: Source = Arc::new(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move { cluster(vec![Ok(node(1, "a", n * 500, n * 10, &[], &[]))]) })
        });
        let (frames, mut seen) = watch::channel(None);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(
            source,
            Duration::from_millis(500),
            Duration::from_secs(1),
            frames,
            stopped,
        ));
        for expected in 1..=3u64 {
            seen.changed().await.expect("the sampler runs");
            let frame = seen.borrow_and_update().clone().expect("a frame");
            let view: serde_json::Value = serde_json::from_str(&frame.view_json).expect("json");
            assert_eq!(view["seq"], expected);
        }
        stop.send_replace(true);
        task.await.expect("the sampler ends");
        assert!(seen.changed().await.is_err(), "its sender is dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn a_snapshot_over_its_budget_is_abandoned_and_the_sampler_goes_on() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let source: Source = Arc::new(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                if n == 1 {
                    std::future::pending::<()>().await;
                }
                cluster(vec![Ok(node(1, "a", n * 500, 0, &[], &[]))])
            })
        });
        let (frames, mut seen) = watch::channel(None);
        let (_stop, stopped) = watch::channel(false);
        tokio::spawn(run(
            source,
            Duration::from_millis(500),
            Duration::from_secs(1),
            frames,
            stopped,
        ));
        seen.changed().await.expect("the sampler runs");
        let frame = seen.borrow_and_update().clone().expect("a frame");
        let view: serde_json::Value = serde_json::from_str(&frame.view_json).expect("json");
        assert_eq!(view["seq"], 1, "the abandoned snapshot took no number");
        assert!(calls.load(Ordering::SeqCst) >= 2);
    }
}
