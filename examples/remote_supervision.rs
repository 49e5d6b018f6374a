//! Actors started on other nodes, and a supervisor whose child moves when its node dies.
//!
//! Run with `cargo run --example remote_supervision`. Three nodes, three OS processes:
//!
//! - without arguments this program is node **a**, the one with the supervisor: it starts
//!   two more copies of itself as nodes **b** and **c**, and prints each step;
//! - with `--worker <name> --seed <addr>` it is a worker node: it joins the cluster through
//!   the seed, allows peers to start `Counter` actors on it, prints `ready <address>`, and
//!   runs until its stdin closes (so it never outlives node a).
//!
//! The steps: `Node::spawn_on` starts a `Counter` on b and calls it; a type b does not allow
//! is a typed error; then a supervisor on a starts its child on b (`Placement::Home`) under
//! the global name `counter`; b is killed with SIGKILL; the membership declares b down, the
//! supervisor restarts the child on another node, and the name follows it; the time from the
//! kill to the first answer under the name is printed.
//!
//! The nodes find deaths fast here (200 ms probes, 1 s suspicion); the default is tuned for
//! a LAN and takes a few seconds more.

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use distribute::membership::FailureDetection;
use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use distribute::{Placement, RemoteChild, RemoteSpawnError};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// How fast this example's nodes find a dead member.
const DETECTION: FailureDetection = FailureDetection {
    probe_period: Duration::from_millis(200),
    probe_timeout: Duration::from_millis(100),
    suspicion: Duration::from_secs(1),
};

/// How long node a waits for each step.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// A counter that other nodes may start: its struct travels as its start arguments.
#[actor(remote_spawn)]
#[derive(Serialize, Deserialize)]
struct Counter {
    label: String,
    count: u64,
}

#[actor]
impl Counter {
    /// Adds `n`; returns the node it runs on and the new count.
    #[message]
    fn add(&mut self, n: u64, ctx: &mut Context<Self>) -> (String, u64) {
        self.count += n;
        (ctx.node().name().to_owned(), self.count)
    }
}

/// A type no worker allows peers to start.
#[actor(remote_spawn)]
#[derive(Serialize, Deserialize)]
struct Unlisted;

#[actor]
impl Unlisted {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, name, seed_flag, seed] if flag == "--worker" && seed_flag == "--seed" => {
            worker(name, seed).await
        }
        [] => supervisor_node().await,
        _ => Err("usage: remote_supervision [--worker <name> --seed <addr>]".into()),
    }
}

