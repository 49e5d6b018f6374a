//! The dashboard's routes over real HTTP on 127.0.0.1, with made-up snapshots (no cluster, no
//! browser): the page, the JSON, the live stream, its client cap and shutdown.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use distribute::introspect::ClusterSnapshot;
use distribute_dashboard::view::ClusterView;
use distribute_dashboard::{Dashboard, DashboardHandle};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(10);

/// A one-node cluster whose node has handled `10 * n` messages at `n * 100` ms.
fn snapshot(n: u64) -> ClusterSnapshot {
    serde_json::from_value(json!({
        "gathered_by": 7,
        "nodes": [{ "Snapshot": {
            "node": 7, "name": "solo", "listen": null, "taken_at_ms": n * 100,
            "actors": [], "truncated": false, "trees": [], "names": [], "groups": [], "peers": [],
            "totals": { "actors": 0, "spawned": 0, "messages_handled": n * 10 },
        }}],
    }))
    .expect("a cluster snapshot")
}

async fn serve(max_clients: usize) -> (DashboardHandle, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let handle = Dashboard::from_source(move || {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        async move { snapshot(n) }
    })
    .interval(Duration::from_millis(50))
    .max_clients(max_clients)
    .serve_local()
    .await
    .expect("the dashboard listens");
    (handle, calls)
}

/// Sends a GET and returns the connection, positioned after the response head, and the head.
async fn get(handle: &DashboardHandle, path: &str, host: &str) -> (BufReader<TcpStream>, String) {
    let mut stream = TcpStream::connect(handle.local_addr()).await.expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let read = timeout(DEADLINE, reader.read_line(&mut line))
            .await
            .expect("in time");
        if read.expect("reads") == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    (reader, head)
}

async fn body(mut reader: BufReader<TcpStream>) -> String {
    let mut body = String::new();
    timeout(DEADLINE, reader.read_to_string(&mut body))
        .await
        .expect("in time")
        .expect("reads");
    body
}

/// The next `data:` line of an SSE stream, as a view.
async fn next_view(reader: &mut BufReader<TcpStream>) -> ClusterView {
    loop {
        let mut line = String::new();
        let read = timeout(DEADLINE, reader.read_line(&mut line))
            .await
            .expect("in time");
        assert_ne!(read.expect("reads"), 0, "the stream ended");
        // Chunked encoding puts sizes on their own lines; the data lines are whole.
        if let Some(data) = line.trim_end().strip_prefix("data: ") {
            return serde_json::from_str(data).expect("a view");
        }
    }
}

#[tokio::test]
async fn the_page_is_served_with_a_restrictive_policy() {
    let (handle, _) = serve(4).await;
    let (reader, head) = get(&handle, "/", "127.0.0.1").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'none'"));
    let page = body(reader).await;
    assert!(page.contains("new EventSource(\"events\")"));
    handle.shutdown().await;
}

#[tokio::test]
async fn a_foreign_host_name_is_refused() {
    let (handle, _) = serve(4).await;
    let (_, head) = get(&handle, "/api/cluster", "rebound.example:80").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    handle.shutdown().await;
}

#[tokio::test]
async fn the_api_answers_the_latest_view_with_rates_and_the_snapshot() {
    let (handle, _) = serve(4).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let api = loop {
        let (reader, head) = get(&handle, "/api/cluster", "localhost").await;
        if head.starts_with("HTTP/1.1 200") {
            let api: serde_json::Value = serde_json::from_str(&body(reader).await).expect("json");
            // The second snapshot is the first with rates.
            if api["view"]["seq"].as_u64() >= Some(2) {
                break api;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no second snapshot");
        tokio::task::yield_now().await;
    };
    assert_eq!(api["view"]["nodes"][0]["name"], "solo");
    assert_eq!(api["view"]["nodes"][0]["messages_per_sec"], 100.0);
    assert_eq!(api["snapshot"]["nodes"][0]["Snapshot"]["name"], "solo");
    handle.shutdown().await;
}

#[tokio::test]
async fn clients_share_one_sampler_and_one_over_the_cap_gets_503() {
    let (handle, calls) = serve(4).await;
    let mut streams = Vec::new();
    for _ in 0..4 {
        let (stream, head) = get(&handle, "/events", "127.0.0.1").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        streams.push(stream);
    }
    let (_, refused) = get(&handle, "/events", "127.0.0.1").await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let mut newest = 0;
    for _ in 0..5 {
        for stream in &mut streams {
            newest = newest.max(next_view(stream).await.seq);
        }
    }
    // One snapshot per view number, whatever the number of clients (one sampler per client
    // would take about four per number here); a snapshot or two may be under way.
    let taken = calls.load(Ordering::SeqCst);
    assert!(taken <= newest + 2, "{taken} snapshots for {newest} views");
    drop(streams.pop());
    // The permit comes back once the server notices the client left (its next write fails).
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, head) = get(&handle, "/events", "127.0.0.1").await;
        if head.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the permit never came back"
        );
        // Poll the condition, not a guess at how long it takes.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_live_streams_and_stops_listening() {
    let (handle, _) = serve(4).await;
    let addr = handle.local_addr();
    let (mut stream, _) = get(&handle, "/events", "127.0.0.1").await;
    next_view(&mut stream).await;
    timeout(DEADLINE, handle.shutdown())
        .await
        .expect("shutdown completes");
    let mut rest = String::new();
    // The stream ends (EOF or reset) instead of hanging: the deadline is the assertion.
    let _ = timeout(DEADLINE, stream.read_to_string(&mut rest))
        .await
        .expect("the stream ends at shutdown");
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}
