//! The runtime's metrics, exported to Prometheus.
//!
//! Run with `cargo run --example prometheus`. Two nodes, `a` and `b`, in this one process,
//! connected over TCP on 127.0.0.1; `a` runs a supervised `Counter` that `b` and `a` send
//! messages to, and that fails once and is restarted. The `metrics-exporter-prometheus`
//! recorder collects the metrics (the table is in `distribute::meter`), and this program
//! serves its text at `http://127.0.0.1:<port>/metrics` (the port comes from the OS). It
//! scrapes that URL once itself, prints the lines about the counter, and exits; with
//! `--serve` it keeps serving, sending a little traffic every second, until Ctrl-C, so that
//! a Prometheus server or `curl` can scrape it.
//!
//! The recorder must be installed before the nodes are built: each node and actor type
//! registers its metric handles once.

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The cookie both nodes share.
const COOKIE: &str = "prometheus-example-cookie";

/// A counter that can be told to fail.
#[actor]
#[derive(Default)]
struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[message]
    fn add(&mut self, by: u64) {
        self.n += by;
    }

    #[message]
    fn get(&self) -> u64 {
        self.n
    }

    /// Panics: the caller gets `ActorFailed` and the supervisor restarts the counter.
    #[message]
    fn fail(&mut self) -> u64 {
        panic!("asked to fail")
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let keep_serving = std::env::args().any(|arg| arg == "--serve");
    // The counter's one panic is asked for: one line for it, not a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("(an expected panic) {info}")));
    // First the recorder, then the nodes.
    let handle = PrometheusBuilder::new().install_recorder()?;
    let endpoint = serve(handle).await?;
    println!("metrics at http://{endpoint}/metrics");

    let a = Node::builder().name("a").cookie(COOKIE).start().await?;
    let b = Node::builder().name("b").cookie(COOKIE).start().await?;
    b.connect(a.listen_addr().ok_or("node a does not listen")?)
        .await?;

    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("counter", Counter::default))
        .start(&a)
        .await?;
    let counter = supervisor.child::<Counter>("counter").await?;
    a.register_local("counter", &counter)?;
    let remote: ActorRef<Counter> = b.lookup_on(a.id(), "counter").await?;

    traffic(&counter, &remote).await?;
    // One failure: a call error of kind `actor_failed`, and a restart.
    match counter.fail().await {
        Err(error) => println!("a call failed as asked: {error} (kind {})", error.kind()),
        Ok(_) => return Err("the counter did not fail".into()),
    }
    traffic(&counter, &remote).await?;
    println!("the counter counts {} since its restart", counter.get().await?);

    let text = scrape(endpoint).await?;
    println!("-- what a scrape says about the counter:");
    for line in text.lines().filter(|line| line.contains("Counter")) {
        println!("{line}");
    }
    println!("-- and about the connection from b to a:");
    for line in text.lines().filter(|line| line.contains(r#"node="b",peer="a""#)) {
        println!("{line}");
    }

    if keep_serving {
        println!("serving at http://{endpoint}/metrics until Ctrl-C");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => traffic(&counter, &remote).await?,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
    }
    b.shutdown().await;
    a.shutdown().await;
    Ok(())
}

/// A hundred tells from each node, and a call from each.
async fn traffic(local: &ActorRef<Counter>, remote: &ActorRef<Counter>) -> Result<(), CallError> {
    for _ in 0..100 {
        local.add(1).await?;
        remote.add(1).await?;
    }
    local.get().await?;
    remote.get().await?;
    Ok(())
}

/// Serves the recorder's text over HTTP/1.1 on 127.0.0.1, on a port the OS picks; returns
/// the address. Each request gets the whole rendering, whatever its path.
async fn serve(handle: PrometheusHandle) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            // The request itself does not matter; read it so the client is not reset.
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
    Ok(addr)
}

/// One HTTP GET of `/metrics`, as Prometheus would make it; returns the body.
async fn scrape(addr: SocketAddr) -> Result<String, Box<dyn Error>> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (_, body) = response.split_once("\r\n\r\n").ok_or("no body in the response")?;
    Ok(body.to_owned())
}
