//! A live dashboard of a three-node cluster.
//!
//! Run with `cargo run --example dashboard` and open the URL it prints. Three nodes (alpha,
//! beta, gamma) run in this process and talk over TCP on 127.0.0.1; each runs a supervision
//! tree, traffic flows between them, and alpha's `flaky` worker panics every three seconds so
//! that its restart count climbs on the page. Options:
//!
//! - `--for <secs>`: stop after that many seconds (default: run until Ctrl-C);
//! - `--port <port>`: serve the dashboard on that port of 127.0.0.1 (default: one the OS
//!   chooses).
//!
//! The dashboard has no authentication: it listens on 127.0.0.1 only.

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use distribute::PoolSpec;
use distribute_dashboard::Dashboard;

/// What the crash schedule's panics say (the panic hook keeps them quiet).
const CRASH: &str = "flaky crashes on schedule";

/// A worker that counts its jobs, and can be told to crash.
#[actor]
#[derive(Default)]
struct Worker {
    jobs: u64,
}

#[actor]
impl Worker {
    /// Does a job; returns how many this incarnation did.
    #[message]
    fn work(&mut self) -> u64 {
        self.jobs += 1;
        self.jobs
    }

    /// Panics: the supervisor restarts the worker behind the same ref.
    #[message]
    fn crash(&mut self) -> u64 {
        panic!("{CRASH}")
    }
}

/// A slow consumer with a small mailbox, so that the page shows a mailbox filling up.
#[actor(mailbox = 32)]
#[derive(Default)]
struct Indexer {
    indexed: u64,
}

#[actor]
impl Indexer {
    /// Indexes one document, slowly.
    #[message]
    async fn index(&mut self) {
        tokio::time::sleep(Duration::from_millis(12)).await;
        self.indexed += 1;
    }
}

/// Command-line options.
struct Options {
    run_for: Option<Duration>,
    port: u16,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut options = Options {
        run_for: None,
        port: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--for" => options.run_for = Some(Duration::from_secs_f64(value.parse()?)),
            "--port" => options.port = value.parse()?,
            _ => {
                return Err(
                    format!("unknown option {flag}; usage: dashboard [--for <secs>] [--port <port>]").into(),
                )
            }
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let options = options()?;
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains(CRASH) {
            default_hook(info);
        }
    }));

    let cookie = format!(
        "dashboard-example-{}",
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos()
    );
    let alpha = Node::builder().name("alpha").cookie(&cookie).start().await?;
    let seed = alpha.listen_addr().ok_or("alpha is not networked")?.to_string();
    let beta = Node::builder()
        .name("beta")
        .cookie(&cookie)
        .seed(&seed)
        .start()
        .await?;
    let gamma = Node::builder()
        .name("gamma")
        .cookie(&cookie)
        .seed(&seed)
        .start()
        .await?;
    converge(&[&alpha, &beta, &gamma]).await?;

    let traffic = start_trees_and_traffic(&alpha, &beta, &gamma).await?;

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let dashboard = Dashboard::new(alpha.clone()).serve(addr).await?;
    println!("dashboard of the three nodes: {}", dashboard.url());
    match options.run_for {
        Some(run_for) => {
            println!("running for {run_for:?} (or until Ctrl-C)");
            tokio::select! {
                _ = tokio::time::sleep(run_for) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        None => {
            println!("press Ctrl-C to stop");
            tokio::signal::ctrl_c().await?;
        }
    }

    for task in traffic {
        task.abort();
    }
    dashboard.shutdown().await;
    for node in [&gamma, &beta, &alpha] {
        node.shutdown().await;
    }
    println!("stopped");
    Ok(())
}

/// Waits (at most ten seconds) until each node counts the two others as members.
async fn converge(nodes: &[&Node]) -> Result<(), Box<dyn Error>> {
    let all = async {
        while !nodes.iter().all(|n| n.cluster_members().len() == nodes.len() - 1) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), all)
        .await
        .map_err(|_| "the nodes did not find each other within 10 s".into())
}

/// Starts a tree on each node, and the tasks that send traffic and crash `flaky`.
async fn start_trees_and_traffic(
    alpha: &Node,
    beta: &Node,
    gamma: &Node,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Box<dyn Error>> {
    let frontend = SupervisorSpec::new(Strategy::OneForOne)
        .name("frontend")
        .intensity(1_000, Duration::from_secs(60))
        .child(ChildSpec::worker("router", Worker::default).registered("router"))
        .child(
            PoolSpec::new(3, Worker::default)
                .registered("sessions")
                .into_child("sessions"),
        )
        .child(ChildSpec::worker("flaky", Worker::default))
        .start(alpha)
        .await?;
    SupervisorSpec::new(Strategy::OneForAll)
        .name("storage")
        .child(ChildSpec::worker("db", Worker::default))
        .child(ChildSpec::worker("cache", Worker::default).registered("cache"))
        .start(beta)
        .await?;
    SupervisorSpec::new(Strategy::RestForOne)
        .name("search")
        .child(ChildSpec::worker("crawler", Worker::default).join_group("crawlers"))
        .child(ChildSpec::worker("indexer", Indexer::default).registered("indexer"))
        .start(gamma)
        .await?;

    let flaky = frontend.child::<Worker>("flaky").await?;
    let router = frontend.child::<Worker>("router").await?;
    let cache: ActorRef<Worker> = alpha.lookup_with_timeout("cache", Duration::from_secs(5)).await?;
    let indexer: ActorRef<Indexer> = beta
        .lookup_with_timeout("indexer", Duration::from_secs(5))
        .await?;
    let from_gamma: ActorRef<Worker> = gamma
        .lookup_with_timeout("router", Duration::from_secs(5))
        .await?;

    let mut tasks = Vec::new();
    tasks.push(every(Duration::from_secs(3), move || {
        let flaky = flaky.clone();
        async move {
            let _ = flaky.crash().await;
        }
    }));
    tasks.push(every(Duration::from_millis(20), move || {
        let (router, cache) = (router.clone(), cache.clone());
        async move {
            let _ = router.work().await;
            let _ = cache.work().await;
        }
    }));
    tasks.push(every(Duration::from_millis(10), move || {
        let indexer = indexer.clone();
        async move {
            let _ = indexer.try_index();
        }
    }));
    tasks.push(every(Duration::from_millis(50), move || {
        let router = from_gamma.clone();
        async move {
            let _ = router.work().await;
        }
    }));
    Ok(tasks)
}

/// Runs `step` every `period` until aborted.
fn every<F, Fut>(period: Duration, step: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            step().await;
        }
    })
}
