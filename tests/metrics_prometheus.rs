//! The documented metrics, scraped from a Prometheus endpoint over HTTP: a two-node cluster
//! with local and remote traffic, a call that fails and a restart.
//!
//! Its own test binary, with a single test: the recorder is global to the process.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use distribute_tests::{net_node, within, Counter, CounterClient, Gate, DEADLINE};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Tells sent to the counter, from its own node and from the other.
const LOCAL_TELLS: u64 = 150;
const REMOTE_TELLS: u64 = 150;

/// A supervised actor that fails on request.
#[actor]
#[derive(Default)]
struct Fragile;

#[actor]
impl Fragile {
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("the test asked this actor to fail")
    }

    #[message]
    fn ping(&self) -> u64 {
        1
    }
}

/// Serves `handle`'s rendering at `http://{addr}/metrics` on 127.0.0.1 with an OS-chosen port.
async fn serve(handle: PrometheusHandle) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            handle.run_upkeep();
            let body = handle.render();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    addr
}

/// One HTTP/1.1 GET of `/metrics`; the body.
async fn scrape(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect to the endpoint");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    match response.split_once("\r\n\r\n") {
        Some((_, body)) => body.to_owned(),
        None => panic!("no body in {response}"),
    }
}

/// The value of the series `series` (name and labels exactly as rendered), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Scrapes until `series` is at least `min`; returns the last scrape.
async fn scrape_until(addr: SocketAddr, series: &str, min: f64) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = scrape(addr).await;
        if value(&text, series).is_some_and(|v| v >= min) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {series} >= {min}; last scrape:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_finds_every_documented_metric_with_its_labels() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this process");
    let endpoint = serve(handle).await;
    let (a, b) = (net_node("a").await, net_node("b").await);
    b.connect(a.listen_addr().expect("a listens"))
        .await
        .expect("b connects to a");
    let counter = traffic(&a, &b).await;
    crash_and_restart(&a).await;
    a.register_global("counter", &counter).await.expect("global name");

    // Handled messages are flushed when the mailbox runs empty: wait for them.
    let handled = r#"distribute_messages_handled_total{actor="Counter",node="a"}"#;
    let min = (LOCAL_TELLS + REMOTE_TELLS + 2) as f64;
    scrape_until(endpoint, handled, min).await;
    let text = scrape_until(endpoint, r#"distribute_registry_names{node="a"}"#, 1.0).await;
    for name in distribute::meter::ALL {
        let listed = text
            .lines()
            .any(|line| line.starts_with(name) && line[name.len()..].starts_with(['{', ' ', '_']));
        assert!(listed, "{name} is not in the scrape:\n{text}");
    }
    check_labelled_series(&text);
    b.shutdown().await;
    a.shutdown().await;
}

/// Tells from a and from b to a's counter, then a call from each; returns the counter.
async fn traffic(a: &Node, b: &Node) -> ActorRef<Counter> {
    let counter = a.spawn(Counter::new(Gate::new())).await.expect("spawn");
    a.register_local("counter", &counter).expect("register");
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await.expect("lookup");
    for _ in 0..LOCAL_TELLS {
        counter.add(1).await.expect("local tell");
    }
    for _ in 0..REMOTE_TELLS {
        remote.add(1).await.expect("remote tell");
    }
    assert_eq!(
        within("the remote call", remote.get()).await,
        Ok(LOCAL_TELLS + REMOTE_TELLS)
    );
    assert_eq!(counter.get().await, Ok(LOCAL_TELLS + REMOTE_TELLS));
    counter
}

/// A call that fails (the handler panics), and the restart that follows.
async fn crash_and_restart(a: &Node) {
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("fragile", Fragile::default))
        .start(a)
        .await
        .expect("supervisor");
    let fragile = supervisor.child::<Fragile>("fragile").await.expect("child");
    assert_eq!(
        fragile.crash().await,
        Err(CallError::ActorFailed { actor: fragile.id() })
    );
    within("the restarted child", async {
        while fragile.ping().await != Ok(1) {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

/// The labelled series the traffic, the failed call and the restart must have produced.
fn check_labelled_series(text: &str) {
    let at_least = |series: &str, min: f64| {
        let got = value(text, series);
        assert!(
            got.is_some_and(|v| v >= min),
            "{series} = {got:?}, expected >= {min}"
        );
    };
    at_least(r#"distribute_actors_alive{actor="Counter",node="a"}"#, 1.0);
    at_least(
        r#"distribute_call_errors_total{actor="Fragile",node="a",kind="actor_failed"}"#,
        1.0,
    );
    at_least(r#"distribute_restarts_total{actor="Fragile",node="a"}"#, 1.0);
    at_least(
        r#"distribute_peer_messages_total{node="a",peer="b",direction="in"}"#,
        (REMOTE_TELLS + 1) as f64,
    );
    at_least(
        r#"distribute_peer_messages_total{node="b",peer="a",direction="out"}"#,
        (REMOTE_TELLS + 1) as f64,
    );
    at_least(
        r#"distribute_wire_bytes_total{node="b",peer="a",direction="out"}"#,
        1.0,
    );
    at_least(
        r#"distribute_wire_frames_total{node="a",peer="b",direction="in"}"#,
        1.0,
    );
    at_least(r#"distribute_node_up_total{node="a",peer="b"}"#, 1.0);
    at_least(
        r#"distribute_handler_seconds_count{actor="Counter",node="a"}"#,
        1.0,
    );
    at_least(r#"distribute_mailbox_depth_count{actor="Counter",node="a"}"#, 1.0);
}