/// A worker node: joins, allows `Counter`, waits for its stdin to close.
async fn worker(name: &str, seed: &str) -> Result<(), Box<dyn Error>> {
    // No `.cookie(...)`: the node reads DISTRIBUTE_COOKIE, set by node a.
    let node = Node::builder()
        .name(name)
        .seed(seed)
        .failure_detection(DETECTION)
        .start()
        .await?;
    node.allow_remote_spawn::<Counter>();
    let addr = node.listen_addr().ok_or("not networked")?;
    say(&format!("ready {addr}"));
    let (tx, rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let _ = rx.await;
    node.shutdown().await;
    Ok(())
}

/// Node a: the steps.
async fn supervisor_node() -> Result<(), Box<dyn Error>> {
    let cookie = fresh_cookie();
    let a = Node::builder()
        .name("a")
        .cookie(&cookie)
        .failure_detection(DETECTION)
        .start()
        .await?;
    let seed = a.listen_addr().ok_or("not networked")?;
    let mut b = WorkerProcess::start("b", seed, &cookie)?;
    let mut c = WorkerProcess::start("c", seed, &cookie)?;
    let (b_addr, c_addr) = (b.ready().await?, c.ready().await?);
    let b_id = member_at(&a, b_addr).await?;
    let c_id = member_at(&a, c_addr).await?;
    say(&format!(
        "1. Node a ({}) started nodes b ({b_id}) and c ({c_id}) as processes; both joined through a and allow `Counter`.",
        a.id()
    ));

    let counter = a
        .spawn_on::<Counter>(
            b_id,
            Counter {
                label: "plain".into(),
                count: 40,
            },
        )
        .await?;
    let (home, count) = counter.add(2).await?;
    say(&format!(
        "2. a.spawn_on::<Counter>(b, ..) started {} on {home}; add(2) answered {count}.",
        counter.id()
    ));
    match a.spawn_on::<Unlisted>(b_id, Unlisted).await {
        Err(error @ RemoteSpawnError::UnknownType { .. }) => {
            say(&format!("3. A type b does not allow: {error}"))
        }
        other => return Err(format!("expected UnknownType, got {other:?}").into()),
    }
    counter.stop(ExitReason::Shutdown).await;

    let child = ChildSpec::remote::<Counter>("counter", || Counter {
        label: "supervised".into(),
        count: 0,
    })
    .placement(Placement::Home(b_id))
    .register_global("counter")
    .into_child();
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(child)
        .start(&a)
        .await?;
    let (home, count) = call_by_name(&a, None).await?;
    say(&format!(
        "4. A supervisor on a started its child on {home} as `counter` (Placement::Home(b)); add(1) by name answered {count}."
    ));

    let mut events = a.events();
    let killed = Instant::now();
    b.kill();
    say("5. Killed node b with SIGKILL.");
    wait_down(&mut events, b_id).await?;
    let detected = killed.elapsed();
    say(&format!("6. The cluster declared b down after {detected:.2?}."));
    let (home, count) = call_by_name(&a, Some("b")).await?;
    let answered = killed.elapsed();
    say(&format!(
        "7. The supervisor restarted the child on {home}; `counter` answered add(1) = {count} (a fresh incarnation) {answered:.2?} after the kill, {:.0?} after the node down.",
        answered.saturating_sub(detected)
    ));
    let stand_in = supervisor.child::<RemoteChild<Counter>>("counter").await?;
    if let Some(actor) = stand_in.current().await? {
        say(&format!(
            "8. Its stand-in on a points at {} on node {}.",
            actor.id(),
            actor.id().node()
        ));
    }

    supervisor.stop(ExitReason::Shutdown).await;
    say("9. Stopped the supervisor: the child stopped on its node and released its name.");
    drop(c);
    a.shutdown().await;
    Ok(())
}

/// Calls `counter` by name until it answers from a node other than `not_on`.
async fn call_by_name(node: &Node, not_on: Option<&str>) -> Result<(String, u64), Box<dyn Error>> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(counter) = node.lookup::<Counter>("counter") {
            if let Ok((home, count)) = counter.add(1).await {
                if Some(home.as_str()) != not_on {
                    return Ok((home, count));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err("`counter` did not answer in time".into())
}

/// The id of the member that listens at `addr`, once the membership counts it in.
async fn member_at(node: &Node, addr: SocketAddr) -> Result<NodeId, Box<dyn Error>> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while Instant::now() < deadline {
        if let Some(member) = node.cluster_members().iter().find(|m| m.addr == addr) {
            return Ok(member.id);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!("no member at {addr}").into())
}

/// Waits for the node down of `id`.
async fn wait_down(events: &mut distribute::NodeEvents, id: NodeId) -> Result<(), Box<dyn Error>> {
    let down = async {
        while let Some(event) = events.recv().await {
            if matches!(event, NodeEvent::NodeDown { node, .. } if node == id) {
                return true;
            }
        }
        false
    };
    match tokio::time::timeout(STEP_TIMEOUT, down).await {
        Ok(true) => Ok(()),
        _ => Err("b was not declared down in time".into()),
    }
}

/// Prints a line on stdout; a closed stdout is not worth failing for.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A cookie for this run only.
fn fresh_cookie() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    format!("remote-supervision-{}-{nanos:x}", std::process::id())
}

/// A worker node's process. Dropping it kills and reaps it, so that no path leaves one.
struct WorkerProcess {
    child: Child,
    ready: Option<oneshot::Receiver<Option<SocketAddr>>>,
}

impl WorkerProcess {
    fn start(name: &str, seed: SocketAddr, cookie: &str) -> Result<WorkerProcess, Box<dyn Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--worker", name, "--seed", &seed.to_string()])
            .env("DISTRIBUTE_COOKIE", cookie)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the worker's stdout is not piped")?;
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let addr = line
                .trim()
                .strip_prefix("ready ")
                .and_then(|addr| addr.parse().ok());
            let _ = tx.send(addr);
        });
        Ok(WorkerProcess {
            child,
            ready: Some(rx),
        })
    }

    async fn ready(&mut self) -> Result<SocketAddr, Box<dyn Error>> {
        let rx = self.ready.take().ok_or("already ready")?;
        match tokio::time::timeout(STEP_TIMEOUT, rx).await {
            Ok(Ok(Some(addr))) => Ok(addr),
            _ => Err("a worker node did not start".into()),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // Closing stdin asks for an orderly shutdown; the kill is for a worker that hangs.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
    }
}
